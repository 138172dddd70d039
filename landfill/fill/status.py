"""Status rules of one container, used by the tracker (alerts) and the dispatcher's board.

    filtered level >= full_pct ────────────────────────────► full
    overfull flag (waste above the full line), or 100 % ──► overfull
    no reading for offline_factor x expected interval ────► offline
    battery % <= 20, or volts <= 3.3 where no % is sent ──► low battery
    battery % > 30, or volts > 3.4 where no % is sent ────► battery recovered
    alert kind ─► severity; severities sort most severe first

The tracker adds persistence (two or three readings in a row) before it raises; the board reads
the same rules on the latest values, so both agree on what "full" or "offline" means.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from landfill.contract import AlertKind

from .spec import RULES, ContainerSpec, FillRules

__all__ = [
    "SEVERITY",
    "SEVERITY_ORDER",
    "Severity",
    "battery_recovered",
    "is_full",
    "is_low_battery",
    "is_offline",
    "is_overfull",
    "offline_after",
    "severity_rank",
]

Severity = Literal["info", "minor", "warning", "major", "critical"]

SEVERITY: dict[AlertKind, Severity] = {
    "full": "warning",
    "overfull": "major",
    "fire": "critical",
    "tilt": "major",
    "lid_open": "minor",
    "offline": "major",
    "low_battery": "minor",
}
SEVERITY_ORDER: tuple[Severity, ...] = ("critical", "major", "warning", "minor", "info")
_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITY_ORDER)}


def severity_rank(severity: str) -> int:
    """Sort key: 0 for critical, larger for less severe, last for an unknown severity."""
    return _RANK.get(severity, len(_RANK))


def is_full(spec: ContainerSpec, level_pct: float | None) -> bool:
    """The level is at or above the container's full threshold."""
    return level_pct is not None and level_pct >= spec.full_pct


def is_overfull(level_pct: float | None, overfull_flag: bool) -> bool:
    """Waste above the full line, or a level of 100 %."""
    return overfull_flag or (level_pct is not None and level_pct >= 100.0)


def offline_after(spec: ContainerSpec, rules: FillRules = RULES) -> timedelta:
    """Silence after which the container counts as offline."""
    return timedelta(seconds=rules.offline_factor * spec.expected_interval_s)


def is_offline(
    spec: ContainerSpec, last_ts: datetime | None, now: datetime, rules: FillRules = RULES
) -> bool:
    """No reading for `offline_after`; a container never heard from has no data, not offline."""
    return last_ts is not None and now >= last_ts + offline_after(spec, rules)


def is_low_battery(pct: float | None, volts: float | None, rules: FillRules = RULES) -> bool:
    """Low by percentage; a voltage counts only where the device sends no percentage (Dragino)."""
    if pct is not None:
        return pct <= rules.low_battery_pct
    return volts is not None and volts <= rules.low_battery_v


def battery_recovered(pct: float | None, volts: float | None, rules: FillRules = RULES) -> bool:
    """High enough again to clear a low-battery alert (hysteresis above the low threshold)."""
    if pct is not None:
        return pct > rules.battery_clear_pct
    return volts is not None and volts > rules.battery_clear_v
