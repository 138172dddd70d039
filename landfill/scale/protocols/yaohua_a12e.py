"""Yaohua XK3190-A12E 15-byte "W" frame with an XOR checksum.

    byte  1   2    3..9                 10-11  12-13           14-15
          W   G|N  weight, 7 chars      kg     XOR of 1..11    CR LF
                   with the point; no point: byte 9 is a space; "-" goes in byte 3

    overload (gross > Max + 9e):   9 spaces  O L  XOR  CR LF    b"         OL23\\r\\n"
    underload (below -20d):        9 spaces  L O  XOR  CR LF    b"         LO23\\r\\n"

Manual example ``WG004.139kg3D`` CR LF: 4.139 kg gross; 0x3D is the XOR of bytes 1-11 (the
XOR rule was checked against this example). The over/underload frames carry no weight; they
decode as weight 0 with ``overload``/``underload`` set. No stable flag.

Survives: garbage (resync on ``WG``/``WN``/the 9-space overload prefix), a frame cut short by
the next frame ("truncated"), a missing CR LF, an unknown unit or a bad number ("format"), a
wrong XOR ("checksum"), any split.
"""

from __future__ import annotations

from decimal import Decimal

from landfill.scale.frames import (
    Decoded,
    Noise,
    Reading,
    ScaleProtocol,
    decimals_of,
    parse_decimal,
    plain,
    sync,
    xor_ascii_hex,
)

BLANK = b" " * 9
OVERLOAD, UNDERLOAD = BLANK + b"OL", BLANK + b"LO"
STARTS = (b"WG", b"WN", OVERLOAD, UNDERLOAD)
FRAME_LEN = 15
EOL = b"\r\n"


class YaohuaA12E(ScaleProtocol):
    """Yaohua A12E ``WG004.139kg3D`` frames."""

    name = "yaohua-a12e"

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one frame from the start of ``buffer``."""
        synced = sync(buffer, STARTS)
        if synced is not None:
            return synced
        if len(buffer) < FRAME_LEN:
            nxt = _next_start(buffer)
            if nxt > 0:
                return nxt, Noise("truncated", buffer[:nxt])
            return 0, None
        frame = buffer[:FRAME_LEN]
        if frame[13:] != EOL:
            nxt = _next_start(buffer)
            cut = nxt if 0 < nxt < FRAME_LEN else FRAME_LEN
            return cut, Noise("format", buffer[:cut])
        if frame[11:13] != xor_ascii_hex(frame[:11]):
            return FRAME_LEN, Noise("checksum", frame)
        if frame[:11] == OVERLOAD:
            return FRAME_LEN, Reading(Decimal(0), overload=True, raw=frame)
        if frame[:11] == UNDERLOAD:
            return FRAME_LEN, Reading(Decimal(0), underload=True, raw=frame)
        value = parse_decimal(frame[2:9].strip(b" "))
        if value is None or frame[9:11] != b"kg":
            return FRAME_LEN, Noise("format", frame)
        return FRAME_LEN, Reading(value, unit="kg", net=frame[1:2] == b"N", raw=frame)

    def encode(self, reading: Reading) -> bytes:
        """Encode in kg with the reading's own decimals (or the OL/LO frame)."""
        if reading.overload or reading.underload:
            head = OVERLOAD if reading.overload else UNDERLOAD
        else:
            weight = reading.weight_kg
            sign = "-" if weight < 0 else ""
            if decimals_of(weight) == 0:
                field = sign + plain(weight).zfill(6 - len(sign)) + " "
            else:
                field = sign + plain(weight).zfill(7 - len(sign))
            if len(field) != 7:
                raise ValueError(f"{weight} does not fit the 7-character weight field")
            head = b"WN" if reading.net else b"WG"
            head += field.encode("ascii") + b"kg"
        return head + xor_ascii_hex(head) + EOL


def _next_start(buffer: bytes) -> int:
    positions = [p for p in (buffer.find(s, 1) for s in STARTS) if p > 0]
    return min(positions, default=-1)
