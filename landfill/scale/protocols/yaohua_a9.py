"""Yaohua XK3190-A9/A9+/DS1/DS3/A26 continuous output "format 0" (tF=0).

    STX  sign  d d d d d d  dp  XOR-hi XOR-lo  ETX      12 bytes
    02   +/-   weight, MSB first, no point   0-4   ASCII hex   03

The XOR covers bytes 2..9 (sign, digits, decimal count), written as two uppercase hex digits.
The frame has no stable, motion, net or overload flag: stability is computed in software, and
the weight is whatever the display shows (gross or net), taken as kg. Public scripts that read
the last two characters as a "status letter" are wrong (weighbridge.md 1.1): they are the XOR.

Survives: garbage between frames (resync on STX), a frame cut short by the next STX
("truncated"), a missing ETX or non-digit bytes ("format"), a wrong checksum ("checksum"), a
frame split over any number of reads.
"""

from __future__ import annotations

from decimal import Decimal

from landfill.scale.frames import Decoded, Noise, Reading, ScaleProtocol, skip_to, xor_ascii_hex

STX, ETX = b"\x02", b"\x03"
FRAME_LEN = 12
MAX_DECIMALS = 4


def parse_weight_body(body: bytes) -> Decimal | None:
    """``sign + 6 digits + decimal count`` (8 bytes, shared with command mode) or None."""
    sign, digits, dp = body[:1], body[1:7], body[7:8]
    if len(body) != 8 or sign not in (b"+", b"-") or not digits.isdigit():
        return None
    if len(dp) != 1 or not b"0" <= dp <= b"4":
        return None
    value = Decimal(int(digits)).scaleb(-int(dp))
    return -value if sign == b"-" else value


def weight_body(weight: Decimal, decimals: int) -> bytes:
    """Encode ``weight`` as ``sign + 6 digits + decimal count``; ValueError if it cannot fit."""
    scaled = int(abs(weight).scaleb(decimals).to_integral_value())
    if scaled > 999_999:
        raise ValueError(f"{weight} does not fit 6 digits with {decimals} decimals")
    sign = b"-" if weight < 0 else b"+"
    return sign + b"%06d" % scaled + str(decimals).encode()


class YaohuaA9(ScaleProtocol):
    """Yaohua A9 continuous frames."""

    name = "yaohua-a9"

    def __init__(self, decimals: int = 0) -> None:
        if not 0 <= decimals <= MAX_DECIMALS:
            raise ValueError("decimals must be 0..4")
        self.decimals = decimals  # used by encode only; decode reads it from the frame

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one frame from the start of ``buffer``."""
        if not buffer:
            return 0, None
        if buffer[:1] != STX:
            return skip_to(buffer, STX)
        if len(buffer) < FRAME_LEN:
            nxt = buffer.find(STX, 1)
            if nxt > 0:  # a new frame starts before this one could end
                return nxt, Noise("truncated", buffer[:nxt])
            return 0, None
        frame = buffer[:FRAME_LEN]
        if frame[11:12] != ETX:
            nxt = buffer.find(STX, 1)
            cut = nxt if nxt > 0 else FRAME_LEN
            return cut, Noise("format", buffer[:cut])
        body = frame[1:9]
        if frame[9:11] != xor_ascii_hex(body):
            return FRAME_LEN, Noise("checksum", frame)
        value = parse_weight_body(body)
        if value is None:
            return FRAME_LEN, Noise("format", frame)
        return FRAME_LEN, Reading(weight=value, unit="kg", raw=frame)

    def encode(self, reading: Reading) -> bytes:
        """Encode a weight in kg as the indicator streams it."""
        body = weight_body(reading.weight_kg, self.decimals)
        return STX + body + xor_ascii_hex(body) + ETX
