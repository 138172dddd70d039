"""Reconciliation: the ticket ledger (SQL) against InfluxDB's `weighing` points, day by day.

Every numbered ticket is published on the `ticket` topic and stored by ingest as one
`weighing` point at its completion time, replaced by its voided state if it is voided
(`api/weighbridge/publish.py`). So for each local day the two must agree ticket by ticket:

    missing  a numbered ticket without a point (the message never arrived)
    state    the point says voided and the ledger not, or the other way round
    weight   the point's net_kg differs from the ticket's
    extra    a point whose number no ticket of the ledger has (repaired by no republish)

A day's figures are the count and net kg of completed (not voided) tickets on each side. The
repair republishes the day's tickets that are missing, in another state or of another weight;
their points replace themselves (same number tag, same time), so a repeat is harmless. The
InfluxQL is fixed text with bound parameters, one query per day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import Site
from api.weighbridge.models import Ticket
from api.weighbridge.numbering import number_text
from api.weighbridge.publish import publish_ticket
from landfill.influx import InfluxStore
from landfill.measurements import WEIGHING

__all__ = ["DayCheck", "Problem", "Repair", "reconcile", "repair_day"]

Q_DAY = WEIGHING.query(
    "SELECT number, net_kg, voided FROM weighing "
    "WHERE site = $site AND time >= $start AND time < $end"
)


@dataclass(frozen=True)
class Problem:
    """One ticket on which the ledger and InfluxDB differ."""

    ticket: str
    kind: str  # missing | state | weight | extra
    ledger: str  # "completed 12340 kg", "voided 12340 kg" or ""
    influx: str


@dataclass
class DayCheck:
    """One local day: each side's completed tickets and net kg, and what differs."""

    day: date
    ledger_tickets: int = 0
    ledger_net_kg: int = 0
    influx_tickets: int = 0
    influx_net_kg: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Both sides agree on every ticket."""
        return not self.problems


@dataclass(frozen=True)
class Side:
    """A ticket's state and net on one side."""

    voided: bool
    net_kg: int

    def __str__(self) -> str:
        return f"{'voided' if self.voided else 'completed'} {self.net_kg} kg"


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end_day = day + timedelta(days=1)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _ledger(session: Session, site: Site, start: datetime, end: datetime) -> dict[str, Ticket]:
    rows = session.scalars(
        select(Ticket).where(
            Ticket.site_id == site.id,
            Ticket.number.is_not(None),
            Ticket.completed_at >= start,
            Ticket.completed_at < end,
        )
    )
    return {number_text(t.year, t.number) or "": t for t in rows}


def _points(influx: InfluxStore, site: Site, start: datetime, end: datetime) -> dict[str, Side]:
    rows = influx.rows(Q_DAY, {"site": site.code, "start": start, "end": end}, missing_ok=True)
    return {
        str(r["number"]): Side(bool(r.get("voided")), int(r.get("net_kg") or 0))
        for r in rows
        if r.get("number")
    }


def _check(day: date, tickets: dict[str, Ticket], points: dict[str, Side]) -> DayCheck:
    check = DayCheck(day)
    for number, t in sorted(tickets.items()):
        mine = Side(t.status == "voided", t.net_kg or 0)
        if not mine.voided:
            check.ledger_tickets += 1
            check.ledger_net_kg += mine.net_kg
        theirs = points.get(number)
        kind = None
        if theirs is None:
            kind = "missing"
        elif theirs.voided != mine.voided:
            kind = "state"
        elif theirs.net_kg != mine.net_kg:
            kind = "weight"
        if kind:
            check.problems.append(Problem(number, kind, str(mine), str(theirs or "")))
    for number, theirs in sorted(points.items()):
        if not theirs.voided:
            check.influx_tickets += 1
            check.influx_net_kg += theirs.net_kg
        if number not in tickets:
            check.problems.append(Problem(number, "extra", "", str(theirs)))
    return check


def reconcile(
    session: Session, influx: InfluxStore, site: Site, start: date, end: date
) -> list[DayCheck]:
    """Each local day in [start, end): the ledger against the `weighing` points."""
    tz = ZoneInfo(site.timezone)
    days = []
    day = start
    while day < end:
        lo, hi = _day_bounds(day, tz)
        days.append(_check(day, _ledger(session, site, lo, hi), _points(influx, site, lo, hi)))
        day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class Repair:
    """What a repair sent: tickets the broker acknowledged, and those it did not."""

    day: date
    republished: list[str]
    failed: list[str]


def repair_day(
    session: Session, influx: InfluxStore, client: mqtt.Client, site: Site, day: date
) -> Repair:
    """Republish the day's tickets that are missing in InfluxDB or differ there."""
    tz = ZoneInfo(site.timezone)
    lo, hi = _day_bounds(day, tz)
    tickets = _ledger(session, site, lo, hi)
    check = _check(day, tickets, _points(influx, site, lo, hi))
    sent: list[str] = []
    failed: list[str] = []
    for problem in check.problems:
        ticket = tickets.get(problem.ticket)
        if ticket is None:
            continue
        ok = publish_ticket(client, session, ticket, site.code)
        (sent if ok else failed).append(problem.ticket)
    return Repair(day, sent, failed)
