"""The board from ingest's kept state answers as today's recomputation from the history.

The 33 demo containers, registered by CSV import, report for ten days: the sensor simulator's
uplinks (fills, emptyings, missed pickups, sentinels, tilts, fires, silences) go through the
fill processor as ingest runs it, with its timer ticks. Everything it writes (`fill`,
`fill_state`, and the alert and event messages it publishes, stored as `container_alert` and
`container_event`) goes to InfluxDB. The board must then read the kept state of every
container, and give the status, reasons, level, time to full (within a minute) and forecast
that `recomputed_states` (the board before the kept state) gives from the history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from api.board import ContainerState, collection_list, recomputed_states
from api.container_registry import demo_csv
from api.db import Container, EmptyingDecision
from api.routing import Stop
from bench.board import play
from edge.sensors.simulator import SensorSimulator, fleet, registry
from landfill.contract import ContainerReading
from landfill.settings import ApiSettings

pytestmark = pytest.mark.integration

DAYS = 10


@pytest.fixture
def demo(make_api, clock, influx, site):
    """The API with the demo CSV imported and ten days of the fleet's data in InfluxDB."""
    api = make_api(clock=clock)
    resp = api.post(
        "/api/v1/containers/import", content=demo_csv(), headers={"content-type": "text/csv"}
    )
    assert resp.status_code == 200, resp.text
    containers = fleet(33)
    sim = SensorSimulator(containers, start=clock.now - timedelta(days=DAYS), seed=7)
    readings = (
        ContainerReading(
            ts=up.ts,
            site=site,
            container=up.container,
            device=c.eui,
            model=c.model,
            source="simulator",
            distance_mm=up.values.distance_mm,
            battery_pct=up.values.battery_pct,
            battery_v=up.values.battery_v,
            temp_c=up.values.temp_c,
            tilt=up.values.tilt,
        )
        for up in sim.advance(clock.now)
        for c in containers
        if c.spec.container == up.container
    )
    lines = list(play(registry(site, containers, sim.start), readings, clock.now))
    for i in range(0, len(lines), 5000):
        influx.write_lines(lines[i : i + 5000])
    return api


def _recomputed(api, influx, site, clock, rejected=frozenset()) -> dict[str, ContainerState]:
    settings: ApiSettings = api.app.state.settings
    with api.app.state.sessions() as session:
        rows = list(session.scalars(select(Container).where(Container.active)))
        states = recomputed_states(
            influx,
            site,
            rows,
            clock.now,
            tz=settings.tz,
            history_days=settings.dispatch_history_days,
            rejected_emptyings=rejected,
        )
    return {s.row.code: s for s in states}


def _compare(board: dict, want: dict[str, ContainerState]) -> None:
    assert set(board) == set(want)
    for code, item in board.items():
        w = want[code]
        assert (item["status"], item["reasons"]) == (w.status, w.reasons), code
        assert item["fill"]["filtered_pct"] == pytest.approx(w.level_pct), code
        assert {a["id"] for a in item["alerts"]} == {a.id for a in w.alerts}, code
        f, wf = item["forecast"], w.forecast
        assert (f is None) == (wf is None), code
        if f is None or wf is None:
            continue
        assert (f["never"], f["reliability"], f["overflow_risk"]) == (
            wf.never,
            wf.reliability,
            wf.overflow_risk,
        ), code
        assert f["next_collection"] == (wf.next_collection and wf.next_collection.isoformat())
        assert (f["full_at"] is None) == (wf.full_at is None), code
        if wf.full_at is not None:
            got = datetime.fromisoformat(f["full_at"])
            assert abs((got - wf.full_at).total_seconds()) < 60, code


@pytest.mark.parametrize("later", [timedelta(0), timedelta(days=3)])
def test_the_kept_board_answers_as_the_recomputation(demo, influx, site, clock, later):
    # three days later and silent: every kept state is older than the recent window
    clock.now += later
    board = demo.get("/api/v1/dispatch/board", params={"per_page": 500}).json()
    assert board["recomputed"] == 0, "every container has a kept state"
    assert board["total"] == board["count"] == 33
    items = {c["container"]: c for c in board["data"]}
    want = _recomputed(demo, influx, site, clock)
    _compare(items, want)
    # the data is not trivial: the statuses and forecasts vary
    assert len({c["status"] for c in board["data"]}) >= (1 if later else 3)
    assert sum(1 for c in board["data"] if c["alerts"]) >= 3
    assert {c["forecast"]["reliability"] for c in board["data"] if c["forecast"]} >= {"high"}
    # the alerts list is the board's
    alerts = demo.get("/api/v1/dispatch/alerts").json()["data"]
    assert sorted(a["id"] for a in alerts) == sorted(a.id for w in want.values() for a in w.alerts)

    # the route from the kept state is the route from the recomputation
    route = demo.get("/api/v1/dispatch/route").json()
    settings = ApiSettings()
    depot = Stop("depot", settings.depot_lat, settings.depot_lon)
    day = (clock.now.astimezone(settings.tz) + timedelta(days=1)).date()
    plan = collection_list(want.values(), day, depot, settings.route_min_fill_pct)
    assert [s["container"] for s in route["stops"]] == [p.state.row.code for p in plan.stops]
    assert route["stopped_on_budget"] is False


def test_a_rejected_emptying_is_recomputed_without_it(demo, influx, site, clock):
    emptyings = demo.get("/api/v1/dispatch/emptyings").json()["data"]
    latest: dict[str, str] = {}
    for e in emptyings:  # newest first
        latest.setdefault(e["container"], e["id"])
    code, event = sorted(latest.items())[0]
    resp = demo.post(f"/api/v1/dispatch/emptyings/{event}/reject", json={"note": "no truck"})
    assert resp.status_code == 201
    board = demo.get("/api/v1/dispatch/board", params={"per_page": 500}).json()
    assert board["recomputed"] == 1
    with demo.app.state.sessions() as session:
        rejected = frozenset(session.scalars(select(EmptyingDecision.event_id)))
    want = _recomputed(demo, influx, site, clock, rejected)
    _compare({c["container"]: c for c in board["data"]}, want)
