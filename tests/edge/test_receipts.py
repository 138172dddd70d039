"""A capture leaves the edge's outbox only when ingest says it is in InfluxDB (issue 9 item 5).

mosquitto acknowledges a QoS 1 publish at once but writes its persistence file only every
`autosave_interval` (10 s): killed with -9 in between, it forgets a message it acknowledged.
The edge therefore keeps a capture after the PUBACK until ingest's receipt
(`landfill/v1/{site}/scale/{scale}/receipt`), sends every unconfirmed capture again when it
reconnects, and again after `LANDFILL_SCALE_RECEIPT_SECONDS` without a receipt. Real processes:
mosquitto, influxd, `landfill edge scale` on a simulated indicator, `landfill ingest`.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy import stack
from edge.scale.simulator import PtyLink, Simulator, Truck, idle, truck_weights
from landfill.contract import Capture, Topics, utcnow
from landfill.influx import InfluxStore
from landfill.scale.protocols import make_protocol
from tests.conftest import Servers, publish, stop_process, wait_for

pytestmark = pytest.mark.integration

LANDFILL = [sys.executable, "-m", "landfill.cli"]
RATE = 40.0
GROSS = 14_560


class Stand:
    """A simulated indicator and the processes of one test, all stopped at the end."""

    def __init__(self, tmp: Path, site: str, broker: stack.Server, influx: InfluxStore) -> None:
        self.tmp = tmp
        self.site = site
        self.broker = broker
        self.outbox = tmp / "outbox.sqlite"
        self.tty = tmp / "scale.tty"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.link: PtyLink | None = None
        self.sim: Simulator | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
        self.env.update(
            LANDFILL_SITE=site,
            LANDFILL_MQTT_URL=broker.url,
            LANDFILL_INFLUX_URL=influx.url,
            LANDFILL_INFLUX_DB=influx.database,
            LANDFILL_INGEST_CLIENT_ID=f"ingest-{uuid.uuid4().hex[:8]}",
            LANDFILL_FILL_STATE_PATH=str(tmp / "fill.sqlite"),
            LANDFILL_FILL_REGISTRY_WAIT_SECONDS="0",
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.environ.get("PYTHONPATH", str(Path(__file__).parents[2])),
        )

    def start(self, name: str, *argv: str, **env: str) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{name}.log").open("ab") as out:
            proc = subprocess.Popen(
                [*LANDFILL, *argv], env={**self.env, **env}, stdout=out, stderr=out, cwd=self.tmp
            )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def ingest(self) -> subprocess.Popen[bytes]:
        return self.start("ingest", "ingest", "--flush-seconds", "0.1")

    def edge(self, receipt_seconds: float) -> subprocess.Popen[bytes]:
        """`landfill edge scale` on a pty where one truck comes, stands and leaves."""
        self.link = PtyLink(self.tty)
        rng = random.Random(5)
        script = [*idle(1.0, RATE), *truck_weights(Truck(GROSS, 0.3, 0.3, 0.8, 0.3), RATE, rng)]
        self.sim = Simulator(
            make_protocol("yaohua-a9"), self.link, [*script, *idle(600, RATE)], RATE
        )
        threading.Thread(target=self.sim.run, daemon=True).start()
        return self.start(
            "edge",
            *("edge", "scale", "--port", str(self.tty), "--outbox", str(self.outbox)),
            *("--stable-seconds", "0.5", "--no-data-seconds", "60"),
            LANDFILL_SCALE_RECEIPT_SECONDS=str(receipt_seconds),
        )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        if self.sim is not None:
            self.sim.stop_event.set()
        if self.link is not None:
            self.link.close()


@pytest.fixture
def stand(servers: Servers, influx: InfluxStore, site: str, tmp_path: Path) -> Iterator[Stand]:
    broker = servers.mosquitto(state=tmp_path / "broker")
    s = Stand(tmp_path, site, broker, influx)
    yield s
    s.stop()


def stored(influx: InfluxStore, scale: str = "scale1") -> list[dict]:
    return influx.rows("SELECT weight_kg, id FROM scale_capture WHERE scale = $s", {"s": scale})


def outbox_rows(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
    finally:
        db.close()


def unacknowledged_captures(path: Path) -> int:
    """Captures the broker has not acknowledged (the edge before receipts deleted the row on
    the PUBACK; now the row stays, with the time its receipt is due)."""
    db = sqlite3.connect(path)
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
        where = "topic LIKE '%/capture'" + (" AND due IS NULL" if "due" in columns else "")
        return int(db.execute(f"SELECT COUNT(*) FROM outbox WHERE {where}").fetchone()[0])  # noqa: S608 - fixed text
    finally:
        db.close()


def captured_ids(log: str) -> list[str]:
    """Ids the edge logged once the capture was committed to its outbox."""
    return [
        line.split("capture ", 1)[1].split(":", 1)[0]
        for line in log.splitlines()
        if " capture " in line and " kg (stable" in line
    ]


def ingest_is_taking(stand: Stand, influx: InfluxStore) -> None:
    """Wait until a running ingest stores a probe capture (its subscription is in place)."""
    deadline = time.monotonic() + 30
    while not stored(influx, "probe"):
        assert time.monotonic() < deadline, "ingest stored no probe within 30 s"
        probe = Capture.weighed(
            ts=utcnow(), site=stand.site, scale="probe", weight_kg=1000, division_kg=20,
            stable_ms=0, protocol="probe",
        )  # fmt: skip
        publish(stand.broker.url, Topics(stand.site).for_message(probe), probe.to_json())
        time.sleep(1.0)


def the_capture_is_acknowledged(stand: Stand) -> str:
    """Wait for the edge's capture, then for the broker's PUBACK of it; return its id."""
    [capture_id] = wait_for(lambda: captured_ids(stand.log("edge")), timeout=30, what="a capture")
    deadline = time.monotonic() + 10
    while unacknowledged_captures(stand.outbox) and time.monotonic() < deadline:
        time.sleep(0.002)  # poll fast: the broker's autosave must not come first
    assert unacknowledged_captures(stand.outbox) == 0, "no PUBACK for the capture"
    return capture_id


def test_broker_killed_right_after_the_puback_loses_no_capture(stand, servers, influx):
    # ingest's persistent session is in the broker's persistence file, as in a broker that
    # has run for a while: ingest subscribes once, then the broker restarts gracefully
    ingest = stand.ingest()
    ingest_is_taking(stand, influx)
    ingest.send_signal(signal.SIGTERM)
    assert ingest.wait(20) == 0
    stand.broker.stop()
    stand.broker = servers.mosquitto(port=stand.broker.port, state=stand.broker.state)

    stand.edge(receipt_seconds=600)  # the reconnect alone must send it again
    capture_id = the_capture_is_acknowledged(stand)
    stand.broker.kill()  # a power cut: the queued capture was never autosaved
    stand.broker = servers.mosquitto(port=stand.broker.port, state=stand.broker.state)
    stand.ingest()

    rows = wait_for(lambda: stored(influx), timeout=60, what="the capture in InfluxDB")
    assert [(r["id"], r["weight_kg"]) for r in rows] == [(capture_id, GROSS)]
    wait_for(lambda: outbox_rows(stand.outbox) == 0, timeout=30, what="the receipt")
    assert "ingest stored 1 capture(s)" in stand.log("edge")


def test_capture_nobody_consumed_is_sent_again_until_ingest_stores_it(stand, influx):
    # no ingest session at all when the capture goes out: the broker acknowledges, then drops it
    stand.edge(receipt_seconds=1)
    capture_id = the_capture_is_acknowledged(stand)
    stand.ingest()
    ingest_is_taking(stand, influx)

    rows = wait_for(lambda: stored(influx), timeout=60, what="the capture sent again")
    assert [(r["id"], r["weight_kg"]) for r in rows] == [(capture_id, GROSS)]
    wait_for(lambda: outbox_rows(stand.outbox) == 0, timeout=30, what="the receipt")
    assert "no storage receipt yet; sending again" in stand.log("edge")
