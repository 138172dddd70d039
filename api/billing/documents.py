"""Issued documents as files: the PDF (ky, ru or en, DejaVu Sans), the CSV and the ESF file.

Every figure printed comes from the stored lines and header, never recomputed, so a reprint
years later shows what was issued. The PDF is A4 with one row per ticket, the totals per waste
type and the document's totals; its text can be extracted (the font is embedded as a subset).

The ESF file is XML for manual upload to the state e-invoice portal (esf.salyk.kg). No public
description of its import format was found; the layout here is reconstructed from the fields
of the paper form for works and services (decree 343, form STI-008: supplier and buyer with
INN, document number and date, contract, VAT and sales-tax rates, and per line the name,
unit, quantity, price, amount without taxes, VAT, sales tax and total). `docs/billing.md`
maps each element; check it against the portal's import before relying on it.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.billing.models import Invoice, InvoiceLine, document_number
from api.billing.money import TYIYN, ZERO, money_text
from api.billing.statements import Statement
from api.i18n import translate
from api.weighbridge.identity import display_plate
from api.weighbridge.pdf import FONT_DIRS, FontMissing
from api.weighbridge.registry import as_utc
from landfill.language import Language

__all__ = [
    "Document",
    "EsfItem",
    "Seller",
    "document_csv",
    "document_pdf",
    "esf_items",
    "esf_xml",
    "load_document",
    "statement_csv",
]

FAMILY = "DejaVu"
ESF_UNITS = {"t": "тонна", "m3": "куб. м", "load": "рейс"}


@dataclass(frozen=True)
class Seller:
    """The enterprise as invoices name it (settings)."""

    name: str
    inn: str
    account: str


@dataclass(frozen=True)
class Document:
    """An issued invoice or credit note with its lines and the number of its counterpart."""

    invoice: Invoice
    lines: list[InvoiceLine]
    other_number: str | None  # the credit note cancelling it, or the invoice it cancels

    @property
    def number(self) -> str:
        """The printed number."""
        return document_number(self.invoice)


def load_document(session: Session, invoice: Invoice) -> Document:
    """The document with its lines in order and its counterpart's number."""
    lines = list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.line_no)
        )
    )
    if invoice.credits_invoice_id is not None:
        other = session.get(Invoice, invoice.credits_invoice_id)
    else:
        other = session.scalar(select(Invoice).where(Invoice.credits_invoice_id == invoice.id))
    return Document(invoice, lines, document_number(other) if other else None)


def _waste_name(line: InvoiceLine, lang: Language) -> str:
    return {"ky": line.waste_name_ky, "ru": line.waste_name_ru}.get(lang, line.waste_name_en)


def _local(ts: datetime, tz: ZoneInfo) -> str:
    value = as_utc(ts)
    assert value is not None
    return value.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def _rate(value: Decimal) -> str:
    return f"{value.normalize():f}"


# ---- PDF --------------------------------------------------------------------------------------

# (catalogue key, width mm, align) of the ticket table; A4 less 10 mm margins is 190 mm
COLUMNS = (
    ("bill.col.no", 8, "R"),
    ("bill.col.date", 22, "L"),
    ("bill.col.ticket", 20, "L"),
    ("bill.col.plate", 18, "L"),
    ("bill.col.waste", 26, "L"),
    ("bill.col.net_kg", 14, "R"),
    ("bill.col.quantity", 14, "R"),
    ("bill.col.price", 16, "R"),
    ("bill.col.net", 18, "R"),
    ("bill.col.vat", 14, "R"),
    ("bill.col.total", 20, "R"),
)


def _font_file(name: str) -> str:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    raise FontMissing(f"{name} not found; install the Debian package fonts-dejavu-core")


def _pdf(title: str) -> FPDF:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_font(FAMILY, "", _font_file("DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", _font_file("DejaVuSans-Bold.ttf"))
    pdf.set_creator("landfill-telemetry")
    pdf.set_title(title)
    pdf.add_page()
    return pdf


def _pairs(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        pdf.set_font(FAMILY, "", 9)
        pdf.cell(45, 5, label)
        pdf.set_font(FAMILY, "B", 9)
        pdf.multi_cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")


def _heading(pdf: FPDF, doc: Document, lang: Language, seller: Seller) -> None:
    inv = doc.invoice
    t = translate
    kind = t(lang, "bill.invoice" if inv.kind == "invoice" else "bill.credit_note")
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(
        0, 8, f"{kind} {t(lang, 'bill.number', number=doc.number)}", new_x="LMARGIN", new_y="NEXT"
    )
    yes_no = t(lang, "bill.yes" if inv.client_vat_payer else "bill.no")
    period = f"{inv.period_start:%d.%m.%Y} – {inv.period_end:%d.%m.%Y}"
    rows = [
        (t(lang, "bill.date"), f"{inv.issued_on:%d.%m.%Y}"),
        (t(lang, "bill.period"), period),
        (t(lang, "bill.seller"), f"{seller.name}, {t(lang, 'bill.inn')} {seller.inn or '—'}"),
        (t(lang, "bill.account"), seller.account or "—"),
        (t(lang, "bill.buyer"), f"{inv.client_name}, {t(lang, 'bill.inn')} {inv.client_inn}"),
        (t(lang, "bill.address"), inv.client_address or "—"),
        (t(lang, "bill.contract"), inv.client_contract or "—"),
        (t(lang, "bill.vat_payer"), yes_no),
    ]
    if inv.kind == "credit_note":
        rows.append((t(lang, "bill.reason"), inv.reason))
    _pairs(pdf, rows)
    if doc.other_number:
        key = "bill.credits" if inv.kind == "credit_note" else "bill.credited_by"
        pdf.set_font(FAMILY, "B", 10)
        pdf.set_text_color(170, 0, 0)
        pdf.cell(0, 7, t(lang, key, number=doc.other_number), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


def _table(pdf: FPDF, doc: Document, lang: Language, tz: ZoneInfo) -> None:
    pdf.set_font(FAMILY, "B", 7)
    for key, width, _align in COLUMNS:
        pdf.cell(width, 5, translate(lang, key), border=1, align="C")
    pdf.ln()
    pdf.set_font(FAMILY, "", 7)
    for x in doc.lines:
        unit = translate(lang, f"bill.unit.{x.unit}")
        price = money_text(x.price) + (f" {translate(lang, 'bill.minimum')}" if x.minimum else "")
        values = (
            str(x.line_no),
            _local(x.weighed_at, tz),
            x.ticket_number,
            display_plate(x.plate),
            _waste_name(x, lang)[:22],
            f"{x.net_kg:,}".replace(",", "\u2009"),
            f"{x.quantity:f} {unit}",
            price,
            money_text(x.net),
            money_text(x.vat),
            money_text(x.total),
        )
        for (_key, width, align), value in zip(COLUMNS, values, strict=True):
            pdf.cell(width, 4.5, value, border=1, align=align)
        pdf.ln()
    pdf.ln(3)


def _waste_totals(doc: Document, lang: Language) -> list[tuple[str, str]]:
    groups: dict[str, list[InvoiceLine]] = defaultdict(list)
    for x in doc.lines:
        groups[x.waste_code].append(x)
    rows = []
    for lines in groups.values():
        kg = sum(x.net_kg for x in lines)
        net = sum((x.net for x in lines), ZERO)
        total = sum((x.total for x in lines), ZERO)
        label = (
            f"{_waste_name(lines[0], lang)} ({translate(lang, 'bill.tickets', count=len(lines))})"
        )
        value = (
            f"{f'{kg:,}'.replace(',', chr(0x2009))} kg · {money_text(net)} · {money_text(total)}"
        )
        rows.append((label, value))
    return rows


def document_pdf(doc: Document, lang: Language, seller: Seller, tz: ZoneInfo) -> bytes:
    """The issued document as an A4 PDF in ``lang``."""
    inv = doc.invoice
    pdf = _pdf(f"{inv.kind} {doc.number}")
    pdf.set_font(FAMILY, "", 9)
    pdf.cell(0, 5, seller.name, new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, doc, lang, seller)
    _table(pdf, doc, lang, tz)
    pdf.set_font(FAMILY, "B", 9)
    pdf.cell(0, 5, translate(lang, "bill.by_waste"), new_x="LMARGIN", new_y="NEXT")
    _pairs(pdf, _waste_totals(doc, lang))
    pdf.ln(2)
    total_key = "bill.total" if inv.kind == "invoice" else "bill.total_credit"
    _pairs(
        pdf,
        [
            (translate(lang, "bill.net"), money_text(inv.net)),
            (translate(lang, "bill.vat", rate=_rate(inv.vat_rate)), money_text(inv.vat)),
            (
                translate(lang, "bill.sales_tax", rate=_rate(inv.sales_tax_rate)),
                money_text(inv.sales_tax),
            ),
            (translate(lang, total_key), money_text(inv.total)),
        ],
    )
    pdf.ln(10)
    pdf.set_font(FAMILY, "", 9)
    for key in ("bill.sign_director", "bill.sign_accountant"):
        pdf.cell(95, 5, f"{translate(lang, key)}: ______________")
    pdf.ln(8)
    pdf.set_font(FAMILY, "", 7)
    pdf.cell(0, 4, translate(lang, "bill.currency"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# ---- CSV --------------------------------------------------------------------------------------

CSV_HEADER = (
    "line", "ticket", "completed_at", "plate", "waste_type", "waste_name", "net_kg", "unit",
    "quantity", "price", "minimum", "net", "vat_rate", "vat", "sales_tax", "total", "invoice",
)  # fmt: skip


def _csv(rows: list[tuple[object, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return out.getvalue()


def document_csv(doc: Document, lang: Language) -> str:
    """The document's lines as CSV (UTF-8, comma separated, amounts with a point)."""
    return _csv(
        [
            (
                x.line_no,
                x.ticket_number,
                as_utc(x.weighed_at).isoformat(),  # type: ignore[union-attr]
                x.plate,
                x.waste_code,
                _waste_name(x, lang),
                x.net_kg,
                x.unit,
                x.quantity,
                x.price,
                str(x.minimum).lower(),
                x.net,
                x.vat_rate,
                x.vat,
                x.sales_tax,
                x.total,
                doc.number,
            )  # fmt: skip
            for x in doc.lines
        ]
    )


def statement_csv(statement: Statement, lang: Language) -> str:
    """A statement's lines as CSV; an unpriced line has empty amounts."""
    rows: list[tuple[object, ...]] = []
    for i, s in enumerate(statement.lines, start=1):
        c = s.charge
        names = dict(zip(("ky", "ru", "en"), s.waste_names, strict=True))
        rows.append(
            (
                i,
                s.number,
                s.completed_at.isoformat(),
                s.plate,
                s.waste_code,
                names[lang],
                s.net_kg,
                s.unit or "",
                "" if s.quantity is None else s.quantity,
                "" if s.price is None else s.price,
                str(bool(c and c.minimum)).lower(),
                c.net if c else "",
                s.vat_pct,
                c.vat if c else "",
                c.sales_tax if c else "",
                c.total if c else "",
                s.invoice_number or "",
            )  # fmt: skip
        )
    return _csv(rows)


# ---- ESF --------------------------------------------------------------------------------------


@dataclass
class EsfItem:
    """One ESF line: the document's lines of one waste type, unit, price and VAT rate."""

    name: str
    unit: str
    vat_rate: Decimal
    by_load: bool  # minimum charges: counted in loads, priced per load
    quantity: Decimal = ZERO
    loads: int = 0
    net: Decimal = ZERO
    vat: Decimal = ZERO
    sales_tax: Decimal = ZERO
    total: Decimal = ZERO

    def add(self, x: InvoiceLine) -> None:
        """Count one ticket line in (a credit note's negative lines count down)."""
        self.quantity += x.quantity
        self.loads += 1 if x.net >= 0 else -1
        self.net += x.net
        self.vat += x.vat
        self.sales_tax += x.sales_tax
        self.total += x.total

    @property
    def billed_quantity(self) -> Decimal:
        """Loads for minimum charges, else the summed quantity."""
        return Decimal(self.loads) if self.by_load else self.quantity

    @property
    def price(self) -> Decimal:
        """Amount without taxes per unit (the tariff's price unless minimums are mixed in)."""
        qty = self.billed_quantity
        return (self.net / qty).quantize(TYIYN) if qty else ZERO


def esf_items(doc: Document) -> list[EsfItem]:
    """The document's lines grouped for the ESF file, in order of first appearance."""
    groups: dict[tuple[object, ...], EsfItem] = {}
    for x in doc.lines:
        unit = "load" if x.minimum else x.unit
        key = (x.waste_code, unit, x.price, x.vat_rate, x.minimum)
        item = groups.setdefault(key, EsfItem(x.waste_name_ru, unit, x.vat_rate, x.minimum))
        item.add(x)
    return list(groups.values())


def _sub(parent: ET.Element, tag: str, text: object) -> None:
    ET.SubElement(parent, tag).text = str(text)


def esf_xml(doc: Document, seller: Seller) -> bytes:
    """The document as an ESF file for manual upload (layout reconstructed; docs/billing.md)."""
    inv = doc.invoice
    root = ET.Element("receipts", {"format": "landfill-esf-1"})
    r = ET.SubElement(root, "receipt")
    _sub(r, "documentType", "invoice" if inv.kind == "invoice" else "correction")
    _sub(r, "documentNumber", doc.number)
    _sub(r, "documentDate", inv.issued_on.isoformat())
    if inv.kind == "credit_note":
        _sub(r, "correctedDocumentNumber", doc.other_number or "")
        _sub(r, "correctionReason", inv.reason)
    _sub(r, "deliveryType", "services")
    _sub(r, "supplierTin", seller.inn)
    _sub(r, "supplierName", seller.name)
    _sub(r, "supplierBankAccount", seller.account)
    _sub(r, "contractorTin", inv.client_inn)
    _sub(r, "contractorName", inv.client_name)
    _sub(r, "contractorAddress", inv.client_address)
    _sub(r, "contractNumber", inv.client_contract)
    _sub(r, "deliveryPeriodStart", inv.period_start.isoformat())
    _sub(r, "deliveryPeriodEnd", inv.period_end.isoformat())
    _sub(r, "currency", "KGS")
    _sub(r, "vatRate", _rate(inv.vat_rate))
    _sub(r, "salesTaxRate", _rate(inv.sales_tax_rate))
    goods = ET.SubElement(r, "goods")
    for item in esf_items(doc):
        g = ET.SubElement(goods, "good")
        _sub(g, "name", item.name)
        _sub(g, "unit", ESF_UNITS[item.unit])
        _sub(g, "quantity", item.billed_quantity)
        _sub(g, "price", item.price)
        _sub(g, "amountWithoutTaxes", item.net)
        _sub(g, "vatRate", _rate(item.vat_rate))
        _sub(g, "vatAmount", item.vat)
        _sub(g, "salesTaxAmount", item.sales_tax)
        _sub(g, "totalAmount", item.total)
    _sub(r, "totalAmountWithoutTaxes", inv.net)
    _sub(r, "totalVatAmount", inv.vat)
    _sub(r, "totalSalesTaxAmount", inv.sales_tax)
    _sub(r, "totalAmount", inv.total)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
