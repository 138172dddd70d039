"""The driver's route sheet: a day's route (`RoutePublic`) as the texts and rows it prints.

    RoutePublic ─► header: date and weekday (local), site, "straight-line km × road factor"
                ─► one block per truck trip: stops in order (settlement, container, fill %,
                   forecast m³, road-estimate km of the leg, a box to tick), the trip's subtotal
                ─► the total: containers, m³, trips, km

Every number goes through `landfill.numbers.number` (a comma decimal in ky and ru); km shown
are straight-line km × ``road_factor`` and every text says so. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from api.i18n import translate
from api.routes.dispatch import RoutePublic, RouteStopPublic, TripPublic
from landfill.language import Language
from landfill.numbers import number
from landfill.texts import settlement_name

__all__ = ["RouteSheet", "SheetRow", "SheetTrip", "route_sheet"]

NO_VALUE = "—"


@dataclass(frozen=True)
class SheetRow:
    """One stop as printed."""

    n: int
    settlement: str
    container: str
    fill: str
    volume: str
    km: str


@dataclass(frozen=True)
class SheetTrip:
    """One truckload: a heading, its stops and a subtotal."""

    title: str
    rows: tuple[SheetRow, ...]
    subtotal: str
    over_capacity: bool


@dataclass(frozen=True)
class RouteSheet:
    """Everything the sheet prints, in one language."""

    date: str  # YYYY-MM-DD, for the date picker
    day: str  # the weekday and date as people write them
    site: str
    distance_note: str
    capacity_note: str
    printed: str
    trips: tuple[SheetTrip, ...]
    total: str
    unplaced: str


def route_sheet(
    route: RoutePublic, site: str, lang: Language, now: datetime, timezone: str
) -> RouteSheet:
    """The route's sheet in ``lang``; times in ``timezone``."""
    factor = route.road_factor

    def t(key: str, **values: object) -> str:
        return translate(lang, f"route_sheet.{key}", **values)

    stops = {s.container: s for s in route.stops}
    first = 1
    trips = []
    for trip in route.trips:
        trips.append(_trip(trip, [stops[c] for c in trip.containers], first, factor, lang))
        first += trip.count
    local = now.astimezone(ZoneInfo(timezone))
    total = t(
        "total",
        count=route.count,
        volume=number(route.volume_m3, 2, lang),
        trips=len(route.trips),
        km=number(route.road_km, 1, lang),
        straight=number(route.trips_km, 1, lang),
    )
    return RouteSheet(
        date=route.date.isoformat(),
        day=f"{t(f'weekday.{route.date.weekday()}')}, {route.date:%d.%m.%Y}",
        site=t("site", site=site),
        distance_note=t("distance_note", factor=number(factor, 2, lang)),
        capacity_note=t("capacity_note", capacity=number(route.capacity_m3, 1, lang)),
        printed=t("printed", time=f"{local:%d.%m.%Y %H:%M}", zone=timezone),
        trips=tuple(trips),
        total=total if route.stops else t("none"),
        unplaced=t("unplaced", codes=", ".join(route.unplaced)) if route.unplaced else "",
    )


def _trip(
    trip: TripPublic, stops: list[RouteStopPublic], first: int, factor: float, lang: Language
) -> SheetTrip:
    rows = tuple(
        SheetRow(
            n=first + i,
            settlement=settlement_name(lang, s.settlement),
            container=s.container,
            fill=NO_VALUE if s.fill_pct is None else number(s.fill_pct, 0, lang),
            volume=number(s.volume_m3, 2, lang),
            km=number(s.trip_leg_km * factor, 1, lang),
        )
        for i, s in enumerate(stops)
    )
    subtotal = translate(
        lang,
        "route_sheet.trip_total",
        n=trip.number,
        count=trip.count,
        volume=number(trip.volume_m3, 2, lang),
        km=number(trip.road_km, 1, lang),
    )
    title = translate(lang, "route_sheet.trip", n=trip.number)
    return SheetTrip(title, rows, subtotal, trip.over_capacity)
