"""Load episodes on a truck scale: empty -> loading -> stable -> captured -> leaving -> empty.

Exactly one capture per stable plateau. Stable means the indicator's own flag where the
protocol has one, otherwise the window rule: every reading within one division for
`stable_seconds`, above the presence threshold. "stable" is the plateau while it is being
held (readings within one division, indicator not in motion); "captured" follows once it
was held long enough. Weights are rounded to the division (half up), so what is billed is an
integer number of kilograms at the division. A gap between readings longer than `max_gap_s`
(cable pulled, indicator silent) restarts the window, so a plateau is never pieced together
across a gap. Time comes in with each reading (monotonic seconds), never from a clock inside.

A captured load that is still on the platform is the state worth keeping across a restart:
`held_kg` is what the service stores with the capture, `resume` starts a new tracker from it,
so a truck standing on the platform while the edge restarts is not captured again. A load
not captured yet needs nothing kept: its plateau simply starts again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Literal

from landfill.contract import ScaleEventKind
from landfill.scale.frames import Reading


def round_to_division(kg: Decimal, division_kg: int) -> int:
    """Round a weight to the nearest scale division, halves up (away from zero)."""
    steps = (kg / division_kg).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(steps) * division_kg


class State(Enum):
    """Where the platform is in a load episode."""

    EMPTY = "empty"
    LOADING = "loading"
    STABLE = "stable"
    CAPTURED = "captured"
    LEAVING = "leaving"


@dataclass(frozen=True)
class Captured:
    """A stable weight to publish as a capture."""

    weight_kg: int
    stable_ms: int
    stable_source: Literal["indicator", "window"]
    raw: tuple[bytes, ...]


@dataclass(frozen=True)
class Event:
    """A scale event to publish."""

    event: ScaleEventKind
    weight_kg: int | None
    detail: str = ""


@dataclass
class WeighingTracker:
    """Per-scale state machine; feed it every reading with its monotonic time."""

    division_kg: int
    min_weight_kg: int = 200
    stable_seconds: float = 2.0
    zero_band_kg: int = 40
    max_gap_s: float = 1.5
    state: State = State.EMPTY
    _window: list[tuple[float, int, bytes]] = field(default_factory=list)
    _captured_kg: int | None = None
    _overloaded: bool = False
    _peak_kg: int = 0
    _last_at: float | None = None

    @property
    def held_kg(self) -> int | None:
        """The captured weight while that load is on the platform (captured or leaving)."""
        return self._captured_kg if self.state in (State.CAPTURED, State.LEAVING) else None

    def resume(self, captured_kg: int) -> None:
        """Start as if a load of ``captured_kg`` had just been captured (before a restart).

        The next readings decide: the same weight keeps it captured, another weight is the
        load leaving (then empty, or a new plateau that is captured as a new load).
        """
        self.state = State.CAPTURED
        self._captured_kg = captured_kg
        self._peak_kg = captured_kg
        self._window = []
        self._last_at = None

    def observe(self, reading: Reading, now: float) -> list[Captured | Event]:
        """Advance the state machine by one reading."""
        out: list[Captured | Event] = []
        kg = round_to_division(reading.weight_kg, self.division_kg)
        if self._last_at is not None and now - self._last_at > self.max_gap_s and self._window:
            # readings before a gap say nothing about the plateau after it
            self._window.clear()
        self._last_at = now
        if reading.overload or reading.underload:
            if not self._overloaded:
                self._overloaded = True
                kind: ScaleEventKind = "overload" if reading.overload else "underload"
                out.append(Event(kind, None, "indicator reports out of range"))
            self._window.clear()
            return out
        self._overloaded = False

        if self.state is State.EMPTY:
            if kg >= self.min_weight_kg:
                self.state = State.LOADING
                self._window = [(now, kg, reading.raw)]
                self._peak_kg = kg
        elif self.state in (State.LOADING, State.STABLE):
            self._peak_kg = max(self._peak_kg, kg)
            if kg < self.min_weight_kg:
                out.append(
                    Event(
                        "left_before_capture",
                        self._peak_kg,
                        "load left the platform before it was stable",
                    )
                )
                self._reset_empty()
            else:
                captured = self._stable_window(reading, kg, now)
                if captured is not None:
                    out.append(captured)
                    self.state = State.CAPTURED
                    self._captured_kg = captured.weight_kg
        elif self.state is State.CAPTURED:
            if abs(kg - (self._captured_kg or 0)) > self.division_kg:
                self.state = State.LEAVING
                self._window = [(now, kg, reading.raw)]
        elif self.state is State.LEAVING:
            if abs(kg) <= self.zero_band_kg:
                self._reset_empty()
            else:
                self._track_leaving(kg, now, reading, out)
        return out

    def _stable_window(self, reading: Reading, kg: int, now: float) -> Captured | None:
        if reading.stable is False:
            self._window = [(now, kg, reading.raw)]
            self.state = State.LOADING
            return None
        self._window.append((now, kg, reading.raw))
        # sliding window: forget the oldest readings until the rest lie within one division
        while len(self._window) > 1 and self._spread() > self.division_kg:
            self._window.pop(0)
        self.state = State.STABLE if len(self._window) > 1 or reading.stable else State.LOADING
        held = now - self._window[0][0]
        if held + 1e-9 < self.stable_seconds:
            return None
        source: Literal["indicator", "window"] = "indicator" if reading.stable else "window"
        raws = tuple(r for _, _, r in self._window[-3:])
        # the plateau's median, not its last reading: noise of one division can flip the last
        weights = sorted(w for _, w, _ in self._window)
        return Captured(weights[(len(weights) - 1) // 2], int(round(held * 1000)), source, raws)

    def _spread(self) -> int:
        weights = [w for _, w, _ in self._window]
        return max(weights) - min(weights)

    def _track_leaving(
        self, kg: int, now: float, reading: Reading, out: list[Captured | Event]
    ) -> None:
        first_kg = self._window[0][1] if self._window else kg
        if abs(kg - first_kg) > self.division_kg:
            self._window = [(now, kg, reading.raw)]
            return
        self._window.append((now, kg, reading.raw))
        if now - self._window[0][0] < self.stable_seconds:
            return
        if kg < self.min_weight_kg:
            out.append(Event("not_back_to_zero", kg, "scale settled off zero after unloading"))
            self._reset_empty()
        elif abs(kg - (self._captured_kg or 0)) < self.min_weight_kg:
            # settled again near the captured weight: a person stepped on and stayed, a door
            # swung; the same load, not a new vehicle, so no second capture
            self.state = State.CAPTURED
            self._window = []
        else:
            # a new plateau without the scale having come back to zero: next vehicle drove on
            out.append(Event("not_back_to_zero", kg, "next load arrived before the scale emptied"))
            self.state = State.LOADING
            self._peak_kg = kg
            captured = self._stable_window(reading, kg, now)
            if captured is not None:
                out.append(captured)
                self.state = State.CAPTURED
                self._captured_kg = captured.weight_kg

    def data_lost(self) -> list[Captured | Event]:
        """The indicator went silent: an uncaptured load is reported and forgotten.

        A captured load keeps its state, so the same truck is not captured again when the
        data comes back with it still on the platform.
        """
        out: list[Captured | Event] = []
        if self.state in (State.LOADING, State.STABLE):
            out.append(
                Event("left_before_capture", self._peak_kg, "no data before the load was stable")
            )
            self._reset_empty()
        self._window.clear()
        self._last_at = None
        return out

    def _reset_empty(self) -> None:
        self.state = State.EMPTY
        self._window = []
        self._captured_kg = None
        self._peak_kg = 0
