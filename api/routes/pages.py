"""Pages served by the API: `/dispatch` (the dispatcher's board). Every asset is local."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Header, Query
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.auth import roles
from api.auth.access import PAGE_DISPATCH, Caller
from api.deps import SettingsDep
from api.i18n import LANGUAGES, catalogue, pick_language

router = APIRouter(tags=["pages"])
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
LANG_COOKIE_S = 365 * 86400


@router.get("/dispatch", response_class=HTMLResponse, include_in_schema=False)
def dispatch_page(
    settings: SettingsDep,
    caller: Annotated[Caller, Depends(PAGE_DISPATCH)],
    lang: Annotated[str | None, Query(max_length=8)] = None,
    lang_cookie: Annotated[str | None, Cookie(alias="lang")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    """The dispatcher's board: map, list, alerts, emptyings, tomorrow's collection list."""
    chosen = pick_language(lang, lang_cookie, accept_language, settings.default_language)
    texts = catalogue(chosen)
    # JSON inside <script>: "<" escaped so no text can close the element
    texts_json = json.dumps(texts, ensure_ascii=False).replace("<", "\\u003c")
    html = TEMPLATES.get_template("dispatch.html").render(
        lang=chosen,
        t=texts,
        texts_json=texts_json,
        languages=[(code, catalogue(code)["lang.name"]) for code in LANGUAGES],
        timezone=settings.timezone,
        caller=caller,
        # an auditor sees the board but not the buttons (the API refuses them too)
        can_act=caller.role in roles.ACT_DISPATCH,
    )
    response = HTMLResponse(html)
    if lang is not None and lang[:2].lower() in LANGUAGES:
        response.set_cookie("lang", chosen, max_age=LANG_COOKIE_S, samesite="lax")
    return response
