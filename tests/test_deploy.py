"""Deployment files: they parse, name only real settings, and start real subcommands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from landfill import cli
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
    for key in ("max_inflight_messages", "max_queued_messages", "max_queued_bytes"):
        assert conf[key] == tested[key], key
