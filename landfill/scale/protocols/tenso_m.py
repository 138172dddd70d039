"""Tenso-M (Тензо-М) terminals, binary "TenzoM" protocol (code only: dvor85/regweight
protocols.py + crc.c, WendyH/TenzoM1CAddin TenzoM.cpp; no manual page was found).

    FF  addr  cmd  [data]  CRC  FF FF        any FF from addr to CRC is sent as FF FE
    poll (gross, C3):  FF 01 C3 E3 FF FF
    C3 reply:          FF addr C3  b0 b1 b2  CON  CRC  FF FF
        b0..b2: 6 digits of packed BCD, least significant byte first
        CON: bits 0-2 decimal places, 0x08 overload, 0x10 stable ("успокоение"), 0x80 minus

CRC: 8 bits, polynomial 0x69, over addr + cmd + data, computed as the public code does: shift
each byte MSB first through a 16-bit register, XOR 0x6900 when the top bit falls out, with one
zero byte appended (an "augmented" CRC-8, init 0, no reflection). The reference poll gives
0xE3. dvor85 computes it on the unescaped bytes, which we follow; WendyH skips FE bytes, which
only differs if a CON byte were 0xFE.

Decisions: the weight is taken as kg (both public drivers do). Overload carries no weight
(dvor85 drops it): weight 0 with ``overload=True``. Frames from another address, our own poll
echoed by a 2-wire RS-485 adapter, and replies to other commands are consumed without a
reading. Default address 1 and 9600 baud (WendyH's example; dvor85 uses 38400).

Survives: garbage (resync on FF), runs of FF between frames, a frame cut short by the next
frame ("truncated"), a wrong CRC ("checksum"), bad BCD or length ("format"), any split.
"""

from __future__ import annotations

from decimal import Decimal

from landfill.scale.frames import Decoded, Noise, Reading, ScaleProtocol, decimals_of, skip_to

FF, FE = 0xFF, 0xFE
GROSS = 0xC3
MAX_RAW = 40  # a C3 reply is 10 bytes; anything this long without FF FF is broken
STABLE, OVERLOAD, MINUS, POINT = 0x10, 0x08, 0x80, 0x07


def crc(data: bytes) -> int:
    """The Tenso-M CRC (polynomial 0x69) of ``data`` (addr + cmd + data, unescaped)."""
    value = 0
    for byte in data + b"\x00":
        w = byte | value << 8
        for _ in range(8):
            top = w & 0x8000
            w <<= 1
            if top:
                w ^= 0x6900
        value = (w >> 8) & 0xFF
    return value


def frame(body: bytes) -> bytes:
    """``FF`` + escaped ``body + CRC`` + ``FF FF``."""
    content = body + bytes([crc(body)])
    return b"\xff" + content.replace(b"\xff", b"\xff\xfe") + b"\xff\xff"


class TensoM(ScaleProtocol):
    """Tenso-M binary protocol, gross weight polled with C3."""

    name = "tenso-m"
    has_stable_flag = True
    poll = frame(bytes([1, GROSS]))

    def __init__(self, address: int = 1) -> None:
        if not 1 <= address <= 159:
            raise ValueError("address must be 1..159")
        self.address = address
        self.poll = frame(bytes([address, GROSS]))

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one frame from the start of ``buffer``."""
        used, body = _cut(buffer)
        if not isinstance(body, bytes):
            return used, body
        raw = buffer[:used]
        if len(body) < 3:
            return used, Noise("format", raw)
        if crc(body[:-1]) != body[-1]:
            return used, Noise("checksum", raw)
        address, command, data = body[0], body[1], body[2:-1]
        if address != self.address or command != GROSS or not data:
            return used, None  # another terminal, our own poll echoed, another command
        if len(data) != 4:
            return used, Noise("format", raw)
        digits = data[2::-1].hex()  # most significant byte first
        con = data[3]
        if not digits.isdigit() or con & POINT > 6:
            return used, Noise("format", raw)
        if con & OVERLOAD:
            return used, Reading(Decimal(0), stable=bool(con & STABLE), overload=True, raw=raw)
        value = Decimal(int(digits)).scaleb(-(con & POINT))
        return used, Reading(
            weight=-value if con & MINUS else value,
            unit="kg",
            stable=bool(con & STABLE),
            raw=raw,
        )

    def encode(self, reading: Reading) -> bytes:
        """The C3 reply for this reading (kg, its own decimals)."""
        weight = reading.weight_kg
        decimals = decimals_of(weight)
        scaled = int(abs(weight).scaleb(decimals))
        if decimals > 6 or scaled > 999_999:
            raise ValueError(f"{weight} does not fit 6 BCD digits")
        bcd = bytes.fromhex(f"{scaled:06d}")[::-1]
        con = decimals | STABLE * (reading.stable is not False) | OVERLOAD * reading.overload
        con |= MINUS * (weight < 0)
        return frame(bytes([self.address, GROSS]) + bcd + bytes([con]))

    def answer(self, request: bytes, reading: Reading) -> tuple[int, bytes]:
        """Reply to a C3 poll for our address (simulator); other requests get no reply."""
        used, body = _cut(request)
        if not isinstance(body, bytes) or len(body) != 3 or crc(body[:2]) != body[2]:
            return used, b""
        if body[0] != self.address or body[1] != GROSS:
            return used, b""
        return used, self.encode(reading)


def _cut(buffer: bytes) -> tuple[int, bytes | Noise | None]:
    """Cut one ``FF ... FF FF`` frame off ``buffer`` and return its unescaped body."""
    if not buffer:
        return 0, None
    if buffer[0] != FF:
        used, noise = skip_to(buffer, b"\xff")
        return used, noise if isinstance(noise, Noise) else None
    run = len(buffer) - len(buffer.lstrip(b"\xff"))
    if run > 1:
        return run - 1, None  # fill between frames; the last FF may start the next one
    if run == len(buffer):
        return 0, None
    body = bytearray()
    i = 1
    while i < min(len(buffer), MAX_RAW):
        if buffer[i] != FF:
            body.append(buffer[i])
            i += 1
        elif i + 1 == len(buffer):
            return 0, None
        elif buffer[i + 1] == FE:
            body.append(FF)
            i += 2
        elif buffer[i + 1] == FF:
            return i + 2, bytes(body)
        else:  # FF then a non-FF byte: the next frame starts here
            return i, Noise("truncated", buffer[:i])
    if len(buffer) < MAX_RAW:
        return 0, None
    return i, Noise("format", buffer[:i])
