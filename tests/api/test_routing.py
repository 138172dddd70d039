"""Route order: small instances with a known best tour, and 2-opt removing a crossing."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from api.routing import SMALL_ROUTE, Route, Stop, haversine_km, plan_route, route_km, two_opt
from api.tour import closed_tour

DEPOT = Stop("depot", 42.80, 74.60)  # near Bishkek


def test_haversine_one_degree_of_latitude():
    assert haversine_km(Stop("a", 42.0, 74.0), Stop("b", 43.0, 74.0)) == pytest.approx(111.2, 0.01)
    assert haversine_km(DEPOT, DEPOT) == 0


def test_points_on_a_line_are_visited_in_order():
    east = [Stop(f"c{i}", 42.80, 74.60 + 0.01 * i) for i in (3, 1, 4, 2)]
    route = plan_route(DEPOT, east)
    assert route.order in {("c1", "c2", "c3", "c4"), ("c4", "c3", "c2", "c1")}
    assert route.km == pytest.approx(2 * haversine_km(DEPOT, east[2]))
    open_route = plan_route(DEPOT, east, closed=False)
    assert open_route.order == ("c1", "c2", "c3", "c4")
    assert open_route.km == pytest.approx(haversine_km(DEPOT, east[2]))


def test_square_is_driven_round_the_edge():
    d = 0.05
    corners = [
        Stop("ne", 42.80 + d, 74.60 + d),
        Stop("n", 42.80 + d, 74.60),
        Stop("e", 42.80, 74.60 + d),
    ]
    route = plan_route(DEPOT, corners)
    assert route.order in {("n", "ne", "e"), ("e", "ne", "n")}
    perimeter = route_km(DEPOT, [corners[1], corners[0], corners[2]])
    assert route.km == pytest.approx(perimeter)


def test_two_opt_removes_a_crossing():
    d = 0.05
    n, ne, e = (
        Stop("n", 42.80 + d, 74.60),
        Stop("ne", 42.80 + d, 74.60 + d),
        Stop("e", 42.80, 74.60 + d),
    )
    crossing = [ne, n, e]  # depot -> ne and n -> e are the two diagonals
    fixed = two_opt(DEPOT, crossing)
    assert [s.id for s in fixed] in (["n", "ne", "e"], ["e", "ne", "n"])
    assert route_km(DEPOT, fixed) < route_km(DEPOT, crossing)


@pytest.mark.parametrize("seed", range(8))
def test_small_random_instances_match_brute_force(seed):
    rnd = random.Random(seed)
    stops = [Stop(f"c{i}", 42.5 + rnd.random(), 74.0 + rnd.random()) for i in range(6)]
    best = min(route_km(DEPOT, list(p)) for p in itertools.permutations(stops))
    route = plan_route(DEPOT, stops)
    assert route.km == pytest.approx(best, rel=0.05)  # 2-opt is a heuristic: near, not exact
    assert sorted(route.order) == sorted(s.id for s in stops)


def test_deterministic():
    rnd = random.Random(1)
    stops = [Stop(f"c{i:02}", 42.0 + rnd.random(), 74.0 + rnd.random()) for i in range(33)]
    assert plan_route(DEPOT, stops) == plan_route(DEPOT, stops)


def test_no_stops_and_one_stop():
    assert plan_route(DEPOT, []) == Route((), 0.0)
    one = Stop("c1", 42.9, 74.6)
    assert plan_route(DEPOT, [one]) == Route(("c1",), pytest.approx(2 * haversine_km(DEPOT, one)))


def _plain_two_opt_km(stops):
    """2-opt over every pair from the listed order, whatever the size: the reference."""
    return route_km(DEPOT, two_opt(DEPOT, stops))


@pytest.mark.parametrize("n", [SMALL_ROUTE + 1, 300])
def test_large_routes_visit_every_stop_and_beat_plain_two_opt(n):
    rnd = random.Random(n)
    stops = [
        Stop(f"c{i:03}", 42.5 + 0.5 * rnd.random(), 74.0 + 0.7 * rnd.random()) for i in range(n)
    ]
    route = plan_route(DEPOT, stops)
    assert sorted(route.order) == sorted(s.id for s in stops)
    assert route.stopped_on_budget is False
    by_id = {s.id: s for s in stops}
    assert route.km == pytest.approx(route_km(DEPOT, [by_id[c] for c in route.order]))
    assert route.km <= _plain_two_opt_km(stops) * 1.01
    assert plan_route(DEPOT, stops) == route, "deterministic below the budget"


@pytest.mark.parametrize("seed", range(6))
def test_the_large_route_path_is_near_the_best_tour_on_small_instances(seed):
    rnd = random.Random(seed)
    xy = [(0.0, 0.0), *((rnd.uniform(-10, 10), rnd.uniform(-10, 10)) for _ in range(7))]

    def length(order):
        legs = zip(order, [*order[1:], order[0]], strict=True)
        return sum(math.dist(xy[a], xy[b]) for a, b in legs)

    tour, stopped = closed_tour(xy, None, lambda: 0.0)
    assert tour[0] == 0
    assert sorted(tour) == list(range(8))
    assert not stopped
    best = min(length([0, *p]) for p in itertools.permutations(range(1, 8)))
    assert length(tour) <= best * 1.05


@pytest.mark.parametrize("n", [33, 300])
def test_the_route_stops_improving_at_the_budget_and_says_so(n):
    rnd = random.Random(2)
    stops = [Stop(f"c{i:03}", 42.5 + rnd.random(), 74.0 + rnd.random()) for i in range(n)]
    ticks = itertools.count()
    route = plan_route(DEPOT, stops, budget_s=0.5, clock=lambda: float(next(ticks)))
    assert route.stopped_on_budget is True
    assert sorted(route.order) == sorted(s.id for s in stops)
    assert plan_route(DEPOT, stops, budget_s=60).stopped_on_budget is False
