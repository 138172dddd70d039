"""Billing benchmark: a year of tickets straight into the SQL store, then a monthly statement
and an invoice run for every client, each beside a bare SELECT of the same rows.

    python -m bench.billing [--tickets 100000] [--clients 50] [--database-url URL | --postgres]

1. data: ``--tickets`` completed tickets of 2025 over ``--clients`` clients (a few big haulers,
   many small ones: weights by a Zipf-like law), 5 waste types, tariffs for everyone, for a
   group and for single clients, with a price change on 1 July; inserted with executemany.
2. statement: `build_statement` of the busiest client in March (median of ``--repeat`` runs);
   baseline: a bare SELECT of that client's March ticket rows (the same rows, no pricing).
3. invoice run: `invoice_run` for all clients of a month (every invoice its own transaction,
   numbered, with its lines and audit row), for three months; baseline: a bare SELECT of the
   month's ticket rows of the site.

Goals (issue 13): statement < 200 ms, invoice run for 50 clients < 10 s. SQLite in a temporary
folder unless ``--database-url`` names another database (it must be empty; it is migrated), or
``--postgres`` starts a throwaway PostgreSQL (`deploy/stack.py`, fsync off, as the tests do).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from api import db
from api.auth.audit import Actor
from api.billing.invoices import invoice_run
from api.billing.models import Tariff
from api.billing.statements import Rates, build_statement, month_bounds
from api.weighbridge.models import Client, Ticket, Vehicle, WasteType
from deploy import stack

WASTES = ("msw", "construction", "green", "bulky", "industrial")
RATES = Rates(Decimal("12"), Decimal("2"))
ACTOR = Actor("bench", "cli", "billing")


def seed_registry(session: Session, clients: int) -> tuple[int, list[int], list[int], list[int]]:
    """The site, clients (every third a VAT payer, every fifth in a group), vehicles, wastes."""
    site = db.Site(code="bench", name="bench", timezone="Asia/Bishkek")
    session.add(site)
    session.flush()
    wastes = []
    for code in WASTES:
        w = WasteType(site_id=site.id, code=code, name_ky=code, name_ru=code, name_en=code)
        session.add(w)
        session.flush()
        wastes.append(w.id)
    client_ids, vehicle_ids = [], []
    for i in range(clients):
        c = Client(
            site_id=site.id,
            code=f"c{i:03d}",
            name=f"Firm {i}",
            inn=f"0{i:013d}",
            vat_payer=i % 3 == 0,
            tariff_group="haulers" if i % 5 == 0 else "",
        )
        session.add(c)
        session.flush()
        client_ids.append(c.id)
        for k in range(2):
            v = Vehicle(site_id=site.id, plate=f"01KG{i:03d}{k}AB", client_id=c.id, volume_m3=16.0)
            session.add(v)
            session.flush()
            vehicle_ids.append(v.id)
    session.commit()
    return site.id, client_ids, vehicle_ids, wastes


def seed_tariffs(session: Session, site_id: int, clients: list[int], wastes: list[int]) -> None:
    """Everyone's per-tonne tariff per waste with a price change on 1 July; a group's per-m³
    tariff for construction waste; two clients' own per-load tariffs."""
    rows: list[dict[str, Any]] = []
    for i, waste in enumerate(wastes):
        for n, (start, end, price) in enumerate(
            ((date(2025, 1, 1), date(2025, 6, 30), 445), (date(2025, 7, 1), None, 500))
        ):
            rows.append(
                {"code": f"w{i}-{n}", "waste_type_id": waste, "unit": "t",
                 "price": Decimal(price + 10 * i), "min_charge": Decimal(250),
                 "valid_from": start, "valid_to": end}
            )  # fmt: skip
    rows.append(
        {"code": "haulers", "client_group": "haulers", "waste_type_id": wastes[1], "unit": "m3",
         "price": Decimal(361), "valid_from": date(2025, 1, 1)}
    )  # fmt: skip
    for k in (1, 2):
        rows.append(
            {"code": f"own{k}", "client_id": clients[k], "unit": "load",
             "price": Decimal(1500), "vat": False, "valid_from": date(2025, 1, 1)}
        )  # fmt: skip
    now = datetime.now(UTC)
    for row in rows:
        session.add(Tariff(site_id=site_id, created_at=now, updated_at=now, **row))
    session.commit()


def seed_tickets(
    session: Session,
    site_id: int,
    clients: list[int],
    vehicles: list[int],
    wastes: list[int],
    n: int,
) -> None:
    """``n`` completed tickets of 2025 between 08:00 and 17:00 Bishkek, Zipf-weighted clients."""
    rnd = random.Random(13)
    weights = [1 / (i + 1) ** 0.8 for i in range(len(clients))]
    start = datetime(2025, 1, 1, 2, tzinfo=UTC)  # 08:00 in Bishkek
    chunk: list[dict[str, Any]] = []
    picks = rnd.choices(range(len(clients)), weights, k=n)
    for number, ci in enumerate(picks, start=1):
        at = start + timedelta(days=rnd.randrange(365), seconds=rnd.randrange(9 * 3600))
        net = rnd.randrange(200, 20000, 20)
        chunk.append(
            {"site_id": site_id, "status": "completed", "year": 2025, "number": number,
             "vehicle_id": vehicles[2 * ci + rnd.randrange(2)], "plate": f"01KG{ci:03d}0AB",
             "client_id": clients[ci], "client_code": f"c{ci:03d}", "client_name": f"Firm {ci}",
             "waste_type_id": wastes[rnd.randrange(len(wastes))], "waste_code": "msw",
             "gross_kg": net + 9000, "tare_kg": 9000, "net_kg": net, "tare_source": "weighed",
             "opened_at": at, "completed_at": at, "published_at": at}
        )  # fmt: skip
        if len(chunk) == 10_000:
            session.execute(insert(Ticket), chunk)
            chunk = []
    if chunk:
        session.execute(insert(Ticket), chunk)
    session.commit()


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in ms."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bare_rows(session: Session, site_id: int, month: date, client_id: int | None) -> int:
    """The baseline: the month's ticket rows (of one client, or all), no pricing."""
    start, end = month_bounds(month, ZoneInfo("Asia/Bishkek"))
    stmt = select(Ticket.__table__).where(
        Ticket.site_id == site_id,
        Ticket.status == "completed",
        Ticket.completed_at >= start,
        Ticket.completed_at < end,
    )
    if client_id is not None:
        stmt = stmt.where(Ticket.client_id == client_id)
    return len(session.execute(stmt).all())


def main(argv: list[str] | None = None) -> int:
    """Generate the data, run the two measurements, print the figures."""
    p = argparse.ArgumentParser(prog="python -m bench.billing", description=__doc__)
    p.add_argument("--tickets", type=int, default=100_000)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--repeat", type=int, default=20, help="runs of the statement")
    p.add_argument("--database-url", default="", help="an empty database; default SQLite in /tmp")
    p.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL (fsync off) for it"
    )
    args = p.parse_args(argv)
    if not args.postgres:
        folder = Path(tempfile.mkdtemp(prefix="bench-billing-"))
        return run(args.database_url or f"sqlite:///{folder}/b.sqlite", args)
    server = stack.start_postgres(Path(tempfile.mkdtemp(prefix="bench-pg-")), stack.free_port())
    try:
        return run(server.url, args)
    finally:
        server.stop()
        shutil.rmtree(server.state, ignore_errors=True)


def run(url: str, args: argparse.Namespace) -> int:
    """Seed the database at ``url``, measure, print."""
    engine = db.make_engine(url)
    db.migrate(engine)
    sessions = db.session_factory(engine)
    t0 = time.perf_counter()
    with sessions() as s:
        site_id, clients, vehicles, wastes = seed_registry(s, args.clients)
        seed_tariffs(s, site_id, clients, wastes)
        seed_tickets(s, site_id, clients, vehicles, wastes, args.tickets)
    print(f"== data: {args.tickets:,} tickets of 2025, {args.clients} clients, "
          f"{engine.dialect.name}, inserted in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    statement_figures(sessions, site_id, args.repeat)
    run_figures(sessions, site_id)
    engine.dispose()
    return 0


def statement_figures(sessions: Callable[[], Session], site_id: int, repeat: int) -> None:
    """The busiest client's March statement against the bare SELECT of its rows."""
    march = date(2025, 3, 1)
    with sessions() as s:
        site = s.get(db.Site, site_id)
        assert site is not None
        start, end = month_bounds(march, ZoneInfo(site.timezone))
        busiest = s.execute(
            select(Ticket.client_id, func.count())
            .where(Ticket.completed_at >= start, Ticket.completed_at < end)
            .group_by(Ticket.client_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        client = s.get(Client, busiest[0])
        assert client is not None
        lines = len(build_statement(s, site, client, march, RATES).lines)
        ms = timed(lambda: build_statement(s, site, client, march, RATES), repeat)
        base = timed(lambda: bare_rows(s, site_id, march, client.id), repeat)
    print(f"== monthly statement, busiest client in March ({lines} tickets; goal < 200 ms)")
    print(f"  statement {ms:.1f} ms   bare SELECT of the same rows {base:.1f} ms   "
          f"ratio {ms / base:.1f} x")  # fmt: skip


def run_figures(sessions: Callable[[], Session], site_id: int) -> None:
    """Invoice runs of three months against the bare SELECT of each month's rows."""
    print("== invoice run, all clients of a month (goal < 10 s for 50 clients)")
    for month in (date(2025, 3, 1), date(2025, 7, 1), date(2025, 11, 1)):
        with sessions() as s:
            site = s.get(db.Site, site_id)
            assert site is not None
            rows = bare_rows(s, site_id, month, None)
            base = timed(lambda m=month: bare_rows(s, site_id, m, None), 5)  # type: ignore[misc]
            t0 = time.perf_counter()
            result = invoice_run(
                s, site, month, RATES, ACTOR, lambda: datetime(2026, 1, 10, tzinfo=UTC)
            )
            seconds = time.perf_counter() - t0
        issued = len(result.issued)
        print(f"  {month:%Y-%m}: {issued} invoices, {rows:,} lines in {seconds:.2f} s   "
              f"bare SELECT {base:.1f} ms   ratio {seconds * 1000 / base:.0f} x   "
              f"skipped {len(result.skipped)}")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
