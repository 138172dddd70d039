"""Mettler Toledo MT-SICS weight commands (ASCII, CR LF), 9600 8N1.

    host:   S CR LF   stable weight (waits for stability)
            SI CR LF  weight now, stable or not
    reply:  S S <value> <unit> CR LF    stable             e.g. "S S     100.00 g"
            S D <value> <unit> CR LF    dynamic (moving)
            S I CR LF                   not executable (busy, or no stability in time)
            S + CR LF / S - CR LF       overload / underload

The value is right-aligned and space-padded; a reply is parsed as ``line.split()``. ``poll``
defaults to ``SI`` (constructor setting ``command``): it answers every poll with the value and
the indicator's own S/D flag, so the weighing tracker sees the load settle, whereas ``S`` can
block until the weight is stable. ``S I`` is consumed without a reading. ``S +``/``S -`` carry
no weight: weight 0 with overload/underload set and ``stable=None``. The simulator answers
S (``S I`` while moving) and SI/SIR; other commands (Z, T, @) get no reply.

Survives: garbage (resync on ``S S``/``S D``/``S I``/``S +``/``S -``), a reply cut short by the
next reply ("truncated"), a bad number or unknown unit ("format"), any split.
"""

from __future__ import annotations

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

STARTS = (b"S S", b"S D", b"S I", b"S +", b"S -")
MAX_LINE = 48
COMMANDS = ("S", "SI", "SIR")


class MtSics(ScaleProtocol):
    """MT-SICS ``S``/``SI`` replies."""

    name = "mt-sics"
    has_stable_flag = True
    poll = b"SI\r\n"

    def __init__(self, command: str = "SI") -> None:
        if command not in COMMANDS:
            raise ValueError(f"command must be one of {COMMANDS}")
        self.poll = command.encode("ascii") + b"\r\n"

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one reply line from the start of ``buffer``."""
        used, line = cut_line(buffer, STARTS, MAX_LINE)
        if not isinstance(line, bytes):
            return used, line
        tokens = line.split()
        if tokens == [b"S", b"I"]:
            return used, None  # not executable now; ask again
        if tokens == [b"S", b"+"]:
            return used, Reading(Decimal(0), overload=True, raw=line)
        if tokens == [b"S", b"-"]:
            return used, Reading(Decimal(0), underload=True, raw=line)
        if len(tokens) == 4 and tokens[1] in (b"S", b"D"):
            value, unit = parse_decimal(tokens[2]), parse_unit(tokens[3])
            if value is not None and unit is not None:
                return used, Reading(value, unit, stable=tokens[1] == b"S", raw=line)
        return reject_line(line, STARTS)

    def encode(self, reading: Reading) -> bytes:
        """The reply to ``SI`` for this reading, with its own decimals."""
        if reading.overload or reading.underload:
            return b"S +\r\n" if reading.overload else b"S -\r\n"
        flag = "D" if reading.stable is False else "S"
        value = ("-" if reading.weight < 0 else "") + plain(reading.weight)
        return f"S {flag} {value:>10} {reading.unit}\r\n".encode("ascii")

    def answer(self, request: bytes, reading: Reading) -> tuple[int, bytes]:
        """Reply to one command line as a balance would (simulator)."""
        end = request.find(b"\n")
        if end < 0:
            return (len(request), b"") if len(request) > MAX_LINE else (0, b"")
        command = request[:end].strip()
        if (
            command == b"S"
            and reading.stable is False
            and not (reading.overload or reading.underload)
        ):
            return end + 1, b"S I\r\n"
        if command.decode("ascii", "replace") in COMMANDS:
            return end + 1, self.encode(reading)
        return end + 1, b""
