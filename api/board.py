"""The dispatcher's view: each container's level, status, open alerts, forecast and route.

    SQL registry ──────────────┐
    fill (last point, history) ├─► ContainerState ─► status colour, reasons ─► board
    container_alert (last/kind)│                   ─► forecast (landfill/fill/forecast.py)
    container_event (emptying) ┘                   ─► collection list for a day ─► plan_route

Status, first match wins: red (fire, full, overfull), grey (offline or no data), orange
(overflow before the next collection), yellow (low battery), green. What full, offline and low
battery mean is landfill/fill/status.py, the tracker's own rules. Every InfluxQL statement is
fixed text with bound parameters. A forecast that fails for one container is logged and
shown as unknown (None); the board and the route go on for the others.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal

from api.container_registry import fields_of
from api.db import Container
from api.routing import Stop, haversine_km, plan_route
from landfill.fill.forecast import FillSample, Forecast, forecast
from landfill.fill.spec import ContainerSpec
from landfill.fill.status import is_full, is_low_battery, is_offline
from landfill.influx import InfluxStore, QueryError, Series
from landfill.measurements import CONTAINER_ALERT, CONTAINER_EVENT, FILL

__all__ = [
    "AlertRow",
    "ContainerState",
    "EmptyingRow",
    "RoutePlan",
    "Status",
    "collection_list",
    "container_states",
    "emptying_rows",
    "open_alerts",
]

log = logging.getLogger("landfill.api.dispatch")

Status = Literal["red", "orange", "grey", "yellow", "green"]
Reason = Literal["fire", "overfull", "full", "offline", "no_data", "overflow_risk", "low_battery"]

# checked against landfill/measurements.py when this module is imported
Q_LAST_FILL = FILL.query(
    "SELECT * FROM fill WHERE site = $site AND time <= $now "
    "GROUP BY container ORDER BY time DESC LIMIT 1"
)
Q_HISTORY = FILL.query(
    "SELECT filtered_pct, quality, battery_pct, battery_v FROM fill "
    "WHERE site = $site AND time >= $since AND time <= $now GROUP BY container"
)
Q_LAST_ALERTS = CONTAINER_ALERT.query(
    "SELECT * FROM container_alert WHERE site = $site AND time <= $now "
    "GROUP BY container, kind ORDER BY time DESC LIMIT 1"
)
Q_ALERT_BY_ID = CONTAINER_ALERT.query(
    "SELECT * FROM container_alert WHERE site = $site AND id = $id"
)
Q_EMPTYINGS = CONTAINER_EVENT.query(
    "SELECT * FROM container_event WHERE site = $site AND kind = 'emptying' "
    "AND time >= $since AND time <= $now ORDER BY time DESC LIMIT 1000"
)
Q_EMPTYING_BY_ID = CONTAINER_EVENT.query(
    "SELECT * FROM container_event WHERE site = $site AND kind = 'emptying' AND id = $id"
)


def _series(influx: InfluxStore, q: str, params: dict[str, Any]) -> list[Series]:
    """Run a query; a database the ingest has not created yet simply has no data."""
    try:
        return influx.query(q, params)
    except QueryError as exc:
        if "database not found" in str(exc):
            return []
        raise


def _rows(influx: InfluxStore, q: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for series in _series(influx, q, params) for row in series.rows()]


def _ts(ms: Any) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class AlertRow:
    """The newest point of one (container, kind) alert series."""

    id: str
    container: str
    kind: str
    active: bool
    severity: str
    transition: str
    since: datetime
    ts: datetime
    value: float | None
    detail: str

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> AlertRow:
        """Build from an InfluxDB row of `container_alert`."""
        since = r.get("since")
        return cls(
            id=str(r.get("id") or ""),
            container=str(r["container"]),
            kind=str(r["kind"]),
            active=bool(r.get("active")),
            severity=str(r.get("severity") or "warning"),
            transition=str(r.get("transition") or ""),
            since=_ts(since) if since is not None else _ts(r["time"]),
            ts=_ts(r["time"]),
            value=_float(r.get("value")),
            detail=str(r.get("detail") or ""),
        )


@dataclass(frozen=True)
class EmptyingRow:
    """An emptying candidate the ingest detected."""

    id: str
    container: str
    ts: datetime
    before_pct: float | None
    after_pct: float | None
    detail: str

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> EmptyingRow:
        """Build from an InfluxDB row of `container_event`."""
        return cls(
            id=str(r.get("id") or ""),
            container=str(r["container"]),
            ts=_ts(r["time"]),
            before_pct=_float(r.get("before_pct")),
            after_pct=_float(r.get("after_pct")),
            detail=str(r.get("detail") or ""),
        )


@dataclass
class ContainerState:
    """Everything the board shows for one container."""

    row: Container
    spec: ContainerSpec
    level_pct: float | None = None
    level_ts: datetime | None = None
    quality: str | None = None
    last_ts: datetime | None = None
    overfull: bool = False
    battery_pct: float | None = None
    battery_v: float | None = None
    temp_c: float | None = None
    alerts: list[AlertRow] = field(default_factory=list)
    forecast: Forecast | None = None
    status: Status = "green"
    reasons: list[Reason] = field(default_factory=list)

    def age_s(self, now: datetime) -> float | None:
        """Seconds since the last reading of any quality."""
        return None if self.last_ts is None else max(0.0, (now - self.last_ts).total_seconds())

    @property
    def is_full(self) -> bool:
        """Full by level, by the overfull flag or by an open full/overfull alert."""
        if self.overfull or any(a.kind in ("full", "overfull") for a in self.alerts):
            return True
        return is_full(self.spec, self.level_pct)


def open_alerts(influx: InfluxStore, site: str, now: datetime) -> list[AlertRow]:
    """Open alerts: the newest point of each (container, kind) where active is true."""
    rows = _rows(influx, Q_LAST_ALERTS, {"site": site, "now": now})
    alerts = [AlertRow.from_row(r) for r in rows]
    return [a for a in alerts if a.active]


def alert_by_id(influx: InfluxStore, site: str, alert_id: str) -> AlertRow | None:
    """The alert point with this id, if any."""
    rows = _rows(influx, Q_ALERT_BY_ID, {"site": site, "id": alert_id})
    return AlertRow.from_row(rows[0]) if rows else None


def emptying_rows(
    influx: InfluxStore, site: str, since: datetime, now: datetime
) -> list[EmptyingRow]:
    """Emptying candidates since ``since``, newest first."""
    rows = _rows(influx, Q_EMPTYINGS, {"site": site, "since": since, "now": now})
    return [EmptyingRow.from_row(r) for r in rows]


def emptying_by_id(influx: InfluxStore, site: str, event_id: str) -> EmptyingRow | None:
    """The emptying candidate with this id, if any."""
    rows = _rows(influx, Q_EMPTYING_BY_ID, {"site": site, "id": event_id})
    return EmptyingRow.from_row(rows[0]) if rows else None


def _history(
    influx: InfluxStore, site: str, since: datetime, now: datetime
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for series in _series(influx, Q_HISTORY, {"site": site, "since": since, "now": now}):
        out[series.tags.get("container", "")].extend(series.rows())
    return out


def container_states(
    influx: InfluxStore,
    site: str,
    containers: Iterable[Container],
    now: datetime,
    *,
    tz: tzinfo,
    history_days: int,
    rejected_emptyings: frozenset[str] = frozenset(),
) -> list[ContainerState]:
    """Read InfluxDB once per measurement and work out every container's state.

    ``tz`` is the zone of collection days, for the forecast's overflow risk.
    """
    since = now - timedelta(days=history_days)
    last = {r["container"]: r for r in _rows(influx, Q_LAST_FILL, {"site": site, "now": now})}
    history = _history(influx, site, since, now)
    alerts: dict[str, list[AlertRow]] = defaultdict(list)
    for a in open_alerts(influx, site, now):
        alerts[a.container].append(a)
    emptied: dict[str, datetime] = {}
    for e in emptying_rows(influx, site, since, now):
        if e.id not in rejected_emptyings and e.container not in emptied:
            emptied[e.container] = e.ts  # rows come newest first

    states = []
    for row in containers:
        s = ContainerState(row=row, spec=fields_of(row), alerts=alerts.get(row.code, []))
        _take_last(s, last.get(row.code))
        samples = _take_history(s, history.get(row.code, []))
        if samples:
            s.level_ts, s.level_pct = samples[-1]
            s.forecast = _forecast(s, samples, now, tz, emptied.get(row.code))
        _classify(s, now)
        states.append(s)
    return states


def _take_last(s: ContainerState, point: dict[str, Any] | None) -> None:
    """The last reading of any quality: its time, quality, overfull flag and temperature."""
    if point is not None:
        s.last_ts = _ts(point["time"])
        s.quality = point.get("quality")
        s.overfull = bool(point.get("overfull"))
        s.temp_c = _float(point.get("temp_c"))


def _take_history(s: ContainerState, rows: list[dict[str, Any]]) -> list[FillSample]:
    """The latest battery values, and the levels of readings that were not rejected."""
    samples: list[FillSample] = []
    for h in rows:
        if h.get("battery_pct") is not None:
            s.battery_pct = float(h["battery_pct"])
        if h.get("battery_v") is not None:
            s.battery_v = float(h["battery_v"])
        if h.get("filtered_pct") is not None and h.get("quality") != "rejected":
            samples.append(FillSample(_ts(h["time"]), float(h["filtered_pct"])))
    return samples


def _forecast(
    s: ContainerState,
    samples: list[FillSample],
    now: datetime,
    tz: tzinfo,
    emptied_at: datetime | None,
) -> Forecast | None:
    """The container's forecast, or None (unknown) if it fails: never the whole board's 500."""
    try:
        return forecast(s.spec, samples, now, tz=tz, emptied_at=emptied_at)
    except Exception:  # noqa: BLE001 - one container's data must not hide the others
        log.exception("forecast of container %s failed; shown as unknown", s.row.code)
        return None


def _classify(s: ContainerState, now: datetime) -> None:
    kinds = {a.kind for a in s.alerts}
    reasons: list[Reason] = []
    if "fire" in kinds:
        reasons.append("fire")
    if "overfull" in kinds or s.overfull:
        reasons.append("overfull")
    elif s.is_full:
        reasons.append("full")
    if s.last_ts is None:
        reasons.append("no_data")
    elif "offline" in kinds or is_offline(s.spec, s.last_ts, now):
        reasons.append("offline")
    if s.forecast is not None and s.forecast.overflow_risk and not s.is_full:
        reasons.append("overflow_risk")
    if "low_battery" in kinds or is_low_battery(s.battery_pct, s.battery_v):
        reasons.append("low_battery")
    s.reasons = reasons
    s.status = _colour(set(reasons))


def _colour(reasons: set[Reason]) -> Status:
    if {"fire", "overfull", "full"} & reasons:
        return "red"
    if {"offline", "no_data"} & reasons:
        return "grey"
    if "overflow_risk" in reasons:
        return "orange"
    if "low_battery" in reasons:
        return "yellow"
    return "green"


@dataclass(frozen=True)
class PlannedStop:
    """A container on the collection list, with why it is there and the leg to it."""

    state: ContainerState
    why: tuple[str, ...]
    leg_km: float


@dataclass(frozen=True)
class RoutePlan:
    """The collection list for one day in visiting order, from the depot and back."""

    day: date
    depot: Stop
    stops: tuple[PlannedStop, ...]
    km: float
    unplaced: tuple[str, ...]


def collection_reasons(s: ContainerState, day: date, min_fill_pct: float) -> tuple[str, ...]:
    """Why a container should be collected on ``day`` (empty when it need not be)."""
    if not s.row.active:
        return ()
    why: list[str] = []
    if s.is_full:
        why.append("full")
    if s.forecast is not None and s.forecast.overflow_risk:
        why.append("overflow_risk")
    scheduled = day.weekday() in s.spec.collection_weekdays
    if scheduled and s.level_pct is not None and s.level_pct >= min_fill_pct:
        why.append("scheduled")
    return tuple(why)


def collection_list(
    states: Iterable[ContainerState], day: date, depot: Stop, min_fill_pct: float
) -> RoutePlan:
    """Containers to collect on ``day``, ordered from the depot with plan_route."""
    chosen: dict[str, tuple[ContainerState, tuple[str, ...]]] = {}
    unplaced: list[str] = []
    for s in states:
        why = collection_reasons(s, day, min_fill_pct)
        if not why:
            continue
        if s.row.lat is None or s.row.lon is None:
            unplaced.append(s.row.code)
            continue
        chosen[s.row.code] = (s, why)
    stops = [Stop(code, s.row.lat or 0.0, s.row.lon or 0.0) for code, (s, _) in chosen.items()]
    route = plan_route(depot, stops)
    by_id = {st.id: st for st in stops}
    planned: list[PlannedStop] = []
    here = depot
    for code in route.order:
        stop = by_id[code]
        state, why = chosen[code]
        planned.append(PlannedStop(state, why, haversine_km(here, stop)))
        here = stop
    return RoutePlan(day, depot, tuple(planned), route.km, tuple(sorted(unplaced)))
