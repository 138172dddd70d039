"""Accounts: create, change password, disable, check a login."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.auth.models import User, UserSession
from api.auth.passwords import hash_password, needs_rehash, verify_password, weak
from api.auth.roles import Role

__all__ = [
    "AccountError",
    "aware",
    "check_login",
    "check_role",
    "create_user",
    "end_sessions",
    "find_user",
    "normalise_username",
    "set_active",
    "set_password",
    "user_record",
]

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
CLIENT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


class AccountError(ValueError):
    """An account or token request that cannot be done, with the reason to show."""


def aware(ts: datetime) -> datetime:
    """A stored time as aware UTC (SQLite hands back naive datetimes; all stored are UTC)."""
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def normalise_username(raw: str) -> str:
    """Lower case, checked: letters, digits, dot, dash, underscore; 2 to 64 characters."""
    name = raw.strip().lower()
    if not USERNAME.match(name):
        raise AccountError("a username has 2-64 of a-z 0-9 . _ - and starts with a letter or digit")
    return name


def check_role(role: str, client_code: str | None) -> tuple[Role, str | None]:
    """The role, and the client code a client's account needs and no other account has."""
    try:
        checked = Role(role)
    except ValueError:
        raise AccountError(f"unknown role; one of: {', '.join(Role)}") from None
    if checked is Role.client:
        if not client_code or not CLIENT_CODE.match(client_code):
            raise AccountError("a client account needs a client code (letters, digits, ._:-)")
        return checked, client_code
    if client_code:
        raise AccountError("only a client account has a client code")
    return checked, None


def find_user(session: Session, username: str) -> User | None:
    """The account with this username (any case), or None."""
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    now: datetime,
    *,
    full_name: str = "",
    client_code: str | None = None,
) -> User:
    """Add an account (not committed); refuses a taken username or a weak password."""
    name = normalise_username(username)
    checked, client = check_role(role, client_code)
    if find_user(session, name) is not None:
        raise AccountError(f"user {name} exists")
    problem = weak(password)
    if problem:
        raise AccountError(problem)
    user = User(
        username=name,
        full_name=full_name.strip()[:200],
        role=checked.value,
        client_code=client,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


def end_sessions(session: Session, user: User) -> None:
    """Log the account out everywhere."""
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def set_password(session: Session, user: User, password: str, now: datetime) -> None:
    """Change the password (not committed); every session of the account ends."""
    problem = weak(password)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    end_sessions(session, user)


def set_active(session: Session, user: User, active: bool) -> None:
    """Enable or disable an account (not committed); disabling ends its sessions."""
    user.active = active
    if not active:
        end_sessions(session, user)


def check_login(session: Session, username: str, password: str) -> User | None:
    """The active account these credentials belong to, or None (same work either way)."""
    try:
        user = find_user(session, normalise_username(username))
    except AccountError:
        user = None
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def user_record(user: User) -> dict[str, Any]:
    """What the audit log keeps of an account (never the hash)."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "client_code": user.client_code,
        "active": user.active,
    }
