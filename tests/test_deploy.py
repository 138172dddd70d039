"""Deployment files: they parse, name only real settings, and start real subcommands."""

from __future__ import annotations

import re
import shlex
import threading
import uuid
from pathlib import Path

import pytest
import yaml

from landfill import cli
from landfill.influx import InfluxStore, RejectedWriteError
from landfill.mqtt import MAX_PACKET_BYTES, broker_address, make_client
from tests.conftest import publish, wait_for
from tests.test_docs import all_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_compose_names_only_real_settings_and_commands():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    text = (DEPLOY / "compose.yaml").read_text()
    unknown = set(re.findall(r"\b(LANDFILL_[A-Z0-9_]+)\b", text)) - set(all_settings())
    assert not unknown
    for name in ("ingest", "api", "edge-scale"):
        cli.parse(compose["services"][name]["command"])
    for name in ("mosquitto", "influxdb", "grafana"):
        image = compose["services"][name]["image"]
        assert image.split(":")[0] in {"eclipse-mosquitto", "influxdb", "grafana/grafana-oss"}


def test_compose_serves_people_only_over_https():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    # the API's plain http is published on loopback only; the proxy terminates TLS
    assert all(p.startswith("127.0.0.1:") for p in services["api"]["ports"])
    assert services["https"]["image"].split(":")[0] == "caddy"
    assert services["https"]["ports"] == ["443:443"]
    caddyfile = (DEPLOY / "production" / "Caddyfile").read_text()
    assert "reverse_proxy api:8000" in caddyfile
    assert re.search(r"^\s*tls /certs/server\.crt /certs/server\.key$", caddyfile, re.M)
    assert "LANDFILL_ENV: production" in (DEPLOY / "compose.yaml").read_text()


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=str)
def test_systemd_units_start_real_subcommands(unit):
    exec_start = re.search(r"^ExecStart=(.+)$", unit.read_text(), re.M)
    assert exec_start is not None
    argv = shlex.split(exec_start.group(1))
    assert argv[0].endswith("/landfill")
    cli.parse(argv[1:])


def _settings(path: Path) -> dict[str, str]:
    pairs = (ln.split(None, 1) for ln in path.read_text().splitlines() if ln and ln[0] != "#")
    return {k: v.strip() for k, v in (p for p in pairs if len(p) == 2)}


def test_production_broker_keeps_queues_for_ack_after_write():
    conf = _settings(DEPLOY / "production" / "mosquitto.conf")
    assert conf["persistence"] == "true"
    assert conf["allow_anonymous"] == "false"
    # the limits the ingest tests and benchmark ran with (deploy/mosquitto.conf) hold in
    # production too: unlimited inflight lets 16-bit packet ids wrap
    tested = _settings(DEPLOY / "mosquitto.conf")
    for key in (
        "max_inflight_messages",
        "max_queued_messages",
        "max_queued_bytes",
        "max_packet_size",
    ):
        assert conf[key] == tested[key], key


def test_production_processes_run_as_production():
    """Weak secrets are refused only when LANDFILL_ENV=production: compose and units set it."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name in ("ingest", "api", "edge-scale"):
        assert compose["services"][name]["environment"]["LANDFILL_ENV"] == "production", name
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        assert re.search(r"^Environment=LANDFILL_ENV=production$", unit.read_text(), re.M), unit


def test_compose_influxdb_has_the_tested_body_limit():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    env = compose["services"]["influxdb"]["environment"]
    tested = re.search(r"max-body-size = (\d+)", (DEPLOY / "influxdb.conf").read_text())
    assert tested is not None
    assert int(tested.group(1)) > 0
    assert env["INFLUXDB_HTTP_MAX_BODY_SIZE"] == tested.group(1)


def test_broker_refuses_an_oversized_publish(broker, collect, site):
    """A publish over max_packet_size is neither acknowledged nor forwarded; others still are."""
    limit = int(_settings(DEPLOY / "mosquitto.conf")["max_packet_size"])
    assert limit == MAX_PACKET_BYTES, "the API sizes the registry by landfill.mqtt's constant"
    topic = f"landfill/v1/{site}/scale/s1/event"
    seen = collect(topic)
    dropped = threading.Event()
    client = make_client(broker.url, f"big-{uuid.uuid4().hex[:8]}")
    client.on_disconnect = lambda *_: dropped.set()
    client.connect(*broker_address(broker.url))
    client.loop_start()
    try:
        info = client.publish(topic, b"x" * limit, qos=1)
        assert dropped.wait(10), "the broker kept the connection of an oversized publish"
        info.wait_for_publish(1)
        assert not info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()
    publish(broker.url, topic, b"x" * (limit - 1000))
    wait_for(lambda: seen.messages, what="the message under the limit")
    assert [len(p) for _, p in seen.messages] == [limit - 1000]


def test_influxdb_refuses_an_oversized_write(influx: InfluxStore):
    """A write over max-body-size is a 413 ingest treats as rejected (it bisects the batch)."""
    limit = int(re.findall(r"max-body-size = (\d+)", (DEPLOY / "influxdb.conf").read_text())[0])
    line = f'm,t=a s="{"y" * 1000}"'
    lines = [f"{line} {1_700_000_000_000 + i}" for i in range(limit // len(line) + 10)]
    with pytest.raises(RejectedWriteError) as refused:
        influx.write_lines(lines)
    assert refused.value.status == 413
    influx.write_lines(lines[: len(lines) // 2])  # half of it is under the limit
