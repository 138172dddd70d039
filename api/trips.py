"""A day's collection round cut into truck trips, and each container's forecast volume.

    route order (plan_route) ─► forecast m³ of each stop: its volume × its level projected
                                 to the end of the collection day (linear, within 0-100 %)
                             ─► trips: stops in route order while the truck has room; the next
                                 stop that would overfill it starts a new trip from the depot
                                 (the truck goes back to unload first)
                             ─► per trip: its stops, the leg to each (the first from the
                                 depot), the way back, m³ and km

Distances are straight-line (haversine) km: road distance is unknown, so pages scale them by
the ``route_road_factor`` setting and say so. A stop larger than the truck on its own is a trip
of its own, marked over capacity. Pure: no I/O, no settings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from api.routing import Stop, haversine_km

__all__ = ["Load", "Trip", "forecast_volume_m3", "split_trips"]

_EPS = 1e-9  # loads that add up to the capacity exactly still fit (floats: 1.2 - 3 × 0.3 < 0.3)


@dataclass(frozen=True)
class Load:
    """A stop on the route and the volume the truck takes there."""

    stop: Stop
    volume_m3: float


@dataclass(frozen=True)
class Trip:
    """Stops from the depot back to it with one truckload."""

    number: int  # 1, 2, ... in route order
    loads: tuple[Load, ...]
    legs_km: tuple[float, ...]  # to each stop; the first from the depot
    back_km: float  # the last stop to the depot
    over_capacity: bool  # one stop alone is more than the truck takes

    @property
    def volume_m3(self) -> float:
        """The forecast volume of the trip's stops."""
        return math.fsum(load.volume_m3 for load in self.loads)

    @property
    def km(self) -> float:
        """Straight-line km from the depot, through the stops, back to the depot."""
        return math.fsum(self.legs_km) + self.back_km


def forecast_volume_m3(
    volume_m3: float,
    level_pct: float | None,
    level_ts: datetime | None,
    rate_pct_per_day: float | None,
    at: datetime,
) -> float:
    """The container's volume × its level projected to ``at`` (within 0-100 %).

    A level not known is taken as full: such a container is on the route because it is full
    or overfull, and the truck needs room for all of it. A rate not known or not positive
    keeps the level as it is; a time before the level's keeps it too.
    """
    if level_pct is None or not math.isfinite(level_pct):
        return volume_m3
    pct = level_pct
    if rate_pct_per_day is not None and rate_pct_per_day > 0 and level_ts is not None:
        days = max(0.0, (at - level_ts).total_seconds() / 86400)
        pct += rate_pct_per_day * days
    return volume_m3 * min(100.0, max(0.0, pct)) / 100


def split_trips(depot: Stop, loads: Sequence[Load], capacity_m3: float) -> tuple[Trip, ...]:
    """Cut the route (``loads`` in visiting order) into trips of at most ``capacity_m3``."""
    groups: list[list[Load]] = []
    room = 0.0
    for load in loads:
        if not groups or load.volume_m3 > room + _EPS:
            groups.append([])
            room = capacity_m3
        groups[-1].append(load)
        room -= load.volume_m3
    return tuple(_trip(i, depot, group, capacity_m3) for i, group in enumerate(groups, 1))


def _trip(number: int, depot: Stop, loads: list[Load], capacity_m3: float) -> Trip:
    path = [depot, *(load.stop for load in loads)]
    legs = tuple(haversine_km(a, b) for a, b in zip(path, path[1:], strict=False))
    over = len(loads) == 1 and loads[0].volume_m3 > capacity_m3 + _EPS
    return Trip(number, tuple(loads), legs, haversine_km(path[-1], depot), over)
