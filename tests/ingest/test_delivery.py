"""Ingest delivery against real servers: queued while paused, shared workers, rejects, stats."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bench.ingest import BASE, Publisher, capture_stream, stored_count, stored_ids, wait_online
from ingest.pipeline import Output
from ingest.service import Ingest
from landfill import cli
from landfill.contract import Capture, ContainerEvent, Message, ScaleEvent, Topics
from landfill.influx import epoch_ms
from landfill.settings import IngestSettings
from tests.conftest import publish, wait_for

pytestmark = pytest.mark.integration


def settings_for(broker, influx, site, **kw) -> IngestSettings:
    kw.setdefault("ingest_client_id", f"ingest-{uuid.uuid4().hex[:8]}")
    kw.setdefault("ingest_flush_seconds", 0.1)
    return IngestSettings(
        site=site, mqtt_url=broker.url, influx_url=influx.url, influx_db=influx.database, **kw
    )


def started(settings: IngestSettings, **kw) -> Ingest:
    ingest = Ingest(settings, **kw)
    ingest.start()
    wait_online(settings.mqtt_url, settings.site, settings.ingest_client_id)
    return ingest


def publish_all(url: str, stream) -> None:
    pub = Publisher(url)
    try:
        pub.publish_all(stream)
        pub.wait_acked(len(stream))
    finally:
        pub.close()


def test_more_than_1000_messages_queued_while_ingest_is_stopped_all_arrive(broker, influx, site):
    settings = settings_for(broker, influx, site)
    first = started(settings)
    first.stop()  # graceful: the subscription stays in the persistent session
    stream = capture_stream(site, 5000)
    publish_all(broker.url, stream)  # mosquitto's default would keep 1000 and drop the rest
    second = started(settings)
    try:
        wait_for(lambda: stored_count(influx) >= 5000, 60, "the queued messages")
        assert sorted(stored_ids(influx)) == sorted(i for _, _, i in stream)
    finally:
        second.stop()


def test_graceful_stop_writes_and_acknowledges_what_was_taken(broker, influx, site):
    settings = settings_for(broker, influx, site, ingest_flush_seconds=30, ingest_batch_size=5000)
    ingest = started(settings)
    publish_all(broker.url, capture_stream(site, 300))
    wait_for(lambda: ingest.stats.received >= 300, 20, "all received")
    assert stored_count(influx) == 0, "the batch is still filling (30 s flush)"
    ingest.stop()
    assert stored_count(influx) == 300
    assert ingest.stats["acked"] == 300


def test_two_workers_on_a_shared_subscription_split_the_stream(broker, influx, site):
    group = f"g{uuid.uuid4().hex[:6]}"
    a = started(settings_for(broker, influx, site, ingest_shared_group=group))
    b = started(settings_for(broker, influx, site, ingest_shared_group=group))
    try:
        stream = capture_stream(site, 10_000)
        publish_all(broker.url, stream)
        wait_for(lambda: stored_count(influx) >= 10_000, 60, "the stream written")
        assert sorted(stored_ids(influx)) == sorted(i for _, _, i in stream)
        wait_for(lambda: a.stats["acked"] + b.stats["acked"] >= 10_000, 10, "all acked")
        assert a.stats.received + b.stats.received == 10_000, "each message to one worker"
        assert a.stats.received > 2000
        assert b.stats.received > 2000
    finally:
        a.stop()
        b.stop()


def test_malformed_and_type_conflict_are_dead_lettered_the_rest_written(
    broker, influx, site, collect
):
    dead = collect(f"landfill/v1/{site}/deadletter")
    ts = BASE + timedelta(seconds=30)
    # same shard, same measurement, weight_kg already a string: an int there is a conflict
    influx.write_lines([f'scale_event,site={site},scale=s1 weight_kg="heavy" {epoch_ms(BASE)}'])
    ingest = started(settings_for(broker, influx, site))
    try:
        stream = capture_stream(site, 400)
        event = ScaleEvent(ts=ts, site=site, scale="s1", event="overload", weight_kg=61000)
        topics = Topics(site)
        publish_all(broker.url, stream[:200])
        publish(broker.url, topics.of(ScaleEvent, scale="s1"), event.to_json())
        publish(broker.url, topics.of(Capture, scale="s1"), b'{"v": 1, "kind": "capture", "ts": ')
        publish_all(broker.url, stream[200:])
        wait_for(lambda: stored_count(influx) >= 400, 30, "the rest of the stream")
        letters = wait_for(lambda: len(dead.payloads()) >= 2 and dead.payloads(), 20)
        by_topic = {d["topic"]: d for d in letters}
        conflict = by_topic[topics.of(ScaleEvent, scale="s1")]
        assert conflict["reason"].startswith("influx:")
        assert "conflict" in conflict["reason"]
        assert json.loads(conflict["payload"])["id"] == event.id
        assert by_topic[topics.of(Capture, scale="s1")]["reason"].startswith("invalid_json")
        assert ingest.stats["rejected:influx_rejected"] == 1
        assert sorted(stored_ids(influx)) == sorted(i for _, _, i in stream)
    finally:
        ingest.stop()


class EmptyingEveryCapture:
    """A processor that derives one message per source, as the fill engineer's will."""

    def process(self, msg: Message) -> Output:
        derived = ContainerEvent(
            id=f"derived-{msg.id}",
            ts=msg.ts,
            site=msg.site,
            container="c1",
            event="emptying",
            before_pct=90.0,
            after_pct=5.0,
        )
        return Output(
            lines=[f"probe,site={msg.site} n=1i {int(msg.ts.timestamp() * 1000)}"],
            publish=[derived],
        )

    def tick(self, now: datetime) -> Output:
        return Output()


def test_processor_lines_are_written_and_derived_messages_published(broker, influx, site, collect):
    derived = collect(f"landfill/v1/{site}/container/+/event")
    ingest = started(
        settings_for(broker, influx, site), processors={"capture": EmptyingEveryCapture()}
    )
    try:
        stream = capture_stream(site, 50)
        publish_all(broker.url, stream)
        got = wait_for(lambda: len(derived.payloads()) >= 50 and derived.payloads(), 20)
        assert {d["id"] for d in got} == {f"derived-{i}" for _, _, i in stream}
        wait_for(lambda: ingest.stats["acked"] >= 50, 10, "sources acknowledged")
        # the derived events come back through the subscription and are stored as well
        wait_for(lambda: influx.rows("SELECT count(id) FROM container_event"), 10)
        assert influx.rows("SELECT count(n) FROM probe")[0]["count"] == 50
    finally:
        ingest.stop()


def test_stats_are_written_and_shown_by_status(broker, influx, site, monkeypatch, capsys):
    settings = settings_for(broker, influx, site, ingest_stats_seconds=0.2)
    ingest = started(settings)
    try:
        publish_all(
            broker.url, capture_stream(site, 20, start=datetime.now(UTC) - timedelta(seconds=1))
        )
        wait_for(
            lambda: any(
                r.get("acked") == 20 and r.get("lag_ms_max") is not None
                for r in influx.rows("SELECT * FROM ingest_stats")
            ),
            20,
            "ingest_stats with the 20 messages",
        )
    finally:
        ingest.stop()
    for key, value in {
        "LANDFILL_SITE": site,
        "LANDFILL_INFLUX_URL": influx.url,
        "LANDFILL_INFLUX_DB": influx.database,
    }.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["ingest", "--status"]) == 0
    out = capsys.readouterr().out
    assert settings.ingest_client_id in out
    assert "received 20" in out
    assert "acked 20" in out
