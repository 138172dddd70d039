"""What every scale protocol decodes to, and the shape of a protocol class.

A protocol is one small class with ``decode(buffer) -> (used, result)``: ``used`` is how many
bytes of ``buffer`` it consumed (0 means "need more bytes"), ``result`` is a ``Reading``, a
``Noise`` (bytes skipped or a frame rejected, with the reason) or ``None``. ``None`` with
``used > 0`` is a valid frame that carries no platform weight (a tare line, a "busy" reply, our
own poll echoed back by an RS-485 adapter): consumed, neither counted as noise nor weighed.
Decoders are pure: no I/O, no settings, and they never raise on line noise. The helpers at the
bottom (``skip_to``, ``sync``, ``cut_line`` for framing; ``parse_decimal``, ``parse_unit``,
``plain``, ``decimals_of`` for text fields) are shared by the protocols in ``protocols/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Literal, get_args

Unit = Literal["kg", "t", "lb", "g", "oz"]

_TO_KG: dict[str, Decimal] = {
    "kg": Decimal(1),
    "t": Decimal(1000),
    "g": Decimal("0.001"),
    "lb": Decimal("0.45359237"),  # international pound, exact
    "oz": Decimal("0.028349523125"),  # avoirdupois ounce, exact (KERN examples send oz)
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
    #: bytes to send to get one reading; None for protocols that stream by themselves.
    #: A plain attribute, not a ClassVar: protocols with a device address set it per instance.
    poll: bytes | None = None

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


def sync(buffer: bytes, start: bytes | tuple[bytes, ...]) -> tuple[int, Decoded] | None:
    """None if ``buffer`` begins with a start marker, else what to do: wait or skip garbage.

    Waits (``(0, None)``) while the whole buffer is a proper prefix of a start marker.
    """
    starts = (start,) if isinstance(start, bytes) else start
    if buffer.startswith(starts):
        return None
    if any(len(buffer) < len(s) and s.startswith(buffer) for s in starts):
        return 0, None
    return skip_to(buffer, starts)


_NUMBER = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_decimal(text: bytes) -> Decimal | None:
    """A plain ASCII number (optional sign, digits, at most one point) or None; never raises."""
    if _NUMBER.fullmatch(text) is None:
        return None
    return Decimal(text.decode("ascii"))


UNITS: tuple[Unit, ...] = get_args(Unit)


def parse_unit(text: bytes) -> Unit | None:
    """A unit as indicators print it (any case, padded with spaces) or None."""
    word = text.strip(b" ").lower().decode("ascii", "replace")
    for unit in UNITS:
        if unit == word:
            return unit
    return None


def plain(value: Decimal) -> str:
    """``abs(value)`` as digits with its own decimal places, never in exponent notation."""
    return f"{abs(value):f}"


def decimals_of(value: Decimal) -> int:
    """How many decimal places ``value`` carries (0 for integers and positive exponents)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def cut_line(
    buffer: bytes, start: tuple[bytes, ...], max_len: int, end: bytes = b"\n"
) -> tuple[int, bytes | Noise | None]:
    """Cut one text line that begins with a start marker and ends with ``end`` (inclusive).

    Returns ``(used, line)``, ``(used, Noise)`` for skipped garbage or an over-long line, or
    ``(0, None)`` while more bytes are needed.
    """
    synced = sync(buffer, start)
    if synced is not None:
        used, result = synced
        return used, result if isinstance(result, Noise) else None
    stop = buffer.find(end, 1, max_len)
    if stop < 0:
        if len(buffer) < max_len:
            return 0, None
        return reject_line(buffer[:max_len], start)
    return stop + 1, buffer[: stop + 1]


def reject_line(line: bytes, start: tuple[bytes, ...]) -> tuple[int, Noise]:
    """A line that does not parse: "truncated" up to a start marker inside it, else "format"."""
    positions = [p for p in (line.find(s, 1) for s in start) if p > 0]
    if positions:
        cut = min(positions)
        return cut, Noise("truncated", line[:cut])
    return len(line), Noise("format", line)
