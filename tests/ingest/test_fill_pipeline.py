"""FillProcessor without servers: registry, points, dead letters, timers, restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ingest.fill.processor import FillProcessor
from ingest.points import to_points
from landfill.contract import (
    ContainerAlert,
    ContainerEvent,
    ContainerReading,
    ContainerRegistry,
    ContainerSpecPublic,
    DeadLetter,
)
from landfill.influx import to_line

SITE = "dostuk"
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 08:00 in Bishkek
EMPTY, FULL = 1450, 450


def spec(name: str = "bin-01", **kw) -> ContainerSpecPublic:
    base = {"zone": "dostuk", "settlement": "Dostuk", "empty_mm": EMPTY, "full_mm": FULL}
    return ContainerSpecPublic(container=name, **{**base, "expected_interval_s": 600, **kw})


def registry(*specs: ContainerSpecPublic, site: str = SITE) -> ContainerRegistry:
    return ContainerRegistry(ts=T0, site=site, containers=list(specs) or [spec()])


def distance(pct: float) -> int:
    return round(EMPTY - pct / 100 * (EMPTY - FULL))


def reading(minute: int, pct: float | None = None, name: str = "bin-01", **kw) -> ContainerReading:
    d = kw.pop("distance_mm", None if pct is None else distance(pct))
    return ContainerReading(
        ts=T0 + timedelta(minutes=minute),
        site=kw.pop("site", SITE),
        container=name,
        device="24e12400713b0000",
        model="EM310-UDL",
        distance_mm=d,
        **kw,
    )


def alerts(messages) -> list[tuple[str, str]]:
    return [(m.alert, m.transition) for m in messages if isinstance(m, ContainerAlert)]


class Sink:
    def __init__(self) -> None:
        self.got: list[tuple[ContainerAlert, ContainerSpecPublic | None]] = []

    def submit(self, alert, spec=None) -> None:
        self.got.append((alert, spec))


def feed(proc: FillProcessor, levels, start: int = 0, **kw):
    out = []
    for i, pct in enumerate(levels):
        points, messages = proc.process(reading(start + 10 * i, pct, **kw))
        out.append((points, messages))
    return out


def test_fill_point_has_the_shared_schema(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.json")
    proc.use_registry(registry())
    r = reading(0, 40, temp_c=4.5, battery_pct=87, tilt=False)
    [point], messages = proc.process(r)
    assert messages == []
    line = to_line(point)  # floats print without ".0" and stay floats; integers end in "i"
    ms = int(r.ts.timestamp() * 1000)
    assert line == (
        f"fill,container=bin-01,site={SITE},zone=dostuk battery_pct=87,distance_mm=1050i,"
        f'fill_pct=40,filtered_pct=40,id="{r.id}",overfull=false,quality="accepted",'
        f"temp_c=4.5,tilt=false {ms}"
    )
    # a sentinel distance: no level fields at all, never 0 % or 100 %
    [point], _ = proc.process(reading(10, distance_mm=None, battery_v=3.4))
    line = to_line(point)
    fields = dict(kv.split("=", 1) for kv in line.split(" ")[1].split(","))
    assert set(fields) == {"battery_v", "quality", "overfull", "id"}
    assert fields["quality"] == '"rejected"'


def test_alert_and_event_points_have_the_shared_schema() -> None:
    since = T0 - timedelta(hours=1)
    alert = ContainerAlert(
        id="a1", ts=T0, site=SITE, container="bin-01", alert="full", active=True,
        severity="warning", transition="raised", since=since, value=85.0, detail="level 85 %",
    )  # fmt: skip
    ms = int(T0.timestamp() * 1000)
    assert to_line(to_points(alert)[0]) == (
        f'container_alert,container=bin-01,kind=full,site={SITE} active=true,detail="level 85 %",'
        f'id="a1",severity="warning",since={ms - 3600000}i,transition="raised",value=85 {ms}'
    )
    event = ContainerEvent(
        id="e1", ts=T0, site=SITE, container="bin-01", event="emptying",
        before_pct=88, after_pct=3.5, detail="88 % -> 4 %",
    )  # fmt: skip
    assert to_line(to_points(event)[0]) == (
        f"container_event,container=bin-01,kind=emptying,site={SITE} after_pct=3.5,"
        f'before_pct=88,detail="88 % -> 4 %",id="e1" {ms}'
    )


def test_unknown_container_is_dead_lettered(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.json")
    r = reading(0, 50, name="bin-99")
    points, [letter] = proc.process(r)
    assert points == []
    assert isinstance(letter, DeadLetter)
    assert letter.reason == "unknown_container"
    assert letter.topic == f"landfill/v1/{SITE}/container/bin-99/reading"
    assert json.loads(letter.payload)["id"] == r.id
    proc.use_registry(registry(spec("bin-99")))
    points, _ = proc.process(r)
    assert len(points) == 1


def test_full_is_raised_once_and_cleared_by_an_emptying(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.json")
    proc.use_registry(registry())
    out = feed(proc, [50, 60, 85, 86, 88, 90, 92, 3, 4])
    got = [alerts(m) for _, m in out]
    assert sum(got, []) == [("full", "raised"), ("full", "cleared")]
    assert got[4] == [("full", "raised")]
    events = [m for _, ms in out for m in ms if isinstance(m, ContainerEvent)]
    assert [(e.before_pct, e.after_pct) for e in events] == [(90.0, 3.0)]


def test_commit_persists_so_a_restart_raises_nothing_again(tmp_path) -> None:
    sink = Sink()
    proc = FillProcessor(tmp_path / "state.json", notifier=sink)
    proc.use_registry(registry())
    feed(proc, [85, 86, 88])
    assert sink.got == [], "nothing is notified before the commit"
    proc.commit()
    assert [(a.alert, a.transition) for a, _ in sink.got] == [("full", "raised")]
    assert sink.got[0][1].settlement == "Dostuk"

    again = FillProcessor(tmp_path / "state.json", notifier=Sink())
    assert again.containers(SITE) == ["bin-01"], "the registry is part of the state"
    assert again.open_alerts(SITE, "bin-01") == {"full"}
    out = feed(again, [89, 90], start=30)
    assert [alerts(m) for _, m in out] == [[], []]
    # a replay of a reading from before the restart is stale: no point, no message
    assert again.process(reading(20, 88)) == ([], [])


def test_tick_raises_offline_once_and_a_reading_clears_it(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.json")
    proc.use_registry(registry())
    feed(proc, [30])
    assert proc.tick(T0 + timedelta(seconds=1400)) == []
    [offline] = proc.tick(T0 + timedelta(seconds=1600))  # 2.5 x 600 s of silence
    assert (offline.alert, offline.transition, offline.active) == ("offline", "raised", True)
    assert offline.since == T0
    assert proc.tick(T0 + timedelta(hours=3)) == []
    _, messages = proc.process(reading(200, 31))
    assert alerts(messages) == [("offline", "cleared")]


def test_a_registry_change_keeps_tracker_state(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.json")
    proc.use_registry(registry())
    feed(proc, [85, 86, 88])
    proc.use_registry(registry(spec(full_pct=90, clear_pct=80), spec("bin-02")))
    assert proc.open_alerts(SITE, "bin-01") == {"full"}
    assert proc.containers(SITE) == ["bin-01", "bin-02"]
    proc.use_registry(registry(spec("bin-02")))
    assert proc.containers(SITE) == ["bin-02"]


def test_impossible_geometry_is_not_tracked_and_a_bad_state_file_is_survived(tmp_path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{broken")
    proc = FillProcessor(path)
    proc.use_registry(registry(spec("bin-01", empty_mm=400, full_mm=450), spec("bin-02")))
    assert proc.containers(SITE) == ["bin-02"]
    _, [letter] = proc.process(reading(0, 50))
    assert letter.reason == "unknown_container"


@pytest.mark.parametrize("site", ["dostuk", "kant"])
def test_sites_are_kept_apart(tmp_path, site) -> None:
    proc = FillProcessor(tmp_path / "state.json")
    proc.use_registry(registry(site="dostuk"))
    points, messages = proc.process(reading(0, 50, site=site))
    assert bool(points) == (site == "dostuk")
