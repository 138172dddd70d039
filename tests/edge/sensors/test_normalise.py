"""edge/sensors/normalise.py: a value the contract's range refuses is no value, not a crash."""

from __future__ import annotations

from edge.sensors.models import Uplink
from edge.sensors.normalise import usable


def test_a_value_out_of_the_contracts_range_is_no_value() -> None:
    uplink = Uplink(distance_mm=800, temp_c=-81.0, battery_pct=101.0, battery_v=3.6)
    assert usable(uplink) == {
        "distance_mm": 800,
        "temp_c": None,
        "battery_pct": None,
        "battery_v": 3.6,
    }


def test_the_ranges_ends_are_values() -> None:
    uplink = Uplink(distance_mm=65_535, temp_c=-80.0, battery_pct=0.0, battery_v=60.0)
    assert usable(uplink) == {
        "distance_mm": 65_535,
        "temp_c": -80.0,
        "battery_pct": 0.0,
        "battery_v": 60.0,
    }
