"""The billing tables on SQLite and PostgreSQL: issued invoices refuse change, billed revenue.

Rows are written straight into a migrated database, so what is tested is the database's own
rule (the triggers of migration 0005), not the API's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from api import db
from api.billing.models import Invoice, InvoiceLine
from api.billing.revenue import billed_revenue
from api.weighbridge.models import Client, Ticket, Vehicle


@pytest.fixture
def session(any_database_url) -> Iterator[Session]:
    """A session on a freshly migrated database of either kind."""
    engine = db.make_engine(any_database_url)
    db.migrate(engine)
    with db.session_factory(engine)() as session:
        yield session
    engine.dispose()


def _site(session: Session) -> tuple[int, Client, Ticket]:
    site = db.Site(code="dostuk", name="Dostuk")
    session.add(site)
    session.flush()
    client = Client(site_id=site.id, code="c1", name="Firm", inn="01234567890123", vat_payer=True)
    session.add(client)
    session.flush()
    vehicle = Vehicle(site_id=site.id, plate="01KG123ABC", client_id=client.id)
    session.add(vehicle)
    session.flush()
    ticket = Ticket(site_id=site.id, vehicle_id=vehicle.id, plate=vehicle.plate, status="completed")
    session.add(ticket)
    session.commit()
    return site.id, client, ticket


def _invoice(site_id: int, client: Client, number: int, issued_on: date, net: str, **kw) -> Invoice:
    amount = Decimal(net)
    values = {
        "site_id": site_id,
        "kind": "invoice",
        "year": issued_on.year,
        "number": number,
        "client_id": client.id,
        "client_code": client.code,
        "client_name": client.name,
        "client_inn": client.inn,
        "client_vat_payer": True,
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 2, 1),
        "issued_on": issued_on,
        "issued_at": datetime(issued_on.year, issued_on.month, issued_on.day, 6, tzinfo=UTC),
        "issued_by": "acc",
        "vat_rate": Decimal("12.00"),
        "sales_tax_rate": Decimal("0.00"),
        "net": amount,
        "vat": (amount * Decimal("0.12")).quantize(Decimal("0.01")),
        "sales_tax": Decimal("0.00"),
        "total": (amount * Decimal("1.12")).quantize(Decimal("0.01")),
    }
    return Invoice(**(values | kw))


def _line(invoice: Invoice, ticket: Ticket) -> InvoiceLine:
    return InvoiceLine(
        invoice_id=invoice.id,
        line_no=1,
        ticket_id=ticket.id,
        ticket_number="2026-000001",
        weighed_at=datetime(2026, 1, 5, tzinfo=UTC),
        plate=ticket.plate,
        waste_code="msw",
        waste_name_ky="ТКН",
        waste_name_ru="ТКО",
        waste_name_en="MSW",
        net_kg=1000,
        unit="t",
        quantity=Decimal("1.000"),
        price=invoice.net,
        minimum=False,
        net=invoice.net,
        vat_rate=Decimal("12.00"),
        vat=invoice.vat,
        sales_tax=Decimal("0.00"),
        total=invoice.total,
    )


def test_issued_invoice_rows_refuse_update_and_delete(session):
    site_id, client, ticket = _site(session)
    invoice = _invoice(site_id, client, 1, date(2026, 2, 2), "445.00")
    session.add(invoice)
    session.flush()
    session.add(_line(invoice, ticket))
    session.commit()
    statements = [
        update(Invoice).where(Invoice.id == invoice.id).values(net=Decimal("1.00")),
        update(InvoiceLine).values(total=Decimal("1.00")),
        delete(InvoiceLine),
        delete(Invoice),
    ]
    for stmt in statements:
        with pytest.raises(DatabaseError, match="immutable"):
            session.execute(stmt)
        session.rollback()
    # raw SQL too, as another program would send it
    with pytest.raises(DatabaseError, match="immutable"):
        session.execute(text("UPDATE invoice SET total = 0"))
    session.rollback()
    assert session.get(Invoice, invoice.id).net == Decimal("445.00")


def test_billed_revenue_is_invoices_minus_credit_notes_in_the_window(session):
    site_id, client, _ = _site(session)
    jan = _invoice(site_id, client, 1, date(2026, 1, 31), "100.10")
    feb = _invoice(site_id, client, 2, date(2026, 2, 1), "445.00")
    feb2 = _invoice(site_id, client, 3, date(2026, 2, 28), "0.05")
    session.add_all([jan, feb, feb2])
    session.flush()
    credit = _invoice(site_id, client, 4, date(2026, 2, 10), "-100.10", kind="credit_note")
    credit.credits_invoice_id = jan.id
    march = _invoice(site_id, client, 5, date(2026, 3, 1), "9.99")
    session.add_all([credit, march])
    session.commit()
    assert billed_revenue(session, site_id, date(2026, 2, 1), date(2026, 3, 1)) == Decimal("344.95")
    assert billed_revenue(session, site_id, date(2026, 1, 1), date(2026, 2, 1)) == Decimal("100.10")
    assert billed_revenue(session, site_id, date(2025, 1, 1), date(2026, 1, 1)) == Decimal("0.00")
    assert billed_revenue(session, site_id + 1, date(2026, 1, 1), date(2027, 1, 1)) == 0
