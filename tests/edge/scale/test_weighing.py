"""The load-episode state machine: one capture per plateau, events, rounding to the division."""

from __future__ import annotations

from decimal import Decimal

import pytest

from edge.scale.weighing import Captured, Event, State, WeighingTracker, round_to_division
from landfill.scale.frames import Reading


def feed(tracker: WeighingTracker, weights, start=0.0, dt=0.1, stable=None):
    out = []
    t = start
    for w in weights:
        out += tracker.observe(Reading(Decimal(w), stable=stable), t)
        t += dt
    return out, t


def tracker(**kw):
    return WeighingTracker(
        **{"division_kg": 20, "min_weight_kg": 200, "stable_seconds": 2.0, "zero_band_kg": 40, **kw}
    )


@pytest.mark.parametrize(
    ("kg", "expected"),
    [
        ("14569", 14560),
        ("14570", 14580),
        ("14571", 14580),
        ("0", 0),
        ("-9", 0),
        ("-10", -20),
        ("9.99", 0),
        ("10", 20),
    ],
)
def test_round_to_division(kg, expected):
    assert round_to_division(Decimal(kg), 20) == expected


def test_one_truck_gives_exactly_one_capture():
    t = tracker()
    out, _ = feed(t, [0] * 10 + list(range(1000, 14560, 1000)) + [14560] * 50 + [0] * 10)
    captures = [o for o in out if isinstance(o, Captured)]
    assert [c.weight_kg for c in captures] == [14560]
    assert captures[0].stable_ms == 2000
    assert t.state is State.EMPTY


def test_flicker_to_the_next_division_still_captures_the_median():
    t = tracker()
    out, _ = feed(t, [14560, 14580, 14560, 14560, 14560] * 6)
    assert [o.weight_kg for o in out if isinstance(o, Captured)] == [14560]


def test_readings_spread_over_two_divisions_are_not_stable():
    t = tracker()
    out, _ = feed(t, [14560, 14580, 14560, 14540] * 20)
    assert not [o for o in out if isinstance(o, Captured)]


def test_moving_load_is_never_captured():
    t = tracker()
    out, _ = feed(t, list(range(2000, 20000, 100)) + [0] * 5)
    assert not [o for o in out if isinstance(o, Captured)]
    assert [o.event for o in out if isinstance(o, Event)] == ["left_before_capture"]


def test_indicator_motion_flag_prevents_capture():
    t = tracker()
    out, _ = feed(t, [9000] * 40, stable=False)
    assert not [o for o in out if isinstance(o, Captured)]


def test_indicator_stable_flag_is_the_source():
    t = tracker()
    out, _ = feed(t, [9000] * 40, stable=True)
    captures = [o for o in out if isinstance(o, Captured)]
    assert len(captures) == 1
    assert captures[0].stable_source == "indicator"


def test_person_stepping_on_after_capture_does_not_capture_again():
    t = tracker()
    out, _ = feed(t, [1560] * 25 + [1650] * 5 + [1560] * 25)
    assert [o.weight_kg for o in out if isinstance(o, Captured)] == [1560]


def test_next_truck_without_zero_is_flagged_and_captured():
    t = tracker()
    out, _ = feed(t, [9000] * 25 + [12000] * 25)
    assert [o.event for o in out if isinstance(o, Event)] == ["not_back_to_zero"]
    assert [o.weight_kg for o in out if isinstance(o, Captured)] == [9000, 12000]


def test_mud_left_on_the_platform_is_flagged():
    t = tracker()
    out, _ = feed(t, [9000] * 25 + [100] * 25 + [12000] * 25)
    assert [o.event for o in out if isinstance(o, Event)] == ["not_back_to_zero"]
    assert [o.weight_kg for o in out if isinstance(o, Captured)] == [9000, 12000]


def test_overload_is_reported_once_per_episode():
    t = tracker()
    outs = []
    for i in range(5):
        outs += t.observe(Reading(Decimal(0), overload=True), i * 0.1)
    assert [o.event for o in outs if isinstance(o, Event)] == ["overload"]


def test_states_walk_empty_loading_stable_captured_leaving_empty():
    t = tracker()
    seen = []
    now = 0.0
    for w in [0] * 3 + [3000, 6000, 9000] + [9000] * 25 + [4000, 100, 0]:
        t.observe(Reading(Decimal(w)), now)
        now += 0.1
        if not seen or seen[-1] is not t.state:
            seen.append(t.state)
    assert seen == [
        State.EMPTY,
        State.LOADING,
        State.STABLE,
        State.CAPTURED,
        State.LEAVING,
        State.EMPTY,
    ]


def test_a_gap_in_the_data_restarts_the_stable_window():
    t = tracker(max_gap_s=1.0)
    out, now = feed(t, [9000] * 10)  # one second held
    out2, _ = feed(t, [9000] * 10, start=now + 5.0)  # after a 5 s gap: one more second
    assert not [o for o in out + out2 if isinstance(o, Captured)]
    out3, _ = feed(t, [9000] * 15, start=now + 6.0)
    assert [o.weight_kg for o in out3 if isinstance(o, Captured)] == [9000]


def test_data_lost_while_loading_reports_the_load_and_resets():
    t = tracker()
    feed(t, [5000, 7000, 9000])
    assert [e.event for e in t.data_lost() if isinstance(e, Event)] == ["left_before_capture"]
    assert t.state is State.EMPTY


def test_data_lost_after_capture_does_not_capture_the_same_truck_again():
    t = tracker()
    out, now = feed(t, [9000] * 25)
    assert t.data_lost() == []
    out2, _ = feed(t, [9000] * 25, start=now + 10)
    assert [o.weight_kg for o in out + out2 if isinstance(o, Captured)] == [9000]


def test_overload_then_normal_load_still_captures_once():
    t = tracker()
    out = []
    for i in range(5):
        out += t.observe(Reading(Decimal(0), overload=True), i * 0.1)
    more, _ = feed(t, [9000] * 25, start=1.0)
    assert [o.event for o in out + more if isinstance(o, Event)] == ["overload"]
    assert [o.weight_kg for o in more if isinstance(o, Captured)] == [9000]


def test_person_standing_on_the_truck_is_not_a_new_vehicle():
    t = tracker()
    out, _ = feed(t, [9000] * 25 + [9080] * 40 + [9000] * 10 + [0] * 5)
    assert [o.weight_kg for o in out if isinstance(o, Captured)] == [9000]
    assert [o for o in out if isinstance(o, Event)] == []
    assert t.state is State.EMPTY


def test_a_resumed_load_still_on_the_platform_is_not_captured_again():
    # the edge restarted while the captured truck stood still: a new tracker resumes it
    t = tracker()
    t.resume(9000)
    assert (t.state, t.held_kg) == (State.CAPTURED, 9000)
    out, _ = feed(t, [9000] * 60 + [9020, 9000] * 10 + [0] * 5)
    assert [o for o in out if isinstance(o, Captured)] == []
    assert [o for o in out if isinstance(o, Event)] == []
    assert (t.state, t.held_kg) == (State.EMPTY, None)
    # without the resume, the same readings are a new capture: what the restart used to do
    fresh, _ = feed(tracker(), [9000] * 60)
    assert [o.weight_kg for o in fresh if isinstance(o, Captured)] == [9000]


@pytest.mark.parametrize(
    ("after_restart", "captured", "events"),
    [
        ([0] * 10 + [12000] * 30, [12000], []),  # it left during the restart; the next one
        ([12000] * 30, [12000], ["not_back_to_zero"]),  # another truck already stands there
        ([9000] * 30, [], []),  # the same truck
    ],
)
def test_a_resumed_load_gives_way_to_what_the_platform_shows(after_restart, captured, events):
    t = tracker()
    t.resume(9000)
    out, _ = feed(t, after_restart)
    assert [o.weight_kg for o in out if isinstance(o, Captured)] == captured
    assert [o.event for o in out if isinstance(o, Event)] == events


def test_held_kg_follows_the_captured_load_until_the_platform_is_empty():
    t = tracker()
    held = []
    for w in [0] * 3 + [9000] * 25 + [4000] * 3 + [0] * 3:
        t.observe(Reading(Decimal(w)), len(held) * 0.1)
        held.append(t.held_kg)
    assert held[:3] == [None] * 3
    assert held[22] is None  # not yet held 2 s
    assert held[23:31] == [9000] * 8  # captured, then leaving
    assert held[-1] is None
