"""Refused data: today's dead-letter counts per source and reason, and the recent letters.

Ingest keeps them in InfluxDB (`ingest/dead_letters.py`): `dead_letter_count` counts every
refused message per minute, source and reason; `dead_letter` keeps the first few of each with
a bounded excerpt. The board shows the counts ("device X: 14 uplinks refused today: unknown
model"); an admin reads the letters to see why data is missing. A device the registry knows
is shown with its container.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import Container
from landfill.influx import InfluxStore, Series
from landfill.measurements import DEAD_LETTER, DEAD_LETTER_COUNT

__all__ = [
    "MAX_LETTERS",
    "Letter",
    "RefusedSource",
    "day_start",
    "default_since",
    "recent_letters",
    "refused_today",
]

Q_COUNTS = DEAD_LETTER_COUNT.query(
    "SELECT sum(letters) AS letters FROM dead_letter_count "
    "WHERE site = $site AND time >= $since AND time <= $now GROUP BY source, reason, kind"
)
MAX_LETTERS = 500  # the LIMIT below
_RECENT = (
    "SELECT * FROM dead_letter WHERE site = $site AND time >= $since AND time <= $now{where} "
    "ORDER BY time DESC LIMIT 500"
)
# one checked statement per filter combination: (by reason, by source)
Q_RECENT = {
    (by_reason, by_source): DEAD_LETTER.query(
        _RECENT.format(
            where=(" AND reason = $reason" if by_reason else "")
            + (" AND source = $source" if by_source else "")
        )
    )
    for by_reason in (False, True)
    for by_source in (False, True)
}


@dataclass
class RefusedSource:
    """One source's refused messages today: per reason, most first."""

    source: str  # device:<eui>, container:<code>, scale:<code>, site:<code>, other, unknown
    kind: str  # what was refused: uplink, reading, capture ...
    letters: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    container: str | None = None  # the container a refusing device belongs to, if registered

    @property
    def name(self) -> str:
        """The source without its type: the device EUI, the container or scale code."""
        return self.source.partition(":")[2] or self.source


@dataclass(frozen=True)
class Letter:
    """One stored dead letter."""

    ts: datetime
    source: str
    reason: str
    kind: str
    topic: str
    detail: str
    excerpt: str
    consumer: str


def day_start(now: datetime, tz: tzinfo) -> datetime:
    """Midnight of ``now``'s day in ``tz``, in UTC."""
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tz).astimezone(UTC)


def _series(influx: InfluxStore, q: str, params: dict[str, Any]) -> list[Series]:
    """Run a query; a database ingest has not created yet has no letters."""
    return influx.query(q, params, missing_ok=True)


def refused_today(
    influx: InfluxStore, session: Session, site_id: int, site: str, now: datetime, tz: tzinfo
) -> list[RefusedSource]:
    """Every source with messages refused since midnight (``tz``), most refused first."""
    params = {"site": site, "since": day_start(now, tz), "now": now}
    by_source: dict[tuple[str, str], RefusedSource] = {}
    for series in _series(influx, Q_COUNTS, params):
        letters = sum(int(row.get("letters") or 0) for row in series.rows())
        if not letters:
            continue
        tags = series.tags
        key = (tags.get("source", ""), tags.get("kind", ""))
        found = by_source.setdefault(key, RefusedSource(*key))
        found.letters += letters
        reason = tags.get("reason", "other")
        found.reasons[reason] = found.reasons.get(reason, 0) + letters
    sources = sorted(by_source.values(), key=lambda s: (-s.letters, s.source))
    for s in sources:
        s.reasons = dict(sorted(s.reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    _name_containers(session, site_id, sources)
    return sources


def _name_containers(session: Session, site_id: int, sources: list[RefusedSource]) -> None:
    devices = {s.name.lower() for s in sources if s.source.startswith("device:")}
    if not devices:
        return
    query = select(func.lower(Container.device), Container.code).where(
        Container.site_id == site_id, func.lower(Container.device).in_(devices)
    )
    container_of = {str(device): code for device, code in session.execute(query).all()}
    for s in sources:
        if s.source.startswith("device:"):
            s.container = container_of.get(s.name.lower())


def recent_letters(
    influx: InfluxStore,
    site: str,
    since: datetime,
    now: datetime,
    reason: str | None = None,
    source: str | None = None,
) -> list[Letter]:
    """Stored dead letters since ``since``, newest first, at most `MAX_LETTERS`."""
    params: dict[str, Any] = {"site": site, "since": since, "now": now}
    if reason:
        params["reason"] = reason
    if source:
        params["source"] = source
    q = Q_RECENT[(bool(reason), bool(source))]
    rows = [row for series in _series(influx, q, params) for row in series.rows()]
    return [
        Letter(
            ts=datetime.fromtimestamp(int(r["time"]) / 1000, UTC),
            source=str(r.get("source") or ""),
            reason=str(r.get("reason") or ""),
            kind=str(r.get("kind") or ""),
            topic=str(r.get("topic") or ""),
            detail=str(r.get("detail") or ""),
            excerpt=str(r.get("excerpt") or ""),
            consumer=str(r.get("consumer") or ""),
        )
        for r in rows
    ]


def default_since(now: datetime) -> datetime:
    """The admin list's default: the last day."""
    return now - timedelta(days=1)
