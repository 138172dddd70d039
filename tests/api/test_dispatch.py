"""Dispatcher API on seeded InfluxDB data: board, alerts + acknowledgement, emptyings, route."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api import board
from api.main import create_app
from api.routing import Stop, plan_route
from deploy import stack
from landfill.language import LANGUAGES
from landfill.settings import ApiSettings
from landfill.texts import catalogue
from tests.api.conftest import add_token, add_user, client_for, login
from tests.api.seed import SCENARIO, fill_lines, seed_scenario, write

pytestmark = pytest.mark.integration


@pytest.fixture
def api(make_api, clock, influx, site):
    client = make_api(clock=clock)
    seed_scenario(client, influx, site, clock.now)
    return client


def dispatchers(api):
    """Aigul and Bakyt, two dispatchers logged in through the login form."""
    out = []
    for username, name in (("aigul", "Aigul"), ("bakyt", "Bakyt")):
        add_user(api.app, username, "dispatcher", full_name=name)
        client = client_for(api.app)
        assert login(client, username).status_code == 303
        out.append(client)
    return out


def _by_code(board):
    return {c["container"]: c for c in board["data"]}


def test_board_status_colours_and_reasons(api):
    board = api.get("/api/v1/dispatch/board").json()
    items = _by_code(board)
    assert {k: (v["status"], v["reasons"]) for k, v in items.items()} == {
        "full-1": ("red", ["full"]),
        "full-2": ("red", ["overfull"]),
        "risk-1": ("orange", ["overflow_risk"]),
        "sched-1": ("green", []),
        "low-1": ("yellow", ["low_battery"]),
        "off-1": ("grey", ["offline"]),
        "fire-1": ("green", []),  # the fire alert cleared
        "nodata-1": ("grey", ["no_data"]),
    }
    assert board["counts"] == {
        "red": 2,
        "orange": 1,
        "grey": 2,
        "yellow": 1,
        "green": 2,
        "full": 2,
        "overflow_risk": 1,
        "offline": 2,
        "battery": 1,
    }
    assert board["depot"] == {"lat": ApiSettings().depot_lat, "lon": ApiSettings().depot_lon}


def test_board_fill_forecast_and_age(api, clock):
    items = _by_code(api.get("/api/v1/dispatch/board").json())
    full = items["full-1"]
    assert full["fill"]["filtered_pct"] == pytest.approx(94.0)
    assert full["fill"]["quality"] == "accepted"
    assert full["fill"]["age_s"] == 0
    assert [a["id"] for a in full["alerts"]] == ["al-full-1"]
    risk = items["risk-1"]["forecast"]
    assert risk["rate_pct_per_day"] == pytest.approx(12.0, abs=0.01)
    assert risk["reliability"] == "high"  # 73 points on a straight line, weekdays agree
    assert risk["next_collection"] == "2026-11-28"
    assert risk["overflow_risk"] is True
    assert risk["projected_pct"] > 100
    # 56 % now, 80 % at 12 %/day: two days later
    full_at = datetime.fromisoformat(risk["full_at"])
    assert abs((full_at - clock.now).total_seconds() - 2 * 86400) < 60
    assert items["off-1"]["fill"]["age_s"] == 6 * 3600
    assert items["nodata-1"]["fill"]["filtered_pct"] is None
    assert items["nodata-1"]["forecast"] is None
    assert items["fire-1"]["forecast"]["never"] is False


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("full", ["full-1", "full-2"]),
        ("overflow_risk", ["risk-1"]),
        ("offline", ["nodata-1", "off-1"]),
        ("battery", ["low-1"]),
    ],
)
def test_board_filters(api, name, codes):
    data = api.get("/api/v1/dispatch/board", params={"filter": name}).json()["data"]
    assert [c["container"] for c in data] == codes


def test_board_rejects_unknown_filter(api):
    assert api.get("/api/v1/dispatch/board", params={"filter": "pink"}).status_code == 422


def test_alerts_open_only_and_acknowledge_persists(api, make_api, clock):
    alerts = api.get("/api/v1/dispatch/alerts").json()
    assert [(a["container"], a["kind"]) for a in alerts["data"]] == [
        ("off-1", "offline"),  # major, older
        ("full-2", "overfull"),  # major
        ("full-1", "full"),  # warning
    ]
    assert all(a["acknowledged"] is None for a in alerts["data"])

    aigul, bakyt = dispatchers(api)
    resp = aigul.post("/api/v1/dispatch/alerts/al-full-1/ack", json={"note": "truck"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["acknowledged"]["by"] == "Aigul"
    resp = bakyt.post("/api/v1/dispatch/alerts/al-full-1/ack", json={})
    assert (resp.status_code, resp.json()["detail"]) == (409, "alert already acknowledged")
    resp = bakyt.post("/api/v1/dispatch/alerts/al-fire-1/ack", json={})
    assert (resp.status_code, resp.json()["detail"]) == (409, "alert is no longer open")
    resp = bakyt.post("/api/v1/dispatch/alerts/nope/ack", json={})
    assert (resp.status_code, resp.json()["detail"]) == (404, "alert not found")
    # who acknowledged comes from the login: a name in the body is refused, not believed
    resp = bakyt.post("/api/v1/dispatch/alerts/al-off-1/ack", json={"by": "Aigul"})
    assert resp.status_code == 422

    # stored in SQL: a second API process on the same database sees it
    other = make_api(clock=clock)
    acked = other.get("/api/v1/dispatch/alerts", params={"acknowledged": True}).json()["data"]
    assert [(a["id"], a["acknowledged"]["by"], a["acknowledged"]["note"]) for a in acked] == [
        ("al-full-1", "Aigul", "truck")
    ]
    assert datetime.fromisoformat(acked[0]["acknowledged"]["at"]) == clock.now
    board = _by_code(other.get("/api/v1/dispatch/board").json())
    assert board["full-1"]["alerts"][0]["acknowledged"]["by"] == "Aigul"
    assert other.get("/api/v1/dispatch/alerts?acknowledged=false").json()["count"] == 2


def test_emptyings_confirm_and_reject_persist(api, make_api, clock):
    data = api.get("/api/v1/dispatch/emptyings").json()["data"]
    assert [(e["id"], e["container"], e["before_pct"], e["after_pct"]) for e in data] == [
        ("ev-1", "sched-1", 85.0, 4.0),
        ("ev-2", "risk-1", 90.0, 6.0),
    ]
    aigul, bakyt = dispatchers(api)
    resp = aigul.post("/api/v1/dispatch/emptyings/ev-1/confirm", json={})
    assert resp.status_code == 201
    assert resp.json()["decision"] == "confirmed"
    resp = bakyt.post("/api/v1/dispatch/emptyings/ev-2/reject", json={"note": "test"})
    assert resp.json()["decision"] == "rejected"
    resp = aigul.post("/api/v1/dispatch/emptyings/ev-2/confirm", json={})
    assert (resp.status_code, resp.json()["detail"]) == (409, "emptying already decided")
    resp = aigul.post("/api/v1/dispatch/emptyings/ev-9/confirm", json={})
    assert (resp.status_code, resp.json()["detail"]) == (404, "emptying not found")
    resp = aigul.post("/api/v1/dispatch/emptyings/ev-1/reject", json={"by": "Bakyt"})
    assert resp.status_code == 422  # who decided comes from the login

    other = make_api(clock=clock)
    data = other.get("/api/v1/dispatch/emptyings").json()["data"]
    assert [(e["id"], e["decision"]["decision"], e["decision"]["by"]) for e in data] == [
        ("ev-1", "confirmed", "Aigul"),
        ("ev-2", "rejected", "Bakyt"),
    ]
    assert other.get("/api/v1/dispatch/emptyings?pending=true").json()["count"] == 0
    assert other.get("/api/v1/dispatch/emptyings?days=1").json()["count"] == 0


def _expected(codes):
    settings = ApiSettings()
    depot = Stop("depot", settings.depot_lat, settings.depot_lon)
    coords = {code: (lat, lon) for code, _, lat, lon, _ in SCENARIO}
    return plan_route(depot, [Stop(c, *coords[c]) for c in codes])


def test_route_tomorrow_orders_what_to_collect_with_plan_route(api):
    route = api.get("/api/v1/dispatch/route").json()
    assert route["date"] == "2026-11-25"  # tomorrow in Bishkek (a Wednesday)
    why = {s["container"]: s["why"] for s in route["stops"]}
    assert why == {
        "full-1": ["full", "overflow_risk"],
        "full-2": ["full", "overflow_risk"],
        "risk-1": ["overflow_risk"],
        "sched-1": ["scheduled"],  # Wednesday, 55 % >= 50 %; low-1 (20 %) waits
    }
    expected = _expected(why)
    assert tuple(s["container"] for s in route["stops"]) == expected.order
    assert route["km"] == pytest.approx(expected.km, abs=0.01)
    assert sum(s["leg_km"] for s in route["stops"]) < route["km"]  # the way back is not a leg


def test_the_route_day_and_the_page_follow_the_time_zone_setting(make_api, clock):
    # 04:00 UTC on Tuesday: 10:00 in Bishkek, but still Monday 20:00 in Los Angeles
    api = make_api(clock=clock, timezone="America/Los_Angeles")
    assert api.get("/api/v1/dispatch/route").json()["date"] == "2026-11-24"
    assert 'data-tz="America/Los_Angeles"' in api.get("/dispatch").text


def test_route_for_a_date_and_settings(make_api, clock, influx, site):
    api = make_api(clock=clock, route_min_fill_pct=15, depot_lat=41.2, depot_lon=72.5)
    seed_scenario(api, influx, site, clock.now)
    route = api.get("/api/v1/dispatch/route", params={"date": "2026-11-25"}).json()
    assert {s["container"] for s in route["stops"]} == {
        "full-1",
        "full-2",
        "risk-1",
        "sched-1",
        "low-1",
    }
    assert route["depot"] == {"lat": 41.2, "lon": 72.5}
    monday = api.get("/api/v1/dispatch/route", params={"date": "2026-11-30"}).json()
    assert "off-1" in {s["container"] for s in monday["stops"]}  # 30 % + Monday round
    assert api.get("/api/v1/dispatch/route", params={"date": "25.11.2026"}).status_code == 422


def test_dispatch_is_503_when_influx_is_down(broker, site, tmp_path):
    settings = ApiSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=f"http://127.0.0.1:{stack.free_port()}",
        database_url=f"sqlite:///{tmp_path}/api.sqlite",
    )
    with TestClient(create_app(settings)) as api:
        api.headers["Authorization"] = f"Bearer {add_token(api.app, 'dispatcher')}"
        for path in ("board", "alerts", "emptyings", "route"):
            resp = api.get(f"/api/v1/dispatch/{path}")
            assert resp.status_code == 503, path
            assert resp.json()["detail"].startswith("InfluxDB query failed")


def test_a_database_the_ingest_has_not_created_yet_means_no_data(make_api, clock):
    api = make_api(clock=clock, influx_db="not_created_yet", seed_demo=True)
    board = api.get("/api/v1/dispatch/board").json()
    assert board["count"] == 33
    assert board["counts"]["grey"] == 33
    assert {tuple(c["reasons"]) for c in board["data"]} == {("no_data",)}
    assert api.get("/api/v1/dispatch/route").json()["stops"] == []
    assert api.get("/api/v1/dispatch/alerts").json()["count"] == 0


def test_page_and_assets_are_local(make_api):
    api = make_api()
    resp = api.get("/dispatch", params={"lang": "ru"})
    assert resp.status_code == 200
    assert "<title>Диспетчер контейнеров</title>" in resp.text
    assert resp.cookies.get("lang") == "ru"
    assert '<html lang="ru">' in api.get("/dispatch").text  # remembered
    api.cookies.clear()
    assert '<html lang="ky">' in api.get("/dispatch", headers={"Accept-Language": "fr"}).text
    for path in (
        "/static/dispatch.js",
        "/static/dispatch.css",
        "/static/site.css",
        "/login",
    ):
        body = api.get(path)
        assert body.status_code == 200, path
        urls = set(re.findall(r"https?://[^\s\"'`)]+", body.text))
        assert urls <= {"http://www.w3.org/2000/svg"}, (path, urls)
    for lang in LANGUAGES:  # the texts are embedded in the page (landfill/i18n/, not /static)
        assert not re.findall(r"https?://", json.dumps(catalogue(lang))), lang
    assert not re.findall(r"(?:src|href)=\"https?://", resp.text)


# most urgent first: red, orange, grey, yellow, green, then by code
URGENT = ["full-1", "full-2", "risk-1", "nodata-1", "off-1", "low-1", "fire-1", "sched-1"]


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({}, URGENT),
        ({"status": "red"}, ["full-1", "full-2"]),
        ({"status": "grey", "filter": "offline"}, ["nodata-1", "off-1"]),
        ({"settlement": "Tendik"}, ["off-1"]),
        ({"zone": "dostuk", "per_page": 3, "page": 2}, URGENT[3:6]),
        ({"zone": "dostuk", "per_page": 3, "page": 3}, URGENT[6:]),
        ({"zone": "nowhere"}, []),
    ],
)
def test_board_is_filtered_and_paged_on_the_server(api, params, codes):
    board = api.get("/api/v1/dispatch/board", params=params).json()
    assert [c["container"] for c in board["data"]] == codes
    assert board["count"] == len(codes)
    whole = {k: v for k, v in params.items() if k not in ("page", "per_page")}
    every = api.get("/api/v1/dispatch/board", params={**whole, "per_page": 500}).json()["data"]
    assert board["total"] == len(every)
    # counts are for the whole site; the map shows every filtered container, on every page
    assert sum(board["counts"][s] for s in ("red", "orange", "grey", "yellow", "green")) == 8
    assert {p["container"] for p in board["map"]["pins"]} == {c["container"] for c in every}
    assert board["map"]["clusters"] == []
    assert board["zones"] == ["dostuk"]
    assert "Tendik" in board["settlements"]
    assert board["recomputed"] == 8, "seeded by hand: no kept state, all from the history"


def test_board_rejects_unknown_status_and_bad_pages(api):
    for params in ({"status": "pink"}, {"page": 0}, {"per_page": 501}):
        assert api.get("/api/v1/dispatch/board", params=params).status_code == 422


def _add_flat_container(api, influx, site, now):
    """Three identical levels at uneven times (a forecast that once overflowed: issue 9)."""
    body = {"code": "flat-1", "settlement": "Flat", "zone": "dostuk", "lat": 41.1, "lon": 72.6}
    resp = api.post("/api/v1/containers", json={**body, "empty_mm": 1450, "full_mm": 450})
    assert resp.status_code == 201, resp.text
    times = [now - timedelta(seconds=s) for s in (18894, 7566, 0)]
    write(influx, fill_lines(site, "flat-1", "dostuk", [(t, 43.7) for t in times]))


def test_identical_levels_at_uneven_times_keep_board_and_route_up(api, influx, site, clock):
    before = {k: v["status"] for k, v in _by_code(api.get("/api/v1/dispatch/board").json()).items()}
    _add_flat_container(api, influx, site, clock.now)
    resp = api.get("/api/v1/dispatch/board")
    assert resp.status_code == 200, resp.text
    items = _by_code(resp.json())
    flat = items.pop("flat-1")["forecast"]
    assert (flat["rate_pct_per_day"], flat["never"], flat["full_at"]) == (0, True, None)
    assert {k: v["status"] for k, v in items.items()} == before
    assert api.get("/api/v1/dispatch/route").status_code == 200


def test_a_forecast_that_fails_is_unknown_for_that_container_only(api, monkeypatch, caplog):
    good = _by_code(api.get("/api/v1/dispatch/board").json())

    def forecast(spec, *args, **kwargs):
        if spec.container == "risk-1":
            raise OverflowError("date value out of range")
        return real_forecast(spec, *args, **kwargs)

    real_forecast = board.forecast
    monkeypatch.setattr(board, "forecast", forecast)
    resp = api.get("/api/v1/dispatch/board")
    assert resp.status_code == 200
    items = _by_code(resp.json())
    assert items["risk-1"]["forecast"] is None
    assert items["risk-1"]["fill"] == good["risk-1"]["fill"]
    for code in set(items) - {"risk-1"}:
        assert items[code] == good[code], code
    assert "forecast of container risk-1 failed" in caplog.text
    assert api.get("/api/v1/dispatch/route").status_code == 200
