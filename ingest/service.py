"""`landfill ingest`: broker to InfluxDB, at least once, acknowledged only after the write.

    paho network thread --Raw--> Backlog (bounded) --> batcher thread --Batch--> writer thread
      on_message: append         blocks when full      parse, validate,      write (retry, bisect
      (nothing else)             (TCP pushes back)     process, build lines   400s), publish derived
                                                       (by size and time)     (QoS 1, PUBACK), ack

The MQTT session is persistent (fixed client id, clean session off, QoS 1 subscriptions) and
paho acknowledges nothing by itself (`manual_ack`): a message is acknowledged only after the
InfluxDB write holding its points answered 2xx and the messages derived from it were PUBACKed.
Points carry the observation time, so a redelivered message overwrites itself.

Faults it survives:
- InfluxDB down or 5xx/429: the batch is retried with exponential backoff and full jitter,
  nothing is acknowledged; the backlog fills, the network thread stops reading and the broker
  keeps the rest. Logged once per outage.
- A point InfluxDB rejects (400): the batch is split in halves until the bad message is found;
  it goes to the dead-letter topic with InfluxDB's reason and is acknowledged; the rest is
  written. An invalid payload is dead-lettered with its reason the same way.
- Broker restart or network loss: paho reconnects and `on_connect` subscribes again. Messages
  received on an earlier connection are written but never acknowledged on the new one (their
  packet ids may have been reused); the broker redelivers them and the rewrite is idempotent.
- kill -9: nothing was acknowledged that is not in InfluxDB; the session redelivers the rest.
- 401/403 from InfluxDB: stop and say so; nothing is acknowledged.
- A message that cannot be handled for any reason (a time outside the calendar, a processor
  that raises, a full disk under the fill state): dead-lettered with the reason; the next one
  goes on. A time outside the window (`LANDFILL_TIME_AHEAD_SECONDS` after the receive time,
  `LANDFILL_TIME_BACK_DAYS` before it) is dead-lettered as `time_out_of_window`.
- Dead letters, ingest's own and the edge's, come back on the `deadletter` topic and are
  stored sampled and counted (ingest/dead_letters.py), so a flood of garbage costs a few points
  a minute. A dead letter that cannot be stored is dropped and counted, never dead-lettered
  again.
- A worker thread that still dies: logged, a last `ingest_stats` point says `fatal` (shown by
  `landfill ingest --status` and the API's `/health`), and the process exits 1 so the
  supervisor restarts it; nothing unwritten was acknowledged.
Graceful stop: take no more, write and acknowledge what was taken, disconnect (the
subscription stays in the session, so the broker queues for the next start).
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt

from ingest.backlog import Backlog
from ingest.dead_letters import DeadLetterStore
from ingest.fill.processor import start_fill
from ingest.pipeline import Processor, default_processors
from ingest.receive import Publish, SplittingClient
from ingest.stats import Stats, format_status, is_running, read_status
from landfill.contract import (
    MAX_RECEIPT_IDS,
    Capture,
    DeadLetter,
    Message,
    PayloadError,
    Receipt,
    Topics,
    decode,
    kind_of,
    parse_topic,
    stable_id,
    utcnow,
)
from landfill.dead_letters import source_of_topic
from landfill.influx import (
    FatalWriteError,
    InfluxStore,
    QueryError,
    RejectedWriteError,
    RetryableWriteError,
    backoff_delays,
    epoch_ms,
    wait_for_influx,
)
from landfill.lifecycle import setup_logging, wait_for_signal
from landfill.mqtt import ack_many, announce, connect_async, make_client
from landfill.options import add_options, build, command_parser
from landfill.settings import IngestSettings

log = logging.getLogger("landfill.ingest")

__all__ = ["Ingest", "main"]


@dataclass(slots=True)
class Raw:
    """A message as received, tagged with the connection it came on."""

    mid: int
    qos: int
    gen: int
    topic: str
    payload: bytes


@dataclass(slots=True)
class Item:
    """What one message (or a tick) becomes: lines to write, messages to publish, its ack."""

    raw: Raw | None
    lines: list[str]
    publish: list[Message] = field(default_factory=list)
    ts_ms: int | None = None
    capture: Capture | None = None  # a capture gets a receipt once its line is stored


class TimeWindow(NamedTuple):
    """The observation times believed for messages received now (docs/architecture.md)."""

    earliest: datetime
    latest: datetime


_DONE = None  # end of the batch stream
GC_YOUNG_ALLOCATIONS = 50_000  # gen0 threshold of the ingest process (`run`)


class Ingest:
    """Consumes contract messages and writes InfluxDB."""

    def __init__(
        self,
        settings: IngestSettings,
        processors: Mapping[str, Processor] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.topics = Topics(settings.site)
        self.node = settings.ingest_client_id
        self.clock = clock
        letters = DeadLetterStore(
            settings.ingest_client_id, clock, settings.ingest_dead_letters_per_minute
        )
        self.processors = default_processors({"dead_letter": letters, **(processors or {})})
        self.store = InfluxStore(
            settings.influx_url,
            settings.influx_db,
            settings.influx_username,
            settings.influx_password,
        )
        self.client = make_client(
            settings.mqtt_url,
            settings.ingest_client_id,
            clean_start=False,
            manual_ack=True,
            will=(self.topics, self.node),
            client_class=SplittingClient,
        )
        self.client.on_publishes = self._on_publishes  # type: ignore[attr-defined]
        self.client.publish_room = lambda: self.backlog.room()  # type: ignore[attr-defined]
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.subscribed = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.stats = Stats(settings.site, self.node)
        self.backlog: Backlog[Raw] = Backlog(
            settings.ingest_max_pending,
            settings.ingest_max_pending_bytes,
            weigh=lambda raw: len(raw.payload),
        )
        self._batches: queue.Queue[list[Item] | None] = queue.Queue(maxsize=1)
        self._in_process = 0  # messages taken from the backlog and not yet acknowledged
        self._gen = 0  # connection generation: acks only go to the connection a message came on
        self._ack_lock = threading.Lock()
        self._stopping = threading.Event()  # take no more messages
        self.stop_event = threading.Event()  # the process should end (signal or fatal)
        self._abandon = threading.Event()  # give up retrying; the broker keeps what is unacked
        self._batcher = self._worker("batcher", self._batch_loop)
        self._writer = self._worker("writer", self._write_loop)
        self._logged: set[tuple[str, ...]] = set()  # faults logged once, not once a message
        self._topics_by_site: dict[str, Topics] = {settings.site: self.topics}
        self.fatal: str | None = None

    @property
    def counters(self) -> Stats:
        """The worker's counters (received, written, acked, rejected:<reason>, retries ...)."""
        return self.stats

    # ---- network thread ----------------------------------------------------------------------

    def filters(self) -> list[str]:
        """Topic filters to subscribe, with the shared-subscription prefix when configured."""
        group = self.settings.ingest_shared_group
        base = self.topics.subscriptions()
        return [f"$share/{group}/{f}" for f in base] if group else base

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("broker refused the connection: %s", rc)
            return
        with self._ack_lock:
            self._gen += 1
        if self._gen > 1:
            self.stats.add("reconnects")
            log.info("reconnected (session present: %s)", flags.session_present)
        self.subscribed.clear()
        client.subscribe([(f, 1) for f in self.filters()])
        if self.settings.ingest_shared_group:
            # a session that once subscribed without the group would still get every message
            client.unsubscribe(self.topics.subscriptions())
        announce(client, self.topics, self.node)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, _rc: Any, _p: Any) -> None:
        self.subscribed.set()  # the broker now delivers to this session (readiness for tests)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self.subscribed.clear()
        if not self._stopping.is_set():
            log.warning("broker connection lost (%s); reconnecting", rc)

    def _on_publishes(self, batch: list[Publish]) -> None:
        """The publishes of one socket read (ingest/receive.py), in order, into the backlog."""
        gen = self._gen
        self._receive([Raw(p.mid, p.qos, gen, p.topic, p.payload) for p in batch])

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        # what paho still delivers itself (QoS 2, never subscribed to): the same way
        self._receive([Raw(msg.mid, msg.qos, self._gen, msg.topic, bytes(msg.payload))])

    def _receive(self, raws: list[Raw]) -> None:
        self.stats.received += len(raws)
        # blocks while the batcher is behind: back-pressure instead of unbounded memory
        while raws and not self._stopping.is_set():
            raws = raws[self.backlog.put_many(raws, timeout=0.5) :]
        if raws:
            # stopping: not acknowledged, so the broker delivers them again to the next session
            self.stats.add("left_for_next_session", len(raws))

    # ---- batcher thread ----------------------------------------------------------------------

    def _batch_loop(self) -> None:
        s = self.settings
        next_tick = next_stats = time.monotonic()
        while True:
            stopping = self._stopping.is_set()
            raws = self.backlog.take(s.ingest_batch_size, s.ingest_flush_seconds, idle=0.2)
            with self._ack_lock:
                self._in_process += len(raws)
            window = self.time_window()
            items = [self._parse(r, window) for r in raws]
            now = time.monotonic()
            if now >= next_tick:
                next_tick = now + s.ingest_tick_seconds
                items.extend(self._tick())
            if now >= next_stats:
                next_stats = now + s.ingest_stats_seconds
                items.append(self._stats_item())
            if items and not self._hand_over(items):
                return
            if stopping and not raws and not len(self.backlog):
                self._hand_over(_DONE)
                return

    def _hand_over(self, items: list[Item] | None) -> bool:
        while not self._abandon.is_set():
            try:
                self._batches.put(items, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def time_window(self) -> TimeWindow:
        """Times believed for a message received now: ahead and back of the clock."""
        now = self.clock()
        s = self.settings
        return TimeWindow(
            now - timedelta(days=s.time_back_days), now + timedelta(seconds=s.time_ahead_seconds)
        )

    def _parse(self, raw: Raw, window: TimeWindow) -> Item:
        """What one message becomes; whatever goes wrong dead-letters it, never the thread."""
        try:
            msg = decode(raw.topic, raw.payload)
        except PayloadError as exc:
            return self._rejected(raw, exc.reason, str(exc))
        except Exception as exc:  # noqa: BLE001 - a validator bug must not stop ingest
            return self._failed(raw, "invalid_payload", exc)
        kind = kind_of(msg)
        too_old = msg.ts < window.earliest and not kind.ledger
        if too_old or msg.ts > window.latest:
            return self._rejected(raw, "time_out_of_window", self._outside(msg.ts, window))
        processor = self.processors.get(kind.name)
        if processor is None:
            return Item(raw, [])
        try:
            out = processor.process(msg)
            capture = msg if isinstance(msg, Capture) else None
            return Item(raw, out.lines, list(out.publish), epoch_ms(msg.ts), capture)
        except Exception as exc:  # noqa: BLE001 - one message never stops ingest
            return self._failed(raw, "processor_error", exc)

    def _outside(self, ts: datetime, window: TimeWindow) -> str:
        # fixed text (no receive time in it): a redelivery dead-letters with the same id
        s = self.settings
        if ts > window.latest:
            return f"time_out_of_window: more than {s.time_ahead_seconds:g} s after receipt"
        return f"time_out_of_window: more than {s.time_back_days:g} days before receipt"

    def _failed(self, raw: Raw, code: str, exc: Exception) -> Item:
        key = (code, type(exc).__name__)
        if key not in self._logged:  # the traceback once per kind of fault, not per message
            self._logged.add(key)
            log.error("%s on %s (logged once)", code, raw.topic, exc_info=exc)
        return self._rejected(raw, code, f"{code}: {type(exc).__name__}: {exc}")

    def _tick(self) -> list[Item]:
        now = self.clock()
        items = []
        for processor in {id(p): p for p in self.processors.values()}.values():
            try:
                out = processor.tick(now)
            except Exception as exc:  # noqa: BLE001 - the next tick tries again
                self.stats.add("tick_errors")
                key = ("tick", type(processor).__name__, type(exc).__name__)
                if key not in self._logged:
                    self._logged.add(key)
                    log.error("tick of %s failed (logged once)", key[1], exc_info=exc)
                continue
            if out.lines or out.publish:
                items.append(Item(None, out.lines, list(out.publish)))
        return items

    def _stats_item(self) -> Item:
        with self._ack_lock:
            backlog = len(self.backlog) + self._in_process
        stats_line = self.stats.snapshot_line(epoch_ms(self.clock()), backlog)
        return Item(None, [stats_line] if stats_line else [])

    def _rejected(self, raw: Raw | None, code: str, reason: str) -> Item:
        self.stats.add(f"rejected:{code}")
        if raw is None:
            log.warning("dropped points of our own (tick or stats): %s", reason)
            return Item(None, [])
        site = raw.topic.split("/")[2] if raw.topic.count("/") >= 2 else ""
        try:
            topics = self._topics_for(site)
        except ValueError:
            topics = self.topics
        kind = parse_topic(raw.topic)
        if kind == "dead_letter":  # a letter that cannot be stored is dropped: no loop
            return self._dropped_letter(raw, code, reason)
        text = raw.payload[:65536].decode("utf-8", "replace")
        letter = DeadLetter(
            id=stable_id(raw.topic, text, reason),  # a redelivery dead-letters identically
            ts=self.clock(),
            site=topics.site,
            reason=reason,
            topic=raw.topic,
            payload=text,
            consumer=self.node,
            source=source_of_topic(raw.topic),
            refused_kind=kind or "",
        )
        key = (code, kind or "")  # a bounded set: reason and message kind
        if key not in self._logged:  # counted always, logged once (the dead letter has all)
            self._logged.add(key)
            log.warning("dead-lettered a message on %s: %s (logged once)", raw.topic, reason[:300])
        return Item(raw, [], [letter])

    def _dropped_letter(self, raw: Raw, code: str, reason: str) -> Item:
        """A dead letter ingest cannot store: counted, logged once, acknowledged, not resent."""
        self.stats.add("dead_letters_dropped")
        if ("dropped", code) not in self._logged:
            self._logged.add(("dropped", code))
            log.warning("dropped a dead letter on %s: %s (logged once)", raw.topic, reason[:300])
        return Item(raw, [])

    def _topics_for(self, site: str) -> Topics:
        topics = self._topics_by_site.get(site)
        if topics is None:
            topics = self._topics_by_site[site] = Topics(site)
        return topics

    # ---- writer thread -----------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            try:
                items = self._batches.get(timeout=0.5)
            except queue.Empty:
                if self._abandon.is_set():
                    return
                continue
            if items is _DONE:
                return
            try:
                done = self._write(items) and self._publish(items)
            except FatalWriteError as exc:
                log.critical("InfluxDB refuses our credentials: %s; stopping", exc.reason)
                self.fatal = exc.reason
                self._abandon.set()
                self.stop_event.set()
                return
            if not done:
                return  # abandoned while InfluxDB or the broker was away
            self._ack(items)
            self._send_receipts(items)

    def _write(self, items: list[Item]) -> bool:
        """Write the items' lines; dead-letter what InfluxDB rejects. False when abandoned."""
        carrying = [it for it in items if it.lines]
        if not carrying:
            return True
        lines = [ln for it in carrying for ln in it.lines]
        delays = backoff_delays(0.2, self.settings.ingest_retry_max_seconds)
        outage = False
        while True:
            try:
                self.store.write_lines(lines)
            except RetryableWriteError as exc:
                self.stats.add("retries")
                if not outage:
                    log.warning("InfluxDB write failed (%s); retrying, nothing is lost", exc.reason)
                    outage = True
                if self._abandon.wait(exc.retry_after or next(delays)):
                    return False
                continue
            except RejectedWriteError as exc:
                if len(carrying) == 1:
                    it = carrying[0]
                    rejected = self._rejected(it.raw, "influx_rejected", f"influx: {exc.reason}")
                    it.lines, it.ts_ms = [], None
                    it.publish.extend(rejected.publish)
                    return True
                half = len(carrying) // 2
                return self._write(carrying[:half]) and self._write(carrying[half:])
            if outage:
                log.info("InfluxDB is back; writing the backlog")
            self.stats.add("written", len(lines))
            now = epoch_ms(self.clock())
            self.stats.lag([now - it.ts_ms for it in carrying if it.ts_ms is not None])
            return True

    def _send_receipts(self, items: list[Item]) -> None:
        """Publish the receipts of a written batch (QoS 1) without waiting for the broker.

        Waiting would deadlock under back-pressure: while the backlog is full, paho's network
        thread blocks in `_on_message` and cannot read the PUBACK. A receipt that is lost only
        makes the edge send its capture again later, which stores nothing twice.
        """
        for m in self._receipts(items).publish:
            self.client.publish(self._topics_for(m.site).for_message(m), m.to_json(), qos=1)
            self.stats.add("receipts")

    def _receipts(self, items: list[Item]) -> Item:
        """Receipts for the captures whose lines InfluxDB stored, one per scale (and chunk).

        The edge keeps a capture in its outbox until this receipt comes, so a broker that
        loses a message it acknowledged (a power cut before its autosave) loses no weighing.
        """
        stored: dict[tuple[str, str], list[str]] = {}
        for it in items:
            if it.capture is not None and it.lines:  # a rejected item's lines were emptied
                stored.setdefault((it.capture.site, it.capture.scale), []).append(it.capture.id)
        now = self.clock()
        receipts: list[Message] = [
            Receipt(ts=now, site=site, scale=scale, ids=ids[i : i + MAX_RECEIPT_IDS])
            for (site, scale), ids in stored.items()
            for i in range(0, len(ids), MAX_RECEIPT_IDS)
        ]
        return Item(None, [], receipts)

    def _publish(self, items: list[Item]) -> bool:
        """Publish derived messages and dead letters (QoS 1); True once the broker has them."""
        infos = []
        for it in items:
            for m in it.publish:
                topic = self._topics_for(m.site).for_message(m)
                retain = kind_of(m).retained
                infos.append(self.client.publish(topic, m.to_json(), qos=1, retain=retain))
                kind = "dead_letters" if isinstance(m, DeadLetter) else "published"
                self.stats.add("receipts" if isinstance(m, Receipt) else kind)
        for info in infos:
            # paho keeps QoS 1 messages of a persistent session and resends after a reconnect
            while info.rc == mqtt.MQTT_ERR_SUCCESS and not info.is_published():
                if self._abandon.is_set():
                    return False
                info.wait_for_publish(0.5)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                # not connected at publish time: the sources come again on the next connection
                log.warning("could not publish a derived message now (%s)", info.rc)
        return True

    def _ack(self, items: list[Item]) -> None:
        mids: list[int] = []
        stale = 0
        with self._ack_lock:
            for it in items:
                raw = it.raw
                if raw is None:
                    continue
                self._in_process -= 1
                if raw.qos == 0:
                    continue
                if raw.gen == self._gen:
                    mids.append(raw.mid)
                else:
                    stale += 1
            ack_many(self.client, mids)
        self.stats.add("acked", len(mids))
        if stale:
            self.stats.add("not_acked_stale_connection", stale)

    # ---- lifecycle ---------------------------------------------------------------------------

    def _worker(self, name: str, loop: Callable[[], None]) -> threading.Thread:
        def run() -> None:
            try:
                loop()
            except BaseException as exc:  # noqa: BLE001 - reported, then the process ends
                self.die(f"{name} thread died: {type(exc).__name__}: {exc}", exc)

        return threading.Thread(target=run, name=name, daemon=True)

    def die(self, reason: str, exc: BaseException | None = None) -> None:
        """A thread ended that must not: say so (log, `ingest_stats`), then end the process.

        Nothing more is acknowledged; the broker redelivers what was not, after the supervisor
        (systemd, compose, `landfill run`) restarted ingest.
        """
        log.critical("%s; stopping so that ingest is restarted", reason, exc_info=exc)
        self.fatal = reason
        self._abandon.set()
        self.stop_event.set()
        s = self.settings
        store = InfluxStore(s.influx_url, s.influx_db, s.influx_username, s.influx_password, 5.0)
        try:
            stats_line = self.stats.snapshot_line(epoch_ms(self.clock()), 0, fatal=reason)
            store.write_lines([stats_line] if stats_line else [])
        except Exception as write_exc:  # noqa: BLE001 - the log above already says it
            log.warning("could not record the stop in ingest_stats: %s", write_exc)
        finally:
            store.close()

    def start(self) -> None:
        """Wait for InfluxDB (retrying), then connect to the broker and start writing."""
        wait_for_influx(self.store, log, self._abandon)
        if self._abandon.is_set():
            return
        self._batcher.start()
        self._writer.start()
        connect_async(self.client, self.settings.mqtt_url)

    def stop(self, timeout: float = 10.0) -> None:
        """Take no more, write and acknowledge what was taken, disconnect."""
        self._stopping.set()
        self.backlog.hurry()
        if self._writer.is_alive():
            self._writer.join(timeout)
        self._abandon.set()  # InfluxDB still down: leave the rest unacknowledged
        for thread in (self._writer, self._batcher):
            if thread.is_alive():
                thread.join(2.0)
        self.client.disconnect()
        self.client.loop_stop()
        self.store.close()


DESCRIPTION = """\
Consume contract messages and write them to InfluxDB; a message is acknowledged only after
InfluxDB stored it. With --status, print every worker's latest counters instead."""


def build_parser() -> argparse.ArgumentParser:
    """The options of `landfill ingest`, from `IngestSettings`, and `--status`."""
    parser = command_parser("ingest", DESCRIPTION)
    parser.add_argument(
        "--status",
        action="store_true",
        help="print every worker's latest ingest_stats; exit 1 unless one runs (recent, no fatal)",
    )
    add_options(parser, IngestSettings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill ingest`: run until interrupted, or `--status`: print the workers' counters."""
    args = build_parser().parse_args(argv)
    settings = build(IngestSettings, args)
    if args.status:
        return print_status(settings)
    setup_logging(settings.log_level)
    return run(settings)


def print_status(settings: IngestSettings) -> int:
    """Print each worker's newest stats; 0 when one runs (recent, no fatal stop), else 1."""
    store = InfluxStore(
        settings.influx_url, settings.influx_db, settings.influx_username, settings.influx_password
    )
    try:
        rows = read_status(store, settings.site)
    except QueryError as exc:
        raise SystemExit(f"ingest status: {exc}") from None
    finally:
        store.close()
    now = epoch_ms(utcnow())
    print(format_status(rows, now))  # noqa: T201 - the status is this command's output
    return 0 if is_running(rows, now, settings.ingest_stats_seconds) else 1


def run(settings: IngestSettings) -> int:
    """Run ingest until interrupted or a thread dies (exit 1); SIGUSR1 dumps every stack."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    # the cyclic GC's young generation: at Python's default (700 allocations) its passes, which
    # reach the backlog and batches in flight, cost ~6 us a message; messages make no cycles
    gc.set_threshold(GC_YOUNG_ALLOCATIONS, *gc.get_threshold()[1:])
    fill = start_fill(settings)  # container fill levels and alerts (ingest/fill/processor.py)
    ingest = Ingest(settings, processors={"reading": fill.processor})
    previous = threading.excepthook

    def thread_died(args: threading.ExceptHookArgs) -> None:
        # paho's network threads, the registry watcher, the notifier: none may die silently
        name = args.thread.name if args.thread is not None else "a"
        reason = f"{name} thread died: {args.exc_type.__name__}: {args.exc_value}"
        ingest.die(reason, args.exc_value)

    threading.excepthook = thread_died
    starter = threading.Thread(target=ingest.start, name="start")
    starter.start()
    try:
        wait_for_signal(done=ingest.stop_event.is_set)
        ingest.stop()
        fill.close()
        starter.join(5)
    finally:
        threading.excepthook = previous
    return 1 if ingest.fatal else 0
