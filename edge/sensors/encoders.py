"""Device bytes from values: the inverse of the decoders in ``models``, for simulators and tests.

Milesight EM310-UDL / EM400-UDL (little-endian channel records)::

    01 75 <battery %>   03 82 <distance u16 LE>   04 00 <tilt 0/1>            EM310-UDL
    01 75 <battery %>   03 67 <temp s16 LE /10>   04 82 <distance>  05 00 <tilt>   EM400-UDL

Dragino LDDS75 (fPort 2, big-endian)::

    | battery mV u16 | distance mm u16 | interrupt | DS18B20 s16 /10 | probe 01 |

Encoders write raw device numbers, sentinels included (distance 0 or 20 is what a confused
sensor really sends), so a simulator can exercise the sentinel rules. Values outside what the
frame can carry raise ValueError: that is a bug in the caller, not line noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ENCODERS", "DeviceValues", "encode", "encode_em310", "encode_em400", "encode_ldds75"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceValues:
    """What a device measured, in the units its frame carries (no sentinel handling)."""

    distance_mm: int
    battery_pct: int | None = None  # Milesight
    battery_v: float | None = None  # Dragino
    temp_c: float | None = None  # EM400 built-in, Dragino DS18B20 probe
    tilt: bool = False  # Milesight position channel
    interrupt: bool = False  # Dragino interrupt pin


def _u16(value: int, order: str) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{value} does not fit in 16 bits")
    return value.to_bytes(2, order)  # type: ignore[arg-type]


def _deci(value: float, order: str) -> bytes:
    raw = round(value * 10)
    if not -0x8000 <= raw <= 0x7FFF:
        raise ValueError(f"{value} does not fit in a signed 16-bit tenth")
    return raw.to_bytes(2, order, signed=True)  # type: ignore[arg-type]


def _battery(values: DeviceValues) -> bytes:
    pct = 100 if values.battery_pct is None else values.battery_pct
    if not 0 <= pct <= 255:
        raise ValueError(f"battery {pct} % does not fit in a byte")
    return bytes([0x01, 0x75, pct])


def encode_em310(values: DeviceValues) -> bytes:
    """EM310-UDL uplink: battery, distance, position."""
    return (
        _battery(values)
        + bytes([0x03, 0x82])
        + _u16(values.distance_mm, "little")
        + bytes([0x04, 0x00, int(values.tilt)])
    )


def encode_em400(values: DeviceValues) -> bytes:
    """EM400-UDL / EM400-MUD uplink: battery, temperature, distance, position."""
    temp = b"" if values.temp_c is None else bytes([0x03, 0x67]) + _deci(values.temp_c, "little")
    return (
        _battery(values)
        + temp
        + bytes([0x04, 0x82])
        + _u16(values.distance_mm, "little")
        + bytes([0x05, 0x00, int(values.tilt)])
    )


def encode_ldds75(values: DeviceValues) -> bytes:
    """LDDS75 / LDDS20 fPort 2 frame; no temperature means the 5-byte frame of old firmware."""
    volts = 3.6 if values.battery_v is None else values.battery_v
    millivolts = round(volts * 1000)
    if not 0 <= millivolts <= 0x3FFF:
        raise ValueError(f"battery {volts} V does not fit in 14 bits")
    head = _u16(millivolts, "big") + _u16(values.distance_mm, "big") + bytes([values.interrupt])
    if values.temp_c is None:
        return head
    return head + _deci(values.temp_c, "big") + b"\x01"


ENCODERS: dict[str, tuple[Callable[[DeviceValues], bytes], int]] = {
    "EM310-UDL": (encode_em310, 85),
    "EM400-UDL": (encode_em400, 85),
    "EM400-MUD": (encode_em400, 85),
    "LDDS75": (encode_ldds75, 2),
    "LDDS20": (encode_ldds75, 2),
}


def encode(model: str, values: DeviceValues) -> tuple[int, bytes]:
    """Return (fPort, payload) a device of ``model`` sends for ``values``."""
    encoder, fport = ENCODERS[model]
    return fport, encoder(values)
