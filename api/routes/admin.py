"""Access administration: `/api/v1/tokens` (admin creates and revokes), `/api/v1/users` and
`/api/v1/audit` (admins and auditors read)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.auth.access import MANAGE_ACCESS, READ_SECURITY, Caller
from api.auth.audit import entries, record
from api.auth.models import ApiToken, AuditEntry, User
from api.auth.roles import Role
from api.auth.tokens import create_token, revoke, token_record
from api.auth.users import AccountError, aware
from api.deps import SessionDep

router = APIRouter(prefix="/api/v1", tags=["access"])


class TokenCreate(BaseModel):
    """A new machine token: a name to tell it apart, a role, and a client for a client's."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    role: Role
    client_code: str | None = Field(None, max_length=64)


class TokenPublic(BaseModel):
    """A token as listed: never its secret."""

    id: int
    name: str
    prefix: str
    role: str
    client_code: str | None
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedPublic(TokenPublic):
    """A new token with its secret, shown this once."""

    token: str


class UserPublic(BaseModel):
    """An account as listed: never its password hash."""

    username: str
    full_name: str
    role: str
    client_code: str | None
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class AuditPublic(BaseModel):
    """One audit row."""

    id: int
    at: datetime
    actor: str
    actor_kind: str
    role: str | None
    action: str
    target: str
    before: Any
    after: Any
    address: str


class AuditListPublic(BaseModel):
    """Audit rows, newest first."""

    data: list[AuditPublic]
    count: int


def _token_public(t: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=t.id,
        name=t.name,
        prefix=t.prefix,
        role=t.role,
        client_code=t.client_code,
        created_by=t.created_by,
        created_at=aware(t.created_at),
        last_used_at=aware(t.last_used_at) if t.last_used_at else None,
        revoked_at=aware(t.revoked_at) if t.revoked_at else None,
    )


@router.get("/tokens", response_model=list[TokenPublic], dependencies=[Depends(READ_SECURITY)])
def list_tokens(session: SessionDep) -> list[TokenPublic]:
    """Every token, revoked ones too, newest first."""
    rows = session.scalars(select(ApiToken).order_by(ApiToken.id.desc()))
    return [_token_public(t) for t in rows]


@router.post("/tokens", response_model=TokenCreatedPublic, status_code=201)
def new_token(
    body: TokenCreate, session: SessionDep, caller: Annotated[Caller, Depends(MANAGE_ACCESS)]
) -> TokenCreatedPublic:
    """Create a token; its secret is in this answer only and is stored as a hash."""
    try:
        token, secret = create_token(
            session,
            body.name,
            body.role,
            caller.actor.name,
            caller.at,
            client_code=body.client_code,
        )
    except AccountError as exc:
        raise HTTPException(422, str(exc)) from None
    record(session, caller.actor, caller.at, "token.create", token.name, after=token_record(token))
    session.commit()
    return TokenCreatedPublic(**_token_public(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
def revoke_token(
    token_id: Annotated[int, Path(ge=1)],
    session: SessionDep,
    caller: Annotated[Caller, Depends(MANAGE_ACCESS)],
) -> TokenPublic:
    """Revoke a token: it stops working at once; the row stays for the record."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise HTTPException(404, "token not found")
    before = token_record(token)
    try:
        revoke(token, caller.at)
    except AccountError as exc:
        raise HTTPException(409, str(exc)) from None
    record(
        session,
        caller.actor,
        caller.at,
        "token.revoke",
        token.name,
        before=before,
        after=token_record(token),
    )
    session.commit()
    return _token_public(token)


@router.get("/users", response_model=list[UserPublic], dependencies=[Depends(READ_SECURITY)])
def list_users(session: SessionDep) -> list[UserPublic]:
    """Every account (`landfill users` adds and changes them)."""
    return [
        UserPublic(
            username=u.username,
            full_name=u.full_name,
            role=u.role,
            client_code=u.client_code,
            active=u.active,
            created_at=aware(u.created_at),
            last_login_at=aware(u.last_login_at) if u.last_login_at else None,
        )
        for u in session.scalars(select(User).order_by(User.username))
    ]


@router.get("/audit", response_model=AuditListPublic, dependencies=[Depends(READ_SECURITY)])
def audit_log(
    session: SessionDep,
    since: Annotated[AwareDatetime | None, Query(description="ISO-8601 with zone")] = None,
    until: Annotated[AwareDatetime | None, Query()] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="an action or its start: container.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditListPublic:
    """Who changed what, when, with the state before and after; newest first."""
    rows = entries(session, since=since, until=until, actor=actor, action=action, limit=limit)
    data = [_audit_public(r) for r in rows]
    return AuditListPublic(data=data, count=len(data))


def _audit_public(r: AuditEntry) -> AuditPublic:
    return AuditPublic(
        id=r.id,
        at=aware(r.at),
        actor=r.actor,
        actor_kind=r.actor_kind,
        role=r.role,
        action=r.action,
        target=r.target,
        before=r.before,
        after=r.after,
        address=r.address,
    )
