"""Local days, weeks and months: a period of local dates and its bounds in UTC.

Storage is UTC; the landfill's day is a local day in ``LANDFILL_TIMEZONE``. A period is a
range of local dates, both ends included; its bounds are local midnights, so a ticket at
23:30 in Bishkek (17:30 UTC) belongs to that Bishkek day. A week starts on Monday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

__all__ = ["Period", "Step", "add_months", "bucket_of", "buckets", "month_of", "parse_month"]

Step = Literal["day", "week", "month"]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def add_months(first: date, months: int) -> date:
    """The first day of the month ``months`` after the month of ``first`` (negative: before)."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str) -> date:
    """``2026-10`` as the first day of that month; ValueError otherwise."""
    found = _MONTH.match(text)
    if found is None or not 1 <= int(found[2]) <= 12:
        raise ValueError("a month is written YYYY-MM")
    return date(int(found[1]), int(found[2]), 1)


def bucket_of(day: date, step: Step) -> date:
    """The first day of the day's bucket: itself, its Monday, or the first of its month."""
    if step == "week":
        return day - timedelta(days=day.weekday())
    if step == "month":
        return day.replace(day=1)
    return day


@dataclass(frozen=True)
class Period:
    """Local dates from ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("the period ends before it starts")

    @property
    def days(self) -> int:
        """How many local days the period has."""
        return (self.last - self.first).days + 1

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """UTC start (included) and end (excluded): local midnights of first and last + 1."""
        start = datetime.combine(self.first, time(0), tzinfo=tz)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


def month_of(first: date) -> Period:
    """The whole calendar month that starts on ``first``."""
    return Period(first, add_months(first, 1) - timedelta(days=1))


def buckets(period: Period, step: Step) -> list[date]:
    """The first day of every bucket that touches the period, in order."""
    out, day = [], bucket_of(period.first, step)
    days = 7 if step == "week" else 1
    while day <= period.last:
        out.append(day)
        day = add_months(day, 1) if step == "month" else day + timedelta(days=days)
    return out
