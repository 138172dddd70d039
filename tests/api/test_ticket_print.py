"""The printed ticket: PDF text (pypdf) and the HTML view carry number, plate, net weight and
the Kyrgyz labels; reprints are counted and marked; voided and manual tickets say so."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader

from api.i18n import translate
from tests.api.weighbridge_seed import OPERATOR, SUPERVISOR, auth_headers, capture, seed_registry

pytestmark = pytest.mark.integration
MIN = timedelta(minutes=1)


@pytest.fixture
def database_url(any_database_url):
    return any_database_url


@pytest.fixture
def completed(make_api, influx, site, clock):
    """A completed two-pass ticket: 14 560 kg in, 9 020 kg out, net 5 540 kg."""
    api = make_api(clock=clock)
    seed_registry(api, site, clock.now)
    first = capture(influx, site, 14560, clock.now - 9 * MIN)
    ticket = api.post(
        "/api/v1/tickets",
        json={"plate": "01 KG 123 ABC", "capture_id": first},
        headers=auth_headers(api, OPERATOR),
    ).json()
    second = capture(influx, site, 9020, clock.now - 1 * MIN)
    api.post(
        f"/api/v1/tickets/{ticket['id']}/second",
        json={"capture_id": second},
        headers=auth_headers(api, OPERATOR),
    )
    return api, ticket["id"]


def pdf_text(content: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"[\s\u2009\u00a0]+", " ", text)


def test_pdf_in_kyrgyz_has_number_plate_net_and_kyrgyz_labels(completed):
    api, ticket_id = completed
    resp = api.get(f"/api/v1/tickets/{ticket_id}/pdf", params={"lang": "ky"})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF")
    text = pdf_text(resp.content)
    assert "2026-000001" in text
    assert "01 KG 123 ABC" in text
    assert "5 540 кг" in text
    for key in ("ticket.title", "ticket.net", "ticket.gross", "ticket.waste", "ticket.keep"):
        assert translate("ky", key) in text, key
    assert {"ң", "ө", "ү"} <= set(text)  # the font has the Kyrgyz letters, and they survive
    assert "Тиричилик калдыктары" in text  # the waste type's Kyrgyz name
    assert "bakyt" in text  # the operator: the name of the token that weighed
    assert "КАЙРА БАСЫЛГАН" not in text  # the original


def test_reprints_are_counted_and_marked(completed):
    api, ticket_id = completed
    preview = api.get(f"/api/v1/tickets/{ticket_id}/pdf", params={"lang": "en", "preview": True})
    assert "REPRINT" not in pdf_text(preview.content)
    assert api.get(f"/api/v1/tickets/{ticket_id}").json()["prints"] == 0  # a preview is no print
    api.get(f"/api/v1/tickets/{ticket_id}/pdf", params={"lang": "en"})
    second = api.get(f"/api/v1/tickets/{ticket_id}/pdf", params={"lang": "ru"})
    assert "ПОВТОРНАЯ ПЕЧАТЬ, экземпляр 2" in pdf_text(second.content)
    third = api.get(f"/api/v1/tickets/{ticket_id}/html", params={"lang": "ky"})
    assert "КАЙРА БАСЫЛГАН, 3-нуска" in third.text
    assert 'data-copy="3"' in third.text
    body = api.get(f"/api/v1/tickets/{ticket_id}").json()
    assert (body["prints"], body["reprints"]) == (3, 2)


def test_voided_and_manual_tickets_say_so_in_print(completed, influx, site, clock):
    api, ticket_id = completed
    api.post(
        f"/api/v1/tickets/{ticket_id}/void",
        json={"reason": "wrong client"},
        headers=auth_headers(api, SUPERVISOR),
    )
    text = pdf_text(api.get(f"/api/v1/tickets/{ticket_id}/pdf", params={"lang": "en"}).content)
    assert "VOIDED" in text
    assert "Voided by aigul, 24.11.2026 10:00: wrong client" in text

    body = {
        "plate": "08KG777XYZ",
        "manual_kg": 21000,
        "scale": "wb1",
        "reason": "indicator off",
        "stored_tare": True,
    }
    manual = api.post("/api/v1/tickets", json=body, headers=auth_headers(api, SUPERVISOR)).json()
    text = pdf_text(api.get(f"/api/v1/tickets/{manual['id']}/pdf", params={"lang": "en"}).content)
    assert "MANUAL WEIGHT" in text
    assert "entered by hand by aigul: indicator off" in text
    assert "stored tare, set 14.11.2026" in text
    assert "12 000 kg" in text  # net


def test_html_view_for_a5_and_the_80mm_roll(completed):
    api, ticket_id = completed
    a5 = api.get(f"/api/v1/tickets/{ticket_id}/html", params={"lang": "ky", "preview": True})
    assert a5.status_code == 200
    assert '<html lang="ky">' in a5.text
    assert "/static/ticket-a5.css" in a5.text
    assert "2026-000001" in a5.text
    assert "01 KG 123 ABC" in a5.text
    assert translate("ky", "ticket.net") in a5.text
    roll = api.get(f"/api/v1/tickets/{ticket_id}/html", params={"paper": "80mm", "preview": True})
    assert "/static/ticket-80mm.css" in roll.text
    assert "size: 80mm 200mm" in api.get("/static/ticket-80mm.css").text  # "80mm auto" is ignored
    assert "size: A5" in api.get("/static/ticket-a5.css").text
    assert api.get(f"/api/v1/tickets/{ticket_id}/html", params={"paper": "A4"}).status_code == 422


def test_an_open_ticket_is_not_printed(make_api, influx, site, clock):
    api = make_api(clock=clock)
    seed_registry(api, site, clock.now)
    first = capture(influx, site, 14560, clock.now - MIN)
    ticket = api.post("/api/v1/tickets", json={"plate": "01KG123ABC", "capture_id": first}).json()
    resp = api.get(f"/api/v1/tickets/{ticket['id']}/pdf", params={"lang": "en"})
    assert (resp.status_code, resp.json()["code"]) == (409, "ticket_not_open")
