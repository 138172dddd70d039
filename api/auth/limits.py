"""Login rate limits: failed logins are counted per username and per address in SQL.

While either count within `login_window_seconds` is at its limit, logins are refused with
429 before the password is checked, so guessing cannot go on from one address or against
one account. A successful login clears its username's count (not the address's).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.auth.models import LoginFailure
from api.auth.users import aware
from landfill.settings import ApiSettings

__all__ = ["clear_failures", "record_failure", "retry_after"]


def retry_after(
    session: Session, username: str, address: str, now: datetime, settings: ApiSettings
) -> int | None:
    """Seconds until a login may be tried again, or None when it may be tried now."""
    window = timedelta(seconds=settings.login_window_seconds)
    since = now - window
    waits = []
    for column, value, limit in (
        (LoginFailure.username, username, settings.login_max_failures_per_user),
        (LoginFailure.address, address, settings.login_max_failures_per_address),
    ):
        recent = select(LoginFailure.at).where(column == value, LoginFailure.at > since)
        count = session.scalar(select(func.count()).select_from(recent.subquery())) or 0
        if count >= limit:
            # refused until enough of the failures have left the window
            times = sorted(aware(t) for t in session.scalars(recent))
            waits.append(times[count - limit] + window - now)
    if not waits:
        return None
    return max(1, int(max(waits).total_seconds() + 0.999))


def record_failure(
    session: Session, username: str, address: str, now: datetime, settings: ApiSettings
) -> None:
    """Count a failed login (not committed); failures older than a day are dropped."""
    session.add(LoginFailure(username=username[:64], address=address[:64], at=now))
    oldest = now - max(timedelta(days=1), timedelta(seconds=settings.login_window_seconds))
    session.execute(delete(LoginFailure).where(LoginFailure.at < oldest))


def clear_failures(session: Session, username: str) -> None:
    """Forget a username's failures after it logged in (not committed)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
