"""Collection route order from a depot, in bounded time.

    up to SMALL_ROUTE stops (or an open route): nearest neighbour, then 2-opt over every pair,
        on haversine distance (a full pass is O(n²): fine for a settlement's round)
    more stops, closed: api/tour.py on planar km around the depot: nearest neighbour on a grid,
        then 2-opt and Or-opt over each stop's nearest neighbours only
    either way: the improvement stops at the time budget; the route says whether it did

Pure and deterministic below the budget: ties go to the stop listed first, 2-opt scans in a
fixed order and takes only strict improvements. With 33 containers an exact solver is not
needed; 2-opt removes every crossing of the nearest-neighbour tour. The km of a route are
always haversine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from api.tour import Clock, closed_tour

__all__ = [
    "EARTH_RADIUS_KM",
    "SMALL_ROUTE",
    "Route",
    "Stop",
    "haversine_km",
    "plan_route",
    "route_km",
    "two_opt",
]

EARTH_RADIUS_KM = 6371.0088
SMALL_ROUTE = 80  # above this many stops a closed route takes the neighbour-list path
_EPS = 1e-9


@dataclass(frozen=True)
class Stop:
    """A place on the route: a container or the depot."""

    id: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Route:
    """Stops in visiting order (depot excluded) and the length in km, depot to depot if closed."""

    order: tuple[str, ...]
    km: float
    stopped_on_budget: bool = False  # the improvement ran out of time: a good, not best, order


def haversine_km(a: Stop, b: Stop) -> float:
    """Great-circle distance between two stops in km."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def route_km(depot: Stop, stops: Sequence[Stop], *, closed: bool = True) -> float:
    """Length of visiting ``stops`` in order from the depot (and back when closed)."""
    path = [depot, *stops, depot] if closed else [depot, *stops]
    return sum(haversine_km(a, b) for a, b in zip(path, path[1:], strict=False))


def _nearest_neighbour(depot: Stop, stops: Sequence[Stop]) -> list[Stop]:
    left = list(stops)
    order: list[Stop] = []
    here = depot
    while left:
        best = min(range(len(left)), key=lambda i: (haversine_km(here, left[i]), i))
        here = left.pop(best)
        order.append(here)
    return order


def two_opt(depot: Stop, order: Sequence[Stop], *, closed: bool = True) -> list[Stop]:
    """Reverse segments while that shortens the route; the depot stays first (and last)."""
    return _two_opt(depot, order, closed, None, time.monotonic)[0]


def _two_opt(
    depot: Stop, order: Sequence[Stop], closed: bool, deadline: float | None, clock: Clock
) -> tuple[list[Stop], bool]:
    """`two_opt`, stopping at ``deadline``; also says whether it stopped there."""
    path = [depot, *order, depot] if closed else [depot, *order]
    last = len(path) - 1 if closed else len(path)  # positions that may move: 1 .. last-1
    d = haversine_km
    improved = True
    while improved:
        improved = False
        for i in range(1, last - 1):
            if deadline is not None and clock() >= deadline:
                return (path[1:-1] if closed else path[1:]), True
            for j in range(i + 1, last):
                # replace edges (i-1, i) and (j, j+1) with (i-1, j) and (i, j+1)
                before = d(path[i - 1], path[i])
                after = d(path[i - 1], path[j])
                if j + 1 < len(path):
                    before += d(path[j], path[j + 1])
                    after += d(path[i], path[j + 1])
                if after < before - _EPS:
                    path[i : j + 1] = reversed(path[i : j + 1])
                    improved = True
    return (path[1:-1] if closed else path[1:]), False


def plan_route(
    depot: Stop,
    stops: Sequence[Stop],
    *,
    closed: bool = True,
    budget_s: float | None = None,
    clock: Clock = time.monotonic,
) -> Route:
    """Order the stops into a route from the depot (back to it when closed) and its km.

    With ``budget_s``, the improvement stops after that many seconds (of ``clock``).
    """
    deadline = None if budget_s is None else clock() + budget_s
    if closed and len(stops) > SMALL_ROUTE:
        # planar km around the depot: within a district, far closer than any road to the truth
        k = math.cos(math.radians(depot.lat))
        rad = math.radians(1.0) * EARTH_RADIUS_KM
        xy = [((s.lon - depot.lon) * k * rad, (s.lat - depot.lat) * rad) for s in (depot, *stops)]
        tour, stopped = closed_tour(xy, deadline, clock)
        order = [stops[i - 1] for i in tour[1:]]
    else:
        order, stopped = _two_opt(depot, _nearest_neighbour(depot, stops), closed, deadline, clock)
    km = route_km(depot, order, closed=closed)
    return Route(tuple(s.id for s in order), km, stopped)
