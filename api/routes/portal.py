"""The client portal: `/api/v1/portal/...` and the page `/portal`, for the client role only.

Whose data is shown comes from the login alone: the account's (or token's) client code. No
route takes a client as a parameter, and every query filters by that client's id, so another
client's ticket or invoice id answers 404 like one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.access import CLIENT_PORTAL, PAGE_PORTAL, Caller
from api.billing.documents import load_document
from api.billing.schemas import MONTH_PATTERN, InvoicePublic, StatementPublic, invoice_public
from api.billing.schemas import statement_public as public_statement
from api.billing.statements import build_statement, month_bounds
from api.db import Site
from api.deps import NowDep, SessionDep, SettingsDep, SiteDep
from api.routes.billing import (
    default_month,
    get_invoice,
    list_documents,
    local_time,
    parse_month,
    pdf_response,
    rates_of,
)
from api.templating import page, page_language
from api.weighbridge.models import Client, Ticket
from api.weighbridge.numbering import number_text
from api.weighbridge.registry import as_utc

router = APIRouter(tags=["client portal"])
API = "/api/v1/portal"
Portal = Annotated[Caller, Depends(CLIENT_PORTAL)]
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM, local to the site")]


def own_client(session: Session, site: Site, caller: Caller) -> Client:
    """The caller's own client: 403 when the account is bound to none, 404 when it is unknown."""
    if not caller.client_code:
        raise HTTPException(403, "this account is not bound to a client")
    client = session.scalar(
        select(Client).where(Client.site_id == site.id, Client.code == caller.client_code)
    )
    if client is None:
        raise HTTPException(404, "this account's client is not registered")
    return client


class PortalTicket(BaseModel):
    """One of the client's own numbered tickets."""

    number: str
    status: str
    completed_at: datetime
    plate: str
    waste_type: str | None
    gross_kg: int | None
    tare_kg: int | None
    net_kg: int | None


def own_tickets(session: Session, site: Site, client: Client, month: str) -> list[PortalTicket]:
    """The client's completed and voided tickets of the month, oldest first."""
    start, end = month_bounds(parse_month(month), ZoneInfo(site.timezone))
    rows = session.scalars(
        select(Ticket)
        .where(
            Ticket.site_id == site.id,
            Ticket.client_id == client.id,
            Ticket.number.is_not(None),
            Ticket.completed_at >= start,
            Ticket.completed_at < end,
        )
        .order_by(Ticket.completed_at, Ticket.id)
    )
    return [
        PortalTicket(
            number=number_text(t.year, t.number) or "",
            status=t.status,
            completed_at=as_utc(t.completed_at),
            plate=t.plate,
            waste_type=t.waste_code,
            gross_kg=t.gross_kg,
            tare_kg=t.tare_kg,
            net_kg=t.net_kg,
        )
        for t in rows
    ]


@router.get(f"{API}/tickets", response_model=list[PortalTicket])
def portal_tickets(
    month: Month, session: SessionDep, site: SiteDep, caller: Portal
) -> list[PortalTicket]:
    """The caller's client's tickets of the month."""
    return own_tickets(session, site, own_client(session, site, caller), month)


@router.get(f"{API}/statements/{{month}}", response_model=StatementPublic)
def portal_statement(
    month: Annotated[str, Path(pattern=MONTH_PATTERN)],
    session: SessionDep,
    site: SiteDep,
    settings: SettingsDep,
    caller: Portal,
) -> StatementPublic:
    """The caller's client's statement of the month."""
    client = own_client(session, site, caller)
    built = build_statement(session, site, client, parse_month(month), rates_of(settings))
    return public_statement(built)


@router.get(f"{API}/invoices", response_model=list[InvoicePublic])
def portal_invoices(session: SessionDep, site: SiteDep, caller: Portal) -> list[InvoicePublic]:
    """The caller's client's invoices and credit notes, newest first."""
    client = own_client(session, site, caller)
    return list_documents(session, site, client.id, None, None, 1000)


@router.get(f"{API}/invoices/{{invoice_id}}", response_model=InvoicePublic)
def portal_invoice(
    invoice_id: int, session: SessionDep, site: SiteDep, caller: Portal
) -> InvoicePublic:
    """One of the caller's client's documents with its lines (another's: 404)."""
    client = own_client(session, site, caller)
    invoice = get_invoice(session, site, invoice_id, client.id)
    return invoice_public(load_document(session, invoice), with_lines=True)


@router.get(f"{API}/invoices/{{invoice_id}}/pdf", response_class=Response)
def portal_invoice_pdf(
    invoice_id: int,
    request: Request,
    session: SessionDep,
    site: SiteDep,
    settings: SettingsDep,
    caller: Portal,
) -> Response:
    """One of the caller's client's documents as a PDF in the page's language."""
    client = own_client(session, site, caller)
    invoice = get_invoice(session, site, invoice_id, client.id)
    return pdf_response(session, site, invoice, page_language(request, settings), settings)


@router.get("/portal", response_class=HTMLResponse, include_in_schema=False)
def portal_page(
    request: Request,
    session: SessionDep,
    site: SiteDep,
    settings: SettingsDep,
    now: NowDep,
    caller: Annotated[Caller, Depends(PAGE_PORTAL)],
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
) -> HTMLResponse:
    """The client's own page: the month's tickets and statement, and every invoice."""
    tz = ZoneInfo(site.timezone)
    chosen = month or default_month(now.astimezone(tz).date())
    client = own_client(session, site, caller)
    built = build_statement(session, site, client, parse_month(chosen), rates_of(settings))
    return page(
        request,
        settings,
        "portal.html",
        caller=caller,
        month=chosen,
        client=client,
        statement=public_statement(built),
        tickets=own_tickets(session, site, client, chosen),
        documents=list_documents(session, site, client.id, None, None, 1000),
        local=partial(local_time, tz=tz),
    )
