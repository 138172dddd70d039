"""Each container's kept state: a `fill_state` point whenever what the board shows changes.

    reading ─► tracker ─► FillPoint, alerts, emptying ─► observe ─► RateModel
                                                               ─► open alerts, last message per kind
                                                               ─► FillState ─► `fill_state` line
    tick ─► alerts the timers fired ─► alerts() ─► `fill_state` line
    first tick after a start ─► every state again, at the same time (it overwrites itself)

RateModel and FillState are in landfill/fill/state.py. The API reads the newest `fill_state`
point of every container in one query instead of recomputing forecasts from the history
(docs/dispatch.md, "Kept state"). A point's time is the time of the change (the reading's, or
the alert's), never earlier than the container's previous state point, so the newest point is
the current state even after a late reading. The keeper's state is saved with the tracker's,
in the same transaction (ingest/fill/processor.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from ingest.fill.tracker import Derived
from ingest.points import fill_state_line
from landfill.contract import ContainerAlert, ContainerReading
from landfill.fill.spec import RULES, FillRules
from landfill.fill.state import FillState, KeptAlert, RateModel, model_forecast, to_ms

__all__ = ["StateKeeper"]

Key = tuple[str, str]  # (site, container)


@dataclass
class _Kept:
    """What the keeper holds for one container besides the rate model."""

    model: RateModel = field(default_factory=RateModel)
    alerts: dict[str, KeptAlert] = field(default_factory=dict)
    last_ms: int | None = None
    quality: str | None = None
    overfull: bool = False
    temp_c: float | None = None
    battery_pct: float | None = None
    battery_v: float | None = None
    emptied_id: str | None = None
    point_ms: int | None = None  # time of the last `fill_state` point written
    source_id: str = ""  # the message that made the last change
    doc: str = ""  # the last state written, as JSON

    def snapshot(self) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items() if k not in ("model", "alerts")}
        out["model"] = self.model.snapshot()
        out["alerts"] = [a.model_dump() for a in self.alerts.values()]
        return out

    @classmethod
    def restore(cls, doc: dict[str, Any]) -> _Kept:
        fields = dict(doc)
        model = RateModel.restore(fields.pop("model"))
        alerts = [KeptAlert.model_validate(a) for a in fields.pop("alerts")]
        return cls(model=model, alerts={a.kind: a for a in alerts}, **fields)


class StateKeeper:
    """The kept state of every container the fill processor tracks; not thread-safe."""

    def __init__(self, tz: tzinfo, rules: FillRules = RULES) -> None:
        self.tz = tz  # weekdays of the rate model are local days (LANDFILL_TIMEZONE)
        self.rules = rules
        self._kept: dict[Key, _Kept] = {}

    def observe(self, key: Key, reading: ContainerReading, derived: Derived) -> str | None:
        """Take what one new reading produced; return its `fill_state` line."""
        point = derived.point
        if point is None:
            return None  # stale: nothing changed
        k = self._kept.setdefault(key, _Kept())
        ts_ms = to_ms(reading.ts)
        k.last_ms, k.quality, k.overfull = ts_ms, point.quality, point.overfull
        k.temp_c = reading.temp_c
        if reading.battery_pct is not None:
            k.battery_pct = reading.battery_pct
        if reading.battery_v is not None:
            k.battery_v = reading.battery_v
        if point.filtered_pct is not None and point.quality != "rejected":
            k.model.add(ts_ms, point.filtered_pct, self.tz, self.rules)
        for event in derived.events:
            if event.event == "emptying":
                k.model.emptied(to_ms(event.ts))
                k.emptied_id = event.id
        self._take(k, derived.alerts)
        return self._line(key, k, ts_ms, reading.id)

    def alerts(self, key: Key, alerts: list[ContainerAlert]) -> str | None:
        """Take alerts a timer fired (offline, repeats, escalations); return the line."""
        k = self._kept.get(key)
        if k is None or not alerts or k.last_ms is None:
            return None
        self._take(k, alerts)
        return self._line(key, k, max(to_ms(a.ts) for a in alerts), alerts[-1].id)

    def lines(self) -> list[str]:
        """Every container's last state point again (same time and content: idempotent)."""
        out = []
        for (site, container), k in self._kept.items():
            if k.doc and k.point_ms is not None:
                line = fill_state_line(site, container, k.doc, k.point_ms, k.source_id)
                out += [line] if line else []
        return out

    def snapshot(self, key: Key) -> dict[str, Any] | None:
        """One container's kept state as a JSON-able dict (None if nothing is kept)."""
        k = self._kept.get(key)
        return k.snapshot() if k is not None else None

    def restore(self, key: Key, doc: dict[str, Any]) -> None:
        """Take one container's state from `snapshot()`."""
        self._kept[key] = _Kept.restore(doc)

    def forget(self, key: Key) -> None:
        """Drop a container that left the registry."""
        self._kept.pop(key, None)

    def state(self, key: Key) -> FillState | None:
        """The state last written for a container."""
        k = self._kept.get(key)
        return FillState.model_validate_json(k.doc) if k is not None and k.doc else None

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _take(k: _Kept, alerts: tuple[ContainerAlert, ...] | list[ContainerAlert]) -> None:
        for a in alerts:
            if not a.active:
                k.alerts.pop(a.alert, None)
                continue
            k.alerts[a.alert] = KeptAlert(
                kind=a.alert,
                id=a.id,
                severity=a.severity,
                transition=a.transition,
                since_ms=to_ms(a.since),
                ts_ms=to_ms(a.ts),
                value=a.value,
                detail=a.detail,
            )

    def _line(self, key: Key, k: _Kept, ts_ms: int, source_id: str) -> str | None:
        doc = self._doc(k).model_dump_json()
        if doc == k.doc:
            return None
        k.doc, k.source_id = doc, source_id
        # never before the previous state point: the newest point must be the current state
        k.point_ms = ts_ms if k.point_ms is None else max(ts_ms, k.point_ms + 1)
        return fill_state_line(key[0], key[1], doc, k.point_ms, source_id)

    def _doc(self, k: _Kept) -> FillState:
        assert k.last_ms is not None
        m = k.model
        fit, rel = model_forecast(m, self.tz)
        level = m.level
        return FillState(
            last_ms=k.last_ms,
            quality=k.quality,
            overfull=k.overfull,
            temp_c=k.temp_c,
            battery_pct=k.battery_pct,
            battery_v=k.battery_v,
            level_pct=level[1] if level else None,
            level_ms=level[0] if level else None,
            rate_pct_per_day=fit.rate_pct_per_day if fit else None,
            r2=fit.r2 if fit else None,
            points=m.n,
            reliability=rel,
            rates=m.weekday_rates(),
            emptied_ms=m.emptied_ms,
            segment_ms=m.segment_ms,
            emptied_id=k.emptied_id,
            alerts=tuple(sorted(k.alerts.values(), key=lambda a: a.kind)),
        )
