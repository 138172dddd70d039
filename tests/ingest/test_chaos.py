"""Chaos against real mosquitto and influxd: every message in InfluxDB exactly once, by id.

Each scenario streams 20,000 captures with distinct ids and millisecond times while something
breaks: ingest killed with SIGKILL and restarted, influxd stopped for 30 s, mosquitto
restarted (its persistence keeps the session).
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from pathlib import Path

import pytest

from bench.ingest import (
    Publisher,
    capture_stream,
    ingest_env,
    start_ingest,
    stored_count,
    stored_ids,
    wait_online,
)
from ingest.service import Ingest
from landfill.influx import InfluxStore
from landfill.settings import IngestSettings
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N = 20_000


def assert_exactly_once(store: InfluxStore, stream: list[tuple[str, bytes, str]]) -> None:
    ids = stored_ids(store)
    assert len(ids) == len(stream)
    assert set(ids) == {i for _, _, i in stream}


def publish_in_background(url: str, stream: list[tuple[str, bytes, str]]) -> threading.Thread:
    def run() -> None:
        pub = Publisher(url)
        try:
            pub.publish_all(stream)
            pub.wait_acked(len(stream), timeout=180)
        finally:
            pub.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def in_process(broker_url: str, influx_url: str, db: str, site: str, **kw: object) -> Ingest:
    settings = IngestSettings(
        site=site,
        mqtt_url=broker_url,
        influx_url=influx_url,
        influx_db=db,
        ingest_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        ingest_flush_seconds=0.2,
        ingest_retry_max_seconds=1.0,
        **kw,  # type: ignore[arg-type]
    )
    ingest = Ingest(settings)
    ingest.start()
    wait_online(broker_url, site, settings.ingest_client_id)
    return ingest


def test_kill_9_ingest_repeatedly_loses_and_doubles_nothing(broker, influx, site, tmp_path: Path):
    env = ingest_env(
        site,
        broker.url,
        influx.url,
        influx.database,
        LANDFILL_INGEST_CLIENT_ID=f"ingest-{uuid.uuid4().hex[:8]}",
        LANDFILL_INGEST_FLUSH_SECONDS="0.2",
        LANDFILL_INGEST_BATCH_SIZE="1000",
    )
    log = tmp_path / "ingest.log"
    proc = start_ingest(env, log)
    try:
        wait_online(broker.url, site, env["LANDFILL_INGEST_CLIENT_ID"])
        stream = capture_stream(site, N)
        publisher = publish_in_background(broker.url, stream)
        for k in (1, 2, 3, 4):
            wait_for(lambda k=k: stored_count(influx) >= k * N // 5, 60, f"{k}/5 written")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc = start_ingest(env, log)
        publisher.join(180)
        wait_for(lambda: stored_count(influx) >= N, 120, "all written after the kills")
        assert_exactly_once(influx, stream)
    finally:
        proc.terminate()
        proc.wait(20)
    assert "Traceback" not in log.read_text()


def test_influxd_down_30_s_mid_stream_backlog_bounded_then_drained(servers, broker, site):
    influxd = servers.influxd()
    store = InfluxStore(influxd.url, "chaos")
    store.ensure_database()
    ingest = in_process(
        broker.url,
        influxd.url,
        "chaos",
        site,
        ingest_batch_size=1000,
        ingest_max_pending=3000,
    )
    try:
        stream = capture_stream(site, N)
        publisher = publish_in_background(broker.url, stream)
        wait_for(lambda: stored_count(store) >= N // 4, 60, "a quarter written")
        influxd.stop()
        back_at = time.monotonic() + 30
        held = []

        def outage_over() -> bool:
            # while InfluxDB is away ingest holds at most the backlog and three batches
            held.append(ingest.stats.received - ingest.stats["acked"])
            return time.monotonic() >= back_at

        wait_for(outage_over, 40, "30 s of outage")
        assert ingest.stats["retries"] > 0
        assert max(held) <= 3000 + 3 * 1000 + 1
        assert ingest.stats.received < N, "the broker, not ingest, must hold the rest"
        servers.influxd(port=influxd.port, state=influxd.state)
        publisher.join(180)
        wait_for(lambda: stored_count(store) >= N, 120, "backlog drained")
        assert_exactly_once(store, stream)
    finally:
        ingest.stop()
        store.close()


def test_mosquitto_restart_mid_stream(servers, influx, site):
    broker = servers.mosquitto()
    ingest = in_process(broker.url, influx.url, influx.database, site, ingest_batch_size=1000)
    try:
        stream = capture_stream(site, N)
        publisher = publish_in_background(broker.url, stream)
        wait_for(lambda: stored_count(influx) >= N // 4, 60, "a quarter written")
        broker.stop()  # graceful: mosquitto saves sessions and queued messages
        servers.mosquitto(port=broker.port, state=broker.state)
        publisher.join(180)
        wait_for(lambda: stored_count(influx) >= N, 120, "all written after the restart")
        assert_exactly_once(influx, stream)
        assert ingest.stats["reconnects"] >= 1
    finally:
        ingest.stop()
