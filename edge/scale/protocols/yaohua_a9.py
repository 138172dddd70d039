"""Yaohua XK3190-A9/A9+/DS1/DS3/A26 continuous output "format 0" (tF=0).

    STX  sign  d d d d d d  dp  XOR-hi XOR-lo  ETX      12 bytes
    02   +/-   weight, MSB first, no point   0-4   ASCII hex   03

The XOR covers bytes 2..9 (sign, digits, decimal count). The frame has no stable, motion or
overload flag: stability is computed in software. Survives: garbage between frames (resync on
STX), a wrong checksum (frame dropped, counted), non-digit bytes (dropped, counted), a frame
split over any number of reads.
"""

from __future__ import annotations

from decimal import Decimal

from edge.scale.frames import Decoded, Noise, Reading, ScaleProtocol, skip_to, xor_ascii_hex

STX, ETX = b"\x02", b"\x03"
FRAME_LEN = 12


class YaohuaA9(ScaleProtocol):
    """Yaohua A9 continuous frames."""

    name = "yaohua-a9"

    def __init__(self, decimals: int = 0) -> None:
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
        sign, digits, dp = body[:1], body[1:7], body[7:8]
        if sign not in (b"+", b"-") or not digits.isdigit() or dp not in b"01234" or not dp:
            return FRAME_LEN, Noise("format", frame)
        value = Decimal(int(digits)).scaleb(-int(dp))
        if sign == b"-":
            value = -value
        return FRAME_LEN, Reading(weight=value, unit="kg", raw=frame)

    def encode(self, reading: Reading) -> bytes:
        """Encode a weight in kg as the indicator streams it."""
        scaled = int((abs(reading.weight_kg)).scaleb(self.decimals).to_integral_value())
        sign = b"-" if reading.weight_kg < 0 else b"+"
        body = sign + b"%06d" % (scaled % 1_000_000) + str(self.decimals).encode()
        return STX + body + xor_ascii_hex(body) + ETX
