"""The edge process killed with SIGKILL during a burst while the broker is down: nothing lost.

Delivery from the edge is at least once with ids that never change: a capture is committed to
the SQLite outbox, then logged, then published, and removed only on PUBACK. A capture that was
published but whose PUBACK was lost in the outage or the kill is sent again with the same id,
so the subscriber may see an id twice; that is the contract (storage is idempotent by id), so
the test counts distinct ids, and checks that every capture the edge reported arrives, first
occurrences in the order the edge made them. The broker outage is 3 s in the quick variant and
a full minute in the slow one.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from edge.scale.simulator import PtyLink, Simulator, Truck, idle, truck_weights
from landfill.mqtt import broker_address, make_client
from landfill.scale.protocols import make_protocol
from tests.conftest import wait_for

pytestmark = pytest.mark.integration

RATE = 40.0
WEIGHTS = [5_000 + 1_000 * i for i in range(14)]


class PersistentCollector:
    """A subscriber with a persistent session: the broker keeps its messages while it is away."""

    def __init__(self, url: str, topic: str) -> None:
        self.ids: list[str] = []
        self.weights: dict[str, int] = {}
        self._lock = threading.Lock()
        self.client = make_client(url, f"crash-{uuid.uuid4().hex[:8]}", clean_start=False)
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_message = self._on_message
        host, port = broker_address(url)
        self.client.connect(host, port)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        p = json.loads(msg.payload)
        with self._lock:
            self.ids.append(p["id"])
            self.weights[p["id"]] = p["weight_kg"]

    def distinct(self) -> list[str]:
        """Ids in order of first arrival."""
        with self._lock:
            return list(dict.fromkeys(self.ids))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def logged_captures(log: Path) -> list[str]:
    """Ids the edge logged after committing them to the outbox."""
    if not log.exists():
        return []
    return [
        line.split("capture ", 1)[1].split(":", 1)[0]
        for line in log.read_text(errors="replace").splitlines()
        if " capture " in line and " kg (stable" in line
    ]


def outbox_rows(path: Path) -> int:
    """Captures in the outbox the broker has not acknowledged yet.

    One the broker acknowledged stays (`due` set) until ingest's receipt says it is stored;
    there is no ingest here (tests/edge/test_receipts.py has one).
    """
    db = sqlite3.connect(path)
    try:
        return int(
            db.execute(
                "SELECT COUNT(*) FROM outbox WHERE topic LIKE '%/capture' AND due IS NULL"
            ).fetchone()[0]
        )
    finally:
        db.close()


@pytest.mark.parametrize(
    "outage_s",
    [
        pytest.param(3.0, id="outage-3s"),
        pytest.param(60.0, id="outage-60s", marks=pytest.mark.slow),
    ],
)
def test_kill_9_mid_burst_and_broker_outage_lose_nothing(servers, site, tmp_path, outage_s):
    state = tmp_path / "broker"
    broker = servers.mosquitto(state=state)
    got = PersistentCollector(broker.url, f"landfill/v1/{site}/scale/+/capture")
    tty, outbox = tmp_path / "scale.tty", tmp_path / "outbox.sqlite"
    link = PtyLink(tty)
    rng = random.Random(11)
    script = [r for w in WEIGHTS for r in truck_weights(Truck(w, 0.3, 0.3, 0.8, 0.3), RATE, rng)]
    sim = Simulator(make_protocol("yaohua-a9"), link, [*script, *idle(600, RATE)], RATE)
    threading.Thread(target=sim.run, daemon=True).start()
    env = {
        "LANDFILL_SITE": site,
        "LANDFILL_MQTT_URL": broker.url,
        "PYTHONUNBUFFERED": "1",
        "PATH": "/usr/bin:/bin",
    }
    argv = [
        sys.executable, "-m", "landfill.cli", "edge", "scale", "--port", str(tty),
        "--outbox", str(outbox), "--stable-seconds", "0.5", "--no-data-seconds", "30",
    ]  # fmt: skip
    logs = [tmp_path / "edge-1.log", tmp_path / "edge-2.log"]
    procs: list[subprocess.Popen[bytes]] = []

    def start(n: int) -> None:
        with logs[n].open("wb") as out:
            procs.append(
                subprocess.Popen(
                    argv, env={**_pythonpath(), **env}, stdout=out, stderr=out, cwd=tmp_path
                )
            )

    try:
        start(0)
        wait_for(lambda: len(got.distinct()) >= 2, what="2 captures through the broker")
        broker.stop()
        down_at = time.monotonic()
        # the burst goes on into the outbox while the broker is away
        wait_for(lambda: len(logged_captures(logs[0])) >= 4, what="2 captures into the outbox")
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(10)
        waiting = outbox_rows(outbox)
        assert waiting >= 2, "the crash must leave captures in the outbox"
        start(1)
        # the restarted edge picks up the line and keeps capturing into the outbox
        wait_for(lambda: logged_captures(logs[1]), timeout=30, what="a capture after restart")
        wait_for(
            lambda: time.monotonic() - down_at >= outage_s, timeout=outage_s + 5, what="outage"
        )
        broker = servers.mosquitto(port=broker.port, state=state)
        wait_for(lambda: sim.sent > len(script), timeout=120, what="the burst to end")
        expected = logged_captures(logs[0]) + logged_captures(logs[1])
        wait_for(
            lambda: set(expected) <= set(got.distinct()) and outbox_rows(outbox) == 0,
            timeout=60,
            what="every logged capture at the subscriber",
        )
        distinct = got.distinct()
        # at most one capture per kill can be committed but not yet logged when SIGKILL lands
        extra = [i for i in distinct if i not in expected]
        assert len(extra) <= 1, extra
        assert [i for i in distinct if i in expected] == expected  # edge order
        weights = [got.weights[i] for i in distinct]
        assert set(weights) <= set(WEIGHTS)
        assert all(w % 20 == 0 for w in weights)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(20)
        sim.stop_event.set()
        link.close()
        got.close()


def _pythonpath() -> dict[str, str]:
    import os

    return {"PYTHONPATH": os.environ.get("PYTHONPATH", str(Path(__file__).parents[2]))}
