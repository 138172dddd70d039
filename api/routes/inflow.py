"""Landfill inflow: tonnage by day, week or month and by tag, capacity, CSV, and the page.

    GET /api/v1/inflow/tonnage    ?step=day|week|month&start=&end=&<filters>&format=json|csv
    GET /api/v1/inflow/breakdown  ?by=waste_type|zone|client|vehicle&start=&end=&<filters>&format=
    GET /api/v1/inflow/capacity   ?format=json|csv
    GET /inflow                   the page: the same figures, SVG charts, links to every CSV

Dates are local days in LANDFILL_TIMEZONE, both ends included; without them, the last twelve
months to today. Filters (waste_type, zone, client, vehicle) are tag values, bound as InfluxQL
parameters. Billing, supervisors, admins and auditors (the council's monitoring group) read.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth.access import PAGE_INFLOW, READ_INFLOW, Caller
from api.deps import InfluxDep, NowDep, SessionDep, SettingsDep, SiteDep
from api.i18n import catalogue
from api.inflow.capacity import capacity
from api.inflow.periods import Period, Step, add_months
from api.inflow.queries import Dimension, Filters, breakdown, tonnage
from api.inflow.tables import csv_response, tonnes
from api.inflow.view import bucket_label, draw, inflow_view, names_of, number, tonnes_text
from api.limits import Day
from api.templating import page, page_language

router = APIRouter(tags=["inflow"])
MAX_DAYS = 3700  # ten years and a bit: the longest period one request may ask for
Format = Annotated[Literal["json", "csv"], Query(alias="format", description="json or csv")]
TagValue = Annotated[str | None, Query(max_length=100, description="only this tag value")]


def inflow_query(
    settings: SettingsDep,
    now: NowDep,
    start: Annotated[Day | None, Query(description="first local day, YYYY-MM-DD")] = None,
    end: Annotated[Day | None, Query(description="last local day (included)")] = None,
    step: Step = "month",
    waste_type: TagValue = None,
    zone: TagValue = None,
    client: TagValue = None,
    vehicle: TagValue = None,
) -> tuple[Period, Step, Filters]:
    """The period (default: twelve months to today), the step and the filters of a request."""
    last = end or now.astimezone(settings.tz).date()
    first = start or add_months(last.replace(day=1), -11)
    if last < first:
        raise HTTPException(422, "end is before start")
    if (last - first).days + 1 > MAX_DAYS:
        raise HTTPException(422, f"a period is at most {MAX_DAYS} days")
    return Period(first, last), step, Filters(waste_type, zone, client, vehicle)


InflowQuery = Annotated[tuple[Period, Step, Filters], Depends(inflow_query)]


def _echo(query: tuple[Period, Step, Filters], tz: str) -> dict[str, Any]:
    period, step, filters = query
    return {
        "start": period.first,
        "end": period.last,
        "step": step,
        "timezone": tz,
        "filters": filters.params(),
    }


def _name(kind: str, site: str, period: Period, extra: str = "") -> str:
    return f"inflow-{kind}{extra}-{site}-{period.first}-{period.last}.csv"


@router.get("/api/v1/inflow/tonnage", dependencies=[Depends(READ_INFLOW)], response_model=None)
def inflow_tonnage(
    query: InflowQuery, influx: InfluxDep, settings: SettingsDep, fmt: Format = "json"
) -> dict[str, Any] | Response:
    """Net tonnage and tickets per local day, week (from Monday) or month; voids count 0."""
    period, step, filters = query
    rows = tonnage(influx, settings.site, period, step, settings.tz, filters)
    if fmt == "csv":
        body = [(bucket_label(r.start, step), r.net_kg, tonnes(r.net_kg), r.tickets) for r in rows]
        header = (step, "net_kg", "net_t", "tickets")
        return csv_response(_name(step, settings.site, period), header, body)
    data = [asdict(r) for r in rows]
    totals = {"net_kg": sum(r.net_kg for r in rows), "tickets": sum(r.tickets for r in rows)}
    return _echo(query, settings.timezone) | {"data": data, "total": totals}


@router.get("/api/v1/inflow/breakdown", dependencies=[Depends(READ_INFLOW)], response_model=None)
def inflow_breakdown(
    query: InflowQuery,
    influx: InfluxDep,
    settings: SettingsDep,
    by: Dimension = "waste_type",
    fmt: Format = "json",
) -> dict[str, Any] | Response:
    """Net tonnage and tickets per waste type, zone, client or vehicle, heaviest first."""
    period, _, filters = query
    rows = breakdown(influx, settings.site, period, by, settings.tz, filters)
    total = sum(r.net_kg for r in rows) or 1
    if fmt == "csv":
        body = [
            (r.key, r.net_kg, tonnes(r.net_kg), r.tickets, round(100 * r.net_kg / total, 2))
            for r in rows
        ]
        header = (by, "net_kg", "net_t", "tickets", "share_pct")
        return csv_response(_name("by-", settings.site, period, by), header, body)
    data = [asdict(r) | {"share_pct": round(100 * r.net_kg / total, 2)} for r in rows]
    return _echo(query, settings.timezone) | {"by": by, "data": data}


@router.get("/api/v1/inflow/capacity", dependencies=[Depends(READ_INFLOW)], response_model=None)
def inflow_capacity(
    influx: InfluxDep, settings: SettingsDep, now: NowDep, fmt: Format = "json"
) -> dict[str, Any] | Response:
    """Remaining landfill capacity and the years left at the inflow of the last 365 days."""
    figures = asdict(capacity(influx, settings.site, settings, now, settings.tz))
    if fmt == "csv":
        rows = [(key, "" if value is None else value) for key, value in figures.items()]
        return csv_response(f"inflow-capacity-{settings.site}.csv", ("figure", "value"), rows)
    return figures


@router.get("/inflow", response_class=HTMLResponse, include_in_schema=False)
def inflow_page(
    caller: Annotated[Caller, Depends(PAGE_INFLOW)],  # first: no query runs for a refused caller
    request: Request,
    query: InflowQuery,
    influx: InfluxDep,
    session: SessionDep,
    site: SiteDep,
    settings: SettingsDep,
    now: NowDep,
) -> HTMLResponse:
    """The inflow page: the period's tonnage, its split by tag, capacity, charts and CSV links."""
    lang = page_language(request, settings)
    names = names_of(session, site.id, lang)
    view = inflow_view(influx, settings.site, settings, query, now, names)
    t = catalogue(lang)
    labels = {"series": t["inflow.chart_series"]} | {d: t[f"inflow.by.{d}"] for d in view.shares}
    period, step, filters = query
    params = {"start": period.first, "end": period.last, "step": step, **filters.params()}
    today = now.astimezone(settings.tz).date()

    def link(**changes: object) -> str:
        return "/inflow?" + urlencode(params | changes)

    return page(
        request,
        settings,
        "inflow.html",
        caller=caller,
        view=view,
        charts=draw(view, lang, labels),
        params=params,
        csv=_csv_links(params),
        timezone=settings.timezone,
        shortcuts=_shortcuts(today),
        link=link,
        unfiltered="/inflow?" + urlencode({k: params[k] for k in ("start", "end", "step")}),
        tonnes=lambda kg: tonnes_text(kg, lang),
        number=lambda value, decimals: number(value, decimals, lang),
        label=lambda day: bucket_label(day, step),
        percent=lambda part, whole: number(100 * part / whole if whole else 0, 1, lang),
    )


def _csv_links(params: dict[str, Any]) -> dict[str, str]:
    query = {k: str(v) for k, v in params.items()} | {"format": "csv"}
    links = {"series": "/api/v1/inflow/tonnage?" + urlencode(query)}
    for dim in ("waste_type", "zone", "client", "vehicle"):
        links[dim] = "/api/v1/inflow/breakdown?" + urlencode(query | {"by": dim})
    links["capacity"] = "/api/v1/inflow/capacity?format=csv"
    return links


def _shortcuts(today: date) -> dict[str, dict[str, str]]:
    """Periods one click away: this month by day, twelve months by month, 13 weeks by week."""
    month = today.replace(day=1)
    return {
        "month": {"start": str(month), "end": str(today), "step": "day"},
        "weeks": {"start": str(today - timedelta(weeks=13)), "end": str(today), "step": "week"},
        "year": {"start": str(add_months(month, -11)), "end": str(today), "step": "month"},
    }
