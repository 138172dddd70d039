"""What every scale protocol decodes to, and the shape of a protocol class.

A protocol is one small class with ``decode(buffer) -> (used, result)``: ``used`` is how many
bytes of ``buffer`` it consumed (0 means "need more bytes"), ``result`` is a ``Reading``, a
``Noise`` (bytes skipped or a frame rejected, with the reason) or ``None``. Decoders are pure:
no I/O, no settings, and they never raise on line noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Literal

Unit = Literal["kg", "t", "lb", "g"]

_TO_KG: dict[str, Decimal] = {
    "kg": Decimal(1),
    "t": Decimal(1000),
    "g": Decimal("0.001"),
    "lb": Decimal("0.45359237"),
}


@dataclass(frozen=True, slots=True)
class Reading:
    """One weight as the indicator reported it, with whatever flags the protocol carries."""

    weight: Decimal
    unit: Unit = "kg"
    stable: bool | None = None  # None: the protocol has no motion/stable flag
    overload: bool = False
    underload: bool = False
    net: bool = False
    tare: Decimal | None = None
    raw: bytes = field(default=b"", compare=False)

    @property
    def weight_kg(self) -> Decimal:
        """The weight converted to kilograms (exact Decimal, not rounded)."""
        return self.weight * _TO_KG[self.unit]


NoiseReason = Literal["garbage", "checksum", "format", "truncated"]


@dataclass(frozen=True, slots=True)
class Noise:
    """Bytes a decoder skipped or a frame it rejected; counted by reason, never raised."""

    reason: NoiseReason
    raw: bytes


Decoded = Reading | Noise | None


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """Line settings a protocol usually runs at (the indicator menu can change them)."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: int = 1


class ScaleProtocol:
    """Base of a scale protocol: decode bytes, encode readings (for the simulator), poll."""

    name: ClassVar[str]
    serial: ClassVar[SerialSettings] = SerialSettings()
    has_stable_flag: ClassVar[bool] = False
    #: bytes to send to get one reading; None for protocols that stream by themselves
    poll: ClassVar[bytes | None] = None

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode from the start of ``buffer``; see the module docstring."""
        raise NotImplementedError

    def encode(self, reading: Reading) -> bytes:
        """Encode a reading as the indicator would send it (the simulator uses this)."""
        raise NotImplementedError

    def answer(self, request: bytes, reading: Reading) -> tuple[int, bytes]:
        """For polled protocols: consume a host request, return (used, reply bytes)."""
        raise NotImplementedError


def xor_ascii_hex(data: bytes) -> bytes:
    """XOR of ``data`` as two uppercase ASCII hex digits (Yaohua/Keli rule)."""
    x = 0
    for b in data:
        x ^= b
    return b"%02X" % x


def skip_to(buffer: bytes, start: bytes | tuple[bytes, ...]) -> tuple[int, Decoded]:
    """Skip garbage up to the next start marker (or keep a short tail that may begin one)."""
    starts = (start,) if isinstance(start, bytes) else start
    positions = [p for p in (buffer.find(s, 1) for s in starts) if p > 0]
    if positions:
        cut = min(positions)
        return cut, Noise("garbage", buffer[:cut])
    # no further start marker: drop all but the last byte(s) that might begin one
    keep = max(len(s) for s in starts) - 1
    cut = max(len(buffer) - keep, 1)
    return cut, Noise("garbage", buffer[:cut])
