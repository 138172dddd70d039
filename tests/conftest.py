"""Shared fixtures: real mosquitto and influxd on free loopback ports in a temporary folder.

Session-scoped servers serve most tests; each test gets its own InfluxDB database and MQTT
site name, so tests never see each other's data. Tests that stop or kill a server start their
own with `servers.mosquitto()` / `servers.influxd()` (function scope).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from deploy import stack
from landfill.influx import InfluxStore
from landfill.mqtt import broker_address, make_client

_counter = itertools.count()


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


class Servers:
    """Starts servers in a temporary folder and stops them all at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[stack.Server] = []

    def mosquitto(self, port: int | None = None, state: Path | None = None) -> stack.Server:
        """Start a mosquitto (reusing ``state`` keeps its persistence file)."""
        state = state or self.root / f"mosquitto-{next(_counter)}"
        server = stack.start_mosquitto(state, port or stack.free_port())
        self.started.append(server)
        return server

    def influxd(self, port: int | None = None, state: Path | None = None) -> stack.Server:
        """Start an influxd."""
        state = state or self.root / f"influxd-{next(_counter)}"
        server = stack.start_influxd(state, port or stack.free_port())
        self.started.append(server)
        return server

    def postgres(self) -> stack.Server:
        """Start a PostgreSQL in a folder of the system temp dir (as root it runs as postgres)."""
        state = Path(tempfile.mkdtemp(prefix="landfill-pg-"))
        server = stack.start_postgres(state, stack.free_port())
        self.started.append(server)
        return server

    def stop_all(self) -> None:
        """Stop everything started here."""
        for server in reversed(self.started):
            server.stop()
            if server.name == "postgres":
                shutil.rmtree(server.state, ignore_errors=True)


def _require_servers() -> None:
    missing = [b for b in ("mosquitto", "influxd") if stack.find_binary(b) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not installed: run `bash .ci/run` (it installs them) or "
            "`apt-get install mosquitto influxdb`"
        )


@pytest.fixture(scope="session")
def session_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Servers shared by the whole session."""
    _require_servers()
    servers = Servers(tmp_path_factory.mktemp("servers"))
    yield servers
    servers.stop_all()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    """Servers owned by one test (for tests that stop, kill or restart them)."""
    _require_servers()
    s = Servers(tmp_path)
    yield s
    s.stop_all()


@pytest.fixture(scope="session")
def broker(session_servers: Servers) -> stack.Server:
    """A mosquitto for the session."""
    return session_servers.mosquitto()


@pytest.fixture(scope="session")
def influxd(session_servers: Servers) -> stack.Server:
    """An influxd for the session."""
    return session_servers.influxd()


@pytest.fixture(scope="session")
def postgres(session_servers: Servers) -> stack.Server:
    """A PostgreSQL for the session (Debian's `postgresql`); each test makes its own database."""
    return session_servers.postgres()


@pytest.fixture
def site() -> str:
    """A site name of this test's own, so topics do not mix between tests."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def influx(influxd: stack.Server) -> Iterator[InfluxStore]:
    """A fresh database on the session's influxd."""
    store = InfluxStore(influxd.url, f"test_{uuid.uuid4().hex[:12]}")
    store.ensure_database()
    yield store
    store.close()


class Collector:
    """A subscriber that records every message on a topic filter."""

    def __init__(self, url: str, topic: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = make_client(url, f"collector-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        host, port = broker_address(url)
        self.client.connect(host, port)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("collector could not subscribe")

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload)))

    def payloads(self) -> list[dict[str, Any]]:
        """Every message so far, parsed as JSON."""
        with self._lock:
            return [json.loads(p) for _, p in self.messages]

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def collect(broker: stack.Server) -> Iterator[Callable[[str], Collector]]:
    """Factory of collectors on the session broker; all closed after the test."""
    made: list[Collector] = []

    def factory(topic: str, url: str | None = None) -> Collector:
        c = Collector(url or broker.url, topic)
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()


def publish(url: str, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
    """Publish one message and wait until the broker has it."""
    client = make_client(url, f"pub-{uuid.uuid4().hex[:8]}")
    host, port = broker_address(url)
    client.connect(host, port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.fixture
def env_for(broker: stack.Server, influx: InfluxStore, site: str, tmp_path: Path):
    """Environment variables pointing a subprocess at this test's broker, database and site."""

    def make(**extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
        env.update(
            LANDFILL_SITE=site,
            LANDFILL_MQTT_URL=broker.url,
            LANDFILL_INFLUX_URL=influx.url,
            LANDFILL_INFLUX_DB=influx.database,
            LANDFILL_DATABASE_URL=f"sqlite:///{tmp_path}/api.sqlite",
            LANDFILL_OUTBOX_PATH=str(tmp_path / "outbox.sqlite"),
            LANDFILL_FILL_STATE_PATH=str(tmp_path / "fill-state.sqlite"),
            LANDFILL_SENSORS_REGISTRY_CACHE=str(tmp_path / "registry.json"),
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    return make


def stop_process(proc: subprocess.Popen[Any], timeout: float = 20.0) -> None:
    """SIGTERM a process still running, wait ``timeout`` seconds for it, then kill it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, launched for this test (tests/browser.py)."""
    from tests.browser import chromium  # here: tests.browser imports tests.api.conftest

    with chromium() as launched:
        yield launched
