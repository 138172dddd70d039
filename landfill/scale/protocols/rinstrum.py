"""Rinstrum R320/R420/C500 automatic transmission, format FMT_1.

    STX  sign  w w w w w w w  status  ETX          11 bytes
    02   " "/- 7 chars incl.  G N U O M E  03
               the point, right-aligned

Status: G gross, N net, U under, O over, M motion, E error. One character carries all of them,
so a moving reading loses gross/net (``net=False``), and a G or N frame means "not moving"
(``stable=True``). Constructed from the R320 layout: ``b'\\x02  1234.5G\\x03'`` = 1234.5,
gross, stable. FMT_1 sends no unit: ``unit`` is a constructor setting (default kg).

Decisions: U and O set underload/overload with ``stable=None`` (motion unknown); if the weight
field is then not a number, the weight is 0. E carries no usable weight: consumed without a
reading. FMT_2 (with unit and separate motion/centre-of-zero flags) is not built: the reference
documents S2 and S3 but not S1 and S4.

Survives: garbage (resync on STX), a frame cut short by the next STX ("truncated"), no ETX,
an unknown status or a bad number ("format"), any split. There is no checksum.
"""

from __future__ import annotations

from decimal import Decimal

from landfill.scale.frames import (
    Decoded,
    Noise,
    Reading,
    ScaleProtocol,
    Unit,
    parse_decimal,
    plain,
    skip_to,
)

STX, ETX = b"\x02", b"\x03"
FRAME_LEN = 11


class Rinstrum(ScaleProtocol):
    """Rinstrum FMT_1 auto-output frames."""

    name = "rinstrum"
    has_stable_flag = True

    def __init__(self, unit: Unit = "kg") -> None:
        self.unit: Unit = unit

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one frame from the start of ``buffer``."""
        if not buffer:
            return 0, None
        if buffer[:1] != STX:
            return skip_to(buffer, STX)
        if len(buffer) < FRAME_LEN:
            nxt = buffer.find(STX, 1)
            if nxt > 0:
                return nxt, Noise("truncated", buffer[:nxt])
            return 0, None
        frame = buffer[:FRAME_LEN]
        if frame[10:11] != ETX:
            nxt = buffer.find(STX, 1)
            cut = nxt if 0 < nxt < FRAME_LEN else FRAME_LEN
            return cut, Noise("format", buffer[:cut])
        sign, field, status = frame[1:2], frame[2:9].strip(b" "), frame[9:10]
        value = parse_decimal(field) if field[:1].isdigit() or field[:1] == b"." else None
        if sign not in (b" ", b"+", b"-") or status not in b"GNUOME":
            return FRAME_LEN, Noise("format", frame)
        if status == b"E":
            return FRAME_LEN, None  # the indicator reports an error: no usable weight
        if value is None and status in (b"U", b"O"):
            value = Decimal(0)
        if value is None:
            return FRAME_LEN, Noise("format", frame)
        weight = -value if sign == b"-" else value
        if status in (b"U", b"O"):
            return FRAME_LEN, Reading(
                weight, self.unit, underload=status == b"U", overload=status == b"O", raw=frame
            )
        return FRAME_LEN, Reading(
            weight, self.unit, stable=status != b"M", net=status == b"N", raw=frame
        )

    def encode(self, reading: Reading) -> bytes:
        """Encode with the reading's own decimals; the status picks the strongest state."""
        if reading.unit != self.unit:
            raise ValueError(f"this indicator is set to {self.unit}")
        if reading.overload or reading.underload:
            status = "O" if reading.overload else "U"
        elif reading.stable is False:
            status = "M"
        else:
            status = "N" if reading.net else "G"
        field = plain(reading.weight)
        if len(field) > 7:
            raise ValueError(f"{reading.weight} does not fit 7 characters")
        sign = "-" if reading.weight < 0 else " "
        return f"\x02{sign}{field:>7}{status}\x03".encode("ascii")
