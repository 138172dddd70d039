"""Mettler Toledo "Toledo continuous" output (IND/Jaguar; emulated by Cardinal, Rice Lake,
Fairbanks, KERN...).

    STX  SWA SWB SWC  w w w w w w  t t t t t t  CR  [CKS]      17 bytes, 18 with checksum
    02   status words weight, 6    tare, 6      0D  (-sum of bytes 1..17) & 0x7F

Every byte is 7 data bits plus parity in bit 7; we mask each byte with ``& 0x7F`` so the port
may be opened 7E1 (the default here) or 8N1. Weight and tare carry no point and no sign, and
leading zeros are sent as spaces (Rice Lake 680) or as zeros (8142 style); both are accepted.

SWA bits 0-2 (bit0 bit1 bit2 order in the Wildcat table; value = bit0 + 2*bit1 + 4*bit2):
    0 XXXX00  1 XXXXX0  2 XXXXXX  3 XXXXX.X  4 XXXX.XX  5 XXX.XXX  6 XX.XXXX  7 X.XXXXX
SWB: bit0 net, bit1 negative, bit2 out of range, bit3 motion, bit4 kg (else lb), bit6 power-up.
SWC: bit0 g (unit grams). Bits 1-2 of SWC are not documented in our reference; a frame that
sets them may mean another unit, so it is rejected ("format") rather than mislabelled.

Dummy zeros, decided from the reference: every pattern in the SWA table is six characters
wide, the width of the weight field itself, so the pattern describes the transmitted digits:
"XXXXX0" says the last of the six digits sent is a fixed zero, not that a zero is to be
appended. The weight is therefore the six digits as sent, times 10^-decimals for codes 3-7
and unchanged for codes 0-2. The Jaguar capture ``b'\\x021     200      \\r'`` (SWA "1": one
dummy zero, x2 increment) decodes to 200 lb, a multiple of the 20 lb division that "one dummy
zero, x2" implies. (Outside the reference, IND245 firmware source in zpq001/DL_Scale,
ContOut.c, is consistent with this: it sends the displayed string with only the point
removed.) If an indicator expected the receiver to append the zeros, most of its frames would
end in a non-zero digit where SWA promises a zero; those are rejected ("format"), so such an
indicator shows up as format noise at commissioning instead of a silent factor-of-ten error.

Decision: "out of range" (SWB bit2) with the sign bit is an underload, without it an overload.
An all-blank tare field decodes as ``tare=None``. ``encode`` never uses dummy zeros; it picks
the decimal code from the reading's own decimals and always uses increment x1.

Survives: parity bits, garbage (resync on STX), a frame cut short by the next STX ("truncated";
STX is only looked for in the ASCII part, since a Fairbanks-style status byte can be 0x02),
no CR at byte 17 ("format"), a wrong checksum ("checksum"), non-digits in the fields or a
frame that contradicts its own dummy zeros ("format"), any split.
"""

from __future__ import annotations

import re
from decimal import Decimal

from landfill.scale.frames import (
    Decoded,
    Noise,
    Reading,
    ScaleProtocol,
    SerialSettings,
    Unit,
    decimals_of,
    skip_to,
)

STX, CR = 0x02, 0x0D
BODY_LEN = 17  # STX .. CR
ASCII_FROM = 4  # weight, tare and CR: where a byte 0x02 can only be a new STX
_MASK7 = bytes(b & 0x7F for b in range(256))
_FIELD = re.compile(rb" *[0-9]+")
DUMMY_ZEROS = {0: 2, 1: 1, 2: 0}  # SWA code -> trailing fixed zeros; codes 3..7 -> decimals


def checksum(body: bytes) -> int:
    """2's complement of the 7 low bits of the sum of STX..CR."""
    return -sum(b & 0x7F for b in body) & 0x7F


class Toledo(ScaleProtocol):
    """Toledo continuous frames, with or without the checksum byte."""

    name = "toledo"
    has_stable_flag = True
    serial = SerialSettings(baudrate=9600, bytesize=7, parity="E", stopbits=1)

    def __init__(self, checksum: bool = False) -> None:
        self.checksum = checksum
        self.frame_len = BODY_LEN + (1 if checksum else 0)

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one frame from the start of ``buffer``."""
        if not buffer:
            return 0, None
        masked = buffer[: self.frame_len + 64].translate(_MASK7)
        if masked[0] != STX:
            cut = skip_to(masked, b"\x02")[0]
            return cut, Noise("garbage", buffer[:cut])
        if len(buffer) < self.frame_len:
            nxt = masked.find(STX, ASCII_FROM)
            if nxt > 0:
                return nxt, Noise("truncated", buffer[:nxt])
            return 0, None
        raw = buffer[: self.frame_len]
        frame = masked[: self.frame_len]
        if frame[BODY_LEN - 1] != CR:
            nxt = masked.find(STX, 1)
            cut = nxt if 0 < nxt < self.frame_len else self.frame_len
            return cut, Noise("format", buffer[:cut])
        if self.checksum and frame[BODY_LEN] != checksum(frame[:BODY_LEN]):
            return self.frame_len, Noise("checksum", raw)
        reading = _parse(frame, raw)
        if reading is None:
            return self.frame_len, Noise("format", raw)
        return self.frame_len, reading

    def encode(self, reading: Reading) -> bytes:
        """Encode a reading (kg, lb or g) with its own decimals; no parity bit is set."""
        if reading.unit not in ("kg", "lb", "g"):
            raise ValueError("toledo sends kg, lb or g")
        decimals = max(decimals_of(reading.weight), decimals_of(reading.tare or Decimal(0)))
        if decimals > 5:
            raise ValueError("toledo carries at most 5 decimals")
        swa = 0x20 | 0x08 | (decimals + 2 if decimals else 2)  # increment x1
        negative = reading.weight < 0
        swb = 0x20 | 0x01 * reading.net | 0x02 * negative
        swb |= 0x04 * (reading.overload or reading.underload) | 0x08 * (reading.stable is False)
        swb |= 0x10 * (reading.unit == "kg")
        swc = 0x20 | 0x01 * (reading.unit == "g")
        tare = b" " * 6 if reading.tare is None else _field(reading.tare, decimals)
        body = bytes([STX, swa, swb, swc]) + _field(reading.weight, decimals) + tare + b"\r"
        return body + (bytes([checksum(body)]) if self.checksum else b"")


def _field(value: Decimal, decimals: int) -> bytes:
    digits = int(abs(value).scaleb(decimals).to_integral_value())
    if digits > 999_999:
        raise ValueError(f"{value} does not fit 6 digits")
    return b"%6d" % digits


def _number(field: bytes, code: int) -> Decimal | None:
    """A 6-character field under SWA decimal code ``code``; None if malformed."""
    if _FIELD.fullmatch(field) is None:
        return None
    digits = int(field)
    if code in DUMMY_ZEROS:
        if digits % 10 ** DUMMY_ZEROS[code]:
            return None  # SWA promises fixed trailing zeros that are not there
        return Decimal(digits)
    return Decimal(digits).scaleb(-(code - 2))


def _parse(frame: bytes, raw: bytes) -> Reading | None:
    swa, swb, swc = frame[1], frame[2], frame[3]
    if swc & 0x06:
        return None  # a unit code our reference does not document
    code = swa & 0x07
    weight = _number(frame[4:10], code)
    tare_field = frame[10:16]
    tare = None if tare_field == b" " * 6 else _number(tare_field, code)
    if weight is None or (tare is None and tare_field != b" " * 6):
        return None
    unit: Unit = "g" if swc & 0x01 else "kg" if swb & 0x10 else "lb"
    negative, out_of_range = bool(swb & 0x02), bool(swb & 0x04)
    return Reading(
        weight=-weight if negative else weight,
        unit=unit,
        stable=not swb & 0x08,
        overload=out_of_range and not negative,
        underload=out_of_range and negative,
        net=bool(swb & 0x01),
        tare=tare,
        raw=raw,
    )
