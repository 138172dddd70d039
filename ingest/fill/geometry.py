"""Distance to fill level for one container, and the per-container settings the tracker uses.

    sensor face ─┬─ 0 mm
                 │  blind zone: the sensor cannot measure closer       (rejected)
    blind_zone ──┤
                 │  waste above the full line                          (100 %, overfull)
    full_mm ─────┤  F: the full line, often below the rim              (100 %)
                 │  h = (E - d) / (E - F)
    empty_mm ────┤  E: the floor of the empty container                (0 %)
                 │  floor unevenness, temperature drift                (0 %, suspicious)
    E + tol ─────┘  beyond: no echo from this container                (rejected)

Faults survived: vendor sentinels (Dragino 0 and 20), no value, echoes from beyond the floor
and from inside the blind zone. All of them give "no value", never 0 % or 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ContainerSpec", "FillLevel", "Quality", "fill_pct", "is_emptying_drop"]

Quality = Literal["accepted", "suspicious", "rejected"]


@dataclass(frozen=True)
class ContainerSpec:
    """One container as installed; every threshold defaults to fill-sensors.md 3.5.

    Weekdays are Python's: 0 is Monday. Distances are in mm from the sensor face.
    """

    container: str
    zone: str
    volume_m3: float
    empty_mm: int
    full_mm: int
    full_pct: float = 80.0
    clear_pct: float = 70.0
    expected_interval_s: int = 3600
    collection_weekdays: tuple[int, ...] = ()
    blind_zone_mm: int = 280
    tolerance_mm: int = 100
    sentinel_mm: frozenset[int] = frozenset({0, 20})
    lat: float | None = None
    lon: float | None = None
    # level filter and emptying rule (3.2, 3.3)
    rise_confirm_pts: float = 30.0
    drop_pts: float = 25.0
    drop_to_pct: float = 10.0
    drop_from_pct: float = 20.0
    confirm_band_pts: float = 10.0
    # alert rules (3.5)
    fire_temp_c: float = 60.0
    fire_rise_c: float = 15.0
    fire_clear_c: float = 45.0
    fire_repeat_s: int = 900
    lid_open_s: int = 1800
    low_battery_pct: float = 20.0
    low_battery_v: float = 3.3
    battery_clear_pct: float = 30.0
    battery_clear_v: float = 3.4
    offline_factor: float = 2.5

    def __post_init__(self) -> None:
        if not 0 < self.blind_zone_mm <= self.full_mm < self.empty_mm:
            raise ValueError("need 0 < blind_zone_mm <= full_mm < empty_mm")
        if not 0 <= self.clear_pct < self.full_pct <= 100:
            raise ValueError("need 0 <= clear_pct < full_pct <= 100")
        if self.expected_interval_s <= 0 or self.volume_m3 <= 0:
            raise ValueError("expected_interval_s and volume_m3 must be positive")
        if any(d not in range(7) for d in self.collection_weekdays):
            raise ValueError("collection_weekdays are 0 (Monday) to 6 (Sunday)")

    @property
    def offline_after_s(self) -> float:
        """Silence after which the container counts as offline."""
        return self.offline_factor * self.expected_interval_s


@dataclass(frozen=True)
class FillLevel:
    """A single reading's level; ``pct`` is None whenever the distance is not a level."""

    pct: float | None
    overfull: bool
    quality: Quality
    reason: str = ""


def fill_pct(spec: ContainerSpec, distance_mm: int | None) -> FillLevel:
    """Return the fill level for one distance; out-of-envelope distances are rejected."""
    d = distance_mm
    if d is None:
        return FillLevel(None, False, "rejected", "no_value")
    if d <= 0 or d in spec.sentinel_mm:
        return FillLevel(None, False, "rejected", "sentinel")
    if d < spec.blind_zone_mm:
        return FillLevel(None, False, "rejected", "blind_zone")
    if d > spec.empty_mm + spec.tolerance_mm:
        return FillLevel(None, False, "rejected", "beyond_empty")
    h = 100.0 * (spec.empty_mm - d) / (spec.empty_mm - spec.full_mm)
    pct = min(100.0, max(0.0, h))
    if d > spec.empty_mm:
        # an uneven floor or drift reads slightly past empty; keep it as 0 % but say so
        return FillLevel(pct, False, "suspicious", "below_floor")
    return FillLevel(pct, d < spec.full_mm, "accepted")


def is_emptying_drop(spec: ContainerSpec, before: float, after: float) -> bool:
    """The emptying rule on levels: from >= 20 %, a fall of >= 25 points or to <= 10 %."""
    return before >= spec.drop_from_pct and (
        before - after >= spec.drop_pts or after <= spec.drop_to_pct
    )
