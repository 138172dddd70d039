"""Fill-sensor models: one table entry per device, each with a small pure decoder.

Milesight EM310-UDL, EM400-UDL, EM400-MUD send a run of little-endian channel records::

    +----+------+-----------+----+------+-----------+
    | id | type | value ... | id | type | value ... |   value size follows from the type
    +----+------+-----------+----+------+-----------+
    01 75 5C           battery 92 %
    03 82 44 08        distance 0x0844 = 2116 mm        (EM400: channel 04)
    04 00 01           position 1 = tilt                (EM400: channel 05)
    03 67 01 01        temperature 0x0101 / 10 = 25.7 C (EM400 only)
    83 67 E8 00 01     temperature + alarm byte         (id | 0x80: one extra alarm byte)
    FF 0A 01 01        system record: firmware v1.1     (FF/FE: info and downlink answers)

Dragino LDDS75 / LDDS20 send a fixed big-endian frame on fPort 2::

    | 0-1 battery mV & 0x3FFF | 2-3 distance mm | 4 interrupt | 5-6 DS18B20 int16/10 C | 7 probe |
    0C B8  05 DC  00  00 FA  01  ->  3.256 V, 1500 mm, no interrupt, 25.0 C, probe present
    (old LDDS75 firmware sends only bytes 0-4)

Faults survived, never raised: short or cut records, unknown channel types (decoding stops
there and keeps what came before; ``extra["unparsed_from"]`` says where), unknown channels with
a known type (skipped by size), wrong fPort or length (``None``). Sentinels become ``None``
and are named in ``Uplink.sentinels``: Dragino distance 0 (no sensor), <= 20 (invalid reading),
sensor flag 0, battery 0 mV, DS18B20 0x0000 / 0x8000 (probe unreadable); Milesight distance 0
and battery > 100 %; any frame whose numbers are all zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from landfill.sensor_models import model_names

__all__ = [
    "MODELS",
    "Decode",
    "SensorModel",
    "Uplink",
    "find_model",
    "model_for_hint",
    "model_named",
    "uplink_from_values",
]

Extra = str | int | float | bool
Raw = int | float | bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Uplink:
    """Normalised values of one uplink; ``None`` means the device sent no usable value."""

    distance_mm: int | None = None
    temp_c: float | None = None
    battery_pct: float | None = None
    battery_v: float | None = None
    tilt: bool | None = None
    lid_open: bool | None = None
    fire: bool | None = None
    alarms: tuple[str, ...] = ()  # device-side alarms raised in this uplink: distance, temperature
    sentinels: tuple[str, ...] = ()  # "field:why" for every value dropped as a sentinel
    extra: Mapping[str, Extra] = field(default_factory=dict, hash=False)


Decode = Callable[[int | None, bytes], Uplink | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SensorModel:
    """One device model: how to recognise it and how to decode its uplinks."""

    name: str
    vendor: str
    match: tuple[str, ...]  # lower-case alphanumeric tokens found in profile names / model ids
    decode: Decode  # (fport or None when unknown, payload) -> Uplink, or None for no reading
    sample: str  # hex of a recorded payload (vendor README), replayed by tests and simulators
    fport: int | None = None  # the only port the decoder accepts; None: any
    mount: Literal["top", "bottom"] = "top"  # bottom: measures content height, not the gap


# --- units and scales: the only place byte order and scale factors live ---------------------


def _u16le(b: bytes) -> int:
    return int.from_bytes(b[:2], "little")


def _u16be(b: bytes) -> int:
    return int.from_bytes(b[:2], "big")


def _deci_s16le(b: bytes) -> float:
    return round(int.from_bytes(b[:2], "little", signed=True) / 10, 1)


def _deci_s16be(b: bytes) -> float:
    return round(int.from_bytes(b[:2], "big", signed=True) / 10, 1)


def _pct(b: bytes) -> float:
    return float(b[0])


def _flag(b: bytes) -> bool | None:
    return {0: False, 1: True}.get(b[0])


def _milli(value: int) -> float:
    return round(value / 1000, 3)


# --- sentinels -----------------------------------------------------------------------------

Rule = tuple[str, Callable[[float], bool], str]  # field, is-sentinel test, reason
_NUMERIC = ("distance_mm", "temp_c", "battery_pct", "battery_v")


def _finish(
    raw: dict[str, Raw],
    rules: Sequence[Rule],
    *,
    alarms: Sequence[str] = (),
    sentinels: Sequence[str] = (),
    extra: Mapping[str, Extra] | None = None,
) -> Uplink | None:
    """Turn raw values into an Uplink, dropping sentinels; None when nothing was measured."""
    if not raw and not sentinels:
        return None
    dropped = list(sentinels)
    numbers = [raw[k] for k in _NUMERIC if raw.get(k) is not None]
    if numbers and all(v == 0 for v in numbers):
        dropped.append("all_zero")
        raw = {k: v for k, v in raw.items() if k not in _NUMERIC}
    for name, is_sentinel, why in rules:
        value = raw.get(name)
        if value is not None and is_sentinel(value):
            raw[name] = None
            dropped.append(f"{name}:{why}")
    distance = raw.get("distance_mm")
    return Uplink(
        distance_mm=None if distance is None else round(distance),
        temp_c=_float(raw.get("temp_c")),
        battery_pct=_float(raw.get("battery_pct")),
        battery_v=_float(raw.get("battery_v")),
        tilt=_bool(raw.get("tilt")),
        lid_open=_bool(raw.get("lid_open")),
        fire=_bool(raw.get("fire")),
        alarms=tuple(alarms),
        sentinels=tuple(dropped),
        extra=dict(extra or {}),
    )


def _float(value: Raw) -> float | None:
    return None if value is None else float(value)


def _bool(value: Raw) -> bool | None:
    return value if isinstance(value, bool) else None


# --- Milesight channel records --------------------------------------------------------------

Channel = tuple[str, Callable[[bytes], Raw]]  # uplink field, reader of the value bytes

# Value size by channel type (IPSO-style types the EM decoders use; 0x88 is NB-IoT location).
_TYPE_SIZES = {0x00: 1, 0x67: 2, 0x68: 1, 0x75: 1, 0x82: 2, 0x88: 9}
# Channel FF/FE: device information and answers to downlinks, from the vendor decoders.
_SYSTEM_SIZES = {
    0x01: 1, 0x02: 2, 0x03: 2, 0x06: 9, 0x09: 2, 0x0A: 2, 0x0B: 1, 0x0F: 1, 0x10: 1,
    0x13: 1, 0x16: 8, 0x1C: 2, 0x28: 1, 0x3E: 1, 0x4A: 1, 0x56: 1, 0x70: 2, 0x71: 1,
    0x77: 2, 0xFE: 1, 0xFF: 2,
}  # fmt: skip
_ALARM_NAMES = {"temp_c": "temperature", "distance_mm": "distance"}
_MILESIGHT_RULES: tuple[Rule, ...] = (
    ("distance_mm", lambda v: v == 0, "no_echo"),
    ("battery_pct", lambda v: v > 100, "out_of_range"),
)


def _record_size(cid: int, ctype: int) -> int | None:
    if cid in (0xFE, 0xFF):
        return _SYSTEM_SIZES.get(ctype)
    size = _TYPE_SIZES.get(ctype)
    # Channels with the top bit set carry one alarm byte after the value (83 67, 84 82).
    return None if size is None else size + (cid >> 7)


def _system_info(ctype: int, value: bytes, extra: dict[str, Extra]) -> None:
    if ctype == 0x16:
        extra["sn"] = value.hex()
    elif ctype == 0x0A:
        extra["firmware"] = f"v{value[0]}.{value[1]}"
    elif ctype == 0x09:
        extra["hardware"] = f"v{value[0]}.{value[1] >> 4}"
    elif ctype == 0x0B:
        extra["power_on"] = True
    elif ctype == 0xFE:
        extra["reset"] = True


def _milesight(channels: Mapping[tuple[int, int], Channel]) -> Decode:
    # Every port: the vendor decoders ignore it too.
    def decode(fport: int | None, payload: bytes) -> Uplink | None:  # noqa: ARG001
        raw: dict[str, Raw] = {}
        alarms: list[str] = []
        extra: dict[str, Extra] = {}
        i = 0
        while i < len(payload):
            size = _record_size(*payload[i : i + 2]) if i + 2 <= len(payload) else None
            if size is None or i + 2 + size > len(payload):
                extra["unparsed_from"] = i  # unknown type or cut short: the rest has no lengths
                break
            cid, ctype, value = payload[i], payload[i + 1], payload[i + 2 : i + 2 + size]
            i += 2 + size
            if (cid, ctype) in channels:
                name, read = channels[cid, ctype]
                raw[name] = read(value)
                if cid & 0x80 and value[-1] == 1:
                    alarms.append(_ALARM_NAMES.get(name, name))
            elif cid == 0xFF:
                _system_info(ctype, value, extra)
        return _finish(raw, _MILESIGHT_RULES, alarms=alarms, extra=extra)

    return decode


_EM310: dict[tuple[int, int], Channel] = {
    (0x01, 0x75): ("battery_pct", _pct),
    (0x03, 0x82): ("distance_mm", _u16le),
    (0x04, 0x00): ("tilt", _flag),
}
_EM400: dict[tuple[int, int], Channel] = {
    (0x01, 0x75): ("battery_pct", _pct),
    (0x03, 0x67): ("temp_c", _deci_s16le),
    (0x04, 0x82): ("distance_mm", _u16le),
    (0x05, 0x00): ("tilt", _flag),
    (0x83, 0x67): ("temp_c", _deci_s16le),  # temperature threshold alarm (user-configured)
    (0x84, 0x82): ("distance_mm", _u16le),  # distance threshold alarm
}

# --- Dragino fixed frames ---------------------------------------------------------------------

_DRAGINO_RULES: tuple[Rule, ...] = (
    ("distance_mm", lambda v: v == 0, "no_sensor"),
    ("distance_mm", lambda v: v <= 20, "invalid_reading"),  # 20 on LDDS20, < 20 on old LDDS75
    ("battery_v", lambda v: v == 0, "no_value"),
    ("temp_c", lambda v: v in (0, -3276.8), "no_probe"),  # unreadable DS18B20 sends 0x0000
)


def _dragino(port: int) -> Decode:
    def decode(fport: int | None, payload: bytes) -> Uplink | None:
        if fport not in (None, port) or len(payload) not in (5, 8):
            return None  # datalog / status ports, or not this device's frame
        raw: dict[str, Raw] = {
            "battery_v": _milli(_u16be(payload[0:2]) & 0x3FFF),
            "distance_mm": _u16be(payload[2:4]),
        }
        dropped: list[str] = []
        if len(payload) == 8:
            raw["temp_c"] = _deci_s16be(payload[5:7])
            if payload[7] == 0 and raw["distance_mm"] != 0:  # no ultrasonic probe detected
                raw["distance_mm"] = None
                dropped.append("distance_mm:no_sensor")
        interrupt = {"interrupt": bool(payload[4] & 0x01)}
        return _finish(raw, _DRAGINO_RULES, sentinels=dropped, extra=interrupt)

    return decode


# --- the table -------------------------------------------------------------------------------

MODELS: tuple[SensorModel, ...] = (
    SensorModel(
        name="EM310-UDL",
        vendor="Milesight",
        match=("em310udl",),
        decode=_milesight(_EM310),
        sample="01755c03824408040001",  # Milesight SensorDecoders EM310-UDL/README.md
    ),
    SensorModel(
        name="EM400-UDL",
        vendor="Milesight",
        match=("em400udl",),
        decode=_milesight(_EM400),
        sample="01755c0367010104824408050001",  # Milesight SensorDecoders EM400-UDL/README.md
    ),
    SensorModel(
        name="EM400-MUD",
        vendor="Milesight",
        match=("em400mud",),
        decode=_milesight(_EM400),
        sample="8367e800018482410601",  # Milesight SensorDecoders EM400-MUD/README.md
    ),
    SensorModel(
        name="LDDS75",
        vendor="Dragino",
        match=("ldds75", "dds75lb"),  # DDS75-LB shares the fPort 2 layout
        decode=_dragino(2),
        sample="0cb805dc0000fa01",  # worked example, reference fill-sensors.md 1.5
        fport=2,  # measures 280-7500 mm (vendor datasheet)
    ),
    SensorModel(
        name="LDDS20",
        vendor="Dragino",
        match=("ldds20",),
        decode=_dragino(2),
        sample="0cb805dc0000fa01",  # same layout (dragino LDDS20_Decoder_V1.1.4.js)
        fport=2,
        mount="bottom",  # sits under the tank and measures the liquid height through the floor
        # measures 20-2000 mm (vendor datasheet)
    ),
)


def _same_as_landfill() -> None:
    """The table decodes exactly the models `landfill.sensor_models` offers (the API's choice)."""
    ours, listed = sorted(m.name for m in MODELS), sorted(model_names())
    if ours != listed:
        raise RuntimeError(f"edge decoders {ours} differ from landfill.sensor_models {listed}")


_same_as_landfill()


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def model_named(name: str) -> SensorModel | None:
    """Return the model with this name (case, dashes and a vendor prefix ignored), or None."""
    key = _key(name)
    return next((m for m in MODELS if key in (_key(m.name), _key(m.vendor + m.name))), None)


def model_for_hint(hint: str) -> SensorModel | None:
    """Return the one model whose token occurs in a profile name or model id, or None."""
    key = _key(hint)
    found = {m.name: m for m in MODELS for token in m.match if token in key}
    return next(iter(found.values())) if len(found) == 1 else None


def find_model(name: str | None = None, *, hint: str | None = None) -> SensorModel | None:
    """Pick a model by explicit name (the registry's word wins), else by envelope hint."""
    if name:
        return model_named(name)
    return model_for_hint(hint) if hint else None


_VALUE_FIELDS = ("distance_mm", "temp_c", "battery_pct", "battery_v", "tilt", "lid_open", "fire")
_VALUE_RULES: tuple[Rule, ...] = (("distance_mm", lambda v: v <= 0, "no_value"),)


def uplink_from_values(values: Mapping[str, float | bool | None]) -> Uplink | None:
    """Build an Uplink from already-decoded values (native JSON), with the same sentinel rules."""
    raw: dict[str, Raw] = {k: values[k] for k in _VALUE_FIELDS if k in values}
    return _finish(raw, _VALUE_RULES)
