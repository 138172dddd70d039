"""Browser sessions: a random key in an HttpOnly cookie, its hash and CSRF token in SQL.

The cookie is SameSite=Lax (links from elsewhere still open a page; cross-site POSTs carry
no cookie) and Secure behind TLS. A session ends on logout, after `session_idle_minutes`
without a request, after `session_max_hours` in all, and when its account is disabled or
its password changes. Every state-changing request of a session must carry the session's
CSRF token (header `X-CSRF-Token`, or the form field `csrf_token`); tokens need none, as
nothing sends them on its own.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.auth.models import User, UserSession
from api.auth.tokens import digest
from api.auth.users import aware
from landfill.settings import ApiSettings

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "clear_session_cookie",
    "end_session",
    "new_csrf_token",
    "same_token",
    "secure_cookies",
    "session_for",
    "set_session_cookie",
    "start_session",
]

SESSION_COOKIE = "landfill_session"
LOGIN_CSRF_COOKIE = "landfill_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
TOUCH_EVERY = timedelta(seconds=30)


def new_csrf_token() -> str:
    """A random CSRF token."""
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; an empty token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def start_session(
    session: Session, user: User, address: str, now: datetime
) -> tuple[UserSession, str]:
    """A new session (not committed) and the key for its cookie."""
    key = secrets.token_urlsafe(32)
    row = UserSession(
        key_hash=digest(key),
        user_id=user.id,
        csrf_token=new_csrf_token(),
        address=address[:64],
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    return row, key


def session_for(
    session: Session, key: str, now: datetime, settings: ApiSettings
) -> tuple[UserSession, User] | None:
    """The live session of a cookie and its active account; an expired one is deleted."""
    if not key or len(key) > 200:
        return None
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.key_hash == digest(key))
    ).first()
    if found is None:
        return None
    row, user = found
    idle = now - aware(row.last_seen_at) > timedelta(minutes=settings.session_idle_minutes)
    old = now - aware(row.created_at) > timedelta(hours=settings.session_max_hours)
    if idle or old or not user.active:
        session.delete(row)
        session.commit()
        return None
    if now - aware(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    return row, user


def end_session(session: Session, key: str) -> UserSession | None:
    """Delete the session of a cookie (not committed); the session row, if there was one."""
    row = session.scalar(select(UserSession).where(UserSession.key_hash == digest(key)))
    if row is not None:
        session.execute(delete(UserSession).where(UserSession.id == row.id))
    return row


def secure_cookies(request: Request, settings: ApiSettings) -> bool:
    """Whether cookies get the Secure flag: behind TLS, in production, or when told to."""
    if settings.cookie_secure != "auto":
        return settings.cookie_secure == "always"
    return request.url.scheme == "https" or settings.env == "production"


def set_session_cookie(response: Response, key: str, secure: bool) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, no Max-Age (gone when the browser closes)."""
    response.set_cookie(SESSION_COOKIE, key, httponly=True, samesite="lax", secure=secure, path="/")


def clear_session_cookie(response: Response, secure: bool) -> None:
    """Tell the browser to forget the session cookie."""
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=secure, path="/")
