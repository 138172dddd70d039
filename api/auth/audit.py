"""The audit log: every state change with who (from the login), when, what, before, after.

A row is added in the same transaction as the change it records, so there is no change
without its row and no row for a change that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.models import AuditEntry

__all__ = ["Actor", "entries", "record"]


@dataclass(frozen=True)
class Actor:
    """Who did it: a user, a token, the command line, or the system."""

    name: str
    kind: str  # user | token | cli | system
    role: str | None = None
    address: str = ""


def record(
    session: Session,
    actor: Actor,
    at: datetime,
    action: str,
    target: str = "",
    *,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Add an audit row (committed with the change)."""
    row = AuditEntry(
        at=at,
        actor=actor.name[:100],
        actor_kind=actor.kind,
        role=actor.role,
        action=action,
        target=target[:200],
        before=before,
        after=after,
        address=actor.address[:64],
    )
    session.add(row)
    return row


def entries(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Audit rows newest first, filtered."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action is not None:
        # "container." matches every container action
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    return list(session.scalars(stmt))
