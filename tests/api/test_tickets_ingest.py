"""Tickets reach InfluxDB through the real pipeline: mosquitto, ingest and influxd.

Captures go edge-style over the broker, ingest stores them, the API weighs a ticket from them
by id, publishes it on the `ticket` topic, and ingest writes the `weighing` point; a void
turns that same point voided. A ticket completed while the broker is away is sent on reconnect.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ingest.service import Ingest
from landfill.contract import Capture, Topics
from landfill.settings import IngestSettings
from tests.api.weighbridge_seed import RAW, SUPERVISOR, auth_headers, capture, seed_registry
from tests.conftest import publish, wait_for

pytestmark = pytest.mark.integration


def start_ingest(url, influx, site) -> Ingest:
    settings = IngestSettings(
        site=site,
        mqtt_url=url,
        influx_url=influx.url,
        influx_db=influx.database,
        ingest_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        ingest_flush_seconds=0.1,
    )
    service = Ingest(settings)
    service.start()
    wait_for(service.subscribed.is_set, what="ingest subscribed")
    return service


@pytest.fixture
def ingest(broker, influx, site):
    service = start_ingest(broker.url, influx, site)
    yield service
    service.stop()


def weighings(influx):
    return influx.rows("SELECT * FROM weighing")


def test_a_ticket_becomes_a_weighing_point_and_its_void_marks_it(
    make_api, broker, influx, site, ingest
):
    api = make_api()  # the real clock: captures are fresh
    now = datetime.now(UTC)
    seed_registry(api, site, now)
    ids = []
    for kg, ago in ((14560, 3), (9020, 1)):
        msg = Capture.weighed(
            ts=now - timedelta(minutes=ago),
            site=site,
            scale="wb1",
            weight_kg=kg,
            division_kg=20,
            stable_ms=2400,
            protocol="yaohua-a9",
            raw=RAW,
        )
        publish(broker.url, Topics(site).for_message(msg), msg.to_json())
        ids.append(msg.id)
    wait_for(lambda: api.get("/api/v1/captures").json()["count"] == 2, what="captures stored")

    ticket = api.post(
        "/api/v1/tickets", json={"plate": "01KG123ABC", "capture_id": ids[0], "zone": "cell-3"}
    ).json()
    done = api.post(f"/api/v1/tickets/{ticket['id']}/second", json={"capture_id": ids[1]}).json()
    assert done["published"] is True
    assert done["weights"][0]["raw"] == RAW  # the frames travelled edge -> ingest -> ticket

    points = wait_for(lambda: weighings(influx), what="weighing point")
    assert len(points) == 1
    point = points[0]
    assert (point["net_kg"], point["gross_kg"], point["tare_kg"]) == (5540, 14560, 9020)
    assert (point["client"], point["vehicle"], point["waste_type"], point["zone"]) == (
        "tazalyk",
        "01KG123ABC",
        "msw",
        "cell-3",
    )
    assert (point["number"], point["voided"], point["manual"], point["scale"]) == (
        done["number"],
        False,
        False,
        "wb1",
    )

    api.post(
        f"/api/v1/tickets/{ticket['id']}/void",
        json={"reason": "wrong client"},
        headers=auth_headers(api, SUPERVISOR),
    )
    voided = wait_for(lambda: [p for p in weighings(influx) if p["voided"]], what="voided point")
    assert len(weighings(influx)) == 1  # the same point, not a second weighing
    assert voided[0]["net_kg"] == 5540


def test_a_ticket_completed_while_the_broker_is_away_is_sent_on_reconnect(
    make_api, servers, influx, site, clock
):
    own = servers.mosquitto()
    # ingest's session is persistent: the broker keeps what arrives while ingest reconnects
    service = start_ingest(own.url, influx, site)
    api = make_api(clock=clock, mqtt_url=own.url)
    seed_registry(api, site, clock.now)
    port, state = own.port, own.state
    own.stop()
    wait_for(lambda: not api.get("/health").json()["broker"], what="API sees the broker gone")
    cid = capture(influx, site, 23000, clock.now - timedelta(minutes=1))
    done = api.post(
        "/api/v1/tickets", json={"plate": "08KG777XYZ", "capture_id": cid, "stored_tare": True}
    )
    assert done.status_code == 201, done.text  # the weighbridge does not wait for the broker
    assert done.json()["published"] is False

    servers.mosquitto(port=port, state=state)
    try:
        path = f"/api/v1/tickets/{done.json()['id']}"
        wait_for(lambda: api.get(path).json()["published"], timeout=30, what="sent on reconnect")
        points = wait_for(lambda: weighings(influx), timeout=30, what="weighing point")
        assert [(p["number"], p["net_kg"]) for p in points] == [("2026-000001", 14000)]
    finally:
        service.stop()
