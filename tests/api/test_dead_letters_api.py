"""Refused data in the API: today's counts per source (the site's day, not UTC's), the
admin's list of letters with local times, filters, and the page's translated reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.dead_letters import DeadLetterStore
from landfill.contract import DeadLetter
from tests.api.conftest import Clock
from tests.api.seed import write

pytestmark = pytest.mark.integration

DEVICE = "0004a30b001c0a11"
UPLINK_TOPIC = f"application/1/device/{DEVICE}/event/up"


def letters(site: str, at: datetime, reason: str, n: int, **kw: str) -> list[str]:
    """What ingest writes for ``n`` letters refused at ``at`` (one worker, as it would)."""
    store = DeadLetterStore("w1", Clock(at))
    base = {
        "site": site,
        "topic": UPLINK_TOPIC,
        "payload": f'{{"devEui": "{DEVICE}"}}',
        "consumer": "edge-sensors",
        "source": f"device:{DEVICE}",
        "refused_kind": "uplink",
    }
    out: list[str] = []
    for _ in range(n):
        out += store.process(DeadLetter(ts=at, reason=reason, **(base | kw))).lines
    return out + store.tick(at).lines


@pytest.fixture
def api(make_api, clock, influx, site):
    client = make_api(clock=clock)  # Tuesday 2026-11-24 10:00 in Bishkek (04:00 UTC)
    lines = letters(site, datetime(2026, 11, 23, 17, 50, tzinfo=UTC), "unknown_model", 3)  # 23:50
    lines += letters(site, datetime(2026, 11, 23, 18, 10, tzinfo=UTC), "unknown_model", 9)  # 00:10
    lines += letters(site, datetime(2026, 11, 23, 18, 10, tzinfo=UTC), "undecodable", 1)
    lines += letters(
        site,
        datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
        "invalid_json: Invalid JSON",
        2,
        topic=f"landfill/v1/{site}/container/K-1/reading",
        payload="{not json",
        consumer="ingest",
        source="",
        refused_kind="",
    )
    write(influx, lines)
    return client


def test_the_board_counts_todays_refusals_in_the_sites_day(api):
    refused = api.get("/api/v1/dispatch/refused").json()
    assert refused["day"] == "2026-11-24"
    assert refused["since"] == "2026-11-23T18:00:00Z"
    assert refused["sources"] == [
        {
            "source": f"device:{DEVICE}",
            "name": DEVICE,
            "kind": "uplink",
            "container": None,
            "letters": 10,  # not the three of 23:50 yesterday, Bishkek time
            "reasons": [
                {"reason": "unknown_model", "letters": 9},
                {"reason": "undecodable", "letters": 1},
            ],
        },
        {
            "source": "container:K-1",
            "name": "K-1",
            "kind": "reading",
            "container": None,
            "letters": 2,
            "reasons": [{"reason": "invalid_json", "letters": 2}],
        },
    ]


def test_the_admin_lists_letters_with_local_times_by_reason_and_source(api):
    data = api.get("/api/v1/dead-letters").json()["data"]  # the last day, newest first
    # yesterday's three, five of the nine (one minute, one key), one undecodable, two readings
    assert len(data) == 3 + 5 + 1 + 2
    assert [x["local_time"][:16] for x in data][::5] == [
        "2026-11-24 09:00",
        "2026-11-24 00:10",
        "2026-11-23 23:50",
    ]
    today = api.get("/api/v1/dead-letters", params={"since": "2026-11-23T18:00:00Z"}).json()
    assert len(today["data"]) == 5 + 1 + 2
    one = api.get("/api/v1/dead-letters", params={"reason": "undecodable"}).json()["data"]
    assert [(x["source"], x["topic"], x["local_time"][:16]) for x in one] == [
        (f"device:{DEVICE}", UPLINK_TOPIC, "2026-11-24 00:10")
    ]
    reading = api.get("/api/v1/dead-letters", params={"source": "container:K-1"}).json()["data"]
    assert {(x["reason"], x["kind"], x["excerpt"]) for x in reading} == {
        ("invalid_json", "reading", "{not json")
    }
    assert api.get("/api/v1/dead-letters", params={"reason": "DROP TABLE"}).status_code == 422


def test_the_admin_page_translates_reasons(api):
    page = api.get("/admin/dead-letters", params={"lang": "ru", "reason": "undecodable"})
    assert page.status_code == 200
    assert "не удалось расшифровать данные" in page.text
    assert "2026-11-24 00:10:00" in page.text
    assert page.text.count("<tr data-reason") == 1
