"""The wire contract: topics, payload validation and the reasons bad payloads get."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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
        Topics("d").capture("s1/#")


def test_stable_id_is_deterministic():
    assert contract.stable_id("a", 1) == contract.stable_id("a", 1) != contract.stable_id("a", 2)


def test_every_kind_has_a_model_topic_and_qos():
    for kind in contract.QOS:
        assert contract.model_for(kind).model_fields["kind"].default == kind
