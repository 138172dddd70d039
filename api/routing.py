"""Collection route order from a depot: nearest neighbour, then 2-opt, on haversine distance.

Pure and deterministic: ties go to the stop listed first, and 2-opt scans in a fixed order and
takes only strict improvements. With 33 containers an exact solver is not needed; 2-opt
removes every crossing of the nearest-neighbour tour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["EARTH_RADIUS_KM", "Route", "Stop", "haversine_km", "plan_route", "route_km", "two_opt"]

EARTH_RADIUS_KM = 6371.0088
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
    path = [depot, *order, depot] if closed else [depot, *order]
    last = len(path) - 1 if closed else len(path)  # positions that may move: 1 .. last-1
    d = haversine_km
    improved = True
    while improved:
        improved = False
        for i in range(1, last - 1):
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
    return path[1:-1] if closed else path[1:]


def plan_route(depot: Stop, stops: Sequence[Stop], *, closed: bool = True) -> Route:
    """Order the stops into a route from the depot (back to it when closed) and its km."""
    order = two_opt(depot, _nearest_neighbour(depot, stops), closed=closed)
    return Route(tuple(s.id for s in order), route_km(depot, order, closed=closed))
