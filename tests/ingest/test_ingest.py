"""Ingest against real mosquitto and influxd: writes, dead letters, InfluxDB late at start."""

from __future__ import annotations

import json
import uuid

import pytest

from bench.ingest import BASE
from ingest.service import Ingest
from landfill.contract import Capture, Topics
from landfill.influx import InfluxStore
from landfill.settings import IngestSettings
from tests.conftest import publish, wait_for

pytestmark = pytest.mark.integration


def capture(site: str, kg: int, second: int = 0) -> Capture:
    return Capture.weighed(
        ts=BASE.replace(hour=6, second=second),  # inside ingest's time window
        site=site,
        scale="s1",
        weight_kg=kg,
        division_kg=20,
        stable_ms=2000,
        protocol="yaohua-a9",
    )


def start_ingest(broker_url: str, influx_url: str, db: str, site: str) -> Ingest:
    settings = IngestSettings(
        site=site,
        mqtt_url=broker_url,
        influx_url=influx_url,
        influx_db=db,
        ingest_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        ingest_flush_seconds=0.1,
    )
    ingest = Ingest(settings)
    ingest.start()
    wait_for(ingest.subscribed.is_set, what="ingest subscribed")
    return ingest


def captures_in(store: InfluxStore) -> list[dict]:
    return store.rows("SELECT weight_kg, id FROM scale_capture")


def test_capture_is_written_with_its_observation_time(broker, influx, site):
    ingest = start_ingest(broker.url, influx.url, influx.database, site)
    try:
        msg = capture(site, 14560)
        publish(broker.url, Topics(site).for_message(msg), msg.to_json())
        rows = wait_for(lambda: captures_in(influx), what="capture in InfluxDB")
        assert rows == [{"time": int(msg.ts.timestamp() * 1000), "weight_kg": 14560, "id": msg.id}]
    finally:
        ingest.stop()


def test_malformed_payload_is_dead_lettered_and_the_stream_goes_on(broker, influx, site, collect):
    dead = collect(f"landfill/v1/{site}/deadletter")
    ingest = start_ingest(broker.url, influx.url, influx.database, site)
    topic = Topics(site).of(Capture, scale="s1")
    try:
        publish(broker.url, topic, b"{not json")
        publish(broker.url, topic, json.dumps({"v": 1, "kind": "capture"}).encode())
        good = capture(site, 9000)
        publish(broker.url, topic, good.to_json())
        wait_for(lambda: captures_in(influx), what="good capture written")
        letters = wait_for(lambda: len(dead.payloads()) >= 2 and dead.payloads())
        assert [d["reason"].split(":")[0] for d in letters] == ["invalid_json", "invalid_payload"]
        assert letters[0]["payload"] == "{not json"
        assert letters[0]["topic"] == topic
        assert ingest.counters["rejected:invalid_json"] == 1
    finally:
        ingest.stop()


def test_influx_down_at_start_is_retried_not_fatal(servers, broker, site):
    from deploy import stack

    port = stack.free_port()
    url = f"http://127.0.0.1:{port}"
    settings = IngestSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=url,
        influx_db="late",
        ingest_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
    )
    ingest = Ingest(settings)
    import threading

    starter = threading.Thread(target=ingest.start)
    starter.start()
    try:
        starter.join(1.5)
        assert starter.is_alive(), "ingest must keep waiting for InfluxDB, not exit"
        servers.influxd(port=port)
        starter.join(30)
        assert not starter.is_alive()
        wait_for(ingest.subscribed.is_set, what="ingest subscribed")
        msg = capture(site, 4200)
        publish(broker.url, Topics(site).for_message(msg), msg.to_json())
        store = InfluxStore(url, "late")
        wait_for(lambda: captures_in(store), what="capture after InfluxDB came up")
    finally:
        ingest.stop()


def test_a_small_byte_bound_slows_ingest_down_but_loses_nothing(broker, influx, site):
    """With room for one message at a time by bytes, every message still gets written."""
    settings = IngestSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=influx.url,
        influx_db=influx.database,
        ingest_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        ingest_flush_seconds=0.1,
        ingest_max_pending_bytes=2000,
    )
    ingest = Ingest(settings)
    ingest.start()
    try:
        wait_for(ingest.subscribed.is_set, what="ingest subscribed")
        msgs = [
            capture(site, 1000 + 20 * i, second=i).model_copy(update={"raw": ["0a" * 150] * 5})
            for i in range(30)
        ]
        assert all(1500 < len(m.to_json()) < 2000 for m in msgs)
        for m in msgs:
            publish(broker.url, Topics(site).for_message(m), m.to_json())
        rows = wait_for(lambda: len(captures_in(influx)) == 30 and captures_in(influx))
        assert sorted(r["id"] for r in rows) == sorted(m.id for m in msgs)
        assert ingest.backlog.max_bytes == 2000
    finally:
        ingest.stop()
