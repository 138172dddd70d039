"""Dead letters stored at a bounded cost: tags, excerpt, the per-minute limit, and a flood of
garbage through real mosquitto and influxd while InfluxDB is away for a while."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bench.ingest import Publisher, capture_stream, stored_ids, wait_online
from ingest.dead_letters import OTHER, DeadLetterStore, tags_of
from ingest.points import DeadLetterTags
from ingest.service import Ingest
from landfill.contract import Capture, DeadLetter, Topics
from landfill.dead_letters import excerpt, reason_code, source_of_topic
from landfill.influx import InfluxStore
from landfill.settings import IngestSettings
from tests.conftest import publish, wait_for

T0 = datetime(2026, 11, 29, 6, 0, 10, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def letter(
    reason: str = "unknown_model", source: str = "device:a84041000181c2e1", **kw
) -> DeadLetter:
    base = {
        "ts": T0,
        "site": "d",
        "reason": reason,
        "topic": "application/1/device/a84041000181c2e1/event/up",
        "payload": '{"devEUI": "a84041000181c2e1"}',
        "consumer": "edge-sensors",
        "source": source,
        "refused_kind": "uplink",
    }
    return DeadLetter(**(base | kw))


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("unknown_model", "unknown_model"),
        ("bad_envelope:invalid_json", "bad_envelope:invalid_json"),
        ("bad_envelope:missing_field:deviceInfo", "bad_envelope:missing_field"),
        ("invalid_payload: weight_kg: Input should be greater than 0", "invalid_payload"),
        ("time_out_of_window: more than 600 s after receipt", "time_out_of_window"),
        ("influx: partial write: field type conflict", "influx"),
        ("Robert'); DROP TABLE", "other"),
        ("", "other"),
        ("x" * 200, "other"),
    ],
)
def test_reason_code_is_the_fixed_head_or_other(reason: str, code: str) -> None:
    assert reason_code(reason) == code


@pytest.mark.parametrize(
    ("topic", "source"),
    [
        ("landfill/v1/d/scale/s1/capture", "scale:s1"),
        ("landfill/v1/d/container/bin-07/reading", "container:bin-07"),
        ("landfill/v1/d/container/bin-07/alert/full", "container:bin-07"),
        ("landfill/v1/d/ticket", "site:d"),
        ("landfill/v1/d/nonsense/x", "unknown"),
        ("elsewhere", "unknown"),
    ],
)
def test_source_comes_from_the_topic(topic: str, source: str) -> None:
    assert source_of_topic(topic) == source


def test_tags_take_the_edges_device_else_the_topic_and_bound_the_rest() -> None:
    assert tags_of(letter()) == DeadLetterTags("device:a84041000181c2e1", "unknown_model", "uplink")
    own = letter(
        reason="invalid_json: EOF",
        source="",
        refused_kind="",
        topic="landfill/v1/d/container/bin-07/reading",
    )
    assert tags_of(own) == DeadLetterTags("container:bin-07", "invalid_json", "reading")
    odd = letter(source="device:" + "x" * 90, refused_kind="\x00garbage")
    assert tags_of(odd) == DeadLetterTags("unknown", "unknown_model", "unknown")


def test_excerpt_is_at_most_200_bytes_and_escapes_what_does_not_print() -> None:
    assert excerpt('{"a": 1}') == '{"a": 1}'
    assert excerpt("a\x00b\nc\\d\x1b") == "a\\x00b\\nc\\\\d\\x1b"
    assert len(excerpt("я" * 1000).encode()) == 200  # cut at a character, not inside one
    assert excerpt("\ufffd" * 3) == "\ufffd" * 3  # undecodable bytes arrive as replacements
    assert len(excerpt("\x01" * 10_000)) == 200 * 4  # escaped, still bounded


def points(lines: list[str], name: str) -> list[str]:
    return [x for x in lines if x.startswith(name + ",")]


def test_the_first_five_a_minute_are_kept_the_rest_only_counted() -> None:
    clock = Clock(T0)
    store = DeadLetterStore("w1", clock, per_minute=5)
    lines: list[str] = []
    for i in range(1000):
        lines += store.process(letter(payload=f"junk {i}")).lines
    assert len(points(lines, "dead_letter")) == 5
    counts = points(lines, "dead_letter_count")
    assert counts[-1].split(" ")[1] == "letters=5i,suppressed=0i"
    # the tick writes the grown count once, then nothing until it grows again
    ticked = store.tick(clock.now).lines
    assert [x.split(" ")[1] for x in ticked] == ["letters=1000i,suppressed=995i"]
    assert store.tick(clock.now).lines == []
    # another reason of the same device is another key with its own five
    other = store.process(letter(reason="undecodable")).lines
    assert len(points(other, "dead_letter")) == 1
    # a new minute: the old minute's last count, then five more kept
    store.process(letter())
    clock.now = T0 + timedelta(minutes=1)
    rolled = store.process(letter()).lines
    minute_ms = int(T0.replace(second=0).timestamp() * 1000)
    assert any(x.endswith(f" {minute_ms}") and "letters=1001i" in x for x in rolled)
    assert len(points(rolled, "dead_letter")) == 1


def test_count_points_carry_the_minute_the_worker_and_the_tags() -> None:
    store = DeadLetterStore("ingest-a", Clock(T0), per_minute=1)
    (_, count) = store.process(letter()).lines
    minute_ms = int(T0.replace(second=0).timestamp() * 1000)
    assert count == (
        "dead_letter_count,kind=uplink,reason=unknown_model,site=d,"
        f"source=device:a84041000181c2e1,worker=ingest-a letters=1i,suppressed=0i {minute_ms}"
    )


def test_random_device_names_cannot_explode_the_series() -> None:
    store = DeadLetterStore("w1", Clock(T0), per_minute=5, max_keys=10)
    lines: list[str] = []
    for i in range(500):
        lines += store.process(letter(source=f"device:{i:016x}")).lines
    lines += store.tick(T0).lines
    sources = {x.split("source=")[1].split(",")[0].split(" ")[0] for x in lines}
    assert len(sources) == 11
    assert OTHER in sources
    other = [x for x in points(lines, "dead_letter_count") if f"source={OTHER}," in x]
    assert other[-1].split(" ")[1] == "letters=490i,suppressed=485i"


def test_something_else_than_a_letter_is_refused() -> None:
    capture = Capture.weighed(
        ts=T0, site="d", scale="s1", weight_kg=20, division_kg=20, stable_ms=0, protocol="p"
    )
    with pytest.raises(ValueError, match="not a dead letter"):
        DeadLetterStore("w1").process(capture)


# ---- through real mosquitto and influxd ---------------------------------------------------


def count_sum(store: InfluxStore) -> int:
    rows = store.rows("SELECT sum(letters) AS n FROM dead_letter_count")
    return int(rows[0]["n"]) if rows else 0


@pytest.mark.integration
def test_a_flood_of_garbage_through_an_influx_outage_costs_little_and_loses_nothing(
    servers, broker, site
) -> None:
    influxd = servers.influxd()
    store = InfluxStore(influxd.url, "flood")
    store.ensure_database()
    settings = IngestSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=influxd.url,
        influx_db="flood",
        ingest_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        ingest_flush_seconds=0.1,
        ingest_retry_max_seconds=0.5,
    )
    ingest = Ingest(settings)
    ingest.start()
    wait_online(broker.url, site, settings.ingest_client_id)
    garbage, captures = 1500, capture_stream(site, 300)
    topic = Topics(site).of(Capture, scale="s1")
    stream = []
    for i in range(garbage):
        stream.append((topic, b"\x00\xffnot json %d" % i, f"junk-{i}"))
        if i % 5 == 0:
            stream.append(captures[i // 5])
    pub = Publisher(broker.url)
    try:
        pub.publish_all(stream[: len(stream) // 2])
        wait_for(lambda: stored_ids(store), 30, "some captures written")
        influxd.stop()
        pub.publish_all(stream[len(stream) // 2 :])
        time.sleep(3)  # the outage: ingest retries, acknowledges nothing, keeps taking letters
        assert ingest.fatal is None
        servers.influxd(port=influxd.port, state=influxd.state)
        pub.wait_acked(len(stream), timeout=60)
        wait_for(lambda: len(stored_ids(store)) >= len(captures), 60, "every capture")
        assert sorted(stored_ids(store)) == sorted(i for _, _, i in captures)
        wait_for(lambda: count_sum(store) >= garbage, 30, "every letter counted")
        assert count_sum(store) == garbage
        kept = store.rows("SELECT * FROM dead_letter")
        minutes = {r["time"] // 60_000 for r in store.rows("SELECT * FROM dead_letter_count")}
        assert 1 <= len(kept) <= 5 * len(minutes)
        assert {r["source"] for r in kept} == {"scale:s1"}
        assert {r["reason"] for r in kept} == {"invalid_json"}
        assert {r["kind"] for r in kept} == {"capture"}
        assert all(r["excerpt"].startswith("\\x00\ufffdnot json") for r in kept)
        assert ingest.fatal is None
    finally:
        pub.close()
        ingest.stop()
        store.close()


@pytest.mark.integration
def test_a_dead_letter_ingest_cannot_use_is_dropped_never_dead_lettered_again(
    broker, influx, site, collect
) -> None:
    dead = collect(f"landfill/v1/{site}/deadletter")
    settings = IngestSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=influx.url,
        influx_db=influx.database,
        ingest_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        ingest_flush_seconds=0.1,
    )
    ingest = Ingest(settings)
    ingest.start()
    wait_online(broker.url, site, settings.ingest_client_id)
    topic = f"landfill/v1/{site}/deadletter"
    try:
        publish(broker.url, topic, b"{not json")
        good = letter(site=site)
        publish(broker.url, topic, good.to_json())
        kept = wait_for(lambda: influx.rows("SELECT * FROM dead_letter"), 20, "the good letter")
        assert [r["id"] for r in kept] == [good.id]
        assert ingest.counters["dead_letters_dropped"] == 1
        time.sleep(0.5)  # a loop would have published by now
        # the two published here, and nothing more: the bad one was not dead-lettered again
        assert [p for _, p in dead.messages] == [b"{not json", good.to_json()]
    finally:
        ingest.stop()
