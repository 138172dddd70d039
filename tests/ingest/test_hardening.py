"""Hardening (issue 9) against real mosquitto, influxd and `landfill ingest` processes.

No message stalls ingest: times outside the calendar, a far-future open lid, a full disk under
the fill state and hypothesis-generated payloads on every consumed topic are dead-lettered with
a reason, and messages after them are stored. A thread that still dies stops the process with
exit code 1, and `--status` and `/health` say so. Times outside the window are refused, so a
wrong clock cannot blind a container. A registry gap keeps open alerts; a removal clears them.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.ingest import Publisher, ingest_env, start_ingest, wait_online
from ingest import service
from ingest.backlog import Backlog
from landfill import cli
from landfill.contract import (
    Capture,
    ContainerAlert,
    ContainerEvent,
    ContainerReading,
    ContainerRegistry,
    Message,
    ScaleEvent,
    Ticket,
    Topics,
    utcnow,
)
from landfill.fill.spec import ContainerSpec
from landfill.influx import InfluxStore
from landfill.settings import IngestSettings
from tests.conftest import publish, stop_process, wait_for

pytestmark = pytest.mark.integration

EMPTY, FULL = 1450, 450


def registry(site: str, *names: str, interval_s: int = 3600) -> ContainerRegistry:
    specs = [
        ContainerSpec(
            container=n, zone="dostuk", empty_mm=EMPTY, full_mm=FULL, expected_interval_s=interval_s
        )
        for n in names
    ]
    return ContainerRegistry(ts=utcnow(), site=site, containers=specs)


def reading(site: str, ts: datetime, container: str = "bin-01", **kw: Any) -> ContainerReading:
    return ContainerReading(
        ts=ts,
        site=site,
        container=container,
        device="24e12400713b0000",
        model="EM310-UDL",
        distance_mm=kw.pop("distance_mm", 1000),
        **kw,
    )


def capture(site: str, ts: datetime, **kw: Any) -> Capture:
    fields = {"scale": "s1", "weight_kg": 14560, "division_kg": 20, "stable_ms": 2000}
    return Capture.weighed(ts=ts, site=site, protocol="yaohua-a9", **{**fields, **kw})


def send(url: str, *messages: Message, retain: bool = False) -> None:
    for m in messages:
        publish(url, Topics(m.site).for_message(m), m.to_json(), retain=retain)


def ids(store: InfluxStore, measurement: str) -> set[str]:
    return {r["id"] for r in store.rows(f"SELECT id FROM {measurement}")}  # noqa: S608 - fixed


class Run:
    """`landfill ingest` as a subprocess on this test's broker, database and site."""

    def __init__(self, broker_url: str, influx: InfluxStore, site: str, tmp: Path) -> None:
        self.url, self.influx, self.site, self.tmp = broker_url, influx, site, tmp
        self.procs: list[subprocess.Popen[bytes]] = []
        self.log = tmp / "ingest.log"

    def start(self, *, containers: int = 1, **env: str) -> subprocess.Popen[bytes]:
        """Start ingest; wait until it is online and its fill watcher took the registry."""
        client_id = f"ingest-{uuid.uuid4().hex[:8]}"
        environ = ingest_env(
            self.site,
            self.url,
            self.influx.url,
            self.influx.database,
            LANDFILL_INGEST_CLIENT_ID=client_id,
            LANDFILL_INGEST_FLUSH_SECONDS="0.1",
            LANDFILL_FILL_STATE_PATH=str(self.tmp / "fill-state.sqlite"),
            **env,
        )
        proc = start_ingest(environ, self.log)
        self.procs.append(proc)
        wait_online(self.url, self.site, client_id)
        self.wait_registry(containers)
        return proc

    def wait_registry(self, containers: int, times: int = 1) -> None:
        """Wait until the fill watcher applied a registry of that size ``times`` times (its log):
        it has an MQTT client of its own, so nothing else orders it with readings."""
        line = f"registry of {self.site}: {containers} containers"
        wait_for(lambda: self.log_text().count(line) >= times, what=line)

    def stop(self) -> None:
        for proc in self.procs:
            stop_process(proc, timeout=15)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def run(broker, influx, site, tmp_path) -> Iterator[Run]:
    r = Run(broker.url, influx, site, tmp_path)
    yield r
    r.stop()


def reasons(dead: Any) -> list[str]:
    return [d["reason"] for d in dead.payloads()]


# ---- item 1: one message never stops ingest ------------------------------------------------


def test_times_outside_the_calendar_and_a_far_future_open_lid_are_dead_lettered(
    run, broker, influx, site, collect
):
    send(broker.url, registry(site, "bin-01"), retain=True)
    dead = collect(f"landfill/v1/{site}/deadletter")
    proc = run.start()
    topic = Topics(site).of(Capture, scale="s1")
    template = json.loads(capture(site, utcnow()).to_json())
    for n, ts in enumerate(("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00")):
        # ids are names (no "+"), so the time is the one thing wrong with these
        publish(broker.url, topic, json.dumps({**template, "id": f"edge-{n}", "ts": ts}).encode())
    far = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)  # valid UTC; lid timer: + 30 min overflows
    send(broker.url, reading(site, far, lid_open=True))
    now = utcnow()
    good_capture, good_reading = capture(site, now), reading(site, now - timedelta(minutes=1))
    send(broker.url, good_capture, good_reading)
    wait_for(lambda: good_capture.id in ids(influx, "scale_capture"), what="the next capture")
    wait_for(lambda: good_reading.id in ids(influx, "fill"), what="the next reading")
    got = wait_for(lambda: len(reasons(dead)) >= 3 and reasons(dead), what="3 dead letters")
    assert [r.split(":")[0] for r in got] == ["invalid_payload"] * 2 + ["time_out_of_window"]
    assert all("outside the calendar" in r for r in got[:2])
    assert proc.poll() is None


def test_a_full_disk_under_the_fill_state_dead_letters_the_reading_not_ingest(
    run, broker, influx, site, collect
):
    send(broker.url, registry(site, "bin-01"), retain=True)
    dead = collect(f"landfill/v1/{site}/deadletter")
    proc = run.start()
    now = utcnow()
    first = reading(site, now - timedelta(minutes=30))
    send(broker.url, first)
    wait_for(lambda: first.id in ids(influx, "fill"), what="the first reading")
    # no write may grow any file of the process any more: SQLite reports a full disk
    soft, hard = resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
    try:
        lost, during = reading(site, now - timedelta(minutes=20)), capture(site, now)
        send(broker.url, lost, during)
        wait_for(lambda: during.id in ids(influx, "scale_capture"), what="a capture meanwhile")
        [letter] = wait_for(dead.payloads, what="the reading dead-lettered")
        assert letter["reason"].startswith("processor_error: OperationalError:")
        assert json.loads(letter["payload"])["id"] == lost.id
    finally:
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
    after = reading(site, now - timedelta(minutes=10))
    send(broker.url, after)
    wait_for(lambda: after.id in ids(influx, "fill"), what="readings stored again")
    assert lost.id not in ids(influx, "fill")
    assert proc.poll() is None


def test_a_dying_thread_ends_ingest_with_1_and_status_and_health_say_so(
    broker, influx, site, tmp_path, monkeypatch, capfd
):
    def take(self: Backlog[Any], *args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("a bug outside any one message")

    monkeypatch.setattr(Backlog, "take", take)
    ingest_settings = IngestSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=influx.url,
        influx_db=influx.database,
        ingest_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        fill_state_path=tmp_path / "fill-state.sqlite",
        fill_registry_wait_seconds=0,
    )
    # main() must return by itself; if it waits for a signal instead, SIGTERM it after 30 s
    guard = threading.Timer(30, os.kill, (os.getpid(), signal.SIGTERM))
    guard.start()
    try:
        assert service.run(ingest_settings) == 1
    finally:
        guard.cancel()
    for key, value in {
        "LANDFILL_SITE": site,
        "LANDFILL_INFLUX_URL": influx.url,
        "LANDFILL_INFLUX_DB": influx.database,
    }.items():
        monkeypatch.setenv(key, value)
    capfd.readouterr()
    assert cli.main(["ingest", "--status"]) == 1
    out = capfd.readouterr().out
    assert f"{ingest_settings.ingest_client_id}: STOPPED" in out
    assert "batcher thread died: RuntimeError: a bug outside any one message" in out

    from api.routes.health import ingest_state

    state, detail = ingest_state(influx, site)
    assert state == "stopped"
    assert "batcher thread died" in detail


# ---- item 1: fuzz every consumed topic -------------------------------------------------------

EDGE_TIMES = st.sampled_from(
    [
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59.999999Z",
        "0001-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "1677-09-21T00:12:43.145224Z",
        "2262-04-11T23:47:16.854775Z",
        "2026-02-30T00:00:00Z",
        "2026-11-29T12:00:00",
        "",
    ]
)
ZONES = st.sampled_from(
    [UTC]
    + [timezone(timedelta(hours=h)) for h in (-12, -1, 1, 14)]
    + [timezone(timedelta(hours=23, minutes=59)), timezone(-timedelta(hours=23, minutes=59))]
)


def _times(now: datetime) -> st.SearchStrategy[str]:
    anywhere = st.datetimes(timezones=ZONES).map(lambda t: t.isoformat())
    near = st.integers(-40 * 86400, 2 * 86400).map(
        lambda s: (now + timedelta(seconds=s)).isoformat()
    )
    return EDGE_TIMES | anywhere | near


NASTY = (
    st.none()
    | st.booleans()
    | st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 2**64, 10**30, 1e308, -1e308, 5e-324])
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["\\", "a\\", "\n", "x y,z=1", '"', "\x00", "💥", "s1", "bin-01"])
)
JSON = st.recursive(
    NASTY,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
NAMES = st.sampled_from(["s1", "bin-01", "x"]) | st.text(
    # what a broker takes in a topic: no wildcards or separators, no control characters
    st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="/+#"),
    min_size=1,
    max_size=8,
)


@st.composite
def payload(draw: st.DrawFn, template: dict[str, Any], now: datetime) -> bytes:
    """A valid payload with some fields replaced, something else in JSON, or bytes."""
    shape = draw(st.sampled_from(["fields", "fields", "fields", "json", "bytes"]))
    if shape == "bytes":
        return draw(st.binary(max_size=200))
    if shape == "json":
        return json.dumps(draw(JSON)).encode()
    doc = dict(template)
    doc["id"] = uuid.uuid4().hex
    for key in draw(st.sets(st.sampled_from(sorted(template)), max_size=4)):
        times = _times(now)
        is_time = key in ("ts", "since")
        doc[key] = draw(times | NASTY if is_time else NASTY | times)
    if draw(st.booleans()):
        doc["ts"] = draw(_times(now))
    if draw(st.integers(0, 9)) == 0:
        doc[draw(st.text(max_size=5))] = draw(NASTY)
    text = json.dumps(doc, allow_nan=True)  # 1e308 * 10 is "Infinity": not JSON, on purpose
    return text.encode()


def consumed(site: str, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """Every topic ingest consumes (and the registry its fill watcher follows), with a template.

    Topics are written out, not built by `Topics`, so their names can be anything MQTT allows.
    """
    fire = ContainerAlert(
        ts=now,
        site=site,
        container="bin-01",
        alert="fire",
        active=True,
        severity="critical",
        transition="raised",
        since=now,
    )
    root = f"landfill/v1/{site}"
    messages: list[tuple[str, Message]] = [
        (root + "/scale/{}/capture", capture(site, now)),
        (root + "/scale/{}/event", ScaleEvent(ts=now, site=site, scale="s1", event="overload")),
        (root + "/container/{}/reading", reading(site, now, temp_c=20.0, lid_open=True)),
        (root + "/container/{}/alert/fire", fire),
        (
            root + "/container/{}/event",
            ContainerEvent(ts=now, site=site, container="c", event="emptying"),
        ),
        (root + "/ticket", ticket(site, now, client="Client \\")),  # InfluxDB 1.6 refuses
        (root + "/registry/containers", registry(site, "bin-01")),
    ]
    return [(topic, json.loads(m.to_json())) for topic, m in messages]


def ticket(site: str, ts: datetime, client: str = "Client A") -> Ticket:
    return Ticket(
        ts=ts,
        site=site,
        number="A-1",
        status="completed",
        scale="s1",
        gross_kg=20000,
        tare_kg=8000,
        net_kg=12000,
        client=client,
    )


def test_fuzz_every_consumed_topic_then_valid_messages_are_all_stored(run, broker, influx, site):
    send(broker.url, registry(site, "bin-01", "bin-02"), retain=True)
    proc = run.start(containers=2)
    now = utcnow()
    kinds = consumed(site, now)
    pub = Publisher(broker.url)
    sent: list[tuple[str, bytes]] = []

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        pattern, template = data.draw(st.sampled_from(kinds))
        topic = pattern.format(data.draw(NAMES))
        body = data.draw(payload(template, now))
        sent.append((topic, body))
        pub.publish(topic, body)

    try:
        fuzz()
        pub.wait_acked(len(sent))
    finally:
        pub.close()
    (run.tmp / "fuzz.jsonl").write_text(
        "\n".join(json.dumps([t, b.decode("utf-8", "replace")]) for t, b in sent)
    )
    # the registry again (the fuzz sent others), then one valid message of every stored kind
    send(broker.url, registry(site, "bin-01", "bin-02"), retain=True)
    after = utcnow()
    valid: dict[str, Message] = {
        "scale_capture": capture(site, after),
        "scale_event": ScaleEvent(ts=after, site=site, scale="s1", event="overload"),
        "fill": reading(site, after, container="bin-02"),  # bin-02 was never fuzzed
        "container_alert": ContainerAlert(
            ts=after,
            site=site,
            container="bin-09",
            alert="tilt",
            active=True,
            severity="major",
            transition="raised",
            since=after,
        ),
        "container_event": ContainerEvent(ts=after, site=site, container="c", event="emptying"),
        "weighing": ticket(site, after),
    }
    send(broker.url, *valid.values())
    # the fill watcher has its own client: if it is still reading the fuzz, the reading comes
    # too early (unknown_container); sent again, it counts once (same id)
    resent = [time.monotonic()]

    def stored_or_resent() -> bool:
        if valid["fill"].id in ids(influx, "fill"):
            return True
        if time.monotonic() - resent[0] > 2:
            resent[0] = time.monotonic()
            send(broker.url, valid["fill"])
        return False

    wait_for(stored_or_resent, 30, "the reading after the fuzz")
    for measurement, msg in valid.items():
        wait_for(
            lambda m=measurement, i=msg.id: i in ids(influx, m),
            30,
            f"{measurement} after {len(sent)} fuzzed messages (see {run.log})",
        )
    assert proc.poll() is None
    assert "thread died" not in run.log_text()


# ---- item 3: a wrong clock cannot blind a container ------------------------------------------


def test_a_time_far_ahead_is_refused_and_the_container_still_goes_offline(
    run, broker, influx, site, collect
):
    send(broker.url, registry(site, "bin-01", interval_s=1), retain=True)  # offline after 2.5 s
    dead = collect(f"landfill/v1/{site}/deadletter")
    alerts = collect(f"landfill/v1/{site}/container/+/alert/+")
    run.start()
    now = utcnow()
    wrong_clock = reading(site, now + timedelta(days=400))
    stale_clock = reading(site, now - timedelta(days=31))
    send(broker.url, wrong_clock, stale_clock, capture(site, now + timedelta(hours=2)))
    real = reading(site, now)
    send(broker.url, real)
    wait_for(lambda: real.id in ids(influx, "fill"), what="the real reading stored")
    got = wait_for(lambda: len(reasons(dead)) >= 3 and reasons(dead), what="3 dead letters")
    assert got == [
        "time_out_of_window: more than 600 s after receipt",
        "time_out_of_window: more than 30 days before receipt",
        "time_out_of_window: more than 600 s after receipt",
    ]
    offline = wait_for(
        lambda: [a for a in alerts.payloads() if a["alert"] == "offline"], what="offline raised"
    )
    assert offline[0]["transition"] == "raised"
    assert offline[0]["since"] == real.ts.isoformat().replace("+00:00", "Z")


# ---- item 8: a registry gap forgets no alert; a removal clears them ---------------------------


def test_open_alerts_survive_a_registry_gap_and_clear_when_the_container_is_removed(
    run, broker, site, collect
):
    fires = collect(f"landfill/v1/{site}/container/bin-01/alert/fire")

    def transitions() -> list[tuple[str, str]]:
        seen = {a["id"]: (a["transition"], a["detail"]) for a in fires.payloads()}
        return list(seen.values())

    send(broker.url, registry(site, "bin-01"), retain=True)
    run.start(LANDFILL_FILL_REGISTRY_GRACE_SECONDS="5")
    t = utcnow() - timedelta(minutes=5)  # a fire repeats every 15 min: none in this test
    send(broker.url, reading(site, t, temp_c=80.0))
    wait_for(lambda: [x for x, _ in transitions()] == ["raised"], what="fire raised")
    # a bad retained registry (empty), then the right one again: a gap, not a removal
    send(broker.url, registry(site), registry(site, "bin-01"), retain=True)
    run.wait_registry(1, times=2)  # the empty one came in between: the watcher keeps order
    for minute in (1, 2):  # two cool readings clear a fire
        send(broker.url, reading(site, t + timedelta(minutes=minute), temp_c=20.0))
    wait_for(lambda: len(transitions()) >= 2, what="fire cleared after the gap")
    assert transitions() == [("raised", "temperature, 80.0 °C"), ("cleared", "20.0 °C")]

    send(broker.url, reading(site, t + timedelta(minutes=3), temp_c=81.0))
    wait_for(lambda: len(transitions()) >= 3, what="fire raised again")
    send(broker.url, registry(site), retain=True)  # removed for good
    wait_for(lambda: len(transitions()) >= 4, what="fire cleared by the removal")
    assert transitions()[2:] == [
        ("raised", "temperature, 81.0 °C"),
        ("cleared", "removed from the registry"),
    ]
