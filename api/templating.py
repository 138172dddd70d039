"""Rendering the API's pages: one Jinja environment, the language of a request, common context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.i18n import catalogue, pick_language
from landfill.language import LANGUAGES, Language
from landfill.settings import ApiSettings

__all__ = ["LANG_COOKIE_S", "TEMPLATES", "page", "page_language", "texts_json"]

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
LANG_COOKIE_S = 365 * 86400


def page_language(request: Request, settings: ApiSettings) -> Language:
    """The language of a page: ?lang=, the lang cookie, Accept-Language, the default."""
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get("lang"),
        request.headers.get("accept-language"),
        settings.default_language,
    )


def texts_json(lang: Language) -> str:
    """The catalogue as JSON for a <script> element ("<" escaped so no text closes it)."""
    return json.dumps(catalogue(lang), ensure_ascii=False).replace("<", "\\u003c")


def page(
    request: Request,
    settings: ApiSettings,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page in the request's language; ``?lang=`` is remembered in a cookie."""
    lang = page_language(request, settings)
    html = TEMPLATES.get_template(template).render(
        lang=lang,
        t=catalogue(lang),
        languages=[(code, catalogue(code)["lang.name"]) for code in LANGUAGES],
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    asked = request.query_params.get("lang")
    if asked is not None and asked[:2].lower() in LANGUAGES:
        response.set_cookie("lang", lang, max_age=LANG_COOKIE_S, samesite="lax")
    return response
