"""Collection days and working hours in Asia/Bishkek local time (UTC+6, no DST since 2005)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["BISHKEK", "WORK_END", "WORK_START", "collection_deadline", "next_collection_day"]


def _bishkek() -> tzinfo:
    try:
        return ZoneInfo("Asia/Bishkek")
    except ZoneInfoNotFoundError:  # no tzdata on the host: the offset has been fixed since 2005
        return timezone(timedelta(hours=6), "Asia/Bishkek")


BISHKEK = _bishkek()
WORK_START = time(8, 0)
WORK_END = time(17, 0)


def local_at(day: date, at: time) -> datetime:
    """Return the aware datetime of a local wall-clock time on a local day."""
    return datetime.combine(day, at, tzinfo=BISHKEK)


def _days_from(first: date, weekdays: Iterable[int]) -> Iterable[date]:
    wanted = set(weekdays)
    for n in range(15):  # two weeks cover every weekday set from any start
        day = first + timedelta(days=n)
        if day.weekday() in wanted:
            yield day


def collection_deadline(weekdays: Iterable[int], after: datetime) -> datetime | None:
    """End of work on the first collection day that starts at or after ``after``."""
    for day in _days_from(after.astimezone(BISHKEK).date(), weekdays):
        if local_at(day, WORK_START) >= after:
            return local_at(day, WORK_END)
    return None


def next_collection_day(
    weekdays: Iterable[int], now: datetime, emptied_at: datetime | None = None
) -> date | None:
    """The next local collection day not yet over; today is skipped once it was emptied today."""
    today = now.astimezone(BISHKEK).date()
    emptied_day = emptied_at.astimezone(BISHKEK).date() if emptied_at else None
    for day in _days_from(today, weekdays):
        if day == today and (now >= local_at(day, WORK_END) or emptied_day == today):
            continue
        return day
    return None
