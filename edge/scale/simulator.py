"""Scale simulator: scripted trucks on a virtual indicator, over a pty or a TCP socket.

Speaks any registered protocol byte for byte through the protocol's own `encode` (streaming
protocols) or `answer` (polled ones: A9 command mode, SMA, MT-SICS, Tenso-M), so the edge
reads exactly what a real indicator would send. Scenarios: `SCENARIOS` (`--scenario`).

Line faults: ``noise`` is the share of frames preceded by random garbage bytes, ``bad`` the
share of frames replaced by a copy with one byte changed so the protocol's own checks reject
it (a bad checksum; protocols without a checksum get a broken format where one exists).
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import signal
import socket
import sys
import threading
import time
import tty
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel, Field, field_validator, model_validator

from landfill.lifecycle import raise_interrupt
from landfill.options import add_options, build, command_parser
from landfill.scale.buffer import FrameStream
from landfill.scale.frames import Reading, ScaleProtocol
from landfill.scale.protocols import describe, make_protocol


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


def _steps(seconds: float, rate_hz: float) -> range:
    return range(max(1, int(seconds * rate_hz)))


def idle(seconds: float, rate_hz: float, kg: int = 0) -> Iterator[Reading]:
    """An unloaded (or ``kg``-loaded) platform at rest."""
    for _ in _steps(seconds, rate_hz):
        yield Reading(Decimal(kg), stable=True)


def moving_load(gross_kg: int, seconds: float, rate_hz: float) -> Iterator[Reading]:
    """A load that rolls on and off without stopping: never two readings alike."""
    n = len(_steps(seconds, rate_hz))
    for i in range(n):
        # a triangle: up to gross_kg and back, every step several divisions apart
        frac = 1 - abs(2 * (i + 1) / (n + 1) - 1)
        yield Reading(Decimal(int(gross_kg * frac)), stable=False)


def person_steps_on(truck: Truck, rate_hz: float, rng: random.Random) -> Iterator[Reading]:
    """A truck settles and is captured, a person (80 kg) steps on and off, the truck leaves."""
    settle = Truck(truck.gross_kg, truck.empty_s, truck.ramp_s, truck.hold_s, 0, truck.division_kg)
    for r in truck_weights(settle, rate_hz, rng):
        if r.weight or r.stable is not True:  # drop the empty tail: the truck stays on
            yield r
    for _ in _steps(0.5, rate_hz):
        yield Reading(Decimal(truck.gross_kg + 80), stable=False)
    yield from idle(1.0, rate_hz, truck.gross_kg)
    n = len(_steps(truck.leave_s, rate_hz))
    for i in range(n):
        yield Reading(Decimal(truck.gross_kg * (n - i - 1) // n), stable=False)


def not_back_to_zero(truck: Truck, rate_hz: float, rng: random.Random) -> Iterator[Reading]:
    """A truck is weighed and leaves, but 100 kg of mud stay on the platform for a while."""
    for r in truck_weights(truck, rate_hz, rng):
        yield r if r.weight else Reading(Decimal(100), stable=r.stable)
    yield from idle(truck.hold_s, rate_hz, 100)


def overload(capacity_kg: int, rate_hz: float) -> Iterator[Reading]:
    """A load beyond the scale's capacity: the indicator raises its overload flag."""
    yield from moving_load(capacity_kg, 1.0, rate_hz)
    for _ in _steps(1.5, rate_hz):
        yield Reading(Decimal(0), overload=True)
    yield from idle(1.0, rate_hz)


def typed_weights(
    targets: queue.Queue[int | None], rate_hz: float, ramp_s: float = 1.0
) -> Iterator[Reading]:
    """The platform follows weights as they are given: a load moves to each new target over
    ``ramp_s`` (in motion), then stands there, stable, until the next one (0: empty; None:
    the end).

    The first reading at a new target is the indicator's first stable frame of it.
    """
    current = 0
    while True:
        try:
            target = targets.get_nowait()
        except queue.Empty:
            yield Reading(Decimal(current), stable=True)
            continue
        if target is None:
            return
        n = len(_steps(ramp_s, rate_hz))
        for i in range(1, n + 1):
            yield Reading(Decimal(current + (target - current) * i // (n + 1)), stable=False)
        current = target


def read_targets(lines: TextIO, targets: queue.Queue[int | None]) -> None:
    """Put every whole number typed on ``lines`` into ``targets``; other lines are ignored."""
    for line in lines:
        text = line.strip()
        if text.isdigit():
            targets.put(int(text))
        elif text:
            print(f"not a weight in kg: {text!r}", file=sys.stderr)  # noqa: T201 - tells the typist


SCENARIOS: dict[str, str] = {
    "trucks": "endless random trucks: empty, drive on, settle with one-division flicker, leave",
    "truck": "one truck of --weight",
    "moving": "a load rolls across without stopping (never stable: no capture)",
    "person": "a truck is captured, a person steps on and off, the truck leaves (one capture)",
    "not-zero": "a truck leaves and mud keeps the platform off zero (event not_back_to_zero)",
    "overload": "a load beyond capacity (the indicator's overload flag; event overload)",
    "mixed": "moving, truck, person, not-zero, truck: the acceptance script",
    "typed": "weights typed on standard input, one a line: the load moves there and stays",
}


def scenario(
    name: str,
    rate_hz: float,
    rng: random.Random,
    *,
    gross_kg: int = 14_560,
    trucks: int = 0,
    hold_s: float = 5.0,
    typed: queue.Queue[int | None] | None = None,
) -> Iterator[Reading]:
    """Readings of a named scenario (see `SCENARIOS`); ``trucks`` limits ``trucks``, ``typed``
    feeds ``typed``."""
    truck = Truck(gross_kg, empty_s=1.0, ramp_s=1.0, hold_s=hold_s, leave_s=1.0)
    if name == "trucks":
        for n, t in enumerate(random_trucks(rng)):
            if trucks and n >= trucks:
                return
            yield from truck_weights(t, rate_hz, rng)
    elif name == "truck":
        yield from truck_weights(truck, rate_hz, rng)
    elif name == "moving":
        yield from idle(0.5, rate_hz)
        yield from moving_load(gross_kg, 3.0, rate_hz)
        yield from idle(0.5, rate_hz)
    elif name == "person":
        yield from person_steps_on(truck, rate_hz, rng)
    elif name == "not-zero":
        yield from not_back_to_zero(truck, rate_hz, rng)
    elif name == "overload":
        yield from overload(gross_kg, rate_hz)
    elif name == "typed":
        if typed is None:  # nobody types: one truck of gross_kg, then empty
            typed = queue.Queue()
            for kg in (gross_kg, 0, None):
                typed.put(kg)
        yield from typed_weights(typed, rate_hz)
    elif name == "mixed":
        yield from scenario("moving", rate_hz, rng, gross_kg=gross_kg + 2_000)
        yield from truck_weights(truck, rate_hz, rng)
        yield from person_steps_on(Truck(gross_kg + 1_000, 1.0, 1.0, hold_s, 1.0), rate_hz, rng)
        yield from not_back_to_zero(Truck(gross_kg + 3_000, 1.0, 1.0, hold_s, 1.0), rate_hz, rng)
        yield from truck_weights(Truck(gross_kg + 4_000, 1.0, 1.0, hold_s, 1.0), rate_hz, rng)
    else:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")


def corrupt(protocol: ScaleProtocol, frame: bytes, rng: random.Random) -> bytes | None:
    """``frame`` with one byte changed so the protocol rejects it, or None if none is found.

    The check is the protocol's own decoder: the broken frame followed by a good one must
    decode to exactly the good one, so a corrupted frame can never become a wrong weight.
    """
    expected = FrameStream(protocol).feed(frame)
    if len(expected) != 1:
        return None
    positions = list(range(len(frame)))
    rng.shuffle(positions)
    for pos in positions[:24]:
        broken = frame[:pos] + bytes([frame[pos] ^ rng.randint(1, 0x3F)]) + frame[pos + 1 :]
        stream = FrameStream(protocol)
        readings = stream.feed(broken + frame)
        if readings == expected and stream.bad:
            return broken
    return None


def garbage(rng: random.Random) -> bytes:
    """A few random bytes, as a noisy line or a scoreboard on the same wire would add."""
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))


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
        readings: Iterable[Reading],
        rate_hz: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        *,
        noise: float = 0.0,
        bad: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        self.protocol = protocol
        self.link = link
        self.readings = iter(readings)
        self.rate_hz = rate_hz
        self.sleep = sleep
        self.noise = noise
        self.bad = bad
        self.rng = rng or random.Random()
        self.stop_event = threading.Event()
        self.sent = 0
        self.current: Reading | None = None
        self.corrupted = 0

    def line(self, frame: bytes) -> bytes:
        """What goes on the wire for ``frame`` after the configured line faults."""
        if not frame:
            return frame
        if self.bad and self.rng.random() < self.bad:
            broken = corrupt(self.protocol, frame, self.rng)
            if broken is not None:
                self.corrupted += 1
                frame = broken
        if self.noise and self.rng.random() < self.noise:
            frame = garbage(self.rng) + frame
        return frame

    def run(self, limit: int | None = None) -> None:
        """Send one reading per period (or answer polls) until stopped or ``limit`` readings."""
        pending = b""
        for reading in self.readings:
            if self.stop_event.is_set() or (limit is not None and self.sent >= limit):
                return
            self.current = reading
            if self.protocol.poll is None:
                self.link.write(self.line(self.protocol.encode(reading)))
            else:
                pending += self.link.read()
                while pending:
                    used, reply = self.protocol.answer(pending, reading)
                    if used <= 0:
                        break
                    pending = pending[used:]
                    self.link.write(self.line(reply))
                if len(pending) > 256:
                    pending = pending[-64:]  # a host sending nonsense must not grow this
            self.sent += 1
            self.sleep(1.0 / self.rate_hz)


# ---- `landfill simulate scale` -------------------------------------------------------------


class ScaleSimulatorOptions(BaseModel):
    """What `landfill simulate scale` plays, and how."""

    protocol: str = Field("yaohua-a9", description="indicator protocol (see above)")
    options: str = Field("", description="protocol options key=value,... (see above)")
    link: Path | None = Field(None, description="also make a symlink to the pty here")
    tcp: int | None = Field(
        None, ge=0, lt=65536, description="serve on this TCP port instead of a pty (0: any)"
    )
    rate: float = Field(10.0, gt=0, description="frames per second")
    scenario: str = Field("trucks", description="what drives on (see above)")
    weight: int = Field(14_560, gt=0, description="gross kg of scripted trucks")
    hold: float = Field(5.0, ge=0, description="seconds a scripted truck stands")
    trucks: int = Field(0, ge=0, description="stop after N trucks (0: forever)")
    noise: float = Field(0.0, ge=0, le=1, description="share of frames after garbage")
    bad_checksums: float = Field(0.0, ge=0, le=1, description="share of frames sent corrupted")
    seed: int | None = Field(None, description="random seed for repeatable runs")

    @field_validator("scenario")
    @classmethod
    def _scenario_exists(cls, value: str) -> str:
        if value not in SCENARIOS:
            raise ValueError(f"unknown scenario {value!r}; known: {', '.join(SCENARIOS)}")
        return value

    @model_validator(mode="after")
    def _protocol_exists(self) -> ScaleSimulatorOptions:
        make_protocol(self.protocol, self.options)
        return self


DESCRIPTION = """\
Simulate trucks on a scale indicator speaking PROTOCOL byte for byte. Prints the device path
(or socket:// URL) first.

scenarios (--scenario):
{scenarios}

protocols (--protocol), what they read, and their --options key=value,...:
{protocols}
"""


def build_parser() -> argparse.ArgumentParser:
    """The options of `landfill simulate scale`, from `ScaleSimulatorOptions`."""
    scenarios = "\n".join(f"  {name:9} {what}" for name, what in SCENARIOS.items())
    text = DESCRIPTION.format(scenarios=scenarios, protocols=describe())
    parser = command_parser("simulate scale", text)
    add_options(parser, ScaleSimulatorOptions)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill simulate scale`: play the scenario until it ends or Ctrl-C."""
    opts = build(ScaleSimulatorOptions, build_parser().parse_args(argv))
    signal.signal(signal.SIGTERM, raise_interrupt)
    rng = random.Random(opts.seed)
    typed: queue.Queue[int | None] = queue.Queue()
    if opts.scenario == "typed":
        threading.Thread(target=read_targets, args=(sys.stdin, typed), daemon=True).start()
    readings = scenario(
        opts.scenario,
        opts.rate,
        rng,
        gross_kg=opts.weight,
        trucks=opts.trucks,
        hold_s=opts.hold,
        typed=typed,
    )
    link: PtyLink | TcpLink = TcpLink(opts.tcp) if opts.tcp is not None else PtyLink(opts.link)
    print(link.path, flush=True)  # noqa: T201 - the device path is this command's output
    finite = opts.scenario != "trucks" or opts.trucks > 0

    def script() -> Iterator[Reading]:
        yield from readings
        # after a finite script the indicator stays on, showing an empty platform
        while finite:
            yield from idle(1.0, opts.rate)

    sim = Simulator(
        make_protocol(opts.protocol, opts.options),
        link,
        script(),
        rate_hz=opts.rate,
        noise=opts.noise,
        bad=opts.bad_checksums,
        rng=random.Random(None if opts.seed is None else opts.seed + 1),
    )
    try:
        sim.run()
    except KeyboardInterrupt:
        pass
    finally:
        link.close()
    return 0
