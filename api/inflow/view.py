"""What the inflow page shows: the figures of a period, their charts, names for codes.

Numbers are written the way each language writes them: 1 234,5 in Kyrgyz and Russian,
1,234.5 in English. Codes become names where the registry has them (waste types in the
page's language, clients by name); plates and zones are shown as they are.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.inflow.capacity import Capacity, capacity
from api.inflow.charts import Bar, bar_chart, share_chart
from api.inflow.periods import Period, Step
from api.inflow.queries import DIMENSIONS, Dimension, Filters, Share, Tonnage, breakdown, tonnage
from api.weighbridge.models import Client, WasteType
from landfill import numbers
from landfill.influx import InfluxStore
from landfill.language import Language
from landfill.settings import ApiSettings

__all__ = [
    "InflowView",
    "axis_label",
    "bucket_label",
    "draw",
    "inflow_view",
    "names_of",
    "number",
    "tonnes_text",
]

TOP_SHARES = 12  # rows of a share chart; the table lists them all
PAGE_QUERIES = 4  # statements of the page InfluxDB runs at once


def number(value: float, decimals: int, lang: Language) -> str:
    """A number with grouped thousands, as the language writes it."""
    return numbers.number(value, decimals, lang)


def tonnes_text(kg: int, lang: Language, decimals: int = 2) -> str:
    """Kilograms as tonnes for people."""
    return number(kg / 1000, decimals, lang)


def bucket_label(start: date, step: Step) -> str:
    """A day or a week's Monday as 2026-10-05, a month as 2026-10."""
    return start.strftime("%Y-%m") if step == "month" else start.isoformat()


def axis_label(start: date, step: Step) -> str:
    """A short label under a bar: 05.10 for a day or a week's Monday, 10.2026 for a month."""
    return start.strftime("%m.%Y") if step == "month" else start.strftime("%d.%m")


def names_of(session: Session, site_id: int, lang: Language) -> dict[Dimension, dict[str, str]]:
    """Names of waste type and client codes from the registry (others: the code itself)."""
    wastes = session.scalars(select(WasteType).where(WasteType.site_id == site_id))
    clients = session.scalars(select(Client).where(Client.site_id == site_id))
    return {
        "waste_type": {w.code: getattr(w, f"name_{lang}") for w in wastes},
        "client": {c.code: c.name for c in clients},
        "zone": {},
        "vehicle": {},
    }


@dataclass(frozen=True)
class InflowView:
    """The figures, tables and charts of one period."""

    period: Period
    step: Step
    filters: Filters
    series: list[Tonnage]
    shares: dict[Dimension, list[Share]]
    capacity: Capacity
    names: dict[Dimension, dict[str, str]]

    @property
    def total_kg(self) -> int:
        """Net kg of the period."""
        return sum(t.net_kg for t in self.series)

    @property
    def total_tickets(self) -> int:
        """Tickets of the period."""
        return sum(t.tickets for t in self.series)

    def name(self, dim: Dimension, key: str) -> str:
        """The name shown for a tag value."""
        return self.names[dim].get(key, key)


def inflow_view(
    influx: InfluxStore,
    site: str,
    settings: ApiSettings,
    query: tuple[Period, Step, Filters],
    now: datetime,
    names: dict[Dimension, dict[str, str]],
) -> InflowView:
    """Query everything the page shows, the statements side by side (InfluxDB runs them on
    all its cores; one after another they would add up)."""
    period, step, filters = query
    tz: tzinfo = settings.tz
    with ThreadPoolExecutor(max_workers=PAGE_QUERIES) as pool:
        series = pool.submit(tonnage, influx, site, period, step, tz, filters)
        shares = {
            d: pool.submit(breakdown, influx, site, period, d, tz, filters) for d in DIMENSIONS
        }
        room = pool.submit(capacity, influx, site, settings, now, tz)
        return InflowView(
            period=period,
            step=step,
            filters=filters,
            series=series.result(),
            shares={d: future.result() for d, future in shares.items()},
            capacity=room.result(),
            names=names,
        )


def draw(view: InflowView, lang: Language, labels: dict[str, str]) -> dict[str, Markup]:
    """The page's charts: tonnage over time and the heaviest values of each tag."""

    def fmt(t: float) -> str:
        return number(t, 1, lang)

    bars = [
        Bar(t.start.isoformat(), axis_label(t.start, view.step), t.net_kg / 1000)
        for t in view.series
    ]
    charts = {"series": bar_chart(bars, label=labels["series"], fmt=fmt)}
    for dim, shares in view.shares.items():
        top = shares[:TOP_SHARES]
        rows = [Bar(s.key, view.name(dim, s.key) or "—", s.net_kg / 1000) for s in top]
        charts[dim] = share_chart(rows, label=labels[dim], fmt=fmt)
    return charts
