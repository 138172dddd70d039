"""Inflow benchmark: a year of tickets and container readings in a real influxd, and the time
of each inflow query, the inflow page and the council's report.

    python -m bench.inflow [--tickets 100000] [--repeat 7]

Starts its own influxd (the project's config) on a free loopback port in a temporary folder
and writes, the way ingest writes them (`ingest.points`):
- a year of tickets (``--tickets``, default 100,000) over 50 clients, 150 vehicles, four
  waste types and three zones, 1 % of them voided: a `weighing` and an `inflow` point each;
- a year of hourly `fill` readings of the 33 demo containers, with their emptyings on their
  collection weekdays (`container_event`) and the hours they stood overfull.
Then it runs the API in-process (FastAPI's TestClient, SQLite, the demo container registry)
and times each request, best and median of ``--repeat`` after one warm-up:
0. the same-run baselines: InfluxDB's bare ``count`` of the year's `inflow` points, a request
   that touches nothing (`/api/v1/auth/me`), and the day sums of a year on `weighing` (one
   series per ticket, the voided ones filtered out), which is what `inflow` avoids;
1. each inflow query (tonnage by day, week and month, each tag, capacity) over the year;
2. the inflow page (default: twelve months by month; and one month by day; goal < 500 ms),
   the council's report (JSON and PDF).
The machine is shared (two cores): compare against the baselines of the same run.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from api.auth.tokens import create_token
from api.main import create_app
from deploy import stack
from ingest.lines import line
from ingest.points import to_lines
from landfill.contract import Ticket
from landfill.influx import InfluxStore
from landfill.measurements import CONTAINER_EVENT, FILL
from landfill.settings import ApiSettings

SITE = "dostuk"
TZ = ZoneInfo("Asia/Bishkek")
NOW = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # Tuesday, 10:00 in Bishkek
DEMO = Path(__file__).resolve().parents[1] / "api" / "data" / "containers_demo.csv"
WASTES = (("msw", 0.6, 1_000, 8_000), ("construction", 0.2, 4_000, 20_000),
          ("green", 0.1, 500, 4_000), ("tires", 0.1, 300, 3_000))  # fmt: skip
ZONES = ("dostuk", "burgondu", "road")


def _vehicles(rnd: random.Random) -> list[tuple[str | None, str, str, str, float]]:
    """(client, plate, waste type, zone, weight) of 150 vehicles; 30 without a client."""
    out = []
    for n in range(150):
        client = f"client-{n % 50:02d}" if n < 120 else None
        waste = rnd.choices([w[0] for w in WASTES], [w[1] for w in WASTES])[0]
        weight = 1 / (1 + n % 50)  # a few clients bring most of the waste
        out.append((client, f"0{n % 9 + 1}KG{100 + n:03d}ABC", waste, ZONES[n % 3], weight))
    return out


def ticket_lines(n: int, start: datetime, seed: int = 1) -> list[str]:
    """``n`` tickets over the year from ``start``, in working hours, as `weighing` and `inflow`."""
    rnd = random.Random(seed)
    vehicles = _vehicles(rnd)
    limits = {w[0]: (w[2], w[3]) for w in WASTES}
    times = sorted(
        start + timedelta(days=rnd.randrange(365), seconds=rnd.uniform(2 * 3600, 12 * 3600))
        for _ in range(n)
    )  # 08:00-18:00 in Bishkek
    lines: list[str] = []
    counters: dict[int, int] = {}
    for ts in times:
        client, plate, waste, zone, _ = rnd.choices(vehicles, [v[4] for v in vehicles])[0]
        year = ts.astimezone(TZ).year
        counters[year] = counters.get(year, 0) + 1
        low, high = limits[waste]
        net = rnd.randrange(low // 20, high // 20) * 20
        number = f"{year}-{counters[year]:06d}"
        msg = Ticket(
            id=f"t-{number}", ts=ts, site=SITE, number=number, status="completed", scale="s1",
            gross_kg=9_000 + net, tare_kg=9_000, net_kg=net, client=client, vehicle=plate,
            waste_type=waste, zone=zone,
        )  # fmt: skip
        lines += to_lines(msg)
        if rnd.random() < 0.01:
            lines += to_lines(msg.model_copy(update={"id": f"v-{number}", "status": "voided"}))
    return lines


def fill_lines(start: datetime, seed: int = 2) -> list[str]:
    """Hourly readings of the 33 demo containers for a year, emptied on their weekdays."""
    rnd = random.Random(seed)
    with DEMO.open(encoding="utf-8") as f:
        containers = list(csv.DictReader(f))
    lines: list[str] = []
    for c in containers:
        days = {int(d) for d in c["collection_weekdays"].split()}
        rate = rnd.uniform(0.3, 1.2)  # % an hour: some overflow before their day comes
        level = rnd.uniform(0, 50)
        tags = {"site": SITE, "container": c["code"], "zone": c["zone"]}
        for hour in range(365 * 24):
            ts = start + timedelta(hours=hour)
            local = ts.astimezone(TZ)
            if local.hour == 10 and local.weekday() in days and rnd.random() < 0.9:
                event = {"after_pct": 3.0, "before_pct": round(level, 1), "detail": "drop",
                         "id": f"e-{c['code']}-{hour}"}  # fmt: skip
                event_tags = {"site": SITE, "container": c["code"], "kind": "emptying"}
                lines.append(_line(CONTAINER_EVENT.name, event_tags, event, ts))
                level = 3.0
            level = min(100.0, level + rate * rnd.uniform(0.5, 1.5))
            fields = {"fill_pct": round(level, 1), "filtered_pct": round(level, 1),
                      "distance_mm": int(1450 - 10 * level), "battery_pct": 90.0,
                      "quality": "accepted", "overfull": level >= 100.0, "id": f"r-{hour}",
                      "tilt": False, "temp_c": 12.5}  # fmt: skip
            lines.append(_line(FILL.name, tags, fields, ts))
    return lines


def _line(name: str, tags: dict[str, str], fields: dict[str, Any], ts: datetime) -> str:
    written = line(name, tags, fields, int(ts.timestamp() * 1000))
    assert written is not None
    return written


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    """(first, best, median) milliseconds of ``call``: one cold run, then ``repeat`` more."""
    runs = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        call()
        runs.append((time.perf_counter() - t0) * 1000)
    return runs[0], min(runs[1:]), statistics.median(runs[1:])


def _get(client: TestClient, url: str) -> Callable[[], Any]:
    def call() -> Any:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code, resp.text[:200])
        return resp

    return call


def _report(label: str, figures: tuple[float, float, float], goal: str = "") -> None:
    first, best, median = figures
    print(f"  {label:46} first {first:7.1f}   best {best:7.1f}   median {median:7.1f} ms {goal}")


def seed(store: InfluxStore, tickets: int) -> None:
    """Write the year of tickets and readings, and say how much and how long."""
    start = NOW - timedelta(days=365)
    for name, lines in (
        ("tickets (weighing + inflow points)", ticket_lines(tickets, start)),
        ("fill readings and emptyings", fill_lines(start)),
    ):
        t0 = time.perf_counter()
        for i in range(0, len(lines), 5_000):
            store.write_lines(lines[i : i + 5_000])
        print(f"  {name:36} {len(lines):>9,} lines in {time.perf_counter() - t0:5.1f} s")


def api_client(store: InfluxStore, state: Path) -> TestClient:
    """The API in-process on this influxd, the demo containers, an auditor's token."""
    settings = ApiSettings(
        site=SITE,
        influx_url=store.url,
        influx_db=store.database,
        database_url=f"sqlite:///{state}/api.sqlite",
        mqtt_url="mqtt://127.0.0.1:9",  # no broker: the pages need none
        seed_demo=True,
    )
    app = create_app(settings)
    app.state.clock = lambda: NOW
    client = TestClient(app)
    client.__enter__()
    with app.state.sessions() as session:
        _, secret = create_token(session, "bench", "auditor", "bench", NOW)
        session.commit()
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def run(client: TestClient, store: InfluxStore, repeat: int) -> None:
    """Time the baselines, each query, the pages and the report."""
    year = {"start": (NOW - timedelta(days=364)).astimezone(TZ).date(), "end": date(2026, 11, 24)}
    span = f"start={year['start']}&end={year['end']}"
    params = {"site": SITE}
    print("== baselines (same run)")
    count = "SELECT count(counted_kg) FROM inflow WHERE site = $site"
    bare = timed(lambda: store.query(count, params), repeat)
    _report("InfluxDB: bare count of inflow points", bare)
    _report("API: GET /api/v1/auth/me (no query)", timed(_get(client, "/api/v1/auth/me"), repeat))
    slow = (
        "SELECT sum(net_kg) FROM weighing WHERE site = $site AND voided = false "
        "GROUP BY time(1d) fill(0) tz('Asia/Bishkek')"
    )
    _report(
        "InfluxDB: a year by day on weighing (1/ticket)",
        timed(lambda: store.query(slow, params), 1),
    )
    print("== inflow queries over the year (API routes, JSON)")
    for step in ("day", "week", "month"):
        url = f"/api/v1/inflow/tonnage?{span}&step={step}"
        _report(f"tonnage by {step}", timed(_get(client, url), repeat))
    for tag in ("waste_type", "zone", "client", "vehicle"):
        url = f"/api/v1/inflow/breakdown?{span}&by={tag}"
        _report(f"by {tag}", timed(_get(client, url), repeat))
    _report("capacity (3 statements)", timed(_get(client, "/api/v1/inflow/capacity"), repeat))
    print("== pages and the council's report")
    _report(
        "inflow page, 12 months by month (default)",
        timed(_get(client, "/inflow?lang=ru"), repeat),
        "(goal < 500 ms)",
    )
    october = "/inflow?start=2026-10-01&end=2026-10-31&step=day&lang=ru"
    month = timed(_get(client, october), repeat)
    _report("inflow page, one month by day", month, "(goal < 500 ms)")
    _report("council report, JSON", timed(_get(client, "/api/v1/reports/council"), repeat))
    _report("council report, print page", timed(_get(client, "/reports/council"), repeat))
    pdf = "/api/v1/reports/council/pdf?lang=ky"
    _report("council report, PDF", timed(_get(client, pdf), repeat))


def weekly(client: TestClient, repeat: int) -> None:
    """The same year in InfluxDB's default weekly shard groups: the page and two queries."""
    print("== the same year in weekly shard groups (InfluxDB 1.x's default; 53 shards)")
    span = f"start={(NOW - timedelta(days=364)).astimezone(TZ).date()}&end=2026-11-24"
    days = timed(_get(client, f"/api/v1/inflow/tonnage?{span}&step=day"), repeat)
    _report("tonnage by day", days)
    _report("by client", timed(_get(client, f"/api/v1/inflow/breakdown?{span}&by=client"), repeat))
    _report("inflow page, 12 months by month", timed(_get(client, "/inflow?lang=ru"), repeat))


def main(argv: list[str] | None = None) -> int:
    """Seed a year into a fresh influxd and print the figures."""
    p = argparse.ArgumentParser(prog="python -m bench.inflow", description=__doc__)
    p.add_argument("--tickets", type=int, default=100_000, help="tickets in the year")
    p.add_argument("--repeat", type=int, default=7, help="timed runs after the first")
    args = p.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-inflow-") as tmp:
        server = stack.start_influxd(Path(tmp) / "influxd", stack.free_port())
        try:
            with (
                InfluxStore(server.url, "bench", timeout=120) as store,
                InfluxStore(server.url, "bench_weekly", timeout=120) as old,
            ):
                store.ensure_database()  # as ingest makes it: yearly shard groups
                old.ensure_database()
                old.query('ALTER RETENTION POLICY "autogen" ON "bench_weekly" SHARD DURATION 7d')
                print(f"== seeding a year ({args.tickets:,} tickets, 33 containers hourly)")
                seed(store, args.tickets)
                seed(old, args.tickets)
                clients = [api_client(store, Path(tmp) / "a"), api_client(old, Path(tmp) / "b")]
                try:
                    run(clients[0], store, args.repeat)
                    weekly(clients[1], args.repeat)
                finally:
                    for client in clients:
                        client.__exit__(None, None, None)
        finally:
            server.stop()
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
