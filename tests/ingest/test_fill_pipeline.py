"""FillProcessor without servers: registry, lines, dead letters, timers, restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ingest.fill.processor import FillProcessor
from ingest.points import to_lines
from landfill.contract import (
    ContainerAlert,
    ContainerEvent,
    ContainerReading,
    ContainerRegistry,
    DeadLetter,
)
from landfill.fill.spec import ContainerSpec

SITE = "dostuk"
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 08:00 in Bishkek
BISHKEK = ZoneInfo("Asia/Bishkek")
EMPTY, FULL = 1450, 450


def spec(name: str = "bin-01", **kw) -> ContainerSpec:
    base = {"zone": "dostuk", "settlement": "Dostuk", "empty_mm": EMPTY, "full_mm": FULL}
    return ContainerSpec(container=name, **{**base, "expected_interval_s": 600, **kw})


def registry(*specs: ContainerSpec, site: str = SITE) -> ContainerRegistry:
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
        self.got: list[tuple[ContainerAlert, ContainerSpec | None]] = []

    def submit(self, alert, spec=None) -> None:
        self.got.append((alert, spec))


def run(proc: FillProcessor, r: ContainerReading) -> tuple[list[str], list]:
    out = proc.process(r)
    return out.lines, out.publish


def feed(proc: FillProcessor, levels, start: int = 0, **kw):
    return [run(proc, reading(start + 10 * i, pct, **kw)) for i, pct in enumerate(levels)]


def test_fill_point_has_the_shared_schema(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry())
    r = reading(0, 40, temp_c=4.5, battery_pct=87, tilt=False)
    [line], messages = run(proc, r)
    assert messages == []
    ms = int(r.ts.timestamp() * 1000)
    # tags and fields sorted by key and whole floats without ".0", as influxdb-client writes
    assert line == (
        f"fill,container=bin-01,site={SITE},zone=dostuk battery_pct=87,distance_mm=1050i,"
        f'fill_pct=40,filtered_pct=40,id="{r.id}",overfull=false,quality="accepted",'
        f"temp_c=4.5,tilt=false {ms}"
    )
    # a sentinel distance: no level fields at all, never 0 % or 100 %
    [line], _ = run(proc, reading(10, distance_mm=None, battery_v=3.4))
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
    assert to_lines(alert) == [
        f'container_alert,container=bin-01,kind=full,site={SITE} active=true,detail="level 85 %",'
        f'id="a1",severity="warning",since={ms - 3600000}i,transition="raised",value=85 {ms}'
    ]
    event = ContainerEvent(
        id="e1", ts=T0, site=SITE, container="bin-01", event="emptying",
        before_pct=88, after_pct=3.5, detail="88 % -> 4 %",
    )  # fmt: skip
    assert to_lines(event) == [
        f"container_event,container=bin-01,kind=emptying,site={SITE} after_pct=3.5,"
        f'before_pct=88,detail="88 % -> 4 %",id="e1" {ms}'
    ]


def test_unknown_container_is_dead_lettered(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    r = reading(0, 50, name="bin-99")
    lines, [letter] = run(proc, r)
    assert lines == []
    assert isinstance(letter, DeadLetter)
    assert letter.reason == "unknown_container"
    assert letter.topic == f"landfill/v1/{SITE}/container/bin-99/reading"
    assert json.loads(letter.payload)["id"] == r.id
    assert run(proc, r)[1][0].id == letter.id, "a replay is dead-lettered identically"
    proc.use_registry(registry(spec("bin-99")))
    lines, _ = run(proc, r)
    assert len(lines) == 1


def test_full_is_raised_once_and_cleared_by_an_emptying(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry())
    out = feed(proc, [50, 60, 85, 86, 88, 90, 92, 3, 4])
    got = [alerts(m) for _, m in out]
    assert sum(got, []) == [("full", "raised"), ("full", "cleared")]
    assert got[4] == [("full", "raised")]
    events = [m for _, ms in out for m in ms if isinstance(m, ContainerEvent)]
    assert [(e.before_pct, e.after_pct) for e in events] == [(90.0, 3.0)]


def test_state_is_saved_so_a_restart_raises_nothing_again(tmp_path) -> None:
    sink = Sink()
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK, notifier=sink)
    proc.use_registry(registry())
    out = feed(proc, [85, 86, 88])
    [raised] = out[1][1]
    assert [(a.alert, a.transition) for a, _ in sink.got] == [("full", "raised")]
    assert sink.got[0][1].settlement == "Dostuk"
    proc.close()  # or kill -9: the state was saved before process() returned

    again = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK, notifier=(sink2 := Sink()))
    assert again.containers(SITE) == ["bin-01"], "the registry is part of the state"
    assert again.open_alerts(SITE, "bin-01") == {"full"}
    # the first tick publishes the last message of each alert again: same id, same time
    assert again.tick(T0).publish == [raised]
    assert again.tick(T0).publish == []
    out = feed(again, [89, 90], start=30)
    assert [alerts(m) for _, m in out] == [[], []]
    assert sink2.got == [], "nothing is notified again"
    # a replay of a reading from before the restart is stale: no line, no message
    assert run(again, reading(20, 88)) == ([], [])


def test_tick_raises_offline_once_and_a_reading_clears_it(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry())
    feed(proc, [30])
    assert proc.tick(T0 + timedelta(seconds=1400)).publish == []
    [offline] = proc.tick(T0 + timedelta(seconds=1600)).publish  # 2.5 x 600 s of silence
    assert (offline.alert, offline.transition, offline.active) == ("offline", "raised", True)
    assert offline.since == T0
    assert proc.tick(T0 + timedelta(hours=3)).publish == []
    _, messages = run(proc, reading(200, 31))
    assert alerts(messages) == [("offline", "cleared")]


def test_a_registry_change_keeps_tracker_state(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry())
    feed(proc, [85, 86, 88])
    proc.use_registry(registry(spec(full_pct=90, clear_pct=80), spec("bin-02")))
    assert proc.open_alerts(SITE, "bin-01") == {"full"}
    assert proc.containers(SITE) == ["bin-01", "bin-02"]
    proc.use_registry(registry(spec("bin-02")))
    assert proc.containers(SITE) == ["bin-02"]


def test_impossible_geometry_is_not_tracked_and_a_bad_state_file_is_survived(tmp_path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_text("{broken: this is not a database")
    proc = FillProcessor(path, tz=BISHKEK)
    impossible = {**spec("bin-01").model_dump(), "empty_mm": 400, "full_mm": 450}
    proc.use_registry(registry(impossible, spec("bin-02")))
    assert proc.containers(SITE) == ["bin-02"]
    _, [letter] = run(proc, reading(0, 50))
    assert letter.reason == "unknown_container"


@pytest.mark.parametrize("site", ["dostuk", "kant"])
def test_sites_are_kept_apart(tmp_path, site) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry(site="dostuk"))
    lines, _ = run(proc, reading(0, 50, site=site))
    assert bool(lines) == (site == "dostuk")


def test_data_clock_lets_a_fast_simulator_go_offline(tmp_path) -> None:
    wall = T0 - timedelta(days=1)  # a simulator's readings run ahead of the wall clock
    for data_clock in (True, False):
        proc = FillProcessor(":memory:", tz=BISHKEK, data_clock=data_clock)
        proc.use_registry(registry(spec("bin-01"), spec("bin-02")))
        proc.tick(wall)  # the first tick after a start (replays nothing here)
        run(proc, reading(0, 30))
        run(proc, reading(20, 30, name="bin-02"))
        assert proc.tick(wall).publish == [], "bin-01 silent 20 min, offline after 25"
        run(proc, reading(40, 30, name="bin-02"))
        offline = [(a.container, a.alert) for a in proc.tick(wall).publish]
        assert offline == ([("bin-01", "offline")] if data_clock else [])
