"""The village council's monthly monitoring report: print page, PDF, JSON and CSV.

    GET /reports/council               ?month=YYYY-MM&lang=ky|ru|en   the page to print
    GET /api/v1/reports/council        ?month=&format=json|csv&table=indicators|trend|settlements
    GET /api/v1/reports/council/pdf    ?month=&lang=                  A4, DejaVu Sans

Without a month: the month before this one (the group meets after a month has ended). The
same role set as the inflow page reads it; the council's monitoring group has auditor logins.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Cookie, Depends, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.auth.access import PAGE_INFLOW, READ_INFLOW, Caller
from api.billing.revenue import billed_revenue
from api.db import Site
from api.deps import InfluxDep, NowDep, SessionDep, SettingsDep, SiteDep
from api.i18n import pick_language
from api.inflow.charts import Bar, bar_chart
from api.inflow.council import CouncilReport, MonthFigures, Revenue, council_report
from api.inflow.council_pdf import council_pdf
from api.inflow.council_sheet import council_sheet
from api.inflow.periods import add_months, parse_month
from api.inflow.tables import csv_response, tonnes
from api.inflow.view import number
from api.templating import page, page_language
from landfill.language import Language

router = APIRouter(tags=["council"])
MonthText = Annotated[
    str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; default: last month")
]


def report_month(settings: SettingsDep, now: NowDep, month: MonthText = None) -> date:
    """The first day of the asked month, or of the month before this one."""
    if month is None:
        return add_months(now.astimezone(settings.tz).date().replace(day=1), -1)
    try:
        first = parse_month(month)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if not 1970 <= first.year < 2100:
        raise HTTPException(422, "the month must lie from 1970 to 2099")
    return first


MonthDep = Annotated[date, Depends(report_month)]


def _language(
    settings: SettingsDep,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    lang_cookie: Annotated[str | None, Cookie(alias="lang")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Language:
    return pick_language(lang, lang_cookie, accept_language, settings.default_language)


LanguageDep = Annotated[Language, Depends(_language)]


def revenue_of(session: Session, site: Site) -> Revenue:
    """Revenue billed to legal entities in local dates [first, end): billing's own figure."""

    def revenue(first: date, end: date) -> Decimal:
        return billed_revenue(session, site.id, first, end)

    return revenue


def _report(
    influx: InfluxDep, session: SessionDep, site: SiteDep, settings: SettingsDep, now: NowDep,
    month: MonthDep,
) -> CouncilReport:  # fmt: skip
    context = (settings.tz, now, revenue_of(session, site))
    return council_report(influx, session, site, month, context)


ReportDep = Annotated[CouncilReport, Depends(_report)]


def _figures(m: MonthFigures) -> dict[str, Any]:
    return {
        "month": m.period.first.strftime("%Y-%m"),
        "net_kg": m.net_kg,
        "tickets": m.tickets,
        "legal_kg": m.legal_kg,
        "legal_tickets": m.legal_tickets,
        "revenue": None if m.revenue is None else str(m.revenue),
        "collections": m.collections,
        "before_full": m.before_full,
        "before_full_pct": m.before_full_pct,
        "overflow_hours": m.overflow_hours,
        "overflow_containers": m.overflow_containers,
        "scheduled": m.scheduled,
        "on_schedule": m.on_schedule,
        "on_schedule_pct": m.on_schedule_pct,
        "settlements": [
            {
                "settlement": s.settlement,
                "containers": s.containers,
                "scheduled": s.scheduled,
                "on_schedule": s.on_schedule,
                "other_days": s.other_days,
                "share_pct": s.share_pct,
            }
            for s in m.settlements
        ],
    }


def _csv(report: CouncilReport, table: str) -> Response:
    month = report.month.period.first.strftime("%Y-%m")
    name = f"council-{table}-{report.site}-{month}.csv"
    if table == "trend":
        rows = [
            (t.start.strftime("%Y-%m"), t.net_kg, tonnes(t.net_kg), t.tickets) for t in report.trend
        ]
        return csv_response(name, ("month", "net_kg", "net_t", "tickets"), rows)
    if table == "settlements":
        head = ("settlement", "containers", "scheduled", "on_schedule", "other_days", "share_pct")
        settled = [[s[k] for k in head] for s in _figures(report.month)["settlements"]]
        return csv_response(name, head, settled)
    now, before = _figures(report.month), _figures(report.previous)
    keys = [k for k in now if k not in ("month", "settlements")]
    body = [(k, now[k], before[k]) for k in keys]
    return csv_response(name, ("indicator", now["month"], before["month"]), body)


@router.get("/api/v1/reports/council", dependencies=[Depends(READ_INFLOW)], response_model=None)
def council_data(
    report: ReportDep,
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    table: Literal["indicators", "trend", "settlements"] = "indicators",
) -> dict[str, Any] | Response:
    """The month's indicators, the month before, and six months of tonnage."""
    if fmt == "csv":
        return _csv(report, table)
    return {
        "site": report.site,
        "timezone": report.timezone,
        "month": _figures(report.month),
        "previous": _figures(report.previous),
        "change_pct": report.change_pct,
        "change_avg3_pct": report.change_avg3_pct,
        "trend": [
            {"month": t.start.strftime("%Y-%m"), "net_kg": t.net_kg, "tickets": t.tickets}
            for t in report.trend
        ],
        "generated_at": report.generated_at,
    }


@router.get(
    "/api/v1/reports/council/pdf", dependencies=[Depends(READ_INFLOW)], response_class=Response
)
def council_pdf_file(report: ReportDep, lang: LanguageDep) -> Response:
    """The report as an A4 PDF in the asked language (Kyrgyz by default)."""
    month = report.month.period.first.strftime("%Y-%m")
    return Response(
        council_pdf(council_sheet(report, lang)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="council-{report.site}-{month}.pdf"'},
    )


@router.get("/reports/council", response_class=HTMLResponse, include_in_schema=False)
def council_page(
    caller: Annotated[Caller, Depends(PAGE_INFLOW)],  # first: no query runs for a refused caller
    request: Request,
    settings: SettingsDep,
    report: ReportDep,
) -> HTMLResponse:
    """The report as a page to print, with links to its PDF and CSV."""
    lang = page_language(request, settings)
    sheet = council_sheet(report, lang)
    bars = [
        Bar(t.start.strftime("%Y-%m"), label, value)
        for t, (label, value, _) in zip(report.trend, sheet.trend, strict=True)
    ]
    chart = bar_chart(
        bars, label=sheet.trend_title, fmt=lambda v: number(v, 1, lang), width=640, height=200
    )
    return page(
        request,
        settings,
        "council.html",
        caller=caller,
        sheet=sheet,
        report=report,
        month=report.month.period.first.strftime("%Y-%m"),
        chart=chart,
    )
