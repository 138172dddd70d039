"""Uplink envelopes from ChirpStack v4, The Things Stack v3 and our own native JSON.

Topics (``topic_source``)::

    application/{app}/device/{devEui}/event/up     ChirpStack v4 (other events: None)
    v3/{app}[@{tenant}]/devices/{device_id}/up     The Things Stack v3
    landfill/v1/{site}/sensor/{device}/up          native

Fields taken (reference fill-sensors.md 1.2-1.4)::

    field        ChirpStack v4                  TTS v3                                  native
    device_eui   deviceInfo.devEui              end_device_ids.dev_eui                  device
    fcnt         fCnt (absent: 0)               uplink_message.f_cnt (absent: 0)        fcnt
    fport        fPort (absent: None)           uplink_message.f_port (absent: None)    fport
    payload      data (base64)                  uplink_message.frm_payload (base64)     data
    time         rxInfo[].gwTime (GNSS),        rx_metadata[].gps_time,                 ts
                 rxInfo[].nsTime, time          uplink_message.received_at, received_at
    rssi / snr   max over rxInfo[]              max over uplink_message.rx_metadata[]   rssi / snr
    model_hint   deviceInfo.tags.model,         uplink_message.version_ids.model_id     model
                 deviceInfo.deviceProfileName
    decoded      object                         uplink_message.decoded_payload          values

Native JSON, for devices or bridges that decode on their own (all but ``device`` and ``ts``
optional; unknown keys ignored; values already in our units, ``null`` = no value)::

    {"device": "bin-07-sensor", "model": "EM310-UDL", "ts": "2025-01-05T08:00:00Z",
     "fcnt": 12, "fport": 85, "data": "<base64 raw payload, decoded with the model>",
     "distance_mm": 812, "temp_c": -4.5, "battery_pct": 87, "battery_v": 3.6,
     "tilt": false, "lid_open": false, "fire": false, "rssi": -97, "snr": 7.5}

Time: the gateway's GNSS time is the most exact, but a gateway's clock can be wrong. When it
disagrees with the network server's receive time by more than ``clock_tolerance`` (the time
window ahead, 10 minutes by default), the network server's time is taken and the envelope says
so (``gateway_clock_refused``): the edge counts it and logs it once per device.

Faults: everything malformed raises ``EnvelopeError`` with a short fixed ``reason``
(``invalid_json``, ``not_object``, ``missing_field:<path>``, ``bad_field:<path>``,
``bad_base64``, ``bad_time``, ``unknown_topic``, ``topic_mismatch``). Radio metadata is best
effort: gateway entries or values that are not usable are skipped, not fatal. Device EUIs are
lower-case hex everywhere.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

__all__ = [
    "CLOCK_TOLERANCE",
    "NATIVE_VALUES",
    "Envelope",
    "EnvelopeError",
    "Source",
    "parse",
    "parse_chirpstack",
    "parse_native",
    "parse_tts",
    "topic_device",
    "topic_source",
]

Source = Literal["chirpstack", "tts", "native"]
Json = Mapping[str, object]

_CHIRPSTACK_TOPIC = re.compile(r"^application/[^/]+/device/(?P<dev>[^/]+)/event/up$")
_TTS_TOPIC = re.compile(r"^v3/[^/]+/devices/(?P<dev>[^/]+)/up$")
_NATIVE_TOPIC = re.compile(r"^landfill/v1/[^/]+/sensor/(?P<dev>[^/]+)/up$")
_EUI = re.compile(r"^[0-9a-fA-F]{16}$")
_NATIVE_DEVICE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_FRACTION = re.compile(r"(\.\d{6})\d+")  # protobuf JSON has nanoseconds; datetime keeps micro
CLOCK_TOLERANCE = timedelta(minutes=10)  # LANDFILL_TIME_AHEAD_SECONDS' default

#: Already-decoded value keys of a native envelope and the type each must have.
NATIVE_VALUES: dict[str, type] = {
    "distance_mm": float,
    "temp_c": float,
    "battery_pct": float,
    "battery_v": float,
    "tilt": bool,
    "lid_open": bool,
    "fire": bool,
}


class EnvelopeError(ValueError):
    """An envelope that cannot be used; ``reason`` is short and fixed, for counting."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """One uplink as the network delivered it, before decoding."""

    source: Source
    device_eui: str
    fcnt: int | None
    fport: int | None
    time: datetime  # aware UTC: gateway GNSS or network time, else the envelope's receive time
    payload: bytes
    rssi: float | None = None
    snr: float | None = None
    model_hint: str | None = None
    decoded_object: Mapping[str, Any] | None = field(default=None, hash=False)
    device_name: str | None = None
    gateway_clock_refused: bool = False  # the gateway's time was off; the network's is used


def topic_source(topic: str) -> Source | None:
    """Return which envelope a subscription topic carries, or None for any other topic."""
    if _CHIRPSTACK_TOPIC.match(topic):
        return "chirpstack"
    if _TTS_TOPIC.match(topic):
        return "tts"
    if _NATIVE_TOPIC.match(topic):
        return "native"
    return None


def topic_device(topic: str) -> str | None:
    """Return the device a subscription topic names (EUI or network-server name), or None."""
    for pattern in (_CHIRPSTACK_TOPIC, _TTS_TOPIC, _NATIVE_TOPIC):
        if device := _topic_device(pattern, topic):
            return device
    return None


def parse(
    topic: str, payload: bytes | str, clock_tolerance: timedelta = CLOCK_TOLERANCE
) -> Envelope:
    """Parse an envelope received on ``topic``; the topic's device must match the body's."""
    source = topic_source(topic)
    if source is None:
        raise EnvelopeError("unknown_topic")
    if source == "chirpstack":
        envelope = parse_chirpstack(payload, clock_tolerance)
        same = _topic_device(_CHIRPSTACK_TOPIC, topic).lower() == envelope.device_eui
    elif source == "tts":
        envelope = parse_tts(payload, clock_tolerance)
        same = envelope.device_name in (None, _topic_device(_TTS_TOPIC, topic))
    else:
        envelope = parse_native(payload)
        same = _topic_device(_NATIVE_TOPIC, topic).lower() == envelope.device_eui.lower()
    if not same:
        raise EnvelopeError("topic_mismatch")
    return envelope


def parse_chirpstack(
    payload: bytes | str, clock_tolerance: timedelta = CLOCK_TOLERANCE
) -> Envelope:
    """Parse a ChirpStack v4 ``event/up`` JSON body."""
    doc = _load(payload)
    info = _require_object(doc, "deviceInfo")
    rx = [entry for entry in _list(doc, "rxInfo") if isinstance(entry, Mapping)]
    tags = info.get("tags")
    hint = tags.get("model") if isinstance(tags, Mapping) else None
    time, refused = _observation_time(
        [e.get("gwTime") for e in rx],
        [e.get("nsTime") for e in rx] + [doc.get("time")],
        clock_tolerance,
    )
    return Envelope(
        source="chirpstack",
        device_eui=_eui(info, "devEui", "deviceInfo.devEui"),
        fcnt=_count(doc, "fCnt", default=0),
        fport=_port(doc, "fPort"),
        time=time,
        gateway_clock_refused=refused,
        payload=_base64(doc, "data"),
        rssi=_radio(_best(e.get("rssi") for e in rx), RSSI_DBM),
        snr=_radio(_best(e.get("snr") for e in rx), SNR_DB),
        model_hint=_text(hint) or _text(info.get("deviceProfileName")),
        decoded_object=_object_or_none(doc.get("object")),
        device_name=_text(info.get("deviceName")),
    )


def parse_tts(payload: bytes | str, clock_tolerance: timedelta = CLOCK_TOLERANCE) -> Envelope:
    """Parse a The Things Stack v3 ``up`` JSON body."""
    doc = _load(payload)
    ids = _require_object(doc, "end_device_ids")
    up = _require_object(doc, "uplink_message")
    rx = [entry for entry in _list(up, "rx_metadata") if isinstance(entry, Mapping)]
    version = up.get("version_ids")
    hint = version.get("model_id") if isinstance(version, Mapping) else None
    time, refused = _observation_time(
        [e.get("gps_time") for e in rx],
        [up.get("received_at"), doc.get("received_at")],
        clock_tolerance,
    )
    return Envelope(
        source="tts",
        device_eui=_eui(ids, "dev_eui", "end_device_ids.dev_eui"),
        fcnt=_count(up, "f_cnt", default=0, path="uplink_message.f_cnt"),
        fport=_port(up, "f_port", path="uplink_message.f_port"),
        time=time,
        gateway_clock_refused=refused,
        payload=_base64(up, "frm_payload"),
        rssi=_radio(_best(e.get("rssi") for e in rx), RSSI_DBM),
        snr=_radio(_best(e.get("snr") for e in rx), SNR_DB),
        model_hint=_text(hint),
        decoded_object=_object_or_none(up.get("decoded_payload")),
        device_name=_text(ids.get("device_id")),
    )


def parse_native(payload: bytes | str) -> Envelope:
    """Parse our own native JSON (shape in the module docstring)."""
    doc = _load(payload)
    device = doc.get("device")
    if device is None:
        raise EnvelopeError("missing_field:device")
    if not isinstance(device, str) or not _NATIVE_DEVICE.match(device):
        raise EnvelopeError("bad_field:device")
    if "ts" not in doc:
        raise EnvelopeError("missing_field:ts")
    values = {key: _native_value(doc, key, kind) for key, kind in NATIVE_VALUES.items()}
    model = doc.get("model")
    if not isinstance(model, str | None):
        raise EnvelopeError("bad_field:model")
    return Envelope(
        source="native",
        device_eui=device.lower() if _EUI.match(device) else device,
        fcnt=_count(doc, "fcnt", default=None),
        fport=_port(doc, "fport"),
        time=_first_time([doc["ts"]]),
        payload=_base64(doc, "data"),
        rssi=_radio(_native_number(doc, "rssi"), RSSI_DBM),
        snr=_radio(_native_number(doc, "snr"), SNR_DB),
        model_hint=model or None,
        decoded_object={k: v for k, v in values.items() if k in doc},
    )


# --- field helpers ------------------------------------------------------------------------


def _load(payload: bytes | str) -> Json:
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, over-deep nesting
        raise EnvelopeError("invalid_json") from None
    if not isinstance(doc, dict):
        raise EnvelopeError("not_object")
    return doc


def _topic_device(pattern: re.Pattern[str], topic: str) -> str:
    match = pattern.match(topic)
    return match["dev"] if match else ""


def _require_object(doc: Json, key: str) -> Json:
    value = doc.get(key)
    if value is None:
        raise EnvelopeError(f"missing_field:{key}")
    if not isinstance(value, Mapping):
        raise EnvelopeError(f"bad_field:{key}")
    return value


def _object_or_none(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, dict) else None


def _list(doc: Json, key: str) -> list[object]:
    value = doc.get(key)
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _eui(doc: Json, key: str, path: str) -> str:
    value = doc.get(key)
    if value is None:
        raise EnvelopeError(f"missing_field:{path}")
    if not isinstance(value, str) or not _EUI.match(value):
        raise EnvelopeError(f"bad_field:{path}")
    return value.lower()


def _count(doc: Json, key: str, *, default: int | None, path: str = "") -> int | None:
    value = doc.get(key)
    if value is None:
        return default  # protobuf JSON and TTS leave zero out
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise EnvelopeError(f"bad_field:{path or key}")
    return value


def _port(doc: Json, key: str, *, path: str = "") -> int | None:
    value = doc.get(key)
    if value is None:
        return None  # absent port: unknown, decoders judge by the payload
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
        raise EnvelopeError(f"bad_field:{path or key}")
    return value


def _base64(doc: Json, key: str) -> bytes:
    value = doc.get(key)
    if value is None:
        return b""  # an uplink without application payload
    if not isinstance(value, str):
        raise EnvelopeError(f"bad_field:{key}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError("bad_base64") from None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = _FRACTION.sub(r"\1", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            return None  # a time without zone is not UTC, whatever it meant
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _first_time(candidates: Iterable[object]) -> datetime:
    present = [c for c in candidates if c is not None]
    if not present:
        raise EnvelopeError("missing_field:time")
    # Candidates come in order of trust (GNSS gateway time, network time, receive time); a
    # malformed optional one is passed over, only a message with no usable time is rejected.
    for value in present:
        parsed = _time(value)
        if parsed is not None:
            return parsed
    raise EnvelopeError("bad_time")


def _observation_time(
    gateway: list[object], network: list[object], tolerance: timedelta
) -> tuple[datetime, bool]:
    """The gateway's time unless the network server's disagrees by more than ``tolerance``.

    Returns the time and whether a gateway time was refused for it.
    """
    chosen = _first_time(gateway + network)
    received = next((t for t in map(_time, network) if t is not None), None)
    if received is not None and abs(chosen - received) > tolerance:
        return received, True
    return chosen, False


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


RSSI_DBM = (-200.0, 50.0)  # the contract's range; a gateway's value outside it is noise
SNR_DB = (-50.0, 50.0)


def _radio(value: float | None, bounds: tuple[float, float]) -> float | None:
    """Radio metadata outside its physical range is no value (the reading itself still counts)."""
    return value if value is not None and bounds[0] <= value <= bounds[1] else None


def _best(values: Iterable[object]) -> float | None:
    numbers = [n for n in (_number(v) for v in values) if n is not None]
    return max(numbers) if numbers else None


def _native_number(doc: Json, key: str) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    number = _number(value)
    if number is None:
        raise EnvelopeError(f"bad_field:{key}")
    return number


def _native_value(doc: Json, key: str, kind: type) -> float | bool | None:
    value = doc.get(key)
    if value is None:
        return None
    if kind is bool:
        if not isinstance(value, bool):
            raise EnvelopeError(f"bad_field:{key}")
        return value
    number = _native_number(doc, key)
    negative = number is not None and number < 0 and key != "temp_c"
    over_full = number is not None and key == "battery_pct" and number > 100
    if negative or over_full:
        raise EnvelopeError(f"bad_field:{key}")
    return number
