"""Encoders are the decoders' inverse: decode(encode(x)) == x for every value a frame carries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.sensors.encoders import DeviceValues, encode
from edge.sensors.models import model_named
from tests.edge.sensors.samples import PAYLOADS

PROPS = settings(max_examples=300, deadline=None)
tenths = st.integers(min_value=-400, max_value=1200).map(lambda t: t / 10).filter(bool)


def decode(model: str, values: DeviceValues):
    fport, payload = encode(model, values)
    m = model_named(model)
    assert m is not None
    return m.decode(fport, payload)


@PROPS
@given(
    distance=st.integers(min_value=1, max_value=0xFFFF),
    battery=st.integers(min_value=0, max_value=100),
    tilt=st.booleans(),
)
def test_em310_round_trip(distance: int, battery: int, tilt: bool) -> None:
    up = decode("EM310-UDL", DeviceValues(distance_mm=distance, battery_pct=battery, tilt=tilt))
    assert (up.distance_mm, up.battery_pct, up.tilt) == (distance, battery, tilt)
    assert up.sentinels == ()


@PROPS
@given(
    distance=st.integers(min_value=1, max_value=0xFFFF),
    battery=st.integers(min_value=0, max_value=100),
    temp=tenths,
    tilt=st.booleans(),
)
def test_em400_round_trip(distance: int, battery: int, temp: float, tilt: bool) -> None:
    values = DeviceValues(distance_mm=distance, battery_pct=battery, temp_c=temp, tilt=tilt)
    for model in ("EM400-UDL", "EM400-MUD"):
        up = decode(model, values)
        assert (up.distance_mm, up.battery_pct, up.temp_c, up.tilt) == (
            distance,
            battery,
            temp,
            tilt,
        )


@PROPS
@given(
    distance=st.integers(min_value=21, max_value=0xFFFF),
    millivolts=st.integers(min_value=1, max_value=0x3FFF),
    temp=st.none() | tenths,
    interrupt=st.booleans(),
)
def test_ldds75_round_trip(distance: int, millivolts: int, temp: float | None, interrupt: bool):
    values = DeviceValues(
        distance_mm=distance, battery_v=millivolts / 1000, temp_c=temp, interrupt=interrupt
    )
    up = decode("LDDS75", values)
    assert (up.distance_mm, up.battery_v, up.temp_c) == (distance, millivolts / 1000, temp)
    assert up.extra["interrupt"] is interrupt


def test_encoder_reproduces_the_vendor_readme_frames() -> None:
    em310 = DeviceValues(distance_mm=2116, battery_pct=92, tilt=True)
    assert encode("EM310-UDL", em310) == (85, bytes.fromhex("01755c03824408040001"))
    dragino = DeviceValues(distance_mm=1500, battery_v=3.256, temp_c=25.0)
    worked = next(s for s in PAYLOADS if s.model == "LDDS75" and s.hex == "0cb805dc0000fa01")
    assert encode("LDDS75", dragino) == (2, worked.payload)


@pytest.mark.parametrize(("model", "distance"), [("EM310-UDL", 0), ("LDDS75", 0), ("LDDS75", 20)])
def test_encoded_sentinel_distance_decodes_to_none(model: str, distance: int) -> None:
    up = decode(model, DeviceValues(distance_mm=distance, battery_pct=80, battery_v=3.5))
    assert up is not None
    assert up.distance_mm is None
    assert any(s.startswith("distance_mm:") for s in up.sentinels)


def test_values_a_frame_cannot_carry_are_refused() -> None:
    with pytest.raises(ValueError):
        encode("EM310-UDL", DeviceValues(distance_mm=70000))
    with pytest.raises(ValueError):
        encode("LDDS75", DeviceValues(distance_mm=500, battery_v=20.0))
