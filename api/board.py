"""The dispatcher's view: each container's level, status, open alerts, forecast and route.

    SQL registry ─────────────────────┐
    fill_state (newest per container) ├─► ContainerState ─► status colour, reasons ─► board
                                      │   (forecast_at: landfill/fill/state.py)
    containers without a kept state, or whose emptying the dispatcher rejected (recomputed):
    fill (last point, history) ───────┤                 ─► forecast (landfill/fill/forecast.py)
    container_alert (last/kind) ──────┤                 ─► collection list for a day
    container_event (emptying) ───────┘                    ─► plan_route (time budget)

Ingest keeps each container's state (ingest/fill/keeper.py), so a request reads one point per
container instead of every container's history. A container gets no kept state until ingest
sees a reading of it (data written before the state existed, a test seeding `fill` by hand);
those, and a container whose kept forecast starts at an emptying the dispatcher rejected, are
recomputed from the history as before, with queries limited to them.

Status, first match wins: red (fire, full, overfull), grey (offline or no data), orange
(overflow before the next collection), yellow (low battery), green. What full, offline and low
battery mean is landfill/fill/status.py, the tracker's own rules. Every InfluxQL statement is
fixed text with bound parameters. A forecast that fails for one container is logged and
shown as unknown (None); the board and the route go on for the others.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Literal

from pydantic import ValidationError

from api.container_registry import fields_of
from api.db import Container
from api.routing import Stop, haversine_km, plan_route
from landfill.fill.forecast import FillSample, Forecast, forecast
from landfill.fill.spec import ContainerSpec
from landfill.fill.state import FillState, KeptAlert, forecast_at, from_ms
from landfill.fill.status import is_full, is_low_battery, is_offline
from landfill.influx import InfluxStore, Series
from landfill.measurements import CONTAINER_ALERT, CONTAINER_EVENT, FILL, FILL_STATE

__all__ = [
    "AlertRow",
    "ContainerState",
    "EmptyingRow",
    "PlannedStop",
    "RoutePlan",
    "Status",
    "collection_list",
    "container_states",
    "emptying_rows",
    "kept_states",
    "open_alerts",
    "recomputed_states",
]

log = logging.getLogger("landfill.api.dispatch")

Status = Literal["red", "orange", "grey", "yellow", "green"]
Reason = Literal["fire", "overfull", "full", "offline", "no_data", "overflow_risk", "low_battery"]

# checked against landfill/measurements.py when this module is imported
Q_KEPT = FILL_STATE.query(
    "SELECT state FROM fill_state WHERE site = $site AND time > $since AND time <= $now "
    "GROUP BY container ORDER BY time DESC LIMIT 1"
)
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
    return influx.query(q, params, missing_ok=True)


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
    recomputed: bool = False  # from the history, not from ingest's kept state

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


ONLY_LIMIT = 200  # recompute more containers than this with the site-wide queries


def _only(
    q: str, params: dict[str, Any], codes: Sequence[str] | None
) -> tuple[str, dict[str, Any]]:
    """Limit a statement to some containers (bound parameters, one per code)."""
    if codes is None or len(codes) > ONLY_LIMIT:
        return q, params
    anchor = " AND time <= $now"
    assert anchor in q, q
    names = {f"c{i}": code for i, code in enumerate(codes)}
    clause = " OR ".join(f"container = ${name}" for name in names)
    return q.replace(anchor, f"{anchor} AND ({clause})", 1), {**params, **names}


def _history(
    influx: InfluxStore, site: str, since: datetime, now: datetime, only: Sequence[str] | None
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    q, params = _only(Q_HISTORY, {"site": site, "since": since, "now": now}, only)
    for series in _series(influx, q, params):
        out[series.tags.get("container", "")].extend(series.rows())
    return out


KEPT_RECENT = timedelta(days=2)  # most containers report hourly: the kept query reads one shard


def kept_states(
    influx: InfluxStore,
    site: str,
    since: datetime,
    now: datetime,
    only: Sequence[str] | None = None,
) -> dict[str, FillState]:
    """The newest `fill_state` of every container that changed after ``since``, by code."""
    out: dict[str, FillState] = {}
    q, params = _only(Q_KEPT, {"site": site, "since": since, "now": now}, only)
    for series in _series(influx, q, params):
        for row in series.rows():
            try:
                out[series.tags.get("container", "")] = FillState.model_validate_json(row["state"])
            except ValidationError as exc:  # not a state this API knows: recompute it
                log.debug("fill_state of %s not read: %s", series.tags, exc)
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
    """Every container's state: the kept one where ingest wrote it, else recomputed.

    The kept states of the last two days come in one query (one shard); those of containers
    silent for longer, back to ``history_days``, in a second one limited to them. ``tz`` is
    the zone of collection days, for the forecast's overflow risk.
    """
    rows = list(containers)
    kept = kept_states(
        influx, site, max(now - KEPT_RECENT, now - timedelta(days=history_days)), now
    )
    older = [row.code for row in rows if row.code not in kept]
    if older:
        kept |= kept_states(influx, site, now - timedelta(days=history_days), now, older)
    states: list[ContainerState] = []
    missing: list[Container] = []
    for row in rows:
        k = kept.get(row.code)
        if k is None or (k.emptied_id is not None and k.emptied_id in rejected_emptyings):
            missing.append(row)
        else:
            states.append(_from_kept(row, k, now, tz))
    if missing:
        states += recomputed_states(
            influx,
            site,
            missing,
            now,
            tz=tz,
            history_days=history_days,
            rejected_emptyings=rejected_emptyings,
            only=[row.code for row in missing],
        )
        states.sort(key=lambda s: s.row.code)
    return states


def _from_kept(row: Container, k: FillState, now: datetime, tz: tzinfo) -> ContainerState:
    """A container's state from what ingest kept; only the forecast's day depends on ``now``."""
    s = ContainerState(
        row=row, spec=fields_of(row), alerts=[_kept_alert(row.code, a) for a in k.alerts]
    )
    s.last_ts = from_ms(k.last_ms)
    s.quality, s.overfull, s.temp_c = k.quality, k.overfull, k.temp_c
    s.battery_pct, s.battery_v = k.battery_pct, k.battery_v
    if k.level_pct is not None and k.level_ms is not None:
        s.level_pct, s.level_ts = k.level_pct, from_ms(k.level_ms)
    try:
        s.forecast = forecast_at(k, s.spec, now, tz=tz)
    except Exception:  # noqa: BLE001 - one container's data must not hide the others
        log.exception("forecast of container %s failed; shown as unknown", row.code)
    _classify(s, now)
    return s


def _kept_alert(container: str, a: KeptAlert) -> AlertRow:
    return AlertRow(
        id=a.id,
        container=container,
        kind=a.kind,
        active=True,
        severity=a.severity,
        transition=a.transition,
        since=from_ms(a.since_ms),
        ts=from_ms(a.ts_ms),
        value=a.value,
        detail=a.detail,
    )


def recomputed_states(
    influx: InfluxStore,
    site: str,
    containers: Iterable[Container],
    now: datetime,
    *,
    tz: tzinfo,
    history_days: int,
    rejected_emptyings: frozenset[str] = frozenset(),
    only: Sequence[str] | None = None,
) -> list[ContainerState]:
    """Work the states out from the history: InfluxDB read once per measurement.

    ``only`` limits the queries to these containers (the whole site when there are many).
    """
    since = now - timedelta(days=history_days)
    q, params = _only(Q_LAST_FILL, {"site": site, "now": now}, only)
    last = {r["container"]: r for r in _rows(influx, q, params)}
    history = _history(influx, site, since, now, only)
    alerts: dict[str, list[AlertRow]] = defaultdict(list)
    q, params = _only(Q_LAST_ALERTS, {"site": site, "now": now}, only)
    for a in (AlertRow.from_row(r) for r in _rows(influx, q, params)):
        if a.active:
            alerts[a.container].append(a)
    emptied: dict[str, datetime] = {}
    q, params = _only(Q_EMPTYINGS, {"site": site, "since": since, "now": now}, only)
    for e in (EmptyingRow.from_row(r) for r in _rows(influx, q, params)):
        if e.id not in rejected_emptyings and e.container not in emptied:
            emptied[e.container] = e.ts  # rows come newest first

    states = []
    for row in containers:
        s = ContainerState(row=row, spec=fields_of(row), alerts=alerts.get(row.code, []))
        s.recomputed = True
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
    stopped_on_budget: bool = False


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
    states: Iterable[ContainerState],
    day: date,
    depot: Stop,
    min_fill_pct: float,
    budget_s: float | None = None,
) -> RoutePlan:
    """Containers to collect on ``day``, ordered from the depot with plan_route.

    Only the containers due go to plan_route; its improvement stops after ``budget_s``.
    """
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
    route = plan_route(depot, stops, budget_s=budget_s)
    by_id = {st.id: st for st in stops}
    planned: list[PlannedStop] = []
    here = depot
    for code in route.order:
        stop = by_id[code]
        state, why = chosen[code]
        planned.append(PlannedStop(state, why, haversine_km(here, stop)))
        here = stop
    return RoutePlan(
        day, depot, tuple(planned), route.km, tuple(sorted(unplaced)), route.stopped_on_budget
    )
