"""SQL tables of billing: tariffs, invoices and credit notes with their lines, the counter.

An invoice row exists only as an issued document: there is no draft (the monthly statement is
the draft). Invoices and their lines are append-only; migration 0005 adds database triggers that
refuse any UPDATE or DELETE of them on SQLite and PostgreSQL. A credit note is an invoice row of
kind ``credit_note`` whose amounts are negative and which names the invoice it cancels; its
lines repeat the invoice's lines with the signs turned. Each line copies what it bills (ticket
number, plate, waste type, quantity, price), so later changes to the registry, tariffs or
tickets never change an issued document.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base
from landfill.contract import utcnow

__all__ = [
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "Tariff",
    "document_number",
    "printed_number",
]

MONEY = Numeric(14, 2)
QUANTITY = Numeric(14, 3)
RATE = Numeric(5, 2)


class Tariff(Base):
    """A price for a waste type (or any) and a client, a client group or everyone, for dates."""

    __tablename__ = "tariff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    code: Mapped[str] = mapped_column(String(64))
    waste_type_id: Mapped[int | None] = mapped_column(ForeignKey("waste_type.id"), nullable=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), nullable=True)
    client_group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    unit: Mapped[str] = mapped_column(String(8))  # t | m3 | load
    price: Mapped[Decimal] = mapped_column(MONEY)
    min_charge: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    vat: Mapped[bool] = mapped_column(Boolean, default=True)  # the service bears VAT
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)  # inclusive
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Invoice(Base):
    """An issued invoice or credit note: gap-free number per site and year, totals, copies."""

    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    kind: Mapped[str] = mapped_column(String(16))  # invoice | credit_note
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    client_code: Mapped[str] = mapped_column(String(64))
    client_name: Mapped[str] = mapped_column(String(300))
    client_inn: Mapped[str] = mapped_column(String(14))
    client_address: Mapped[str] = mapped_column(String(500), default="")
    client_contract: Mapped[str] = mapped_column(String(64), default="")
    client_vat_payer: Mapped[bool] = mapped_column(Boolean)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive
    issued_on: Mapped[date] = mapped_column(Date)  # the document's date, local
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(100))
    credits_invoice_id: Mapped[int | None] = mapped_column(
        ForeignKey("invoice.id"), nullable=True, unique=True
    )
    reason: Mapped[str] = mapped_column(String(500), default="")
    vat_rate: Mapped[Decimal] = mapped_column(RATE)
    sales_tax_rate: Mapped[Decimal] = mapped_column(RATE)
    net: Mapped[Decimal] = mapped_column(MONEY)
    vat: Mapped[Decimal] = mapped_column(MONEY)
    sales_tax: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)


class InvoiceLine(Base):
    """One billed ticket of an invoice (negative on a credit note), amounts rounded per line."""

    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    ticket_number: Mapped[str] = mapped_column(String(32))
    weighed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    plate: Mapped[str] = mapped_column(String(16))
    waste_code: Mapped[str] = mapped_column(String(64))
    waste_name_ky: Mapped[str] = mapped_column(String(200))
    waste_name_ru: Mapped[str] = mapped_column(String(200))
    waste_name_en: Mapped[str] = mapped_column(String(200))
    net_kg: Mapped[int] = mapped_column(Integer)
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariff.id"), nullable=True)
    unit: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    price: Mapped[Decimal] = mapped_column(MONEY)
    minimum: Mapped[bool] = mapped_column(Boolean)  # the minimum charge replaced the amount
    net: Mapped[Decimal] = mapped_column(MONEY)
    vat_rate: Mapped[Decimal] = mapped_column(RATE)
    vat: Mapped[Decimal] = mapped_column(MONEY)
    sales_tax: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)


class InvoiceCounter(Base):
    """The last invoice or credit-note number of a site in a year (locked while one is taken)."""

    __tablename__ = "invoice_counter"

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


def printed_number(year: int, number: int) -> str:
    """A document's number as printed: ``2026-00042`` (year of issue, number in that year)."""
    return f"{year}-{number:05d}"


def document_number(invoice: Invoice) -> str:
    """The invoice's or credit note's number as printed."""
    return printed_number(invoice.year, invoice.number)
