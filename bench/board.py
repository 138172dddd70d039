"""Dispatcher board benchmark: board and route times beside InfluxDB's own floor.

    python -m bench.board [--containers 33,500,2000] [--days 14] [--repeat 3]

For each size, in a temporary folder with its own influxd, mosquitto and `landfill api`
process (SQLite registry):
1. registers the containers by CSV import (`POST /api/v1/containers/import`);
2. plays hourly readings for ``--days`` days up to now through the fill processor as ingest
   runs it (timers tick hourly) and writes what ingest would write straight into InfluxDB:
   `fill`, `fill_state`, and the `container_alert` and `container_event` points of the
   messages it publishes. Containers fill at their own rates, faster on weekends, and are
   emptied on their collection day; 1 % never report and 2 % have been silent for six hours;
3. times, median of ``--repeat`` after one warm-up each: the floor (one InfluxDB query that
   returns the last `fill` point of every container), `GET /api/v1/dispatch/board` (first page)
   and `GET /api/v1/dispatch/route` (tomorrow), and prints each beside the floor; with
   ``--recompute-up-to``, also the board's recomputation from the history (the code path before
   the kept state, in this process, no HTTP) for sizes up to that.
Also printed: the fill processor's time per reading and the part of it the kept state takes.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import httpx

from api.container_registry import CSV_COLUMNS
from deploy import stack
from ingest.fill.keeper import StateKeeper
from ingest.fill.processor import FillProcessor
from ingest.fill.tracker import Derived
from ingest.pipeline import Output
from ingest.points import to_lines
from landfill.contract import ContainerReading, ContainerRegistry
from landfill.fill.spec import ContainerSpec
from landfill.influx import InfluxStore
from landfill.settings import ApiSettings

SITE = "bench"
EMPTY_MM, FULL_MM = 1450, 450
WEEKEND = (1.0, 0.9, 0.9, 1.2, 1.0, 1.3, 1.4)  # fill factor per weekday, Monday first
FLOOR = "SELECT * FROM fill WHERE site = $site GROUP BY container ORDER BY time DESC LIMIT 1"


def play(
    registry: ContainerRegistry,
    readings: Iterable[ContainerReading],
    end: datetime,
    *,
    tz: tzinfo | None = None,
    tick: timedelta = timedelta(minutes=10),
    keeper: StateKeeper | None = None,
    state_path: Path | str = ":memory:",
) -> Iterator[str]:
    """The lines ingest writes for these readings (in time order), timers ticking every ``tick``.

    The fill processor's own lines (`fill`, `fill_state`) and the alert and event messages it
    publishes, stored as ingest stores them when they come back from the broker.
    """
    processor = FillProcessor(state_path, tz=tz or ApiSettings().tz, keeper=keeper)
    processor.use_registry(registry)
    clock: datetime | None = None
    try:
        for r in readings:
            clock = clock or r.ts
            while clock <= r.ts:
                yield from _lines(processor.tick(clock))
                clock += tick
            yield from _lines(processor.process(r))
        yield from _lines(processor.tick(end))
    finally:
        processor.close()


def _lines(out: Output) -> Iterator[str]:
    yield from out.lines
    for message in out.publish:
        yield from to_lines(message)


# ---- the synthetic region ---------------------------------------------------------------------


@dataclass(frozen=True)
class BenchContainer:
    """One container of the synthetic region and how it behaves."""

    spec: ContainerSpec
    rate: float  # %/day on a factor-1 day
    silent_hours: int  # no readings for this long before now (-1: never reports)


def region(n: int, seed: int = 15) -> list[BenchContainer]:
    """``n`` containers in 60 settlements of 6 zones, about 60 km across, around the depot."""
    rnd = random.Random(seed)
    settings = ApiSettings()
    towns = [
        (settings.depot_lat + rnd.uniform(-0.3, 0.3), settings.depot_lon + rnd.uniform(-0.4, 0.4))
        for _ in range(60)
    ]
    out = []
    for i in range(n):
        town = i % len(towns)
        lat, lon = towns[town]
        spec = ContainerSpec(
            container=f"c{i + 1:05d}",
            settlement=f"Settlement {town + 1:02d}",
            zone=f"zone-{town % 6 + 1}",
            lat=round(lat + rnd.uniform(-0.01, 0.01), 5),
            lon=round(lon + rnd.uniform(-0.01, 0.01), 5),
            empty_mm=EMPTY_MM,
            full_mm=FULL_MM,
            collection_weekdays=[i % 6],
        )
        silent = -1 if i % 100 == 99 else 6 if i % 50 == 7 else 0
        out.append(BenchContainer(spec, rnd.uniform(7.0, 16.0), silent))
    return out


def region_csv(containers: Sequence[BenchContainer]) -> str:
    """The import CSV of the region (docs/dispatch.md, CSV layout)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for c in containers:
        s = c.spec
        values = {
            **s.model_dump(),
            "code": s.container,
            "collection_weekdays": " ".join(map(str, s.collection_weekdays)),
            "active": "true",
        }
        w.writerow(["" if values.get(k) is None else values[k] for k in CSV_COLUMNS])
    return buf.getvalue()


def readings(
    containers: Sequence[BenchContainer], end: datetime, days: int, tz: tzinfo, seed: int = 15
) -> Iterator[ContainerReading]:
    """Hourly readings up to ``end``, in time order: fill, weekly emptying, noise, battery."""
    rnd = random.Random(seed)
    start = end - timedelta(days=days)
    level = [rnd.uniform(0, 60) for _ in containers]
    emptied_on: list[Any] = [None] * len(containers)
    for h in range(days * 24 + 1):
        ts = start + timedelta(hours=h, minutes=0)
        local = ts.astimezone(tz)
        for i, c in enumerate(containers):
            daytime = 1.6 if 7 <= local.hour < 21 else 0.15
            level[i] += c.rate * WEEKEND[local.weekday()] * daytime / 24 * rnd.uniform(0.6, 1.4)
            level[i] = min(level[i], 115.0)
            due = local.weekday() in c.spec.collection_weekdays and local.hour >= 10
            if due and emptied_on[i] != local.date():
                emptied_on[i] = local.date()
                if rnd.random() > 0.08:  # now and then the truck does not come
                    level[i] = rnd.uniform(1, 6)
            if c.silent_hours < 0 or end - ts < timedelta(hours=c.silent_hours):
                continue
            fill = min(level[i], 100.0) + rnd.gauss(0, 0.8)
            yield ContainerReading(
                ts=ts + timedelta(seconds=i % 3600),
                site=SITE,
                container=c.spec.container,
                device="bench",
                model="EM310-UDL",
                source="simulator",
                distance_mm=max(300, round(EMPTY_MM - fill / 100 * (EMPTY_MM - FULL_MM))),
                battery_pct=max(5.0, 90.0 - i % 90 - h / 100),
                temp_c=round(8 + rnd.gauss(0, 1), 1),
                tilt=False,
            )


# ---- running it ---------------------------------------------------------------------------------


@dataclass
class SizeResult:
    """Figures of one size."""

    containers: int
    points: int
    floor_ms: float
    board_ms: float
    route_ms: float
    page_ms: float  # everything the page loads on a refresh: board, alerts, emptyings, route
    route_stops: int
    route_stopped: bool
    recompute_ms: float | None


def _median_ms(call: Callable[[], Any], repeat: int) -> float:
    call()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


class NoKeeper(StateKeeper):
    """No kept state: the fill processor as it was before `fill_state`, for comparison."""

    def observe(self, key: tuple[str, str], reading: ContainerReading, derived: Derived) -> None:
        """Keep nothing."""


def fill_cost(
    containers: Sequence[BenchContainer], end: datetime, tz: tzinfo, rounds: int = 3
) -> dict[str, float]:
    """µs per reading through the fill processor and line building, without and with the
    kept state, state in memory and in a file as ingest keeps it; best of ``rounds``, same run.
    """
    some = containers[:200]
    registry = ContainerRegistry(ts=end, site=SITE, containers=[c.spec for c in some])
    stream = list(readings(some, end, 2, tz))
    best: dict[str, float] = {}
    for _ in range(rounds):
        for kept in (False, True):
            for where in ("memory", "file"):
                with tempfile.TemporaryDirectory(prefix="bench-fill-") as tmp:
                    path = ":memory:" if where == "memory" else Path(tmp) / "fill.sqlite"
                    keeper = None if kept else NoKeeper(tz)
                    t0 = time.perf_counter()
                    for _ in play(registry, stream, end, tz=tz, keeper=keeper, state_path=path):
                        pass
                    us = (time.perf_counter() - t0) / len(stream) * 1e6
                name = f"{where} {'with' if kept else 'without'}"
                best[name] = min(best.get(name, us), us)
    return best


def seed(api: httpx.Client, store: InfluxStore, n: int, days: int, end: datetime) -> SizeResult:
    """Register ``n`` containers and write ``days`` of their data; figures of the ingest side."""
    containers = region(n)
    resp = api.post(
        "/api/v1/containers/import",
        content=region_csv(containers),
        headers={"content-type": "text/csv"},
        timeout=120,
    )
    resp.raise_for_status()
    registry = ContainerRegistry(ts=end, site=SITE, containers=[c.spec for c in containers])
    batch: list[str] = []
    points = 0
    tz = ApiSettings().tz
    stream = readings(containers, end, days, tz)
    for line in play(registry, stream, end, tz=tz, tick=timedelta(hours=1)):
        batch.append(line)
        if len(batch) >= 20_000:
            store.write_lines(batch)
            points, batch = points + len(batch), []
    store.write_lines(batch)
    return SizeResult(
        containers=n,
        points=points + len(batch),
        floor_ms=0,
        board_ms=0,
        route_ms=0,
        page_ms=0,
        route_stops=0,
        route_stopped=False,
        recompute_ms=None,
    )


def recompute_ms(database_url: str, store: InfluxStore, repeat: int) -> float:
    """The board's states and route from the history, as before the kept state (in-process)."""
    from sqlalchemy import select

    from api import db
    from api.board import collection_list, recomputed_states
    from api.routing import Stop

    settings = ApiSettings()
    engine = db.make_engine(database_url)
    with db.session_factory(engine)() as session:
        rows = list(session.scalars(select(db.Container).where(db.Container.active)))

    def once() -> None:
        now = datetime.now(UTC)
        states = recomputed_states(store, SITE, rows, now, tz=settings.tz, history_days=14)
        depot = Stop("depot", settings.depot_lat, settings.depot_lon)
        collection_list(states, (now + timedelta(days=1)).date(), depot, 50.0)

    try:
        return _median_ms(once, repeat)
    finally:
        engine.dispose()


def run_size(n: int, days: int, repeat: int, recompute_up_to: int) -> SizeResult:
    """One size in its own folder and servers."""
    with tempfile.TemporaryDirectory(prefix="bench-board-") as tmp:
        root = Path(tmp)
        influxd = stack.start_influxd(root / "influxd", stack.free_port())
        broker = stack.start_mosquitto(root / "mosquitto", stack.free_port())
        port = stack.free_port()
        database_url = f"sqlite:///{root}/api.sqlite"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
        env.update(
            LANDFILL_SITE=SITE,
            LANDFILL_MQTT_URL=broker.url,
            LANDFILL_INFLUX_URL=influxd.url,
            LANDFILL_INFLUX_DB="bench",
            LANDFILL_DATABASE_URL=database_url,
            LANDFILL_API_PORT=str(port),
            LANDFILL_LOG_LEVEL="WARNING",
        )
        log = (root / "api.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "landfill.cli", "api"], env=env, stdout=log, stderr=log
        )
        try:
            store = InfluxStore(influxd.url, "bench", timeout=120)
            store.ensure_database()
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as api:
                stack.wait_until(lambda: _healthy(api), 60, "the API")
                api.headers["Authorization"] = f"Bearer {admin_token(database_url)}"
                end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
                result = seed(api, store, n, days, end)
                result.floor_ms = _median_ms(lambda: store.query(FLOOR, {"site": SITE}), repeat)
                result.board_ms = _median_ms(lambda: _get(api, "/api/v1/dispatch/board"), repeat)
                route = _get(api, "/api/v1/dispatch/route")
                result.route_ms = _median_ms(lambda: _get(api, "/api/v1/dispatch/route"), repeat)
                result.page_ms = _median_ms(lambda: _refresh(api), repeat)
                result.route_stops, result.route_stopped = (
                    route["count"],
                    route["stopped_on_budget"],
                )
                if n <= recompute_up_to:
                    result.recompute_ms = recompute_ms(database_url, store, repeat)
            return result
        finally:
            proc.terminate()
            proc.wait(30)
            broker.stop()
            influxd.stop()


def _refresh(api: httpx.Client) -> None:
    """What the page asks for every 30 s (one after the other here, not in parallel)."""
    for what in ("board", "alerts", "emptyings", "route"):
        _get(api, f"/api/v1/dispatch/{what}")


def _healthy(api: httpx.Client) -> bool:
    try:
        return api.get("/health").status_code == 200
    except httpx.HTTPError:
        return False


def admin_token(database_url: str) -> str:
    """An admin's API token, made in the API's database (migrated by the API at start-up)."""
    from api import db
    from api.auth.tokens import create_token

    engine = db.make_engine(database_url)
    try:
        with db.session_factory(engine)() as session:
            _, secret = create_token(session, "bench", "admin", "bench", datetime.now(UTC))
            session.commit()
        return secret
    finally:
        engine.dispose()


def _get(api: httpx.Client, path: str) -> Any:
    resp = api.get(path)
    resp.raise_for_status()
    return resp.json()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `python -m bench.board`."""
    p = argparse.ArgumentParser(prog="python -m bench.board", description=__doc__.split("\n")[0])
    p.add_argument("--containers", default="33,500,2000", help="sizes, comma separated")
    p.add_argument("--days", type=int, default=14, help="days of hourly history (default 14)")
    p.add_argument("--repeat", type=int, default=3, help="timed requests per figure (default 3)")
    p.add_argument(
        "--recompute-up-to", type=int, default=500, help="time the recomputation up to this size"
    )
    p.add_argument("--no-fill-cost", action="store_true", help="skip the fill processor figures")
    args = p.parse_args(argv)
    print(f"cpus: {os.cpu_count()}  python {sys.version.split()[0]}  days: {args.days}")
    print(f"median of {args.repeat} after a warm-up; x: times the floor of the same run")
    print(
        "containers     points   floor         board             route   stops  budget"
        "   page refresh   recompute"
    )
    for n in (int(x) for x in args.containers.split(",")):
        r = run_size(n, args.days, args.repeat, args.recompute_up_to)
        recompute = f"{r.recompute_ms:9,.0f} ms" if r.recompute_ms is not None else "          -"
        print(
            f"{r.containers:10,}  {r.points:9,}  {r.floor_ms:3,.0f} ms"
            f"  {r.board_ms:4,.0f} ms ({r.board_ms / r.floor_ms:4.2f}x)"
            f"  {r.route_ms:5,.0f} ms ({r.route_ms / r.floor_ms:4.2f}x)"
            f"  {r.route_stops:5}  {'hit' if r.route_stopped else 'no':>6}"
            f"  {r.page_ms:9,.0f} ms  {recompute}",
            flush=True,
        )
    if not args.no_fill_cost:
        cost = fill_cost(region(200), datetime.now(UTC), ApiSettings().tz)
        print("fill processor, us per reading (200 containers, 2 days; best of 3, same run):")
        for where in ("memory", "file"):
            without, with_ = cost[f"{where} without"], cost[f"{where} with"]
            print(
                f"  tracker state in {where:6}  without kept state {without:4.0f}"
                f"  with {with_:4.0f}  (+{(with_ / without - 1) * 100:.0f} %)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
