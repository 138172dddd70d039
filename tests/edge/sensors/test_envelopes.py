"""Envelope parsing (ChirpStack, TTS, native), rejection reasons, dedup and normalisation."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edge.sensors.dedup import DuplicateFilter
from edge.sensors.envelopes import EnvelopeError, parse, topic_source
from edge.sensors.models import find_model
from edge.sensors.normalise import decode_envelope, reading_id, to_reading
from landfill.contract import ContainerReading
from landfill.contract import decode as decode_message
from tests.edge.sensors.samples import (
    CHIRPSTACK_EM310_TOPIC,
    CHIRPSTACK_EM310_UP,
    ENVELOPES,
    NATIVE_TOPIC,
    NATIVE_UP,
    NATIVE_UPLINK,
    TTS_LDDS75_TOPIC,
    TTS_LDDS75_UP,
)

_MISSING = object()


def _edit(doc: dict[str, Any], path: str, value: object = _MISSING) -> bytes:
    """Return ``doc`` as JSON with the dotted ``path`` set to ``value`` (or removed)."""
    doc = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _MISSING:
        node.pop(last, None)
    else:
        node[last] = value
    return json.dumps(doc).encode()


# --- parsing the recorded envelopes ---------------------------------------------------------


@pytest.mark.parametrize(("topic", "body", "expected"), ENVELOPES, ids=lambda v: str(v)[:40])
def test_recorded_envelopes_parse(topic: str, body: object, expected: dict[str, object]) -> None:
    envelope = parse(topic, json.dumps(body).encode())
    for name, value in expected.items():
        assert getattr(envelope, name) == value, name
    assert envelope.time.tzinfo is UTC


def test_str_payload_is_accepted() -> None:
    assert parse(NATIVE_TOPIC, json.dumps(NATIVE_UP)).device_eui == "bin-33-sensor"


@pytest.mark.parametrize(
    ("topic", "source"),
    [
        ("application/17c82e96/device/0101010101010101/event/up", "chirpstack"),
        ("application/17c82e96/device/0101010101010101/event/join", None),
        ("application/17c82e96/device/0101010101010101/event/status", None),
        ("application/17c82e96/device/0101010101010101/command/down", None),
        ("v3/app1@ttn/devices/dev1/up", "tts"),
        ("v3/app1/devices/dev1/up", "tts"),  # open source deployments leave out @tenant
        ("v3/app1@ttn/devices/dev1/join", None),
        ("v3/app1@ttn/devices/dev1/down/queued", None),
        ("landfill/v1/kant/sensor/bin-01/up", "native"),
        ("landfill/v1/kant/container/c01/reading", None),
        ("", None),
    ],
)
def test_topic_source(topic: str, source: str | None) -> None:
    assert topic_source(topic) == source


def test_chirpstack_time_falls_back_from_gnss_to_network_to_receive_time() -> None:
    body: dict[str, Any] = copy.deepcopy(CHIRPSTACK_EM310_UP)
    del body["rxInfo"][1]["gwTime"]
    env = parse(CHIRPSTACK_EM310_TOPIC, json.dumps(body).encode())
    assert env.time == datetime(2025, 1, 5, 8, 0, 1, 101000, tzinfo=UTC)  # first nsTime
    body["rxInfo"] = []
    env = parse(CHIRPSTACK_EM310_TOPIC, json.dumps(body).encode())
    assert env.time == datetime(2025, 1, 5, 8, 0, 1, 250000, tzinfo=UTC)  # envelope time


def test_chirpstack_malformed_gateway_time_is_passed_over() -> None:
    body = _edit(CHIRPSTACK_EM310_UP, "rxInfo.1.gwTime", "not a time")
    assert parse(CHIRPSTACK_EM310_TOPIC, body).time.microsecond == 101000


NS_TIME = datetime(2025, 1, 5, 8, 0, 1, 101000, tzinfo=UTC)  # the first nsTime
TTS_RECEIVED = datetime(2025, 1, 5, 9, 30, 0, 201000, tzinfo=UTC)  # uplink_message.received_at


@pytest.mark.parametrize(
    ("topic", "body", "time", "refused"),
    [
        # a gateway clock a year ahead, 11 minutes behind: the network server's time is used
        (CHIRPSTACK_EM310_TOPIC, ("rxInfo.1.gwTime", "2026-01-05T08:00:00Z"), NS_TIME, True),
        (CHIRPSTACK_EM310_TOPIC, ("rxInfo.1.gwTime", "2025-01-05T07:49:00Z"), NS_TIME, True),
        # within the tolerance (10 minutes) the gateway's GNSS time is the better one
        (
            CHIRPSTACK_EM310_TOPIC,
            ("rxInfo.1.gwTime", "2025-01-05T07:55:00Z"),
            datetime(2025, 1, 5, 7, 55, tzinfo=UTC),
            False,
        ),
        (
            TTS_LDDS75_TOPIC,
            ("uplink_message.rx_metadata.0.gps_time", "2030-01-01T00:00:00Z"),
            TTS_RECEIVED,
            True,
        ),
        (
            TTS_LDDS75_TOPIC,
            ("uplink_message.rx_metadata.0.gps_time", "2025-01-05T09:29:59Z"),
            datetime(2025, 1, 5, 9, 29, 59, tzinfo=UTC),
            False,
        ),
    ],
)
def test_a_gateway_clock_off_from_the_network_server_is_not_believed(
    topic: str, body: tuple[str, str], time: datetime, refused: bool
) -> None:
    doc = CHIRPSTACK_EM310_UP if topic == CHIRPSTACK_EM310_TOPIC else TTS_LDDS75_UP
    env = parse(topic, _edit(doc, *body))
    assert (env.time, env.gateway_clock_refused) == (time, refused)
    assert parse(topic, _edit(doc, *body), timedelta(days=3650)).gateway_clock_refused is False


def test_tts_time_falls_back_to_application_server_time() -> None:
    body = _edit(TTS_LDDS75_UP, "uplink_message.received_at")
    env = parse(TTS_LDDS75_TOPIC, body)
    assert env.time == datetime(2025, 1, 5, 9, 30, 0, 420000, tzinfo=UTC)


def test_radio_metadata_is_best_effort() -> None:
    body: dict[str, Any] = copy.deepcopy(CHIRPSTACK_EM310_UP)
    body["rxInfo"] = ["junk", {"rssi": "loud", "snr": None}, {"rssi": -120, "snr": 1e999}]
    env = parse(CHIRPSTACK_EM310_TOPIC, json.dumps(body).encode())
    assert (env.rssi, env.snr) == (-120.0, None)
    body["rxInfo"] = {"not": "a list"}
    env = parse(CHIRPSTACK_EM310_TOPIC, json.dumps(body).encode())
    assert (env.rssi, env.snr) == (None, None)


def test_uplink_without_payload_parses_with_empty_bytes() -> None:
    env = parse(CHIRPSTACK_EM310_TOPIC, _edit(CHIRPSTACK_EM310_UP, "data"))
    assert env.payload == b""
    model = find_model(hint=env.model_hint)
    assert decode_envelope(env, model) is None


# --- every kind of malformed envelope -------------------------------------------------------

CS, TTS, NAT = CHIRPSTACK_EM310_TOPIC, TTS_LDDS75_TOPIC, NATIVE_TOPIC
MALFORMED: list[tuple[str, bytes, str]] = [
    (CS, b"not json", "invalid_json"),
    (CS, b"\xff\xfe\x00garbage", "invalid_json"),
    (CS, b"", "invalid_json"),
    (CS, b"[" * 100_000, "invalid_json"),
    (CS, b'"a string"', "not_object"),
    (CS, b"[1, 2]", "not_object"),
    (CS, b"null", "not_object"),
    ("application/x/device/0101010101010101/event/join", b"{}", "unknown_topic"),
    ("random/topic", b"{}", "unknown_topic"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "deviceInfo"), "missing_field:deviceInfo"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "deviceInfo", "x"), "bad_field:deviceInfo"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "deviceInfo.devEui"), "missing_field:deviceInfo.devEui"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "deviceInfo.devEui", "24e1"), "bad_field:deviceInfo.devEui"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "deviceInfo.devEui", 42), "bad_field:deviceInfo.devEui"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "fCnt", "4711"), "bad_field:fCnt"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "fCnt", -1), "bad_field:fCnt"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "fCnt", True), "bad_field:fCnt"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "fCnt", 2**32), "bad_field:fCnt"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "fCnt", 1.5), "bad_field:fCnt"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "fPort", 256), "bad_field:fPort"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "fPort", "85"), "bad_field:fPort"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "data", 5), "bad_field:data"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "data", "!!!!"), "bad_base64"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "data", "qg="), "bad_base64"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "data", "ä"), "bad_base64"),
    (CS, _edit({**CHIRPSTACK_EM310_UP, "rxInfo": []}, "time"), "missing_field:time"),
    (CS, _edit({**CHIRPSTACK_EM310_UP, "rxInfo": []}, "time", "yesterday"), "bad_time"),
    (CS, _edit({**CHIRPSTACK_EM310_UP, "rxInfo": []}, "time", "2025-01-05T08:00:00"), "bad_time"),
    (CS, _edit({**CHIRPSTACK_EM310_UP, "rxInfo": []}, "time", 1736064000), "bad_time"),
    (CS, _edit(CHIRPSTACK_EM310_UP, "deviceInfo.devEui", "0101010101010101"), "topic_mismatch"),
    (TTS, _edit(TTS_LDDS75_UP, "end_device_ids"), "missing_field:end_device_ids"),
    (TTS, _edit(TTS_LDDS75_UP, "uplink_message"), "missing_field:uplink_message"),
    (TTS, _edit(TTS_LDDS75_UP, "uplink_message", []), "bad_field:uplink_message"),
    (
        TTS,
        _edit(TTS_LDDS75_UP, "end_device_ids.dev_eui"),
        "missing_field:end_device_ids.dev_eui",
    ),
    (TTS, _edit(TTS_LDDS75_UP, "uplink_message.f_cnt", "1"), "bad_field:uplink_message.f_cnt"),
    (TTS, _edit(TTS_LDDS75_UP, "uplink_message.f_port", -2), "bad_field:uplink_message.f_port"),
    (TTS, _edit(TTS_LDDS75_UP, "uplink_message.frm_payload", "@@"), "bad_base64"),
    (
        TTS,
        _edit({**TTS_LDDS75_UP, "received_at": None}, "uplink_message.received_at"),
        "missing_field:time",
    ),
    (TTS, _edit(TTS_LDDS75_UP, "end_device_ids.device_id", "bin-13"), "topic_mismatch"),
    (NAT, _edit(NATIVE_UP, "device"), "missing_field:device"),
    (NAT, _edit(NATIVE_UP, "device", "bin 33"), "bad_field:device"),
    (NAT, _edit(NATIVE_UP, "device", ["bin-33-sensor"]), "bad_field:device"),
    (NAT, _edit(NATIVE_UP, "device", "bin-34-sensor"), "topic_mismatch"),
    (NAT, _edit(NATIVE_UP, "ts"), "missing_field:ts"),
    (NAT, _edit(NATIVE_UP, "ts", "2025-01-05 08:00"), "bad_time"),
    (NAT, _edit(NATIVE_UP, "distance_mm", "far"), "bad_field:distance_mm"),
    (NAT, _edit(NATIVE_UP, "distance_mm", True), "bad_field:distance_mm"),
    (NAT, _edit(NATIVE_UP, "distance_mm", -5), "bad_field:distance_mm"),
    (NAT, _edit(NATIVE_UP, "battery_pct", 150), "bad_field:battery_pct"),
    (NAT, _edit(NATIVE_UP, "tilt", "yes"), "bad_field:tilt"),
    (NAT, _edit(NATIVE_UP, "fire", 1), "bad_field:fire"),
    (NAT, _edit(NATIVE_UP, "model", 5), "bad_field:model"),
    (NAT, _edit(NATIVE_UP, "rssi", "x"), "bad_field:rssi"),
    (NAT, _edit(NATIVE_UP, "fcnt", -1), "bad_field:fcnt"),
    (NAT, _edit(NATIVE_UP, "data", "%%"), "bad_base64"),
]


@pytest.mark.parametrize(("topic", "body", "reason"), MALFORMED, ids=[m[2] for m in MALFORMED])
def test_malformed_envelope_gives_reason(topic: str, body: bytes, reason: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        parse(topic, body)
    assert caught.value.reason == reason


# --- dedup ------------------------------------------------------------------------------------

T0 = datetime(2025, 1, 5, 8, 0, tzinfo=UTC)


def test_dedup_drops_the_same_uplink_twice() -> None:
    dedup = DuplicateFilter()
    assert not dedup.is_duplicate("24e124713b123456", 4711, T0)
    assert dedup.is_duplicate("24e124713b123456", 4711, T0)  # replay after reconnect
    # the same frame through a second integration, stamped a little later
    assert dedup.is_duplicate("24e124713b123456", 4711, T0 + timedelta(seconds=2))
    assert not dedup.is_duplicate("24e124713b123456", 4712, T0 + timedelta(minutes=10))
    assert not dedup.is_duplicate("a84041000181c61e", 4711, T0)
    assert dedup.dropped == 2


def test_dedup_same_counter_much_later_is_a_new_uplink() -> None:
    dedup = DuplicateFilter(window=timedelta(seconds=60))
    assert not dedup.is_duplicate("dev", 0, T0)
    assert not dedup.is_duplicate("dev", 0, T0 + timedelta(hours=3))  # rejoined, counter reset
    assert dedup.is_duplicate("dev", 0, T0 + timedelta(hours=3))


def test_dedup_without_counter_needs_the_exact_time() -> None:
    dedup = DuplicateFilter()
    assert not dedup.is_duplicate("bin-33-sensor", None, T0)
    assert dedup.is_duplicate("bin-33-sensor", None, T0)
    assert not dedup.is_duplicate("bin-33-sensor", None, T0 + timedelta(seconds=1))


def test_dedup_stays_bounded_and_forgets_least_recently_seen() -> None:
    dedup = DuplicateFilter(maxlen=3)
    for fcnt in range(10):
        assert not dedup.is_duplicate("dev", fcnt, T0)
    assert len(dedup) == 3
    assert not dedup.is_duplicate("dev", 0, T0)  # long forgotten
    assert dedup.is_duplicate("dev", 9, T0)
    big = DuplicateFilter()
    for fcnt in range(10_000):
        big.is_duplicate("dev", fcnt, T0)
    assert len(big) == 4096


def test_dedup_of_parsed_envelopes() -> None:
    dedup = DuplicateFilter()
    body = json.dumps(CHIRPSTACK_EM310_UP).encode()
    first, replay = parse(CHIRPSTACK_EM310_TOPIC, body), parse(CHIRPSTACK_EM310_TOPIC, body)
    assert not dedup.is_duplicate(first.device_eui, first.fcnt, first.time)
    assert dedup.is_duplicate(replay.device_eui, replay.fcnt, replay.time)


def test_dedup_rejects_a_useless_size() -> None:
    with pytest.raises(ValueError):
        DuplicateFilter(maxlen=0)


# --- normalise ------------------------------------------------------------------------------


def test_chirpstack_em310_becomes_a_contract_reading() -> None:
    env = parse(CHIRPSTACK_EM310_TOPIC, json.dumps(CHIRPSTACK_EM310_UP).encode())
    model = find_model(hint=env.model_hint)
    assert model is not None
    uplink = decode_envelope(env, model)
    assert uplink is not None
    reading = to_reading(env, uplink, site="kant", container="c07", model=model.name)
    assert isinstance(reading, ContainerReading)
    assert (reading.device, reading.container, reading.source) == (
        "24e124713b123456",
        "c07",
        "chirpstack",
    )
    assert (reading.distance_mm, reading.battery_pct, reading.tilt) == (2116, 92.0, True)
    assert (reading.rssi, reading.snr, reading.fcnt, reading.ts) == (-97.0, 6.25, 4711, env.time)
    assert reading.temp_c is None
    assert reading.fire is None
    assert reading.lid_open is None
    # what goes on the wire decodes back to the same message
    topic = "landfill/v1/kant/container/c07/reading"
    assert decode_message(topic, reading.to_json()) == reading


def test_replayed_uplink_gets_the_same_id() -> None:
    body = json.dumps(TTS_LDDS75_UP).encode()
    one, two = parse(TTS_LDDS75_TOPIC, body), parse(TTS_LDDS75_TOPIC, body)
    assert reading_id(one) == reading_id(two)
    other = parse(TTS_LDDS75_TOPIC, _edit(TTS_LDDS75_UP, "uplink_message.f_cnt", 816))
    assert reading_id(other) != reading_id(one)
    model = find_model("LDDS75")
    assert model is not None
    uplink = decode_envelope(one, model)
    assert uplink is not None
    reading = to_reading(one, uplink, site="kant", container="c12", model="LDDS75")
    assert reading.id == reading_id(one)
    assert (reading.distance_mm, reading.battery_v, reading.temp_c) == (1500, 3.256, 25.0)


def test_native_envelope_uses_its_own_values() -> None:
    env = parse(NATIVE_TOPIC, json.dumps(NATIVE_UP).encode())
    assert decode_envelope(env, None) == NATIVE_UPLINK
    zero = parse(NATIVE_TOPIC, _edit(NATIVE_UP, "distance_mm", 0))
    uplink = decode_envelope(zero, None)
    assert uplink is not None
    assert uplink.distance_mm is None


def test_native_envelope_with_raw_bytes_is_decoded_by_the_model() -> None:
    body = _edit(NATIVE_UP, "data", "AXVcA4JECAQAAQ==")  # EM310-UDL README frame
    env = parse(NATIVE_TOPIC, body)
    uplink = decode_envelope(env, find_model(env.model_hint))
    assert uplink is not None
    assert uplink.distance_mm == 2116


def test_reading_rejects_a_bad_container_name() -> None:
    env = parse(NATIVE_TOPIC, json.dumps(NATIVE_UP).encode())
    with pytest.raises(ValueError):
        to_reading(env, NATIVE_UPLINK, site="kant", container="bad name", model="EM310-UDL")
