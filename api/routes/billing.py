"""Billing: `/api/v1/billing/...` (tariffs, statements, invoices, credit notes, runs,
reconciliation) and the accountant's page `/billing`.

Reading is for the billing, admin and auditor roles; changing for billing and admin. An
invoice, once issued, has no route that changes or deletes it (the database refuses too); a
credit note cancels it. Refusals answer ``{"code", "detail", "values"}`` in the request's
language (`api/billing/refusals.py`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import roles
from api.auth.access import ACT_BILLING, PAGE_BILLING, READ_BILLING, Caller
from api.auth.audit import record
from api.billing.documents import (
    Seller,
    document_csv,
    document_pdf,
    esf_xml,
    load_document,
    statement_csv,
)
from api.billing.invoices import credit_invoice, invoice_run, issue_invoice
from api.billing.models import Invoice, InvoiceLine, Tariff
from api.billing.reconcile import DayCheck, reconcile, repair_day
from api.billing.refusals import BillingRefusal
from api.billing.schemas import (
    MONTH_PATTERN,
    InvoicePublic,
    StatementPublic,
    TariffPublic,
    invoice_public,
    statement_public,
    tariff_public,
)
from api.billing.statements import Rates, build_statement
from api.billing.tariffs import TariffFields, overlapping
from api.container_registry import first_error
from api.db import Site
from api.deps import InfluxDep, MqttDep, NowDep, SessionDep, SettingsDep, SiteDep
from api.i18n import translate
from api.templating import page, page_language, texts_json
from api.weighbridge.models import Client, WasteType
from landfill.contract import utcnow
from landfill.influx import QueryError
from landfill.language import Language
from landfill.names import NAME_PATTERN
from landfill.settings import ApiSettings

router = APIRouter(tags=["billing"])
API = "/api/v1/billing"
Reader = [Depends(READ_BILLING)]
Accountant = Annotated[Caller, Depends(ACT_BILLING)]
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM, local to the site")]
Lang = Annotated[Literal["ky", "ru", "en"] | None, Query()]


def rates_of(settings: ApiSettings) -> Rates:
    """The tax rates of the settings."""
    return Rates(settings.billing_vat_pct, settings.billing_sales_tax_pct)


def seller_of(settings: ApiSettings, lang: Language) -> Seller:
    """The enterprise on invoices."""
    name = translate(lang, "app.enterprise")
    return Seller(name, settings.billing_seller_inn, settings.billing_seller_account)


def parse_month(text: str) -> date:
    """``2026-03`` as the first day of that month."""
    return date(int(text[:4]), int(text[5:7]), 1)


def _lang(request: Request, settings: ApiSettings, lang: str | None) -> Language:
    return lang if lang in ("ky", "ru", "en") else page_language(request, settings)  # type: ignore[return-value]


# ---- tariffs ----------------------------------------------------------------------------------


def _get_tariff(session: Session, site: Site, code: str) -> Tariff:
    tariff = session.scalar(select(Tariff).where(Tariff.site_id == site.id, Tariff.code == code))
    if tariff is None:
        raise BillingRefusal("tariff_not_found", tariff=code)
    return tariff


def _apply(session: Session, site: Site, row: Tariff, body: TariffFields) -> None:
    client_id = waste_id = None
    if body.client:
        client = session.scalar(
            select(Client).where(Client.site_id == site.id, Client.code == body.client)
        )
        if client is None:
            raise BillingRefusal("client_unknown", client=body.client)
        client_id = client.id
    if body.waste_type:
        waste_id = session.scalar(
            select(WasteType.id).where(
                WasteType.site_id == site.id, WasteType.code == body.waste_type
            )
        )
        if waste_id is None:
            raise BillingRefusal("waste_unknown", waste=body.waste_type)
    values = body.model_dump(exclude={"client", "waste_type"})
    for key, value in (values | {"client_id": client_id, "waste_type_id": waste_id}).items():
        setattr(row, key, value)
    other = overlapping(session, row)
    if other is not None:
        raise BillingRefusal("tariff_overlap", tariff=body.code, other=other.code)


def _save(session: Session, code: str) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise BillingRefusal("tariff_exists", tariff=code) from None


@router.get(f"{API}/tariffs", response_model=list[TariffPublic], dependencies=Reader)
def list_tariffs(
    session: SessionDep, site: SiteDep, on: Annotated[date | None, Query()] = None
) -> list[TariffPublic]:
    """Every tariff (``on``: only those valid that day), by code."""
    stmt = select(Tariff).where(Tariff.site_id == site.id).order_by(Tariff.code)
    if on is not None:
        stmt = stmt.where(
            Tariff.valid_from <= on, (Tariff.valid_to.is_(None)) | (Tariff.valid_to >= on)
        )
    return [tariff_public(session, t) for t in session.scalars(stmt)]


@router.get(f"{API}/tariffs/{{code}}", response_model=TariffPublic, dependencies=Reader)
def get_tariff(code: str, session: SessionDep, site: SiteDep) -> TariffPublic:
    """One tariff."""
    return tariff_public(session, _get_tariff(session, site, code))


@router.post(f"{API}/tariffs", response_model=TariffPublic, status_code=201)
def create_tariff(
    body: TariffFields, session: SessionDep, site: SiteDep, caller: Accountant
) -> TariffPublic:
    """Add a tariff; one of the same scope may not overlap its dates (409 ``tariff_overlap``)."""
    if session.scalar(select(Tariff.id).where(Tariff.site_id == site.id, Tariff.code == body.code)):
        raise BillingRefusal("tariff_exists", tariff=body.code)
    row = Tariff(site_id=site.id)
    _apply(session, site, row, body)
    session.add(row)
    record(
        session,
        caller.actor,
        caller.at,
        "tariff.create",
        body.code,
        after=body.model_dump(mode="json"),
    )
    _save(session, body.code)
    return tariff_public(session, row)


@router.patch(f"{API}/tariffs/{{code}}", response_model=TariffPublic)
def update_tariff(
    code: str, body: dict[str, object], session: SessionDep, site: SiteDep, caller: Accountant
) -> TariffPublic:
    """Change a tariff. Issued invoices keep the prices they were issued with."""
    row = _get_tariff(session, site, code)
    before = tariff_public(session, row).model_dump(mode="json", exclude={"updated_at"})
    try:
        merged = TariffFields.model_validate(before | body)
    except ValidationError as exc:
        raise HTTPException(422, first_error(exc)) from None
    _apply(session, site, row, merged)
    record(
        session,
        caller.actor,
        caller.at,
        "tariff.update",
        code,
        before=before,
        after=merged.model_dump(mode="json"),
    )
    _save(session, merged.code)
    return tariff_public(session, row)


@router.delete(f"{API}/tariffs/{{code}}", status_code=204)
def delete_tariff(code: str, session: SessionDep, site: SiteDep, caller: Accountant) -> Response:
    """Remove a tariff no invoice used (409 ``tariff_in_use``: end it with ``valid_to``)."""
    row = _get_tariff(session, site, code)
    if session.scalar(select(InvoiceLine.id).where(InvoiceLine.tariff_id == row.id).limit(1)):
        raise BillingRefusal("tariff_in_use", tariff=code)
    before = tariff_public(session, row).model_dump(mode="json")
    session.delete(row)
    record(session, caller.actor, caller.at, "tariff.delete", code, before=before)
    session.commit()
    return Response(status_code=204)


# ---- clients' billing fields -----------------------------------------------------------------


class BillingClientPublic(BaseModel):
    """A client as billing sees it: VAT payer (registry) and tariff group."""

    code: str
    name: str
    inn: str
    vat_payer: bool
    tariff_group: str


class GroupBody(BaseModel):
    """The client's tariff group ('' for none)."""

    model_config = ConfigDict(extra="forbid")
    tariff_group: str = Field(max_length=64, pattern=r"^([A-Za-z0-9_.:-]{1,64})?$")


def _client_public(c: Client) -> BillingClientPublic:
    return BillingClientPublic(
        code=c.code, name=c.name, inn=c.inn, vat_payer=c.vat_payer, tariff_group=c.tariff_group
    )


@router.get(f"{API}/clients", response_model=list[BillingClientPublic], dependencies=Reader)
def list_billing_clients(session: SessionDep, site: SiteDep) -> list[BillingClientPublic]:
    """Clients with their tariff group, by code."""
    rows = session.scalars(select(Client).where(Client.site_id == site.id).order_by(Client.code))
    return [_client_public(c) for c in rows]


@router.patch(f"{API}/clients/{{code}}", response_model=BillingClientPublic)
def set_tariff_group(
    code: str, body: GroupBody, session: SessionDep, site: SiteDep, caller: Accountant
) -> BillingClientPublic:
    """Put a client in a tariff group (its group's tariffs price its tickets)."""
    client = session.scalar(select(Client).where(Client.site_id == site.id, Client.code == code))
    if client is None:
        raise BillingRefusal("client_unknown", client=code)
    before = client.tariff_group
    client.tariff_group = body.tariff_group
    record(
        session,
        caller.actor,
        caller.at,
        "client.tariff_group",
        code,
        before=before,
        after=body.tariff_group,
    )
    session.commit()
    return _client_public(client)


# ---- statements and documents ----------------------------------------------------------------


def _client(session: Session, site: Site, code: str) -> Client:
    client = session.scalar(select(Client).where(Client.site_id == site.id, Client.code == code))
    if client is None:
        raise BillingRefusal("client_unknown", client=code)
    return client


@router.get(f"{API}/statements/{{client}}", response_model=StatementPublic, dependencies=Reader)
def statement(
    client: str, month: Month, session: SessionDep, site: SiteDep, settings: SettingsDep
) -> StatementPublic:
    """A client's month: every completed ticket priced, totals per waste type and in all."""
    found = _client(session, site, client)
    return statement_public(
        build_statement(session, site, found, parse_month(month), rates_of(settings))
    )


@router.get(f"{API}/statements/{{client}}/csv", response_class=Response, dependencies=Reader)
def statement_file(
    client: str,
    month: Month,
    request: Request,
    session: SessionDep,
    site: SiteDep,
    settings: SettingsDep,
    lang: Lang = None,
) -> Response:
    """The statement as CSV."""
    found = _client(session, site, client)
    built = build_statement(session, site, found, parse_month(month), rates_of(settings))
    return _file(
        statement_csv(built, _lang(request, settings, lang)).encode("utf-8"),
        "text/csv; charset=utf-8",
        f"statement-{client}-{month}.csv",
    )


def _file(content: bytes, media_type: str, name: str, inline: bool = False) -> Response:
    how = "inline" if inline else "attachment"
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'{how}; filename="{name}"'}
    )


def get_invoice(
    session: Session, site: Site, invoice_id: int, client_id: int | None = None
) -> Invoice:
    """A document of the site (and of this client when given), or 404 ``invoice_not_found``."""
    stmt = select(Invoice).where(Invoice.id == invoice_id, Invoice.site_id == site.id)
    if client_id is not None:
        stmt = stmt.where(Invoice.client_id == client_id)
    found = session.scalar(stmt)
    if found is None:
        raise BillingRefusal("invoice_not_found", invoice=invoice_id)
    return found


def list_documents(
    session: Session,
    site: Site,
    client_id: int | None,
    month: str | None,
    kind: str | None,
    limit: int,
) -> list[InvoicePublic]:
    """Documents newest first, filtered by client, billed month and kind."""
    stmt = select(Invoice).where(Invoice.site_id == site.id)
    if client_id is not None:
        stmt = stmt.where(Invoice.client_id == client_id)
    if month:
        stmt = stmt.where(Invoice.period_start == parse_month(month))
    if kind:
        stmt = stmt.where(Invoice.kind == kind)
    rows = session.scalars(stmt.order_by(Invoice.year.desc(), Invoice.number.desc()).limit(limit))
    return [invoice_public(load_document(session, r)) for r in rows]


def pdf_response(
    session: Session, site: Site, invoice: Invoice, lang: Language, settings: ApiSettings
) -> Response:
    """The document's PDF."""
    doc = load_document(session, invoice)
    content = document_pdf(doc, lang, seller_of(settings, lang), ZoneInfo(site.timezone))
    return _file(content, "application/pdf", f"{invoice.kind}-{doc.number}.pdf", inline=True)


@router.get(f"{API}/invoices", response_model=list[InvoicePublic], dependencies=Reader)
def list_invoices(
    session: SessionDep,
    site: SiteDep,
    client: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
    kind: Literal["invoice", "credit_note"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[InvoicePublic]:
    """Invoices and credit notes, newest first."""
    client_id = _client(session, site, client).id if client else None
    return list_documents(session, site, client_id, month, kind, limit)


class IssueBody(BaseModel):
    """Which client and month to invoice."""

    model_config = ConfigDict(extra="forbid")
    client: str = Field(pattern=NAME_PATTERN)
    month: str = Field(pattern=MONTH_PATTERN)


@router.post(f"{API}/invoices", response_model=InvoicePublic, status_code=201)
def create_invoice(
    body: IssueBody,
    session: SessionDep,
    site: SiteDep,
    settings: SettingsDep,
    now: NowDep,
    caller: Accountant,
) -> InvoicePublic:
    """Issue the client's invoice of the month: its priced tickets not yet invoiced."""
    invoice = issue_invoice(
        session, site, body.client, parse_month(body.month), rates_of(settings), caller.actor, now
    )
    return invoice_public(load_document(session, invoice), with_lines=True)


@router.get(f"{API}/invoices/{{invoice_id}}", response_model=InvoicePublic, dependencies=Reader)
def read_invoice(invoice_id: int, session: SessionDep, site: SiteDep) -> InvoicePublic:
    """One document with its lines."""
    return invoice_public(load_document(session, get_invoice(session, site, invoice_id)), True)


@router.get(f"{API}/invoices/{{invoice_id}}/pdf", response_class=Response, dependencies=Reader)
def invoice_pdf(
    invoice_id: int,
    request: Request,
    session: SessionDep,
    site: SiteDep,
    settings: SettingsDep,
    lang: Lang = None,
) -> Response:
    """The document as an A4 PDF (``lang``: ky, ru or en)."""
    invoice = get_invoice(session, site, invoice_id)
    return pdf_response(session, site, invoice, _lang(request, settings, lang), settings)


@router.get(f"{API}/invoices/{{invoice_id}}/csv", response_class=Response, dependencies=Reader)
def invoice_csv(
    invoice_id: int,
    request: Request,
    session: SessionDep,
    site: SiteDep,
    settings: SettingsDep,
    lang: Lang = None,
) -> Response:
    """The document's lines as CSV."""
    doc = load_document(session, get_invoice(session, site, invoice_id))
    content = document_csv(doc, _lang(request, settings, lang)).encode("utf-8")
    return _file(content, "text/csv; charset=utf-8", f"{doc.invoice.kind}-{doc.number}.csv")


@router.get(f"{API}/invoices/{{invoice_id}}/esf", response_class=Response, dependencies=Reader)
def invoice_esf(
    invoice_id: int, session: SessionDep, site: SiteDep, settings: SettingsDep
) -> Response:
    """The document as an ESF XML file for manual upload (docs/billing.md)."""
    doc = load_document(session, get_invoice(session, site, invoice_id))
    content = esf_xml(doc, seller_of(settings, "ru"))
    return _file(content, "application/xml", f"esf-{doc.number}.xml")


class CreditBody(BaseModel):
    """Why the invoice is cancelled."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=500)


@router.post(f"{API}/invoices/{{invoice_id}}/credit", response_model=InvoicePublic, status_code=201)
def credit(
    invoice_id: int,
    body: CreditBody,
    session: SessionDep,
    site: SiteDep,
    now: NowDep,
    caller: Accountant,
) -> InvoicePublic:
    """Issue the credit note that cancels the invoice whole; its tickets may be invoiced again."""
    note = credit_invoice(session, site, invoice_id, body.reason, caller.actor, now)
    return invoice_public(load_document(session, note), with_lines=True)


class RunBody(BaseModel):
    """The month to invoice."""

    model_config = ConfigDict(extra="forbid")
    month: str = Field(pattern=MONTH_PATTERN)


class RunPublic(BaseModel):
    """What an invoice run issued, and whom it skipped and why."""

    month: str
    issued: list[InvoicePublic]
    skipped: list[dict[str, object]]


@router.post(f"{API}/runs", response_model=RunPublic)
def run(
    body: RunBody,
    request: Request,
    session: SessionDep,
    site: SiteDep,
    settings: SettingsDep,
    caller: Accountant,
) -> RunPublic:
    """Invoice every client with tickets in the month; a client that cannot be is skipped."""
    clock = getattr(request.app.state, "clock", utcnow)  # as api.deps.get_now
    result = invoice_run(
        session, site, parse_month(body.month), rates_of(settings), caller.actor, clock
    )
    lang = page_language(request, settings)
    return RunPublic(
        month=body.month,
        issued=[invoice_public(load_document(session, i)) for i in result.issued],
        skipped=[
            {"client": code, "code": r.code, "detail": r.message(lang), "values": r.values}
            for code, r in result.skipped
        ],
    )


# ---- reconciliation --------------------------------------------------------------------------


class ProblemPublic(BaseModel):
    """A ticket on which the ledger and InfluxDB differ."""

    ticket: str
    kind: str
    ledger: str
    influx: str


class DayPublic(BaseModel):
    """One local day of the reconciliation."""

    day: date
    ok: bool
    ledger_tickets: int
    ledger_net_kg: int
    influx_tickets: int
    influx_net_kg: int
    problems: list[ProblemPublic]


def _day_public(d: DayCheck) -> DayPublic:
    return DayPublic(
        day=d.day,
        ok=d.ok,
        ledger_tickets=d.ledger_tickets,
        ledger_net_kg=d.ledger_net_kg,
        influx_tickets=d.influx_tickets,
        influx_net_kg=d.influx_net_kg,
        problems=[ProblemPublic(**vars(p)) for p in d.problems],
    )


MAX_DAYS = 62


@router.get(f"{API}/reconciliation", response_model=list[DayPublic], dependencies=Reader)
def reconciliation(
    session: SessionDep,
    site: SiteDep,
    influx: InfluxDep,
    start: date,
    end: Annotated[date | None, Query(description="exclusive; default start + 1 day")] = None,
) -> list[DayPublic]:
    """The ledger against InfluxDB's `weighing` points for each local day in [start, end)."""
    stop = end or start + timedelta(days=1)
    if not start < stop <= start + timedelta(days=MAX_DAYS):
        raise HTTPException(422, f"end must be after start and at most {MAX_DAYS} days later")
    return [_day_public(d) for d in reconcile(session, influx, site, start, stop)]


class RepairBody(BaseModel):
    """The local day whose differing tickets are republished."""

    model_config = ConfigDict(extra="forbid")
    day: date


class RepairPublic(BaseModel):
    """Tickets republished (acknowledged by the broker) and those that were not."""

    day: date
    republished: list[str]
    failed: list[str]


@router.post(f"{API}/reconciliation/repair", response_model=RepairPublic)
def repair(
    body: RepairBody,
    session: SessionDep,
    site: SiteDep,
    influx: InfluxDep,
    mqtt: MqttDep,
    caller: Accountant,
) -> RepairPublic:
    """Republish the day's tickets that are missing in InfluxDB or differ there."""
    done = repair_day(session, influx, mqtt, site, body.day)
    record(
        session, caller.actor, caller.at, "ticket.republish", body.day.isoformat(),
        after={"republished": done.republished, "failed": done.failed},
    )  # fmt: skip
    session.commit()
    return RepairPublic(day=done.day, republished=done.republished, failed=done.failed)


# ---- the accountant's page -------------------------------------------------------------------


def default_month(now_local: date) -> str:
    """The month an accountant bills by default: the last complete one."""
    first = now_local.replace(day=1)
    return f"{first - timedelta(days=1):%Y-%m}"


def _reconciled(
    session: Session, influx: InfluxDep, site: Site, month: date
) -> list[DayPublic] | None:
    end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    try:
        return [_day_public(d) for d in reconcile(session, influx, site, month, end) if not d.ok]
    except QueryError:
        return None  # InfluxDB is away: the page says so, the rest still shows


@router.get("/billing", response_class=HTMLResponse, include_in_schema=False)
def billing_page(
    request: Request,
    session: SessionDep,
    site: SiteDep,
    influx: InfluxDep,
    settings: SettingsDep,
    now: NowDep,
    caller: Annotated[Caller, Depends(PAGE_BILLING)],
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
    client: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
) -> HTMLResponse:
    """Statements, invoices of the month, the invoice run and the reconciliation."""
    tz = ZoneInfo(site.timezone)
    chosen = month or default_month(now.astimezone(tz).date())
    first = parse_month(chosen)
    clients = list(
        session.scalars(select(Client).where(Client.site_id == site.id).order_by(Client.code))
    )
    found = next((c for c in clients if c.code == client), None)
    built = build_statement(session, site, found, first, rates_of(settings)) if found else None
    return page(
        request,
        settings,
        "billing.html",
        caller=caller,
        can_act=caller.role in roles.ACT_BILLING,
        month=chosen,
        client=found,
        clients=clients,
        statement=statement_public(built) if built else None,
        documents=list_documents(session, site, None, chosen, None, 1000),
        days=_reconciled(session, influx, site, first),
        local=partial(local_time, tz=tz),
        texts_json=texts_json(page_language(request, settings)),
    )


def local_time(ts: datetime, tz: ZoneInfo) -> str:
    """A time as the pages show it: ``31.01.2026 14:05`` in the site's zone."""
    return ts.astimezone(tz).strftime("%d.%m.%Y %H:%M")
