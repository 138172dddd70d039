"""Login, logout, the home page (the pages a role may use) and `GET /api/v1/auth/me`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from api.auth import roles
from api.auth.access import ANYONE, PAGE_ANYONE, Caller, identify
from api.auth.audit import Actor, record
from api.auth.limits import clear_failures, record_failure, retry_after
from api.auth.roles import Role
from api.auth.sessions import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    clear_session_cookie,
    end_session,
    new_csrf_token,
    same_token,
    secure_cookies,
    set_session_cookie,
    start_session,
)
from api.auth.users import check_login, user_record
from api.deps import NowDep, SessionDep, SettingsDep
from api.i18n import translate
from api.routes.console import CONSOLE_ROLES
from api.templating import page, page_language
from landfill.settings import ApiSettings

router = APIRouter(tags=["auth"])
log = logging.getLogger("landfill.api.auth")


@dataclass(frozen=True)
class Page:
    """A page on the home page, and the roles that see it."""

    path: str
    title: str
    note: str
    roles: frozenset[Role]


PAGES = (
    Page("/operator", "page.operator", "page.operator_note", CONSOLE_ROLES),
    Page("/dispatch", "page.dispatch", "page.dispatch_note", roles.READ_DISPATCH),
    Page("/api/v1/audit", "page.audit", "page.audit_note", roles.READ_SECURITY),
    Page("/api/v1/tokens", "page.tokens", "page.tokens_note", roles.READ_SECURITY),
    Page(
        "/admin/dead-letters",
        "page.dead_letters",
        "page.dead_letters_note",
        roles.READ_DEAD_LETTERS,
    ),
    Page("/docs", "page.docs", "page.docs_note", roles.ANYONE),
    Page("/billing", "page.billing", "page.billing_note", roles.READ_BILLING),
    Page("/portal", "page.portal", "page.portal_note", roles.CLIENT_PORTAL),
    Page("/inflow", "page.inflow", "page.inflow_note", roles.READ_INFLOW),
    Page("/reports/council", "page.council", "page.council_note", roles.READ_INFLOW),
)


class MePublic(BaseModel):
    """Who is calling."""

    kind: str
    name: str
    display: str
    role: Role
    client_code: str | None


def _safe_next(target: str | None) -> str:
    # only a path on this site: "//host" and "/\\host" would leave it
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _login_page(
    request: Request,
    settings: ApiSettings,
    status_code: int = 200,
    *,
    next_path: str = "/",
    username: str = "",
    message: str = "",
    notice: str = "",
) -> HTMLResponse:
    """The login form with a fresh pre-session CSRF token (cookie and hidden field)."""
    token = new_csrf_token()
    response = page(
        request,
        settings,
        "login.html",
        status_code,
        csrf_token=token,
        next=next_path,
        username=username,
        message=message,
        notice=notice,
        caller=None,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request, settings),
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(
    request: Request,
    settings: SettingsDep,
    next_path: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    signed_out: Annotated[bool, Query(alias="signed_out")] = False,
) -> HTMLResponse:
    """The login page (open to everyone)."""
    lang = page_language(request, settings)
    notice = translate(lang, "login.signed_out") if signed_out else ""
    return _login_page(request, settings, next_path=_safe_next(next_path), notice=notice)


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=500)] = "/",
) -> Response:
    """Check the form's CSRF token, the rate limits, then the password; start a session."""
    lang = page_language(request, settings)
    target = _safe_next(next_path)
    name = username.strip().lower()
    address = request.client.host if request.client else ""

    def again(status: int, key: str, **values: object) -> HTMLResponse:
        text = translate(lang, key, **values)
        return _login_page(request, settings, status, next_path=target, username=name, message=text)

    if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return again(403, "login.expired")
    wait = retry_after(session, name, address, now, settings)
    if wait is not None:
        log.warning("login refused for %r from %s: too many failures", name, address)
        response = again(429, "login.too_many", minutes=(wait + 59) // 60)
        response.headers["Retry-After"] = str(wait)
        return response
    user = check_login(session, name, password)
    if user is None:
        record_failure(session, name, address, now, settings)
        record(session, Actor(name or "?", "anonymous", None, address), now, "auth.login_failed")
        session.commit()
        return again(401, "login.failed")
    clear_failures(session, user.username)
    user.last_login_at = now
    _, key = start_session(session, user, address, now)
    actor = Actor(user.username, "user", user.role, address)
    record(session, actor, now, "auth.login", user.username, after=user_record(user))
    session.commit()
    done = RedirectResponse(target, status_code=303)
    set_session_cookie(done, key, secure_cookies(request, settings))
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return done


@router.post("/logout", include_in_schema=False)
def logout(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    """End this browser's session (the form carries the session's CSRF token)."""
    response = RedirectResponse("/login?signed_out=true", status_code=303)
    caller = identify(request, session, settings, now)
    if caller is None or caller.kind != "user":
        return RedirectResponse("/login", status_code=303)
    if not same_token(caller.csrf_token, csrf_token):
        return RedirectResponse("/", status_code=303)
    end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    record(session, caller.actor, now, "auth.logout", caller.name)
    session.commit()
    clear_session_cookie(response, secure_cookies(request, settings))
    return response


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(
    request: Request, settings: SettingsDep, caller: Annotated[Caller, Depends(PAGE_ANYONE)]
) -> HTMLResponse:
    """The pages the caller's role may use."""
    pages = [p for p in PAGES if caller.role in p.roles]
    return page(request, settings, "home.html", caller=caller, pages=pages)


@router.get("/api/v1/auth/me", response_model=MePublic)
def me(caller: Annotated[Caller, Depends(ANYONE)]) -> MePublic:
    """The account or token of this request."""
    return MePublic(
        kind=caller.kind,
        name=caller.name,
        display=caller.display,
        role=caller.role,
        client_code=caller.client_code,
    )
