"""A full disk under the edge's outbox (issue 9 item 6), with a real full file system.

The outbox sits on a small tmpfs that the test fills, so SQLite itself answers "database or
disk is full". Before: the scale edge's capture thread died, the weight was logged nowhere, and
the process exited 0; the sensor edge acknowledged the uplink to the network server's broker
and lost it. Now the weight is logged before anything else, the capture goes out directly with
an `outbox_failed` event and a node status that names the fault, and the process exits 1; the
sensor edge leaves the uplink unacknowledged and exits 1, and after a restart with space again
the source broker delivers it.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy import stack
from edge.scale.simulator import PtyLink, Simulator, Truck, idle, truck_weights
from edge.sensors.encoders import DeviceValues
from edge.sensors.simulator import registry
from landfill.contract import ContainerRegistry, Topics
from landfill.scale.frames import Reading
from landfill.scale.protocols import make_protocol
from tests.conftest import publish, wait_for
from tests.edge.sensors.test_service import FLEET, T0, uplink

pytestmark = pytest.mark.integration

LANDFILL = [sys.executable, "-m", "landfill.cli"]
RATE = 40.0
GROSS = 14_560


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (root only; the CI runs as root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Fill the file system to the last byte; return the filler file."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (b"\0" * 65_536, b"\0" * 4_096, b"\0"):
            while _wrote(fd, chunk):
                pass
    finally:
        os.close(fd)
    return filler


def _wrote(fd: int, data: bytes) -> bool:
    try:
        return os.write(fd, data) == len(data)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        return False


def environment(site: str, broker: stack.Server, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
    env.update(
        LANDFILL_SITE=site,
        LANDFILL_MQTT_URL=broker.url,
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.environ.get("PYTHONPATH", str(Path(__file__).parents[2])),
        **extra,
    )
    return env


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([*LANDFILL, *argv], env=env, stdout=out, stderr=out)


def stopped(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def truck_when(go: threading.Event) -> Iterator[Reading]:
    """An empty platform until ``go``, then one truck, then empty for good."""
    while not go.is_set():
        yield from idle(0.2, RATE)
    yield from truck_weights(Truck(GROSS, 0.3, 0.3, 0.8, 0.3), RATE, random.Random(2))
    while True:
        yield from idle(1.0, RATE)


def test_scale_edge_on_a_full_disk_logs_sends_directly_says_so_and_exits_1(
    small_disk, broker, site, collect, tmp_path
):
    got = collect(f"landfill/v1/{site}/#")
    tty, log = tmp_path / "scale.tty", tmp_path / "edge.log"
    link, go = PtyLink(tty), threading.Event()
    sim = Simulator(make_protocol("yaohua-a9"), link, truck_when(go), RATE)
    threading.Thread(target=sim.run, daemon=True).start()
    argv = ["edge", "scale", "--port", str(tty), "--outbox", str(small_disk / "outbox.sqlite")]
    edge = start([*argv, "--stable-seconds", "0.5"], environment(site, broker), log)
    try:
        wait_for(lambda: b"connected to broker" in log.read_bytes(), what="edge connected")
        fill(small_disk)
        go.set()
        assert edge.wait(60) == 1, log.read_text()
        text = log.read_text()
        weighed = [line for line in text.splitlines() if f"weighed {GROSS} kg" in line]
        assert len(weighed) == 1, text
        assert "on scale scale1 at 20" in weighed[0]
        capture_id = weighed[0].rsplit("id ", 1)[1]
        assert text.index(weighed[0]) < text.index("database or disk is full")

        def of(kind: str) -> list[dict]:
            return [p for p in got.payloads() if p.get("kind") == kind]

        [capture] = wait_for(lambda: of("capture"), what="the capture, sent directly")
        assert (capture["id"], capture["weight_kg"]) == (capture_id, GROSS)
        [alarm] = wait_for(lambda: of("scale_event"), what="the outbox_failed event")
        assert (alarm["event"], alarm["weight_kg"]) == ("outbox_failed", GROSS)
        assert "database or disk is full" in alarm["detail"]
        status = wait_for(lambda: [s for s in of("status") if s["fault"]], what="node status")
        assert status[-1]["online"] is False
        assert status[-1]["fault"].startswith("outbox_failed: database or disk is full")
    finally:
        stopped(edge)
        sim.stop_event.set()
        link.close()


def test_sensor_edge_on_a_full_disk_leaves_the_uplink_unacknowledged_and_exits_1(
    small_disk, broker, site, collect, tmp_path
):
    readings = collect(f"landfill/v1/{site}/container/+/reading")
    statuses = collect(f"landfill/v1/{site}/node/+/status")
    publish(
        broker.url,
        Topics(site).of(ContainerRegistry),
        registry(site, FLEET, T0).to_json(),
        retain=True,
    )
    env = environment(
        site,
        broker,
        LANDFILL_OUTBOX_PATH=str(small_disk / "outbox.sqlite"),
        LANDFILL_SENSORS_REGISTRY_CACHE=str(tmp_path / "registry.json"),
        LANDFILL_SENSORS_CLIENT_ID=f"es-{uuid.uuid4().hex[:8]}",  # persistent at the source
    )
    log = tmp_path / "edge.log"
    edge = start(["edge", "sensors"], env, log)
    try:
        wait_for(lambda: b"taking uplinks" in log.read_bytes(), what="edge taking uplinks")
        publish(broker.url, *uplink(0, DeviceValues(distance_mm=600, battery_pct=90), fcnt=1))
        wait_for(lambda: readings.payloads(), what="a reading while there is space")
        filler = fill(small_disk)
        publish(broker.url, *uplink(0, DeviceValues(distance_mm=700, battery_pct=90), fcnt=2))
        assert edge.wait(30) == 1, log.read_text()
        assert "database or disk is full" in log.read_text()
        assert "stays unacknowledged" in log.read_text()
        faults = wait_for(lambda: [s for s in statuses.payloads() if s["fault"]], what="status")
        assert faults[-1]["online"] is False
        assert [r["fcnt"] for r in readings.payloads()] == [1]

        filler.unlink()  # the operator frees the disk and the supervisor starts it again
        edge = start(["edge", "sensors"], env, log)
        got = wait_for(lambda: len(readings.payloads()) >= 2 and readings.payloads())
        assert [(r["fcnt"], r["distance_mm"]) for r in got] == [(1, 600), (2, 700)]
        edge.send_signal(signal.SIGTERM)
        assert edge.wait(20) == 0, log.read_text()
        assert got[1]["container"] == "bin-01"
    finally:
        stopped(edge)
