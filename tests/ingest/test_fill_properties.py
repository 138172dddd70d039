"""Property tests: arbitrary reading sequences never crash the tracker or give impossible levels."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.fill.tracker import ContainerTracker
from landfill.contract import ContainerReading
from landfill.fill.geometry import fill_pct
from tests.ingest.test_fill_tracker import BISHKEK, SPEC, T0

maybe_bool = st.none() | st.booleans()
readings = st.lists(
    st.tuples(
        st.integers(-600, 30_000),  # seconds since the previous reading: duplicates, reorders
        st.fixed_dictionaries(
            {
                "distance_mm": st.none() | st.integers(-10, 70_000) | st.sampled_from([0, 20]),
                "temp_c": st.none() | st.floats(-45, 130, allow_nan=False),
                "battery_pct": st.none() | st.floats(0, 100),
                "battery_v": st.none() | st.floats(2.5, 3.7),
                "tilt": maybe_bool,
                "lid_open": maybe_bool,
                "fire": maybe_bool,
            }
        ),
        st.none() | st.integers(-3600, 600),  # a tick at this offset from the reading
    ),
    max_size=40,
)


def run(tracker, items, *, start=T0):
    """Feed items; return every output and the clock at the end."""
    now, out = start, []
    for gap, fields, tick in items:
        now += timedelta(seconds=gap)
        if tick is not None:
            out.append(("tick", tuple(tracker.tick(now + timedelta(seconds=tick)))))
        # built without validation: the tracker must survive values beyond the contract's range
        r = ContainerReading.model_construct(
            ts=now, site="dostuk", container="c01", device="d", model="m", **fields
        )
        out.append(("obs", tracker.observe(r)))
    return out, now


def check_alert_lifecycle(out):
    """Per kind: raised only when closed; escalated, repeated and cleared only when open."""
    open_kinds: set[str] = set()
    for kind, item in out:
        alerts = item if kind == "tick" else item.alerts
        for a in alerts:
            if a.transition == "raised":
                assert a.alert not in open_kinds
                open_kinds.add(a.alert)
            else:
                assert a.alert in open_kinds
                if a.transition == "cleared":
                    open_kinds.remove(a.alert)
            assert a.active is (a.transition != "cleared")


@settings(max_examples=150, deadline=None)
@given(readings)
def test_arbitrary_streams_never_raise_and_levels_stay_in_range(items):
    out, _ = run(ContainerTracker(SPEC, BISHKEK), items)
    check_alert_lifecycle(out)
    for kind, item in out:
        if kind == "obs" and item.point is not None:
            p = item.point
            for pct in (p.raw_pct, p.filtered_pct):
                assert pct is None or 0 <= pct <= 100
            if p.quality == "rejected":
                assert p.raw_pct is None
                assert p.filtered_pct is None


@settings(max_examples=100, deadline=None)
@given(readings, st.integers(0, 40))
def test_restore_anywhere_gives_the_same_output(items, cut):
    whole, _ = run(ContainerTracker(SPEC, BISHKEK), items)
    first = ContainerTracker(SPEC, BISHKEK)
    head, now = run(first, items[:cut])
    saved = json.loads(json.dumps(first.snapshot()))
    tail, _ = run(ContainerTracker.restore(SPEC, saved, BISHKEK), items[cut:], start=now)
    assert head + tail == whole


@given(st.none() | st.integers(-(2**31), 2**31))
def test_fill_pct_is_none_or_in_range(distance):
    level = fill_pct(SPEC, distance)
    assert level.pct is None or 0 <= level.pct <= 100
    assert (level.pct is None) is (level.quality == "rejected")
