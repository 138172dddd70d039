"""The route for a chosen day, cut into truck trips, and its printable sheet.

Containers on the depot's meridian make every distance a multiple of one figure: 0.01° of
latitude is 1.1119508 km on the mean earth radius (6371.0088 km), so the expected km below
are written out, not computed with the code under test.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from api.routing import Stop
from api.trips import Load, split_trips
from landfill.settings import ApiSettings
from tests.api.seed import fill_lines, hourly, write

pytestmark = pytest.mark.integration

DEPOT = {"depot_lat": 41.0, "depot_lon": 72.0}
WEDNESDAY = 2  # 2026-11-25, tomorrow of the test clock (Tuesday 10:00 in Bishkek)


def add_containers(api, influx, site: str, now: datetime, count: int = 4) -> None:
    """``count`` full containers of 2 m³ at 90 % (a flat level: no rise), 0.01° apart going
    north from the depot; and `rise-1`, 0.05° north, due on Wednesdays, 60 % rising 10 %/day."""
    lines: list[str] = []
    for i in range(1, count + 1):
        code = f"c-{i:02d}"
        _register(api, code, f"Village {i:02d}", 41.0 + i / 100, [4])
        lines += fill_lines(site, code, "z", [(now - timedelta(hours=2), 90.0), (now, 90.0)])
    _register(api, "rise-1", "Dostuk", 41.05, [WEDNESDAY])
    lines += fill_lines(site, "rise-1", "z", hourly(now - timedelta(days=2), now, 40, 10))
    write(influx, lines)


def _register(api, code: str, settlement: str, lat: float, weekdays: list[int]) -> None:
    body = {
        "code": code,
        "settlement": settlement,
        "zone": "z",
        "lat": lat,
        "lon": 72.0,
        "volume_m3": 2.0,
        "empty_mm": 1450,
        "full_mm": 450,
        "collection_weekdays": weekdays,
    }
    resp = api.post("/api/v1/containers", json=body)
    assert resp.status_code == 201, resp.text


@pytest.fixture
def api(make_api, clock, influx, site):
    client = make_api(clock=clock, truck_capacity_m3=4.0, route_road_factor=1.5, **DEPOT)
    add_containers(client, influx, site, clock.now)
    return client


def test_trips_split_by_truck_capacity_with_road_factor(api):
    route = api.get("/api/v1/dispatch/route").json()
    assert route["date"] == "2026-11-25"
    assert [s["container"] for s in route["stops"]] == ["c-01", "c-02", "c-03", "c-04", "rise-1"]
    # 2 m³ × 90 %; rise-1: 60 % + 10 %/day × 31 h to 17:00 local on the day = 72.92 % of 2 m³
    assert [s["volume_m3"] for s in route["stops"]] == [1.8, 1.8, 1.8, 1.8, 1.46]
    assert route["volume_m3"] == 8.66
    assert (route["capacity_m3"], route["road_factor"]) == (4.0, 1.5)
    # 1.8 + 1.8 = 3.6 fits 4 m³; a third 1.8 does not: back to the landfill to unload
    trips = [(t["number"], t["containers"], t["volume_m3"], t["km"]) for t in route["trips"]]
    assert trips == [
        (1, ["c-01", "c-02"], 3.6, 4.45),  # 0.04° depot to depot
        (2, ["c-03", "c-04"], 3.6, 8.9),  # 0.08°
        (3, ["rise-1"], 1.46, 11.12),  # 0.10°
    ]
    assert [t["road_km"] for t in route["trips"]] == [6.67, 13.34, 16.68]  # × 1.5
    assert [s["trip"] for s in route["stops"]] == [1, 1, 2, 2, 3]
    assert [s["trip_leg_km"] for s in route["stops"]] == [1.11, 1.11, 3.34, 1.11, 5.56]
    assert route["trips_km"] == 24.46  # 0.22° = 24.4629
    assert route["road_km"] == 36.69  # 24.4629 × 1.5 = 36.694
    # the tour without unloading stays as it was: 0.10° out and back
    assert route["km"] == 11.12
    assert [s["leg_km"] for s in route["stops"]] == [1.11, 1.11, 1.11, 1.11, 1.11]
    assert not any(t["over_capacity"] for t in route["trips"])


def test_one_truckload_is_one_trip_and_a_stop_over_capacity_is_marked(
    make_api, clock, influx, site
):
    big = make_api(clock=clock, truck_capacity_m3=100.0, **DEPOT)
    add_containers(big, influx, site, clock.now)
    route = big.get("/api/v1/dispatch/route").json()
    assert [(t["count"], t["km"]) for t in route["trips"]] == [(5, 11.12)]
    assert route["trips_km"] == route["km"] == 11.12
    assert route["road_factor"] == 1.3  # the default
    assert route["road_km"] == 14.46  # 11.1195 × 1.3
    small = make_api(clock=clock, truck_capacity_m3=1.5, **DEPOT)
    trips = small.get("/api/v1/dispatch/route").json()["trips"]
    assert [(t["containers"], t["over_capacity"]) for t in trips] == [
        (["c-01"], True),
        (["c-02"], True),
        (["c-03"], True),
        (["c-04"], True),
        (["rise-1"], False),  # 1.46 m³ fits 1.5
    ]


def test_the_chosen_date_changes_the_route_and_bad_dates_are_422(api):
    thursday = api.get("/api/v1/dispatch/route", params={"date": "2026-11-26"}).json()
    assert thursday["date"] == "2026-11-26"
    # rise-1 is due on Wednesdays only; the full containers go any day
    assert [s["container"] for s in thursday["stops"]] == ["c-01", "c-02", "c-03", "c-04"]
    assert [t["containers"] for t in thursday["trips"]] == [["c-01", "c-02"], ["c-03", "c-04"]]
    page = api.get("/dispatch/route", params={"date": "2026-11-26", "lang": "en"})
    assert page.status_code == 200
    assert 'type="date" id="date" name="date" value="2026-11-26"' in page.text
    assert "Thursday, 26.11.2026" in page.text
    assert "rise-1" not in page.text
    default = api.get("/dispatch/route", params={"lang": "en"}).text
    assert 'value="2026-11-25"' in default
    assert "Wednesday, 25.11.2026" in default
    for bad in ("2026-02-30", "26.11.2026", "tomorrow", "1900-01-01", "2100-01-01"):
        for path in ("/api/v1/dispatch/route", "/dispatch/route"):
            assert api.get(path, params={"date": bad}).status_code == 422, (path, bad)


def test_the_sheet_in_each_language(api):
    en = api.get("/dispatch/route", params={"lang": "en"}).text
    assert "straight-line km × 1.50 (road factor)" in en
    assert "Trip 2: 2 containers, 3.60 m³, 13.3 km" in en
    assert "Total: 5 containers, 8.66 m³, 3 trips, 36.7 km (24.5 straight-line km)" in en
    assert "Printed: 24.11.2026 10:00 (Asia/Bishkek)" in en  # 04:00 UTC
    ru = api.get("/dispatch/route", params={"lang": "ru"}).text
    assert "км по прямой × 1,50 (дорожный коэффициент)" in ru
    assert "Итого: контейнеров 5, 8,66 м³, рейсов 3, 36,7 км (24,5 км по прямой)" in ru
    assert '<td class="num">1,46</td>' in ru
    ky = api.get("/dispatch/route", params={"lang": "ky"}).text
    assert "түз сызык боюнча км × 1,50" in ky
    assert "3-каттам: 1 контейнер, 1,46 м³, 16,7 км" in ky
    assert "Шаршемби, 25.11.2026" in ky
    board = api.get("/dispatch", params={"lang": "en"}).text
    assert 'href="/dispatch/route"' in board


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("route_road_factor", 0.9),  # a road is never shorter than the straight line
        ("route_road_factor", 3.5),
        ("truck_capacity_m3", 0),
        ("truck_capacity_m3", 101),
    ],
)
def test_road_factor_and_truck_capacity_are_range_checked(field, value):
    with pytest.raises(ValidationError, match=field):
        ApiSettings(**{field: value})


def test_loads_that_fill_the_truck_exactly_share_a_trip():
    depot = Stop("depot", 41.0, 72.0)
    loads = [Load(Stop(f"s{i}", 41.0 + i / 100, 72.0), 0.3) for i in range(1, 9)]
    trips = split_trips(depot, loads, 1.2)  # 1.2 - 0.3 - 0.3 - 0.3 is 0.2999999999999999
    assert [len(t.loads) for t in trips] == [4, 4]
    assert split_trips(depot, [], 10.0) == ()
