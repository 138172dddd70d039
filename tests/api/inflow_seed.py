"""Seed data of the inflow and council tests: tickets, containers, emptyings, overfull readings.

Tickets go through ingest's own `to_lines` (the `weighing` and `inflow` points a real ticket
message becomes). Times are written in Bishkek local time; several sit near midnight, where
the UTC day or month differs from the local one. The expected figures are worked out here
from these tables with zoneinfo alone, independently of `api/inflow`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import select

from api.billing.models import Invoice
from api.db import Site
from api.weighbridge.models import Client
from ingest.points import to_lines
from landfill.contract import Ticket
from landfill.influx import InfluxStore
from tests.api.seed import emptying_line, fill_lines

BISHKEK = ZoneInfo("Asia/Bishkek")


@dataclass(frozen=True)
class Seeded:
    """One ticket of the scenario."""

    number: str
    local: str  # YYYY-MM-DD HH:MM in Bishkek
    net_kg: int
    client: str | None
    vehicle: str
    waste_type: str
    zone: str
    voided: bool = False

    @property
    def ts(self) -> datetime:
        """The completion time in UTC."""
        return datetime.fromisoformat(self.local).replace(tzinfo=BISHKEK).astimezone(UTC)

    @property
    def day(self) -> date:
        """The local day."""
        return datetime.fromisoformat(self.local).date()


A, T = "acme", "tazalyk"
TICKETS = (
    Seeded("2026-000001", "2026-05-12 10:00", 4_000, A, "01KG123ABC", "msw", "dostuk"),
    Seeded("2026-000002", "2026-06-03 11:00", 6_000, A, "01KG123ABC", "msw", "dostuk"),
    Seeded("2026-000003", "2026-07-20 09:00", 5_000, None, "02KG555BBB", "msw", "burgondu"),
    Seeded("2026-000004", "2026-08-14 12:00", 7_000, T, "03KG777CCC", "construction", "road"),
    Seeded("2026-000005", "2026-09-09 10:00", 8_000, A, "01KG123ABC", "msw", "dostuk"),
    # 00:30 on 1 October in Bishkek is 18:30 on 30 September in UTC: an October ticket
    Seeded("2026-000006", "2026-10-01 00:30", 2_500, A, "01KG123ABC", "msw", "dostuk"),
    Seeded("2026-000007", "2026-10-05 10:00", 9_000, T, "03KG777CCC", "construction", "road"),
    Seeded("2026-000008", "2026-10-05 15:00", 1_200, None, "02KG555BBB", "green", "burgondu"),
    Seeded("2026-000009", "2026-10-19 09:00", 11_000, A, "01KG123ABC", "msw", "dostuk", True),
    Seeded("2026-000010", "2026-10-21 09:15", 6_600, T, "04KG999DDD", "msw", "road"),
    Seeded("2026-000011", "2026-10-31 23:50", 4_400, A, "01KG123ABC", "msw", "dostuk"),
    # 00:10 on 1 November in Bishkek is still 31 October in UTC: a November ticket
    Seeded("2026-000012", "2026-11-01 00:10", 3_300, T, "03KG777CCC", "construction", "road"),
    Seeded("2026-000013", "2026-11-23 10:00", 5_500, A, "01KG123ABC", "msw", "dostuk"),
)
WASTE_NAMES = {"msw": "Тиричилик калдыктары", "construction": "Курулуш калдыктары"}


def ticket_message(site: str, s: Seeded, status: str = "completed") -> Ticket:
    """The ticket message the API would publish."""
    return Ticket(
        id=f"{s.number}-{status}",
        ts=s.ts,
        site=site,
        number=s.number,
        status=status,  # type: ignore[arg-type]
        scale="s1",
        gross_kg=8_000 + s.net_kg,
        tare_kg=8_000,
        net_kg=s.net_kg,
        client=s.client,
        vehicle=s.vehicle,
        waste_type=s.waste_type,
        zone=s.zone,
    )


def ticket_lines(site: str, tickets=TICKETS) -> list[str]:
    """The points of every ticket as ingest writes them; a voided one completed, then voided."""
    lines: list[str] = []
    for s in tickets:
        lines += to_lines(ticket_message(site, s))
        if s.voided:
            lines += to_lines(ticket_message(site, s, "voided"))
    return lines


def counted(first: date | None = None, last: date | None = None) -> list[Seeded]:
    """The tickets that count (not voided) with a local day in [first, last]."""
    return [
        s
        for s in TICKETS
        if not s.voided and (first is None or s.day >= first) and (last is None or s.day <= last)
    ]


def by_key(tickets: list[Seeded], key) -> dict[object, tuple[int, int]]:
    """(net kg, tickets) per key."""
    out: dict[object, list[int]] = defaultdict(lambda: [0, 0])
    for s in tickets:
        out[key(s)][0] += s.net_kg
        out[key(s)][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


# containers of the council's report: (code, settlement, collection weekdays, full %)
CONTAINERS = (
    ("dos-1", "Dostuk", [0], 80.0),  # Mondays: 5, 12, 19, 26 October
    ("dos-2", "Dostuk", [3], 80.0),  # Thursdays: 1, 8, 15, 22, 29 October
    ("nosh-1", "Noshken", [2], 75.0),  # Wednesdays: 7, 14, 21, 28 October
)
# emptyings: (id, container, local time, level before)
EMPTYINGS = (
    ("e1", "dos-1", "2026-10-05 10:00", 60.0),
    ("e2", "dos-1", "2026-10-12 10:00", 90.0),
    ("e3", "dos-1", "2026-10-20 10:00", 70.0),  # a Tuesday: off schedule
    # 01:30 on 1 October in Bishkek is 30 September in UTC: the Thursday round of 1 October
    ("e4", "dos-2", "2026-10-01 01:30", 50.0),
    ("e5", "dos-2", "2026-10-08 10:00", 50.0),
    ("e6", "dos-2", "2026-10-15 10:00", 50.0),
    ("e7", "dos-2", "2026-10-22 10:00", 50.0),
    ("e8", "dos-2", "2026-10-29 10:00", 50.0),
    ("e9", "nosh-1", "2026-10-07 10:00", 95.0),
    ("e10", "nosh-1", "2026-10-14 10:00", 40.0),  # rejected by the dispatcher in the test
    ("e11", "dos-1", "2026-09-21 10:00", 85.0),  # September: the previous month
)
REJECTED = "e10"


def local(text: str) -> datetime:
    """A Bishkek wall-clock time as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=BISHKEK).astimezone(UTC)


def overflow_lines(site: str) -> list[str]:
    """Overfull readings: nosh-1 for ten hours, dos-1 twice within one hour, one in September."""
    start = local("2026-10-06 20:00")
    hours = [(start + timedelta(hours=h), 100.0) for h in range(10)]
    return [
        *fill_lines(site, "nosh-1", "noshken", hours, overfull=True),
        *fill_lines(site, "dos-1", "dostuk", [(local("2026-10-12 08:05"), 100.0)]),
        *fill_lines(site, "dos-1", "dostuk", [(local("2026-10-12 08:40"), 99.0)], overfull=True),
        *fill_lines(site, "dos-1", "dostuk", [(local("2026-10-11 08:00"), 70.0)]),  # not full
        *fill_lines(site, "dos-2", "dostuk", [(local("2026-09-28 12:00"), 100.0)]),
    ]


def seed_containers(api) -> None:
    """Register the report's containers through the API."""
    for code, settlement, weekdays, full_pct in CONTAINERS:
        body = {
            "code": code,
            "settlement": settlement,
            "zone": settlement.lower(),
            "lat": 41.1,
            "lon": 72.6,
            "empty_mm": 1450,
            "full_mm": 450,
            "full_pct": full_pct,
            "clear_pct": full_pct - 10,
            "collection_weekdays": weekdays,
        }
        resp = api.post("/api/v1/containers", json=body)
        assert resp.status_code == 201, resp.text


# invoices and credit notes: (number, kind, issued on, net som); October: 1000.50 + 2345.25
# - 345.75 = 3000.00; September: 500.00; November's is outside both months
INVOICES = (
    (1, "invoice", date(2026, 9, 30), "500.00"),
    (2, "invoice", date(2026, 10, 1), "1000.50"),
    (3, "invoice", date(2026, 10, 31), "2345.25"),
    (4, "credit_note", date(2026, 10, 15), "-345.75"),
    (5, "invoice", date(2026, 11, 1), "9999.99"),
)


def seed_invoices(app: FastAPI, site: str) -> None:
    """Issued invoices of the client acme, straight into the ledger, as billing keeps them."""
    with app.state.sessions() as session:
        site_id = session.scalar(select(Site.id).where(Site.code == site))
        client = Client(site_id=site_id, code=A, name="ОсОО «Акме»", inn="01803200210104")
        session.add(client)
        session.flush()
        ids: dict[int, int] = {}
        for number, kind, issued_on, net in INVOICES:
            amount = Decimal(net)
            row = Invoice(
                site_id=site_id,
                kind=kind,
                year=issued_on.year,
                number=number,
                client_id=client.id,
                client_code=A,
                client_name=client.name,
                client_inn=client.inn,
                client_vat_payer=True,
                period_start=issued_on.replace(day=1),
                period_end=issued_on.replace(day=28),
                issued_on=issued_on,
                issued_at=datetime.combine(issued_on, time(10), BISHKEK),
                issued_by="accountant",
                vat_rate=Decimal("12.00"),
                sales_tax_rate=Decimal("0.00"),
                net=amount,
                vat=(amount * Decimal("0.12")).quantize(Decimal("0.01")),
                sales_tax=Decimal("0.00"),
                total=(amount * Decimal("1.12")).quantize(Decimal("0.01")),
                credits_invoice_id=ids[2] if kind == "credit_note" else None,
                reason="weight corrected" if kind == "credit_note" else "",
            )
            session.add(row)
            session.flush()
            ids[number] = row.id
        session.commit()


def seed_council(api, influx: InfluxStore, site: str) -> None:
    """Tickets, containers, emptyings (one rejected through the API), overfull readings and
    invoices."""
    seed_containers(api)
    seed_invoices(api.app, site)
    lines = ticket_lines(site) + overflow_lines(site)
    for event_id, container, when, before in EMPTYINGS:
        lines.append(emptying_line(site, container, local(when), before, 5.0, event_id))
    influx.write_lines(lines)
    resp = api.post(f"/api/v1/dispatch/emptyings/{REJECTED}/reject", json={"note": "sensor"})
    assert resp.status_code == 201, resp.text
