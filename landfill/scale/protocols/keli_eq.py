"""Yaohua XK3190-A26 / Keli XK3118T1 "scoreboard" frames that start with ``=``.

    normal   (A26 format 2):  =  s  w w w w w w w        9 bytes, s = "0" or "-"
    reversed (A26 format 1):  =  w w w w w w w  s        the same 8 characters, last first
    Keli comment:             =5123.45(kg) CR LF       (WeightScale/WebServerXK3118T1)

The 7 weight characters include the decimal point. Examples from the A26 manual: 3.000 is
``=0003.000`` (normal) or ``=000.3000`` (reversed); -1.00 is ``=-0001.00`` or ``=00.1000-``.
No checksum, no stable, net or overload flag; the weight is taken as kg. The digit order is a
constructor setting (``reverse``) because both orders exist in the wild; a wrong setting
misreads positive weights silently (3.000 becomes 0.3), so confirm it against the display.

Framing: a frame ends at the next ``=``, CR or LF. The A26 sends 9-byte frames back to back with
no terminator, so a frame whose 8 payload characters are all digits, ``.`` or ``-`` is complete
at once instead of waiting for the next frame. A ``(kg)`` suffix is dropped before parsing; CR
and LF between frames are consumed without a reading.

A frame that ends at the next ``=`` must have the full 8 characters (the A26 layout is the only
one documented without CR LF); a shorter one was cut short and is dropped ("truncated"), so a
lost byte never turns 3.000 into 3.00 or 0.

Survives: garbage (resync on ``=``), CR/LF or no terminator at all, a frame cut short by the
next ``=`` ("truncated"), a sign in the wrong place (for example a normal frame read as
reversed: "format"), any split.
"""

from __future__ import annotations

from landfill.scale.frames import (
    Decoded,
    Noise,
    Reading,
    ScaleProtocol,
    parse_decimal,
    plain,
    skip_to,
)

START = b"="
EOL = b"\r\n"
PAYLOAD_LEN = 8  # sign position + 7 weight characters
MAX_PAYLOAD = 16
UNIT_SUFFIX = b"(kg)"
_NUMERIC = frozenset(b"0123456789.-")


class KeliEq(ScaleProtocol):
    """Keli ``=`` scoreboard frames, normal or reversed digit order."""

    name = "keli-eq"

    def __init__(self, reverse: bool = False) -> None:
        self.reverse = reverse

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one ``=`` frame from the start of ``buffer``."""
        if not buffer:
            return 0, None
        if buffer[0] in EOL:
            run = len(buffer) - len(buffer.lstrip(EOL))
            return run, None  # line ends between frames are framing, not noise
        if buffer[:1] != START:
            return skip_to(buffer, START)
        end = _payload_end(buffer)
        if end < 0:
            if len(buffer) <= 1 + MAX_PAYLOAD:
                return 0, None
            cut = 1 + MAX_PAYLOAD
            return cut, Noise("format", buffer[:cut])
        if buffer[end : end + 1] == START and end - 1 != PAYLOAD_LEN:
            return end, Noise("truncated", buffer[:end])
        used = end
        while used < len(buffer) and buffer[used] in EOL:
            used += 1
        frame = buffer[:used]
        payload = buffer[1:end]
        if payload.endswith(UNIT_SUFFIX):
            payload = payload[: -len(UNIT_SUFFIX)]
        if self.reverse:
            payload = payload[::-1]
        value = parse_decimal(payload)
        if value is None:
            return used, Noise("format", frame)
        return used, Reading(weight=value, unit="kg", raw=frame)

    def encode(self, reading: Reading) -> bytes:
        """Encode as the A26 formats 1/2: sign position and 7 characters, kg."""
        weight = reading.weight_kg
        text = plain(weight).zfill(PAYLOAD_LEN - 1)
        if len(text) > PAYLOAD_LEN - 1:
            raise ValueError(f"{weight} does not fit 7 characters")
        payload = (b"-" if weight < 0 else b"0") + text.encode("ascii")
        return START + (payload[::-1] if self.reverse else payload)


def _payload_end(buffer: bytes) -> int:
    """Index just past the payload (at ``=``, CR, LF or after 8 numeric characters), or -1."""
    for i in range(1, min(len(buffer), 2 + MAX_PAYLOAD)):
        if buffer[i] in b"=\r\n":
            return i
        if i == PAYLOAD_LEN and all(b in _NUMERIC for b in buffer[1 : PAYLOAD_LEN + 1]):
            return PAYLOAD_LEN + 1
    return -1
