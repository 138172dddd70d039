"""API tokens for machines and integrations: shown once, stored as SHA-256, revocable.

A token is `lft_` and 43 characters of a 256-bit random value, so a fast hash cannot be
searched back (unlike a password a person picks). The prefix is kept to tell tokens apart.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.models import ApiToken
from api.auth.users import AccountError, aware, check_role

__all__ = ["PREFIX", "create_token", "digest", "revoke", "token_for", "token_record", "touch"]

PREFIX = "lft_"
TOKEN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
TOUCH_EVERY = timedelta(seconds=60)  # last-used time to the minute: no write per request


def digest(secret: str) -> str:
    """SHA-256 hex of a token or session key: what is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    name: str,
    role: str,
    created_by: str,
    now: datetime,
    *,
    client_code: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token (not committed) and its secret, which is not stored and shown only now."""
    if not TOKEN_NAME.match(name):
        raise AccountError("a token name has 1-64 of letters, digits and ._:-")
    checked, client = check_role(role, client_code)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=digest(secret),
        prefix=secret[:10],
        role=checked.value,
        client_code=client,
        created_by=created_by,
        created_at=now,
    )
    session.add(token)
    session.flush()
    return token, secret


def token_for(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret, or None."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    return session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest(secret), ApiToken.revoked_at.is_(None))
    )


def touch(token: ApiToken, now: datetime) -> bool:
    """Note the use; True when the row changed and needs a commit."""
    if token.last_used_at is None or now - aware(token.last_used_at) >= TOUCH_EVERY:
        token.last_used_at = now
        return True
    return False


def revoke(token: ApiToken, now: datetime) -> None:
    """Revoke (not committed); refuses a token already revoked."""
    if token.revoked_at is not None:
        raise AccountError("token already revoked")
    token.revoked_at = now


def token_record(token: ApiToken) -> dict[str, Any]:
    """What the audit log keeps of a token (never the secret or its hash)."""
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "role": token.role,
        "client_code": token.client_code,
        "revoked": token.revoked_at is not None,
    }
