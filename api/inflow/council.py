"""The village council's monthly monitoring report: the action plan's indicators from the data.

    inflow (tickets)             ─► tonnage, its trend over six months, tickets, legal entities
    billing (api/billing)        ─► revenue billed to legal entities (invoices issued in the
                                    month less credit notes, net of VAT and sales tax)
    container_event (emptying)   ─► collections; before full: level before < full threshold
    emptying_decision (SQL)      ─► a rejected emptying is no collection
    fill (overfull or 100 %)     ─► overflow hours: container-hours with such a reading
    container registry (SQL)     ─► collection weekdays per container ─► per settlement:
                                    scheduled days, collected that day, collected on other days

Months are local months in LANDFILL_TIMEZONE. A scheduled day counts once its round is over
(17:00 local), so a report of the running month is not short of days still to come. Every
InfluxQL statement is fixed text with bound parameters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.container_registry import fields_of
from api.db import Container, EmptyingDecision, Site
from api.inflow.periods import Period, add_months, buckets, month_of
from api.inflow.queries import Tonnage, breakdown, tonnage
from landfill.fill.schedule import WORK_END, local_at
from landfill.influx import InfluxStore
from landfill.measurements import CONTAINER_EVENT, FILL

__all__ = [
    "TREND_MONTHS",
    "CouncilReport",
    "MonthFigures",
    "Revenue",
    "SettlementRow",
    "council_report",
]

TREND_MONTHS = 6
Revenue = Callable[[date, date], Decimal | None]  # billed in local dates [first, end)

Q_EMPTYINGS = CONTAINER_EVENT.query(
    "SELECT before_pct, id FROM container_event WHERE site = $site AND kind = 'emptying' "
    "AND time >= $start AND time < $end GROUP BY container"
)
Q_OVERFLOW_HOURS = FILL.query(
    "SELECT count(id) FROM fill WHERE site = $site AND time >= $start AND time < $end "
    "AND (overfull = true OR filtered_pct >= 100) GROUP BY time(1h), container fill(none) tz($tz)"
)


@dataclass(frozen=True)
class SettlementRow:
    """Collections of one settlement's containers against their weekly schedule."""

    settlement: str
    containers: int
    scheduled: int  # container-days due up to the report's day
    on_schedule: int  # of them, emptied that local day
    other_days: int  # container-days emptied on a day not in the schedule

    @property
    def share_pct(self) -> float | None:
        """Scheduled collections made on their day, in percent (None: nothing was due)."""
        return 100 * self.on_schedule / self.scheduled if self.scheduled else None


@dataclass(frozen=True)
class MonthFigures:
    """The indicators of one local month."""

    period: Period
    net_kg: int
    tickets: int
    legal_kg: int  # tickets with a client: legal entities
    legal_tickets: int
    revenue: Decimal | None  # None: billing has no figure for the month
    collections: int
    before_full: int
    overflow_hours: int
    overflow_containers: int
    settlements: list[SettlementRow] = field(default_factory=list)

    @property
    def before_full_pct(self) -> float | None:
        """Collections made before the container was full, in percent."""
        return 100 * self.before_full / self.collections if self.collections else None

    @property
    def scheduled(self) -> int:
        """Container-days due in the month, every settlement."""
        return sum(s.scheduled for s in self.settlements)

    @property
    def on_schedule(self) -> int:
        """Of them, emptied on their day."""
        return sum(s.on_schedule for s in self.settlements)

    @property
    def on_schedule_pct(self) -> float | None:
        """Scheduled collections made on their day, in percent."""
        return 100 * self.on_schedule / self.scheduled if self.scheduled else None


@dataclass(frozen=True)
class CouncilReport:
    """The report of one month, the month before, and six months of tonnage."""

    site: str
    timezone: str
    month: MonthFigures
    previous: MonthFigures
    trend: list[Tonnage]  # one per month, oldest first, the report's month last
    generated_at: datetime

    @property
    def change_pct(self) -> float | None:
        """Tonnage against the month before, in percent."""
        return _change(self.month.net_kg, self.previous.net_kg)

    @property
    def change_avg3_pct(self) -> float | None:
        """Tonnage against the average of the three months before, in percent."""
        before = [t.net_kg for t in self.trend[-4:-1]]
        return _change(self.month.net_kg, sum(before) / len(before)) if before else None


def _change(now: float, before: float) -> float | None:
    return 100 * (now - before) / before if before else None


def _rows(influx: InfluxStore, q: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Run a query; a database ingest has not created yet has no data."""
    return influx.rows(q, params, missing_ok=True)


def _local_day(ms: int, tz: tzinfo) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).date()


@dataclass(frozen=True)
class Emptying:
    """One emptying the ingest detected and the dispatcher did not reject."""

    container: str
    day: date  # local
    before_pct: float | None


def emptyings(
    influx: InfluxStore, site: str, period: Period, tz: tzinfo, rejected: frozenset[str]
) -> list[Emptying]:
    """The month's emptyings, rejected ones left out."""
    start, end = period.bounds(tz)
    rows = _rows(influx, Q_EMPTYINGS, {"site": site, "start": start, "end": end})
    return [
        Emptying(str(r["container"]), _local_day(r["time"], tz), r.get("before_pct"))
        for r in rows
        if r.get("id") not in rejected
    ]


def overflow(influx: InfluxStore, site: str, period: Period, tz: tzinfo) -> tuple[int, int]:
    """Container-hours with an overfull reading, and how many containers had one."""
    start, end = period.bounds(tz)
    params = {"site": site, "start": start, "end": end, "tz": str(tz)}
    rows = _rows(influx, Q_OVERFLOW_HOURS, params)
    return len(rows), len({r["container"] for r in rows})


def due_until(period: Period, now: datetime, tz: tzinfo) -> date:
    """The last day of the period whose collection round is over at ``now``."""
    today = now.astimezone(tz).date()
    last_over = today if now >= local_at(today, WORK_END, tz) else today - timedelta(days=1)
    return min(period.last, last_over)


def settlement_rows(
    containers: Iterable[Container], emptied: dict[str, set[date]], period: Period, until: date
) -> list[SettlementRow]:
    """Per settlement: container-days due up to ``until``, emptied that day, emptied off-day."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    days = [period.first + timedelta(days=n) for n in range(period.days)]
    for row in containers:
        weekdays = set(fields_of(row).collection_weekdays)
        done = emptied.get(row.code, set())
        due = [d for d in days if d <= until and d.weekday() in weekdays]
        counts = totals[row.settlement or "—"]
        counts[0] += 1
        counts[1] += len(due)
        counts[2] += sum(1 for d in due if d in done)
        counts[3] += sum(1 for d in done if d.weekday() not in weekdays)
    return [SettlementRow(name, *counts) for name, counts in sorted(totals.items())]


def month_figures(
    influx: InfluxStore,
    session: Session,
    site: Site,
    period: Period,
    context: tuple[tzinfo, datetime, Revenue],
) -> MonthFigures:
    """The indicators of one month (``context``: time zone, now, the revenue of a period)."""
    tz, now, revenue = context
    series = tonnage(influx, site.code, period, "month", tz)
    by_client = breakdown(influx, site.code, period, "client", tz)
    legal = [s for s in by_client if s.key]
    containers = list(session.scalars(select(Container).where(Container.site_id == site.id)))
    full_pct = {c.code: c.full_pct for c in containers}
    rejected = frozenset(
        session.scalars(
            select(EmptyingDecision.event_id).where(
                EmptyingDecision.site_id == site.id, EmptyingDecision.decision == "rejected"
            )
        )
    )
    done = emptyings(influx, site.code, period, tz, rejected)
    emptied: dict[str, set[date]] = defaultdict(set)
    for e in done:
        emptied[e.container].add(e.day)
    hours, overflowing = overflow(influx, site.code, period, tz)
    active = [c for c in containers if c.active]
    return MonthFigures(
        period=period,
        net_kg=sum(t.net_kg for t in series),
        tickets=sum(t.tickets for t in series),
        legal_kg=sum(s.net_kg for s in legal),
        legal_tickets=sum(s.tickets for s in legal),
        revenue=revenue(period.first, period.last + timedelta(days=1)),
        collections=len(done),
        before_full=sum(
            1
            for e in done
            if e.before_pct is not None and e.before_pct < full_pct.get(e.container, 80.0)
        ),
        overflow_hours=hours,
        overflow_containers=overflowing,
        settlements=settlement_rows(active, emptied, period, due_until(period, now, tz)),
    )


def council_report(
    influx: InfluxStore,
    session: Session,
    site: Site,
    month: date,
    context: tuple[tzinfo, datetime, Revenue],
) -> CouncilReport:
    """The report of the local month that starts on ``month``."""
    tz, now, _ = context
    period = month_of(month)
    trend_period = Period(add_months(month, 1 - TREND_MONTHS), period.last)
    found = {t.start: t for t in tonnage(influx, site.code, trend_period, "month", tz)}
    trend = [found.get(m, Tonnage(m, 0, 0)) for m in buckets(trend_period, "month")]
    return CouncilReport(
        site=site.code,
        timezone=str(tz),
        month=month_figures(influx, session, site, period, context),
        previous=month_figures(influx, session, site, month_of(add_months(month, -1)), context),
        trend=trend,
        generated_at=now,
    )
