"""Distance to fill level for one container; the emptying rule on levels.

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

from .spec import BLIND_ZONE_MM, RULES, ContainerSpec, FillRules

__all__ = ["FillLevel", "Quality", "fill_pct", "is_emptying_drop"]

Quality = Literal["accepted", "suspicious", "rejected"]


@dataclass(frozen=True)
class FillLevel:
    """A single reading's level; ``pct`` is None whenever the distance is not a level."""

    pct: float | None
    overfull: bool
    quality: Quality
    reason: str = ""


def fill_pct(spec: ContainerSpec, distance_mm: int | None, rules: FillRules = RULES) -> FillLevel:
    """Return the fill level for one distance; out-of-envelope distances are rejected."""
    d = distance_mm
    if d is None:
        return FillLevel(None, False, "rejected", "no_value")
    if d <= 0 or d in rules.sentinel_mm:
        return FillLevel(None, False, "rejected", "sentinel")
    if d < BLIND_ZONE_MM:
        return FillLevel(None, False, "rejected", "blind_zone")
    if d > spec.empty_mm + rules.tolerance_mm:
        return FillLevel(None, False, "rejected", "beyond_empty")
    h = 100.0 * (spec.empty_mm - d) / (spec.empty_mm - spec.full_mm)
    pct = min(100.0, max(0.0, h))
    if d > spec.empty_mm:
        # an uneven floor or drift reads slightly past empty; keep it as 0 % but say so
        return FillLevel(pct, False, "suspicious", "below_floor")
    return FillLevel(pct, d < spec.full_mm, "accepted")


def is_emptying_drop(before: float, after: float, rules: FillRules = RULES) -> bool:
    """The emptying rule on levels: from >= 20 %, a fall of >= 25 points or to <= 10 %."""
    return before >= rules.drop_from_pct and (
        before - after >= rules.drop_pts or after <= rules.drop_to_pct
    )
