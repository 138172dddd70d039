"""Durable outbox: stored before publishing, removed on PUBACK, resent after a broker outage."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime

import pytest

from edge.outbox import Outbox, OutboxError, OutboxPublisher
from landfill.contract import Capture, Topics
from landfill.mqtt import connect_async, make_client
from tests.conftest import wait_for


def capture(site: str, n: int) -> Capture:
    return Capture.weighed(
        ts=datetime(2026, 11, 24, tzinfo=UTC),
        site=site,
        scale="s1",
        weight_kg=1000 + 20 * n,
        division_kg=20,
        stable_ms=2000,
        protocol="yaohua-a9",
    )


def test_outbox_survives_reopen(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    seqs = [box.put("t", f"m{i}".encode()) for i in range(3)]
    box.remove(seqs[1])
    box.close()
    box = Outbox(tmp_path / "o.sqlite")
    assert [e.payload for e in box.pending()] == [b"m0", b"m2"]
    assert len(box) == 2


def test_an_outbox_from_before_receipts_is_upgraded_in_place(tmp_path):
    path = tmp_path / "o.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,"
        " payload BLOB NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO outbox (topic, payload, qos, retain) VALUES ('t', x'6d30', 1, 0)")
    db.commit()
    db.close()
    box = Outbox(path)
    assert [e.payload for e in box.pending()] == [b"m0"]
    box.broker_has(1, now=0.0, wait=60.0)  # a row from before never waits for a receipt
    assert len(box) == 0


def test_a_row_with_a_receipt_stays_after_the_puback_and_goes_again_doubling(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    seq = box.put("t/capture", b"c", msg_id="c1", receipt=True)
    box.broker_has(seq, now=100.0, wait=60.0)
    assert (len(box), box.unsent(), box.awaiting_receipt()) == (1, 0, 1)
    assert box.overdue(159.0, up_to=seq, limit=10) == []
    assert [e.seq for e in box.overdue(160.0, up_to=seq, limit=10)] == [seq]
    assert box.unsent() == 1  # being sent again
    box.broker_has(seq, now=200.0, wait=60.0)  # the second wait is twice as long
    assert box.overdue(319.0, up_to=seq, limit=10) == []
    assert box.overdue(320.0, up_to=seq - 1, limit=10) == []  # not behind the sender's cursor
    assert box.overdue(320.0, up_to=seq, limit=10)
    assert box.stored(["c1", "unknown"]) == 1
    assert len(box) == 0


def run_publisher(url: str, site: str, path):
    topics = Topics(site)
    client = make_client(url, f"edge-{uuid.uuid4().hex[:6]}")
    pub = OutboxPublisher(Outbox(path), client, topics, window=10)
    client.on_connect = lambda *_: pub.on_connect()
    client.on_disconnect = lambda *_: pub.on_disconnect()
    connect_async(client, url)
    pub.start()
    return client, pub


@pytest.mark.integration
def test_messages_wait_for_the_broker_and_arrive_in_order(servers, site, tmp_path, collect):
    state = tmp_path / "broker"
    broker = servers.mosquitto(state=state)
    port = broker.port
    broker.stop()  # the broker is down while the edge captures
    client, pub = run_publisher(broker.url, site, tmp_path / "outbox.sqlite")
    try:
        for n in range(25):
            pub.submit(capture(site, n))
        assert len(pub.outbox) == 25
        broker = servers.mosquitto(port=port, state=state)
        got = collect(f"landfill/v1/{site}/#", url=broker.url)
        wait_for(lambda: len(pub.outbox) == 0, what="outbox drained")
        wait_for(lambda: len(got.payloads()) >= 25, what="25 captures")
        assert [p["id"] for p in got.payloads() if p["kind"] == "capture"] == [
            capture(site, n).id for n in range(25)
        ]
    finally:
        pub.stop()
        client.loop_stop()


def test_state_is_kept_across_reopen_and_written_with_its_message(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    assert box.state("held:s1") is None
    box.put("t", b"capture", state=("held:s1", '{"kg": 9000}'))
    box.close()
    box = Outbox(tmp_path / "o.sqlite")
    assert box.state("held:s1") == '{"kg": 9000}'
    assert [e.payload for e in box.pending()] == [b"capture"]
    box.set_state("held:s1", None)
    assert box.state("held:s1") is None


def test_a_message_that_cannot_be_stored_leaves_the_state_unchanged(tmp_path):
    box = Outbox(tmp_path / "o.sqlite")
    box.set_state("held:s1", "before")
    box._db.execute(  # the insert fails inside the transaction, after the state row was sent
        "CREATE TRIGGER refuse AFTER INSERT ON edge_state BEGIN SELECT RAISE(ABORT, 'full'); END"
    )
    with pytest.raises(OutboxError):
        box.put("t", b"capture", state=("held:s2", "after"))
    assert box.state("held:s2") is None
    assert box.state("held:s1") == "before"
    assert box.pending() == []  # the message went with it: both or neither
