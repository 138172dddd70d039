"""Durable outbox: a message is in SQLite before it is published and leaves once delivered.

SQLite in WAL mode with `synchronous=FULL`, so a committed `put` survives a power cut or a
kill -9. The publisher thread sends pending rows in insertion order with a bounded in-flight
window; after a reconnect or a restart every row still here is sent again with the same
payload, so the same ids (at least once; storage downstream is idempotent by id and
timestamp, and a consumer that counts dedupes by id).

"Delivered" is the broker's PUBACK for most kinds. For the kinds that wait for a receipt
(captures), the PUBACK is not enough: mosquitto writes its persistence file only every
`autosave_interval`, so a power cut right after the PUBACK loses the message. Such a row stays
after the PUBACK until ingest's `Receipt` says the capture is in InfluxDB; a row without one is
sent again after `receipt_seconds`, doubling up to an hour, and on every reconnect.

A small key-value table, `edge_state`, keeps what a process must remember across a restart
(the scale edge: the load it captured and that may still stand on the platform). A `put` can
write one state row in the same transaction as its message, so after a power cut the capture
and the state that says "already captured" are either both there or both not.

Faults: a `put` that cannot commit (disk full, read-only, I/O error) raises `OutboxError`, so
the caller never believes a message is safe when it is not. A delete or update that fails
leaves the row, which is only sent again (idempotent); it is logged once, never raised into
paho's thread or the sender's.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from landfill.contract import Message, Receipt, Topics, kind_of

log = logging.getLogger(__name__)

# columns added after the first release; an older outbox file gets them at open
_ADDED_COLUMNS = {
    "msg_id": "TEXT",
    "receipt": "INTEGER NOT NULL DEFAULT 0",  # 1: leaves only on ingest's receipt
    "due": "REAL",  # broker has it; send again at this epoch time unless a receipt came
    "attempts": "INTEGER NOT NULL DEFAULT 0",
}
RECEIPT_MAX_SECONDS = 3600.0


class OutboxError(Exception):
    """A message could not be committed to the outbox (disk full, read-only, I/O error)."""


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
            have = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
            for name, declaration in _ADDED_COLUMNS.items():
                if name not in have:
                    self._db.execute(f"ALTER TABLE outbox ADD COLUMN {name} {declaration}")
            self._db.execute("CREATE INDEX IF NOT EXISTS outbox_msg_id ON outbox (msg_id)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS edge_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )

    def put(
        self,
        topic: str,
        payload: bytes,
        qos: int = 1,
        retain: bool = False,
        *,
        msg_id: str | None = None,
        receipt: bool = False,
        state: tuple[str, str | None] | None = None,
    ) -> int:
        """Store a message durably and return its sequence number; OutboxError if it cannot.

        ``state`` (key, value) is written in the same transaction (None as value: deleted).
        """
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    cur = self._db.execute(
                        "INSERT INTO outbox (topic, payload, qos, retain, msg_id, receipt)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (topic, payload, qos, int(retain), msg_id, int(receipt)),
                    )
                    if state is not None:
                        self._write_state(*state)
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:  # SQLite may have rolled back by itself
                        self._db.execute("ROLLBACK")
                    raise
                return int(cur.lastrowid or 0)
        except sqlite3.Error as exc:
            raise OutboxError(str(exc)) from exc

    def _write_state(self, key: str, value: str | None) -> None:
        if value is None:
            self._db.execute("DELETE FROM edge_state WHERE key = ?", (key,))
        else:
            self._db.execute(
                "INSERT INTO edge_state (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def set_state(self, key: str, value: str | None) -> None:
        """Remember ``value`` under ``key`` durably (None: forget it); OutboxError if it cannot."""
        try:
            with self._lock:
                self._write_state(key, value)
        except sqlite3.Error as exc:
            raise OutboxError(str(exc)) from exc

    def state(self, key: str) -> str | None:
        """The value remembered under ``key``, or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM edge_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

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
        """Forget a message."""
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def broker_has(self, seq: int, now: float, wait: float) -> None:
        """The broker acknowledged a row: forget it, or let it wait ``wait`` s (doubling) for
        its receipt before it is due again."""
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE seq = ? AND receipt = 0", (seq,))
            self._db.execute(
                "UPDATE outbox SET due = ? + min(?, ? * (1 << min(attempts, 20))),"
                " attempts = attempts + 1 WHERE seq = ? AND receipt = 1",
                (now, RECEIPT_MAX_SECONDS, wait, seq),
            )

    def stored(self, ids: Sequence[str]) -> int:
        """Forget the rows of messages ingest stored (a receipt); return how many went."""
        gone = 0
        with self._lock:
            for i in range(0, len(ids), 500):
                chunk = list(ids[i : i + 500])
                marks = ",".join("?" * len(chunk))
                cur = self._db.execute(
                    f"DELETE FROM outbox WHERE receipt = 1 AND msg_id IN ({marks})",  # noqa: S608 - only placeholders
                    chunk,
                )
                gone += cur.rowcount
        return gone

    def overdue(self, now: float, up_to: int, limit: int) -> list[Entry]:
        """Rows the broker acknowledged whose receipt is overdue (seq <= ``up_to``), marked as
        being sent again."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload, qos, retain FROM outbox WHERE receipt = 1"
                " AND due IS NOT NULL AND due <= ? AND seq <= ? ORDER BY seq LIMIT ?",
                (now, up_to, limit),
            ).fetchall()
            self._db.executemany(
                "UPDATE outbox SET due = NULL WHERE seq = ?", [(r[0],) for r in rows]
            )
        return [Entry(r[0], r[1], bytes(r[2]), r[3], bool(r[4])) for r in rows]

    def unsent(self) -> int:
        """How many rows the broker has not acknowledged yet."""
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE receipt = 0 OR due IS NULL"
                ).fetchone()[0]
            )

    def awaiting_receipt(self) -> int:
        """How many rows the broker has that ingest has not confirmed stored."""
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE receipt = 1 AND due IS NOT NULL"
                ).fetchone()[0]
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class OutboxPublisher:
    """Sends an outbox to the broker in order and deletes rows once they are delivered.

    paho keeps unacknowledged QoS 1 messages in memory and resends them by itself after a
    reconnect, and it queues what is published while disconnected. The outbox is the one
    source of truth instead: on every connect paho's queue is dropped (`drop_out_messages`)
    and every row still in the outbox is published again from the oldest, so nothing is sent
    twice by two mechanisms and the order holds. Each connection has a generation number;
    bookkeeping from a publish that raced a reconnect is thrown away, and the mid -> seq map
    is cleared, so a mid paho reuses can never acknowledge the wrong row.

    Kinds in ``receipts`` stay after the PUBACK until `on_receipt` (ingest stored them); one
    without a receipt is sent again after ``receipt_seconds`` (doubling, at most an hour).
    """

    def __init__(
        self,
        outbox: Outbox,
        client: mqtt.Client,
        topics: Topics,
        window: int = 100,
        *,
        receipts: Collection[str] = (),
        receipt_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ):
        self.outbox = outbox
        self.client = client
        self.topics = topics
        self.window = window
        self.receipt_kinds = frozenset(receipts)
        self.receipt_seconds = receipt_seconds
        self.clock = clock
        self.storage_fault: str | None = None  # a delete or update that failed (rows stay)
        self._cond = threading.Condition()
        self._inflight: dict[int, int] = {}  # paho mid -> outbox seq, this connection only
        self._early: set[int] = set()  # mids acknowledged before we recorded them
        self._generation = 0
        self._last_sent = 0
        self._next_overdue_check = 0.0
        self._connected = False
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        client.on_publish = self._on_publish

    def start(self) -> None:
        """Start the sending thread."""
        self._thread.start()

    def submit(self, msg: Message, state: tuple[str, str | None] | None = None) -> int:
        """Store a contract message durably (with ``state``, in one transaction), then wake the
        sender; OutboxError if it cannot."""
        kind = kind_of(msg)
        seq = self.outbox.put(
            self.topics.for_message(msg),
            msg.to_json(),
            kind.qos,
            kind.retained,
            msg_id=msg.id,
            receipt=kind.name in self.receipt_kinds,
            state=state,
        )
        with self._cond:
            self._cond.notify()
        return seq

    def on_receipt(self, receipt: Receipt) -> int:
        """Forget the messages ingest says it stored; return how many rows went."""
        try:
            gone = self.outbox.stored(receipt.ids)
        except sqlite3.Error as exc:
            self._storage_failed(exc)
            return 0
        with self._cond:
            self._cond.notify_all()
        return gone

    def on_connect(self) -> None:
        """Call first in the client's on_connect: resend everything not yet acknowledged."""
        # runs in paho's loop thread before paho resends its own queue: drop that queue, the
        # outbox has every row it held (paho's queue is not ours to trust across reconnects);
        # rows waiting for a receipt go again too: a broker that restarted may have lost them
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

    def _delivered(self, seq: int) -> None:
        try:
            self.outbox.broker_has(seq, self.clock(), self.receipt_seconds)
        except sqlite3.Error as exc:
            self._storage_failed(exc)  # the row stays and is only sent again

    def _storage_failed(self, exc: sqlite3.Error) -> None:
        if self.storage_fault is None:
            log.error("outbox cannot update rows (%s); they stay and are sent again", exc)
        self.storage_fault = str(exc)

    def _on_publish(self, _c: Any, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        # paho calls this holding its own mutex: never call into paho from here
        with self._cond:
            seq = self._inflight.pop(mid, None)
            if seq is None:
                self._early.add(mid)  # the ack beat the bookkeeping in _run
            else:
                self._delivered(seq)
            self._cond.notify_all()

    def _next_batch(self) -> tuple[int, list[Entry]] | None:
        with self._cond:
            while not self._stop and (not self._connected or len(self._inflight) >= self.window):
                self._cond.wait(0.5)
            if self._stop:
                return None
            generation = self._generation
            room = self.window - len(self._inflight)
            entries = self.outbox.pending(self._last_sent, room) or self._overdue(room)
            if not entries:
                self._cond.wait(0.5)
            return generation, entries

    def _overdue(self, limit: int) -> list[Entry]:
        """Rows whose receipt is overdue, at most once a second (only kinds with receipts)."""
        now = time.monotonic()
        if not self.receipt_kinds or now < self._next_overdue_check:
            return []
        self._next_overdue_check = now + 1.0
        entries = self.outbox.overdue(self.clock(), self._last_sent, limit)
        if entries:
            log.warning("%d message(s) have no storage receipt yet; sending again", len(entries))
        return entries

    def _run(self) -> None:
        while True:
            try:
                batch = self._next_batch()
                if batch is None:
                    return
                self._send(*batch)
            except sqlite3.Error as exc:  # the sender never dies: the rows are still there
                self._storage_failed(exc)
                with self._cond:
                    self._cond.wait(1.0)

    def _send(self, generation: int, entries: list[Entry]) -> None:
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
                self._last_sent = max(self._last_sent, e.seq)  # overdue rows are behind it
                if e.qos == 0 or info.mid in self._early:
                    self._early.discard(info.mid)
                    self._delivered(e.seq)
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
