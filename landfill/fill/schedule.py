"""Collection days and working hours in local time; the zone is passed in (``LANDFILL_TIMEZONE``).

A collection day's round runs from 08:00 to 17:00 local time. Times in and out are aware.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo

__all__ = ["WORK_END", "WORK_START", "collection_deadline", "local_at", "next_collection_day"]

WORK_START = time(8, 0)
WORK_END = time(17, 0)


def local_at(day: date, at: time, tz: tzinfo) -> datetime:
    """Return the aware datetime of a local wall-clock time on a local day."""
    return datetime.combine(day, at, tzinfo=tz)


def _days_from(first: date, weekdays: Iterable[int]) -> Iterable[date]:
    wanted = set(weekdays)
    for n in range(15):  # two weeks cover every weekday set from any start
        day = first + timedelta(days=n)
        if day.weekday() in wanted:
            yield day


def collection_deadline(weekdays: Iterable[int], after: datetime, tz: tzinfo) -> datetime | None:
    """End of work on the first collection day that starts at or after ``after``."""
    for day in _days_from(after.astimezone(tz).date(), weekdays):
        if local_at(day, WORK_START, tz) >= after:
            return local_at(day, WORK_END, tz)
    return None


def next_collection_day(
    weekdays: Iterable[int], now: datetime, tz: tzinfo, emptied_at: datetime | None = None
) -> date | None:
    """The next local collection day not yet over; today is skipped once it was emptied today."""
    today = now.astimezone(tz).date()
    emptied_day = emptied_at.astimezone(tz).date() if emptied_at else None
    for day in _days_from(today, weekdays):
        if day == today and (now >= local_at(day, WORK_END, tz) or emptied_day == today):
            continue
        return day
    return None
