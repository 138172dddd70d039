"""Who is calling, and the one dependency per role set that every route declares.

`require(roles)` answers 401 without a login or token, 403 for a role outside the set, and
403 for a session's state-changing request without its CSRF token. `require_page(roles)` does
the same for pages, but sends the browser to the login page or shows a page saying no.
The caller is taken from the login; nothing in a request body says who did something.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.auth import roles as role_sets
from api.auth.audit import Actor
from api.auth.roles import Role
from api.auth.sessions import CSRF_HEADER, SESSION_COOKIE, same_token, session_for
from api.auth.tokens import token_for, touch
from api.deps import NowDep, SessionDep, SettingsDep
from api.templating import page
from landfill.settings import ApiSettings

__all__ = [
    "ACT_DISPATCH",
    "ANYONE",
    "EDIT_CONTAINERS",
    "EDIT_SCALES",
    "EDIT_WEIGHBRIDGE",
    "ISSUE_TICKETS",
    "MANAGE_ACCESS",
    "PAGE_ANYONE",
    "PAGE_DEAD_LETTERS",
    "PAGE_DISPATCH",
    "PAGE_INFLOW",
    "READ_CAPTURES",
    "READ_CONTAINERS",
    "READ_DEAD_LETTERS",
    "READ_DISPATCH",
    "READ_INFLOW",
    "READ_REGISTRY",
    "READ_SECURITY",
    "READ_TICKETS",
    "REGISTER_CONTAINERS",
    "SUPERVISE_TICKETS",
    "Caller",
    "LoginRequired",
    "PageRefused",
    "identify",
    "install",
    "require",
    "require_page",
    "READ_BILLING",
    "ACT_BILLING",
    "CLIENT_PORTAL",
    "PAGE_BILLING",
    "PAGE_PORTAL",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# shown in the OpenAPI document (Swagger's "Authorize"); the checks below do the work
_BEARER = HTTPBearer(auto_error=False, description="an API token: Authorization: Bearer lft_...")
_COOKIE = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="a login session")
BearerScheme = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
CookieScheme = Annotated[str | None, Depends(_COOKIE)]


@dataclass(frozen=True)
class Caller:
    """The account or token behind a request, and the request's time and address."""

    kind: str  # user | token
    name: str  # username or token name
    display: str  # the name shown as who did something
    role: Role
    client_code: str | None
    address: str
    at: datetime
    csrf_token: str | None  # a session's; None for a token

    @property
    def actor(self) -> Actor:
        """Who this is in the audit log."""
        name = self.name if self.kind == "user" else f"token:{self.name}"
        return Actor(name, self.kind, self.role.value, self.address)


class LoginRequired(Exception):
    """A page was asked for without a login."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class PageRefused(Exception):
    """A page the caller's role may not open."""

    def __init__(self, caller: Caller) -> None:
        super().__init__(caller.name)
        self.caller = caller


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def identify(
    request: Request, session: Session, settings: ApiSettings, now: datetime
) -> Caller | None:
    """The caller from a Bearer token or the session cookie; None for nobody, 401 on bad tokens."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        token = token_for(session, secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise _unauthorized("unknown or revoked token; send Authorization: Bearer <token>")
        if touch(token, now):
            session.commit()
        role = Role(token.role)
        return Caller(
            "token", token.name, token.name, role, token.client_code, _address(request), now, None
        )
    found = session_for(session, request.cookies.get(SESSION_COOKIE, ""), now, settings)
    if found is None:
        return None
    row, user = found
    return Caller(
        "user",
        user.username,
        user.display_name,
        Role(user.role),
        user.client_code,
        _address(request),
        now,
        row.csrf_token,
    )


def _check_csrf(request: Request, caller: Caller) -> None:
    if request.method in SAFE_METHODS or caller.csrf_token is None:
        return
    if not same_token(caller.csrf_token, request.headers.get(CSRF_HEADER)):
        raise HTTPException(403, "CSRF token missing or wrong; reload the page")


@cache
def require(*roles: Role) -> Callable[..., Caller]:
    """The dependency that lets only these roles call a route (one per role set)."""
    allowed = frozenset(roles)

    def dependency(
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        now: NowDep,
        _bearer: BearerScheme = None,
        _cookie: CookieScheme = None,
    ) -> Caller:
        caller = identify(request, session, settings, now)
        if caller is None:
            raise _unauthorized("log in, or send Authorization: Bearer <token>")
        _check_csrf(request, caller)
        if caller.role not in allowed:
            raise HTTPException(403, f"the {caller.role} role may not do this")
        return caller

    dependency.roles = allowed  # type: ignore[attr-defined]
    return dependency


@cache
def require_page(*roles: Role) -> Callable[..., Caller]:
    """The dependency of a page: no login goes to the login page, another role sees a no."""
    allowed = frozenset(roles)

    def dependency(
        request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
    ) -> Caller:
        caller = identify(request, session, settings, now)
        if caller is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(target)
        _check_csrf(request, caller)
        if caller.role not in allowed:
            raise PageRefused(caller)
        return caller

    dependency.roles = allowed  # type: ignore[attr-defined]
    return dependency


# one dependency per role set; a route says which with dependencies=[Depends(READ_...)]
ANYONE = require(*sorted(role_sets.ANYONE))
READ_CAPTURES = require(*sorted(role_sets.READ_CAPTURES))
READ_REGISTRY = require(*sorted(role_sets.READ_REGISTRY))
EDIT_SCALES = require(*sorted(role_sets.EDIT_SCALES))
EDIT_WEIGHBRIDGE = require(*sorted(role_sets.EDIT_WEIGHBRIDGE))
READ_TICKETS = require(*sorted(role_sets.READ_TICKETS))
ISSUE_TICKETS = require(*sorted(role_sets.ISSUE_TICKETS))
SUPERVISE_TICKETS = require(*sorted(role_sets.SUPERVISE_TICKETS))
READ_CONTAINERS = require(*sorted(role_sets.READ_CONTAINERS))
EDIT_CONTAINERS = require(*sorted(role_sets.EDIT_CONTAINERS))
REGISTER_CONTAINERS = require(*sorted(role_sets.REGISTER_CONTAINERS))
READ_DISPATCH = require(*sorted(role_sets.READ_DISPATCH))
ACT_DISPATCH = require(*sorted(role_sets.ACT_DISPATCH))
READ_SECURITY = require(*sorted(role_sets.READ_SECURITY))
MANAGE_ACCESS = require(*sorted(role_sets.MANAGE_ACCESS))
PAGE_ANYONE = require_page(*sorted(role_sets.ANYONE))
PAGE_DISPATCH = require_page(*sorted(role_sets.READ_DISPATCH))
READ_DEAD_LETTERS = require(*sorted(role_sets.READ_DEAD_LETTERS))
PAGE_DEAD_LETTERS = require_page(*sorted(role_sets.READ_DEAD_LETTERS))
READ_BILLING = require(*sorted(role_sets.READ_BILLING))
ACT_BILLING = require(*sorted(role_sets.ACT_BILLING))
CLIENT_PORTAL = require(*sorted(role_sets.CLIENT_PORTAL))
PAGE_BILLING = require_page(*sorted(role_sets.READ_BILLING))
PAGE_PORTAL = require_page(*sorted(role_sets.CLIENT_PORTAL))
READ_INFLOW = require(*sorted(role_sets.READ_INFLOW))
PAGE_INFLOW = require_page(*sorted(role_sets.READ_INFLOW))


def install(app: FastAPI) -> None:
    """Register how pages answer a missing login (to the login page) and a refused role."""

    async def login_required(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/login?next={quote(exc.path, safe='')}", status_code=303)

    async def page_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageRefused)
        settings: ApiSettings = request.app.state.settings
        # who is logged in, with the logout button: the way to another account
        return page(request, settings, "refused.html", 403, caller=exc.caller)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageRefused, page_refused)
