"""The billing tables on SQLite and PostgreSQL: issued invoices refuse change, billed revenue,
gap-free invoice numbers under concurrent issues and credits.

Rows are written straight into a migrated database, so what is tested is the database's own
rule (the triggers of migration 0005) and its locks, not the API's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from api import db
from api.auth.audit import Actor
from api.billing.invoices import credit_invoice, issue_invoice
from api.billing.models import Invoice, InvoiceCounter, InvoiceLine, Tariff
from api.billing.refusals import BillingRefusal
from api.billing.revenue import billed_revenue
from api.billing.statements import Rates
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


# ---- gap-free numbers under concurrency -------------------------------------------------------

CLIENTS = 8


def _seed_month(session: Session) -> int:
    """A site, a tariff for everyone, and CLIENTS clients with two October tickets each."""
    site = db.Site(code="dostuk", name="Dostuk")
    session.add(site)
    session.flush()
    session.add(
        Tariff(
            site_id=site.id,
            code="all",
            unit="t",
            price=Decimal("445.00"),
            min_charge=Decimal("0"),
            vat=True,
            valid_from=date(2026, 1, 1),
        )
    )
    for i in range(CLIENTS):
        client = Client(
            site_id=site.id, code=f"c{i}", name=f"Firm {i}", inn="01234567890123", vat_payer=True
        )
        session.add(client)
        session.flush()
        vehicle = Vehicle(site_id=site.id, plate=f"01KG{i:03d}AAA", client_id=client.id)
        session.add(vehicle)
        session.flush()
        for n in range(2):
            session.add(
                Ticket(
                    site_id=site.id,
                    vehicle_id=vehicle.id,
                    plate=vehicle.plate,
                    client_id=client.id,
                    client_code=client.code,
                    status="completed",
                    year=2026,
                    number=i * 2 + n + 1,
                    net_kg=1000 * (n + 1),
                    completed_at=datetime(2026, 10, 10 + n, 6, tzinfo=UTC),
                )
            )
    session.commit()
    return site.id


def _race(factories, jobs) -> list[object]:
    """Run every job at once, each on a session of one of the two engines (two processes)."""
    barrier = threading.Barrier(len(jobs))

    def run(i: int, job):
        with factories[i % 2]() as session:
            site = session.scalar(select(db.Site))
            barrier.wait()
            try:
                return job(session, site)
            except BillingRefusal as refusal:
                return refusal.code

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(run, range(len(jobs)), jobs))


def test_invoice_numbers_stay_gap_free_under_concurrent_issues_and_credits(any_database_url):
    engines = [db.make_engine(any_database_url) for _ in range(2)]
    db.migrate(engines[0])
    factories = [db.session_factory(e) for e in engines]
    with factories[0]() as session:
        site_id = _seed_month(session)
    actor = Actor("acc", "user", "billing")
    rates = Rates(Decimal("12"), Decimal("0"))
    now = datetime(2026, 11, 2, 4, tzinfo=UTC)

    def issue(code):
        return lambda s, site: (
            issue_invoice(s, site, code, date(2026, 10, 1), rates, actor, now).number
        )

    # every client invoiced twice at the same moment: one wins, one finds nothing left
    results = _race(factories, [issue(f"c{i % CLIENTS}") for i in range(2 * CLIENTS)])
    numbers = sorted(r for r in results if isinstance(r, int))
    assert numbers == list(range(1, CLIENTS + 1))
    assert results.count("nothing_to_invoice") == CLIENTS
    with factories[0]() as session:
        invoices = session.scalars(select(Invoice).order_by(Invoice.number)).all()
        ids = [i.id for i in invoices]
        billed = session.scalars(select(InvoiceLine.ticket_id)).all()
        assert sorted(billed) == sorted(set(billed))  # no ticket on two invoices
        assert len(billed) == 2 * CLIENTS
        assert {i.total for i in invoices} == {Decimal("1495.20")}  # 3 t x 445 + 12 %

    def credit(invoice_id):
        return lambda s, site: credit_invoice(s, site, invoice_id, "race", actor, now).number

    # every invoice credited twice at once: one credit note each, numbers go on without a gap
    results = _race(factories, [credit(ids[i % CLIENTS]) for i in range(2 * CLIENTS)])
    assert sorted(r for r in results if isinstance(r, int)) == list(
        range(CLIENTS + 1, 2 * CLIENTS + 1)
    )
    assert results.count("already_credited") == CLIENTS
    with factories[0]() as session:
        assert billed_revenue(session, site_id, date(2026, 11, 1), date(2026, 12, 1)) == 0
        assert session.scalar(select(InvoiceCounter.last_number)) == 2 * CLIENTS
    for e in engines:
        e.dispose()
