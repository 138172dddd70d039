"""A client's monthly statement: every completed ticket of the month, priced, and totals.

The month is a calendar month in the site's time zone; a ticket belongs to the month of its
completion. A ticket already on an invoice that no credit note cancelled shows that invoice's
line as it was issued (number, price, amounts); any other ticket is priced now by the tariff
valid on its local day (`api/billing/tariffs.py`) under the rounding rule of
`api/billing/money.py`. Voided tickets are not billed and are not listed. A statement is what
an invoice of the month would carry: issuing one bills exactly its not yet invoiced lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from api.billing.models import Invoice, InvoiceLine, Tariff, printed_number
from api.billing.money import ZERO, Charge, Unit, charge, quantity_of
from api.billing.tariffs import TariffBook
from api.db import Site
from api.weighbridge.models import Client, Ticket, Vehicle, WasteType
from api.weighbridge.numbering import number_text
from api.weighbridge.registry import as_utc

__all__ = [
    "Rates",
    "Statement",
    "StatementLine",
    "Totals",
    "build_statement",
    "month_bounds",
    "next_month",
]


@dataclass(frozen=True)
class Rates:
    """The tax rates in percent (settings): VAT where it applies, sales tax on every line."""

    vat_pct: Decimal
    sales_tax_pct: Decimal


@dataclass(frozen=True)
class StatementLine:
    """One ticket of the statement; ``charge`` is None when no tariff prices it."""

    ticket_id: int
    number: str
    completed_at: datetime
    plate: str
    waste_code: str
    waste_names: tuple[str, str, str]  # ky, ru, en
    net_kg: int
    unit: Unit | None
    quantity: Decimal | None
    price: Decimal | None
    tariff_id: int | None
    tariff_code: str | None
    vat_pct: Decimal
    charge: Charge | None
    unpriced: str | None = None  # no_tariff | no_volume
    invoice_id: int | None = None
    invoice_number: str | None = None


@dataclass
class Totals:
    """Sums of rounded lines (tickets, kg and som)."""

    tickets: int = 0
    net_kg: int = 0
    net: Decimal = ZERO
    vat: Decimal = ZERO
    sales_tax: Decimal = ZERO
    total: Decimal = ZERO

    def add(self, line: StatementLine) -> None:
        """Count one line in."""
        self.tickets += 1
        self.net_kg += line.net_kg
        if line.charge is not None:
            self.net += line.charge.net
            self.vat += line.charge.vat
            self.sales_tax += line.charge.sales_tax
            self.total += line.charge.total


@dataclass
class Statement:
    """A client's month: its lines, totals per waste type, the total, what is not invoiced."""

    client: Client
    month: date
    lines: list[StatementLine]
    by_waste: dict[str, Totals] = field(default_factory=dict)
    totals: Totals = field(default_factory=Totals)
    to_invoice: list[StatementLine] = field(default_factory=list)
    unpriced: list[StatementLine] = field(default_factory=list)

    def __post_init__(self) -> None:
        for line in self.lines:
            self.by_waste.setdefault(line.waste_code, Totals()).add(line)
            self.totals.add(line)
            if line.invoice_id is not None:
                continue
            (self.to_invoice if line.charge is not None else self.unpriced).append(line)


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_bounds(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The month's start and end (exclusive) as UTC times, the month local to ``tz``."""
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    end_day = next_month(month)
    end = datetime(end_day.year, end_day.month, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


# what a statement reads of a ticket, and of the invoice line that bills it (rows of these)
Record = Any
TICKET_COLUMNS = (
    Ticket.id,
    Ticket.year,
    Ticket.number,
    Ticket.completed_at,
    Ticket.plate,
    Ticket.vehicle_id,
    Ticket.waste_type_id,
    Ticket.waste_code,
    Ticket.net_kg,
)
LINE_COLUMNS = (
    InvoiceLine.ticket_id,
    InvoiceLine.ticket_number,
    InvoiceLine.plate,
    InvoiceLine.waste_code,
    InvoiceLine.waste_name_ky,
    InvoiceLine.waste_name_ru,
    InvoiceLine.waste_name_en,
    InvoiceLine.net_kg,
    InvoiceLine.tariff_id,
    InvoiceLine.unit,
    InvoiceLine.quantity,
    InvoiceLine.price,
    InvoiceLine.minimum,
    InvoiceLine.net,
    InvoiceLine.vat_rate,
    InvoiceLine.vat,
    InvoiceLine.sales_tax,
    Invoice.id.label("invoice_id"),
    Invoice.year.label("invoice_year"),
    Invoice.number.label("invoice_number"),
)


def _month_where(site: Site, client: Client, month: date) -> tuple[Any, ...]:
    start, end = month_bounds(month, ZoneInfo(site.timezone))
    return (
        Ticket.site_id == site.id,
        Ticket.client_id == client.id,
        Ticket.status == "completed",
        Ticket.completed_at >= start,
        Ticket.completed_at < end,
    )


def _tickets(session: Session, where: tuple[Any, ...]) -> list[Record]:
    stmt = select(*TICKET_COLUMNS).where(*where).order_by(Ticket.completed_at, Ticket.id)
    return list(session.execute(stmt).all())


def _invoiced(session: Session, where: tuple[Any, ...]) -> dict[int, Record]:
    """The lines billing these tickets on invoices no credit note cancelled, by ticket id."""
    credit = aliased(Invoice)
    stmt = (
        select(*LINE_COLUMNS)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .outerjoin(credit, credit.credits_invoice_id == Invoice.id)
        .where(
            Invoice.kind == "invoice",
            credit.id.is_(None),
            InvoiceLine.ticket_id.in_(select(Ticket.id).where(*where)),
        )
    )
    return {row.ticket_id: row for row in session.execute(stmt)}


def _issued_line(ticket: Record, line: Record) -> StatementLine:
    completed = as_utc(ticket.completed_at)
    assert completed is not None
    return StatementLine(
        ticket_id=ticket.id,
        number=line.ticket_number,
        completed_at=completed,
        plate=line.plate,
        waste_code=line.waste_code,
        waste_names=(line.waste_name_ky, line.waste_name_ru, line.waste_name_en),
        net_kg=line.net_kg,
        unit=line.unit,
        quantity=line.quantity,
        price=line.price,
        tariff_id=line.tariff_id,
        tariff_code=None,
        vat_pct=line.vat_rate,
        charge=Charge(line.net, line.vat, line.sales_tax, line.minimum),
        invoice_id=line.invoice_id,
        invoice_number=printed_number(line.invoice_year, line.invoice_number),
    )


@dataclass(frozen=True)
class Pricer:
    """What pricing a ticket needs: tariffs, rates, the site's zone, waste types, volumes."""

    book: TariffBook
    rates: Rates
    tz: ZoneInfo
    wastes: dict[int, WasteType]
    volumes: dict[int, float | None]

    def line(self, client: Client, ticket: Record) -> StatementLine:
        """The ticket priced now."""
        completed = as_utc(ticket.completed_at)
        assert completed is not None
        waste = self.wastes.get(ticket.waste_type_id or -1)
        names = (waste.name_ky, waste.name_ru, waste.name_en) if waste else ("—", "—", "—")
        net_kg = ticket.net_kg or 0
        day = completed.astimezone(self.tz).date()
        tariff = self.book.pick(client.id, client.tariff_group, ticket.waste_type_id, day)
        base = {
            "ticket_id": ticket.id,
            "number": number_text(ticket.year, ticket.number) or "",
            "completed_at": completed,
            "plate": ticket.plate,
            "waste_code": ticket.waste_code or "",
            "waste_names": names,
            "net_kg": net_kg,
        }
        if tariff is None:
            return self._unpriced(base, None, "no_tariff")
        unit: Unit = tariff.unit  # type: ignore[assignment]
        quantity = quantity_of(unit, net_kg, self.volumes.get(ticket.vehicle_id))
        if quantity is None:
            return self._unpriced(base, tariff, "no_volume")
        vat_pct = self.rates.vat_pct if (tariff.vat and client.vat_payer) else ZERO
        amounts = charge(
            quantity, tariff.price, tariff.min_charge, vat_pct, self.rates.sales_tax_pct
        )
        return StatementLine(
            **base,
            unit=unit,
            quantity=quantity,
            price=tariff.price,
            tariff_id=tariff.id,
            tariff_code=tariff.code,
            vat_pct=vat_pct,
            charge=amounts,
        )

    def _unpriced(self, base: dict[str, object], tariff: Tariff | None, why: str) -> StatementLine:
        return StatementLine(
            **base,  # type: ignore[arg-type]
            unit=tariff.unit if tariff else None,  # type: ignore[arg-type]
            quantity=None,
            price=tariff.price if tariff else None,
            tariff_id=tariff.id if tariff else None,
            tariff_code=tariff.code if tariff else None,
            vat_pct=ZERO,
            charge=None,
            unpriced=why,
        )


def make_pricer(session: Session, site: Site, rates: Rates, tickets: list[Record]) -> Pricer:
    """A pricer for these tickets (tariffs and waste types of the site, their vehicles)."""
    wastes = {
        w.id: w for w in session.scalars(select(WasteType).where(WasteType.site_id == site.id))
    }
    vehicle_ids = sorted({t.vehicle_id for t in tickets})
    volumes: dict[int, float | None] = {}
    for i in range(0, len(vehicle_ids), 500):
        rows = session.execute(
            select(Vehicle.id, Vehicle.volume_m3).where(Vehicle.id.in_(vehicle_ids[i : i + 500]))
        )
        volumes.update((row[0], row[1]) for row in rows)
    return Pricer(
        TariffBook.load(session, site.id), rates, ZoneInfo(site.timezone), wastes, volumes
    )


def build_statement(
    session: Session, site: Site, client: Client, month: date, rates: Rates
) -> Statement:
    """The client's statement of ``month`` (its first day)."""
    where = _month_where(site, client, month)
    tickets = _tickets(session, where)
    invoiced = _invoiced(session, where) if tickets else {}
    pricer = make_pricer(session, site, rates, tickets)
    lines = [
        _issued_line(t, invoiced[t.id]) if t.id in invoiced else pricer.line(client, t)
        for t in tickets
    ]
    return Statement(client=client, month=month, lines=lines)
