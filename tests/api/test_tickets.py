"""Weighing tickets on SQLite and PostgreSQL: lifecycle, every refusal with its message, voids,
manual weights, scale events, unticketed captures and the published `ticket` messages."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.auth.access import Caller
from api.auth.roles import Role
from api.db import Site
from api.i18n import translate
from api.weighbridge.refusals import Refusal
from api.weighbridge.tickets import Desk, void_ticket
from landfill.contract import Ticket as TicketMessage
from landfill.contract import Topics, decode
from tests.api.conftest import add_user, client_for, login
from tests.api.weighbridge_seed import (
    OPERATOR,
    RAW,
    SUPERVISOR,
    auth_headers,
    capture,
    scale_event,
    seed_registry,
)
from tests.conftest import wait_for

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)


@pytest.fixture
def database_url(any_database_url):
    return any_database_url


@pytest.fixture
def desk(make_api, influx, site, clock):
    """The API with the registry seeded; ``weigh(kg, minutes_ago)`` stores a capture."""
    api = make_api(clock=clock)
    seed_registry(api, site, clock.now)

    taken = itertools.count()

    def weigh(kg: int, ago: float = 1, scale: str = "wb1") -> str:
        # a millisecond apart: one scale cannot capture twice at the same instant
        ts = clock.now - ago * MIN - next(taken) * timedelta(milliseconds=1)
        return capture(influx, site, kg, ts, scale=scale)

    api.weigh = weigh
    return api


def post(api, path, body, who=OPERATOR, lang="en"):
    """A ticket request as an operator (bakyt) or a supervisor (aigul), with their tokens."""
    headers = auth_headers(api, who)
    return api.post(f"/api/v1/tickets{path}", json=body, headers=headers, params={"lang": lang})


def refused(resp, status, code, lang="en", **values):
    """The answer is this refusal, with the sentence the operator reads."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code
    assert body["detail"] == translate(lang, f"refusal.{code}", **body["values"])
    for name, value in values.items():
        assert body["values"][name] == value, (name, body["values"])
    return body["detail"]


def test_loaded_in_empty_out(desk, collect, site, clock):
    topic = collect(Topics(site).of(TicketMessage))
    loaded = desk.weigh(14560, ago=20)
    opened = post(desk, "", {"plate": "01 kg 123 abc", "capture_id": loaded, "zone": "cell-3"})
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    assert (ticket["status"], ticket["number"], ticket["net_kg"]) == ("open", None, None)
    assert (ticket["client"], ticket["client_inn"], ticket["waste_type"]) == (
        "tazalyk",
        "01803200210104",
        "msw",
    )  # defaults from the vehicle
    first = ticket["weights"][0]
    assert (first["capture_id"], first["weight_kg"], first["raw"]) == (loaded, 14560, RAW)
    assert (ticket["opened_by"], first["actor"], first["actor_role"]) == (
        "bakyt",
        "bakyt",
        "operator",
    )
    listed = desk.get("/api/v1/tickets", params={"status": "open"}).json()
    assert [t["plate"] for t in listed["data"]] == ["01KG123ABC"]  # vehicles on site

    empty = desk.weigh(9020, ago=2)
    done = post(desk, f"/{ticket['id']}/second", {"capture_id": empty}).json()
    assert (done["status"], done["number"]) == ("completed", "2026-000001")
    assert (done["gross_kg"], done["tare_kg"], done["net_kg"]) == (14560, 9020, 5540)
    assert (done["tare_source"], done["manual"], done["published"]) == ("weighed", False, True)
    assert (done["opened_by"], done["completed_by"]) == ("bakyt", "bakyt")  # the token's name
    assert [w["raw"] for w in desk.get(f"/api/v1/tickets/{ticket['id']}").json()["weights"]] == [
        RAW,
        RAW,
    ]

    msgs = wait_for(lambda: topic.messages, what="ticket message")
    msg = decode(*msgs[0])
    assert isinstance(msg, TicketMessage)
    assert (msg.number, msg.status, msg.net_kg, msg.gross_kg, msg.tare_kg) == (
        "2026-000001",
        "completed",
        5540,
        14560,
        9020,
    )
    assert (msg.client, msg.vehicle, msg.waste_type, msg.zone, msg.scale) == (
        "tazalyk",
        "01KG123ABC",
        "msw",
        "cell-3",
        "wb1",
    )
    assert msg.ts == clock.now


def test_empty_in_loaded_out_gross_is_the_larger(desk):
    empty = desk.weigh(9000, ago=30)
    ticket = post(desk, "", {"plate": "01KG123ABC", "capture_id": empty}).json()
    loaded = desk.weigh(21340)
    done = post(desk, f"/{ticket['id']}/second", {"capture_id": loaded}).json()
    assert (done["gross_kg"], done["tare_kg"], done["net_kg"]) == (21340, 9000, 12340)


def test_one_pass_against_the_stored_tare(desk):
    loaded = desk.weigh(23000)
    done = post(desk, "", {"plate": "08KG777XYZ", "capture_id": loaded, "stored_tare": True})
    assert done.status_code == 201, done.text
    body = done.json()
    assert (body["status"], body["number"], body["tare_source"]) == (
        "completed",
        "2026-000001",
        "stored",
    )
    assert (body["gross_kg"], body["tare_kg"], body["net_kg"]) == (23000, 9000, 14000)
    assert [w["source"] for w in body["weights"]] == ["capture", "stored_tare"]


def test_numbers_follow_completion_not_opening(desk):
    first = post(desk, "", {"plate": "01KG123ABC", "capture_id": desk.weigh(15000, 9)}).json()
    one_pass = post(
        desk, "", {"plate": "08KG777XYZ", "capture_id": desk.weigh(20000, 8), "stored_tare": True}
    ).json()
    cancelled = post(
        desk,
        "",
        {"plate": "03 KG 200 MED", "waste_type": "msw", "capture_id": desk.weigh(12000, 7)},
    ).json()
    voided = post(desk, f"/{cancelled['id']}/void", {"reason": "wrong truck"}, who=SUPERVISOR)
    assert voided.json()["number"] is None  # an open ticket had no number to lose
    done = post(desk, f"/{first['id']}/second", {"capture_id": desk.weigh(9000, 1)}).json()
    assert (one_pass["number"], done["number"]) == ("2026-000001", "2026-000002")


def test_void_keeps_the_number_and_publishes_the_voided_state(desk, collect, site, clock):
    topic = collect(Topics(site).of(TicketMessage))
    done = post(
        desk, "", {"plate": "08KG777XYZ", "capture_id": desk.weigh(23000), "stored_tare": True}
    ).json()
    path = f"/{done['id']}/void"
    denied = post(desk, path, {"reason": "typo"})  # an operator: the route's role set says no
    assert (denied.status_code, denied.json()) == (
        403,
        {"detail": "the operator role may not do this"},
    )
    refused(post(desk, path, {"reason": " "}, who=SUPERVISOR), 422, "void_needs_reason")
    clock.now += 5 * MIN
    voided = post(desk, path, {"reason": "driver brought the wrong load"}, who=SUPERVISOR)
    assert voided.status_code == 200, voided.text
    body = voided.json()
    assert (body["status"], body["number"], body["voided_by"]) == ("voided", "2026-000001", "aigul")
    assert body["void_reason"] == "driver brought the wrong load"
    refused(post(desk, path, {"reason": "again"}, who=SUPERVISOR), 409, "ticket_voided")
    refused(
        post(desk, f"/{done['id']}/second", {"capture_id": desk.weigh(9000)}), 409, "ticket_voided"
    )
    msgs = wait_for(lambda: len(topic.messages) >= 2 and topic.messages, what="two messages")
    completed, void = (decode(*m) for m in msgs)
    assert (completed.status, void.status) == ("completed", "voided")
    assert void.ts == completed.ts  # the same InfluxDB point, now voided
    assert void.id != completed.id
    assert desk.get("/api/v1/tickets", params={"status": "voided"}).json()["count"] == 1


def test_manual_weight_needs_a_supervisor_a_reason_and_the_division(desk):
    body = {"plate": "01KG123ABC", "manual_kg": 15000, "scale": "wb1", "reason": "indicator off"}
    refused(post(desk, "", body), 403, "manual_needs_supervisor")
    refused(post(desk, "", body | {"reason": ""}, who=SUPERVISOR), 422, "manual_needs_reason")
    refused(
        post(desk, "", body | {"manual_kg": 15010}, who=SUPERVISOR),
        422,
        "manual_off_division",
        weight=15010,
        division=20,
    )
    refused(post(desk, "", body | {"scale": "nowhere"}, who=SUPERVISOR), 422, "scale_unknown")
    both = body | {"capture_id": desk.weigh(15000)}
    refused(post(desk, "", both, who=SUPERVISOR), 422, "weight_source")
    refused(post(desk, "", {"plate": "01KG123ABC"}), 422, "weight_source")

    ticket = post(desk, "", body, who=SUPERVISOR).json()
    assert ticket["weights"][0]["manual"] is True
    assert ticket["weights"][0]["manual_reason"] == "indicator off"
    assert ticket["weights"][0]["actor_role"] == "supervisor"
    done = post(desk, f"/{ticket['id']}/second", {"capture_id": desk.weigh(9000)}).json()
    assert done["manual"] is True  # flagged on the ticket, its message and its point


def test_refusals_of_the_first_weighing(desk, clock, site):
    fresh = desk.weigh(15000)
    plate = {"plate": "01KG123ABC"}
    refused(
        post(desk, "", plate | {"capture_id": "nope"}), 422, "capture_not_found", capture="nope"
    )
    old = desk.weigh(15000, ago=31)
    msg = refused(
        post(desk, "", plate | {"capture_id": old}), 422, "capture_too_old", age=31, limit=30
    )
    assert msg == f"Capture {old} is 31 min old; the limit is 30 min"
    refused(
        post(desk, "", {"plate": "99KG999ZZZ", "capture_id": fresh}),
        422,
        "vehicle_unknown",
        plate="99KG999ZZZ",
    )
    refused(
        post(desk, "", {"plate": "02KG100HLD", "capture_id": fresh}),
        409,
        "client_on_hold",
        client="ОсОО «Карыз»",
    )
    refused(
        post(desk, "", plate | {"client": "nobody", "capture_id": fresh}), 422, "client_unknown"
    )
    refused(
        post(desk, "", {"plate": "03KG200MED", "capture_id": fresh}),
        422,
        "waste_refused",
        waste="medical",
    )
    refused(
        post(desk, "", plate | {"waste_type": "glass", "capture_id": fresh}), 422, "waste_unknown"
    )
    refused(
        post(desk, "", {"plate": "08KG555OLD", "capture_id": fresh, "stored_tare": True}),
        422,
        "tare_expired",
        expired="2026-10-20",
    )
    refused(post(desk, "", plate | {"capture_id": fresh, "stored_tare": True}), 422, "tare_missing")
    over = desk.weigh(61000)
    refused(
        post(desk, "", plate | {"capture_id": over}),
        422,
        "weight_out_of_range",
        weight=61000,
        min=400,
        max=60000,
    )
    other_scale = desk.weigh(15000, scale="wb9")
    refused(post(desk, "", plate | {"capture_id": other_scale}), 422, "scale_unknown")

    first = post(desk, "", plate | {"capture_id": fresh})
    assert first.status_code == 201, first.text
    refused(post(desk, "", plate | {"capture_id": desk.weigh(15000)}), 409, "vehicle_on_site")
    reused = post(desk, "", {"plate": "08KG777XYZ", "capture_id": fresh, "stored_tare": True})
    refused(reused, 409, "capture_used", capture=fresh)
    # the same refusal in Kyrgyz and Russian
    for lang in ("ky", "ru"):
        refused(
            post(desk, "", {"plate": "02KG100HLD", "capture_id": fresh}, lang=lang),
            409,
            "client_on_hold",
            lang=lang,
        )
    assert desk.get("/api/v1/tickets").json()["count"] == 1  # no refusal left a ticket behind


def test_refusals_at_completion(desk, site):
    ticket = post(desk, "", {"plate": "01KG123ABC", "capture_id": desk.weigh(15000, 5)}).json()
    path = f"/{ticket['id']}/second"
    refused(
        post(desk, path, {"capture_id": desk.weigh(14800)}),
        422,
        "net_out_of_range",
        weight=200,
        min=400,
    )
    desk.patch("/api/v1/scales/wb1", json={"max_kg": 14000})
    refused(
        post(desk, path, {"capture_id": desk.weigh(9000)}),
        422,
        "gross_out_of_range",
        weight=15000,
        max=14000,
    )
    desk.patch("/api/v1/scales/wb1", json={"max_kg": 60000})
    desk.patch("/api/v1/clients/tazalyk", json={"status": "on_hold"})  # put on hold meanwhile
    refused(post(desk, path, {"capture_id": desk.weigh(9000)}), 409, "client_on_hold")
    desk.patch("/api/v1/clients/tazalyk", json={"status": "active"})
    refused(post(desk, "/999999/second", {"capture_id": desk.weigh(9000)}), 404, "ticket_not_found")
    done = post(desk, path, {"capture_id": desk.weigh(9000)})
    assert done.json()["number"] == "2026-000001"  # refusals took no number
    refused(post(desk, path, {"capture_id": desk.weigh(9000)}), 409, "ticket_not_open")


def test_scale_events_in_the_span_are_kept_with_the_ticket(desk, influx, site, clock):
    scale_event(influx, site, "left_before_capture", clock.now - 40 * MIN)  # before the span
    kept = scale_event(influx, site, "left_before_capture", clock.now - 11 * MIN)
    scale_event(influx, site, "not_back_to_zero", clock.now - 6 * MIN, scale="wb2")  # elsewhere
    ticket = post(desk, "", {"plate": "01KG123ABC", "capture_id": desk.weigh(15000, 10)}).json()
    assert [e["id"] for e in ticket["scale_events"]] == [kept]
    later = scale_event(influx, site, "not_back_to_zero", clock.now - 3 * MIN)
    done = post(desk, f"/{ticket['id']}/second", {"capture_id": desk.weigh(9000)}).json()
    assert [(e["id"], e["kind"]) for e in done["scale_events"]] == [
        (kept, "left_before_capture"),
        (later, "not_back_to_zero"),
    ]


def test_captures_without_a_ticket_are_listed(desk, clock):
    used = desk.weigh(15000, ago=40)
    forgotten = desk.weigh(12000, ago=30)
    desk.weigh(11000, ago=5)  # still within the grace time (15 min)
    post(desk, "", {"plate": "01KG123ABC", "capture_id": used})  # too old: refused, unused
    listed = desk.get("/api/v1/tickets/unticketed-captures").json()
    assert [(c["id"], c["weight_kg"], c["age_min"]) for c in listed] == [
        (used, 15000, 40.0),
        (forgotten, 12000, 30.0),
    ]
    ticket = post(desk, "", {"plate": "01KG123ABC", "capture_id": desk.weigh(15100, 20)}).json()
    assert ticket["id"]
    ids = [c["id"] for c in desk.get("/api/v1/tickets/unticketed-captures").json()]
    assert ticket["weights"][0]["capture_id"] not in ids


def test_ticket_list_filters(desk, clock):
    post(desk, "", {"plate": "08KG777XYZ", "capture_id": desk.weigh(20000), "stored_tare": True})
    post(desk, "", {"plate": "01KG123ABC", "capture_id": desk.weigh(15000)})
    assert desk.get("/api/v1/tickets", params={"plate": "08 777 xyz"}).json()["count"] == 1
    assert desk.get("/api/v1/tickets", params={"client": "tazalyk"}).json()["count"] == 2
    assert desk.get("/api/v1/tickets", params={"status": "completed"}).json()["count"] == 1
    since = (clock.now + MIN).isoformat()
    assert desk.get("/api/v1/tickets", params={"since": since}).json()["count"] == 0
    assert desk.get("/api/v1/tickets/12345").status_code == 404


def test_the_ledger_itself_refuses_a_void_by_an_operator(desk, clock):
    """Voids are guarded twice: by the route's role set, and by the ledger for any caller."""
    done = post(
        desk, "", {"plate": "08KG777XYZ", "capture_id": desk.weigh(23000), "stored_tare": True}
    ).json()
    app = desk.app
    operator = Caller("token", "bakyt", "bakyt", Role.operator, None, "", clock.now, None)
    with app.state.sessions() as session:
        site = session.scalar(select(Site).where(Site.code == app.state.settings.site))
        ledger = Desk(session, site, app.state.influx, app.state.settings, operator)
        with pytest.raises(Refusal) as refusal:
            void_ticket(ledger, done["id"], "typo")
    assert (refusal.value.code, refusal.value.status) == ("void_needs_supervisor", 403)
    assert refusal.value.message("en") == "Only a supervisor may void a ticket"
    assert desk.get(f"/api/v1/tickets/{done['id']}").json()["status"] == "completed"


def test_who_acts_is_the_login_not_a_header(desk):
    """X-Actor headers say nothing; a logged-in user's full name is written on the ticket."""
    pretend = auth_headers(desk, OPERATOR) | {"X-Actor": "aigul", "X-Actor-Role": "supervisor"}
    manual = {"plate": "01KG123ABC", "manual_kg": 15000, "scale": "wb1", "reason": "indicator off"}
    keyed = desk.post("/api/v1/tickets", json=manual, headers=pretend, params={"lang": "en"})
    refused(keyed, 403, "manual_needs_supervisor")
    opened = desk.post(
        "/api/v1/tickets",
        json={"plate": "01KG123ABC", "capture_id": desk.weigh(15000)},
        headers=pretend,
    )
    assert opened.status_code == 201, opened.text
    assert (opened.json()["opened_by"], opened.json()["weights"][0]["actor_role"]) == (
        "bakyt",
        "operator",
    )

    add_user(desk.app, "nurlan", "supervisor", full_name="Нурлан Осмонов")
    browser = client_for(desk.app)
    assert login(browser, "nurlan").status_code == 303
    path = f"/api/v1/tickets/{opened.json()['id']}"
    done = browser.post(f"{path}/second", json={"capture_id": desk.weigh(9000)})
    assert done.status_code == 200, done.text
    assert (done.json()["opened_by"], done.json()["completed_by"]) == ("bakyt", "Нурлан Осмонов")
    voided = browser.post(f"{path}/void", json={"reason": "wrong load"})
    assert voided.json()["voided_by"] == "Нурлан Осмонов"
    del browser.headers["X-CSRF-Token"]  # a session's change needs its CSRF token
    assert browser.post(f"{path}/void", json={"reason": "again"}).status_code == 403


def test_every_ticket_change_is_in_the_audit_log(desk, clock):
    opened = post(desk, "", {"plate": "01KG123ABC", "capture_id": desk.weigh(14560, 9)}).json()
    refused(
        post(desk, "", {"plate": "02KG100HLD", "capture_id": desk.weigh(15000)}),
        409,
        "client_on_hold",
    )
    second = desk.weigh(9020)
    post(desk, f"/{opened['id']}/second", {"capture_id": second})
    one_pass = post(
        desk, "", {"plate": "08KG777XYZ", "capture_id": desk.weigh(23000), "stored_tare": True}
    ).json()
    desk.get(f"/api/v1/tickets/{opened['id']}/pdf", params={"preview": True})  # not a print
    desk.get(f"/api/v1/tickets/{opened['id']}/pdf", headers=auth_headers(desk, OPERATOR))
    post(desk, f"/{opened['id']}/void", {"reason": "wrong client"}, who=SUPERVISOR)

    rows = desk.get("/api/v1/audit", params={"action": "ticket."}).json()["data"]
    made = [(r["action"], r["target"], r["actor"], r["role"]) for r in reversed(rows)]
    first, done = str(opened["id"]), str(one_pass["id"])
    assert made == [  # the refused ticket left no row
        ("ticket.open", first, "token:bakyt", "operator"),
        ("ticket.complete", first, "token:bakyt", "operator"),
        ("ticket.open", done, "token:bakyt", "operator"),
        ("ticket.complete", done, "token:bakyt", "operator"),
        ("ticket.print", first, "token:bakyt", "operator"),
        ("ticket.void", first, "token:aigul", "supervisor"),
    ]
    by_action = {(r["action"], r["target"]): r for r in rows}
    completed = by_action[("ticket.complete", first)]["after"]
    assert (completed["number"], completed["net_kg"], completed["status"]) == (
        "2026-000001",
        5540,
        "completed",
    )
    assert [w["capture_id"] for w in completed["weights"]] == [
        opened["weights"][0]["capture_id"],
        second,
    ]
    assert by_action[("ticket.open", done)]["after"]["status"] == "open"
    assert by_action[("ticket.print", first)]["after"] == {"number": "2026-000001", "copy": 1}
    void = by_action[("ticket.void", first)]
    assert (void["before"]["status"], void["after"]["status"]) == ("completed", "voided")
    assert void["after"]["void_reason"] == "wrong client"
