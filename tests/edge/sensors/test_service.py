"""`landfill edge sensors`: uplinks with real device bytes in, contract readings out."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from edge.sensors.encoders import DeviceValues, encode
from edge.sensors.service import SensorService
from edge.sensors.simulator import chirpstack_up, fleet, registry, tts_up
from landfill.contract import ContainerReading, ContainerRegistry, DeadLetter, Topics
from landfill.fill.spec import ContainerSpec
from landfill.settings import EdgeSensorsSettings
from tests.conftest import publish, wait_for

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
FLEET = fleet(4)  # bin-01 EM310 ChirpStack, bin-02 EM310 TTS, bin-03 LDDS75 ChirpStack, ...


def settings_for(
    tmp_path, site: str, url: str = "mqtt://127.0.0.1:1", **extra
) -> EdgeSensorsSettings:
    return EdgeSensorsSettings(
        site=site,
        mqtt_url=url,
        outbox_path=tmp_path / "outbox.sqlite",
        sensors_registry_cache=tmp_path / "registry.json",
        sensors_registry_wait_seconds=5,
        **extra,
    )


def uplink(index: int, values: DeviceValues, fcnt: int = 1, ts: datetime = T0, network=None):
    """(topic, body) of container ``index`` of FLEET sending ``values`` with real bytes."""
    c = FLEET[index]
    fport, payload = encode(c.model, values)
    build = {"chirpstack": chirpstack_up, "tts": tts_up}[network or c.network]
    topic, doc = build(c, ts, fcnt, fport, payload, -101, 4.5, random.Random(fcnt))
    return topic, json.dumps(doc).encode()


def outbox_messages(service: SensorService) -> list[tuple[str, dict]]:
    return [(e.topic, json.loads(e.payload)) for e in service.outbox.pending(limit=1000)]


@pytest.fixture
def service(tmp_path):
    made: list[SensorService] = []

    def make(site: str = "dostuk", with_registry: bool = True, **kw) -> SensorService:
        s = SensorService(settings_for(tmp_path, site, **kw))
        if with_registry:
            s.use_registry(registry(site, FLEET, T0))
        made.append(s)
        return s

    yield make
    for s in made:
        s.outbox.close()


def test_chirpstack_and_tts_uplinks_become_readings(service) -> None:
    svc = service()
    em310 = DeviceValues(distance_mm=812, battery_pct=87, tilt=False)
    ldds = DeviceValues(distance_mm=1500, battery_v=3.256, temp_c=25.0)
    assert svc.handle(*uplink(0, em310)) == "published"  # ChirpStack
    assert svc.handle(*uplink(1, em310)) == "published"  # TTS
    assert svc.handle(*uplink(2, ldds)) == "published"  # ChirpStack, Dragino fPort 2
    msgs = outbox_messages(svc)
    topics = Topics("dostuk")
    assert [t for t, _ in msgs] == [
        topics.of(ContainerReading, container=c) for c in ("bin-01", "bin-02", "bin-03")
    ]
    readings = [ContainerReading.model_validate(m) for _, m in msgs]
    assert [(r.source, r.model, r.device) for r in readings] == [
        ("chirpstack", "EM310-UDL", FLEET[0].eui),
        ("tts", "EM310-UDL", FLEET[1].eui),
        ("chirpstack", "LDDS75", FLEET[2].eui),
    ]
    assert (readings[0].distance_mm, readings[0].battery_pct, readings[0].tilt) == (
        812,
        87.0,
        False,
    )
    assert (readings[2].distance_mm, readings[2].battery_v, readings[2].temp_c) == (
        1500,
        3.256,
        25.0,
    )
    assert all(r.ts == T0 and r.fcnt == 1 and r.rssi == -101 for r in readings)


def test_duplicates_are_dropped_a_new_frame_is_not(service) -> None:
    svc = service()
    values = DeviceValues(distance_mm=900, battery_pct=80)
    first = uplink(0, values, fcnt=7)
    assert svc.handle(*first) == "published"
    assert svc.handle(*first) == "duplicate"  # a second gateway, a replay
    # the same frame through the other integration, received 2 s later
    assert svc.handle(*uplink(0, values, 7, T0 + timedelta(seconds=2), "tts")) == "duplicate"
    assert svc.handle(*uplink(0, values, fcnt=8, ts=T0 + timedelta(hours=1))) == "published"
    assert len(outbox_messages(svc)) == 2
    assert svc.counters["duplicate"] == 2


@pytest.mark.parametrize(
    ("index", "distance"), [(0, 0), (2, 0), (2, 20)], ids=["em310-0", "ldds75-0", "ldds75-20"]
)
def test_sentinel_distance_is_no_value_never_0_or_100_pct(service, index, distance) -> None:
    svc = service()
    values = DeviceValues(distance_mm=distance, battery_pct=80, battery_v=3.5, temp_c=4.5)
    assert svc.handle(*uplink(index, values)) == "published"
    [(_, reading)] = outbox_messages(svc)
    assert reading["distance_mm"] is None
    assert reading["battery_pct"] == (80 if index == 0 else None)


def test_unknown_device_and_bad_payloads_are_dead_lettered_with_a_reason(service, caplog) -> None:
    svc = service()
    stranger = fleet(5)[4]
    fport, payload = encode(stranger.model, DeviceValues(distance_mm=700))
    topic, doc = chirpstack_up(stranger, T0, 3, fport, payload, -90, 1.0, random.Random(1))
    with caplog.at_level("WARNING", "landfill.edge.sensors"):
        for fcnt in (3, 4, 5):
            doc["fCnt"] = fcnt
            assert svc.handle(topic, json.dumps(doc).encode()) == "dead:unknown_device"
    assert sum("unknown_device" in r.message for r in caplog.records) == 1, "logged once"
    assert svc.handle(topic, b"{not json") == "dead:bad_envelope:invalid_json"
    # an EM310 frame cut after the battery decodes to nothing usable for an LDDS75 container
    t, body = uplink(2, DeviceValues(distance_mm=700, battery_v=3.5))
    short = json.loads(body)
    short["data"] = "AXVc"
    assert svc.handle(t, json.dumps(short).encode()) == "dead:undecodable"
    letters = [m for t, m in outbox_messages(svc) if t == Topics("dostuk").of(DeadLetter)]
    assert [m["reason"] for m in letters] == [
        "unknown_device",
        "unknown_device",
        "unknown_device",
        "bad_envelope:invalid_json",
        "undecodable",
    ]
    assert letters[0]["topic"] == topic
    assert json.loads(letters[0]["payload"])["deviceInfo"]["devEui"] == stranger.eui
    assert svc.counters["dead:unknown_device"] == 3
    assert svc.counters["published"] == 0


def test_registry_is_cached_and_used_at_the_next_start_without_a_broker(tmp_path, service) -> None:
    first = service()
    assert ContainerRegistry.model_validate_json((tmp_path / "registry.json").read_bytes())
    first.outbox.close()
    again = service(with_registry=False)
    assert again.registry_ready.is_set()
    assert again.handle(*uplink(1, DeviceValues(distance_mm=1000, battery_pct=50))) == "published"


@pytest.mark.integration
def test_end_to_end_through_the_broker(tmp_path, broker, site, collect) -> None:
    readings = collect(f"landfill/v1/{site}/container/+/reading")
    dead = collect(f"landfill/v1/{site}/deadletter")
    reg = registry(site, FLEET, T0)
    publish(broker.url, Topics(site).of(ContainerRegistry), reg.to_json(), retain=True)
    svc = SensorService(settings_for(tmp_path, site, broker.url, sensors_client_id=f"es-{site}"))
    svc.start()
    try:
        assert svc.registry_ready.is_set(), "the retained registry arrives before uplinks"
        wait_for(svc.source.is_connected, what="source connected")
        cs = uplink(0, DeviceValues(distance_mm=600, battery_pct=90), fcnt=11)
        tts = uplink(1, DeviceValues(distance_mm=0, battery_pct=90), fcnt=12)
        for topic, body in (cs, tts, cs):  # the second ChirpStack copy is a duplicate
            publish(broker.url, topic, body)
        stranger = fleet(5)[4]
        fport, payload = encode(stranger.model, DeviceValues(distance_mm=700))
        topic, doc = tts_up(stranger, T0, 1, fport, payload, -90, 1.0, random.Random(1))
        publish(broker.url, topic, json.dumps(doc).encode())
        got = wait_for(lambda: len(readings.payloads()) >= 2 and readings.payloads())
        wait_for(lambda: dead.payloads(), what="dead letter")
        wait_for(lambda: svc.counters["received"] == 4, what="all four uplinks handled")
        assert [(r["container"], r["source"], r["distance_mm"]) for r in got] == [
            ("bin-01", "chirpstack", 600),
            ("bin-02", "tts", None),
        ]
        assert [d["reason"] for d in dead.payloads()] == ["unknown_device"]
        assert svc.counters["duplicate"] == 1
        wait_for(lambda: len(svc.outbox) == 0, what="outbox drained on PUBACK")
    finally:
        svc.stop()


@pytest.mark.integration
def test_a_gateway_clock_a_year_ahead_gives_the_network_servers_time(
    tmp_path, broker, site, collect
) -> None:
    readings = collect(f"landfill/v1/{site}/container/+/reading")
    publish(
        broker.url,
        Topics(site).of(ContainerRegistry),
        registry(site, FLEET, T0).to_json(),
        retain=True,
    )
    svc = SensorService(settings_for(tmp_path, site, broker.url, sensors_client_id=f"es-{site}"))
    svc.start()
    try:
        wait_for(svc.source.is_connected, what="source connected")
        topic, body = uplink(0, DeviceValues(distance_mm=600, battery_pct=90), fcnt=21)
        doc = json.loads(body)
        doc["rxInfo"][0]["gwTime"] = "2027-11-24T06:00:00Z"  # GNSS-less gateway, wrong RTC
        publish(broker.url, topic, json.dumps(doc).encode())
        [got] = wait_for(readings.payloads, what="the reading")
        assert got["ts"] == "2026-11-24T06:00:00Z"  # the network server's receive time
        assert svc.counters["gateway_clock_refused"] == 1
    finally:
        svc.stop()


def test_native_json_uplink_with_decoded_values(service) -> None:
    svc = service(site="kant")
    reg = registry("kant", FLEET, T0)
    svc.use_registry(reg)
    body = {"device": FLEET[3].eui, "ts": "2026-11-24T12:00:00+06:00", "fcnt": 5}
    body |= {"distance_mm": 812, "temp_c": -4.5, "battery_pct": 87, "tilt": False}
    topic = f"landfill/v1/kant/sensor/{FLEET[3].eui}/up"
    assert svc.handle(topic, json.dumps(body).encode()) == "published"
    [(_, r)] = outbox_messages(svc)
    assert (r["source"], r["container"], r["ts"]) == ("native", "bin-04", "2026-11-24T06:00:00Z")
    assert (r["distance_mm"], r["temp_c"], r["battery_pct"]) == (812, -4.5, 87.0)


def test_devices_registered_by_their_network_server_name(service) -> None:
    """ChirpStack deviceName, TTS device_id and a native device resolve by the registry's name."""
    svc = service(with_registry=False)
    by_name = [
        ContainerSpec.model_validate(c.spec.model_dump() | {"device": f"{c.spec.container}-SENSOR"})
        for c in FLEET[:2]
    ]
    assert [s.device for s in by_name] == ["bin-01-sensor", "bin-02-sensor"]
    svc.use_registry(registry("dostuk", FLEET, T0).model_copy(update={"containers": by_name}))
    values = DeviceValues(distance_mm=812, battery_pct=87, tilt=False)
    assert svc.handle(*uplink(0, values)) == "published"  # ChirpStack: its EUI is not registered
    assert svc.handle(*uplink(1, values)) == "published"  # TTS: the device_id in the topic
    fport, payload = encode(FLEET[0].model, values)
    body = {"device": "bin-01-sensor", "ts": "2026-11-24T07:00:00Z", "fcnt": 9, "fport": fport}
    body["data"] = base64.b64encode(payload).decode()
    native = "landfill/v1/dostuk/sensor/bin-01-sensor/up"
    assert svc.handle(native, json.dumps(body).encode()) == "published"  # model from the registry
    assert svc.handle(*uplink(2, values)) == "dead:unknown_device"  # bin-03 is not registered
    readings = [ContainerReading.model_validate(m) for _, m in outbox_messages(svc)[:3]]
    assert [(r.container, r.source, r.model, r.distance_mm) for r in readings] == [
        ("bin-01", "chirpstack", "EM310-UDL", 812),
        ("bin-02", "tts", "EM310-UDL", 812),
        ("bin-01", "native", "EM310-UDL", 812),
    ]


FUZZ_TOPICS = [
    uplink(0, DeviceValues(distance_mm=900))[0],
    uplink(1, DeviceValues(distance_mm=900))[0],
    "landfill/v1/dostuk/sensor/x/up",
    "application/a/device/b/event/join",
]


@pytest.mark.parametrize("topic", FUZZ_TOPICS)
def test_arbitrary_payloads_never_crash_the_service(service, topic) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    svc = service()

    @settings(max_examples=150, deadline=None)
    @given(payload=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
    def check(payload: bytes) -> None:
        outcome = svc.handle(topic, payload)
        assert outcome == "duplicate" or outcome.startswith(("dead:", "published"))

    check()
    assert svc.counters["received"] >= 150
