"""Grafana's substitution of template variables and macros in an InfluxQL query, in Python.

The preview and the tests run the dashboards' statements as Grafana would send them, so this
follows what Grafana 11 does for its InfluxDB datasource (InfluxQL mode):

- A dashboard variable (``$site``, ``${site}``, ``[[site]]``) is replaced in the browser. Its
  value is formatted by the datasource's ``interpolateQueryExpr``: a multi-value variable
  becomes ``(a|b)`` with regular-expression characters escaped; "All" with a custom all value
  (``.*``) is that value, unformatted; a single value inside ``/.../`` is escaped.
- The server then replaces ``$timeFilter`` with ``time >= {from}ms and time <= {to}ms`` and
  ``$interval``, ``$__interval_ms`` and ``$__interval`` with the panel's interval (the range
  divided by its max data points, rounded to a "nice" interval, no less than the panel's
  minimum), written as Grafana's ``gtime.FormatInterval`` writes it (``5m``, ``1h``, ``1d``).
- A panel's relative time (``now/d``: today, ``now/M``: this month) replaces the dashboard's
  range; ranges are resolved in the dashboard's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "ALL",
    "Selection",
    "TimeRange",
    "format_interval",
    "interpolate",
    "panel_interval_ms",
    "parse_duration_ms",
    "resolve_range",
    "round_interval_ms",
]

ALL = "$__all"
_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}")
_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w|M|y)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_UNIT_MS |= {"M": 30 * 86_400_000, "y": 365 * 86_400_000}
# Grafana's rangeUtil.roundInterval: (upper bound of the raw interval, the interval used)
_ROUNDED = (
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000),
    (3_500, 2_000), (7_500, 5_000), (12_500, 10_000), (17_500, 15_000), (25_000, 20_000),
    (45_000, 30_000), (90_000, 60_000), (210_000, 120_000), (450_000, 300_000),
    (750_000, 600_000), (1_050_000, 900_000), (1_500_000, 1_200_000), (2_700_000, 1_800_000),
    (5_400_000, 3_600_000), (9_000_000, 7_200_000), (16_200_000, 10_800_000),
    (24_300_000, 21_600_000), (64_800_000, 43_200_000), (604_800_000, 86_400_000),
    (1_814_400_000, 604_800_000), (3_628_800_000, 2_592_000_000),
)  # fmt: skip


@dataclass(frozen=True)
class Selection:
    """What a dashboard variable is set to, and how it is defined."""

    values: Sequence[str] | str  # a list of chosen values, or ALL
    options: Sequence[str] = ()  # every value the variable offers (used for All without allValue)
    multi: bool = True
    include_all: bool = True
    all_value: str | None = ".*"


@dataclass(frozen=True)
class TimeRange:
    """An absolute range in epoch milliseconds."""

    from_ms: int
    to_ms: int


def _escape(value: str) -> str:
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m[0], value)


def format_value(name: str, selection: Selection, query: str) -> str:
    """The text a variable's value becomes in an InfluxQL query, as Grafana formats it."""
    if selection.values == ALL:
        if selection.all_value is not None:
            return selection.all_value  # a custom all value is used as it is
        values: Sequence[str] = selection.options
    else:
        values = [selection.values] if isinstance(selection.values, str) else selection.values
    if selection.multi or selection.include_all:
        escaped = [_escape(v) for v in values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    value = values[0] if values else ""
    in_regex = re.search(r"/\^?[^/]*\$\{?" + re.escape(name) + r"\b", query)
    return _escape(value) if in_regex else value


def interpolate(
    query: str, variables: Mapping[str, Selection], time_range: TimeRange, interval_ms: int
) -> str:
    """``query`` with dashboard variables, ``$timeFilter`` and the interval macros replaced."""

    def replace(match: re.Match[str]) -> str:
        name = match[1] or match[2] or match[4]
        selection = variables.get(name)
        return match[0] if selection is None else format_value(name, selection, query)

    text = _VARIABLE.sub(replace, query)
    time_filter = f"time >= {time_range.from_ms}ms and time <= {time_range.to_ms}ms"
    interval = format_interval(interval_ms)
    text = text.replace("$timeFilter", time_filter).replace("$interval", interval)
    return text.replace("$__interval_ms", str(interval_ms)).replace("$__interval", interval)


def parse_duration_ms(text: str) -> int:
    """``30s``, ``5m``, ``1d`` in milliseconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return int(match[1]) * _UNIT_MS[match[2]]


def round_interval_ms(raw_ms: float) -> int:
    """Grafana's rounding of a raw interval to a "nice" one."""
    if raw_ms <= 10:
        return 1
    for bound, rounded in _ROUNDED:
        if raw_ms <= bound:
            return rounded
    return 31_536_000_000


def panel_interval_ms(time_range: TimeRange, max_data_points: int, min_interval: str = "") -> int:
    """``$__interval`` of a panel: the range over its data points, rounded, at least the minimum."""
    raw = (time_range.to_ms - time_range.from_ms) / max(max_data_points, 1)
    floor = parse_duration_ms(min_interval) if min_interval else 1
    return max(round_interval_ms(raw), floor)


def format_interval(ms: int) -> str:
    """An interval as Grafana's backend writes it into a query (gtime.FormatInterval)."""
    for unit, size in (("y", 31_536_000_000), ("d", 86_400_000), ("h", 3_600_000)):
        if ms >= size:
            return f"{ms // size}{unit}"
    for unit, size in (("m", 60_000), ("s", 1000)):
        if ms >= size:
            return f"{ms // size}{unit}"
    return f"{max(ms, 1)}ms"


def _point(text: str, now: datetime, round_up: bool) -> datetime:
    """A Grafana time expression (``now``, ``now-7d``, ``now/d``, ``now/M``) at ``now``."""
    match = re.fullmatch(r"now(?:-(\d+)([smhdwMy]))?(?:/([dM]))?", text)
    if match is None:
        raise ValueError(f"unsupported time expression {text!r}")
    when = now
    if match[1]:
        when -= timedelta(milliseconds=int(match[1]) * _UNIT_MS[match[2]])
    if match[3] == "d":
        when = when.replace(hour=0, minute=0, second=0, microsecond=0)
        when += timedelta(days=1) if round_up else timedelta()
    elif match[3] == "M":
        when = when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if round_up:
            when = (when + timedelta(days=32)).replace(day=1)
    return when


def resolve_range(from_expr: str, to_expr: str, now: datetime, tz: str) -> TimeRange:
    """An absolute range from Grafana's expressions, days and months in zone ``tz``.

    A panel's relative time ``now/d`` alone means today (``now/d`` to the end of the day), as
    Grafana's quick ranges read it.
    """
    local = now.astimezone(ZoneInfo(tz))
    rounded = "/" in to_expr  # an end rounded up is the last millisecond before it
    start = _point(from_expr, local, round_up=False)
    end = _point(to_expr, local, round_up=rounded)
    return TimeRange(int(start.timestamp() * 1000), int(end.timestamp() * 1000) - rounded)
