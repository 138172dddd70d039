"""The generic ``ST,GS,+  1.234kg`` family (Selleton, Tiger, KERN, many Chinese/Taiwanese).

    S1 , S2 , S3 weight  unit  CR LF
    S1: ST stable | US unstable | OL overload       S2: GS gross | NT net | TR tare (KERN)
    S3: sign + or -; the weight is space- or zero-padded, with or without a point; unit kg,
        lb, g, t or oz, optionally after spaces

Examples: ``ST,NT,+  1.234kg`` (imTigger/webapp-hardware-bridge issue #4),
``ST,GS,+01234567  oz``, ``US,GS,+01234.56  lb`` and ``OL,GS,+`` followed by spaces (KERN KXS
manual). ``stable`` comes from ST/US. An OL line carries no weight and no motion state: it
decodes as weight 0, ``overload=True``, ``stable=None``. A TR line is the tare on the display,
not a platform weight: consumed without a reading. A line without a unit is rejected rather
than guessed as kg. The family documents no underload state, so ``encode`` refuses one.

Survives: garbage (resync on ``ST,``/``US,``/``OL,``), LF or CR LF, a line cut short by the
next line ("truncated"), an unknown unit or a bad number ("format"), any split.
"""

from __future__ import annotations

import re
from decimal import Decimal

from landfill.scale.frames import (
    Decoded,
    Reading,
    ScaleProtocol,
    cut_line,
    parse_decimal,
    parse_unit,
    plain,
    reject_line,
)

STARTS = (b"ST,", b"US,", b"OL,")
MAX_LINE = 40
_LINE = re.compile(rb"(ST|US|OL),(GS|NT|TR),([+-]?) *([0-9.]*) *([A-Za-z]*) *\r?\n")


class StUs(ScaleProtocol):
    """``ST/US/OL,GS/NT,...`` lines."""

    name = "st-us"
    has_stable_flag = True

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one line from the start of ``buffer``."""
        used, line = cut_line(buffer, STARTS, MAX_LINE)
        if not isinstance(line, bytes):
            return used, line
        match = _LINE.fullmatch(line)
        if match is None:
            return reject_line(line, STARTS)
        state, mode, sign, number, unit_text = match.groups()
        unit = parse_unit(unit_text) if unit_text else "kg" if state == b"OL" else None
        value = parse_decimal(sign + number) if number else None
        if value is None and state == b"OL":
            value = Decimal(0)
        if value is None or unit is None:
            return reject_line(line, STARTS)
        if mode == b"TR":
            return used, None  # the tare on the display: no platform weight
        if state == b"OL":
            return used, Reading(value, unit, overload=True, net=mode == b"NT", raw=line)
        return used, Reading(value, unit, stable=state == b"ST", net=mode == b"NT", raw=line)

    def encode(self, reading: Reading) -> bytes:
        """Encode with the reading's own decimals, right-aligned in 8 characters."""
        mode = "NT" if reading.net else "GS"
        if reading.underload:
            raise ValueError("the ST/US family has no underload state")
        if reading.overload:
            return f"OL,{mode},+{' ' * 10}\r\n".encode("ascii")
        state = "US" if reading.stable is False else "ST"
        sign = "-" if reading.weight < 0 else "+"
        return f"{state},{mode},{sign}{plain(reading.weight):>8}{reading.unit}\r\n".encode("ascii")
