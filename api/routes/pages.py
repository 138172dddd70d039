"""Pages served by the API: `/dispatch` (the dispatcher's board). Every asset is local."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from api.auth import roles
from api.auth.access import PAGE_DISPATCH, Caller
from api.deps import SettingsDep
from api.templating import page, page_language, texts_json

router = APIRouter(tags=["pages"])


@router.get("/dispatch", response_class=HTMLResponse, include_in_schema=False)
def dispatch_page(
    request: Request,
    settings: SettingsDep,
    caller: Annotated[Caller, Depends(PAGE_DISPATCH)],
) -> HTMLResponse:
    """The dispatcher's board: map, list, alerts, emptyings, tomorrow's collection list."""
    return page(
        request,
        settings,
        "dispatch.html",
        texts_json=texts_json(page_language(request, settings)),
        timezone=settings.timezone,
        caller=caller,
        # an auditor sees the board but not the buttons (the API refuses them too)
        can_act=caller.role in roles.ACT_DISPATCH,
    )
