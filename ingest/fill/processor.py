"""The `reading` processor: one ContainerTracker per (site, container), state kept in SQLite.

    registry (retained, RegistryWatcher) ─► specs per site; trackers keep their state on change
    reading ─► unknown container ────────► DeadLetter "unknown_container"
            ─► tracker.observe ─► state row saved ─► `fill` line + ContainerAlert / ContainerEvent
                              ─► keeper.observe (the board's kept state, ingest/fill/keeper.py)
    tick(now) ─► first tick after start: the last alert and event messages again (same ids),
                 and every `fill_state` point again (same time and content)
              ─► tracker.tick: offline, lid open too long, fire repeats, escalations
              ─► keeper: a `fill_state` point per container that changed; their state saved
    raise / clear / escalate ─► notifier (its own thread)

Ingest (ingest/service.py) writes the lines, publishes the messages with QoS 1, waits for the
PUBACK and only then acknowledges the reading. The tracker's state is saved before `process`
returns, so nothing acknowledged is missing from it and a redelivered reading is stale: a
restart never raises an open alert again. If ingest dies after the save and before the PUBACK,
the derived messages would be lost; so the first tick after a start publishes the last message
of every (container, alert kind) and the last event again. Same ids and times: the retained
topic and InfluxDB are unchanged by the replay. Alert and event points are written when these
messages come back through ingest's own subscription (ingest.points.to_lines).

A container that leaves the registry keeps its tracker, open alerts included, for
`LANDFILL_FILL_REGISTRY_GRACE_SECONDS` (counted in ticks): a registry that is briefly empty or
wrong (a bad retained message, a container deactivated and reactivated) forgets nothing. If it
does not come back in time, its open alerts are cleared ("removed from the registry") and its
state is dropped. Departed containers are kept in the state file, so a restart keeps them too.

Faults survived: readings before the registry (dead-lettered; the factory waits a little for
the retained registry at start), a missing or corrupt state file (logged, start fresh),
out-of-order and replayed readings. A container whose spec breaks a rule is left out of the
registry when it is decoded (landfill/fill/spec.py, logged): its readings are dead-lettered. A
reading or a tick that raises (a full disk under the state, a bug) leaves the tracker as last
saved: the reading is dead-lettered by ingest, the tick is tried again.
Per-container state lives in one process: with several workers on a shared subscription, run
the fill processor on one of them (see docs/sensors.md).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt

from ingest.fill.keeper import StateKeeper
from ingest.fill.tracker import ContainerTracker, Derived
from ingest.notify import Notifier
from ingest.pipeline import NOTHING, Output
from ingest.points import fill_line
from landfill.contract import (
    ROOT,
    ContainerAlert,
    ContainerEvent,
    ContainerReading,
    ContainerRegistry,
    DeadLetter,
    Message,
    PayloadError,
    Topics,
    decode,
    stable_id,
)
from landfill.fill.spec import ContainerSpec
from landfill.mqtt import connect_async, make_client
from landfill.settings import IngestSettings

__all__ = [
    "AlertSink",
    "FillProcessor",
    "FillRuntime",
    "RegistryWatcher",
    "start_fill",
]

log = logging.getLogger("landfill.ingest.fill")

NOTIFY_TRANSITIONS = frozenset({"raised", "cleared", "escalated"})
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS registry (site TEXT PRIMARY KEY, doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tracker (site TEXT, container TEXT, state TEXT NOT NULL,"
    " PRIMARY KEY (site, container))",
    "CREATE TABLE IF NOT EXISTS last_message (topic TEXT PRIMARY KEY, doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS departed (site TEXT, container TEXT, spec TEXT NOT NULL,"
    " PRIMARY KEY (site, container))",
    "CREATE TABLE IF NOT EXISTS kept (site TEXT, container TEXT, state TEXT NOT NULL,"
    " PRIMARY KEY (site, container))",
)


class AlertSink(Protocol):
    """Where alert transitions go (ingest.notify.Notifier)."""

    def submit(self, alert: ContainerAlert, spec: ContainerSpec | None) -> None:
        """Queue one alert for sending; never blocks."""


@dataclass
class Departed:
    """A container gone from its registry, waiting out the grace period with its tracker."""

    tracker: ContainerTracker
    spec: ContainerSpec
    since: datetime | None = None  # the first tick that saw it gone


class FillProcessor:
    """Fill levels, alerts and emptyings of every container ingest sees (ingest.pipeline)."""

    consumer = "ingest-fill"

    def __init__(
        self,
        state_path: Path | str = ":memory:",
        *,
        tz: tzinfo,
        notifier: AlertSink | None = None,
        data_clock: bool = False,
        registry_grace_s: float = 3600.0,
        keeper: StateKeeper | None = None,
    ) -> None:
        self.tz = tz  # collection days are local days in this zone (escalations)
        self.notifier = notifier
        self.data_clock = data_clock
        self.registry_grace = timedelta(seconds=registry_grace_s)
        self._lock = threading.RLock()  # the registry arrives on another thread
        self._specs: dict[tuple[str, str], ContainerSpec] = {}
        self._trackers: dict[tuple[str, str], ContainerTracker] = {}
        self._departed: dict[tuple[str, str], Departed] = {}
        self._logged: set[tuple[str, str]] = set()
        self._keeper = keeper or StateKeeper(tz)
        self._replay_pending = True
        self.latest_ts: datetime | None = None  # newest reading seen: the data's own clock
        if str(state_path) != ":memory:":
            Path(state_path).parent.mkdir(parents=True, exist_ok=True)
        self._db = self._open(state_path)

    # ---- ingest.pipeline.Processor ---------------------------------------------------------

    def process(self, msg: Message) -> Output:
        """A reading becomes its `fill` line and the alerts and events it causes."""
        if isinstance(msg, ContainerRegistry):
            self.use_registry(msg)
            return NOTHING
        if not isinstance(msg, ContainerReading):
            return NOTHING
        key = (msg.site, msg.container)
        with self._lock:
            tracker = self._trackers.get(key)
            if tracker is None:
                return Output(publish=[self._unknown(msg)])
            latest = self.latest_ts
            try:
                derived = tracker.observe(msg)
                if derived.point is None:
                    return NOTHING  # a replay or an older reading: already stored
                if self.latest_ts is None or msg.ts > self.latest_ts:
                    self.latest_ts = msg.ts
                messages: list[Message] = [*derived.alerts, *derived.events]
                self._save(key, tracker, messages)
            except Exception:
                self.latest_ts = latest
                self._reload(key)  # as last saved: for the state, this reading never came
                raise  # ingest dead-letters it with the reason
            self._keep(key, msg, derived)
        self._notify(derived.alerts)
        line = fill_line(msg, derived.point)
        return Output(lines=[line] if line else [], publish=messages)

    def tick(self, now: datetime) -> Output:
        """Replay the last messages once after a start, then run every tracker's timers."""
        out: list[Message] = []
        alerts: list[ContainerAlert] = []
        lines: list[str] = []
        with self._lock:
            if self._replay_pending:
                self._replay_pending = False
                out += self._last_messages()
                lines += self._keeper.lines()
            if self.data_clock and self.latest_ts is not None and self.latest_ts > now:
                now = self.latest_ts  # a simulator running faster than the wall clock
            for key, tracker in list(self._trackers.items()):
                alerts += self._tick_one(key, tracker, now)
            out += self._retire_departed(now)
            lines += self._keeper.flush()
            self._save_kept()
        self._notify(alerts)
        out += alerts
        return Output(lines=lines, publish=out) if out or lines else NOTHING

    def _tick_one(
        self, key: tuple[str, str], tracker: ContainerTracker, now: datetime
    ) -> list[ContainerAlert]:
        try:
            fired = tracker.tick(now)
            if fired:
                self._save(key, tracker, fired)
                self._keeper.alerts(key, fired)
            return fired
        except Exception as exc:  # noqa: BLE001 - one container never stops the others' timers
            if (key[1], type(exc).__name__) not in self._logged:
                self._logged.add((key[1], type(exc).__name__))
                log.exception("timers of %s/%s failed (logged once)", *key)
            self._reload(key)
            return []

    def _retire_departed(self, now: datetime) -> list[ContainerAlert]:
        """Clear the open alerts of containers gone from the registry for the grace period."""
        cleared: list[ContainerAlert] = []
        for key, gone in list(self._departed.items()):
            gone.since = gone.since or now
            if now - gone.since < self.registry_grace:
                continue
            before = gone.tracker.snapshot()
            alerts = gone.tracker.retire(now, "removed from the registry")
            try:
                with self._transaction() as db:
                    db.execute("DELETE FROM tracker WHERE site = ? AND container = ?", key)
                    db.execute("DELETE FROM departed WHERE site = ? AND container = ?", key)
                    self._remember(alerts)
            except BaseException:
                gone.tracker = self._tracker(key, gone.tracker.spec, before)  # try again later
                raise
            del self._departed[key]
            self._keeper.forget(key)
            log.info("%s/%s left the registry; %d alert(s) cleared", *key, len(alerts))
            if self.notifier is not None:
                for alert in alerts:
                    self.notifier.submit(alert, gone.spec)
            cleared += alerts
        return cleared

    # ---- registry -------------------------------------------------------------------------------

    def use_registry(self, registry: ContainerRegistry) -> None:
        """Take a site's registry; trackers of known containers keep their state."""
        with self._lock, self._transaction() as db:
            self._apply(registry, saved={})
            db.execute(
                "INSERT OR REPLACE INTO registry (site, doc) VALUES (?, ?)",
                (registry.site, registry.to_json().decode()),
            )

    def _apply(self, registry: ContainerRegistry, saved: dict[tuple[str, str], Any]) -> None:
        site = registry.site
        wanted: set[tuple[str, str]] = set()
        for spec in registry.containers:
            key = (site, spec.container)
            wanted.add(key)
            self._specs[key] = spec
            gone = self._departed.pop(key, None)
            if gone is not None:  # back within the grace period: nothing was forgotten
                self._db.execute("DELETE FROM departed WHERE site = ? AND container = ?", key)
            old = self._trackers.get(key) or (gone.tracker if gone else None)
            state = old.snapshot() if old is not None else saved.get(key)
            self._trackers[key] = self._tracker(key, spec, state)
        for key in [k for k in self._trackers if k[0] == site and k not in wanted]:
            # a gap or a removal: readings are dead-lettered, the alerts wait for the grace
            gone_spec = self._specs.pop(key)
            self._departed[key] = Departed(self._trackers.pop(key), gone_spec)
            self._db.execute(
                "INSERT OR REPLACE INTO departed (site, container, spec) VALUES (?, ?, ?)",
                (*key, gone_spec.model_dump_json()),
            )

    def _tracker(
        self, key: tuple[str, str], spec: ContainerSpec, state: dict[str, Any] | None
    ) -> ContainerTracker:
        try:
            if state:
                return ContainerTracker.restore(spec, state, self.tz)
            return ContainerTracker(spec, self.tz)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("state of %s/%s dropped: %s", *key, exc)
            return ContainerTracker(spec, self.tz)

    def _reload(self, key: tuple[str, str]) -> None:
        """Put a tracker back as it was last saved (its row; none: as new)."""
        spec = self._trackers[key].spec
        try:
            row = self._db.execute(
                "SELECT state FROM tracker WHERE site = ? AND container = ?", key
            ).fetchone()
        except sqlite3.Error as exc:
            log.error("state of %s/%s unreadable (%s); kept in memory", *key, exc)
            return
        self._trackers[key] = self._tracker(key, spec, json.loads(row[0]) if row else None)

    def has_registry(self) -> bool:
        """True once any site's registry is known (from the broker or the state file)."""
        with self._lock:
            return bool(self._specs)

    def containers(self, site: str) -> list[str]:
        """Containers tracked for a site."""
        with self._lock:
            return sorted(c for s, c in self._trackers if s == site)

    def open_alerts(self, site: str, container: str) -> frozenset[str]:
        """Alert kinds open on one container (also while it is gone from the registry)."""
        with self._lock:
            tracker = self._trackers.get((site, container))
            gone = self._departed.get((site, container))
            tracker = tracker or (gone.tracker if gone else None)
            return tracker.open_alerts if tracker is not None else frozenset()

    def close(self) -> None:
        """Save the kept states and close the state database."""
        with self._lock:
            self._save_kept()
            self._db.close()

    # ---- state ----------------------------------------------------------------------------------

    def _open(self, path: Path | str) -> sqlite3.Connection:
        """Open the state and load it; a file that is not our database is moved aside."""
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        try:
            self._load(db)
        except (sqlite3.DatabaseError, ValueError, KeyError, TypeError) as exc:
            db.close()
            aside = Path(f"{path}.unusable")
            log.warning("fill state %s unusable (%s); kept as %s, starting fresh", path, exc, aside)
            Path(path).replace(aside)
            db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._specs.clear()
            self._trackers.clear()
            self._departed.clear()
            self._keeper = StateKeeper(self._keeper.tz, self._keeper.rules)
            self._load(db)
        return db

    def _load(self, db: sqlite3.Connection) -> None:
        self._db = db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # a saved state survives a power cut
        for statement in _SCHEMA:
            db.execute(statement)
        registries = db.execute("SELECT doc FROM registry").fetchall()
        rows = db.execute("SELECT site, container, state FROM tracker").fetchall()
        latest = db.execute("SELECT value FROM meta WHERE key = 'latest_ts'").fetchone()
        saved = {(site, c): json.loads(state) for site, c, state in rows}
        self._load_kept(db)
        for (doc,) in registries:
            self._apply(ContainerRegistry.model_validate_json(doc), saved)
        for site, c, doc in db.execute("SELECT site, container, spec FROM departed").fetchall():
            spec = ContainerSpec.model_validate_json(doc)
            tracker = self._tracker((site, c), spec, saved.get((site, c)))
            self._departed[(site, c)] = Departed(tracker, spec)  # the grace starts again
        self.latest_ts = datetime.fromisoformat(latest[0]) if latest else None
        if self._trackers:
            log.info("fill state restored: %d containers", len(self._trackers))

    def _save(
        self, key: tuple[str, str], tracker: ContainerTracker, messages: Sequence[Message]
    ) -> None:
        """Save one tracker and its newest messages in one transaction."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO tracker (site, container, state) VALUES (?, ?, ?)",
                (key[0], key[1], json.dumps(tracker.snapshot())),
            )
            self._remember(messages)
            if self.latest_ts is not None:
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('latest_ts', ?)",
                    (self.latest_ts.isoformat(),),
                )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        db.execute("BEGIN")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite rolls back by itself after some errors (disk full)
                db.execute("ROLLBACK")
            raise

    def _remember(self, messages: Sequence[Message]) -> None:
        """Keep the newest message per topic, replayed once after a start (in a transaction)."""
        for m in messages:
            self._db.execute(
                "INSERT OR REPLACE INTO last_message (topic, doc) VALUES (?, ?)",
                (Topics(m.site).for_message(m), m.to_json().decode()),
            )

    def _load_kept(self, db: sqlite3.Connection) -> None:
        """The keeper's saved states; open alerts from the last messages (saved every reading)."""
        for site, c, state in db.execute("SELECT site, container, state FROM kept").fetchall():
            try:
                self._keeper.restore((site, c), json.loads(state))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("kept state of %s/%s dropped: %s", site, c, exc)
        self._keeper.resume([m for m in self._last_messages() if isinstance(m, ContainerAlert)])

    def _keep(self, key: tuple[str, str], msg: ContainerReading, derived: Derived) -> None:
        """Give the keeper a saved reading; its failure costs the board one level, not ingest."""
        try:
            self._keeper.observe(key, msg, derived)
        except Exception:  # noqa: BLE001 - the reading is saved and must be acknowledged
            if (key[1], "keeper") not in self._logged:
                self._logged.add((key[1], "keeper"))
                log.exception("kept state of %s/%s not updated (logged once)", *key)

    def _save_kept(self) -> None:
        """Save the kept states that changed since the last save, in one transaction.

        Once a tick, not with every reading: a crash loses at most a tick's worth of levels
        from the rate models (alerts come back from the last messages), and a reading costs
        no second row to write.
        """
        changed = self._keeper.changed()
        if not changed:
            return
        rows = [(s, c, json.dumps(doc)) for (s, c), doc in changed]
        try:
            with self._transaction() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO kept (site, container, state) VALUES (?, ?, ?)", rows
                )
        except Exception:  # noqa: BLE001 - the tick's alerts must go out; try at the next tick
            self._keeper.unsaved(key for key, _ in changed)
            if ("", "kept") not in self._logged:
                self._logged.add(("", "kept"))
                log.exception("kept states not saved (logged once); tried again each tick")

    def _last_messages(self) -> list[Message]:
        out: list[Message] = []
        for (doc,) in self._db.execute("SELECT doc FROM last_message ORDER BY topic"):
            kind = json.loads(doc).get("kind")
            model = ContainerAlert if kind == "alert" else ContainerEvent
            out.append(model.model_validate_json(doc))
        return out

    # ---- helpers --------------------------------------------------------------------------------

    def _notify(self, alerts: Iterable[ContainerAlert]) -> None:
        if self.notifier is None:
            return
        for alert in alerts:
            if alert.transition in NOTIFY_TRANSITIONS:
                self.notifier.submit(alert, self._specs.get((alert.site, alert.container)))

    def _unknown(self, reading: ContainerReading) -> DeadLetter:
        topic = Topics(reading.site).of(ContainerReading, container=reading.container)
        return DeadLetter(
            id=stable_id(topic, reading.id, "unknown_container"),  # a replay letters identically
            ts=reading.ts,
            site=reading.site,
            reason="unknown_container",
            topic=topic,
            payload=reading.to_json().decode(),
            consumer=self.consumer,
        )


class RegistryWatcher:
    """Follows the retained registry of every site on the broker and hands it to the processor.

    Ingest's own subscriptions carry contract data only (and a shared subscription would never
    receive a retained message), so the registry comes on a small client of its own.
    """

    def __init__(self, settings: IngestSettings, processor: FillProcessor) -> None:
        self.processor = processor
        self.received = threading.Event()
        self.subscribed = threading.Event()
        self.settings = settings
        self.client = make_client(settings.registry_url, f"{settings.ingest_client_id}-registry")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if not rc.is_failure:
            client.subscribe(f"{ROOT}/+/registry/containers", qos=1)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            message = decode(msg.topic, bytes(msg.payload))
        except PayloadError as exc:
            log.warning("registry on %s rejected: %s", msg.topic, exc)
            return
        if not isinstance(message, ContainerRegistry):
            return
        try:
            self.processor.use_registry(message)
        except Exception:  # a full disk under the state: keep following (paho would stop)
            log.exception("registry of %s not applied", message.site)
            return
        self.received.set()
        log.info("registry of %s: %d containers", message.site, len(message.containers))

    def start(self) -> None:
        """Connect in the background."""
        connect_async(self.client, self.settings.mqtt_url)

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class FillRuntime:
    """The fill processor as ingest runs it, with its registry watcher and notifier."""

    processor: FillProcessor
    watcher: RegistryWatcher
    notifier: Notifier

    def close(self) -> None:
        """Stop following the registry, stop notifying, close the state."""
        self.watcher.stop()
        self.notifier.stop()
        self.processor.close()


def start_fill(settings: IngestSettings) -> FillRuntime:
    """Open the state, start the notifier and the registry watcher; wait a little for it."""
    notifier = Notifier.from_settings(settings)
    processor = FillProcessor(
        settings.fill_state_path,
        tz=settings.tz,
        notifier=notifier,
        data_clock=settings.fill_data_clock,
        registry_grace_s=settings.fill_registry_grace_seconds,
    )
    watcher = RegistryWatcher(settings, processor)
    notifier.start()
    watcher.start()
    if not processor.has_registry():
        # the broker sends retained messages right after the SUBACK: wait for that, bounded
        deadline = time.monotonic() + settings.fill_registry_wait_seconds
        while not watcher.received.is_set() and time.monotonic() < deadline:
            if watcher.subscribed.wait(0.05):
                watcher.received.wait(min(0.5, max(0.0, deadline - time.monotonic())))
                break
        if not watcher.received.is_set():
            log.warning("no container registry yet; readings are dead-lettered until it comes")
    return FillRuntime(processor, watcher, notifier)
