"""A stored weight can only be replaced by its own replay (issue 9 item 2), through real ingest.

Before: a capture with another id at the same time and scale overwrote the stored one (same
measurement, tags and time); a payload naming another scale than its topic was stored under
the payload's scale; `true`, "100", -5,000 and 999,999,999,999 kg were stored. Now a capture's
id must be the hash of its site, scale, millisecond and weight (`capture_id_mismatch`
otherwise) and its point's time is that millisecond plus the weight in nanoseconds, so a point
is one id (a weighing's identity is its ticket number, tag `ticket`); the topic is the
authority for names, and the contract's strict types and bounds dead-letter the rest.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from landfill.contract import Capture, Ticket, Topics
from landfill.influx import InfluxStore, epoch_ms
from tests.conftest import publish, wait_for
from tests.ingest.test_ingest import capture, start_ingest

pytestmark = pytest.mark.integration

TS = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def captures(influx: InfluxStore, scale: str = "s1") -> list[tuple[str, int]]:
    rows = influx.rows("SELECT id, weight_kg FROM scale_capture WHERE scale = $s", {"s": scale})
    return sorted((r["id"], r["weight_kg"]) for r in rows)


def weighings(influx: InfluxStore) -> list[tuple[str, int, bool]]:
    rows = influx.rows("SELECT number, net_kg, voided FROM weighing")
    return sorted((r["number"], r["net_kg"], r["voided"]) for r in rows)


def ticket(site: str, number: str, net_kg: int) -> Ticket:
    return Ticket(
        ts=TS, site=site, number=number, status="completed", scale="s1",
        gross_kg=6_000 + net_kg, tare_kg=6_000, net_kg=net_kg, client="Tazalyk",
    )  # fmt: skip


def test_another_id_at_the_same_time_never_replaces_a_stored_weight(broker, influx, site, collect):
    dead = collect(f"landfill/v1/{site}/deadletter")
    ingest = start_ingest(broker.url, influx.url, influx.database, site)
    topics = Topics(site)
    try:
        real = capture(site, 14_560)
        publish(broker.url, topics.for_message(real), real.to_json())
        wait_for(lambda: captures(influx), what="the real capture")
        # another id at the same time: with the same or another weight, it is not the hash of
        # what it says, and is dead-lettered
        for forged in (
            real.model_copy(update={"id": "forged", "weight_kg": 99_980}),
            real.model_copy(update={"id": "forged-same-weight"}),
            real.model_copy(update={"weight_kg": 99_980}),  # the real id on another weight
        ):
            publish(broker.url, topics.for_message(forged), forged.to_json())
        # a capture named as the edge names it, at the same millisecond with another weight,
        # is another point beside the real one (another truck on the scale, or a publisher
        # the broker let write there); the real capture's replay meets only itself
        beside = capture(site, 99_980)
        assert (beside.ts, beside.id != real.id) == (real.ts, True)
        for msg in (beside, real, real):
            publish(broker.url, topics.for_message(msg), msg.to_json())
        letters = wait_for(lambda: len(dead.payloads()) == 3 and dead.payloads())
        wait_for(lambda: len(captures(influx)) == 2, what="both captures")
        assert captures(influx) == sorted([(real.id, 14_560), (beside.id, 99_980)])
        assert {d["reason"].split(":")[0] for d in letters} == {"capture_id_mismatch"}
        rows = influx.rows("SELECT id FROM scale_capture WHERE scale = 's1'")
        assert {r["time"] for r in rows} == {epoch_ms(real.ts)}, "read at ms: the capture's"

        # a weighing is its ticket: another ticket at the same time is stored beside it, and
        # only the same ticket's voiding replaces it
        first, other = ticket(site, "2026-000001", 8_540), ticket(site, "2026-000002", 100)
        voided = first.model_copy(update={"id": "voided-1", "status": "voided"})
        for t in (first, other, voided):
            publish(broker.url, topics.for_message(t), t.to_json())
        rows = wait_for(
            lambda: len(got := weighings(influx)) == 2 and got[0][2] and got,
            what="both weighings, the first voided",
        )
        assert rows == [("2026-000001", 8_540, True), ("2026-000002", 100, False)]
        # the same in `inflow` (no tag per ticket; the time keeps them apart): the void
        # replaced its own ticket's point and counts nothing
        sums = "SELECT number, counted_kg, tickets FROM inflow"
        inflow = sorted((r["number"], r["counted_kg"], r["tickets"]) for r in influx.rows(sums))
        assert inflow == [("2026-000001", 0, 0), ("2026-000002", 100, 1)]
    finally:
        ingest.stop()


ABSURD = [
    ("weight_kg", -5_000),
    ("weight_kg", 999_999_999_999),
    ("weight_kg", True),
    ("weight_kg", "100"),
    ("division_kg", 7),
    ("protocol", "p" * 200_000),  # under any broker size limit, far over the contract's 100
]


def test_mismatched_names_and_absurd_values_are_dead_lettered(broker, influx, site, collect):
    dead = collect(f"landfill/v1/{site}/deadletter")
    ingest = start_ingest(broker.url, influx.url, influx.database, site)
    topics = Topics(site)
    try:
        other_scale = capture(site, 5_000).model_copy(update={"scale": "s2"})
        publish(broker.url, topics.of(Capture, scale="s1"), other_scale.to_json())
        for n, (field, value) in enumerate(ABSURD):
            doc = json.loads(capture(site, 1_000, second=n + 1).to_json()) | {field: value}
            publish(broker.url, topics.of(Capture, scale="s1"), json.dumps(doc).encode())
        good = capture(site, 7_000, second=30)
        publish(broker.url, topics.of(Capture, scale="s1"), good.to_json())
        wait_for(lambda: captures(influx), what="the good capture after the bad ones")
        letters = wait_for(lambda: len(dead.payloads()) == 1 + len(ABSURD) and dead.payloads())
        assert [d["reason"].split(":")[0] for d in letters] == ["scale_mismatch"] + [
            "invalid_payload"
        ] * len(ABSURD)
        assert all(len(d["payload"]) <= 65_536 for d in letters)
        assert captures(influx) == [(good.id, 7_000)]
        assert captures(influx, "s2") == []
    finally:
        ingest.stop()
