"""Tonnage from the `inflow` measurement: by day, week or month, by a tag, and what is left.

    inflow (one point per ticket, a void counts 0) ─► sum(counted_kg), sum(tickets)
        GROUP BY time(1d) tz($tz)        ─► days ─► months (InfluxQL has no calendar month)
        GROUP BY time(1w, 4d) tz($tz)    ─► weeks from Monday (1970-01-01 was a Thursday)
        GROUP BY waste_type|zone|client|vehicle
        all time, the last 365 days      ─► remaining capacity and years left

Every statement is fixed text checked against landfill/measurements.py at import; values,
the time zone included, are bound parameters. A filter adds ``AND <tag> = $<tag>`` for a tag
from a fixed list, never text from a request. Sums need no condition on a field (a voided
ticket's point counts 0 kg and 0 tickets), so InfluxDB sums in its storage engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal, get_args

from api.inflow.periods import Period, Step, bucket_of
from landfill.influx import InfluxStore
from landfill.measurements import INFLOW

__all__ = [
    "DIMENSIONS",
    "Dimension",
    "Filters",
    "Share",
    "Tonnage",
    "breakdown",
    "recorded_totals",
    "tonnage",
]

Dimension = Literal["waste_type", "zone", "client", "vehicle"]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)

_SUMS = (
    "SELECT sum(counted_kg) AS counted_kg, sum(tickets) AS tickets FROM inflow "
    "WHERE site = $site AND time >= $start AND time < $end{filters} "
)
_TEMPLATES: dict[str, str] = {
    "day": _SUMS + "GROUP BY time(1d) fill(0) tz($tz)",
    "week": _SUMS + "GROUP BY time(1w, 4d) fill(0) tz($tz)",
    **{dim: _SUMS + f"GROUP BY {dim}" for dim in DIMENSIONS},
    "total": _SUMS,
}
Q_FIRST = INFLOW.query("SELECT first(tickets) FROM inflow WHERE site = $site AND time < $end")


@dataclass(frozen=True)
class Filters:
    """Only the tickets with these tag values (None: any)."""

    waste_type: str | None = None
    zone: str | None = None
    client: str | None = None
    vehicle: str | None = None

    def clause(self) -> str:
        """``AND tag = $tag`` for each filter set; the tag names come from `DIMENSIONS`."""
        return "".join(f" AND {tag} = ${tag}" for tag in DIMENSIONS if getattr(self, tag))

    def params(self) -> dict[str, str]:
        """The bound values of the filters that are set."""
        return {k: v for k, v in asdict(self).items() if v}


_EVERY_FILTER = Filters(*DIMENSIONS)
for _template in _TEMPLATES.values():  # a renamed tag or field stops the API at import
    INFLOW.query(_template.format(filters=_EVERY_FILTER.clause()))


def statement(kind: str, filters: Filters) -> str:
    """The statement of ``kind`` (day, week, a dimension, total) with the filters' clause."""
    return _TEMPLATES[kind].format(filters=filters.clause())


@dataclass(frozen=True)
class Tonnage:
    """Net weight and tickets of one local day, week (from Monday) or month."""

    start: date
    net_kg: int
    tickets: int


@dataclass(frozen=True)
class Share:
    """Net weight and tickets of one tag value ("" for tickets without one)."""

    key: str
    net_kg: int
    tickets: int


def _rows(influx: InfluxStore, q: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Run a query; a database the ingest has not created yet simply has no data."""
    return influx.rows(q, params, missing_ok=True)


def _params(site: str, period: Period, tz: tzinfo, filters: Filters) -> dict[str, Any]:
    start, end = period.bounds(tz)
    return {"site": site, "start": start, "end": end, "tz": str(tz), **filters.params()}


def _local_day(ms: int, tz: tzinfo) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).date()


def tonnage(
    influx: InfluxStore,
    site: str,
    period: Period,
    step: Step,
    tz: tzinfo,
    filters: Filters = Filters(),
) -> list[Tonnage]:
    """Tonnage per local day, week or month of the period, empty ones included, in order."""
    q = statement("week" if step == "week" else "day", filters)
    totals: dict[date, list[int]] = {}
    for row in _rows(influx, q, _params(site, period, tz, filters)):
        day = _local_day(row["time"], tz)
        if step == "day" and day not in period:
            continue
        bucket = totals.setdefault(bucket_of(day, step), [0, 0])
        bucket[0] += int(row["counted_kg"] or 0)
        bucket[1] += int(row["tickets"] or 0)
    return [Tonnage(start, kg, n) for start, (kg, n) in sorted(totals.items())]


def breakdown(
    influx: InfluxStore,
    site: str,
    period: Period,
    by: Dimension,
    tz: tzinfo,
    filters: Filters = Filters(),
) -> list[Share]:
    """Tonnage per value of one tag, heaviest first; values with only voided tickets left out."""
    rows = _rows(influx, statement(by, filters), _params(site, period, tz, filters))
    shares = [
        Share(str(r.get(by) or ""), int(r["counted_kg"] or 0), int(r["tickets"] or 0)) for r in rows
    ]
    return sorted((s for s in shares if s.tickets), key=lambda s: (-s.net_kg, s.key))


def recorded_totals(
    influx: InfluxStore, site: str, since: datetime | None, end: datetime
) -> tuple[int, int]:
    """Net kg and tickets recorded from ``since`` (None: the first ticket) to ``end``."""
    params = {"site": site, "start": since or datetime(1970, 1, 1, tzinfo=UTC), "end": end}
    rows = _rows(influx, statement("total", Filters()), params)
    if not rows:
        return 0, 0
    return int(rows[0]["counted_kg"] or 0), int(rows[0]["tickets"] or 0)


def first_ticket_at(influx: InfluxStore, site: str, end: datetime) -> datetime | None:
    """When the first ticket in `inflow` was completed (None: there is none yet)."""
    rows = _rows(influx, Q_FIRST, {"site": site, "end": end})
    return datetime.fromtimestamp(rows[0]["time"] / 1000, UTC) if rows else None


def year_before(end: datetime) -> datetime:
    """The start of the 365 days that end at ``end``."""
    return end - timedelta(days=365)
