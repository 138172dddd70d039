"""Fill-sensor simulator: the first customer's 33 containers as ChirpStack and TTS uplinks.

Each container fills at its own rate times a weekday factor, is emptied once a week on its
collection day (sometimes the truck does not come), and now and then misbehaves the way real
ones do::

    hourly uplink ─► encode(model, values) ─► real device bytes ─► ChirpStack v4 or TTS v3 JSON
    events: fire (LDDS75 probe reads 65-85 °C), tilt (EM310 position bit), offline (hours of
            silence), sentinel distances (0 on Milesight, 0 or 20 on Dragino), missed pickups

Time is simulated: ``advance(until)`` yields every uplink due up to ``until`` in time order, so
``--speed 1440`` runs a day a minute and tests run weeks in milliseconds. The container layout
(ids, devices, models, coordinates) is fixed; ``seed`` only changes the behaviour.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import math
import os
import random
import signal
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from pydantic import AwareDatetime, BaseModel, Field

from edge.sensors.encoders import DeviceValues, encode
from landfill.contract import ContainerRegistry, Topics
from landfill.fill.spec import ContainerSpec
from landfill.lifecycle import raise_interrupt, setup_logging
from landfill.mqtt import broker_address, make_client
from landfill.options import add_options, build, command_parser
from landfill.settings import DEFAULT_TIMEZONE, EdgeSensorsSettings

__all__ = [
    "SETTLEMENTS",
    "SimContainer",
    "SimUplink",
    "SensorSimulator",
    "fleet",
    "registry",
    "run",
    "main",
]

Network = Literal["chirpstack", "tts"]

# (name, zone, lat, lon). Nine of the 19 settlements have a name from a source: seven from the
# council's action plan, Kuduk-Sai from a news report, Kyzyl-Kyia from a council resolution
# (docs/settlements.md, with their Kyrgyz and Russian spellings and which are unconfirmed). The
# other ten are placeholders, "Settlement 10" to "Settlement 19", until the enterprise gives us
# their names. Coordinates are plausible points in Nooken district, not surveyed positions.
SETTLEMENTS: tuple[tuple[str, str, float, float], ...] = (
    ("Bürgöndü", "burgondu", 41.142, 72.583),
    ("Dostuk", "dostuk", 41.118, 72.640),
    ("Jany-Aryk", "burgondu", 41.156, 72.561),
    ("Noshken", "dostuk", 41.101, 72.662),
    ("Shamaldy-Sai", "road", 41.198, 72.536),
    ("Kyzyl-Tuu", "dostuk", 41.087, 72.618),
    ("Tendik", "road", 41.131, 72.604),
    ("Kuduk-Sai", "road", 41.104, 72.572),
    ("Kyzyl-Kyia", "burgondu", 41.181, 72.637),
    *(
        (
            f"Settlement {n:02d}",
            ("burgondu", "dostuk", "road")[n % 3],
            41.06 + 0.011 * ((n * 7) % 13),
            72.52 + 0.013 * ((n * 5) % 12),
        )
        for n in range(10, 20)
    ),
)
# Household waste piles up over the weekend and on the Thursday market day (Mon = 0).
WEEKDAY_FACTOR = (1.0, 0.9, 0.9, 1.25, 1.0, 1.3, 1.4)
EMPTY_MM, FULL_MM = 1450, 450  # 1.1 m3 metal container, sensor under the lid
INTERVAL_S = 3600


@dataclass(frozen=True)
class SimContainer:
    """One simulated container with its sensor and network."""

    spec: ContainerSpec
    eui: str
    model: str
    network: Network
    rate_pct_day: float  # mean fill rate on a factor-1 day


@dataclass(frozen=True)
class SimUplink:
    """One uplink as published, with the values the device measured (the truth)."""

    container: str
    topic: str
    body: bytes
    ts: datetime
    fcnt: int
    fport: int
    payload: bytes
    values: DeviceValues
    fill_pct: float  # the true level, before the sensor's noise and faults


@dataclass
class _State:
    fill: float
    next_at: datetime
    fcnt: int = 0
    battery: float = 95.0
    silent_until: datetime | None = None
    tilt_left: int = 0
    fire_left: int = 0
    last_collection_day: Any = None


def fleet(n: int = 33) -> list[SimContainer]:
    """The first ``n`` containers of the customer (at most 33), always the same layout."""
    if not 1 <= n <= 33:
        raise ValueError("the customer has 33 containers")
    layout = random.Random(33)  # fixed: the registry must not change with --seed
    out: list[SimContainer] = []
    for i in range(n):
        name, zone, lat, lon = SETTLEMENTS[i % len(SETTLEMENTS)]
        milesight = i % 3 != 2  # two thirds EM310-UDL, one third LDDS75
        model = "EM310-UDL" if milesight else "LDDS75"
        eui = f"24e124{0x713B0000 + i:010x}" if milesight else f"a84041{0x181C600 + i:010x}"
        spec = ContainerSpec(
            container=f"bin-{i + 1:02d}",
            settlement=name,
            zone=zone,
            lat=round(lat + layout.uniform(-0.004, 0.004), 5),
            lon=round(lon + layout.uniform(-0.004, 0.004), 5),
            volume_m3=1.1,
            empty_mm=EMPTY_MM,
            full_mm=FULL_MM,
            expected_interval_s=INTERVAL_S,
            collection_weekdays=[i % 6],  # Monday to Saturday, one round a day
            device=eui,
            model=model,
        )
        network: Network = "chirpstack" if i % 2 == 0 else "tts"
        out.append(SimContainer(spec, eui, model, network, layout.uniform(8.0, 15.0)))
    return out


def registry(site: str, containers: list[SimContainer], ts: datetime) -> ContainerRegistry:
    """The retained registry message that matches the simulated fleet."""
    return ContainerRegistry(ts=ts, site=site, containers=[c.spec for c in containers])


def distance_for(fill: float, noise_mm: float = 0.0) -> int:
    """Distance the sensor sees at a fill level (waste above the full line reads closer)."""
    d = EMPTY_MM - fill / 100 * (EMPTY_MM - FULL_MM) + noise_mm
    return max(300, min(EMPTY_MM + 40, round(d)))


@dataclass
class SensorSimulator:
    """Advances the fleet through simulated time and returns the uplinks it sends."""

    containers: list[SimContainer]
    start: datetime
    seed: int | None = None
    fault_rate: float = 1.0  # multiplies the chance of fire, tilt, offline and sentinels
    tz: tzinfo = ZoneInfo(DEFAULT_TIMEZONE)  # collection days and daytime are local (a setting)
    _rng: random.Random = field(init=False)
    _state: dict[str, _State] = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._state = {
            c.spec.container: _State(
                fill=self._rng.uniform(5, 60),
                next_at=self.start + timedelta(seconds=self._rng.uniform(0, INTERVAL_S)),
                fcnt=self._rng.randint(0, 3),
                battery=self._rng.uniform(60, 100),
            )
            for c in self.containers
        }

    def advance(self, until: datetime) -> Iterator[SimUplink]:
        """Yield every uplink due up to ``until``, oldest first."""
        by_name = {c.spec.container: c for c in self.containers}
        while True:
            name, st = min(self._state.items(), key=lambda kv: kv[1].next_at)
            if st.next_at > until:
                return
            ts = st.next_at
            st.next_at = ts + timedelta(seconds=INTERVAL_S * self._rng.uniform(0.97, 1.03))
            c = by_name[name]
            self._fill(c, st, ts)
            if st.silent_until is not None and ts < st.silent_until:
                continue
            st.silent_until = None
            up = self._uplink(c, st, ts)
            if up is not None:
                yield up

    # -- behaviour -------------------------------------------------------------------------

    def _fill(self, c: SimContainer, st: _State, ts: datetime) -> None:
        local = ts.astimezone(self.tz)
        rate = c.rate_pct_day * WEEKDAY_FACTOR[local.weekday()]
        # people throw waste in by day: most of a day's rate falls between 07:00 and 21:00
        daytime = 1.6 if 7 <= local.hour < 21 else 0.15
        st.fill = min(130.0, st.fill + rate * daytime / 24 * self._rng.uniform(0.5, 1.5))
        due = local.weekday() in c.spec.collection_weekdays and local.hour >= 10
        if due and st.last_collection_day != local.date():
            st.last_collection_day = local.date()
            if self._rng.random() > 0.08:  # now and then the truck does not come
                st.fill = self._rng.uniform(1, 6)

    def _chance(self, p: float) -> bool:
        return self._rng.random() < p * self.fault_rate

    def _uplink(self, c: SimContainer, st: _State, ts: datetime) -> SimUplink | None:
        rng = self._rng
        if self._chance(0.002):
            st.silent_until = ts + timedelta(hours=rng.uniform(4, 12))  # a dead gateway, snow
            return None
        milesight = c.model.startswith("EM")
        if milesight and st.tilt_left == 0 and self._chance(0.003):
            st.tilt_left = rng.randint(2, 4)
        if not milesight and st.fire_left == 0 and self._chance(0.0015):
            st.fire_left = rng.randint(2, 3)
        distance = distance_for(st.fill, rng.gauss(0, 8))
        if st.tilt_left:
            distance = rng.randint(300, 2500)  # the beam hits the ground or a wall
        if self._chance(0.01):
            distance = 0 if milesight else rng.choice((0, 20))
        local_hour = ts.astimezone(self.tz).hour
        ambient = 8 + 7 * math.sin((local_hour - 9) / 24 * 2 * math.pi)
        temp = round(ambient + rng.gauss(0, 0.5), 1)
        if st.fire_left:
            temp = round(rng.uniform(65, 85), 1)
            st.fire_left -= 1
        st.battery = max(1.0, st.battery - 0.002)
        values = DeviceValues(
            distance_mm=distance,
            battery_pct=round(st.battery) if milesight else None,
            battery_v=None if milesight else round(3.0 + 0.6 * st.battery / 100, 3),
            temp_c=None if milesight else temp,
            tilt=st.tilt_left > 0,
        )
        if st.tilt_left:
            st.tilt_left -= 1
        fport, payload = encode(c.model, values)
        fcnt = st.fcnt
        st.fcnt += 1
        rssi, snr = round(rng.uniform(-120, -85)), round(rng.uniform(-8, 9), 2)
        if c.network == "chirpstack":
            topic, doc = chirpstack_up(c, ts, fcnt, fport, payload, rssi, snr, rng)
        else:
            topic, doc = tts_up(c, ts, fcnt, fport, payload, rssi, snr, rng)
        body = json.dumps(doc).encode()
        return SimUplink(c.spec.container, topic, body, ts, fcnt, fport, payload, values, st.fill)


# -- network server envelopes (reference fill-sensors.md 1.2, 1.3) -----------------------------

_APP_ID = "6f2c9a40-3b1e-4c55-9d7a-1c0e5b8a2f31"
_TENANT_ID = "52f14cd4-c6f1-4fbd-8f87-4025e1d49242"
_PROFILE = {"EM310-UDL": "Milesight EM310-UDL EU868", "LDDS75": "Dragino LDDS75 EU868"}
_TTS_MODEL = {"EM310-UDL": ("milesight-iot", "em310-udl"), "LDDS75": ("dragino", "ldds75")}


def _ns(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"  # network servers send nanoseconds


def chirpstack_up(
    c: SimContainer,
    ts: datetime,
    fcnt: int,
    fport: int,
    payload: bytes,
    rssi: float,
    snr: float,
    rng: random.Random,
) -> tuple[str, dict[str, Any]]:
    """A ChirpStack v4 ``event/up`` topic and body (protobuf JSON: zero fields left out)."""
    doc: dict[str, Any] = {
        "deduplicationId": str(uuid.UUID(int=rng.getrandbits(128))),
        "time": _ns(ts + timedelta(milliseconds=250)),
        "deviceInfo": {
            "tenantId": _TENANT_ID,
            "tenantName": "Kelechek Yntymagy",
            "applicationId": _APP_ID,
            "applicationName": "containers",
            "deviceProfileName": _PROFILE[c.model],
            "deviceName": f"{c.spec.container}-sensor",
            "devEui": c.eui,
            "tags": {"settlement": c.spec.settlement},
        },
        "devAddr": c.eui[-8:],
        "adr": True,
        "dr": 5,
        "fPort": fport,
        "data": base64.b64encode(payload).decode(),
        "rxInfo": [
            {
                "gatewayId": "0016c001f153a14c",
                "uplinkId": rng.getrandbits(31),
                "nsTime": _ns(ts),  # the time edge takes as the observation time
                "rssi": rssi,
                "snr": snr,
                "channel": 2,
                "crcStatus": "CRC_OK",
            }
        ],
        "txInfo": {"frequency": 868100000},
    }
    if fcnt:
        doc["fCnt"] = fcnt
    return f"application/{_APP_ID}/device/{c.eui}/event/up", doc


def tts_up(
    c: SimContainer,
    ts: datetime,
    fcnt: int,
    fport: int,
    payload: bytes,
    rssi: float,
    snr: float,
    rng: random.Random,
) -> tuple[str, dict[str, Any]]:
    """A The Things Stack v3 ``up`` topic and body (empty fields left out, as TTS does)."""
    device_id = f"{c.spec.container}-sensor"
    brand, model_id = _TTS_MODEL[c.model]
    up: dict[str, Any] = {
        "f_port": fport,
        "frm_payload": base64.b64encode(payload).decode(),
        "rx_metadata": [
            {"gateway_ids": {"gateway_id": "kelechek-gw1"}, "rssi": rssi, "snr": snr},
        ],
        "settings": {"frequency": "868100000"},
        "version_ids": {"brand_id": brand, "model_id": model_id, "band_id": "EU_863_870"},
        "received_at": _ns(ts),
    }
    if fcnt:
        up["f_cnt"] = fcnt
    doc = {
        "end_device_ids": {
            "device_id": device_id,
            "application_ids": {"application_id": "containers"},
            "dev_eui": c.eui.upper(),
        },
        "correlation_ids": [f"as:up:{rng.getrandbits(64):016X}"],
        "received_at": _ns(ts + timedelta(milliseconds=200)),
        "uplink_message": up,
    }
    return f"v3/containers@ttn/devices/{device_id}/up", doc


def run(
    sim: SensorSimulator,
    send: Callable[[SimUplink], None],
    *,
    speed: float,
    until: datetime | None = None,
    stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    wall: Callable[[], datetime] | None = None,
) -> int:
    """Send uplinks as simulated time passes ``speed`` times faster than real time; return count.

    With ``wall`` (live mode) simulated time is the wall clock: everything from the start up to
    now is replayed at once, then the containers report in real time.
    """
    t0 = clock()
    sent = 0
    while not stop():
        if wall is not None:
            now = wall()
        else:
            now = sim.start + timedelta(seconds=(clock() - t0) * speed)
        if until is not None and now >= until:
            now = until
        for up in sim.advance(now):
            send(up)
            sent += 1
        if until is not None and now >= until:
            break
        sleep(0.1)
    return sent


# ---- `landfill simulate sensors` -----------------------------------------------------------

log = logging.getLogger("landfill.simulate.sensors")


class SensorSimulatorOptions(BaseModel):
    """What `landfill simulate sensors` plays, and how fast."""

    speed: float = Field(60.0, gt=0, description="simulated s per real s (1440: a day a minute)")
    seed: int | None = Field(None, description="random seed for repeatable runs")
    containers: int = Field(33, ge=1, le=33, description="how many of the 33")
    hours: float = Field(0, ge=0, description="stop after H simulated hours (0: never)")
    start: AwareDatetime | None = Field(
        None, description="simulated start, ISO-8601 with zone; none: now"
    )
    url: str = Field("", description="broker to publish uplinks on; none: the source broker")
    live: bool = Field(
        False,
        description="replay from --start up to now at once, then report in real time "
        "(ignores --speed)",
    )
    publish_registry: bool = Field(
        False, description="publish a matching retained container registry first"
    )


DESCRIPTION = """\
Simulate the customer's containers filling, being emptied weekly, catching fire, tipping
over, going silent and sending sentinel readings; publish ChirpStack v4 and TTS v3 uplinks
with real device bytes. The broker and site come from the LANDFILL_* variables.

sensor models: {models}
"""


def build_parser() -> argparse.ArgumentParser:
    """The options of `landfill simulate sensors`, from `SensorSimulatorOptions`."""
    models = ", ".join(sorted({c.model for c in fleet()}))
    parser = command_parser("simulate sensors", DESCRIPTION.format(models=models))
    add_options(parser, SensorSimulatorOptions)
    return parser


def _connect(url: str, name: str) -> mqtt.Client:
    client = make_client(url, f"sim-sensors-{name}-{os.getpid()}")
    try:
        client.connect(*broker_address(url))
    except OSError as exc:
        raise SystemExit(f"simulate sensors: broker {url} not reachable: {exc}") from None
    client.loop_start()
    return client


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill simulate sensors`: send uplinks until --hours have passed or Ctrl-C."""
    opts = build(SensorSimulatorOptions, build_parser().parse_args(argv))
    given = argparse.Namespace(sensors_source_url=opts.url or None)
    settings = build(EdgeSensorsSettings, given)
    setup_logging(settings.log_level)
    signal.signal(signal.SIGTERM, raise_interrupt)
    containers = fleet(opts.containers)
    start = opts.start or datetime.now(UTC)
    project = _connect(settings.mqtt_url, "registry")
    if opts.publish_registry:
        reg = registry(settings.site, containers, datetime.now(UTC))
        topic = Topics(settings.site).of(ContainerRegistry)
        project.publish(topic, reg.to_json(), 1, True).wait_for_publish(10)
        log.info("published the registry of %d containers", len(containers))
    same = settings.source_url == settings.mqtt_url
    source = project if same else _connect(settings.source_url, "uplinks")
    try:
        _play(SensorSimulator(containers, start, seed=opts.seed, tz=settings.tz), source, opts)
    except KeyboardInterrupt:
        pass
    finally:
        for client in {id(project): project, id(source): source}.values():
            client.disconnect()
            client.loop_stop()
    return 0


def _play(sim: SensorSimulator, source: mqtt.Client, opts: SensorSimulatorOptions) -> None:
    """Publish the uplinks as simulated time passes; wait for the last one to be sent."""
    last: list[mqtt.MQTTMessageInfo] = []

    def send(up: SimUplink) -> None:
        last[:] = [source.publish(up.topic, up.body, qos=1)]
        log.debug("%s %s fill %.0f %%", up.ts.isoformat(), up.container, up.fill_pct)

    start = sim.start
    log.info(
        "%d containers, %.0f simulated s per s, from %s", len(sim.containers), opts.speed, start
    )
    until = start + timedelta(hours=opts.hours) if opts.hours else None
    wall = (lambda: datetime.now(UTC)) if opts.live else None
    sent = run(sim, send, speed=opts.speed, until=until, wall=wall)
    if last:
        last[0].wait_for_publish(10)
    log.info("sent %d uplinks", sent)
