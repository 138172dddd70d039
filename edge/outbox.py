"""Durable outbox: a message is in SQLite before it is published and leaves only on PUBACK.

SQLite in WAL mode with `synchronous=FULL`, so a committed `put` survives a power cut or a
kill -9. The publisher thread sends pending rows in insertion order with a bounded in-flight
window; after a reconnect or a restart everything not yet acknowledged is sent again with the
same payload, so the same ids (at least once; storage downstream is idempotent by id and
timestamp, and a consumer that counts dedupes by id).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from landfill.contract import Message, Topics, kind_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One stored message."""

    seq: int
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Outbox:
    """SQLite-backed FIFO of messages waiting for the broker's acknowledgement."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS outbox ("
                " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " topic TEXT NOT NULL, payload BLOB NOT NULL,"
                " qos INTEGER NOT NULL, retain INTEGER NOT NULL)"
            )

    def put(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        """Store a message durably and return its sequence number."""
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO outbox (topic, payload, qos, retain) VALUES (?, ?, ?, ?)",
                (topic, payload, qos, int(retain)),
            )
            return int(cur.lastrowid or 0)

    def pending(self, after: int = 0, limit: int = 100) -> list[Entry]:
        """Return up to ``limit`` stored messages with seq > ``after``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload, qos, retain FROM outbox WHERE seq > ?"
                " ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [Entry(r[0], r[1], bytes(r[2]), r[3], bool(r[4])) for r in rows]

    def remove(self, seq: int) -> None:
        """Forget a message the broker acknowledged."""
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class OutboxPublisher:
    """Sends an outbox to the broker in order and deletes rows when the broker acknowledges.

    paho keeps unacknowledged QoS 1 messages in memory and resends them by itself after a
    reconnect, and it queues what is published while disconnected. The outbox is the one
    source of truth instead: on every connect paho's queue is dropped (`drop_out_messages`)
    and every row still in the outbox is published again from the oldest, so nothing is sent
    twice by two mechanisms and the order holds. Each connection has a generation number;
    bookkeeping from a publish that raced a reconnect is thrown away, and the mid -> seq map
    is cleared, so a mid paho reuses can never acknowledge the wrong row.
    """

    def __init__(self, outbox: Outbox, client: mqtt.Client, topics: Topics, window: int = 100):
        self.outbox = outbox
        self.client = client
        self.topics = topics
        self.window = window
        self._cond = threading.Condition()
        self._inflight: dict[int, int] = {}  # paho mid -> outbox seq, this connection only
        self._early: set[int] = set()  # mids acknowledged before we recorded them
        self._generation = 0
        self._last_sent = 0
        self._connected = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        client.on_publish = self._on_publish

    def start(self) -> None:
        """Start the sending thread."""
        self._thread.start()

    def submit(self, msg: Message) -> int:
        """Store a contract message durably, then wake the sender."""
        kind = kind_of(msg)
        seq = self.outbox.put(self.topics.for_message(msg), msg.to_json(), kind.qos, kind.retained)
        with self._cond:
            self._cond.notify()
        return seq

    def on_connect(self) -> None:
        """Call first in the client's on_connect: resend everything not yet acknowledged."""
        # runs in paho's loop thread before paho resends its own queue: drop that queue, the
        # outbox has every row it held (paho's queue is not ours to trust across reconnects)
        dropped = self.client.drop_out_messages()
        with self._cond:
            self._generation += 1
            self._connected = True
            self._inflight.clear()
            self._early.clear()
            self._last_sent = 0
            self._cond.notify()
        if dropped:
            log.info("dropped %d message(s) paho held; resending from the outbox", len(dropped))

    def on_disconnect(self) -> None:
        """Call from the client's on_disconnect."""
        with self._cond:
            self._connected = False
            self._generation += 1

    def _on_publish(self, _c: Any, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        # paho calls this holding its own mutex: never call into paho from here
        with self._cond:
            seq = self._inflight.pop(mid, None)
            if seq is None:
                self._early.add(mid)  # the ack beat the bookkeeping in _run
            else:
                self.outbox.remove(seq)
            self._cond.notify()

    def _next_batch(self) -> tuple[int, list[Entry]] | None:
        with self._cond:
            while not self._stop and (not self._connected or len(self._inflight) >= self.window):
                self._cond.wait(0.5)
            if self._stop:
                return None
            generation = self._generation
            entries = self.outbox.pending(self._last_sent, self.window - len(self._inflight))
            if not entries:
                self._cond.wait(0.5)
            return generation, entries

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            generation, entries = batch
            for e in entries:
                # publish outside our lock: paho's on_publish takes paho's mutex, then ours
                info = self.client.publish(e.topic, e.payload, qos=e.qos, retain=e.retain)
                with self._cond:
                    if generation != self._generation:
                        break  # the connection changed under us: on_connect restarts the scan
                    if info.rc != mqtt.MQTT_ERR_SUCCESS:
                        # not connected after all; on_disconnect/on_connect restart from the top
                        self._early.discard(info.mid)
                        break
                    self._last_sent = e.seq
                    if e.qos == 0 or info.mid in self._early:
                        self._early.discard(info.mid)
                        self.outbox.remove(e.seq)
                    else:
                        self._inflight[info.mid] = e.seq

    def drain(self, timeout: float) -> bool:
        """Wait until the outbox is empty; return False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.outbox) == 0:
                return True
            with self._cond:
                self._cond.wait(0.05)
        return len(self.outbox) == 0

    def stop(self) -> None:
        """Stop the sending thread."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(2)
