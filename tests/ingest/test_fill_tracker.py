"""Container tracker scenarios: hand-built reading sequences on a fake clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ingest.fill.tracker import ContainerTracker, Derived
from landfill.contract import ContainerAlert, ContainerReading
from landfill.fill.spec import ContainerSpec

# Monday 23 Nov 2026, 08:00 in Bishkek; collection on Thursdays
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
BISHKEK = ZoneInfo("Asia/Bishkek")
SPEC = ContainerSpec(
    container="c01", zone="zone-a", volume_m3=1.1, empty_mm=1300, full_mm=300,
    collection_weekdays=[3],
)  # fmt: skip
HOUR = timedelta(hours=1)


def mm(pct: float) -> int:
    """Distance that SPEC turns into ``pct``."""
    return round(SPEC.empty_mm - pct / 100 * (SPEC.empty_mm - SPEC.full_mm))


class Feed:
    """Builds readings on an advancing fake clock and feeds them to one tracker."""

    def __init__(self, tracker: ContainerTracker | None = None, start: datetime = T0):
        self.tracker = tracker or ContainerTracker(SPEC, BISHKEK)
        self.now = start
        self.out: list[Derived] = []

    def reading(self, pct: float | None = None, *, step=HOUR, **kw) -> ContainerReading:
        self.now += step
        fields = {"distance_mm": None if pct is None else mm(pct), **kw}
        return ContainerReading(
            ts=self.now, site="dostuk", container="c01", device="dev-c01", model="LDDS75",
            **fields,
        )  # fmt: skip

    def __call__(self, pct: float | None = None, *, step=HOUR, **kw) -> Derived:
        d = self.tracker.observe(self.reading(pct, step=step, **kw))
        self.out.append(d)
        return d

    def tick(self, after: timedelta) -> list[ContainerAlert]:
        return self.tracker.tick(self.now + after)

    def alerts(self) -> list[tuple[str, str]]:
        return [(a.alert, a.transition) for d in self.out for a in d.alerts]

    def events(self):
        return [e for d in self.out for e in d.events]


def test_filling_up_raises_full_once_and_emptying_clears_it():
    feed = Feed()
    for pct in (10, 20, 30, 40, 50, 60, 70, 80, 90, 90, 92, 91, 93, 92):
        feed(pct)
    assert feed.alerts() == [("full", "raised")]
    raised = feed.out[9].alerts[0]
    assert raised.severity == "warning"
    assert raised.since == feed.out[8].point.ts  # the first of the 2 readings at >= 80 %

    before = feed(5)
    assert before.point.quality == "suspicious"
    assert before.point.reason == "emptying_candidate"
    assert before.point.filtered_pct == 92  # held until confirmed
    after = feed(6)
    assert feed.alerts() == [("full", "raised"), ("full", "cleared")]
    (event,) = feed.events()
    assert (event.before_pct, event.after_pct, event.ts) == (92, 5, before.point.ts)
    assert after.point.filtered_pct == pytest.approx(5.5)
    assert feed.tracker.last_emptying == before.point.ts
    for pct in (7, 8, 9):
        feed(pct)
    assert len(feed.events()) == 1


def test_full_clears_with_hysteresis_not_at_the_threshold():
    feed = Feed()
    for pct in (70, 78, 82, 85, 85, 79, 78, 79, 81):
        feed(pct)
    assert feed.alerts() == [("full", "raised")]  # hovering around 80 does not chatter
    for pct in (72, 65, 60, 60):
        feed(pct)
    assert feed.alerts() == [("full", "raised"), ("full", "cleared")]


def test_a_single_noisy_dip_is_not_an_emptying():
    feed = Feed()
    for pct in (50, 50, 50):
        feed(pct)
    dip = feed(8)
    assert dip.point.quality == "suspicious"
    back = feed(52)
    assert feed.events() == []
    assert back.point.quality == "accepted"
    assert feed.tracker.level_pct == 50


def test_a_drop_then_a_second_lower_reading_waits_one_more():
    feed = Feed()
    for pct in (80, 80, 80, 45, 5, 6):  # 45 not confirmed by 5 (> 10 apart); 5 by 6
        feed(pct)
    (event,) = feed.events()
    assert (event.before_pct, event.after_pct) == (80, 5)


def test_a_bag_under_the_sensor_is_not_accepted_until_confirmed():
    feed = Feed()
    for pct in (40, 40, 40):
        feed(pct)
    bag = feed(95)
    assert (bag.point.raw_pct, bag.point.filtered_pct) == (95, 40)
    assert (bag.point.quality, bag.point.reason) == ("suspicious", "unconfirmed_rise")
    feed(41)
    feed(95)
    feed(40)
    assert feed.tracker.level_pct == 40
    assert feed.alerts() == []


def test_a_confirmed_jump_is_accepted():
    feed = Feed()
    for pct in (40, 40, 40, 85):
        feed(pct)
    confirm = feed(86)
    assert confirm.point.reason == "rise_confirmed"
    assert confirm.point.filtered_pct == 85
    feed(87)
    assert feed.alerts() == [("full", "raised")]


@pytest.mark.parametrize("distance", [None, 0, 20, 100, 279, 1401, 9999])
def test_sentinels_and_out_of_envelope_never_give_a_level(distance):
    feed = Feed()
    for pct in (30, 30, 30):
        feed(pct)
    d = feed.tracker.observe(feed.reading(None, distance_mm=distance))
    assert d.point.quality == "rejected"
    assert (d.point.raw_pct, d.point.filtered_pct) == (None, None)
    assert feed.tracker.level_pct == 30
    assert d.alerts == ()


def test_sentinels_from_the_start_never_give_a_level():
    feed = Feed()
    for distance in (0, 20, None, 0, 0):
        d = feed.tracker.observe(feed.reading(None, distance_mm=distance))
        assert d.point.filtered_pct is None
    assert feed.tracker.level_pct is None


def test_a_silent_sensor_raises_offline_by_tick_and_the_next_reading_clears_it():
    feed = Feed()
    feed(30)
    last = feed.now
    assert feed.tick(timedelta(hours=2, minutes=29)) == []
    (alert,) = feed.tick(timedelta(hours=3))
    assert (alert.alert, alert.transition, alert.severity) == ("offline", "raised", "major")
    assert alert.since == last
    assert alert.ts == last + timedelta(hours=2.5)  # due time, not tick time: stable ids
    assert feed.tick(timedelta(hours=4)) == []
    d = feed(30, step=timedelta(hours=5))
    assert [(a.alert, a.transition, a.active) for a in d.alerts] == [("offline", "cleared", False)]


def test_queued_uplinks_arriving_late_clear_offline_after_the_raise():
    """A backhaul outage: offline is raised, then uplinks observed before the raise arrive."""
    feed = Feed()
    feed(30)
    (raised,) = feed.tick(timedelta(hours=6))
    d = feed(31, step=timedelta(hours=1))  # observed 1 h after the last one, 1.5 h before due
    (cleared,) = d.alerts
    assert (cleared.alert, cleared.transition) == ("offline", "cleared")
    assert cleared.ts > raised.ts  # so "latest point by time" is the cleared state


def test_no_readings_no_offline():
    assert ContainerTracker(SPEC, BISHKEK).tick(T0 + timedelta(days=10)) == []


def test_fire_on_the_first_hot_reading_and_repeats_until_it_cools():
    feed = Feed()
    d = feed(30, temp_c=72.0)
    (alert,) = d.alerts
    assert (alert.alert, alert.transition, alert.severity, alert.value) == (
        "fire",
        "raised",
        "critical",
        72.0,
    )
    assert feed.tick(timedelta(minutes=10)) == []
    (rep,) = feed.tick(timedelta(minutes=20))
    assert (rep.transition, rep.ts) == ("repeated", feed.now + timedelta(minutes=15))
    assert feed.tick(timedelta(minutes=25)) == []
    feed(30, temp_c=50.0, step=timedelta(minutes=40))  # the 30 min repeat comes with it
    feed(30, temp_c=40.0)
    feed(30, temp_c=50.0)  # not 2 in a row below 45
    feed(30, temp_c=40.0)
    feed(30, temp_c=38.0)
    assert feed.alerts() == [
        ("fire", "raised"),
        *[("fire", "repeated")] * 4,  # hourly readings: one reminder each, the latest due
        ("fire", "cleared"),
    ]


@pytest.mark.parametrize(
    ("temps", "raised_at"),
    [
        ([5.0, 12.0, 28.0], 2),  # +16 °C between readings
        ([5.0, 12.0, 26.0], None),  # +14 °C
        ([-20.0, 59.0, 60.0], 1),  # +79 °C, then hot anyway
        ([20.0, None, 36.0], 2),  # a reading without temperature in between
    ],
)
def test_temperature_jump_alerts(temps, raised_at):
    feed = Feed()
    for t in temps:
        feed(30, temp_c=t)
    got = [i for i, d in enumerate(feed.out) for a in d.alerts if a.transition == "raised"]
    assert got == ([] if raised_at is None else [raised_at])


def test_device_fire_flag_alerts():
    feed = Feed()
    feed(30, temp_c=20.0)
    (alert,) = feed(30, temp_c=20.0, fire=True).alerts
    assert alert.detail.startswith("device fire flag")


def test_tilted_container_suppresses_fill_alerts_and_raises_tilt():
    feed = Feed()
    for pct in (60, 70, 80):
        feed(pct)
    tilted = feed(95, tilt=True)
    assert (tilted.point.quality, tilted.point.reason) == ("suspicious", "tilted")
    assert tilted.point.filtered_pct is None
    for _ in range(3):
        feed(95, tilt=True)
    assert feed.alerts() == [("tilt", "raised")]
    assert feed.tracker.level_pct == 70  # tilted readings did not count
    feed(90, tilt=False)
    assert "full" not in feed.tracker.open_alerts  # tilt still open: suppressed
    d = feed(90, tilt=False)
    assert [(a.alert, a.transition) for a in d.alerts] == [("tilt", "cleared"), ("full", "raised")]


def test_tilt_then_one_upright_then_tilt_stays_one_alert():
    feed = Feed()
    for tilt in (True, False, True, False, False):
        feed(30, tilt=tilt)
    assert feed.alerts() == [("tilt", "raised"), ("tilt", "cleared")]


def test_low_battery_needs_three_readings_and_clears_above_30():
    feed = Feed()
    for pct in (25, 19, 18, 17, 16, 25, 29, 31, 19):
        feed(30, battery_pct=pct)
    assert feed.alerts() == [("low_battery", "raised"), ("low_battery", "cleared")]
    assert feed.out[3].alerts[0].since == feed.out[1].point.ts


def test_low_battery_by_voltage():
    feed = Feed()
    for v in (3.3, 3.25, None, 3.2, 3.35, 3.6):
        feed(30, battery_v=v)
    assert feed.alerts() == [("low_battery", "raised"), ("low_battery", "cleared")]


def test_a_voltage_counts_only_where_no_percentage_is_sent():
    feed = Feed()  # the board's rule too (landfill/fill/status.py)
    for _ in range(4):
        feed(30, battery_pct=60, battery_v=3.2)
    assert feed.alerts() == []


def test_lid_open_for_more_than_30_minutes():
    feed = Feed()
    feed(30, lid_open=True)
    opened = feed.now
    feed(None, lid_open=True, step=timedelta(minutes=20))
    assert feed.alerts() == []
    (alert,) = feed.tick(timedelta(minutes=11))
    assert (alert.alert, alert.transition, alert.since) == ("lid_open", "raised", opened)
    assert alert.ts == opened + timedelta(minutes=30)
    d = feed(30, lid_open=False)
    assert [(a.alert, a.transition) for a in d.alerts] == [("lid_open", "cleared")]


def test_lid_open_briefly_is_no_alert_and_its_readings_are_no_level():
    feed = Feed()
    for pct in (30, 30, 30):
        feed(pct)
    d = feed(90, lid_open=True, step=timedelta(minutes=5))
    assert d.point.reason == "lid_open"
    feed(30, lid_open=False, step=timedelta(minutes=5))
    assert feed.alerts() == []
    assert feed.tracker.level_pct == 30


def test_full_past_its_collection_day_escalates_once():
    feed = Feed()  # Monday; collection on Thursday
    for pct in (82, 84, 86):
        feed(pct)
    assert feed.alerts() == [("full", "raised")]
    assert [a.alert for a in feed.tick(timedelta(days=2))] == ["offline"]  # Wednesday
    thursday_17 = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # 17:00 in Bishkek
    (esc,) = feed.tracker.tick(thursday_17)
    assert (esc.alert, esc.transition, esc.severity, esc.ts) == (
        "full",
        "escalated",
        "major",
        thursday_17,
    )
    assert feed.tracker.tick(thursday_17 + HOUR) == []


def test_the_collection_day_ends_at_17_00_in_the_configured_zone():
    feed = Feed(ContainerTracker(SPEC, ZoneInfo("UTC")))  # LANDFILL_TIMEZONE=UTC
    for pct in (82, 84, 86):
        feed(pct)
    thursday_17_bishkek = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert "full" not in {a.alert for a in feed.tracker.tick(thursday_17_bishkek)}
    thursday_17_utc = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    (esc,) = feed.tracker.tick(thursday_17_utc)
    assert (esc.alert, esc.transition, esc.ts) == ("full", "escalated", thursday_17_utc)


def test_duplicate_and_out_of_order_readings_change_nothing():
    feed = Feed()
    readings = [feed.reading(p) for p in (50, 50, 50, 5)]
    for r in readings:
        feed.tracker.observe(r)
    state = feed.tracker.snapshot()
    for r in readings:  # a replay, and one older reading
        assert feed.tracker.observe(r).stale
    older = readings[0].model_copy(update={"ts": T0, "distance_mm": mm(6)})
    assert feed.tracker.observe(older) == Derived(None)
    assert feed.tracker.snapshot() == state


def test_a_reading_for_another_container_is_refused():
    r = Feed().reading(50).model_copy(update={"container": "c02"})
    with pytest.raises(ValueError):
        ContainerTracker(SPEC, BISHKEK).observe(r)


# -- a long mixed stream for restart and replay ------------------------------------------------

STREAM = [
    *({"pct": p} for p in (10, 20, 35, 50, 60, 75, 85, 90, 95, 95, 96)),
    {"pct": 100, "distance_mm": 250 + 40},  # above the full line: overfull
    {"pct": None, "distance_mm": 290},
    {"pct": None, "distance_mm": 0},
    {"pct": 97, "temp_c": 70.0},
    {"pct": 97, "temp_c": 30.0, "battery_pct": 15},
    {"pct": 97, "temp_c": 30.0, "battery_pct": 15, "tilt": True},
    {"pct": 4, "battery_pct": 15, "tilt": False},
    {"pct": 5, "battery_pct": 40, "tilt": False},
    {"pct": 6, "lid_open": True},
    {"pct": 6, "lid_open": True, "step": timedelta(hours=2)},
    {"pct": 8, "lid_open": False, "step": timedelta(hours=5)},
    *({"pct": 10 + p} for p in range(0, 40, 3)),
]


def run_stream(feed: Feed, items, ticks: bool = True) -> list[object]:
    """Feed the items; with ticks, the timer runs a minute before each reading arrives."""
    out: list[object] = []
    for kw in items:
        kw = dict(kw)
        pct = kw.pop("pct")
        if ticks:
            out.append(tuple(feed.tick(kw.get("step", HOUR) - timedelta(minutes=1))))
        out.append(feed(pct, **kw))
    return out


def test_the_stream_exercises_every_rule():
    feed = Feed()
    run_stream(feed, STREAM)
    kinds = {a for a, _ in feed.alerts()}
    assert kinds == {"full", "overfull", "fire", "tilt", "lid_open", "offline", "low_battery"}
    assert len(feed.events()) == 1


@pytest.mark.parametrize("cut", [1, 7, 12, 15, 17, 19, 21, 25])
def test_snapshot_and_restore_mid_stream_gives_identical_output(cut):
    whole = run_stream(Feed(), STREAM)

    first = Feed()
    head = run_stream(first, STREAM[:cut])
    saved = json.loads(json.dumps(first.tracker.snapshot()))
    resumed = Feed(ContainerTracker.restore(SPEC, saved, BISHKEK), start=first.now)
    tail = run_stream(resumed, STREAM[cut:])
    assert head + tail == whole


def test_restore_refuses_another_container_or_version():
    state = ContainerTracker(SPEC, BISHKEK).snapshot()
    other = SPEC.model_copy(update={"container": "c02"})
    with pytest.raises(ValueError):
        ContainerTracker.restore(other, state, BISHKEK)
    with pytest.raises(ValueError):
        ContainerTracker.restore(SPEC, {**state, "v": 99}, BISHKEK)


def test_replaying_a_stream_gives_identical_ids():
    a, b = Feed(), Feed()
    run_stream(a, STREAM)
    run_stream(b, STREAM)
    ids_a = [m.id for d in a.out for m in (*d.alerts, *d.events)]
    ids_b = [m.id for d in b.out for m in (*d.alerts, *d.events)]
    assert ids_a == ids_b
    assert len(set(ids_a)) == len(ids_a)
    # the same readings again into the same tracker: all stale, nothing new
    readings = [
        ContainerReading.model_validate(
            {"ts": d.point.ts, "site": "dostuk", "container": "c01", "device": "x", "model": "m"}
        )
        for d in a.out
    ]
    assert all(a.tracker.observe(r).stale for r in readings)
