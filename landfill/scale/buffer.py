"""Stream buffer: bytes from the serial port in, whole decoded readings out.

Feeds the protocol's `decode` until it needs more bytes, counts every rejected frame or
skipped byte run by reason, keeps the last raw frames for a dump when something goes wrong,
and never lets a stream without frame markers grow the buffer without bound.
"""

from __future__ import annotations

from collections import Counter, deque

from landfill.scale.frames import Noise, Reading, ScaleProtocol

MAX_BUFFER = 4096


class FrameStream:
    """Turns a byte stream into readings with one protocol."""

    def __init__(self, protocol: ScaleProtocol, max_buffer: int = MAX_BUFFER) -> None:
        self.protocol = protocol
        self.max_buffer = max_buffer
        self.buffer = b""
        self.bad: Counter[str] = Counter()
        self.frames = 0
        self.recent: deque[bytes] = deque(maxlen=16)

    def feed(self, data: bytes) -> list[Reading]:
        """Add bytes and return every reading they complete."""
        self.buffer += data
        out: list[Reading] = []
        while self.buffer:
            used, result = self.protocol.decode(self.buffer)
            if used <= 0:
                break
            self.buffer = self.buffer[used:]
            if isinstance(result, Reading):
                self.frames += 1
                self.recent.append(result.raw)
                out.append(result)
            elif isinstance(result, Noise):
                self.bad[result.reason] += 1
                self.recent.append(result.raw)
        if len(self.buffer) > self.max_buffer:
            self.bad["overflow"] += 1
            self.buffer = self.buffer[-self.max_buffer // 2 :]
        return out
