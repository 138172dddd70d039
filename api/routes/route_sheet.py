"""The driver's route sheet: `GET /dispatch/route?date=YYYY-MM-DD`, a page to print on A4.

The same route as `GET /api/v1/dispatch/route` (default: tomorrow in LANDFILL_TIMEZONE), cut
into truck trips, with a date picker; the same roles as the dispatcher's board read it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.auth.access import PAGE_DISPATCH, Caller
from api.deps import InfluxDep, NowDep, SessionDep, SettingsDep, SiteDep
from api.limits import Day
from api.route_sheet import route_sheet
from api.routes.dispatch import day_route
from api.templating import page, page_language

router = APIRouter(tags=["pages"])


@router.get("/dispatch/route", response_class=HTMLResponse, include_in_schema=False)
def route_sheet_page(
    caller: Annotated[Caller, Depends(PAGE_DISPATCH)],  # first: no query for a refused caller
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    site: SiteDep,
    influx: InfluxDep,
    now: NowDep,
    day: Annotated[
        Day | None, Query(alias="date", description="YYYY-MM-DD, default tomorrow")
    ] = None,
) -> HTMLResponse:
    """A day's collection route as a sheet for the driver, with a date picker and Print."""
    lang = page_language(request, settings)
    route = day_route(session, settings, site, influx, now, day, lang)
    sheet = route_sheet(route, site.name or site.code, lang, now, settings.timezone)
    return page(request, settings, "route_sheet.html", caller=caller, sheet=sheet)
