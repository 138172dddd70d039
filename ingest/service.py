"""`landfill ingest`: broker to InfluxDB, at least once, acknowledged only after the write.

The MQTT session is persistent (fixed client id, clean session off, QoS 1 subscriptions) and
paho acknowledges nothing by itself (`manual_ack`). The network thread only queues messages;
a writer thread parses, batches by size and time, writes, and only then acknowledges. The
queue is bounded: when InfluxDB is slow the network thread blocks, the broker keeps the rest.

Faults: an invalid payload goes to the dead-letter topic with its reason and is acknowledged;
a batch InfluxDB rejects (400) is split to find the bad points, which are dead-lettered, the
rest written; InfluxDB down is retried with backoff and jitter, nothing acknowledged meanwhile.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import paho.mqtt.client as mqtt

from ingest.fill.processor import FillProcessor
from ingest.notify import Notifier
from ingest.points import to_points
from landfill.contract import (
    QOS,
    RETAINED,
    DeadLetter,
    Message,
    PayloadError,
    Topics,
    decode,
    utcnow,
)
from landfill.influx import (
    FatalWriteError,
    InfluxStore,
    Point,
    RejectedWriteError,
    RetryableWriteError,
    backoff_delays,
    to_line,
    wait_for_influx,
)
from landfill.lifecycle import wait_for_signal
from landfill.mqtt import announce, connect_async, make_client
from landfill.settings import IngestSettings

log = logging.getLogger("landfill.ingest")


@dataclass
class Item:
    """One received message and what it becomes."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    lines: list[str]
    derived: list[Message] = field(default_factory=list)


# ---- processors (issue 5): derive messages from messages -------------------------------------
# Each processor is consulted for every valid message: it returns extra points to write with
# it and derived messages, which are published (QoS 1) after the write and before the source
# message is acknowledged; then `commit()` persists its state. A tick thread runs its timers.


class Processor(Protocol):
    """What ingest asks of a processor (ingest.fill.processor.FillProcessor is one)."""

    def filters(self) -> list[str]:
        """Extra topic filters to subscribe, never shared (retained messages)."""

    def handle(self, message: Message) -> tuple[list[Point], list[Message]]:
        """Points to write with the message and derived messages to publish."""

    def tick(self, now: datetime) -> list[Message]:
        """Messages that are due at ``now`` (timers)."""

    def commit(self) -> None:
        """Persist state once the derived messages are published."""


class Ingest:
    """Consumes contract messages and writes InfluxDB."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.topics = Topics(settings.site)
        self.node = settings.ingest_client_id
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
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue(settings.ingest_max_pending)
        self.stop_event = threading.Event()
        self.counters: Counter[str] = Counter()
        self._writer = threading.Thread(target=self._write_loop, name="writer", daemon=True)
        self.fatal: str | None = None
        self.notifier = Notifier.from_settings(settings)
        self.fill = FillProcessor(settings.fill_state_path, notifier=self.notifier)
        self.processors: list[Processor] = [self.fill]
        self.clock: Callable[[], datetime] = utcnow  # tests move time for the timers
        self._ticker = threading.Thread(target=self._tick_loop, name="tick", daemon=True)
        self._abandon = False  # set when stopping: give up retrying, leave the rest unacked

    # ---- network thread ----------------------------------------------------------------------

    def filters(self) -> list[str]:
        """Topic filters to subscribe, with the shared-subscription prefix when configured."""
        group = self.settings.ingest_shared_group
        base = self.topics.subscriptions()
        shared = [f"$share/{group}/{f}" for f in base] if group else base
        return shared + [f for p in self.processors for f in p.filters()]

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("broker refused the connection: %s", rc)
            return
        client.subscribe([(f, 1) for f in self.filters()])
        announce(client, self.topics, self.node)
        log.info("subscribed to %d filters", len(self.filters()))

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if not self.stop_event.is_set():
            log.warning("broker connection lost (%s); reconnecting", rc)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.counters["received"] += 1
        # blocks when the writer is behind: back-pressure instead of unbounded memory
        while not self.stop_event.is_set():
            try:
                self.inbox.put(msg, timeout=0.5)
                return
            except queue.Full:
                continue

    # ---- writer thread -----------------------------------------------------------------------

    def _parse(self, msg: mqtt.MQTTMessage) -> Item | None:
        try:
            payload = bytes(msg.payload)
            message = decode(msg.topic, payload)
            points = to_points(message)
        except PayloadError as exc:
            self._dead_letter(msg.topic, bytes(msg.payload), str(exc))
            self._ack(msg.mid, msg.qos)
            return None
        derived: list[Message] = []
        for processor in self.processors:
            try:
                more, messages = processor.handle(message)
            except Exception:  # a processor bug must not stop the stream; the message is kept
                self.counters["processor_error"] += 1
                log.exception("processor %s failed on %s", type(processor).__name__, msg.topic)
                continue
            points += more
            derived += messages
        return Item(msg.mid, msg.qos, msg.topic, payload, [to_line(p) for p in points], derived)

    def _ack(self, mid: int, qos: int) -> None:
        if qos > 0:
            self.client.ack(mid, qos)

    def _dead_letter(self, topic: str, payload: bytes, reason: str) -> None:
        self.counters[f"rejected:{reason.split(':')[0]}"] += 1
        dl = DeadLetter(
            ts=utcnow(),
            site=self.settings.site,
            reason=reason,
            topic=topic,
            payload=payload[:65536].decode("utf-8", "replace"),
            consumer=self.node,
        )
        self.client.publish(self.topics.dead_letter(), dl.to_json(), qos=1)
        log.warning("dead-lettered a message on %s: %s", topic, reason)

    def _collect(self) -> list[Item]:
        batch: list[Item] = []
        deadline = time.monotonic() + self.settings.ingest_flush_seconds
        while len(batch) < self.settings.ingest_batch_size:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                break
            try:
                msg = self.inbox.get(timeout=timeout)
            except queue.Empty:
                break
            item = self._parse(msg)
            if item is not None:
                batch.append(item)
        return batch

    def _write(self, items: list[Item]) -> None:
        """Write items until InfluxDB took them; dead-letter the ones it rejects."""
        delays = backoff_delays(0.5, 30.0)
        warned = False
        while True:
            try:
                self.store.write_lines([line for it in items for line in it.lines])
                if warned:
                    log.info("InfluxDB is back; backlog written")
                break
            except RetryableWriteError as exc:
                self.counters["retries"] += 1
                if not warned:
                    log.warning("InfluxDB write failed (%s); retrying, nothing is lost", exc.reason)
                    warned = True
                if self.stop_event.wait(exc.retry_after or next(delays)) and self._abandon:
                    return  # shutting down with InfluxDB still down: the broker keeps these
            except RejectedWriteError as exc:
                if len(items) == 1:
                    it = items[0]
                    self._dead_letter(it.topic, it.payload, f"influx_rejected: {exc.reason}")
                    self._ack(it.mid, it.qos)
                    return
                half = len(items) // 2
                self._write(items[:half])
                self._write(items[half:])
                return
        self.counters["written"] += sum(len(it.lines) for it in items)
        self._publish_derived([m for it in items for m in it.derived])
        for it in items:
            self._ack(it.mid, it.qos)

    def _publish_derived(self, messages: list[Message]) -> None:
        """Publish derived messages (QoS 1, waiting for the broker), then commit processors."""
        infos = []
        for m in messages:
            kind = m.kind  # type: ignore[attr-defined]
            topic = Topics(m.site).for_message(m)
            infos.append(self.client.publish(topic, m.to_json(), QOS[kind], kind in RETAINED))
            self.counters[f"derived:{kind}"] += 1
        for info in infos:
            try:
                info.wait_for_publish(5.0)
            except (RuntimeError, ValueError):
                pass  # not connected: paho keeps QoS 1 messages and sends them on reconnect
        for processor in self.processors:
            processor.commit()

    def _tick_loop(self) -> None:
        while not self.stop_event.wait(self.settings.fill_tick_seconds):
            if self.inbox.qsize() > 100:
                continue  # catching up on a backlog: its readings are not late, ingest is
            now = self.clock()
            if self.settings.fill_data_clock and self.fill.latest_ts and self.fill.latest_ts > now:
                now = self.fill.latest_ts  # a simulator running faster than the wall clock
            self._publish_derived([m for p in self.processors for m in p.tick(now)])

    def _write_loop(self) -> None:
        while not (self.stop_event.is_set() and self.inbox.empty()):
            batch = self._collect()
            if not batch:
                continue
            try:
                self._write(batch)
            except FatalWriteError as exc:
                log.critical("InfluxDB refuses our credentials: %s; stopping", exc.reason)
                self.fatal = exc.reason
                self._abandon = True
                self.stop_event.set()
                return

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Wait for InfluxDB (retrying), then connect to the broker and start writing."""
        wait_for_influx(self.store, log, self.stop_event)
        if self.stop_event.is_set():
            return
        self._writer.start()
        self.notifier.start()
        self._ticker.start()
        connect_async(self.client, self.settings.mqtt_url)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, flush what was taken, acknowledge it, disconnect."""
        self.client.unsubscribe(self.filters())
        self.stop_event.set()
        if self._writer.is_alive():
            self._writer.join(timeout)
            self._abandon = True
            self._writer.join(2.0)
        if self._ticker.is_alive():
            self._ticker.join(2.0)
        self.client.disconnect()
        self.client.loop_stop()
        self.notifier.stop()
        self.store.close()


def main(settings: IngestSettings) -> int:
    """Run ingest until interrupted."""
    ingest = Ingest(settings)
    starter = threading.Thread(target=ingest.start, name="start")
    starter.start()
    wait_for_signal(done=ingest.stop_event.is_set)
    ingest.stop()
    starter.join(5)
    return 1 if ingest.fatal else 0
