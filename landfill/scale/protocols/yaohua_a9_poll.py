"""Yaohua XK3190-A9/A9+/DS3 (and Keli XK3118K9) command mode (tF=1).

    host:   STX addr cmd XOR-hi XOR-lo ETX                                   6 bytes
            02  A-Z  A-F  XOR of addr+cmd as ASCII hex   03
    reply:  STX addr cmd sign d d d d d d dp XOR-hi XOR-lo ETX              14 bytes
            02  A-Z  B/C/D +/-  weight, MSB first   0-4   ASCII hex   03

Commands: A handshake, B gross, C tare, D net, E truck no., F cargo no. ``poll`` asks for the
gross weight (B) at the configured address; a D reply decodes as a net reading.

Decisions (weighbridge.md 1.1 and 1.4 leave them open):
- The reference says the request XOR covers address and command; for the reply we apply the
  same rule as every Yaohua frame: the XOR covers everything between STX and the checksum
  (address, command, data).
- Frames that carry no platform weight are consumed without a reading (``None``): the tare
  reply (C), replies whose layout the reference does not give (A, E, F), replies from another
  address on a multi-drop line, and our own request echoed back by a 2-wire RS-485 adapter.
- The simulator answers B, C and D; it stays silent on A, E and F, whose reply layout the
  reference does not give.

Survives: garbage (resync on STX), a frame cut short by the next STX ("truncated"), a frame
without ETX ("format"), a wrong XOR ("checksum"), bad digits ("format"), any split.
"""

from __future__ import annotations

from decimal import Decimal

from landfill.scale.frames import Decoded, Noise, Reading, ScaleProtocol, skip_to, xor_ascii_hex
from landfill.scale.protocols.yaohua_a9 import parse_weight_body, weight_body

STX, ETX = b"\x02", b"\x03"
REQUEST_LEN = 6
REPLY_LEN = 14
MAX_FRAME = 32  # longer than any reply we know; a frame without ETX by then is broken
GROSS, TARE, NET = b"B", b"C", b"D"


def request(address: str, command: bytes) -> bytes:
    """The host request ``STX addr cmd XOR ETX``."""
    body = address.encode("ascii") + command
    return STX + body + xor_ascii_hex(body) + ETX


class YaohuaA9Poll(ScaleProtocol):
    """Yaohua A9 command mode: one request, one fresh reply."""

    name = "yaohua-a9-poll"
    poll = request("A", GROSS)

    def __init__(self, address: str = "A", decimals: int = 0) -> None:
        if len(address) != 1 or not "A" <= address <= "Z":
            raise ValueError("address must be one letter A-Z")
        if not 0 <= decimals <= 4:
            raise ValueError("decimals must be 0..4")
        self.address = address.encode("ascii")
        self.decimals = decimals  # encode only
        self.poll = request(address, GROSS)

    def decode(self, buffer: bytes) -> tuple[int, Decoded]:
        """Decode one reply (or skip one echoed request) from the start of ``buffer``."""
        used, frame = _frame(buffer)
        if frame is None or isinstance(frame, Noise):
            return used, frame
        if frame[-3:-1] != xor_ascii_hex(frame[1:-3]):
            return used, Noise("checksum", frame)
        address, command = frame[1:2], frame[2:3]
        if len(frame) == REQUEST_LEN or address != self.address:
            return used, None  # our own poll echoed back, or another indicator's reply
        if command in (GROSS, NET, TARE) and len(frame) != REPLY_LEN:
            return used, Noise("format", frame)
        if command not in (GROSS, NET):
            return used, None  # tare, handshake, truck/cargo numbers: no platform weight
        value = parse_weight_body(frame[3:11])
        if value is None:
            return used, Noise("format", frame)
        return used, Reading(weight=value, unit="kg", net=command == NET, raw=frame)

    def encode(self, reading: Reading) -> bytes:
        """The reply to a gross (or, for a net reading, net) request."""
        return self._reply(NET if reading.net else GROSS, reading.weight_kg)

    def answer(self, request: bytes, reading: Reading) -> tuple[int, bytes]:
        """Reply to one host request as the indicator would (simulator)."""
        used, frame = _frame(request)
        if frame is None or isinstance(frame, Noise):
            return used, b""
        if len(frame) != REQUEST_LEN or frame[-3:-1] != xor_ascii_hex(frame[1:-3]):
            return used, b""
        if frame[1:2] != self.address:
            return used, b""
        tare = Decimal(0) if reading.tare is None else Reading(reading.tare, reading.unit).weight_kg
        gross = reading.weight_kg + tare if reading.net else reading.weight_kg
        values = {GROSS: gross, NET: gross - tare, TARE: tare}
        command = frame[2:3]
        if command not in values:
            return used, b""
        return used, self._reply(command, values[command])

    def _reply(self, command: bytes, weight: Decimal) -> bytes:
        body = self.address + command + weight_body(weight, self.decimals)
        return STX + body + xor_ascii_hex(body) + ETX


def _frame(buffer: bytes) -> tuple[int, bytes | Noise | None]:
    """Cut one ``STX ... ETX`` frame (at least 6 bytes) off ``buffer``."""
    if not buffer:
        return 0, None
    if buffer[:1] != STX:
        used, noise = skip_to(buffer, STX)
        return used, noise if isinstance(noise, Noise) else None
    end = buffer.find(ETX, 1, MAX_FRAME)
    nxt = buffer.find(STX, 1, end if end > 0 else MAX_FRAME)
    if nxt > 0:  # a new frame starts before this one ended
        return nxt, Noise("truncated", buffer[:nxt])
    if end < 0:
        if len(buffer) < MAX_FRAME:
            return 0, None
        return MAX_FRAME, Noise("format", buffer[:MAX_FRAME])
    frame = buffer[: end + 1]
    if len(frame) < REQUEST_LEN:
        return len(frame), Noise("format", frame)
    return len(frame), frame
