"""Yaohua XK3190-A12 (and OEM clones such as the Liden LUW2001) "w" text lines.

    w  w|n|t  [-] digits[.digits]  kg|lb  [CR] LF
       ww = weight (gross), wn = net, wt = tare

Examples: ``ww000.000lb``, ``wn-0000.1kg``, ``wt000.000kg`` (pengshulin/mcush, LF-terminated)
and ``ww0000.000kg`` CR LF (Liden LUW2001 manual). No checksum and no stable flag. A ``wt``
line is the tare on the display, not a platform weight, so it is consumed without a reading.
``encode`` writes CR LF, as the indicator manual documents.

Survives: garbage (resync on ``ww``/``wn``/``wt``), LF or CR LF, a line cut short by the next
line ("truncated"), an unknown unit or a bad number ("format"), any split.
"""

from __future__ import annotations

import re

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

STARTS = (b"ww", b"wn", b"wt")
MAX_LINE = 32
_LINE = re.compile(rb"w([wnt])(-?[0-9.]+)(kg|lb)\r?\n")


class YaohuaA12(ScaleProtocol):
    """Yaohua A12 ``ww``/``wn``/``wt`` lines."""

    name = "yaohua-a12"

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one line from the start of ``buffer``."""
        used, line = cut_line(buffer, STARTS, MAX_LINE)
        if not isinstance(line, bytes):
            return used, line
        match = _LINE.fullmatch(line)
        value = parse_decimal(match.group(2)) if match else None
        unit = parse_unit(match.group(3)) if match else None
        if match is None or value is None or unit is None:
            return reject_line(line, STARTS)
        kind = match.group(1)
        if kind == b"t":
            return used, None  # the tare on the display: no platform weight
        return used, Reading(weight=value, unit=unit, net=kind == b"n", raw=line)

    def encode(self, reading: Reading) -> bytes:
        """Encode as ``ww``/``wn`` with the reading's own decimals, CR LF."""
        if reading.unit not in ("kg", "lb"):
            raise ValueError("yaohua-a12 sends kg or lb")
        sign = "-" if reading.weight < 0 else ""
        kind = "n" if reading.net else "w"
        text = f"w{kind}{sign}{plain(reading.weight).zfill(7)}{reading.unit}\r\n"
        return text.encode("ascii")
