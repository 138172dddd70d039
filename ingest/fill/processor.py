"""Readings to fill points, alerts and emptyings: one ContainerTracker per (site, container).

    registry (retained) ─► specs per site; trackers keep their state when a spec changes
    reading ─► unknown container ──────────────────► DeadLetter "unknown_container"
            ─► tracker.observe ─► `fill` point (ingest.points) + ContainerAlert / ContainerEvent
    tick(now) ─► tracker.tick: offline, lid open too long, fire repeats, escalations
    commit() ─► state file (JSON, atomic) ─► raise/clear/escalate handed to the notifier

The caller publishes the derived messages, then calls ``commit()``, then acknowledges the
source message. A crash before the commit replays the reading against the old state and
derives the same messages with the same ids; after it, the reading is stale and ignored. So a
restart never raises an open alert again. Alert and event points are written when the
published messages come back through ingest's own subscription (ingest.points.to_points).

Faults survived: readings before the registry, specs the tracker refuses (logged, treated as
unknown), a missing or corrupt state file (logged, start fresh), out-of-order readings.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ingest.fill.geometry import ContainerSpec
from ingest.fill.tracker import ContainerTracker
from ingest.points import fill_point
from landfill.contract import (
    ROOT,
    ContainerAlert,
    ContainerReading,
    ContainerRegistry,
    ContainerSpecPublic,
    DeadLetter,
    Message,
    Topics,
)
from landfill.influx import Point

__all__ = ["AlertSink", "FillProcessor", "spec_from_public"]

log = logging.getLogger("landfill.ingest.fill")

_STATE_VERSION = 1
NOTIFY_TRANSITIONS = frozenset({"raised", "cleared", "escalated"})


class AlertSink(Protocol):
    """Where committed alert transitions go (ingest.notify.Notifier)."""

    def submit(self, alert: ContainerAlert, spec: ContainerSpecPublic | None) -> None:
        """Queue one alert for sending; never blocks."""


def spec_from_public(public: ContainerSpecPublic) -> ContainerSpec:
    """The tracker's spec from the registry's; raises ValueError on impossible geometry."""
    return ContainerSpec(
        container=public.container,
        zone=public.zone,
        volume_m3=public.volume_m3,
        empty_mm=public.empty_mm,
        full_mm=public.full_mm,
        full_pct=public.full_pct,
        clear_pct=public.clear_pct,
        expected_interval_s=public.expected_interval_s,
        collection_weekdays=tuple(public.collection_weekdays),
        lat=public.lat,
        lon=public.lon,
    )


class FillProcessor:
    """Holds the trackers of every container ingest sees; thread-safe."""

    consumer = "ingest-fill"

    def __init__(
        self,
        state_path: Path | None = None,
        *,
        notifier: AlertSink | None = None,
    ) -> None:
        self.state_path = state_path
        self.notifier = notifier
        self._lock = threading.RLock()
        self._registries: dict[str, ContainerRegistry] = {}
        self._public: dict[tuple[str, str], ContainerSpecPublic] = {}
        self._trackers: dict[tuple[str, str], ContainerTracker] = {}
        self._to_notify: list[ContainerAlert] = []
        self._dirty = False
        self.latest_ts: datetime | None = None  # newest reading seen: the data's own clock
        self._load()

    # ---- the processor interface of ingest.service -------------------------------------------

    def filters(self) -> list[str]:
        """Extra topic filters: the retained registry of every site (never shared: retained)."""
        return [f"{ROOT}/+/registry/containers"]

    def handle(self, message: Message) -> tuple[list[Point], list[Message]]:
        """Consult the processor about one contract message."""
        if isinstance(message, ContainerRegistry):
            self.use_registry(message)
            return [], []
        if isinstance(message, ContainerReading):
            return self.process(message)
        return [], []

    def process(self, reading: ContainerReading) -> tuple[list[Point], list[Message]]:
        """Derive the fill point and the alert and emptying messages of one reading."""
        key = (reading.site, reading.container)
        with self._lock:
            tracker = self._trackers.get(key)
            if tracker is None:
                return [], [self._unknown(reading)]
            derived = tracker.observe(reading)
            if derived.point is None:
                return [], []  # a replay or an older reading: already stored
            self._dirty = True
            if self.latest_ts is None or reading.ts > self.latest_ts:
                self.latest_ts = reading.ts
            self._remember(derived.alerts)
            messages: list[Message] = [*derived.alerts, *derived.events]
            return [fill_point(reading, derived.point)], messages

    def tick(self, now: datetime) -> list[Message]:
        """Run every tracker's timers (offline and the rest) at ``now``."""
        out: list[Message] = []
        with self._lock:
            for tracker in self._trackers.values():
                alerts = tracker.tick(now)
                if alerts:
                    self._dirty = True
                    self._remember(alerts)
                    out += alerts
        return out

    def commit(self) -> None:
        """Persist the state and notify: call after the derived messages were published."""
        with self._lock:
            if self._dirty:
                self._save()
                self._dirty = False
            pending, self._to_notify = self._to_notify, []
            specs = {k: self._public.get((a.site, a.container)) for k, a in enumerate(pending)}
        if self.notifier is not None:
            for k, alert in enumerate(pending):
                self.notifier.submit(alert, specs[k])

    def close(self) -> None:
        """Save what is not saved yet."""
        self.commit()

    # ---- registry -------------------------------------------------------------------------------

    def use_registry(self, registry: ContainerRegistry) -> None:
        """Take a site's registry; trackers of known containers keep their state."""
        with self._lock:
            self._apply(registry)
            # not dirty: the registry is retained on the broker; it is saved with the next
            # tracker change, so an ingest that only sees registries writes no state file

    def _apply(self, registry: ContainerRegistry, saved: dict[str, Any] | None = None) -> None:
        site = registry.site
        self._registries[site] = registry
        wanted: set[tuple[str, str]] = set()
        for public in registry.containers:
            key = (site, public.container)
            try:
                spec = spec_from_public(public)
            except ValueError as exc:
                log.warning("container %s/%s not tracked: %s", site, public.container, exc)
                continue
            wanted.add(key)
            self._public[key] = public
            old = self._trackers.get(key)
            state = old.snapshot() if old is not None else (saved or {}).get(_state_key(key))
            try:
                self._trackers[key] = (
                    ContainerTracker.restore(spec, state) if state else ContainerTracker(spec)
                )
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("state of %s/%s dropped: %s", site, public.container, exc)
                self._trackers[key] = ContainerTracker(spec)
        for key in [k for k in self._trackers if k[0] == site and k not in wanted]:
            del self._trackers[key]  # removed from the registry: its readings are dead-lettered
            self._public.pop(key, None)

    def containers(self, site: str) -> list[str]:
        """Containers tracked for a site."""
        with self._lock:
            return sorted(c for s, c in self._trackers if s == site)

    def open_alerts(self, site: str, container: str) -> frozenset[str]:
        """Alert kinds open on one container."""
        with self._lock:
            tracker = self._trackers.get((site, container))
            return tracker.open_alerts if tracker is not None else frozenset()

    # ---- helpers --------------------------------------------------------------------------------

    def _remember(self, alerts: Iterable[ContainerAlert]) -> None:
        self._to_notify += [a for a in alerts if a.transition in NOTIFY_TRANSITIONS]

    def _unknown(self, reading: ContainerReading) -> DeadLetter:
        return DeadLetter(
            ts=reading.ts,
            site=reading.site,
            reason="unknown_container",
            topic=Topics(reading.site).reading(reading.container),
            payload=reading.to_json().decode(),
            consumer=self.consumer,
        )

    def _load(self) -> None:
        if self.state_path is None:
            return
        try:
            doc = json.loads(self.state_path.read_bytes())
            if doc.get("v") != _STATE_VERSION:
                raise ValueError(f"state version {doc.get('v')!r}")
            registries = [ContainerRegistry.model_validate(r) for r in doc["registries"]]
            trackers = doc["trackers"]
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("fill state %s unusable (%s); starting fresh", self.state_path, exc)
            return
        for registry in registries:
            self._apply(registry, trackers)
        latest = doc.get("latest_ts")
        self.latest_ts = datetime.fromisoformat(latest) if latest else None
        log.info("fill state restored: %d containers", len(self._trackers))

    def _save(self) -> None:
        if self.state_path is None:
            return
        doc = {
            "v": _STATE_VERSION,
            "latest_ts": self.latest_ts.isoformat() if self.latest_ts else None,
            "registries": [r.model_dump(mode="json") for r in self._registries.values()],
            "trackers": {_state_key(k): t.snapshot() for k, t in self._trackers.items()},
        }
        path = self.state_path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


def _state_key(key: tuple[str, str]) -> str:
    return f"{key[0]}/{key[1]}"
