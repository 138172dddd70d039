"""The operator console's server side: the page, the live stream, unused captures.

The API is served by uvicorn on a free port (a stream needs a real server); the stream is read
with httpx like a plain EventSource. It carries the broker's state, the retained live weight,
scale events, ingest's capture receipts and the edge's status, each of its own scale only; it
says when the broker goes away and comes back.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn

from api.main import create_app
from deploy import stack
from landfill.contract import LiveWeight, NodeStatus, Receipt, ScaleEvent, Topics
from landfill.settings import ApiSettings
from tests.api.conftest import PASSWORD, add_token, add_user, csrf_of
from tests.api.weighbridge_seed import capture, seed_registry
from tests.conftest import publish, wait_for

pytestmark = pytest.mark.integration


@dataclass
class Served:
    url: str
    broker: stack.Server
    tokens: dict[str, str]  # role -> token

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def serve(settings: ApiSettings) -> tuple[uvicorn.Server, threading.Thread, object]:
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=settings.api_port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{settings.api_port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, what="uvicorn serving the API")
    return server, thread, app


@pytest.fixture
def served(servers, influx, site, tmp_path) -> Iterator[Served]:
    broker = servers.mosquitto(state=tmp_path / "broker")
    settings = ApiSettings(
        _env_file=None,  # type: ignore[call-arg]
        site=site,
        mqtt_url=broker.url,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=f"sqlite:///{tmp_path}/api.sqlite",
        api_port=stack.free_port(),
    )
    server, thread, app = serve(settings)
    tokens = {role: add_token(app, role) for role in ("admin", "operator", "dispatcher")}  # type: ignore[arg-type]
    add_user(app, "oskon", "operator")  # type: ignore[arg-type]
    add_user(app, "aigul", "dispatcher")  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{settings.api_port}"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['admin']}"}) as c:
        seed_registry(c, site, datetime.now(UTC))
        assert c.post("/api/v1/scales", json={"site": site, "code": "wb2", "name": "2"}).is_success
    yield Served(url, broker, tokens)
    server.should_exit = True
    thread.join(10)


class Stream:
    """Server-sent events of one stream, parsed on a thread into a queue."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.client = httpx.Client(timeout=httpx.Timeout(5, read=None))
        self.response = self.client.send(
            self.client.build_request("GET", url, headers=headers), stream=True
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        kind = ""
        try:
            for line in self.response.iter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    self.events.put((kind, json.loads(line.removeprefix("data: "))))
        except httpx.HTTPError:
            pass

    def next(self, kind: str, timeout: float = 15) -> dict:
        """The next event of ``kind`` (others before it are passed over)."""
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        while (left := (deadline - datetime.now(UTC)).total_seconds()) > 0:
            try:
                got, data = self.events.get(timeout=left)
            except queue.Empty:
                break
            if got == kind:
                return data
        pytest.fail(f"no {kind} event within {timeout} s")

    def close(self) -> None:
        self.response.close()
        self.client.close()


def test_the_stream_pushes_weight_events_receipts_and_the_edge_of_its_scale(served, site):
    topics, now = Topics(site), datetime.now(UTC)
    weight = LiveWeight(ts=now, site=site, scale="wb1", weight_kg=14_560, stable=True)
    publish(served.broker.url, topics.for_message(weight), weight.to_json(), qos=0, retain=True)
    url = f"{served.url}/api/v1/scales/wb1/live"
    stream = Stream(url, served.headers("operator"))
    try:
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        assert "connected" in stream.next("broker")  # first, what the stream knows of it
        got = stream.next("weight")  # the retained weight: the console shows it at once
        assert (got["weight_kg"], got["stable"], got["overload"]) == (14_560, True, False)
        other = LiveWeight(ts=now, site=site, scale="wb2", weight_kg=999, stable=False)
        publish(served.broker.url, topics.for_message(other), other.to_json(), qos=0)
        moving = weight.model_copy(update={"weight_kg": 9_020, "stable": False})
        publish(served.broker.url, topics.for_message(moving), moving.to_json(), qos=0)
        assert stream.next("weight")["weight_kg"] == 9_020  # wb2's weight is not in wb1's stream
        event = ScaleEvent(
            ts=now, site=site, scale="wb1", event="left_before_capture", weight_kg=9_020
        )
        publish(served.broker.url, topics.for_message(event), event.to_json())
        assert stream.next("event")["event"] == "left_before_capture"
        receipt = Receipt(ts=now, site=site, scale="wb1", ids=["cap-1", "cap-2"])
        publish(served.broker.url, topics.for_message(receipt), receipt.to_json())
        assert stream.next("capture") == {"ids": ["cap-1", "cap-2"]}
        edge = NodeStatus(ts=now, site=site, node="edge-scale-wb1", online=False)
        publish(served.broker.url, topics.for_message(edge), edge.to_json(), retain=True)
        assert stream.next("edge")["online"] is False
    finally:
        stream.close()
    # a second stream starts with what is known: broker, edge, last weight
    again = Stream(url, served.headers("operator"))
    try:
        first = [again.events.get(timeout=10) for _ in range(3)]
        assert [k for k, _ in first] == ["broker", "edge", "weight"]
        assert first[0][1] == {"connected": True}
        assert first[2][1]["weight_kg"] == 9_020
    finally:
        again.close()


def test_the_stream_says_when_the_broker_is_away_and_back(served, servers):
    stream = Stream(f"{served.url}/api/v1/scales/wb1/live", served.headers("operator"))
    try:
        wait_for(lambda: stream.next("broker")["connected"], what="the stream's broker up")
        port, state = served.broker.port, served.broker.state
        served.broker.stop()
        assert stream.next("broker") == {"connected": False}
        servers.mosquitto(port=port, state=state)
        assert stream.next("broker", timeout=30) == {"connected": True}
    finally:
        stream.close()


def test_who_may_open_the_stream_and_for_which_scale(served):
    url = f"{served.url}/api/v1/scales/wb1/live"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers=served.headers("dispatcher")).status_code == 403
    missing = httpx.get(f"{served.url}/api/v1/scales/nope/live", headers=served.headers("operator"))
    assert missing.status_code == 404
    assert "not registered" in missing.json()["detail"]


def test_the_page_is_for_the_scale_house(served):
    with httpx.Client(base_url=served.url) as browser:
        page = browser.get("/operator")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=%2Foperator"
        form = browser.get("/login")
        data = {"username": "oskon", "password": PASSWORD, "csrf_token": csrf_of(form.text)}
        assert browser.post("/login", data=data).status_code == 303
        page = browser.get("/operator", params={"lang": "en"})
        assert page.status_code == 200
        html = page.text
        assert '<option value="wb1">wb1</option>' in html
        assert 'data-capture-minutes="30.0"' in html
        assert 'name="csrf-token" content="' in html
        assert "<kbd>F2</kbd> Weigh in" in html  # the keys are written on the page
        assert 'src="/static/operator.js"' in html
        assert "http://" not in html.replace(served.url, "")  # nothing from elsewhere
    with httpx.Client(base_url=served.url) as browser:
        form = browser.get("/login")
        data = {"username": "aigul", "password": PASSWORD, "csrf_token": csrf_of(form.text)}
        browser.post("/login", data=data)
        assert browser.get("/operator").status_code == 403


def test_unused_captures_are_the_ones_no_ticket_weighed(served, influx, site):
    now = datetime.now(UTC)
    used = capture(influx, site, 14_560, now - timedelta(minutes=3))
    free = capture(influx, site, 9_020, now - timedelta(minutes=2))
    newest = capture(influx, site, 8_000, now - timedelta(minutes=1), scale="wb2")
    admin = served.headers("admin")
    made = httpx.post(
        f"{served.url}/api/v1/tickets",
        json={"plate": "01KG123ABC", "capture_id": used},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    every = httpx.get(f"{served.url}/api/v1/captures", headers=admin).json()["data"]
    assert [(c["id"], c["ticket_id"]) for c in every] == [
        (newest, None),
        (free, None),
        (used, made.json()["id"]),
    ]
    params = {"scale": "wb1", "unused": "true", "limit": "1"}
    ready = httpx.get(f"{served.url}/api/v1/captures", params=params, headers=admin).json()
    assert [c["id"] for c in ready["data"]] == [free]  # the newest of wb1 no ticket used


def test_the_api_stops_promptly_with_a_stream_open(tmp_path, broker, influx, site):
    """`landfill api` asked to stop ends the streams (browsers reconnect to the next start)."""
    port = stack.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
    env |= {
        "LANDFILL_SITE": site,
        "LANDFILL_MQTT_URL": broker.url,
        "LANDFILL_INFLUX_URL": influx.url,
        "LANDFILL_INFLUX_DB": influx.database,
        "LANDFILL_DATABASE_URL": f"sqlite:///{tmp_path}/api.sqlite",
    }
    cli = [sys.executable, "-m", "landfill.cli"]
    token = subprocess.run(
        [*cli, "tokens", "create", "t", "--role", "admin"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    with (tmp_path / "api.log").open("wb") as out:
        api = subprocess.Popen([*cli, "api", "--port", str(port)], env=env, stdout=out, stderr=out)
    try:
        url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}"}

        def up() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=30, what="the API")
        scale = {"site": site, "code": "wb1", "name": "w"}
        assert httpx.post(f"{url}/api/v1/scales", json=scale, headers=headers).is_success
        stream = Stream(f"{url}/api/v1/scales/wb1/live", headers)
        stream.next("broker")
        started = time.monotonic()
        api.send_signal(signal.SIGTERM)
        assert api.wait(15) == -signal.SIGTERM
        assert time.monotonic() - started < 10
        stream.close()
    finally:
        if api.poll() is None:
            api.kill()
            api.wait()
    assert "Finished server process" in (tmp_path / "api.log").read_text()
