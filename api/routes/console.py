"""The operator console: `/operator` (the scale house's page) and its live weight stream.

`GET /api/v1/scales/{scale}/live` is a server-sent event stream (`text/event-stream`):

    event: broker   {"connected": true}                       the API's broker link, on change
    event: edge     {"online": true, "fault": "", "ts": ...}  the scale's edge process (retained)
    event: weight   {"weight_kg": 14560, "stable": true, "overload": false, "ts": ...}
    event: event    {"id", "event": "left_before_capture", "weight_kg", "detail", "ts"}
    event: capture  {"ids": [...]}                            ingest stored these captures

A new stream gets the broker's state, the edge's and the last (retained) weight first. The
browser's EventSource reconnects by itself (``retry``), and FastAPI sends a keep-alive comment
when nothing else went for a while, so a dead link is noticed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy import select

from api.auth.access import READ_CAPTURES, Caller, require_page
from api.auth.roles import Role
from api.db import Scale
from api.deps import SessionDep, SettingsDep, SiteDep
from api.live import LiveHub, Update
from api.templating import page, page_language, texts_json
from landfill.names import NAME_PATTERN

__all__ = ["CONSOLE_ROLES", "PAGE_CONSOLE", "router"]

router = APIRouter(tags=["operator console"])

# who works at the scale house: the operator, the shift's supervisor, an administrator
CONSOLE_ROLES = frozenset({Role.operator, Role.supervisor, Role.admin})
PAGE_CONSOLE = require_page(*sorted(CONSOLE_ROLES))
RETRY_MS = 1000  # how soon a browser reconnects a stream that broke


@router.get("/operator", response_class=HTMLResponse, include_in_schema=False)
def operator_page(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    site: SiteDep,
    caller: Annotated[Caller, Depends(PAGE_CONSOLE)],
) -> HTMLResponse:
    """The operator console: live weight, vehicles on site, weigh in and out, print."""
    scales = session.scalars(select(Scale.code).where(Scale.site_id == site.id).order_by(Scale.id))
    return page(
        request,
        settings,
        "operator.html",
        texts_json=texts_json(page_language(request, settings)),
        timezone=settings.timezone,
        caller=caller,
        scales=list(scales),
        capture_minutes=settings.ticket_capture_max_age_minutes,
        supervises=caller.role in (Role.supervisor, Role.admin),
    )


def registered_scale(
    scale: Annotated[str, Path(pattern=NAME_PATTERN, max_length=64)],
    session: SessionDep,
    site: SiteDep,
) -> str:
    """The scale of the path if the site has it (404 otherwise); the SQL work ends here."""
    found = session.scalar(select(Scale.id).where(Scale.site_id == site.id, Scale.code == scale))
    session.close()  # a stream lasts hours: it must not hold a database connection
    if found is None:
        raise HTTPException(404, f"scale {scale} is not registered at this site")
    return scale


def _event(update: Update) -> ServerSentEvent:
    return ServerSentEvent(event=update.kind, data=update.data)


@router.get(
    "/api/v1/scales/{scale}/live",
    response_class=EventSourceResponse,
    dependencies=[Depends(READ_CAPTURES)],
)
async def live_weight(
    request: Request, scale: Annotated[str, Depends(registered_scale)]
) -> AsyncIterator[ServerSentEvent]:
    """The scale's live weight, its events and new captures as server-sent events."""
    hub: LiveHub = request.app.state.live
    subscription = hub.subscribe(scale, asyncio.get_running_loop())
    try:
        yield ServerSentEvent(comment="live weight", retry=RETRY_MS)
        for update in hub.snapshot(scale):
            yield _event(update)
        while True:
            yield _event(await subscription.get())
    finally:
        hub.unsubscribe(subscription)
