"""The wire contract: topics, payload validation and the reasons bad payloads get."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import paho.mqtt.client as mqtt
import pytest

from landfill import contract
from landfill.contract import (
    Capture,
    PayloadError,
    Topics,
    ValidationError,
    decode,
    parse_topic,
)
from landfill.fill.spec import ContainerSpec

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
    return Capture.weighed(**{**base, **kw})


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
    contract.Receipt(ts=TS, site="d", scale="s1", ids=["abc"]),
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


# ---- issue 9: strict types, bounds, the topic as the authority --------------------------------

CAPTURE_TOPIC = "landfill/v1/dostuk/scale/s1/capture"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weight_kg", -5_000),
        ("weight_kg", 0),
        ("weight_kg", 999_999_999_999),
        ("weight_kg", 200_020),  # above the documented maximum, 200,000 kg
        ("weight_kg", True),  # not 1 kg
        ("weight_kg", "100"),  # not 100 kg
        ("weight_kg", 14560.0),
        ("weight_kg", 14561),  # not at the division
        ("division_kg", 7),  # not a legal division
        ("division_kg", 0),
        ("stable_ms", "2000"),
        ("stable_ms", -1),
        ("protocol", "p" * 5_000_000),  # a 5 MB protocol made /api/v1/captures 200 MB
        ("raw", ["ab" * 100_000]),
        ("raw", ["ab"] * 1_000),
        ("raw", ["not hex"]),
        ("id", "a/b"),  # ids are names: they become tags
        ("ts", 1_767_225_600),  # an epoch number is not a time with a zone
    ],
)
def test_absurd_capture_values_are_refused(field, value):
    raw = json.loads(capture().to_json()) | {field: value}
    with pytest.raises(PayloadError) as err:
        decode(CAPTURE_TOPIC, json.dumps(raw).encode())
    assert err.value.reason == "invalid_payload"


def test_weights_at_the_edges_of_the_range_are_taken():
    assert decode(CAPTURE_TOPIC, capture(weight_kg=200_000).to_json()).weight_kg == 200_000
    assert decode(CAPTURE_TOPIC, capture(weight_kg=5, division_kg=5).to_json()).weight_kg == 5


def test_a_capture_id_is_its_content_to_the_millisecond():
    msg = capture()
    assert msg.id == contract.capture_id("dostuk", "s1", TS, 14560)
    assert msg.id == contract.stable_id("dostuk", "s1", TS.isoformat(), 14560)  # the edge's
    assert decode(CAPTURE_TOPIC, msg.to_json()) == msg
    # the same instant in another zone is the same capture; below the millisecond is no part
    bishkek = TS.astimezone(timezone(timedelta(hours=6)))
    assert contract.capture_id("dostuk", "s1", bishkek, 14560) == msg.id
    fine = TS + timedelta(microseconds=999)
    assert contract.capture_id("dostuk", "s1", fine, 14560) == msg.id
    assert capture(ts=fine).ts == TS  # the edge's capture is cut to the millisecond
    # and every part of it counts
    for other in (
        ("other", "s1", TS, 14560),
        ("dostuk", "s2", TS, 14560),
        ("dostuk", "s1", TS + timedelta(milliseconds=1), 14560),
        ("dostuk", "s1", TS, 14580),
    ):
        assert contract.capture_id(*other) != msg.id


@pytest.mark.parametrize(
    "forged",
    [
        {"id": "forged"},
        {"weight_kg": 99_980},  # the real id on another weight
        {"ts": (TS + timedelta(milliseconds=1)).isoformat()},
        {"id": contract.stable_id("dostuk", "s1", TS.isoformat(), 14560, "x")},
    ],
)
def test_a_capture_whose_id_is_not_its_content_is_refused(forged):
    raw = json.loads(capture().to_json()) | forged
    with pytest.raises(PayloadError) as err:
        decode(CAPTURE_TOPIC, json.dumps(raw).encode())
    assert err.value.reason == "capture_id_mismatch"


def test_a_capture_has_no_random_id():
    with pytest.raises(ValidationError):
        Capture(
            ts=TS, site="d", scale="s1", weight_kg=20, division_kg=20, stable_ms=0, protocol="p"
        )


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("landfill/v1/dostuk/scale/s2/capture", capture(), "scale_mismatch"),
        ("landfill/v1/other/scale/s1/capture", capture(), "site_mismatch"),
        (
            "landfill/v1/dostuk/container/c2/reading",
            contract.ContainerReading(
                ts=TS, site="dostuk", container="c1", device="d", model="EM310-UDL"
            ),
            "container_mismatch",
        ),
        (
            "landfill/v1/dostuk/container/c1/alert/fire",
            contract.ContainerAlert(
                ts=TS, site="dostuk", container="c1", alert="full", active=True,
                severity="major", transition="raised", since=TS,
            ),
            "alert_mismatch",
        ),
        (
            "landfill/v1/dostuk/node/edge-2/status",
            contract.NodeStatus(ts=TS, site="dostuk", node="edge-1", online=True),
            "node_mismatch",
        ),
    ],
)  # fmt: skip
def test_the_topic_is_the_authority_for_names(topic, payload, reason):
    with pytest.raises(PayloadError) as err:
        decode(topic, payload.to_json())
    assert err.value.reason == reason


def samples() -> dict[str, contract.Message]:
    """One valid message of every kind, to walk the contract's table."""
    spec = ContainerSpec(
        container="c1", settlement="Dostuk", zone="north", empty_mm=2000, full_mm=500,
        device="a84041000181c2e1", model="EM310-UDL", collection_weekdays=[0, 3],
    )  # fmt: skip
    base = {"ts": TS, "site": "dostuk"}
    return {
        "weight": contract.LiveWeight(**base, scale="s1", weight_kg=-20, stable=False),
        "capture": capture(raw=["02ab03"]),
        "scale_event": contract.ScaleEvent(**base, scale="s1", event="overload", detail="x"),
        "reading": contract.ContainerReading(
            **base, container="c1", device="a84041000181c2e1", model="EM310-UDL", temp_c=4.5
        ),
        "alert": contract.ContainerAlert(
            **base,
            container="c1",
            alert="full",
            active=True,
            severity="major",
            transition="raised",
            since=TS,
            value=85.0,
            detail="85 %",
        ),  # fmt: skip
        "container_event": contract.ContainerEvent(
            **base, container="c1", event="emptying", before_pct=90, after_pct=5, detail="x"
        ),
        "ticket": contract.Ticket(
            **base,
            number="A-1",
            status="completed",
            scale="s1",
            gross_kg=14560,
            tare_kg=6020,
            net_kg=8540,
            client="Tazalyk",
            vehicle="01KG123ABC",
            waste_type="household",
            zone="north",
        ),  # fmt: skip
        "status": contract.NodeStatus(**base, node="edge-1", online=True, version="0.1.0"),
        "dead_letter": contract.DeadLetter(**base, reason="r", topic="t", payload="p"),
        "registry": contract.ContainerRegistry(**base, containers=[spec]),
        "receipt": contract.Receipt(**base, scale="s1", ids=["abc"]),
    }


def test_every_kind_has_a_sample():
    assert set(samples()) == {k.name for k in contract.KINDS}


def _texts(doc: object, path: tuple = ()) -> list[tuple]:
    """Paths of every text (and list of texts) in a JSON document."""
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _texts(v, (*path, k))]
    if isinstance(doc, list):
        inner = [p for i, v in enumerate(doc) for p in _texts(v, (*path, i))]
        return [path, *inner] if doc and all(isinstance(v, str) for v in doc) else inner
    return [path] if isinstance(doc, str) and path[-1] not in ("ts", "since") else []


def _set(doc: dict, path: tuple, value: object) -> dict:
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize("kind", sorted(k.name for k in contract.KINDS))
def test_every_text_and_list_of_every_kind_is_bounded(kind):
    msg = samples()[kind]
    topic = Topics("dostuk").for_message(msg)
    doc = json.loads(msg.to_json())
    for path in _texts(doc):
        huge: object = ["x" * 100] * 100_000 if isinstance(_get(doc, path), list) else "x" * 2**20
        payload = json.dumps(_set(json.loads(msg.to_json()), path, huge)).encode()
        if kind == "dead_letter" and path[0] in ("reason", "topic", "payload", "consumer"):
            assert len(decode(topic, payload).to_json()) < 70_000, path  # cut, not refused
            continue
        if kind == "registry" and path[0] == "containers" and len(path) > 2:
            # a registry entry that breaks a rule is left out (the others still count)
            assert decode(topic, payload).containers == [], path  # type: ignore[attr-defined]
            continue
        with pytest.raises(PayloadError) as err:
            decode(topic, payload)
        assert err.value.reason == "invalid_payload", path


def _get(doc: object, path: tuple) -> object:
    for key in path:
        doc = doc[key]  # type: ignore[index]
    return doc


@pytest.mark.parametrize("kind", sorted(k.name for k in contract.KINDS))
def test_every_number_and_bool_of_every_kind_is_strict(kind):
    msg = samples()[kind]
    topic = Topics("dostuk").for_message(msg)
    doc = json.loads(msg.to_json())
    for key, value in doc.items():
        if key == "v" or not isinstance(value, int | float):  # bools are ints too
            continue
        for wrong in (str(value), [value], None if isinstance(value, bool) else bool(value)):
            if wrong is None:
                continue
            with pytest.raises(PayloadError):
                decode(topic, json.dumps(doc | {key: wrong}).encode())
