"""A truck standing on the platform while `landfill edge scale` restarts is captured once.

Real processes: `landfill simulate scale --scenario typed` on a pty (the test types the
weights the platform shows), `landfill edge scale` and mosquitto. The edge is stopped in the
middle of a plateau, with SIGTERM or with SIGKILL (a power cut), and started again while the
truck still stands there: one capture, one id. Afterwards the edge still captures the next
truck. Stopped before the capture, the plateau simply starts again: still one capture.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from landfill.contract import Capture, LiveWeight, Topics
from tests.conftest import stop_process, wait_for

pytestmark = pytest.mark.integration

LANDFILL = [sys.executable, "-m", "landfill.cli"]
STABLE_S = 0.5


class Stand:
    """The simulator (weights typed on its stdin) and the edge of one test."""

    def __init__(self, tmp: Path, site: str, broker_url: str) -> None:
        self.tmp = tmp
        self.tty = tmp / "scale.tty"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
        self.env.update(
            LANDFILL_SITE=site,
            LANDFILL_MQTT_URL=broker_url,
            LANDFILL_SCALE="wb1",
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.environ.get("PYTHONPATH", str(Path(__file__).parents[3])),
        )
        self.procs: list[subprocess.Popen[bytes]] = []
        with (tmp / "simulator.log").open("ab") as out:
            self.simulator = subprocess.Popen(
                [*LANDFILL, "simulate", "scale", "--scenario", "typed", "--rate", "20"]
                + ["--link", str(self.tty)],
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=out,
            )
        self.procs.append(self.simulator)
        self.edge: subprocess.Popen[bytes] | None = None

    def platform(self, kg: int) -> None:
        """The platform moves to ``kg`` (a truck drives on, leaves, ...)."""
        assert self.simulator.stdin is not None
        self.simulator.stdin.write(f"{kg}\n".encode())
        self.simulator.stdin.flush()

    def start_edge(self) -> None:
        with (self.tmp / "edge.log").open("ab") as out:
            self.edge = subprocess.Popen(
                [*LANDFILL, "edge", "scale", "--port", str(self.tty)]
                + ["--outbox", str(self.tmp / "outbox.sqlite")]
                + ["--stable-seconds", str(STABLE_S), "--no-data-seconds", "60"],
                env=self.env,
                stdout=out,
                stderr=out,
            )
        self.procs.append(self.edge)

    def stop_edge(self, sig: int) -> None:
        assert self.edge is not None
        self.edge.send_signal(sig)
        self.edge.wait(20)

    def log(self) -> str:
        return (self.tmp / "edge.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)


@pytest.fixture
def stand(tmp_path, site, broker) -> Iterator[Stand]:
    s = Stand(tmp_path, site, broker.url)
    yield s
    s.stop()


def captures(got) -> dict[str, int]:
    """Capture id -> weight (a capture sent again has the same id)."""
    out = {}
    for topic, payload in list(got.messages):
        if topic.endswith("/capture"):
            msg = json.loads(payload)
            out[msg["id"]] = msg["weight_kg"]
    return out


def live(got) -> list[dict]:
    return [json.loads(p) for t, p in list(got.messages) if t.endswith("/weight")]


def holds_still(stand: Stand, got, kg: int) -> None:
    """Wait until the running edge shows ``kg`` stable, then for four stable windows more."""
    seen = len(live(got))
    wait_for(
        lambda: any(w["weight_kg"] == kg and w["stable"] for w in live(got)[seen:]),
        what=f"the restarted edge showing {kg} kg stable",
    )
    time.sleep(4 * STABLE_S)  # time enough for a second capture, if it were to come


@pytest.mark.parametrize(
    ("when", "sig"),
    [
        ("after_capture", signal.SIGTERM),
        ("after_capture", signal.SIGKILL),
        ("before", signal.SIGKILL),
    ],
)
def test_a_truck_on_the_platform_during_a_restart_is_captured_once(stand, collect, site, when, sig):
    topics = Topics(site)
    got = collect(topics.of(Capture, scale="wb1").rsplit("/", 1)[0] + "/#")
    stand.start_edge()
    wait_for(lambda: "reading" in stand.log(), what="the edge reading the pty")
    stand.platform(14_560)  # a loaded truck drives on and stands
    if when == "after_capture":
        wait_for(lambda: captures(got), what="the first capture")
    else:
        wait_for(lambda: any(not w["stable"] for w in live(got)), what="the truck moving on")
    stand.stop_edge(sig)
    stand.start_edge()
    holds_still(stand, got, 14_560)
    assert list(captures(got).values()) == [14_560], stand.log()
    if when == "after_capture":
        assert "may still be on the platform" in stand.log()

    stand.platform(0)  # it leaves, and the next truck comes: the edge still captures
    wait_for(lambda: any(w["weight_kg"] == 0 for w in live(got)[-3:]), what="the platform empty")
    stand.platform(9_000)
    wait_for(lambda: len(captures(got)) == 2, what="the next truck's capture")
    assert sorted(captures(got).values()) == [9_000, 14_560]
    assert topics.of(LiveWeight, scale="wb1") in {t for t, _ in got.messages}
