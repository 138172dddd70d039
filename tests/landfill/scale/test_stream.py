"""Stream buffer + A9 + state machine: bad bytes never become a capture."""

from __future__ import annotations

from decimal import Decimal

from edge.scale.weighing import Captured, WeighingTracker
from landfill.scale.buffer import FrameStream
from landfill.scale.frames import Reading
from landfill.scale.protocols.yaohua_a9 import YaohuaA9

A9 = YaohuaA9()


def frame(kg: int) -> bytes:
    return A9.encode(Reading(Decimal(kg)))


def corrupt(f: bytes) -> bytes:
    """Same frame, last checksum digit changed."""
    return f[:10] + (b"0" if f[10:11] != b"0" else b"1") + f[11:]


def run(stream_bytes: bytes, chunk: int = 7):
    stream = FrameStream(A9)
    tracker = WeighingTracker(division_kg=20)
    out, t = [], 0.0
    for i in range(0, len(stream_bytes), chunk):
        for r in stream.feed(stream_bytes[i : i + chunk]):
            out += tracker.observe(r, t)
            t += 0.1
    return stream, [o for o in out if isinstance(o, Captured)]


def test_a_plateau_of_bad_checksums_never_captures():
    stream, captures = run(b"".join(corrupt(frame(14560)) for _ in range(60)))
    assert captures == []
    assert stream.bad["checksum"] == 60
    assert stream.frames == 0


def test_garbage_between_frames_is_skipped_and_counted():
    data = b"".join(b"\x00\xffNOISE" + frame(14560) for _ in range(40))
    stream, captures = run(data)
    assert [c.weight_kg for c in captures] == [14560]
    assert stream.frames == 40
    assert stream.bad["garbage"] >= 40


def test_bad_frames_inside_a_plateau_do_not_change_the_weight():
    good, bad = frame(14560), corrupt(frame(18000))
    _, captures = run((good + bad) * 40)
    assert [c.weight_kg for c in captures] == [14560]


def test_endless_noise_does_not_grow_the_buffer():
    stream = FrameStream(A9, max_buffer=256)
    for _ in range(100):
        stream.feed(b"\x02" + b"9" * 100)
    assert len(stream.buffer) <= 256
