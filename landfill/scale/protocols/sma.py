"""SMA (Scale Manufacturers Association) weight reply / stream (Cardinal, Sartorius PR 5220,
Minebea, Rinstrum/Avery, BTEK...).

    host:  LF c CR            c = W weight now, R repeat, Z zero, T tare, ...
    reply: LF s r n m f  xxxxxx.xxx  uuu  CR                      20 bytes
       s status: space OK, Z centre of zero, O over capacity, U under zero, E zero error,
                 T tare error, e not displayed (Cardinal)
       r range digit; n mode G gross, N net, T tare (lower case = high resolution)
       m motion: M moving, space stable; f reserved
       weight right-aligned in 10 characters (sign and point included); unit 3 characters

Constructed from the PR 5220 example: ``b'\\n 1G       5.025lb \\r'`` = 5.025 lb, stable.
By default the host polls with ``W`` (``poll``); ``continuous=True`` is Cardinal's streaming
"Type=0" (``poll`` is None, same frames).

Decisions: status E, T or e, and mode T (the tare on the display), carry no platform weight:
such frames are consumed without a reading, as are the ``LF ? CR`` (unknown command) and
``LF ! CR`` (communication error) replies. O and U set overload/underload; if the weight field
is then not a number, the weight is 0. High-resolution replies (g/n) decode like G/N. The
simulator answers W and R with the weight and everything else with ``?``.

Survives: garbage (resync on LF), a reply cut short by the next LF ("truncated"), a wrong
length, an unknown status/mode/motion character or unit, a bad number ("format"), any split.
"""

from __future__ import annotations

from decimal import Decimal

from landfill.scale.frames import (
    Decoded,
    Noise,
    Reading,
    ScaleProtocol,
    parse_decimal,
    parse_unit,
    plain,
    skip_to,
)

LF, CR = b"\n", b"\r"
FRAME_LEN = 20
MAX_LINE = 40
NO_WEIGHT_STATUS = b"ETe"


class Sma(ScaleProtocol):
    """SMA replies to ``W`` (or the continuous stream)."""

    name = "sma"
    has_stable_flag = True
    poll: bytes | None = LF + b"W" + CR

    def __init__(self, continuous: bool = False) -> None:
        self.continuous = continuous
        self.poll = None if continuous else LF + b"W" + CR

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one reply from the start of ``buffer``."""
        used, line = _line(buffer)
        if not isinstance(line, bytes):
            return used, line
        if line in (b"\n?\r", b"\n!\r"):
            return used, None  # the indicator did not understand us / saw a line error
        if len(line) != FRAME_LEN:
            return used, Noise("format", line)
        status, rng, mode, motion = line[1:2], line[2:3], line[3:4], line[4:5]
        field = line[6:16].strip(b" ")
        if field[:1] in (b"-", b"+"):  # tolerate spaces between the sign and the digits
            field = field[:1] + field[1:].lstrip(b" ")
        value = parse_decimal(field)
        unit = parse_unit(line[16:19])
        if (
            status not in b" ZOUETe"
            or not rng.isdigit()
            or mode not in b"GNTgnt"
            or motion not in b" M"
            or unit is None
        ):
            return used, Noise("format", line)
        if status in (b"O", b"U") and value is None:
            value = Decimal(0)
        if value is None:
            return used, Noise("format", line)
        if status in NO_WEIGHT_STATUS or mode in b"Tt":
            return used, None
        return used, Reading(
            weight=value,
            unit=unit,
            stable=motion == b" ",
            overload=status == b"O",
            underload=status == b"U",
            net=mode in b"Nn",
            raw=line,
        )

    def encode(self, reading: Reading) -> bytes:
        """Encode as a reply (or stream frame) with the reading's own decimals."""
        status = "O" if reading.overload else "U" if reading.underload else " "
        mode = "N" if reading.net else "G"
        motion = "M" if reading.stable is False else " "
        sign = "-" if reading.weight < 0 else ""
        weight = f"{sign}{plain(reading.weight)}"
        if len(weight) > 10:
            raise ValueError(f"{reading.weight} does not fit 10 characters")
        return f"\n{status}1{mode}{motion} {weight:>10}{reading.unit:<3}\r".encode("ascii")

    def answer(self, request: bytes, reading: Reading) -> tuple[int, bytes]:
        """Reply to ``LF c CR`` as the indicator would (simulator)."""
        used, line = _line(request)
        if not isinstance(line, bytes):
            return used, b""
        if line[1:-1] in (b"W", b"R"):
            return used, self.encode(reading)
        return used, b"\n?\r"


def _line(buffer: bytes) -> tuple[int, bytes | Noise | None]:
    """Cut one ``LF ... CR`` frame off ``buffer``."""
    if not buffer:
        return 0, None
    if buffer[:1] != LF:
        used, noise = skip_to(buffer, LF)
        return used, noise if isinstance(noise, Noise) else None
    end = buffer.find(CR, 1, MAX_LINE)
    nxt = buffer.find(LF, 1, end if end > 0 else MAX_LINE)
    if nxt > 0:
        return nxt, Noise("truncated", buffer[:nxt])
    if end < 0:
        if len(buffer) < MAX_LINE:
            return 0, None
        return MAX_LINE, Noise("format", buffer[:MAX_LINE])
    return end + 1, buffer[: end + 1]
