"""Scale simulator: scripted trucks on a virtual indicator, over a pty or a TCP socket.

Speaks any registered protocol byte for byte through the protocol's own `encode`, so the
edge reads exactly what a real indicator would send. Scenario per truck: empty platform,
drive on (ramp), settle with noise of one division, hold, drive off, empty.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from edge.scale.frames import Reading, ScaleProtocol


@dataclass(frozen=True)
class Truck:
    """One scripted weighing: gross weight and how long each phase lasts (seconds)."""

    gross_kg: int
    empty_s: float = 2.0
    ramp_s: float = 2.0
    hold_s: float = 5.0
    leave_s: float = 1.5
    division_kg: int = 20


def truck_weights(truck: Truck, rate_hz: float, rng: random.Random) -> Iterator[Reading]:
    """Yield readings at ``rate_hz`` for one truck scenario."""
    dt = 1.0 / rate_hz

    def steps(seconds: float) -> range:
        return range(max(1, int(seconds / dt)))

    for _ in steps(truck.empty_s):
        yield Reading(Decimal(0), stable=True)
    n = len(steps(truck.ramp_s))
    for i in range(n):
        yield Reading(Decimal(truck.gross_kg * (i + 1) // n + rng.randint(-200, 200)), stable=False)
    for _ in steps(truck.hold_s):
        # an indicator shows whole divisions; a load between two of them flickers to the next
        flip = truck.division_kg if rng.random() < 0.2 else 0
        yield Reading(Decimal(truck.gross_kg + flip), stable=True)
    n = len(steps(truck.leave_s))
    for i in range(n):
        yield Reading(Decimal(truck.gross_kg * (n - i - 1) // n), stable=False)


def random_trucks(rng: random.Random) -> Iterator[Truck]:
    """An endless stream of plausible municipal trucks (tractor+trailer, Labo, GAZ, Howo)."""
    while True:
        base = rng.choice([4_200, 6_800, 8_900, 14_560, 18_240])
        yield Truck(gross_kg=base + rng.randrange(0, 600, 20))


class PtyLink:
    """A pseudo-terminal pair; the edge opens ``path`` as if it were /dev/ttyUSB0."""

    def __init__(self, link: Path | None = None) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.link = link
        if link is not None:
            link.parent.mkdir(parents=True, exist_ok=True)
            link.unlink(missing_ok=True)
            link.symlink_to(self.path)

    def write(self, data: bytes) -> None:
        """Write bytes like an indicator streaming into a cable; drop them if nobody reads."""
        try:
            os.write(self.master, data)
        except (BlockingIOError, OSError):
            pass

    def read(self) -> bytes:
        """Return what the host sent (polls), or nothing."""
        try:
            return os.read(self.master, 512)
        except (BlockingIOError, OSError):
            return b""

    def close(self) -> None:
        """Close both ends and remove the symlink."""
        if self.link is not None:
            self.link.unlink(missing_ok=True)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class TcpLink:
    """A TCP server for `socket://host:port`; one client at a time, like one cable."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.server = socket.create_server((host, port))
        self.server.settimeout(0.05)
        self.conn: socket.socket | None = None
        self.path = f"socket://{host}:{self.server.getsockname()[1]}"

    def _client(self) -> socket.socket | None:
        if self.conn is None:
            try:
                self.conn, _ = self.server.accept()
                self.conn.setblocking(False)
            except OSError:
                return None
        return self.conn

    def write(self, data: bytes) -> None:
        """Send to the connected client, if any."""
        conn = self._client()
        if conn is None:
            return
        try:
            conn.sendall(data)
        except OSError:
            conn.close()
            self.conn = None

    def read(self) -> bytes:
        """Return what the client sent, or nothing."""
        conn = self._client()
        if conn is None:
            return b""
        try:
            return conn.recv(512)
        except BlockingIOError:
            return b""
        except OSError:
            conn.close()
            self.conn = None
            return b""

    def close(self) -> None:
        """Close the client and the server socket."""
        if self.conn is not None:
            self.conn.close()
        self.server.close()


class Simulator:
    """Drives one link with one protocol from a stream of readings."""

    def __init__(
        self,
        protocol: ScaleProtocol,
        link: PtyLink | TcpLink,
        readings: Iterator[Reading],
        rate_hz: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.protocol = protocol
        self.link = link
        self.readings = readings
        self.rate_hz = rate_hz
        self.sleep = sleep
        self.stop_event = threading.Event()
        self.sent = 0

    def run(self, limit: int | None = None) -> None:
        """Send one reading per period (or answer polls) until stopped or ``limit`` readings."""
        pending = b""
        for reading in self.readings:
            if self.stop_event.is_set() or (limit is not None and self.sent >= limit):
                return
            if self.protocol.poll is None:
                self.link.write(self.protocol.encode(reading))
            else:
                pending += self.link.read()
                while pending:
                    used, reply = self.protocol.answer(pending, reading)
                    if used <= 0:
                        break
                    pending = pending[used:]
                    self.link.write(reply)
            self.sent += 1
            self.sleep(1.0 / self.rate_hz)
