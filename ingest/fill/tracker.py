"""Per-container state: readings in; fill points, alert transitions and emptying events out.

    reading ─► ts <= last seen ─────────────────────► stale: nothing changes (replays are harmless)
            ─► fill_pct ─► rejected ────────────────► point without a level
            ─► tilted or lid open ──────────────────► point "suspicious", level unchanged
            ─► rise >= 30 pts over the level ───────► held until the next reading also rises
            ─► drop >= 25 pts (or to <= 10 %) from a level >= 20 %
                                                    ─► emptying candidate; the next valid
                                                       reading within +-10 pts confirms it
            ─► accepted ─► median of the last 3 ────► filtered level ─► full / overfull rules
    every reading ─► fire, tilt, lid_open, low_battery rules; clears offline
    tick(now) ─► offline, lid open too long, fire repeats, full past its collection day

Faults survived: sentinels and out-of-range distances, a bag or a hand under the sensor, a single
noisy dip, tilted containers, duplicate and out-of-order readings, restarts (snapshot/restore).
Time comes only from reading timestamps and ``now`` arguments; alert ids are derived from the
container, kind, since, transition and message time, so reprocessing gives the same messages.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from pydantic import TypeAdapter

from landfill.contract import AlertKind, ContainerAlert, ContainerEvent, ContainerReading, stable_id
from landfill.fill.geometry import Quality, fill_pct, is_emptying_drop
from landfill.fill.schedule import collection_deadline
from landfill.fill.spec import RULES, ContainerSpec, FillRules
from landfill.fill.status import (
    SEVERITY,
    Severity,
    battery_recovered,
    is_full,
    is_low_battery,
    is_offline,
    is_overfull,
    offline_after,
)

__all__ = ["ContainerTracker", "Derived", "FillPoint"]

Transition = Literal["raised", "cleared", "escalated", "repeated"]

_WINDOW = 3
_SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class FillPoint:
    """The fill point to write for one reading; levels are None when the reading has none."""

    container: str
    zone: str
    ts: datetime
    distance_mm: int | None
    raw_pct: float | None
    filtered_pct: float | None
    quality: Quality
    overfull: bool
    reason: str = ""


@dataclass(frozen=True)
class Derived:
    """What one reading produced; ``point`` is None for a stale (duplicate or older) reading."""

    point: FillPoint | None
    alerts: tuple[ContainerAlert, ...] = ()
    events: tuple[ContainerEvent, ...] = ()

    @property
    def stale(self) -> bool:
        """True when the reading was ignored as a duplicate or out of order."""
        return self.point is None


@dataclass
class _Candidate:
    pct: float
    ts: datetime
    before: float


@dataclass
class _Open:
    since: datetime
    raised_at: datetime
    severity: Severity
    value: float | None = None
    detail: str = ""
    escalated: bool = False
    notified_at: datetime | None = None


@dataclass
class _State:
    site: str | None = None
    last_ts: datetime | None = None
    window: list[float] = field(default_factory=list)
    rise: _Candidate | None = None
    drop: _Candidate | None = None
    last_emptying: datetime | None = None
    full_run: int = 0
    full_since: datetime | None = None
    overfull_run: int = 0
    overfull_since: datetime | None = None
    last_temp: float | None = None
    last_temp_ts: datetime | None = None
    fire_clear_run: int = 0
    upright_run: int = 0
    lid_open_since: datetime | None = None
    low_battery_run: int = 0
    low_battery_since: datetime | None = None
    alerts: dict[AlertKind, _Open] = field(default_factory=dict)


# the snapshot is this state as JSON, with the format version and the container beside it
_STATE = TypeAdapter(_State)


class ContainerTracker:
    """Fill level, alerts and emptyings of one container, fed one reading at a time.

    ``tz`` is the zone of collection days (``LANDFILL_TIMEZONE``): a full container escalates
    at the end of its collection day in that zone.
    """

    def __init__(self, spec: ContainerSpec, tz: tzinfo, rules: FillRules = RULES) -> None:
        self.spec = spec
        self.tz = tz
        self.rules = rules
        self._s = _State()

    # -- public -------------------------------------------------------------------------------

    @property
    def level_pct(self) -> float | None:
        """The current filtered level (median of the last accepted readings)."""
        return statistics.median(self._s.window) if self._s.window else None

    @property
    def last_emptying(self) -> datetime | None:
        """When the last confirmed emptying was first observed."""
        return self._s.last_emptying

    @property
    def open_alerts(self) -> frozenset[str]:
        """Alert kinds currently open."""
        return frozenset(self._s.alerts)

    def observe(self, reading: ContainerReading) -> Derived:
        """Take one reading; return its fill point, alert transitions and emptying events."""
        if reading.container != self.spec.container:
            raise ValueError(
                f"reading for {reading.container!r}, tracker for {self.spec.container!r}"
            )
        s = self._s
        if s.last_ts is not None and reading.ts <= s.last_ts:
            return Derived(None)
        s.site = reading.site
        s.last_ts = reading.ts
        alerts: list[ContainerAlert] = []
        if "offline" in s.alerts:
            alerts.append(self._clear("offline", reading.ts, "reading received"))
        alerts += self._fire(reading)
        alerts += self._tilt(reading)
        alerts += self._lid(reading)
        alerts += self._battery(reading)
        point, events, fill_alerts = self._level(reading)
        # timers last, so a reading that clears an alert is not also a reminder of it
        alerts += fill_alerts + self._timers(reading.ts, offline=False)
        return Derived(point, tuple(alerts), tuple(events))

    def tick(self, now: datetime) -> list[ContainerAlert]:
        """Run the timers: offline, lid open too long, fire repeats, full past collection day."""
        if self._s.last_ts is None or self._s.site is None or now < self._s.last_ts:
            return []
        return self._timers(now, offline=True)

    def retire(self, now: datetime, why: str) -> list[ContainerAlert]:
        """Clear every open alert, for a container taken out of service."""
        if self._s.site is None:
            return []
        return [self._clear(kind, now, why) for kind in SEVERITY if kind in self._s.alerts]

    def snapshot(self) -> dict[str, Any]:
        """Return the state as a plain JSON-able dict."""
        state = _STATE.dump_python(self._s, mode="json")
        return {"v": _SNAPSHOT_VERSION, "container": self.spec.container, **state}

    @classmethod
    def restore(
        cls, spec: ContainerSpec, state: dict[str, Any], tz: tzinfo, rules: FillRules = RULES
    ) -> ContainerTracker:
        """Rebuild a tracker from ``snapshot()``; open alerts stay open and are not re-raised."""
        if state.get("v") != _SNAPSHOT_VERSION:
            raise ValueError(f"unknown snapshot version {state.get('v')!r}")
        if state.get("container") != spec.container:
            raise ValueError(f"snapshot of {state.get('container')!r}, spec {spec.container!r}")
        t = cls(spec, tz, rules)
        fields = {k: v for k, v in state.items() if k not in ("v", "container")}
        t._s = _STATE.validate_python(fields)  # a ValidationError is a ValueError
        return t

    # -- level ----------------------------------------------------------------------------------

    def _level(
        self, r: ContainerReading
    ) -> tuple[FillPoint, list[ContainerEvent], list[ContainerAlert]]:
        spec, rules, s = self.spec, self.rules, self._s
        fl = fill_pct(spec, r.distance_mm, rules)

        def point(quality: Quality, reason: str, filtered: float | None) -> FillPoint:
            return FillPoint(
                spec.container,
                spec.zone,
                r.ts,
                r.distance_mm,
                fl.pct,
                filtered,
                quality,
                fl.overfull,
                reason,
            )

        if fl.pct is None:
            return point("rejected", fl.reason, None), [], []
        if r.tilt or r.lid_open:
            # a tilted container or an open lid points the sensor at something else
            return point("suspicious", "tilted" if r.tilt else "lid_open", None), [], []

        p = fl.pct
        level = self.level_pct
        events: list[ContainerEvent] = []
        alerts: list[ContainerAlert] = []
        if s.drop is not None:
            cand, s.drop = s.drop, None
            if abs(p - cand.pct) <= rules.confirm_band_pts:
                events.append(self._emptying(r, cand, p))
                alerts += self._clear_fill(r.ts, "emptying")
                s.window = [cand.pct, p]
                s.last_emptying = cand.ts
                return point(fl.quality, fl.reason, self.level_pct), events, alerts
        if s.rise is not None:
            cand, s.rise = s.rise, None
            if level is not None and p - level >= rules.rise_confirm_pts:
                s.window = (s.window + [cand.pct, p])[-_WINDOW:]
                alerts += self._fill_rules(r.ts, fl.overfull)
                return point(fl.quality, "rise_confirmed", self.level_pct), events, alerts
        if level is not None and p - level >= rules.rise_confirm_pts:
            s.rise = _Candidate(p, r.ts, level)
            return point("suspicious", "unconfirmed_rise", level), events, alerts
        if level is not None and is_emptying_drop(level, p, rules):
            s.drop = _Candidate(p, r.ts, level)
            return point("suspicious", "emptying_candidate", level), events, alerts
        s.window = (s.window + [p])[-_WINDOW:]
        alerts += self._fill_rules(r.ts, fl.overfull)
        return point(fl.quality, fl.reason, self.level_pct), events, alerts

    def _emptying(self, r: ContainerReading, cand: _Candidate, confirm: float) -> ContainerEvent:
        c = self.spec.container
        return ContainerEvent(
            id=stable_id(c, "emptying", _iso(cand.ts)),
            ts=cand.ts,
            site=r.site,
            container=c,
            event="emptying",
            before_pct=round(cand.before, 1),
            after_pct=round(cand.pct, 1),
            detail=f"{cand.before:.0f} % -> {cand.pct:.0f} %, confirmed {confirm:.0f} % "
            f"at {_iso(r.ts)}",
        )

    def _fill_rules(self, ts: datetime, overfull_flag: bool) -> list[ContainerAlert]:
        spec, s = self.spec, self._s
        level = self.level_pct
        assert level is not None
        out: list[ContainerAlert] = []
        if is_full(spec, level):
            s.full_since = s.full_since if s.full_run else ts
            s.full_run += 1
        else:
            s.full_run, s.full_since = 0, None
        if is_overfull(level, overfull_flag):
            s.overfull_since = s.overfull_since if s.overfull_run else ts
            s.overfull_run += 1
        else:
            s.overfull_run, s.overfull_since = 0, None

        if level < spec.clear_pct:
            # overfull normally clears on emptying; a level this low means one was missed
            for kind in ("full", "overfull"):
                if kind in s.alerts:
                    out.append(self._clear(kind, ts, f"level {level:.0f} %", level))
        suppressed = "tilt" in s.alerts
        if not suppressed and s.full_run >= 2 and "full" not in s.alerts:
            assert s.full_since is not None
            out.append(self._raise("full", s.full_since, ts, level, f"level {level:.0f} %"))
        if not suppressed and s.overfull_run >= 2 and "overfull" not in s.alerts:
            assert s.overfull_since is not None
            detail = "waste above the full line" if overfull_flag else f"level {level:.0f} %"
            out.append(self._raise("overfull", s.overfull_since, ts, level, detail))
        return out

    def _clear_fill(self, ts: datetime, why: str) -> list[ContainerAlert]:
        s = self._s
        s.full_run = s.overfull_run = 0
        s.full_since = s.overfull_since = None
        return [self._clear(k, ts, why) for k in ("full", "overfull") if k in s.alerts]

    # -- other rules ------------------------------------------------------------------------------

    def _fire(self, r: ContainerReading) -> list[ContainerAlert]:
        rules, s = self.rules, self._s
        t = r.temp_c
        jump = (
            t is not None
            and s.last_temp is not None
            and s.last_temp_ts is not None
            and r.ts - s.last_temp_ts <= offline_after(self.spec, rules)
            and t - s.last_temp >= rules.fire_rise_c
        )
        if t is not None:
            s.last_temp, s.last_temp_ts = t, r.ts
        hot = t is not None and t >= rules.fire_temp_c
        if hot or jump or r.fire:
            s.fire_clear_run = 0
            if "fire" in s.alerts:
                return []
            why = "device fire flag" if r.fire else "temperature" if hot else "temperature jump"
            detail = f"{why}, {t:.1f} °C" if t is not None else why
            return [self._raise("fire", r.ts, r.ts, t, detail)]
        if "fire" in s.alerts and t is not None:
            if t < rules.fire_clear_c:
                s.fire_clear_run += 1
                if s.fire_clear_run >= 2:
                    s.fire_clear_run = 0
                    return [self._clear("fire", r.ts, f"{t:.1f} °C", t)]
            else:
                s.fire_clear_run = 0
        return []

    def _tilt(self, r: ContainerReading) -> list[ContainerAlert]:
        s = self._s
        if r.tilt is None:
            return []
        if r.tilt:
            s.upright_run = 0
            if "tilt" not in s.alerts:
                return [self._raise("tilt", r.ts, r.ts, None, "container tilted")]
            return []
        s.upright_run += 1
        if "tilt" in s.alerts and s.upright_run >= 2:
            return [self._clear("tilt", r.ts, "upright")]
        return []

    def _lid(self, r: ContainerReading) -> list[ContainerAlert]:
        s = self._s
        if r.lid_open is None:
            return []
        if not r.lid_open:
            s.lid_open_since = None
            return [self._clear("lid_open", r.ts, "closed")] if "lid_open" in s.alerts else []
        if s.lid_open_since is None:
            s.lid_open_since = r.ts
        return self._lid_timer(r.ts)

    def _lid_timer(self, now: datetime) -> list[ContainerAlert]:
        s = self._s
        if s.lid_open_since is None or "lid_open" in s.alerts:
            return []
        due = s.lid_open_since + timedelta(seconds=self.rules.lid_open_s)
        if now <= due:
            return []
        minutes = (now - s.lid_open_since).total_seconds() / 60
        return [self._raise("lid_open", s.lid_open_since, due, None, f"open > {minutes:.0f} min")]

    def _battery(self, r: ContainerReading) -> list[ContainerAlert]:
        s = self._s
        pct, volts = r.battery_pct, r.battery_v
        if pct is None and volts is None:
            return []
        value = pct if pct is not None else volts
        unit = "%" if pct is not None else "V"
        if is_low_battery(pct, volts, self.rules):
            s.low_battery_since = s.low_battery_since if s.low_battery_run else r.ts
            s.low_battery_run += 1
            if s.low_battery_run < 3 or "low_battery" in s.alerts:
                return []
            assert s.low_battery_since is not None
            detail = f"battery {value} {unit}"
            return [self._raise("low_battery", s.low_battery_since, r.ts, value, detail)]
        s.low_battery_run, s.low_battery_since = 0, None
        if "low_battery" in s.alerts and battery_recovered(pct, volts, self.rules):
            return [self._clear("low_battery", r.ts, f"battery {value}", value)]
        return []

    def _timers(self, now: datetime, *, offline: bool) -> list[ContainerAlert]:
        spec, s = self.spec, self._s
        out: list[ContainerAlert] = []
        if offline and "offline" not in s.alerts and is_offline(spec, s.last_ts, now, self.rules):
            assert s.last_ts is not None
            due = s.last_ts + offline_after(spec, self.rules)
            out.append(self._raise("offline", s.last_ts, due, None, "no reading"))
        out += self._lid_timer(now)
        fire = s.alerts.get("fire")
        if fire is not None:
            step = timedelta(seconds=self.rules.fire_repeat_s)
            due = fire.raised_at + step * ((now - fire.raised_at) // step)
            if due > (fire.notified_at or fire.raised_at):
                fire.notified_at = due
                out.append(self._emit("fire", "repeated", due, fire))
        full = s.alerts.get("full")
        if full is not None and not full.escalated:
            deadline = collection_deadline(spec.collection_weekdays, full.raised_at, self.tz)
            if deadline is not None and now >= deadline:
                deadline = deadline.astimezone(UTC)
                full.escalated = True
                full.severity = "major"
                full.detail = "collection day passed without an emptying"
                out.append(self._emit("full", "escalated", deadline, full))
        return out

    # -- alert messages -------------------------------------------------------------------------

    def _raise(
        self, kind: AlertKind, since: datetime, ts: datetime, value: float | None, detail: str
    ) -> ContainerAlert:
        a = _Open(since, ts, SEVERITY[kind], value, detail, notified_at=ts)
        self._s.alerts[kind] = a
        return self._emit(kind, "raised", ts, a)

    def _clear(
        self, kind: AlertKind, ts: datetime, detail: str, value: float | None = None
    ) -> ContainerAlert:
        a = self._s.alerts.pop(kind)
        cleared = _Open(a.since, a.raised_at, a.severity, value, detail)
        # a late reading (a backhaul outage, then a burst of queued uplinks) observed before
        # the raise must still clear it *after* the raise, or "latest by time" stays raised
        ts = max(ts, a.raised_at + timedelta(milliseconds=1))
        return self._emit(kind, "cleared", ts, cleared, active=False)

    def _emit(
        self, kind: AlertKind, transition: Transition, ts: datetime, a: _Open, active: bool = True
    ) -> ContainerAlert:
        c = self.spec.container
        assert self._s.site is not None
        return ContainerAlert(
            id=stable_id(c, kind, _iso(a.since), transition, _iso(ts)),
            ts=ts,
            site=self._s.site,
            container=c,
            alert=kind,
            active=active,
            severity=a.severity,
            transition=transition,
            since=a.since,
            value=a.value,
            detail=a.detail,
        )


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat()
