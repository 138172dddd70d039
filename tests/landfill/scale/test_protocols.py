"""Every recorded frame decodes to its reading however it arrives; bad frames never do."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

import pytest

from landfill.scale.frames import Decoded, Noise, Reading, ScaleProtocol
from landfill.scale.protocols import PROTOCOLS, get_protocol
from landfill.scale.protocols.yaohua_a9_poll import YaohuaA9Poll
from tests.landfill.scale.recorded_frames import (
    FRAMES,
    REJECTS,
    REQUESTS,
    Recorded,
    Rejected,
    Request,
)

GARBAGE = b"\x00\x13junk~\x7f"
WITH_CHECKSUM = [f for f in FRAMES if f.checksum_at is not None]


def drive(protocol: ScaleProtocol, chunks: Iterable[bytes]) -> tuple[list[Decoded], bytes]:
    """Feed ``chunks`` as a stream reader would: consume ``used`` bytes, read more at 0.

    Returns every result in order and the bytes still waiting for more input.
    """
    buffer = b""
    out: list[Decoded] = []
    for chunk in chunks:
        buffer += chunk
        while buffer:
            used, result = protocol.decode(buffer)
            assert 0 <= used <= len(buffer)
            if used == 0:
                assert result is None
                break
            out.append(result)
            buffer = buffer[used:]
    return out, buffer


def readings(results: list[Decoded]) -> list[Reading]:
    """Only the readings."""
    return [r for r in results if isinstance(r, Reading)]


def reasons(results: list[Decoded]) -> list[str]:
    """The reasons of every Noise."""
    return [r.reason for r in results if isinstance(r, Noise)]


def expected_list(rec: Recorded, times: int = 1) -> list[Reading]:
    """What a stream of ``times`` copies of the frame must yield."""
    return [rec.expected] * times if rec.expected is not None else []


def break_checksum(frame: bytes, at: int) -> bytes:
    """Change one checksum byte to another value of the same kind (hex digit or binary)."""
    old = frame[at]
    if chr(old) in "0123456789ABCDEF":
        new = ord("1") if old == ord("0") else ord("0")
    else:
        new = old ^ 0x01
        assert new not in (0x02, 0x0D, 0xFE, 0xFF)  # still not a framing byte
    return frame[:at] + bytes([new]) + frame[at + 1 :]


@pytest.mark.parametrize("rec", FRAMES, ids=lambda r: r.id)
def test_whole_frame(rec: Recorded) -> None:
    used, result = rec.make().decode(rec.frame)
    assert used == len(rec.frame)
    assert result == rec.expected
    if isinstance(result, Reading):
        assert result.raw == rec.frame
        assert isinstance(result.weight, Decimal)


@pytest.mark.parametrize("rec", FRAMES, ids=lambda r: r.id)
def test_split_at_every_position(rec: Recorded) -> None:
    for cut in range(1, len(rec.frame)):
        results, rest = drive(rec.make(), [rec.frame[:cut], rec.frame[cut:]])
        assert readings(results) == expected_list(rec), cut
        assert reasons(results) == [], cut
        assert rest == b""


@pytest.mark.parametrize("rec", FRAMES, ids=lambda r: r.id)
def test_byte_by_byte(rec: Recorded) -> None:
    results, rest = drive(rec.make(), (bytes([b]) for b in rec.frame))
    assert readings(results) == expected_list(rec)
    assert reasons(results) == []
    assert rest == b""


@pytest.mark.parametrize("rec", FRAMES, ids=lambda r: r.id)
def test_garbage_before_and_after(rec: Recorded) -> None:
    for chunks in ([GARBAGE + rec.frame + GARBAGE], [bytes([b]) for b in GARBAGE + rec.frame]):
        results, _ = drive(rec.make(), chunks)
        assert readings(results) == expected_list(rec)
        assert set(reasons(results)) == {"garbage"}


@pytest.mark.parametrize("rec", FRAMES, ids=lambda r: r.id)
def test_back_to_back(rec: Recorded) -> None:
    two = rec.frame + rec.frame
    for chunks in ([two], [bytes([b]) for b in two]):
        results, rest = drive(rec.make(), chunks)
        assert readings(results) == expected_list(rec, 2)
        assert reasons(results) == []
        assert rest == b""


@pytest.mark.parametrize("rec", FRAMES, ids=lambda r: r.id)
def test_cut_short_then_whole(rec: Recorded) -> None:
    half = rec.frame[: len(rec.frame) // 2]
    results, rest = drive(rec.make(), [half + rec.frame])
    assert readings(results) == expected_list(rec)
    assert rest == b""


@pytest.mark.parametrize("rec", WITH_CHECKSUM, ids=lambda r: r.id)
def test_broken_checksum_gives_no_reading(rec: Recorded) -> None:
    assert rec.checksum_at is not None
    bad = break_checksum(rec.frame, rec.checksum_at)
    for chunks in ([bad], [bytes([b]) for b in bad]):
        results, _ = drive(rec.make(), chunks)
        assert readings(results) == []
        assert "checksum" in reasons(results)
    # and the stream recovers on the next good frame
    results, _ = drive(rec.make(), [bad + rec.frame])
    assert readings(results) == expected_list(rec)


@pytest.mark.parametrize("rej", REJECTS, ids=lambda r: f"{r.protocol}:{r.frame!r}")
def test_rejected(rej: Rejected) -> None:
    results, _ = drive(get_protocol(rej.protocol)(**rej.options), [rej.frame])
    assert readings(results) == []
    assert rej.reason in reasons(results)


SAMPLES = {
    "yaohua-a9-poll": Reading(Decimal(1560)),
    "sma": Reading(Decimal(1560), stable=True),
    "mt-sics": Reading(Decimal(1560), stable=True),
    "tenso-m": Reading(Decimal(1560), stable=True),
}


@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: r.protocol)
def test_poll_and_answer(req: Request) -> None:
    protocol = get_protocol(req.protocol)(**req.options)
    assert protocol.poll == req.request  # the reference's poll is what we send
    assert protocol.answer(req.request[:2], SAMPLES[req.protocol]) == (0, b"")
    used, reply = protocol.answer(req.request, SAMPLES[req.protocol])
    assert used == len(req.request)
    assert protocol.decode(reply) == (len(reply), SAMPLES[req.protocol])


def test_every_polled_protocol_has_a_recorded_request() -> None:
    polled = {name for name, cls in PROTOCOLS.items() if cls().poll is not None}
    assert polled == {r.protocol for r in REQUESTS}


def test_a9_poll_answers_tare_and_net() -> None:
    protocol = get_protocol("yaohua-a9-poll")()
    truck = Reading(Decimal(14560), net=True, tare=Decimal(6000))
    _, net = protocol.answer(b"\x02AD05\x03", truck)
    _, gross = protocol.answer(protocol.poll or b"", truck)
    _, tare = protocol.answer(b"\x02AC02\x03", truck)
    assert protocol.decode(net)[1] == Reading(Decimal(14560), net=True)
    assert protocol.decode(gross)[1] == Reading(Decimal(20560))
    assert tare == b"\x02AC+00600001F\x03"
    assert protocol.decode(tare) == (14, None)


def test_other_address_is_ignored() -> None:
    protocol = YaohuaA9Poll(address="B")
    assert protocol.poll == b"\x02BB00\x03"
    assert protocol.decode(b"\x02AB+00156001A\x03") == (14, None)
    assert protocol.answer(b"\x02AB03\x03", Reading(Decimal(1))) == (6, b"")


@pytest.mark.parametrize(
    ("name", "options", "reading"),
    [
        ("yaohua-a9", {}, Reading(Decimal(1_000_000))),
        ("keli-eq", {}, Reading(Decimal("123456.78"))),
        ("yaohua-a12e", {}, Reading(Decimal(-123456))),
        ("toledo", {}, Reading(Decimal("1.234567"), stable=True)),
        ("toledo", {}, Reading(Decimal(1), unit="t")),
        ("rinstrum", {}, Reading(Decimal("12345678"))),
        ("tenso-m", {}, Reading(Decimal(1_000_000))),
        ("st-us", {}, Reading(Decimal(1), underload=True)),
    ],
)
def test_encode_refuses_what_the_frame_cannot_carry(
    name: str, options: dict[str, object], reading: Reading
) -> None:
    with pytest.raises(ValueError):
        get_protocol(name)(**options).encode(reading)


def test_registry_names_and_recorded_frames() -> None:
    recorded = {rec.protocol for rec in FRAMES}
    assert set(PROTOCOLS) <= recorded, "every protocol needs at least one recorded frame"
    assert recorded <= set(PROTOCOLS)
    for name, cls in PROTOCOLS.items():
        assert cls.name == name
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), "names are kebab-case"
        protocol = cls()  # the service builds protocols with defaults
        assert protocol.serial.baudrate > 0


def test_stable_flag_matches_the_protocol() -> None:
    for rec in FRAMES:
        if isinstance(rec.expected, Reading) and not PROTOCOLS[rec.protocol].has_stable_flag:
            assert rec.expected.stable is None, rec.id
    flagged = {
        rec.protocol
        for rec in FRAMES
        if isinstance(rec.expected, Reading) and rec.expected.stable is not None
    }
    assert flagged == {name for name, cls in PROTOCOLS.items() if cls.has_stable_flag}


def test_get_protocol_unknown_name() -> None:
    with pytest.raises(ValueError, match="known:"):
        get_protocol("no-such-scale")
