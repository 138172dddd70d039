"""Distance to fill level: the linear form, the overfull flag, and distances that are no level."""

from __future__ import annotations

import pytest

from landfill.fill.geometry import fill_pct, is_emptying_drop
from landfill.fill.spec import ContainerSpec

# a 1.1 m³ wheeled metal container: sensor 1300 mm above the floor, full line 300 mm below it
SPEC = ContainerSpec(container="c01", zone="zone-a", volume_m3=1.1, empty_mm=1300, full_mm=300)


@pytest.mark.parametrize(
    ("distance", "pct", "overfull", "quality", "reason"),
    [
        (1300, 0.0, False, "accepted", ""),
        (800, 50.0, False, "accepted", ""),
        (300, 100.0, False, "accepted", ""),
        (290, 100.0, True, "accepted", ""),  # waste above the full line
        (280, 100.0, True, "accepted", ""),  # at the blind zone edge
        (1350, 0.0, False, "suspicious", "below_floor"),  # uneven floor, within tolerance
        (1400, 0.0, False, "suspicious", "below_floor"),
        (1401, None, False, "rejected", "beyond_empty"),
        (279, None, False, "rejected", "blind_zone"),
        (0, None, False, "rejected", "sentinel"),  # Dragino: nothing in range
        (20, None, False, "rejected", "sentinel"),  # Dragino: sensor fault
        (-5, None, False, "rejected", "sentinel"),
        (None, None, False, "rejected", "no_value"),
        (65535, None, False, "rejected", "beyond_empty"),
    ],
)
def test_fill_pct(distance, pct, overfull, quality, reason):
    level = fill_pct(SPEC, distance)
    assert (level.pct, level.overfull, level.quality, level.reason) == (
        pct,
        overfull,
        quality,
        reason,
    )


@pytest.mark.parametrize(
    "kw",
    [
        {"full_mm": 1300},  # full line at the floor
        {"full_mm": 200},  # full line inside the blind zone
        {"full_pct": 60, "clear_pct": 70},  # no hysteresis
        {"collection_weekdays": (7,)},
        {"expected_interval_s": 0},
    ],
)
def test_inconsistent_spec_is_refused(kw):
    base = {"empty_mm": 1300, "full_mm": 300}
    with pytest.raises(ValueError):
        ContainerSpec(container="c01", zone="zone-a", volume_m3=1.1, **{**base, **kw})


@pytest.mark.parametrize(
    ("before", "after", "emptying"),
    [
        (90, 5, True),
        (50, 25, True),  # 25 points
        (50, 26, False),
        (22, 10, True),  # to <= 10 %
        (19, 0, False),  # nearly empty anyway: nothing to detect
    ],
)
def test_emptying_rule(before, after, emptying):
    assert is_emptying_drop(before, after) is emptying
