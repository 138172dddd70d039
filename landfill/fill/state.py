"""A container's kept state: what the board shows, updated by ingest one reading at a time.

    level (ts, filtered %) ─► RateModel.add ─► emptying drop? start a new segment
                                            ─► least squares since the segment start (running
                                               co-moments: no history kept)
                                            ─► weekday rise and time per local day, last 14 days
    emptying event ─► RateModel.emptied: the fit starts again at the candidate's time
    reading + model + open alerts ─► FillState (JSON in `fill_state`, landfill/measurements.py)
    FillState + spec + now ─► forecast_at ─► Forecast (next collection day, projection, risk)

The rules are those of `forecast.forecast` over a container's history, so the board gives the
same answers from the kept state as from a recomputation (tests/api/test_board_kept.py):
segments split at emptying drops of the filtered level, the rate since the last emptying, the
weekday rates from increments within segments, reliability from both. Two differences, both
for containers that have gone long without an emptying or a reading: the rate is fitted since
the last emptying however long ago (the recomputation sees only ``dispatch_history_days``),
and the weekday window is 14 local days back from the newest reading, not from ``now``.
Only what depends on ``now`` (the next collection day and the projection to it) is left for
`forecast_at`, which costs a few microseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .forecast import (
    Forecast,
    RateFit,
    Reliability,
    project,
    reliability,
    time_to_full,
)
from .geometry import is_emptying_drop
from .schedule import WORK_END, local_at, next_collection_day
from .spec import RULES, ContainerSpec, FillRules

__all__ = [
    "STATE_VERSION",
    "WEEKDAY_DAYS",
    "FillState",
    "KeptAlert",
    "RateModel",
    "forecast_at",
    "from_ms",
    "model_forecast",
    "to_ms",
]

STATE_VERSION = 1
WEEKDAY_DAYS = 14  # local days of weekday history the model holds
MIN_WEEKDAY_HOURS = 6.0  # as forecast.weekday_rates
_DAY_MS = 86_400_000


def to_ms(ts: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return (ts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


_LAST_DAY: dict[tzinfo, tuple[date, int, int]] = {}  # the zone's last local day looked up


def _local_day(t_ms: int, tz: tzinfo) -> tuple[date, int, int]:
    """The local date at ``t_ms``, its midnight and the next midnight (epoch ms)."""
    last = _LAST_DAY.get(tz)
    if last is not None and last[1] <= t_ms < last[2]:
        return last  # readings of one day come together: no time zone arithmetic
    day = from_ms(t_ms).astimezone(tz).date()
    start = to_ms(local_at(day, time(0), tz))
    end = to_ms(local_at(day + timedelta(days=1), time(0), tz))
    _LAST_DAY[tz] = (day, start, end)
    return day, start, end


def _local_days(start_ms: int, end_ms: int, tz: tzinfo) -> Iterator[tuple[date, int, int]]:
    """Pieces of [start, end) cut at local midnights, each with its local date."""
    t = start_ms
    while t < end_ms:
        day, _, midnight = _local_day(t, tz)
        piece_end = min(end_ms, midnight)
        yield day, t, piece_end
        t = piece_end


@dataclass
class RateModel:
    """Fill rate since the last emptying and by weekday, updated one level at a time.

    The fit keeps Welford's running means and co-moments of (days since the first point, %),
    so a flat series has exactly no variance, as in `forecast.fit_rate`.
    """

    n: int = 0
    start_ms: int = 0
    end_ms: int = 0
    mean_x: float = 0.0
    mean_y: float = 0.0
    cxx: float = 0.0
    cxy: float = 0.0
    cyy: float = 0.0
    recent: list[tuple[int, float]] = field(default_factory=list)  # the last two levels
    segment_ms: int | None = None  # where an emptying drop last started a segment
    emptied_ms: int | None = None  # the tracker's last emptying (its candidate's time)
    days: dict[str, list[float]] = field(default_factory=dict)  # date: rise, seconds, weekday
    span: list[float] = field(default_factory=lambda: [0.0] * 7)  # the fit's seconds per weekday

    @property
    def level(self) -> tuple[int, float] | None:
        """The newest level: (epoch ms, %)."""
        return self.recent[-1] if self.recent else None

    def add(self, ts_ms: int, pct: float, tz: tzinfo, rules: FillRules = RULES) -> None:
        """Take the next level; an older or repeated time is ignored."""
        prev = self.level
        if prev is not None and ts_ms <= prev[0]:
            return
        if prev is None or is_emptying_drop(prev[1], pct, rules):
            if prev is not None:
                self.segment_ms = ts_ms
            self._restart([], tz)
        else:
            self._rise(prev, (ts_ms, pct), tz)
        self._fit(ts_ms, pct)
        self.recent = [*self.recent, (ts_ms, pct)][-2:]

    def emptied(self, at_ms: int, tz: tzinfo) -> None:
        """An emptying whose candidate reading came at ``at_ms``: the fit starts there."""
        self.emptied_ms = at_ms
        if self.n and self.start_ms < at_ms:
            # the candidate and its confirmation are the last two levels (ingest/fill/tracker.py)
            self._restart([p for p in self.recent if p[0] >= at_ms], tz)

    def fit(self) -> RateFit | None:
        """The least squares line since the last emptying, as `forecast.fit_rate` gives it."""
        if self.n < 2 or self.cxx <= 0:
            return None
        slope = self.cxy / self.cxx
        ss_res = max(0.0, self.cyy - slope * self.cxy)
        r2 = max(0.0, 1.0 - ss_res / self.cyy) if self.cyy > 0 else 0.0
        intercept = self.mean_y - slope * self.mean_x
        return RateFit(slope, intercept, r2, self.n, from_ms(self.start_ms), from_ms(self.end_ms))

    def weekday_rates(self, min_hours: float = MIN_WEEKDAY_HOURS) -> dict[int, float]:
        """Fill rate in %/day per local weekday (0 = Monday) with enough hours of history."""
        rise = [0.0] * 7
        secs = [0.0] * 7
        for r, s, wd in self.days.values():
            rise[int(wd)] += r
            secs[int(wd)] += s
        return {wd: rise[wd] / secs[wd] * 86400 for wd in range(7) if secs[wd] >= min_hours * 3600}

    def expected(self, rates: dict[int, float]) -> float | None:
        """The weekday rates over the fit's span, weighted by time: `forecast.expected_rate`."""
        weight = sum(self.span[wd] for wd in rates)
        return sum(rates[wd] * self.span[wd] for wd in rates) / weight if weight else None

    def snapshot(self) -> dict[str, Any]:
        """The model as a JSON-able dict, to serialise at once: its lists are the model's own."""
        return dict(vars(self))  # dataclasses.asdict would deep-copy, slowly

    @classmethod
    def restore(cls, doc: dict[str, Any]) -> RateModel:
        """Rebuild from `snapshot()`."""
        values = dict(doc)
        recent = [(int(t), float(p)) for t, p in values.pop("recent", [])]
        return cls(**values, recent=recent)

    def _restart(self, points: list[tuple[int, float]], tz: tzinfo) -> None:
        self.n = 0
        self.mean_x = self.mean_y = self.cxx = self.cxy = self.cyy = 0.0
        self.span = [0.0] * 7
        for ts_ms, pct in points:
            self._fit(ts_ms, pct)
        for a, b in zip(points, points[1:], strict=False):
            for day, t0, t1 in _local_days(a[0], b[0], tz):
                self.span[day.weekday()] += (t1 - t0) / 1000

    def _fit(self, ts_ms: int, pct: float) -> None:
        if self.n == 0:
            self.start_ms = ts_ms
        x = (ts_ms - self.start_ms) / _DAY_MS
        self.n += 1
        dx = x - self.mean_x
        dy = pct - self.mean_y
        self.mean_x += dx / self.n
        self.mean_y += dy / self.n
        self.cxx += dx * (x - self.mean_x)
        self.cxy += dx * (pct - self.mean_y)
        self.cyy += dy * (pct - self.mean_y)
        self.end_ms = ts_ms

    def _rise(self, a: tuple[int, float], b: tuple[int, float], tz: tzinfo) -> None:
        """Share the rise from a to b between the local days it spans, in proportion to time."""
        span = b[0] - a[0]
        newest = None
        for day, t0, t1 in _local_days(a[0], b[0], tz):
            part = t1 - t0
            bucket = self.days.setdefault(day.isoformat(), [0.0, 0.0, day.weekday()])
            bucket[0] += (b[1] - a[1]) * part / span
            bucket[1] += part / 1000
            self.span[day.weekday()] += part / 1000  # a and b are the fit's last two points
            newest = day
        if newest is not None:
            oldest = (newest - timedelta(days=WEEKDAY_DAYS)).isoformat()
            for day_iso in [d for d in self.days if d < oldest]:
                del self.days[day_iso]


class KeptAlert(BaseModel):
    """An open alert as the last message about it said (`container_alert` has every message)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    id: str
    severity: str
    transition: str
    since_ms: int
    ts_ms: int
    value: float | None = None
    detail: str = ""


class FillState(BaseModel):
    """Everything the board needs of one container, as ingest last saw it.

    Times are epoch ms. ``level_*`` is the last level that was not rejected; ``last_ms``,
    ``quality``, ``overfull`` and ``temp_c`` are of the last reading of any quality; battery
    values are the newest that were sent.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    v: Literal[1] = 1  # STATE_VERSION
    last_ms: int
    quality: str | None = None
    overfull: bool = False
    temp_c: float | None = None
    battery_pct: float | None = None
    battery_v: float | None = None
    level_pct: float | None = None
    level_ms: int | None = None
    rate_pct_per_day: float | None = None
    r2: float | None = None
    points: int = 0
    reliability: Reliability = "low"
    rates: dict[int, float] = {}
    emptied_ms: int | None = None  # the emptying the fit starts at (tracker), if any
    segment_ms: int | None = None  # else where a drop started the current segment
    emptied_id: str | None = None  # that emptying's event id (a dispatcher may reject it)
    alerts: tuple[KeptAlert, ...] = ()


def forecast_at(
    state: FillState, spec: ContainerSpec, now: datetime, *, tz: tzinfo
) -> Forecast | None:
    """The forecast at ``now`` from the kept state; None when there is no level yet."""
    if state.level_pct is None or state.level_ms is None:
        return None
    level, level_ts = state.level_pct, from_ms(state.level_ms)
    rate = state.rate_pct_per_day
    full_at: datetime | None = None
    never = False
    if level >= spec.full_pct:
        full_at = level_ts
    elif rate is not None:
        left = time_to_full(level, rate, spec.full_pct)
        full_at, never = (None, True) if left is None else (level_ts + left, False)
    emptied = state.emptied_ms if state.emptied_ms is not None else state.segment_ms
    emptied_at = from_ms(emptied) if emptied is not None else None
    day = next_collection_day(spec.collection_weekdays, now, tz, emptied_at)
    projected = None
    if day is not None:
        projected = project(level, level_ts, local_at(day, WORK_END, tz), rate, state.rates, tz)
    return Forecast(
        level_pct=level,
        level_ts=level_ts,
        rate_pct_per_day=rate,
        r2=state.r2,
        points=state.points,
        threshold_pct=spec.full_pct,
        full_at=full_at,
        never=never,
        reliability=state.reliability,
        next_collection=day,
        projected_pct=projected,
        overflow_risk=projected is not None and projected >= 100.0,
    )


def model_forecast(
    model: RateModel, rates: dict[int, float] | None = None
) -> tuple[RateFit | None, Reliability]:
    """The fit and its reliability against the weekday rates (``model.weekday_rates()``)."""
    fit = model.fit()
    if rates is None:
        rates = model.weekday_rates()
    expected = model.expected(rates) if fit is not None else None
    return fit, reliability(fit, expected)
