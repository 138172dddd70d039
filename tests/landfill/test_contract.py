"""The wire contract: topics, payload validation and the reasons bad payloads get."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest

from landfill import contract
from landfill.contract import Capture, PayloadError, Topics, decode, parse_topic

TS = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def capture(**kw):
    base = {
        "ts": TS,
        "site": "dostuk",
        "scale": "s1",
        "weight_kg": 14560,
        "division_kg": 20,
        "stable_ms": 2000,
        "protocol": "yaohua-a9",
    }
    return Capture(**{**base, **kw})


def test_round_trip_through_topic():
    msg = capture()
    topics = Topics("dostuk")
    topic = topics.for_message(msg)
    assert topic == "landfill/v1/dostuk/scale/s1/capture"
    assert decode(topic, msg.to_json()) == msg


@pytest.mark.parametrize(
    ("topic", "kind"),
    [
        ("landfill/v1/d/scale/s1/weight", "weight"),
        ("landfill/v1/d/scale/s1/capture", "capture"),
        ("landfill/v1/d/scale/s1/event", "scale_event"),
        ("landfill/v1/d/container/c7/reading", "reading"),
        ("landfill/v1/d/container/c7/alert/full", "alert"),
        ("landfill/v1/d/container/c7/event", "container_event"),
        ("landfill/v1/d/ticket", "ticket"),
        ("landfill/v1/d/node/edge-1/status", "status"),
        ("landfill/v1/d/deadletter", "dead_letter"),
        ("landfill/v1/d/registry/containers", "registry"),
        ("landfill/v2/d/ticket", None),
        ("landfill/v1/d/scale/s1/capture/extra", None),
        ("other", None),
    ],
)
def test_parse_topic(topic, kind):
    assert parse_topic(topic) == kind


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "invalid_json"),
        (b"{}", "invalid_payload"),
        (json.dumps({"v": 2}).encode(), "invalid_payload"),
        (b"\xff\xfe", "invalid_json"),
    ],
)
def test_bad_payloads_get_a_reason(payload, reason):
    with pytest.raises(PayloadError) as err:
        decode("landfill/v1/dostuk/scale/s1/capture", payload)
    assert err.value.reason == reason


def test_naive_timestamp_is_refused():
    raw = json.loads(capture().to_json())
    raw["ts"] = "2026-11-24T12:00:00"
    with pytest.raises(PayloadError, match="time zone"):
        decode("landfill/v1/dostuk/scale/s1/capture", json.dumps(raw).encode())


def test_timestamps_are_normalised_to_utc():
    raw = json.loads(capture().to_json())
    raw["ts"] = "2026-11-24T18:00:00+06:00"  # Asia/Bishkek
    msg = decode("landfill/v1/dostuk/scale/s1/capture", json.dumps(raw).encode())
    assert msg.ts == TS
    assert msg.ts.tzinfo == UTC


def test_site_in_topic_must_match_payload():
    with pytest.raises(PayloadError) as err:
        decode("landfill/v1/other/scale/s1/capture", capture().to_json())
    assert err.value.reason == "site_mismatch"


def test_unknown_fields_are_refused():
    raw = json.loads(capture().to_json()) | {"weight_lb": 1}
    with pytest.raises(PayloadError):
        decode("landfill/v1/dostuk/scale/s1/capture", json.dumps(raw).encode())


def test_names_cannot_break_topics():
    with pytest.raises(ValueError):
        Topics("a/b")
    with pytest.raises(ValueError):
        Topics("d").of(Capture, scale="s1/#")


def test_stable_id_is_deterministic():
    assert contract.stable_id("a", 1) == contract.stable_id("a", 1) != contract.stable_id("a", 2)


# one message of every kind, so the table test below walks every row
SAMPLES = [
    contract.LiveWeight(ts=TS, site="d", scale="s1", weight_kg=0, stable=True),
    capture(site="d"),
    contract.ScaleEvent(ts=TS, site="d", scale="s1", event="no_data"),
    contract.ContainerReading(ts=TS, site="d", container="c7", device="dev", model="m"),
    contract.ContainerAlert(
        ts=TS,
        site="d",
        container="c7",
        alert="full",
        active=True,
        severity="warning",
        transition="raised",
        since=TS,
    ),
    contract.ContainerEvent(ts=TS, site="d", container="c7", event="emptying"),
    contract.Ticket(
        ts=TS, site="d", number="1", status="completed", scale="s1", gross_kg=2, tare_kg=1, net_kg=1
    ),
    contract.NodeStatus(ts=TS, site="d", node="edge-1", online=True),
    contract.DeadLetter(ts=TS, site="d", reason="invalid_json", topic="t", payload=""),
    contract.ContainerRegistry(ts=TS, site="d", containers=[]),
]


def test_every_kind_has_a_model_topic_and_qos():
    names = [kind.name for kind in contract.KINDS]
    assert len(set(names)) == len(names) == len(SAMPLES)
    for kind in contract.KINDS:
        assert kind.model.model_fields["kind"].default == kind.name
        assert kind.qos in (0, 1)


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_every_kind_round_trips_through_its_topic(msg):
    kind = contract.kind_of(msg)
    topic = Topics("d").for_message(msg)
    assert parse_topic(topic) == kind.name
    assert decode(topic, msg.to_json()) == msg
    assert mqtt.topic_matches_sub(kind.topic_filter(), topic)
    subscribed = any(mqtt.topic_matches_sub(f, topic) for f in Topics("d").subscriptions())
    assert subscribed == kind.stored


def test_topic_needs_exactly_the_names_of_its_pattern():
    assert Topics("d").of(contract.ContainerAlert, container="c7", alert="full") == (
        "landfill/v1/d/container/c7/alert/full"
    )
    with pytest.raises(TypeError):
        Topics("d").of(Capture)
    with pytest.raises(TypeError):
        Topics("d").of(contract.Ticket, scale="s1")


def test_publish_flags_come_from_the_table():
    flags = {k.name: (k.qos, k.retained) for k in contract.KINDS}
    assert flags["weight"] == (0, True)
    assert flags["capture"] == (1, False)
    assert flags["alert"] == (1, True)
    assert flags["status"] == (1, True)
    assert flags["registry"] == (1, True)
