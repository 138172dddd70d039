"""Remaining landfill capacity and the years left at the current inflow.

    capacity t  = LANDFILL_AIRSPACE_M3 x LANDFILL_WASTE_DENSITY_T_M3
    used t      = LANDFILL_AIRSPACE_USED_M3 x density + every ticket's net weight so far
    inflow t/yr = net weight of the last 365 days; with less history, that of the days
                  since the first ticket, scaled to a year (`rate_days` says how many)
    years left  = (capacity - used) / inflow; none without inflow

Volume and density are estimates (a survey replaces them); the defaults are in
`landfill/settings.py` and `docs/inflow.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from api.inflow.queries import first_ticket_at, recorded_totals, year_before
from landfill.influx import InfluxStore
from landfill.settings import ApiSettings

__all__ = ["Capacity", "capacity"]

YEAR_DAYS = 365


@dataclass(frozen=True)
class Capacity:
    """The landfill's capacity, what is used, the inflow rate and the years left."""

    volume_m3: float
    density_t_m3: float
    filled_before_m3: float
    recorded_kg: int
    recorded_tickets: int
    capacity_t: float
    used_t: float
    remaining_t: float
    used_pct: float
    rate_t_per_year: float | None
    rate_days: int
    years_left: float | None
    full_on: date | None


def capacity(
    influx: InfluxStore, site: str, settings: ApiSettings, now: datetime, tz: tzinfo
) -> Capacity:
    """Work out the capacity figures from the settings and the tickets recorded up to ``now``."""
    recorded_kg, recorded_tickets = recorded_totals(influx, site, None, now)
    first = first_ticket_at(influx, site, now)
    rate: float | None = None
    rate_days = 0
    if first is not None:
        since = max(first, year_before(now))
        rate_days = min(YEAR_DAYS, max(1, round((now - since) / timedelta(days=1))))
        year_kg, _ = recorded_totals(influx, site, since, now)
        rate = year_kg / 1000 * YEAR_DAYS / rate_days
    density = settings.waste_density_t_m3
    capacity_t = settings.airspace_m3 * density
    used_t = settings.airspace_used_m3 * density + recorded_kg / 1000
    remaining_t = max(0.0, capacity_t - used_t)
    years = remaining_t / rate if rate else None
    full_on = (now + timedelta(days=years * YEAR_DAYS)).astimezone(tz).date() if years else None
    return Capacity(
        volume_m3=settings.airspace_m3,
        density_t_m3=density,
        filled_before_m3=settings.airspace_used_m3,
        recorded_kg=recorded_kg,
        recorded_tickets=recorded_tickets,
        capacity_t=capacity_t,
        used_t=used_t,
        remaining_t=remaining_t,
        used_pct=min(100.0, 100 * used_t / capacity_t),
        rate_t_per_year=rate,
        rate_days=rate_days,
        years_left=years,
        full_on=full_on,
    )
