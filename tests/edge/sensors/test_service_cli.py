"""The commands as processes: `simulate sensors --publish-registry` feeding `edge sensors`."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from edge.sensors.simulator import fleet
from tests.conftest import wait_for

pytestmark = pytest.mark.integration

LANDFILL = [sys.executable, "-m", "landfill.cli"]


def test_simulator_feeds_the_edge_and_readings_reach_the_broker(
    tmp_path, env_for, site, collect
) -> None:
    readings = collect(f"landfill/v1/{site}/container/+/reading")
    registry = collect(f"landfill/v1/{site}/registry/containers")
    env = env_for(
        LANDFILL_SENSORS_REGISTRY_CACHE=str(tmp_path / "reg.json"),
        LANDFILL_SENSORS_REGISTRY_WAIT_SECONDS="0",  # no registry anywhere yet: take uplinks now
    )
    log_path = tmp_path / "edge.log"
    edge = subprocess.Popen(
        [*LANDFILL, "edge", "sensors"],
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: b"taking uplinks" in log_path.read_bytes(), what="edge subscribed")
        sim = subprocess.run(
            [*LANDFILL, "simulate", "sensors", "--containers", "4", "--hours", "6"]
            + ["--speed", "100000", "--seed", "5", "--publish-registry"]
            + ["--start", "2026-11-02T00:00:00+00:00"],
            env=env,
            capture_output=True,
            timeout=60,
            check=True,
        )
        assert b"sent" in sim.stderr
        reg = wait_for(registry.payloads, what="retained registry")
        assert [c["container"] for c in reg[0]["containers"]] == [
            c.spec.container for c in fleet(4)
        ]
        got = wait_for(lambda: len(readings.payloads()) >= 20 and readings.payloads())
        assert {r["container"] for r in got} == {"bin-01", "bin-02", "bin-03", "bin-04"}
        assert {r["source"] for r in got} == {"chirpstack", "tts"}
        assert all(r["distance_mm"] is None or r["distance_mm"] > 20 for r in got)
        assert b"registry from broker: 4 devices" in log_path.read_bytes()
        assert (tmp_path / "reg.json").exists(), "the registry is cached for offline starts"
    finally:
        edge.send_signal(signal.SIGTERM)
        assert edge.wait(20) == 0, (tmp_path / "edge.log").read_text()
