"""Issuing invoices and credit notes with gap-free numbers, and the invoice run of a month.

Numbers are per site and year (the year of the issue date, local), one series for invoices and
credit notes, taken in the transaction that writes the document, as tickets take theirs
(`api/weighbridge/numbering.py`):

- SQLite: ``BEGIN IMMEDIATE`` takes the write lock before anything is read;
- PostgreSQL: the counter row is incremented first (``UPDATE ... RETURNING``), and its row lock
  holds until commit, so a second issue waits there and then reads the first one's lines.

The number is taken *before* the statement is read, so under either lock no two transactions
can bill one ticket. A refusal rolls the transaction back, the counter with it: no gap. An
invoice bills the statement's not yet invoiced lines and is refused while any of them is
unpriced. A credit note cancels one invoice whole (a unique key allows one per invoice); its
tickets are then free for a corrected invoice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.audit import Actor, record
from api.billing.models import Invoice, InvoiceCounter, InvoiceLine, document_number
from api.billing.money import ZERO
from api.billing.refusals import BillingRefusal
from api.billing.statements import (
    Rates,
    Statement,
    StatementLine,
    build_statement,
    month_bounds,
    next_month,
)
from api.db import Site
from api.weighbridge.models import Client, Ticket
from api.weighbridge.numbering import next_in_sequence, start_writing

__all__ = [
    "RunResult",
    "clients_to_bill",
    "document_number",
    "summary",
    "credit_invoice",
    "invoice_run",
    "issue_invoice",
    "take_invoice_number",
]


def summary(invoice: Invoice) -> dict[str, object]:
    """What the audit log keeps of a document."""
    return {
        "kind": invoice.kind,
        "number": document_number(invoice),
        "client": invoice.client_code,
        "period": invoice.period_start.isoformat(),
        "net": str(invoice.net),
        "total": str(invoice.total),
        "credits": invoice.credits_invoice_id,
    }


def take_invoice_number(session: Session, site_id: int, year: int) -> int:
    """The next document number of the site's year; part of the caller's transaction."""
    return next_in_sequence(session, InvoiceCounter, site_id, year)


def _client(session: Session, site: Site, code: str) -> Client:
    client = session.scalar(select(Client).where(Client.site_id == site.id, Client.code == code))
    if client is None:
        raise BillingRefusal("client_unknown", client=code)
    return client


def _header(
    client: Client, kind: str, when: tuple[date, datetime], by: str, **kw: object
) -> Invoice:
    issued_on, issued_at = when
    return Invoice(
        kind=kind,
        year=issued_on.year,
        client_id=client.id,
        client_code=client.code,
        client_name=client.name,
        client_inn=client.inn,
        client_address=client.address,
        client_contract=client.contract_no,
        client_vat_payer=client.vat_payer,
        issued_on=issued_on,
        issued_at=issued_at,
        issued_by=by,
        **kw,
    )


def _line(invoice_id: int, no: int, s: StatementLine) -> dict[str, object]:
    assert s.charge is not None
    assert s.quantity is not None
    assert s.unit is not None
    ky, ru, en = s.waste_names
    return {
        "invoice_id": invoice_id,
        "line_no": no,
        "ticket_id": s.ticket_id,
        "ticket_number": s.number,
        "weighed_at": s.completed_at,
        "plate": s.plate,
        "waste_code": s.waste_code,
        "waste_name_ky": ky,
        "waste_name_ru": ru,
        "waste_name_en": en,
        "net_kg": s.net_kg,
        "tariff_id": s.tariff_id,
        "unit": s.unit,
        "quantity": s.quantity,
        "price": s.price,
        "minimum": s.charge.minimum,
        "net": s.charge.net,
        "vat_rate": s.vat_pct,
        "vat": s.charge.vat,
        "sales_tax": s.charge.sales_tax,
        "total": s.charge.total,
    }


def _refuse_unbillable(statement: Statement) -> None:
    if statement.unpriced:
        first = statement.unpriced[0]
        raise BillingRefusal(
            "unpriced",
            client=statement.client.code,
            tickets=len(statement.unpriced),
            ticket=first.number,
            why=first.unpriced,
        )
    if not statement.to_invoice:
        raise BillingRefusal(
            "nothing_to_invoice", client=statement.client.code, month=statement.month.isoformat()
        )


def _local_now(site: Site, now: datetime) -> tuple[date, datetime]:
    return now.astimezone(ZoneInfo(site.timezone)).date(), now


def issue_invoice(
    session: Session,
    site: Site,
    client_code: str,
    month: date,
    rates: Rates,
    actor: Actor,
    now: datetime,
) -> Invoice:
    """Issue the client's invoice of ``month`` (its not yet invoiced tickets); committed."""
    start_writing(session)
    try:
        client = _client(session, site, client_code)
        if month_bounds(month, ZoneInfo(site.timezone))[0] > now:
            raise BillingRefusal("month_not_started", month=month.isoformat())
        when = _local_now(site, now)
        number = take_invoice_number(session, site.id, when[0].year)
        statement = build_statement(session, site, client, month, rates)
        _refuse_unbillable(statement)
        lines = statement.to_invoice
        invoice = _header(
            client,
            "invoice",
            when,
            actor.name,
            site_id=site.id,
            number=number,
            period_start=month,
            period_end=next_month(month),
            vat_rate=rates.vat_pct,
            sales_tax_rate=rates.sales_tax_pct,
            **_sums(lines),
        )
        session.add(invoice)
        session.flush()
        session.execute(
            insert(InvoiceLine),
            [_line(invoice.id, i, s) for i, s in enumerate(lines, start=1)],
        )
        record(
            session, actor, now, "invoice.issue", document_number(invoice), after=summary(invoice)
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return invoice


def _sums(lines: list[StatementLine]) -> dict[str, Decimal]:
    sums = {"net": ZERO, "vat": ZERO, "sales_tax": ZERO, "total": ZERO}
    for s in lines:
        assert s.charge is not None
        sums["net"] += s.charge.net
        sums["vat"] += s.charge.vat
        sums["sales_tax"] += s.charge.sales_tax
        sums["total"] += s.charge.total
    return sums


def _negated(line: InvoiceLine, invoice_id: int) -> dict[str, Any]:
    values: dict[str, Any] = {
        c.name: getattr(line, c.key) for c in InvoiceLine.__table__.columns if c.name != "id"
    }
    for name in ("net", "vat", "sales_tax", "total", "quantity"):
        values[name] = -values[name]
    values["invoice_id"] = invoice_id
    return values


def credit_invoice(
    session: Session, site: Site, invoice_id: int, reason: str, actor: Actor, now: datetime
) -> Invoice:
    """Issue the credit note that cancels an invoice whole; committed."""
    if not reason.strip():
        raise BillingRefusal("credit_needs_reason")
    start_writing(session)
    try:
        invoice = session.scalar(
            select(Invoice).where(Invoice.id == invoice_id, Invoice.site_id == site.id)
        )
        if invoice is None:
            raise BillingRefusal("invoice_not_found", invoice=invoice_id)
        if invoice.kind != "invoice":
            raise BillingRefusal("credit_of_credit")
        when = _local_now(site, now)
        number = take_invoice_number(session, site.id, when[0].year)
        # under the counter's lock: a credit note committed meanwhile is seen here
        if session.scalar(select(Invoice.id).where(Invoice.credits_invoice_id == invoice.id)):
            raise BillingRefusal("already_credited", invoice=invoice_id)
        client = session.get(Client, invoice.client_id)
        assert client is not None
        note = _header(
            client,
            "credit_note",
            when,
            actor.name,
            site_id=site.id,
            number=number,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            credits_invoice_id=invoice.id,
            reason=reason.strip(),
            vat_rate=invoice.vat_rate,
            sales_tax_rate=invoice.sales_tax_rate,
            net=-invoice.net,
            vat=-invoice.vat,
            sales_tax=-invoice.sales_tax,
            total=-invoice.total,
        )
        session.add(note)
        session.flush()
        lines = session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.line_no)
        )
        session.execute(insert(InvoiceLine), [_negated(x, note.id) for x in lines])
        record(session, actor, now, "invoice.credit", document_number(note), after=summary(note))
        session.commit()
    except IntegrityError:
        session.rollback()
        raise BillingRefusal("already_credited", invoice=invoice_id) from None
    except BaseException:
        session.rollback()
        raise
    return note


@dataclass
class RunResult:
    """What an invoice run did: the invoices it issued and the clients it skipped, and why."""

    month: date
    issued: list[Invoice] = field(default_factory=list)
    skipped: list[tuple[str, BillingRefusal]] = field(default_factory=list)


def clients_to_bill(session: Session, site: Site, month: date) -> list[str]:
    """Codes of the clients with completed tickets in ``month``, in code order."""
    start, end = month_bounds(month, ZoneInfo(site.timezone))
    stmt = (
        select(Client.code)
        .join(Ticket, Ticket.client_id == Client.id)
        .where(
            Ticket.site_id == site.id,
            Ticket.status == "completed",
            Ticket.completed_at >= start,
            Ticket.completed_at < end,
        )
        .distinct()
        .order_by(Client.code)
    )
    return list(session.scalars(stmt))


def invoice_run(
    session: Session,
    site: Site,
    month: date,
    rates: Rates,
    actor: Actor,
    clock: Callable[[], datetime],
) -> RunResult:
    """Invoice every client with tickets in ``month``, one transaction each; refusals are kept.

    A client whose tickets are all invoiced already is skipped as ``nothing_to_invoice``, so a
    run repeated after a failure issues only what is missing.
    """
    result = RunResult(month)
    for code in clients_to_bill(session, site, month):
        try:
            result.issued.append(issue_invoice(session, site, code, month, rates, actor, clock()))
        except BillingRefusal as refusal:
            result.skipped.append((code, refusal))
    return result
