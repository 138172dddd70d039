"""Reconciliation of the ledger against InfluxDB's `weighing` points, and its repair through the
real pipeline: the API republishes tickets to mosquitto, ingest writes them to influxd.

On 10 October (Bishkek) the points are stored the way ingest stores them, then spoilt: one
ticket's point has another weight, one is missing, a voided ticket's point still says
completed, and one point has no ticket. 11 October agrees.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.weighbridge.models import Ticket
from api.weighbridge.publish import ticket_message
from ingest.points import weighing_line
from tests.api.billing_seed import add_ticket, seed_billing
from tests.api.conftest import add_token, client_for
from tests.api.test_tickets_ingest import start_ingest
from tests.conftest import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def ingest(broker, influx, site):
    service = start_ingest(broker.url, influx, site)
    yield service
    service.stop()


def _store(app, influx, site: str, ticket_id: int, **spoil) -> None:
    """Write the ticket's `weighing` point as ingest would, with fields changed by ``spoil``."""
    with app.state.sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        msg = ticket_message(session, ticket, site).model_copy(update=spoil)
    line = weighing_line(msg)
    assert line is not None
    influx.write_lines([line])


def test_mismatches_are_shown_and_repaired_by_republishing(make_api, influx, site, clock, ingest):
    api = make_api(clock=clock)
    seeded = seed_billing(api.app, site)
    at = datetime(2026, 10, 10, 5, tzinfo=UTC)  # 11:00 in Bishkek
    ok_id, ok_no = add_ticket(api.app, seeded, "alpha", "msw", 5000, at)
    heavy_id, heavy_no = add_ticket(api.app, seeded, "alpha", "msw", 6000, at.replace(minute=5))
    _, lost_no = add_ticket(api.app, seeded, "beta", "msw", 7000, at.replace(minute=10))
    void_id, void_no = add_ticket(
        api.app, seeded, "beta", "msw", 8000, at.replace(minute=15), "voided"
    )
    next_id, _ = add_ticket(api.app, seeded, "beta", "msw", 3000, at.replace(day=11))
    _store(api.app, influx, site, ok_id)
    _store(api.app, influx, site, heavy_id, net_kg=6100, gross_kg=15100)
    _store(api.app, influx, site, void_id, status="completed")
    _store(api.app, influx, site, next_id)
    _store(api.app, influx, site, ok_id, number="2026-999999", ts=at.replace(minute=20))
    params = {"start": "2026-10-10", "end": "2026-10-12"}
    days = api.get("/api/v1/billing/reconciliation", params=params).json()
    assert [(d["day"], d["ok"]) for d in days] == [("2026-10-10", False), ("2026-10-11", True)]
    ten = days[0]
    assert (ten["ledger_tickets"], ten["ledger_net_kg"]) == (3, 18000)
    assert (ten["influx_tickets"], ten["influx_net_kg"]) == (4, 24100)
    assert [(p["ticket"], p["kind"]) for p in ten["problems"]] == [
        (heavy_no, "weight"),
        (lost_no, "missing"),
        (void_no, "state"),
        ("2026-999999", "extra"),
    ]
    assert ten["problems"][0] == {
        "ticket": heavy_no, "kind": "weight",
        "ledger": "completed 6000 kg", "influx": "completed 6100 kg",
    }  # fmt: skip
    page = api.get("/billing", params={"month": "2026-10"}).text
    assert 'data-day="2026-10-10"' in page
    assert 'data-action="repair"' in page
    # an auditor may look but not repair
    auditor = client_for(api.app, add_token(api.app, "auditor"))
    assert (
        auditor.post(
            "/api/v1/billing/reconciliation/repair", json={"day": "2026-10-10"}
        ).status_code
        == 403
    )
    resp = api.post("/api/v1/billing/reconciliation/repair", json={"day": "2026-10-10"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "day": "2026-10-10",
        "republished": [heavy_no, lost_no, void_no],
        "failed": [],
    }

    def only_the_stray_point_is_left() -> bool:
        day = api.get("/api/v1/billing/reconciliation", params={"start": "2026-10-10"}).json()[0]
        return [p["kind"] for p in day["problems"]] == ["extra"]

    wait_for(only_the_stray_point_is_left, timeout=20, what="repaired points in InfluxDB")
    day = api.get("/api/v1/billing/reconciliation", params={"start": "2026-10-10"}).json()[0]
    assert (day["ledger_tickets"], day["ledger_net_kg"]) == (3, 18000)
    # 5000 + 6000 + 7000 and the stray point's 5000; the voided ticket's point now says voided
    assert (day["influx_tickets"], day["influx_net_kg"]) == (4, 23000)
    assert ok_no not in {p["ticket"] for p in day["problems"]}
    audit = api.get("/api/v1/audit", params={"action": "ticket.republish"}).json()["data"]
    assert audit[0]["after"]["republished"] == [heavy_no, lost_no, void_no]


def test_reconciliation_refuses_long_or_reversed_ranges(make_api):
    api = make_api()
    for params in (
        {"start": "2026-10-10", "end": "2026-10-10"},
        {"start": "2026-10-10", "end": "2026-10-01"},
        {"start": "2026-01-01", "end": "2026-12-31"},
    ):
        assert api.get("/api/v1/billing/reconciliation", params=params).status_code == 422
    assert api.get("/api/v1/billing/reconciliation", params={"start": "2026-10-10"}).json()[0]["ok"]
