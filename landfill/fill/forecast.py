"""Fill rate, time to full and overflow risk from a container's level history; pure functions.

    history (ts, pct) ─► segments, split at emptying drops ─► the segment since the last emptying
                      ─► least squares rate (%/day) and R²
                      ─► weekday rates over all segments (increments split at local midnights)
    rate + latest level ─► time to the full threshold ("never" when the rate is <= 0)
    weekday rates (the segment rate where a weekday has none)
                      ─► level projected to the end of the next collection day ─► overflow risk

Reliability (low/medium/high) weighs the points since emptying, the R² of the fit and whether
the rate agrees with the weekday history (fill-sensors.md 3.4). Days are local days in the zone
passed in (the setting ``LANDFILL_TIMEZONE``).


Never raises, on any series: levels that are not finite are left out, the history is the last
`MAX_HISTORY` before ``now``, a rate too small to reach full within `HORIZON` is "never", and
a number that would overflow (levels near 1e308) gives no rate rather than an error.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal, NamedTuple

from .geometry import is_emptying_drop
from .schedule import WORK_END, local_at, next_collection_day
from .spec import RULES, ContainerSpec, FillRules

__all__ = [
    "FillSample",
    "Forecast",
    "RateFit",
    "Reliability",
    "expected_rate",
    "fit_rate",
    "forecast",
    "project",
    "reliability",
    "segments",
    "time_to_full",
    "weekday_rates",
]

Reliability = Literal["low", "medium", "high"]
_DAY_S = 86400.0
HIGH_POINTS, MEDIUM_POINTS = 24, 8
HIGH_R2, MEDIUM_R2 = 0.8, 0.5
AGREE_REL, AGREE_ABS = 0.3, 2.0  # |rate - weekday rate| within 30 % or 2 %/day
MIN_WEEKDAY_HOURS = 6.0
MAX_HISTORY = timedelta(days=366)  # older levels say nothing about the next collection
HORIZON = timedelta(days=3650)  # full later than this is "never"


class FillSample(NamedTuple):
    """One level of the history: when, and the (filtered) fill in percent."""

    ts: datetime
    pct: float


@dataclass(frozen=True)
class RateFit:
    """A least squares line through the points since the last emptying."""

    rate_pct_per_day: float
    intercept_pct: float
    r2: float
    points: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Forecast:
    """What the dispatcher sees for one container; ``never`` means the rate is not positive."""

    level_pct: float | None
    level_ts: datetime | None
    rate_pct_per_day: float | None
    r2: float | None
    points: int
    threshold_pct: float
    full_at: datetime | None
    never: bool
    reliability: Reliability
    next_collection: date | None
    projected_pct: float | None
    overflow_risk: bool


def segments(points: Iterable[FillSample], rules: FillRules = RULES) -> list[list[FillSample]]:
    """Split a history at emptying drops (the tracker's rule), oldest first."""
    out: list[list[FillSample]] = []
    for p in sorted(points):
        if out and not is_emptying_drop(out[-1][-1].pct, p.pct, rules):
            out[-1].append(p)
        else:
            out.append([p])
    return out


def fit_rate(points: Sequence[FillSample]) -> RateFit | None:
    """Least squares fill rate in %/day, or None with fewer than 2 points or no time span.

    Also None when the numbers overflow (levels far outside 0-100 %).
    """
    if len(points) < 2:
        return None
    try:
        fit = _least_squares(points)
    except (OverflowError, ZeroDivisionError):
        return None
    if fit is None or not all(map(math.isfinite, (fit.rate_pct_per_day, fit.intercept_pct))):
        return None
    return fit


def _least_squares(points: Sequence[FillSample]) -> RateFit | None:
    t0, y0 = points[0].ts, points[0].pct
    xs = [(p.ts - t0).total_seconds() / _DAY_S for p in points]
    # levels relative to the first: identical levels give a slope of exactly 0, not 1e-15
    ys = [p.pct - y0 for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = math.fsum((x - mx) * (x - mx) for x in xs)
    if sxx == 0:
        return None
    slope = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = my - slope * mx
    ss_tot = math.fsum((y - my) * (y - my) for y in ys)
    ss_res = math.fsum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    # a flat series has no variance to explain: treat it as no evidence, not a perfect fit
    r2 = max(0.0, 1.0 - ss_res / ss_tot) if ss_tot > 0 else 0.0
    return RateFit(slope, intercept + y0, r2, len(points), points[0].ts, points[-1].ts)


def _local_days(
    start: datetime, end: datetime, tz: tzinfo
) -> Iterable[tuple[int, datetime, datetime]]:
    """Pieces of [start, end) cut at local midnights, each with its local weekday."""
    t = start
    while t < end:
        try:
            local = t.astimezone(tz)
            midnight = local_at(local.date() + timedelta(days=1), time(0), tz)
        except OverflowError:  # the calendar's last hours have no local day after them
            return
        piece_end = min(end, midnight)
        yield local.weekday(), t, piece_end
        t = piece_end


def weekday_rates(
    points: Iterable[FillSample],
    tz: tzinfo,
    min_hours: float = MIN_WEEKDAY_HOURS,
    rules: FillRules = RULES,
) -> dict[int, float]:
    """Fill rate in %/day per local weekday (0 = Monday), from increments within segments.

    An increment spanning midnight is shared between the days in proportion to time; a weekday
    with less than ``min_hours`` of coverage gets no rate.
    """
    rise = [0.0] * 7
    secs = [0.0] * 7
    for seg in segments(points, rules):
        for a, b in zip(seg, seg[1:], strict=False):
            span = (b.ts - a.ts).total_seconds()
            if span <= 0:
                continue
            for wd, t0, t1 in _local_days(a.ts, b.ts, tz):
                part = (t1 - t0).total_seconds()
                rise[wd] += (b.pct - a.pct) * part / span
                secs[wd] += part
    rates = {wd: rise[wd] / secs[wd] * _DAY_S for wd in range(7) if secs[wd] >= min_hours * 3600}
    return {wd: rate for wd, rate in rates.items() if math.isfinite(rate)}


def expected_rate(
    rates: Mapping[int, float], start: datetime, end: datetime, tz: tzinfo
) -> float | None:
    """The weekday history's rate over [start, end), weighted by time on each weekday."""
    total = weight = 0.0
    for wd, t0, t1 in _local_days(start, end, tz):
        if wd in rates:
            part = (t1 - t0).total_seconds()
            total += rates[wd] * part
            weight += part
    return total / weight if weight else None


def reliability(fit: RateFit | None, expected: float | None) -> Reliability:
    """High: >= 24 points, R² >= 0.8 and agreeing with the weekday rate; medium: >= 8, R² >= 0.5.

    Without weekday history, or when it disagrees, the best a fit can get is medium.
    """
    if fit is None:
        return "low"
    agrees: bool | None = None
    if expected is not None:
        tolerance = max(AGREE_REL * abs(expected), AGREE_ABS)
        agrees = abs(fit.rate_pct_per_day - expected) <= tolerance
    if fit.points >= HIGH_POINTS and fit.r2 >= HIGH_R2 and agrees:
        return "high"
    if fit.points >= MEDIUM_POINTS and fit.r2 >= MEDIUM_R2:
        return "medium"
    return "low"


def time_to_full(
    level_pct: float, rate_pct_per_day: float, threshold_pct: float
) -> timedelta | None:
    """Time until the level reaches the threshold; None ("never") when the rate is <= 0.

    Also None when that is later than `HORIZON`: a rate that small is no rate.
    """
    if level_pct >= threshold_pct:
        return timedelta(0)
    if not rate_pct_per_day > 0:
        return None
    days = (threshold_pct - level_pct) / rate_pct_per_day
    return timedelta(days=days) if days <= HORIZON.days else None


def project(
    level_pct: float,
    start: datetime,
    end: datetime,
    rate_pct_per_day: float | None,
    rates: Mapping[int, float],
    tz: tzinfo,
) -> float | None:
    """Project the level from start to end, day by day, with each weekday's rate.

    A weekday without history uses ``rate_pct_per_day``, else the mean weekday rate; None when
    there is no rate at all. The level does not go below 0 %.
    """
    fallback = rate_pct_per_day
    if fallback is None and rates:
        fallback = statistics.fmean(rates.values())
    if fallback is None:
        return None
    level = level_pct
    for wd, t0, t1 in _local_days(start, end, tz):
        level += rates.get(wd, fallback) * (t1 - t0).total_seconds() / _DAY_S
    return max(0.0, level) if math.isfinite(level) else None


def forecast(
    spec: ContainerSpec,
    history: Iterable[FillSample | tuple[datetime, float]],
    now: datetime,
    *,
    tz: tzinfo,
    emptied_at: datetime | None = None,
    rules: FillRules = RULES,
) -> Forecast:
    """Forecast one container from its level history up to ``now``; days are local to ``tz``.

    ``emptied_at`` (the tracker's last emptying) cuts the current segment where the history
    alone would not show the drop.
    """
    since = _minus(now, MAX_HISTORY)
    points = [
        FillSample(ts, float(pct))
        for ts, pct in history
        if since <= ts <= now and math.isfinite(pct)
    ]
    segs = segments(points, rules)
    current = segs[-1] if segs else []
    if emptied_at is not None:
        current = [p for p in current if p.ts >= emptied_at]
    if emptied_at is None and len(segs) > 1:
        emptied_at = current[0].ts
    fit = fit_rate(current)
    rates = weekday_rates(points, tz, rules=rules)
    expected = expected_rate(rates, fit.start, fit.end, tz) if fit else None
    rate = fit.rate_pct_per_day if fit else None
    last = current[-1] if current else None
    full_at, never = _full_at(last, rate, spec.full_pct)
    day = _next_day(spec, now, tz, emptied_at)
    projected = None
    if last is not None and day is not None:
        projected = project(last.pct, last.ts, local_at(day, WORK_END, tz), rate, rates, tz)
    return Forecast(
        level_pct=last.pct if last else None,
        level_ts=last.ts if last else None,
        rate_pct_per_day=rate,
        r2=fit.r2 if fit else None,
        points=len(current),
        threshold_pct=spec.full_pct,
        full_at=full_at,
        never=never,
        reliability=reliability(fit, expected),
        next_collection=day,
        projected_pct=projected,
        overflow_risk=projected is not None and projected >= 100.0,
    )


def _full_at(
    last: FillSample | None, rate: float | None, threshold_pct: float
) -> tuple[datetime | None, bool]:
    """When the level reaches the threshold, and whether it never will at this rate."""
    if last is None:
        return None, False
    if last.pct >= threshold_pct:
        return last.ts, False
    if rate is None:
        return None, False
    left = time_to_full(last.pct, rate, threshold_pct)
    full_at = None if left is None else _plus(last.ts, left)
    return full_at, full_at is None


def _minus(ts: datetime, delta: timedelta) -> datetime:
    try:
        return ts - delta
    except OverflowError:  # the first years of the calendar
        return datetime.min.replace(tzinfo=ts.tzinfo)


def _plus(ts: datetime, delta: timedelta) -> datetime | None:
    try:
        return ts + delta
    except OverflowError:  # past the end of the calendar: never, for anyone reading this
        return None


def _next_day(
    spec: ContainerSpec, now: datetime, tz: tzinfo, emptied_at: datetime | None
) -> date | None:
    try:
        return next_collection_day(spec.collection_weekdays, now, tz, emptied_at)
    except OverflowError:  # the last days of the calendar have no next day
        return None
