"""Recorded sensor payloads and network envelopes, each with its source and decoded values.

"reference" is /work/shared/reference/fill-sensors.md. Payloads marked "constructed" are built
by hand from the documented byte layout to pin a sentinel or fault; everything else is a
literal copy from the named vendor or network-server document.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from edge.sensors.models import Uplink


@dataclass(frozen=True)
class PayloadSample:
    """One payload, the model that sent it, and what it must decode to (None: no reading)."""

    model: str
    hex: str
    expected: Uplink | None
    source: str
    fport: int | None = None

    @property
    def payload(self) -> bytes:
        return bytes.fromhex(self.hex)


_EM400_README = Uplink(distance_mm=2116, temp_c=25.7, battery_pct=92.0, tilt=True)
_EM400_ALARM = Uplink(distance_mm=1601, temp_c=23.2, alarms=("temperature", "distance"))
_DRAGINO_WORKED = Uplink(distance_mm=1500, temp_c=25.0, battery_v=3.256, extra={"interrupt": False})

PAYLOADS: tuple[PayloadSample, ...] = (
    # --- Milesight EM310-UDL ---------------------------------------------------------------
    PayloadSample(
        model="EM310-UDL",
        hex="01755c03824408040001",
        expected=Uplink(distance_mm=2116, battery_pct=92.0, tilt=True),
        source="reference 1.5; Milesight-IoT/SensorDecoders EM310-UDL/README.md",
    ),
    PayloadSample(
        model="EM310-UDL",
        hex="01755c03820000040000",
        expected=Uplink(battery_pct=92.0, tilt=False, sentinels=("distance_mm:no_echo",)),
        source="constructed: README frame with distance 0 (no echo) and position normal",
    ),
    PayloadSample(
        model="EM310-UDL",
        hex="01750003820000040000",
        expected=Uplink(tilt=False, sentinels=("all_zero",)),
        source="constructed: all-zero reading (battery 0 %, distance 0 mm)",
    ),
    PayloadSample(
        model="EM310-UDL",
        hex="0a756303824408",
        expected=Uplink(distance_mm=2116),
        source="constructed: unknown channel 0A with a known type is skipped by size",
    ),
    PayloadSample(
        model="EM310-UDL",
        hex="01755c0999aabb03824408",
        expected=Uplink(battery_pct=92.0, extra={"unparsed_from": 3}),
        source="constructed: unknown channel type 99 stops decoding, earlier values kept",
    ),
    PayloadSample(
        model="EM310-UDL",
        hex="01755c038244",
        expected=Uplink(battery_pct=92.0, extra={"unparsed_from": 3}),
        source="constructed: README frame cut short inside the distance record",
    ),
    # --- Milesight EM400-UDL / EM400-MUD ---------------------------------------------------
    PayloadSample(
        model="EM400-UDL",
        hex="01755c0367010104824408050001",
        expected=_EM400_README,
        source="reference 1.5; Milesight-IoT/SensorDecoders EM400-UDL/README.md",
    ),
    PayloadSample(
        model="EM400-MUD",
        hex="01755c0367010104824408050001",
        expected=_EM400_README,
        source="reference 1.5; Milesight-IoT/SensorDecoders EM400-MUD/README.md",
    ),
    PayloadSample(
        model="EM400-MUD",
        hex="8367e800018482410601",
        expected=_EM400_ALARM,
        source="Milesight-IoT/SensorDecoders EM400-MUD/README.md (alarm example)",
    ),
    PayloadSample(
        model="EM400-UDL",
        hex="8367e800018482410601",
        expected=_EM400_ALARM,
        source="Milesight-IoT/SensorDecoders EM400-UDL/README.md (alarm example)",
    ),
    PayloadSample(
        model="EM400-UDL",
        hex="0175640367f80004820101050001",
        expected=Uplink(distance_mm=257, temp_c=24.8, battery_pct=100.0, tilt=True),
        source="Milesight EM400-UDL user guide, 5.2 Sensor Data example",
    ),
    PayloadSample(
        model="EM400-MUD",
        hex="01756403670b0104823b01050001",
        expected=Uplink(distance_mm=315, temp_c=26.7, battery_pct=100.0, tilt=True),
        source="Milesight-IoT/SensorDecoders EM400-MUD/README.md, NB-IoT sensor payload data",
    ),
    PayloadSample(
        model="EM400-MUD",
        hex="ff0bffff0101ff166329c42503920003ff090100ff0a0101ff0f00",
        expected=None,
        source="Milesight EM400-MUD user guide 6.1.1: device information on join, no reading",
    ),
    PayloadSample(
        model="EM400-UDL",
        hex="068836bf7701f000090722",
        expected=None,
        source="Milesight-IoT/SensorDecoders EM400-UDL/README.md: NB-IoT location only",
    ),
    # --- Dragino LDDS75 / LDDS20 -----------------------------------------------------------
    PayloadSample(
        model="LDDS75",
        hex="0cb805dc0000fa01",
        fport=2,
        expected=_DRAGINO_WORKED,
        source="reference 1.5, worked example (derived from the LDDS75 v1.1.4 layout)",
    ),
    PayloadSample(
        model="LDDS20",
        hex="0cb805dc0000fa01",
        fport=2,
        expected=_DRAGINO_WORKED,
        source="reference 1.5, worked example (LDDS20 v1.1.4 has the same layout)",
    ),
    PayloadSample(
        model="LDDS20",
        hex="0cb800000000fa01",
        fport=2,
        expected=Uplink(
            temp_c=25.0,
            battery_v=3.256,
            sentinels=("distance_mm:no_sensor",),
            extra={"interrupt": False},
        ),
        source="constructed: distance 0 = 'No Sensor' (TTN vendor/dragino/ldds20-114.js)",
    ),
    PayloadSample(
        model="LDDS20",
        hex="0cb800140000fa01",
        fport=2,
        expected=Uplink(
            temp_c=25.0,
            battery_v=3.256,
            sentinels=("distance_mm:invalid_reading",),
            extra={"interrupt": False},
        ),
        source="constructed: distance 20 = 'Invalid Reading' (TTN vendor/dragino/ldds20-114.js)",
    ),
    PayloadSample(
        model="LDDS75",
        hex="0cb8001001",
        fport=2,
        expected=Uplink(
            battery_v=3.256,
            sentinels=("distance_mm:invalid_reading",),
            extra={"interrupt": True},
        ),
        source="constructed: old 5-byte LDDS75 frame, distance < 20 invalid (TTN ldds75.js)",
    ),
    PayloadSample(
        model="LDDS75",
        hex="0cb805dc01",
        fport=2,
        expected=Uplink(distance_mm=1500, battery_v=3.256, extra={"interrupt": True}),
        source="constructed: old 5-byte LDDS75 frame (battery, distance, interrupt)",
    ),
    PayloadSample(
        model="LDDS75",
        hex="0cb805dc0000fa00",
        fport=2,
        expected=Uplink(
            temp_c=25.0,
            battery_v=3.256,
            sentinels=("distance_mm:no_sensor",),
            extra={"interrupt": False},
        ),
        source="constructed: sensor flag 0 (no ultrasonic probe detected), reference 1.5",
    ),
    PayloadSample(
        model="LDDS75",
        hex="0cb805dc00000001",
        fport=2,
        expected=Uplink(
            distance_mm=1500,
            battery_v=3.256,
            sentinels=("temp_c:no_probe",),
            extra={"interrupt": False},
        ),
        source="constructed: DS18B20 0x0000 = unreadable probe (dragino/LoRa_STM32#13)",
    ),
    PayloadSample(
        model="LDDS75",
        hex="ccb805dc00ff3f01",
        fport=2,
        expected=Uplink(
            distance_mm=1500, temp_c=-19.3, battery_v=3.256, extra={"interrupt": False}
        ),
        source="constructed: top battery bits masked (& 0x3FFF), DS18B20 FF3F = -19.3 C "
        "(Dragino LLDS40 manual 2.3.2 example value)",
    ),
    PayloadSample(
        model="LDDS75",
        hex="0000000000000000",
        fport=2,
        expected=Uplink(sentinels=("all_zero",), extra={"interrupt": False}),
        source="constructed: all-zero frame",
    ),
    PayloadSample(
        model="LDDS75",
        hex="0cb805dc0000fa01",
        fport=3,
        expected=None,
        source="constructed: worked example on fPort 3 (DDS75-LB datalog port) is not a reading",
    ),
)

#: Literal payloads quoted in the reference that no model of ours sends (decoders must cope).
FOREIGN_PAYLOADS: tuple[tuple[str, str], ...] = (
    ("aa", "reference 1.2: ChirpStack events.md example data 'qg=='"),
    ("8241de", "reference 1.3: TTS data-formats example frm_payload 'gkHe'"),
    ("10000000001a17aa001a17aa001a17aa001a17aa", "reference 1.5: Tekelek TEK 766 test vector"),
)

# --- envelopes ----------------------------------------------------------------------------

CHIRPSTACK_TOPIC = (
    "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up"
)

# chirpstack/chirpstack-docs src/chirpstack/integrations/events.md, `up` JSON example (literal;
# reference 1.2 quotes it abridged).
CHIRPSTACK_DOCS_UP = json.loads("""
{
  "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
  "time": "2022-07-18T09:34:15.775023242+00:00",
  "deviceInfo": {
    "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
    "tenantName": "ChirpStack",
    "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
    "applicationName": "Test application",
    "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
    "deviceProfileName": "Test device-profile",
    "deviceName": "Test device",
    "devEui": "0101010101010101",
    "tags": {"key": "value"}
  },
  "devAddr": "00189440",
  "dr": 1,
  "fPort": 1,
  "data": "qg==",
  "rxInfo": [{
    "gatewayId": "0016c001f153a14c",
    "uplinkId": 4217106255,
    "rssi": -36,
    "snr": 10.5,
    "context": "E3OWOQ==",
    "metadata": {"region_name": "eu868", "region_common_name": "EU868"}
  }],
  "txInfo": {
    "frequency": 867100000,
    "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 11, "codeRate": "CR_4_5"}}
  }
}
""")
CHIRPSTACK_DOCS_EXPECTED = {
    "source": "chirpstack",
    "device_eui": "0101010101010101",
    "fcnt": 0,  # absent in the docs example: protobuf JSON leaves zero out
    "fport": 1,
    "time": datetime(2022, 7, 18, 9, 34, 15, 775023, tzinfo=UTC),
    "payload": b"\xaa",
    "rssi": -36.0,
    "snr": 10.5,
    "model_hint": "Test device-profile",
    "decoded_object": None,
    "device_name": "Test device",
}

# constructed: the events.md shape with a real EM310-UDL payload (README frame), a frame
# counter, a codec `object` (the reference 1.2 illustration), and two gateways, one with GNSS.
CHIRPSTACK_EM310_UP = {
    "deduplicationId": "5f0c1a9e-8a61-4b0e-9a57-6f3f0f4f2b11",
    "time": "2025-01-05T08:00:01.250000000+00:00",
    "deviceInfo": {
        "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
        "tenantName": "Landfill",
        "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
        "applicationName": "containers",
        "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
        "deviceProfileName": "Milesight EM310-UDL EU868",
        "deviceName": "bin-07",
        "devEui": "24E124713B123456",
        "tags": {},
    },
    "devAddr": "00189440",
    "dr": 5,
    "fCnt": 4711,
    "fPort": 85,
    "data": base64.b64encode(bytes.fromhex("01755c03824408040001")).decode(),
    "object": {"battery": 92, "distance": 2116, "position": "tilt"},
    "rxInfo": [
        {
            "gatewayId": "0016c001f153a14c",
            "rssi": -112,
            "snr": -3.5,
            "nsTime": "2025-01-05T08:00:01.101000000+00:00",
        },
        {
            "gatewayId": "0016c001f153a14d",
            "rssi": -97,
            "snr": 6.25,
            "gwTime": "2025-01-05T08:00:00.998877665+00:00",
            "nsTime": "2025-01-05T08:00:01.104000000+00:00",
        },
    ],
    "txInfo": {"frequency": 868100000},
}
CHIRPSTACK_EM310_TOPIC = (
    "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/24e124713b123456/event/up"
)
CHIRPSTACK_EM310_EXPECTED = {
    "source": "chirpstack",
    "device_eui": "24e124713b123456",
    "fcnt": 4711,
    "fport": 85,
    "time": datetime(2025, 1, 5, 8, 0, 0, 998877, tzinfo=UTC),  # the GNSS gateway's time
    "payload": bytes.fromhex("01755c03824408040001"),
    "rssi": -97.0,
    "snr": 6.25,
    "model_hint": "Milesight EM310-UDL EU868",
    "decoded_object": {"battery": 92, "distance": 2116, "position": "tilt"},
    "device_name": "bin-07",
}

TTS_TOPIC = "v3/app1@ttn/devices/dev1/up"

# TheThingsIndustries/lorawan-stack-docs doc/content/integrations/data-formats/_index.md,
# "Uplink message example" (literal; reference 1.3 quotes it abridged). It has no f_port.
TTS_DOCS_UP = json.loads("""
{
  "end_device_ids" : {
    "device_id" : "dev1",
    "application_ids" : {"application_id" : "app1"},
    "dev_eui" : "0004A30B001C0530",
    "join_eui" : "800000000000000C",
    "dev_addr" : "00BCB929"
  },
  "correlation_ids" : [
    "as:up:01E0WZGT6Y7657CPFPE5WEYDSQ",
    "gs:conn:01E0WDEC6T5T4XXBAX7S1VMFKE",
    "gs:uplink:01E0WZGSZWT07NE5TS2APTV1Z9",
    "ns:uplink:01E0WZGSZXZXZS8RFAWZX0F2FY",
    "rpc:/ttn.lorawan.v3.GsNs/HandleUplink:01E0WZGSZXGE1KS577PFBWRJEE"
  ],
  "received_at" : "2020-02-12T15:15:46.014773143Z",
  "uplink_message" : {
    "session_key_id" : "AXA50tHUGUucuzS/bCGMNw==",
    "f_cnt" : 1,
    "frm_payload" : "gkHe",
    "decoded_payload" : {"temperature": 1.0, "luminosity": 0.64},
    "rx_metadata" : [ {
      "gateway_ids" : {"gateway_id" : "gtw1", "eui" : "9C5C8E00001A05C4"},
      "time" : "2020-02-12T15:15:45.787Z",
      "timestamp" : 2463457000,
      "rssi" : -35,
      "channel_rssi" : -35,
      "snr" : 5,
      "uplink_token" : "ChIKEAoEZ3R3MRIInFyOAAAaBcQQ6L3Vlgk=",
      "channel_index" : 2
    } ],
    "settings" : {
      "data_rate" : {"lora" : {"bandwidth" : 125000, "spreading_factor" : 7}},
      "data_rate_index" : 5,
      "coding_rate" : "4/6",
      "frequency" : "868300000",
      "timestamp" : 2463457000,
      "time" : "2020-02-12T15:15:45.787Z"
    },
    "consumed_airtime": "0.056576s",
    "locations": {
      "user": {
        "latitude": 37.97155556731436,
        "longitude": 23.72678801175413,
        "altitude": 10,
        "source": "SOURCE_REGISTRY"
      }
    },
    "received_at" : "2020-02-12T15:15:45.789585559Z"
  }
}
""")
TTS_DOCS_EXPECTED = {
    "source": "tts",
    "device_eui": "0004a30b001c0530",
    "fcnt": 1,
    "fport": None,
    "time": datetime(2020, 2, 12, 15, 15, 45, 789585, tzinfo=UTC),  # Network Server time
    "payload": bytes.fromhex("8241de"),
    "rssi": -35.0,
    "snr": 5.0,
    "model_hint": None,
    "decoded_object": {"temperature": 1.0, "luminosity": 0.64},
    "device_name": "dev1",
}

# constructed: the data-formats shape with the Dragino worked example on fPort 2, a
# device-repository model id, and two gateways.
TTS_LDDS75_UP = {
    "end_device_ids": {
        "device_id": "bin-12",
        "application_ids": {"application_id": "containers"},
        "dev_eui": "A84041000181C61E",
        "join_eui": "A840410000000101",
        "dev_addr": "260B1234",
    },
    "correlation_ids": ["as:up:01HZZZ0000000000000000000"],
    "received_at": "2025-01-05T09:30:00.420000000Z",
    "uplink_message": {
        "session_key_id": "AXA50tHUGUucuzS/bCGMNw==",
        "f_port": 2,
        "f_cnt": 815,
        "frm_payload": base64.b64encode(bytes.fromhex("0cb805dc0000fa01")).decode(),
        "decoded_payload": {"Bat": 3.256, "Distance": "1500 mm", "TempC_DS18B20": "25.00"},
        "rx_metadata": [
            {"gateway_ids": {"gateway_id": "gw-north"}, "rssi": -118, "snr": -9.25},
            {"gateway_ids": {"gateway_id": "gw-gate"}, "rssi": -101, "snr": 4},
        ],
        "version_ids": {"brand_id": "dragino", "model_id": "ldds75", "band_id": "EU_863_870"},
        "received_at": "2025-01-05T09:30:00.201000000Z",
    },
}
TTS_LDDS75_TOPIC = "v3/containers@ttn/devices/bin-12/up"
TTS_LDDS75_EXPECTED = {
    "source": "tts",
    "device_eui": "a84041000181c61e",
    "fcnt": 815,
    "fport": 2,
    "time": datetime(2025, 1, 5, 9, 30, 0, 201000, tzinfo=UTC),
    "payload": bytes.fromhex("0cb805dc0000fa01"),
    "rssi": -101.0,
    "snr": 4.0,
    "model_hint": "ldds75",
    "device_name": "bin-12",
}

# constructed: our native shape (envelopes module docstring), values already decoded.
NATIVE_TOPIC = "landfill/v1/kant/sensor/bin-33-sensor/up"
NATIVE_UP = {
    "device": "bin-33-sensor",
    "model": "EM310-UDL",
    "ts": "2025-01-05T08:00:00+06:00",
    "fcnt": 12,
    "distance_mm": 812,
    "temp_c": -4.5,
    "battery_pct": 87,
    "tilt": False,
    "lid_open": True,
    "fire": False,
    "rssi": -97,
    "snr": 7.5,
    "firmware": "ignored: unknown keys are allowed",
}
NATIVE_EXPECTED = {
    "source": "native",
    "device_eui": "bin-33-sensor",
    "fcnt": 12,
    "fport": None,
    "time": datetime(2025, 1, 5, 2, 0, 0, tzinfo=UTC),
    "payload": b"",
    "rssi": -97.0,
    "snr": 7.5,
    "model_hint": "EM310-UDL",
}
NATIVE_UPLINK = Uplink(
    distance_mm=812, temp_c=-4.5, battery_pct=87.0, tilt=False, lid_open=True, fire=False
)

#: (topic, body, expected envelope fields) for every full envelope above.
ENVELOPES: tuple[tuple[str, object, dict[str, object]], ...] = (
    (CHIRPSTACK_TOPIC, CHIRPSTACK_DOCS_UP, CHIRPSTACK_DOCS_EXPECTED),
    (CHIRPSTACK_EM310_TOPIC, CHIRPSTACK_EM310_UP, CHIRPSTACK_EM310_EXPECTED),
    (TTS_TOPIC, TTS_DOCS_UP, TTS_DOCS_EXPECTED),
    (TTS_LDDS75_TOPIC, TTS_LDDS75_UP, TTS_LDDS75_EXPECTED),
    (NATIVE_TOPIC, NATIVE_UP, NATIVE_EXPECTED),
)
