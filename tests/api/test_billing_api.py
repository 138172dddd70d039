"""Billing through the API on SQLite and PostgreSQL: tariffs, statements, invoices, credit
notes, the invoice run, and the PDF, CSV and ESF files.

The month billed is October 2026 in Bishkek (UTC+6); the clock stands on 24 November 2026.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from api.billing.revenue import billed_revenue
from api.db import Site
from tests.api.billing_seed import INNS, add_ticket, seed_billing

pytestmark = pytest.mark.integration
D = Decimal
BISHKEK = timedelta(hours=6)


def local(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    """A Bishkek wall-clock time of 2026 as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - BISHKEK


TARIFFS = [
    {"code": "msw-1", "waste_type": "msw", "unit": "t", "price": "445.00", "min_charge": "250.00",
     "valid_from": "2026-01-01", "valid_to": "2026-10-15"},
    {"code": "msw-2", "waste_type": "msw", "unit": "t", "price": "500.00", "min_charge": "250.00",
     "valid_from": "2026-10-16"},
    {"code": "firms-construction", "client_group": "firms", "waste_type": "construction",
     "unit": "m3", "price": "361.00", "valid_from": "2026-01-01"},
    {"code": "construction", "waste_type": "construction", "unit": "t", "price": "2430.00",
     "valid_from": "2026-01-01"},
    {"code": "gamma-load", "client": "gamma", "unit": "load", "price": "1500.00", "vat": False,
     "valid_from": "2026-01-01"},
]  # fmt: skip


@pytest.fixture
def database_url(any_database_url):
    return any_database_url


@pytest.fixture
def billed(make_api, site, clock):
    """The API with tariffs and October's tickets; yields (api, seeded, ticket numbers)."""
    api = make_api(clock=clock)
    seeded = seed_billing(api.app, site)
    for body in TARIFFS:
        resp = api.post("/api/v1/billing/tariffs", json=body)
        assert resp.status_code == 201, resp.text
    tickets = {
        "a1": add_ticket(api.app, seeded, "alpha", "msw", 14560, local(10, 10)),
        "a-void": add_ticket(api.app, seeded, "alpha", "msw", 9999, local(12, 9), "voided"),
        "a2": add_ticket(api.app, seeded, "alpha", "msw", 400, local(15, 23, 59)),  # minimum
        "a3": add_ticket(api.app, seeded, "alpha", "msw", 10000, local(16, 0, 1)),  # new price
        "a4": add_ticket(api.app, seeded, "alpha", "construction", 8000, local(20, 12)),  # m³
        "a5": add_ticket(api.app, seeded, "alpha", "msw", 1000, local(31, 23, 30)),  # still Oct
        "a-nov": add_ticket(api.app, seeded, "alpha", "msw", 1000, local(1, 0, 10, month=11)),
        "b1": add_ticket(api.app, seeded, "beta", "msw", 2000, local(5, 8)),
        "g1": add_ticket(api.app, seeded, "gamma", "tires", 5000, local(7, 8)),
        "d1": add_ticket(api.app, seeded, "delta", "tires", 3000, local(9, 8)),
    }
    return api, seeded, {k: v[1] for k, v in tickets.items()}


def pdf_text(content: bytes) -> str:
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return text.replace("\u2009", "").replace(" ", "")


def test_statement_prices_every_ticket_by_the_tariff_of_its_day(billed):
    api, _, numbers = billed
    resp = api.get("/api/v1/billing/statements/alpha", params={"month": "2026-10"})
    assert resp.status_code == 200, resp.text
    st = resp.json()
    lines = {x["ticket"]: x for x in st["lines"]}
    # every completed ticket of the local month, none voided, none of 1 November local
    assert list(lines) == [numbers[k] for k in ("a1", "a2", "a3", "a4", "a5")]
    want = {
        "a1": ("msw-1", "14.560", "6479.20", "777.50", "7256.70", False),
        "a2": ("msw-1", "0.400", "250.00", "30.00", "280.00", True),  # 178.00 < minimum
        "a3": ("msw-2", "10.000", "5000.00", "600.00", "5600.00", False),
        "a4": ("firms-construction", "16.000", "5776.00", "693.12", "6469.12", False),
        "a5": ("msw-2", "1.000", "500.00", "60.00", "560.00", False),
    }
    for key, (tariff, qty, net, vat, total, minimum) in want.items():
        x = lines[numbers[key]]
        got = (x["tariff"], x["quantity"], x["net"], x["vat"], x["total"], x["minimum"])
        assert got == (tariff, qty, net, vat, total, minimum), key
    assert st["by_waste"]["msw"] == {
        "tickets": 4, "net_kg": 25960, "net": "12229.20", "vat": "1467.50",
        "sales_tax": "0.00", "total": "13696.70",
    }  # fmt: skip
    assert st["totals"] == {
        "tickets": 5, "net_kg": 33960, "net": "18005.20", "vat": "2160.62",
        "sales_tax": "0.00", "total": "20165.82",
    }  # fmt: skip
    assert (st["to_invoice"], st["unpriced"]) == (5, 0)
    # beta pays no VAT (not a payer); gamma's own per-load tariff bears none
    beta = api.get("/api/v1/billing/statements/beta", params={"month": "2026-10"}).json()
    assert (beta["totals"]["net"], beta["totals"]["vat"]) == ("890.00", "0.00")
    gamma = api.get("/api/v1/billing/statements/gamma", params={"month": "2026-10"}).json()
    assert (gamma["lines"][0]["unit"], gamma["totals"]["total"]) == ("load", "1500.00")
    delta = api.get("/api/v1/billing/statements/delta", params={"month": "2026-10"}).json()
    assert (delta["unpriced"], delta["lines"][0]["unpriced"]) == (1, "no_tariff")
    nov = api.get("/api/v1/billing/statements/alpha", params={"month": "2026-11"}).json()
    assert [x["ticket"] for x in nov["lines"]] == [numbers["a-nov"]]


def test_sales_tax_from_the_settings(make_api, site, clock):
    api = make_api(clock=clock, billing_sales_tax_pct="2", billing_vat_pct="12")
    seeded = seed_billing(api.app, site)
    assert api.post("/api/v1/billing/tariffs", json=TARIFFS[1]).status_code == 201
    add_ticket(api.app, seeded, "alpha", "msw", 1235, local(20, 10))
    st = api.get("/api/v1/billing/statements/alpha", params={"month": "2026-10"}).json()
    # 1.235 t x 500 = 617.50; VAT 74.10; sales tax 12.35
    assert st["totals"] | {"tickets": 0} == {
        "tickets": 0, "net_kg": 1235, "net": "617.50", "vat": "74.10",
        "sales_tax": "12.35", "total": "703.95",
    }  # fmt: skip


def test_tariffs_refuse_overlaps_unknown_codes_and_deleting_a_used_one(billed):
    api, _, _ = billed
    overlap = {"code": "msw-3", "waste_type": "msw", "unit": "t", "price": "1.00",
               "valid_from": "2026-10-01", "valid_to": "2026-10-05"}  # fmt: skip
    resp = api.post("/api/v1/billing/tariffs", json=overlap, params={"lang": "ru"})
    assert (resp.status_code, resp.json()["code"]) == (409, "tariff_overlap")
    assert "msw-1" in resp.json()["detail"]
    assert "Тариф" in resp.json()["detail"]
    # another scope may overlap: a client's own tariff
    assert api.post("/api/v1/billing/tariffs", json=overlap | {"client": "beta"}).status_code == 201
    resp = api.post("/api/v1/billing/tariffs", json=overlap | {"code": "x", "waste_type": "nope"})
    assert (resp.status_code, resp.json()["code"]) == (422, "waste_unknown")
    resp = api.post("/api/v1/billing/tariffs", json=overlap | {"code": "msw-1"})
    assert (resp.status_code, resp.json()["code"]) == (409, "tariff_exists")
    # change: ending msw-2 early is fine; moving msw-2 into msw-1's dates is not
    resp = api.patch("/api/v1/billing/tariffs/msw-2", json={"valid_to": "2026-12-31"})
    assert resp.json()["valid_to"] == "2026-12-31"
    resp = api.patch("/api/v1/billing/tariffs/msw-2", json={"valid_from": "2026-10-15"})
    assert resp.json()["code"] == "tariff_overlap"
    assert api.patch("/api/v1/billing/tariffs/msw-2", json={"price": "-3"}).status_code == 422
    listed = api.get("/api/v1/billing/tariffs", params={"on": "2026-10-16"}).json()
    assert {t["code"] for t in listed} == {
        "msw-2",
        "firms-construction",
        "construction",
        "gamma-load",
    }
    assert (
        api.post(
            "/api/v1/billing/invoices", json={"client": "beta", "month": "2026-10"}
        ).status_code
        == 201
    )
    # beta's ticket of 5 October was priced by its own msw-3 (1.00 som a tonne)
    inv = api.get("/api/v1/billing/invoices", params={"client": "beta"}).json()[0]
    assert inv["net"] == "2.00"
    resp = api.delete("/api/v1/billing/tariffs/msw-3")
    assert (resp.status_code, resp.json()["code"]) == (409, "tariff_in_use")
    assert api.delete("/api/v1/billing/tariffs/construction").status_code == 204
    assert api.get("/api/v1/billing/tariffs/construction").status_code == 404


def test_an_invoice_is_issued_once_cannot_change_and_a_credit_note_corrects_it(billed, site):
    api, _, numbers = billed
    body = {"client": "alpha", "month": "2026-10"}
    resp = api.post("/api/v1/billing/invoices", json=body)
    assert resp.status_code == 201, resp.text
    inv = resp.json()
    assert (inv["number"], inv["kind"], inv["total"], inv["net"]) == (
        "2026-00001", "invoice", "20165.82", "18005.20",
    )  # fmt: skip
    assert inv["issued_on"] == "2026-11-24"
    assert [x["ticket"] for x in inv["lines"]] == [
        numbers[k] for k in ("a1", "a2", "a3", "a4", "a5")
    ]
    again = api.post("/api/v1/billing/invoices", json=body)
    assert (again.status_code, again.json()["code"]) == (409, "nothing_to_invoice")
    st = api.get("/api/v1/billing/statements/alpha", params={"month": "2026-10"}).json()
    assert {x["invoice"] for x in st["lines"]} == {"2026-00001"}
    assert st["to_invoice"] == 0
    # no route changes or deletes an issued invoice
    url = f"/api/v1/billing/invoices/{inv['id']}"
    for method in ("PUT", "PATCH", "DELETE"):
        assert api.request(method, url, json={"total": "1.00"}).status_code == 405, method
    assert api.get(url).json()["total"] == "20165.82"
    # a credit note needs a reason, cancels once, and is not itself cancelled
    resp = api.post(f"{url}/credit", json={"reason": " "})
    assert (resp.status_code, resp.json()["code"]) == (422, "credit_needs_reason")
    resp = api.post(f"{url}/credit", json={"reason": "wrong tariff group"})
    assert resp.status_code == 201, resp.text
    note = resp.json()
    assert (note["number"], note["kind"], note["credits"], note["total"]) == (
        "2026-00002", "credit_note", "2026-00001", "-20165.82",
    )  # fmt: skip
    assert [x["total"] for x in note["lines"]] == [
        "-7256.70",
        "-280.00",
        "-5600.00",
        "-6469.12",
        "-560.00",
    ]
    assert api.get(url).json()["credited_by"] == "2026-00002"
    resp = api.post(f"{url}/credit", json={"reason": "twice"})
    assert (resp.status_code, resp.json()["code"]) == (409, "already_credited")
    resp = api.post(f"/api/v1/billing/invoices/{note['id']}/credit", json={"reason": "x"})
    assert (resp.status_code, resp.json()["code"]) == (409, "credit_of_credit")
    # the tickets are free again: the corrected invoice takes the next number
    resp = api.post("/api/v1/billing/invoices", json=body)
    assert (resp.status_code, resp.json()["number"]) == (201, "2026-00003")
    with api.app.state.sessions() as session:
        site_id = session.scalar(select(Site.id).where(Site.code == site))
        revenue = billed_revenue(session, site_id, date(2026, 11, 1), date(2026, 12, 1))
    assert revenue == D("18005.20")  # invoice - credit note + corrected invoice
    audit = api.get("/api/v1/audit", params={"action": "invoice."}).json()
    assert [a["action"] for a in audit["data"]] == [
        "invoice.issue",
        "invoice.credit",
        "invoice.issue",
    ]
    assert audit["data"][1]["after"]["credits"] == inv["id"]


def test_refusals_unpriced_unknown_and_future_months(billed):
    api, _, numbers = billed
    resp = api.post("/api/v1/billing/invoices", json={"client": "delta", "month": "2026-10"})
    assert (resp.status_code, resp.json()["code"]) == (409, "unpriced")
    assert resp.json()["values"] == {
        "client": "delta",
        "tickets": 1,
        "ticket": numbers["d1"],
        "why": "no_tariff",
    }
    resp = api.post("/api/v1/billing/invoices", json={"client": "alpha", "month": "2026-12"})
    assert (resp.status_code, resp.json()["code"]) == (422, "month_not_started")
    resp = api.post("/api/v1/billing/invoices", json={"client": "nobody", "month": "2026-10"})
    assert (resp.status_code, resp.json()["code"]) == (422, "client_unknown")
    assert (
        api.post(
            "/api/v1/billing/invoices", json={"client": "alpha", "month": "2026-13"}
        ).status_code
        == 422
    )
    assert api.get("/api/v1/billing/invoices/999999").status_code == 404
    # none of these took a number: the next invoice is the first
    resp = api.post("/api/v1/billing/invoices", json={"client": "beta", "month": "2026-10"})
    assert resp.json()["number"] == "2026-00001"


def test_the_invoice_run_bills_every_client_and_says_whom_it_skipped(billed):
    api, _, _ = billed
    assert (
        api.post(
            "/api/v1/billing/invoices", json={"client": "alpha", "month": "2026-10"}
        ).status_code
        == 201
    )
    resp = api.post("/api/v1/billing/runs", json={"month": "2026-10"})
    assert resp.status_code == 200, resp.text
    run = resp.json()
    assert [(i["client"], i["number"], i["total"]) for i in run["issued"]] == [
        ("beta", "2026-00002", "890.00"),
        ("gamma", "2026-00003", "1500.00"),
    ]
    assert [(s["client"], s["code"]) for s in run["skipped"]] == [
        ("alpha", "nothing_to_invoice"),
        ("delta", "unpriced"),
    ]
    # repeated: nothing new
    again = api.post("/api/v1/billing/runs", json={"month": "2026-10"}).json()
    assert again["issued"] == []
    listed = api.get("/api/v1/billing/invoices", params={"month": "2026-10"}).json()
    assert sorted(i["number"] for i in listed) == ["2026-00001", "2026-00002", "2026-00003"]
    assert [
        i["number"] for i in api.get("/api/v1/billing/invoices", params={"client": "beta"}).json()
    ] == ["2026-00002"]


def test_pdf_in_kyrgyz_and_russian_csv_and_esf_carry_the_totals(billed):
    api, _, numbers = billed
    inv = api.post("/api/v1/billing/invoices", json={"client": "alpha", "month": "2026-10"}).json()
    url = f"/api/v1/billing/invoices/{inv['id']}"
    ky = api.get(f"{url}/pdf", params={"lang": "ky"})
    assert (ky.status_code, ky.headers["content-type"]) == (200, "application/pdf")
    text = pdf_text(ky.content)
    for want in ("Эсеп-фактура", "№2026-00001", "Төлөөгө", "20165.82", "18005.20", "2160.62",
                 INNS["alpha"], numbers["a1"], "6479.20", "мин."):  # fmt: skip
        assert want in text, want
    ru = pdf_text(api.get(f"{url}/pdf", params={"lang": "ru"}).content)
    for want in ("Счёт-фактура", "Итогокоплате", "20165.82", "НДС12%", "Строительныеотходы"):
        assert want in ru, want
    rows = list(csv.DictReader(io.StringIO(api.get(f"{url}/csv").text)))
    assert [r["ticket"] for r in rows] == [numbers[k] for k in ("a1", "a2", "a3", "a4", "a5")]
    assert sum(D(r["total"]) for r in rows) == D("20165.82")
    assert rows[1]["minimum"] == "true"
    esf = api.get(f"{url}/esf")
    assert esf.headers["content-type"] == "application/xml"
    root = ET.fromstring(esf.content)
    r = root.find("receipt")
    assert r is not None
    assert (r.findtext("documentNumber"), r.findtext("contractorTin")) == (
        "2026-00001",
        INNS["alpha"],
    )
    assert (r.findtext("totalAmount"), r.findtext("totalVatAmount")) == ("20165.82", "2160.62")
    goods = r.findall("goods/good")
    assert [(g.findtext("unit"), g.findtext("quantity"), g.findtext("price")) for g in goods] == [
        ("тонна", "14.560", "445.00"),
        ("рейс", "1", "250.00"),  # the minimum charge, per load
        ("тонна", "11.000", "500.00"),
        ("куб. м", "16.000", "361.00"),
    ]
    assert sum(D(g.findtext("totalAmount") or "0") for g in goods) == D("20165.82")
    # the credit note prints as one, with the invoice it cancels
    note = api.post(f"{url}/credit", json={"reason": "ошибка"}).json()
    text = pdf_text(
        api.get(f"/api/v1/billing/invoices/{note['id']}/pdf", params={"lang": "ru"}).content
    )
    assert "Кредит-нота" in text
    assert "-20165.82" in text
    assert "2026-00001" in text
    correction = ET.fromstring(api.get(f"/api/v1/billing/invoices/{note['id']}/esf").content)
    assert correction.findtext("receipt/documentType") == "correction"
    assert correction.findtext("receipt/correctedDocumentNumber") == "2026-00001"


def test_the_billing_page_shows_the_statement_documents_and_reconciliation(billed):
    api, _, numbers = billed
    api.post("/api/v1/billing/invoices", json={"client": "beta", "month": "2026-10"})
    page = api.get("/billing", params={"month": "2026-10", "client": "alpha", "lang": "ru"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "Ежемесячная выписка" in html
    assert numbers["a1"] in html
    assert "20165.82" in html
    assert 'data-invoice="2026-00001"' in html  # beta's invoice in the month's documents
    assert 'data-action="issue"' in html
    assert 'data-action="run"' in html
    assert "billing.js" in html
    assert "https://" not in html
    # the default month is the last complete one
    assert 'value="2026-10"' in api.get("/billing").text


def test_client_groups_are_set_by_billing(billed):
    api, _, _ = billed
    resp = api.patch("/api/v1/billing/clients/beta", json={"tariff_group": "firms"})
    assert resp.json()["tariff_group"] == "firms"
    assert (
        api.patch("/api/v1/billing/clients/beta", json={"tariff_group": "a b"}).status_code == 422
    )
    assert api.patch("/api/v1/billing/clients/nope", json={"tariff_group": ""}).status_code == 422
    groups = {c["code"]: c["tariff_group"] for c in api.get("/api/v1/billing/clients").json()}
    assert groups == {"alpha": "firms", "beta": "firms", "gamma": "", "delta": ""}
