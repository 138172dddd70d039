"""What billing routes answer: tariffs, statements, invoices, as JSON (money as decimal text)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.billing.documents import Document
from api.billing.models import Invoice, Tariff
from api.billing.statements import Statement, StatementLine, Totals
from api.weighbridge.models import Client, WasteType
from api.weighbridge.registry import as_utc

__all__ = [
    "InvoicePublic",
    "LinePublic",
    "StatementPublic",
    "TariffPublic",
    "TotalsPublic",
    "invoice_public",
    "statement_public",
    "tariff_public",
]

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class TariffPublic(BaseModel):
    """A tariff; client, group and waste type by code (none: any)."""

    code: str
    waste_type: str | None
    client: str | None
    client_group: str | None
    unit: str
    price: Decimal
    min_charge: Decimal
    vat: bool
    valid_from: date
    valid_to: date | None
    note: str
    updated_at: datetime


def tariff_public(session: Session, t: Tariff) -> TariffPublic:
    """A tariff as the API shows it."""
    client = session.get(Client, t.client_id) if t.client_id else None
    waste = session.get(WasteType, t.waste_type_id) if t.waste_type_id else None
    updated = as_utc(t.updated_at)
    assert updated is not None
    return TariffPublic(
        code=t.code,
        waste_type=waste.code if waste else None,
        client=client.code if client else None,
        client_group=t.client_group,
        unit=t.unit,
        price=t.price,
        min_charge=t.min_charge,
        vat=t.vat,
        valid_from=t.valid_from,
        valid_to=t.valid_to,
        note=t.note,
        updated_at=updated,
    )


class LinePublic(BaseModel):
    """One ticket of a statement or document; amounts are None when it has no price."""

    ticket: str
    completed_at: datetime
    plate: str
    waste_type: str
    waste_name: dict[str, str]
    net_kg: int
    unit: str | None
    quantity: Decimal | None
    price: Decimal | None
    tariff: str | None
    minimum: bool
    net: Decimal | None
    vat_rate: Decimal
    vat: Decimal | None
    sales_tax: Decimal | None
    total: Decimal | None
    unpriced: str | None = Field(None, description="no_tariff or no_volume")
    invoice: str | None = Field(None, description="the invoice that bills it")


class TotalsPublic(BaseModel):
    """Sums of rounded lines."""

    tickets: int
    net_kg: int
    net: Decimal
    vat: Decimal
    sales_tax: Decimal
    total: Decimal


class StatementPublic(BaseModel):
    """A client's month: every completed ticket, totals per waste type and in all."""

    client: str
    client_name: str
    month: str
    lines: list[LinePublic]
    by_waste: dict[str, TotalsPublic]
    totals: TotalsPublic
    to_invoice: int = Field(description="priced tickets not yet on an invoice")
    unpriced: int = Field(description="tickets no tariff prices (block invoicing)")


def _totals(t: Totals) -> TotalsPublic:
    return TotalsPublic(
        tickets=t.tickets,
        net_kg=t.net_kg,
        net=t.net,
        vat=t.vat,
        sales_tax=t.sales_tax,
        total=t.total,
    )


def _line(s: StatementLine) -> LinePublic:
    c = s.charge
    return LinePublic(
        ticket=s.number,
        completed_at=s.completed_at,
        plate=s.plate,
        waste_type=s.waste_code,
        waste_name=dict(zip(("ky", "ru", "en"), s.waste_names, strict=True)),
        net_kg=s.net_kg,
        unit=s.unit,
        quantity=s.quantity,
        price=s.price,
        tariff=s.tariff_code,
        minimum=bool(c and c.minimum),
        net=c.net if c else None,
        vat_rate=s.vat_pct,
        vat=c.vat if c else None,
        sales_tax=c.sales_tax if c else None,
        total=c.total if c else None,
        unpriced=s.unpriced,
        invoice=s.invoice_number,
    )


def statement_public(statement: Statement) -> StatementPublic:
    """A statement as the API shows it."""
    return StatementPublic(
        client=statement.client.code,
        client_name=statement.client.name,
        month=f"{statement.month:%Y-%m}",
        lines=[_line(s) for s in statement.lines],
        by_waste={code: _totals(t) for code, t in statement.by_waste.items()},
        totals=_totals(statement.totals),
        to_invoice=len(statement.to_invoice),
        unpriced=len(statement.unpriced),
    )


class DocumentLinePublic(BaseModel):
    """One line of an issued document, as stored."""

    line_no: int
    ticket: str
    completed_at: datetime
    plate: str
    waste_type: str
    net_kg: int
    unit: str
    quantity: Decimal
    price: Decimal
    minimum: bool
    net: Decimal
    vat_rate: Decimal
    vat: Decimal
    sales_tax: Decimal
    total: Decimal


class InvoicePublic(BaseModel):
    """An issued invoice or credit note; ``lines`` only when one document is asked for."""

    id: int
    number: str
    kind: str
    client: str
    client_name: str
    client_inn: str
    period_start: date
    period_end: date
    issued_on: date
    issued_at: datetime
    issued_by: str
    credits: str | None = Field(description="the invoice a credit note cancels")
    credited_by: str | None = Field(description="the credit note that cancels an invoice")
    reason: str
    vat_rate: Decimal
    sales_tax_rate: Decimal
    net: Decimal
    vat: Decimal
    sales_tax: Decimal
    total: Decimal
    lines: list[DocumentLinePublic] | None = None


def invoice_public(doc: Document, with_lines: bool = False) -> InvoicePublic:
    """A document as the API shows it."""
    inv: Invoice = doc.invoice
    issued = as_utc(inv.issued_at)
    assert issued is not None
    lines = None
    if with_lines:
        lines = [
            DocumentLinePublic(
                line_no=x.line_no,
                ticket=x.ticket_number,
                completed_at=as_utc(x.weighed_at),
                plate=x.plate,
                waste_type=x.waste_code,
                net_kg=x.net_kg,
                unit=x.unit,
                quantity=x.quantity,
                price=x.price,
                minimum=x.minimum,
                net=x.net,
                vat_rate=x.vat_rate,
                vat=x.vat,
                sales_tax=x.sales_tax,
                total=x.total,
            )
            for x in doc.lines
        ]
    credit = inv.kind == "credit_note"
    return InvoicePublic(
        id=inv.id,
        number=doc.number,
        kind=inv.kind,
        client=inv.client_code,
        client_name=inv.client_name,
        client_inn=inv.client_inn,
        period_start=inv.period_start,
        period_end=inv.period_end,
        issued_on=inv.issued_on,
        issued_at=issued,
        issued_by=inv.issued_by,
        credits=doc.other_number if credit else None,
        credited_by=None if credit else doc.other_number,
        reason=inv.reason,
        vat_rate=inv.vat_rate,
        sales_tax_rate=inv.sales_tax_rate,
        net=inv.net,
        vat=inv.vat,
        sales_tax=inv.sales_tax,
        total=inv.total,
        lines=lines,
    )
