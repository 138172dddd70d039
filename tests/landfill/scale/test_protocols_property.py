"""Property tests: decode(encode(r)) == r, and no byte sequence crashes or stalls a decoder."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landfill.scale.frames import UNITS, Reading, ScaleProtocol
from landfill.scale.protocols import PROTOCOLS, get_protocol
from tests.landfill.scale.recorded_frames import FRAMES
from tests.landfill.scale.test_protocols import drive, readings

SETTINGS = settings(max_examples=200, deadline=None)
NOISE_SETTINGS = settings(max_examples=100, deadline=None)  # per protocol variant
MAX_PENDING = 64  # no decoder may sit on more bytes than this waiting for a frame to end

Draw = Callable[[st.SearchStrategy[Any]], Any]


def amount(draw: Draw, digits: int, decimals: int, signed: bool = True) -> Decimal:
    """A weight with up to ``digits`` digits and exactly ``d <= decimals`` decimal places."""
    d = draw(st.integers(0, decimals))
    value = Decimal(draw(st.integers(0, 10**digits - 1))).scaleb(-d)
    return -value if signed and value and draw(st.booleans()) else value


@st.composite
def a9(draw: Draw) -> tuple[dict[str, Any], Reading]:
    decimals = draw(st.integers(0, 4))
    value = Decimal(draw(st.integers(-999_999, 999_999))).scaleb(-decimals)
    return {"decimals": decimals}, Reading(value)


@st.composite
def a9_poll(draw: Draw) -> tuple[dict[str, Any], Reading]:
    options, reading = draw(a9())
    options["address"] = draw(st.sampled_from("ABCXYZ"))
    return options, Reading(reading.weight, net=draw(st.booleans()))


@st.composite
def keli(draw: Draw) -> tuple[dict[str, Any], Reading]:
    whole = draw(st.booleans())
    value = amount(draw, 7, 0) if whole else amount(draw, 6, 5)
    return {"reverse": draw(st.booleans())}, Reading(value)


@st.composite
def a12(draw: Draw) -> tuple[dict[str, Any], Reading]:
    unit = draw(st.sampled_from(["kg", "lb"]))
    return {}, Reading(amount(draw, 7, 4), unit=unit, net=draw(st.booleans()))


@st.composite
def a12e(draw: Draw) -> tuple[dict[str, Any], Reading]:
    state = draw(st.sampled_from(["weight", "overload", "underload"]))
    if state == "weight":
        return {}, Reading(amount(draw, 5, 3), net=draw(st.booleans()))
    return {}, Reading(Decimal(0), overload=state == "overload", underload=state == "underload")


@st.composite
def st_us(draw: Draw) -> tuple[dict[str, Any], Reading]:
    net = draw(st.booleans())
    if draw(st.booleans()):
        return {}, Reading(Decimal(0), overload=True, net=net)
    unit = draw(st.sampled_from(UNITS))
    return {}, Reading(amount(draw, 7, 3), unit, stable=draw(st.booleans()), net=net)


@st.composite
def toledo(draw: Draw) -> tuple[dict[str, Any], Reading]:
    d = draw(st.integers(0, 5))
    weight = Decimal(draw(st.integers(0, 999_999))).scaleb(-d)
    state = draw(st.sampled_from(["ok", "ok", "overload", "underload"]))
    negative = state == "underload" or (state == "ok" and draw(st.booleans()))
    if negative and not weight:
        weight = Decimal(1).scaleb(-d)
    tare_digits = draw(st.none() | st.integers(0, 999_999))
    reading = Reading(
        -weight if negative else weight,
        unit=draw(st.sampled_from(["kg", "lb", "g"])),
        stable=draw(st.booleans()),
        overload=state == "overload",
        underload=state == "underload",
        net=draw(st.booleans()),
        tare=None if tare_digits is None else Decimal(tare_digits).scaleb(-d),
    )
    return {"checksum": draw(st.booleans())}, reading


@st.composite
def sma(draw: Draw) -> tuple[dict[str, Any], Reading]:
    state = draw(st.sampled_from(["ok", "overload", "underload"]))
    reading = Reading(
        amount(draw, 8, 3),
        unit=draw(st.sampled_from(UNITS)),
        stable=draw(st.booleans()),
        overload=state == "overload",
        underload=state == "underload",
        net=draw(st.booleans()),
    )
    return {"continuous": draw(st.booleans())}, reading


@st.composite
def mt_sics(draw: Draw) -> tuple[dict[str, Any], Reading]:
    state = draw(st.sampled_from(["ok", "ok", "overload", "underload"]))
    if state != "ok":
        return {}, Reading(Decimal(0), overload=state == "overload", underload=state == "underload")
    unit = draw(st.sampled_from(UNITS))
    return {}, Reading(amount(draw, 8, 4), unit, stable=draw(st.booleans()))


@st.composite
def rinstrum(draw: Draw) -> tuple[dict[str, Any], Reading]:
    weight = amount(draw, 6, 3)
    status = draw(st.sampled_from("GNMOU"))
    if status in "OU":
        return {}, Reading(weight, overload=status == "O", underload=status == "U")
    return {}, Reading(weight, stable=status != "M", net=status == "N")


@st.composite
def tenso_m(draw: Draw) -> tuple[dict[str, Any], Reading]:
    options = {"address": draw(st.integers(1, 159))}
    stable = draw(st.booleans())
    if draw(st.integers(0, 4)) == 0:
        return options, Reading(Decimal(0), stable=stable, overload=True)
    return options, Reading(amount(draw, 6, 5), stable=stable)


ROUND_TRIPS: dict[str, st.SearchStrategy[tuple[dict[str, Any], Reading]]] = {
    "yaohua-a9": a9(),
    "yaohua-a9-poll": a9_poll(),
    "keli-eq": keli(),
    "yaohua-a12": a12(),
    "yaohua-a12e": a12e(),
    "st-us": st_us(),
    "toledo": toledo(),
    "sma": sma(),
    "mt-sics": mt_sics(),
    "rinstrum": rinstrum(),
    "tenso-m": tenso_m(),
}

# every setting that changes how bytes are read, per protocol
VARIANTS: list[tuple[str, dict[str, Any]]] = [(name, {}) for name in PROTOCOLS] + [
    ("keli-eq", {"reverse": True}),
    ("toledo", {"checksum": True}),
]


def test_every_protocol_has_a_round_trip() -> None:
    assert set(ROUND_TRIPS) == set(PROTOCOLS)


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
@SETTINGS
@given(data=st.data())
def test_decode_encode_round_trip(name: str, data: st.DataObject) -> None:
    options, reading = data.draw(ROUND_TRIPS[name])
    protocol = get_protocol(name)(**options)
    frame = protocol.encode(reading)
    assert protocol.decode(frame) == (len(frame), reading)
    results, rest = drive(protocol, [bytes([b]) for b in frame + frame])
    assert readings(results) == [reading, reading]
    assert rest == b""


def _frames_for(name: str, options: dict[str, Any]) -> list[bytes]:
    return [f.frame for f in FRAMES if f.protocol == name and dict(f.options) == options]


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=lambda v: str(v))
@NOISE_SETTINGS
@given(chunks=st.lists(st.binary(max_size=40), max_size=12))
def test_arbitrary_bytes_never_crash_or_stall(
    name: str, options: dict[str, Any], chunks: list[bytes]
) -> None:
    protocol: ScaleProtocol = get_protocol(name)(**options)
    _, rest = drive(protocol, chunks)  # drive asserts 0 <= used <= len and no result at 0
    assert len(rest) <= MAX_PENDING


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=lambda v: str(v))
@NOISE_SETTINGS
@given(data=st.data())
def test_garbage_mixed_with_frames_never_crashes(
    name: str, options: dict[str, Any], data: st.DataObject
) -> None:
    frames = _frames_for(name, options)
    pieces = st.binary(max_size=20) | st.sampled_from(frames) if frames else st.binary()
    stream = b"".join(data.draw(st.lists(pieces, max_size=12)))
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=6)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    _, rest = drive(get_protocol(name)(**options), chunks)
    assert len(rest) <= MAX_PENDING


@pytest.mark.parametrize(("name", "options"), VARIANTS, ids=lambda v: str(v))
@NOISE_SETTINGS
@given(data=st.data())
def test_any_sequence_of_recorded_frames_decodes_exactly(
    name: str, options: dict[str, Any], data: st.DataObject
) -> None:
    recorded = [f for f in FRAMES if f.protocol == name and dict(f.options) == options]
    if not recorded:
        return
    picked = data.draw(st.lists(st.sampled_from(recorded), max_size=8))
    stream = b"".join(f.frame for f in picked)
    results, rest = drive(get_protocol(name)(**options), [stream])
    assert readings(results) == [f.expected for f in picked if f.expected is not None]
    assert rest == b""
