"""Dispatcher API: `/api/v1/dispatch/{board,alerts,emptyings,route}`.

Levels, alerts and emptying candidates come from InfluxDB (written by the ingest); what the
dispatcher decides (acknowledgements, confirmed or rejected emptyings) is kept in SQL.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.access import ACT_DISPATCH, READ_DISPATCH, Caller
from api.auth.audit import record
from api.board import (
    AlertRow,
    ContainerState,
    PlannedStop,
    alert_by_id,
    collection_list,
    container_states,
    emptying_by_id,
    emptying_rows,
    open_alerts,
)
from api.board_view import BoardQuery, BoardView, Cluster, board_view
from api.db import AlertAck, Container, EmptyingDecision, Site
from api.deps import InfluxDep, LanguageDep, NowDep, SessionDep, SettingsDep, SiteDep
from api.limits import Day
from api.routing import Stop
from api.trips import Load, Trip, forecast_volume_m3, split_trips
from landfill.fill.schedule import WORK_END, local_at
from landfill.fill.status import severity_rank
from landfill.language import Language
from landfill.settings import ApiSettings
from landfill.texts import settlement_name

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch"])
Filter = Literal["full", "overflow_risk", "offline", "battery"]
StatusFilter = Literal["red", "orange", "grey", "yellow", "green"]
Actor = Annotated[Caller, Depends(ACT_DISPATCH)]


class AckPublic(BaseModel):
    """Who acknowledged an alert, when, and why."""

    by: str
    at: datetime
    note: str


class AlertPublic(BaseModel):
    """An open alert, with what the dispatcher's card shows of its container."""

    id: str
    container: str
    kind: str
    severity: str
    transition: str
    since: datetime
    ts: datetime
    value: float | None
    detail: str
    acknowledged: AckPublic | None
    settlement: str = Field("", description="as registered")
    settlement_name: str = Field("", description="as the answer's language spells it")
    status: str | None = Field(None, description="the container's status colour")
    fill_pct: float | None = Field(None, description="the container's last level")
    open_s: float | None = Field(None, description="seconds since the alert was raised")


class FillPublic(BaseModel):
    """The last known level and the last reading of any quality."""

    filtered_pct: float | None
    level_ts: datetime | None
    quality: str | None
    ts: datetime | None
    age_s: float | None
    overfull: bool
    battery_pct: float | None
    battery_v: float | None
    temp_c: float | None


class ForecastPublic(BaseModel):
    """Fill rate, when the container reaches full, and whether it overflows first."""

    rate_pct_per_day: float | None
    full_at: datetime | None
    never: bool
    reliability: str
    next_collection: date | None
    projected_pct: float | None
    overflow_risk: bool


class BoardItemPublic(BaseModel):
    """One container on the board."""

    container: str
    settlement: str = Field(description="as registered: the value the settlement filter takes")
    settlement_name: str = Field(description="as the answer's language spells it")
    zone: str
    lat: float | None
    lon: float | None
    full_pct: float
    collection_weekdays: list[int]
    status: str
    reasons: list[str]
    fill: FillPublic
    forecast: ForecastPublic | None
    alerts: list[AlertPublic]


class PointPublic(BaseModel):
    """A place on the map."""

    lat: float
    lon: float


class PinPublic(BaseModel):
    """A container on the map."""

    container: str
    settlement: str
    settlement_name: str
    lat: float
    lon: float
    status: str
    fill_pct: float | None


class ClusterPublic(BaseModel):
    """Containers close together on the map: how many, and the worst status among them."""

    lat: float
    lon: float
    count: int
    status: str
    counts: dict[str, int]


class OptionPublic(BaseModel):
    """A choice of a filter: the value it sends, the label a person reads."""

    value: str
    label: str


class MapPublic(BaseModel):
    """What the map draws for the filtered containers: pins, or clusters when there are many."""

    pins: list[PinPublic]
    clusters: list[ClusterPublic]


class BoardPublic(BaseModel):
    """One page of the matching containers; counts are for the whole site, before filtering."""

    generated_at: datetime
    depot: PointPublic
    counts: dict[str, int]
    data: list[BoardItemPublic]
    count: int
    total: int = Field(description="containers matching the filters, on every page")
    page: int
    per_page: int
    map: MapPublic
    zones: list[str]
    settlements: list[str] = Field(description="registered names, the settlement filter's values")
    settlement_options: list[OptionPublic] = Field(
        description="the settlement filter's choices: registered value, name in the language"
    )
    recomputed: int = Field(
        description="containers worked out from the history: ingest has kept no state for them"
    )


class AlertsPublic(BaseModel):
    """Open alerts, most severe first."""

    data: list[AlertPublic]
    count: int


class DecisionCreate(BaseModel):
    """An acknowledgement, confirmation or rejection: who made it comes from the login."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=500)


class DecisionPublic(BaseModel):
    """What the dispatcher decided about an emptying."""

    decision: str
    by: str
    at: datetime
    note: str


class EmptyingPublic(BaseModel):
    """An emptying candidate and the dispatcher's decision, if any."""

    id: str
    container: str
    ts: datetime
    before_pct: float | None
    after_pct: float | None
    detail: str
    decision: DecisionPublic | None


class EmptyingsPublic(BaseModel):
    """Emptying candidates, newest first."""

    data: list[EmptyingPublic]
    count: int


class RouteStopPublic(BaseModel):
    """A container on the collection list, in visiting order."""

    container: str
    settlement: str
    settlement_name: str
    lat: float
    lon: float
    fill_pct: float | None
    status: str
    why: list[str]
    leg_km: float = Field(description="straight-line km from the previous stop of the tour")
    volume_m3: float = Field(description="forecast m³ at the end of the day (volume × level)")
    trip: int = Field(description="the truck trip (1, 2, ...) this stop is on")
    trip_leg_km: float = Field(description="straight-line km to it within its trip")


class TripPublic(BaseModel):
    """One truckload: from the depot through these stops and back to unload."""

    number: int
    containers: list[str]
    count: int
    volume_m3: float
    km: float = Field(description="straight-line km, depot to depot")
    road_km: float = Field(description="km × LANDFILL_ROUTE_ROAD_FACTOR")
    over_capacity: bool = Field(description="a single stop holds more than the truck")


class RoutePublic(BaseModel):
    """The collection list for one day, from the depot and back."""

    date: date
    depot: PointPublic
    stops: list[RouteStopPublic]
    km: float = Field(description="straight-line km of one tour, without trips to unload")
    count: int
    unplaced: list[str]
    stopped_on_budget: bool = Field(
        description="the order's improvement stopped at LANDFILL_ROUTE_BUDGET_SECONDS"
    )
    capacity_m3: float = Field(description="LANDFILL_TRUCK_CAPACITY_M3")
    road_factor: float = Field(description="LANDFILL_ROUTE_ROAD_FACTOR")
    volume_m3: float = Field(description="forecast m³ of every stop")
    trips: list[TripPublic]
    trips_km: float = Field(description="straight-line km of all trips, with the ways back")
    road_km: float = Field(description="trips_km × road_factor: an estimate, not a road survey")


def _acks(session: Session, site: Site) -> dict[tuple[str, str, datetime], AlertAck]:
    acks = session.scalars(select(AlertAck).where(AlertAck.site_id == site.id))
    return {(a.container, a.kind, _utc(a.since)): a for a in acks}


def _utc(ts: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _alert_public(
    a: AlertRow,
    acks: dict[tuple[str, str, datetime], AlertAck],
    lang: Language,
    s: ContainerState | None = None,
    now: datetime | None = None,
) -> AlertPublic:
    ack = acks.get((a.container, a.kind, a.since))
    return AlertPublic(
        id=a.id,
        container=a.container,
        kind=a.kind,
        severity=a.severity,
        transition=a.transition,
        since=a.since,
        ts=a.ts,
        value=a.value,
        detail=a.detail,
        acknowledged=AckPublic(by=ack.by, at=_utc(ack.at), note=ack.note) if ack else None,
        settlement=s.row.settlement if s else "",
        settlement_name=settlement_name(lang, s.row.settlement) if s else "",
        status=s.status if s else None,
        fill_pct=s.level_pct if s else None,
        open_s=(now - a.since).total_seconds() if now else None,
    )


def _states(
    session: Session, site: Site, influx: InfluxDep, settings: ApiSettings, now: datetime
) -> tuple[list[ContainerState], dict[tuple[str, str, datetime], AlertAck]]:
    rows = list(
        session.scalars(
            select(Container)
            .where(Container.site_id == site.id, Container.active)
            .order_by(Container.code)
        )
    )
    rejected = frozenset(
        session.scalars(
            select(EmptyingDecision.event_id).where(
                EmptyingDecision.site_id == site.id, EmptyingDecision.decision == "rejected"
            )
        )
    )
    states = container_states(
        influx,
        site.code,
        rows,
        now,
        tz=settings.tz,
        history_days=settings.dispatch_history_days,
        rejected_emptyings=rejected,
    )
    return states, _acks(session, site)


def _board_item(
    s: ContainerState,
    now: datetime,
    acks: dict[tuple[str, str, datetime], AlertAck],
    lang: Language,
) -> BoardItemPublic:
    f = s.forecast
    return BoardItemPublic(
        container=s.row.code,
        settlement=s.row.settlement,
        settlement_name=settlement_name(lang, s.row.settlement),
        zone=s.row.zone,
        lat=s.row.lat,
        lon=s.row.lon,
        full_pct=s.spec.full_pct,
        collection_weekdays=list(s.spec.collection_weekdays),
        status=s.status,
        reasons=list(s.reasons),
        fill=FillPublic(
            filtered_pct=s.level_pct,
            level_ts=s.level_ts,
            quality=s.quality,
            ts=s.last_ts,
            age_s=s.age_s(now),
            overfull=s.overfull,
            battery_pct=s.battery_pct,
            battery_v=s.battery_v,
            temp_c=s.temp_c,
        ),
        forecast=None
        if f is None
        else ForecastPublic(
            rate_pct_per_day=f.rate_pct_per_day,
            full_at=f.full_at,
            never=f.never,
            reliability=f.reliability,
            next_collection=f.next_collection,
            projected_pct=f.projected_pct,
            overflow_risk=f.overflow_risk,
        ),
        alerts=[_alert_public(a, acks, lang, s, now) for a in _sorted_alerts(s.alerts)],
    )


@router.get("/board", response_model=BoardPublic, dependencies=[Depends(READ_DISPATCH)])
def board(
    session: SessionDep,
    settings: SettingsDep,
    site: SiteDep,
    influx: InfluxDep,
    now: NowDep,
    lang: LanguageDep,
    filter: Annotated[Filter | None, Query(description="show only these")] = None,  # noqa: A002
    status: Annotated[StatusFilter | None, Query(description="only this colour")] = None,
    zone: Annotated[str | None, Query(max_length=64)] = None,
    settlement: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> BoardPublic:
    """One page of the active containers, most urgent first, with counts for the whole site."""
    states, acks = _states(session, site, influx, settings, now)
    query = BoardQuery(filter, status, zone or None, settlement or None, page, per_page)
    view = board_view(states, query)
    return BoardPublic(
        generated_at=now,
        depot=PointPublic(lat=settings.depot_lat, lon=settings.depot_lon),
        counts=view.counts,
        data=[_board_item(s, now, acks, lang) for s in view.page],
        count=len(view.page),
        total=view.total,
        page=page,
        per_page=per_page,
        map=_map_public(view, lang),
        zones=view.zones,
        settlements=view.settlements,
        settlement_options=_settlement_options(view.settlements, lang),
        recomputed=view.recomputed,
    )


def _settlement_options(registered: list[str], lang: Language) -> list[OptionPublic]:
    """The filter's choices by the name a person reads; each sends the registered name."""
    options = [OptionPublic(value=name, label=settlement_name(lang, name)) for name in registered]
    return sorted(options, key=lambda o: (o.label.casefold(), o.value))


def _map_public(view: BoardView, lang: Language) -> MapPublic:
    pins = [
        PinPublic(
            container=s.row.code,
            settlement=s.row.settlement,
            settlement_name=settlement_name(lang, s.row.settlement),
            lat=s.row.lat or 0.0,
            lon=s.row.lon or 0.0,
            status=s.status,
            fill_pct=s.level_pct,
        )
        for s in view.pins
    ]
    return MapPublic(pins=pins, clusters=[_cluster_public(c) for c in view.clusters])


def _cluster_public(c: Cluster) -> ClusterPublic:
    return ClusterPublic(lat=c.lat, lon=c.lon, count=c.count, status=c.status, counts=c.counts)


def _sorted_alerts(alerts: list[AlertRow]) -> list[AlertRow]:
    return sorted(alerts, key=lambda a: (severity_rank(a.severity), a.since, a.container))


@router.get("/alerts", response_model=AlertsPublic, dependencies=[Depends(READ_DISPATCH)])
def list_alerts(
    session: SessionDep,
    settings: SettingsDep,
    site: SiteDep,
    influx: InfluxDep,
    now: NowDep,
    lang: LanguageDep,
    acknowledged: Annotated[bool | None, Query(description="omit for all")] = None,
) -> AlertsPublic:
    """Open alerts of the active containers, most severe first (from the board's states)."""
    states, acks = _states(session, site, influx, settings, now)
    of = {s.row.code: s for s in states}
    alerts = [a for s in states for a in s.alerts]
    data = [_alert_public(a, acks, lang, of[a.container], now) for a in _sorted_alerts(alerts)]
    if acknowledged is not None:
        data = [a for a in data if (a.acknowledged is not None) == acknowledged]
    return AlertsPublic(data=data, count=len(data))


@router.post("/alerts/{alert_id}/ack", response_model=AlertPublic, status_code=201)
def acknowledge(
    alert_id: Annotated[str, Path(max_length=64)],
    body: DecisionCreate,
    session: SessionDep,
    site: SiteDep,
    influx: InfluxDep,
    now: NowDep,
    caller: Actor,
    lang: LanguageDep,
) -> AlertPublic:
    """Acknowledge an open alert; the acknowledgement holds until the alert clears."""
    alert = alert_by_id(influx, site.code, alert_id)
    current = {(a.container, a.kind): a for a in open_alerts(influx, site.code, now)}
    if alert is None:
        raise HTTPException(404, "alert not found")
    live = current.get((alert.container, alert.kind))
    if live is None or live.since != alert.since:
        raise HTTPException(409, "alert is no longer open")
    ack = AlertAck(
        site_id=site.id,
        alert_id=alert_id,
        container=alert.container,
        kind=alert.kind,
        since=alert.since,
        by=caller.display,
        at=now,
        note=body.note.strip(),
    )
    after = {"container": ack.container, "kind": ack.kind, "by": ack.by, "note": ack.note}
    record(session, caller.actor, now, "alert.ack", alert_id, after=after)
    _add_once(session, ack, "alert already acknowledged")
    return _alert_public(live, _acks(session, site), lang, now=now)


@router.get("/emptyings", response_model=EmptyingsPublic, dependencies=[Depends(READ_DISPATCH)])
def list_emptyings(
    session: SessionDep,
    site: SiteDep,
    influx: InfluxDep,
    now: NowDep,
    days: Annotated[int, Query(ge=1, le=90)] = 14,
    pending: Annotated[bool, Query(description="only those nobody decided yet")] = False,
) -> EmptyingsPublic:
    """Emptying candidates of the last ``days`` days with the dispatcher's decisions."""
    events = emptying_rows(influx, site.code, now - timedelta(days=days), now)
    decisions = {
        d.event_id: d
        for d in session.scalars(
            select(EmptyingDecision).where(EmptyingDecision.site_id == site.id)
        )
    }
    data = []
    for e in events:
        d = decisions.get(e.id)
        if pending and d is not None:
            continue
        data.append(
            EmptyingPublic(
                id=e.id,
                container=e.container,
                ts=e.ts,
                before_pct=e.before_pct,
                after_pct=e.after_pct,
                detail=e.detail,
                decision=None
                if d is None
                else DecisionPublic(decision=d.decision, by=d.by, at=_utc(d.at), note=d.note),
            )
        )
    return EmptyingsPublic(data=data, count=len(data))


def _decide(
    event_id: str,
    decision: Literal["confirmed", "rejected"],
    body: DecisionCreate,
    session: Session,
    site: Site,
    influx: InfluxDep,
    now: datetime,
    caller: Caller,
) -> DecisionPublic:
    event = emptying_by_id(influx, site.code, event_id)
    if event is None:
        raise HTTPException(404, "emptying not found")
    row = EmptyingDecision(
        site_id=site.id,
        event_id=event_id,
        container=event.container,
        decision=decision,
        by=caller.display,
        at=now,
        note=body.note.strip(),
    )
    after = {"container": row.container, "decision": decision, "by": row.by, "note": row.note}
    action = "emptying.confirm" if decision == "confirmed" else "emptying.reject"
    record(session, caller.actor, now, action, event_id, after=after)
    _add_once(session, row, "emptying already decided")
    return DecisionPublic(decision=decision, by=row.by, at=now, note=row.note)


@router.post("/emptyings/{event_id}/confirm", response_model=DecisionPublic, status_code=201)
def confirm_emptying(
    event_id: Annotated[str, Path(max_length=64)],
    body: DecisionCreate,
    session: SessionDep,
    site: SiteDep,
    influx: InfluxDep,
    now: NowDep,
    caller: Actor,
) -> DecisionPublic:
    """Confirm that a detected emptying was a collection."""
    return _decide(event_id, "confirmed", body, session, site, influx, now, caller)


@router.post("/emptyings/{event_id}/reject", response_model=DecisionPublic, status_code=201)
def reject_emptying(
    event_id: Annotated[str, Path(max_length=64)],
    body: DecisionCreate,
    session: SessionDep,
    site: SiteDep,
    influx: InfluxDep,
    now: NowDep,
    caller: Actor,
) -> DecisionPublic:
    """Reject a detected emptying (not a collection); forecasts then ignore it."""
    return _decide(event_id, "rejected", body, session, site, influx, now, caller)


@router.get("/route", response_model=RoutePublic, dependencies=[Depends(READ_DISPATCH)])
def route(
    session: SessionDep,
    settings: SettingsDep,
    site: SiteDep,
    influx: InfluxDep,
    now: NowDep,
    lang: LanguageDep,
    day: Annotated[
        Day | None, Query(alias="date", description="YYYY-MM-DD, default tomorrow")
    ] = None,
) -> RoutePublic:
    """Containers to collect on a day (default: tomorrow, local), in visiting order, with km.

    The stops are cut into truck trips by LANDFILL_TRUCK_CAPACITY_M3 (forecast volumes).
    """
    return day_route(session, settings, site, influx, now, day, lang)


def route_day(settings: ApiSettings, now: datetime, day: date | None) -> date:
    """The asked day, or tomorrow in the site's time zone."""
    return day or now.astimezone(settings.tz).date() + timedelta(days=1)


def day_route(
    session: Session,
    settings: ApiSettings,
    site: Site,
    influx: InfluxDep,
    now: datetime,
    day: date | None,
    lang: Language,
) -> RoutePublic:
    """The collection list of ``day`` (default tomorrow), in visiting order and truck trips."""
    day = route_day(settings, now, day)
    states, _ = _states(session, site, influx, settings, now)
    depot = Stop("depot", settings.depot_lat, settings.depot_lon)
    plan = collection_list(
        states, day, depot, settings.route_min_fill_pct, settings.route_budget_seconds
    )
    end = local_at(day, WORK_END, settings.tz)
    loads = [Load(_stop(p), _volume(p.state, end)) for p in plan.stops]
    trips = split_trips(depot, loads, settings.truck_capacity_m3)
    on_trip = {
        load.stop.id: (t.number, leg)
        for t in trips
        for load, leg in zip(t.loads, t.legs_km, strict=True)
    }
    stops = [
        _route_stop(p, load, lang, *on_trip[load.stop.id])
        for p, load in zip(plan.stops, loads, strict=True)
    ]
    trips_km = math.fsum(t.km for t in trips)
    return RoutePublic(
        date=day,
        depot=PointPublic(lat=depot.lat, lon=depot.lon),
        stops=stops,
        km=round(plan.km, 2),
        count=len(stops),
        unplaced=list(plan.unplaced),
        stopped_on_budget=plan.stopped_on_budget,
        capacity_m3=settings.truck_capacity_m3,
        road_factor=settings.route_road_factor,
        volume_m3=round(math.fsum(load.volume_m3 for load in loads), 2),
        trips=[_trip_public(t, settings.route_road_factor) for t in trips],
        trips_km=round(trips_km, 2),
        road_km=round(trips_km * settings.route_road_factor, 2),
    )


def _stop(p: PlannedStop) -> Stop:
    return Stop(p.state.row.code, p.state.row.lat or 0.0, p.state.row.lon or 0.0)


def _volume(s: ContainerState, at: datetime) -> float:
    rate = s.forecast.rate_pct_per_day if s.forecast is not None else None
    return forecast_volume_m3(s.spec.volume_m3, s.level_pct, s.level_ts, rate, at)


def _route_stop(
    p: PlannedStop, load: Load, lang: Language, trip: int, trip_leg_km: float
) -> RouteStopPublic:
    return RouteStopPublic(
        container=p.state.row.code,
        settlement=p.state.row.settlement,
        settlement_name=settlement_name(lang, p.state.row.settlement),
        lat=p.state.row.lat or 0.0,
        lon=p.state.row.lon or 0.0,
        fill_pct=p.state.level_pct,
        status=p.state.status,
        why=list(p.why),
        leg_km=round(p.leg_km, 2),
        volume_m3=round(load.volume_m3, 2),
        trip=trip,
        trip_leg_km=round(trip_leg_km, 2),
    )


def _trip_public(t: Trip, road_factor: float) -> TripPublic:
    return TripPublic(
        number=t.number,
        containers=[load.stop.id for load in t.loads],
        count=len(t.loads),
        volume_m3=round(t.volume_m3, 2),
        km=round(t.km, 2),
        road_km=round(t.km * road_factor, 2),
        over_capacity=t.over_capacity,
    )


def _add_once(session: Session, row: AlertAck | EmptyingDecision, conflict: str) -> None:
    """Store a dispatcher's decision; a second one for the same alert or event is a 409."""
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(409, conflict) from None
