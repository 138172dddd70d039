"""Who may call what: the authorization matrix over every route, and anonymous callers.

The matrix is written out here, independently of `api/auth/roles.py`: every route of the
app must have a row, so a new route without an access decision fails this test.
"""

from __future__ import annotations

import re

import pytest

from api.auth.roles import Role
from tests.api.conftest import add_token

pytestmark = pytest.mark.integration

R = Role
EVERYONE = frozenset(Role)
STAFF = EVERYONE - {R.client}
SCALE_DATA = frozenset({R.operator, R.supervisor, R.billing, R.admin, R.auditor})
WEIGHERS = frozenset({R.operator, R.supervisor, R.admin})
SCALE_HOUSE = frozenset({R.operator, R.supervisor, R.admin})
CONTAINERS = frozenset({R.dispatcher, R.supervisor, R.admin, R.auditor})
EDITORS = frozenset({R.supervisor, R.admin})
DISPATCHERS = frozenset({R.dispatcher, R.supervisor, R.admin})
SECURITY = frozenset({R.admin, R.auditor})
ADMIN = frozenset({R.admin})
BILLING = frozenset({R.billing, R.admin, R.auditor})
BILLING_ACT = frozenset({R.billing, R.admin})
CLIENTS = frozenset({R.client})
OPEN = "open"  # anyone, no login: health, the login page, docs, static assets


class Page(frozenset):
    """A page: no login goes to the login page (303), another role sees 403."""


# (method, path) -> who may call it
MATRIX: dict[tuple[str, str], object] = {
    ("GET", "/health"): OPEN,
    ("GET", "/login"): OPEN,
    ("POST", "/login"): OPEN,  # the form's own CSRF token and rate limits guard it
    ("POST", "/logout"): OPEN,  # ends only the caller's own session, with its CSRF token
    ("GET", "/openapi.json"): OPEN,
    ("GET", "/docs"): OPEN,
    ("GET", "/docs/oauth2-redirect"): OPEN,
    ("GET", "/redoc"): OPEN,
    ("GET", "/static"): OPEN,
    ("GET", "/"): Page(EVERYONE),
    ("GET", "/dispatch"): Page(CONTAINERS),
    ("GET", "/dispatch/route"): Page(CONTAINERS),  # the route sheet to print
    ("GET", "/dispatch/containers"): Page(CONTAINERS),  # the auditor sees it without the form
    ("GET", "/operator"): Page(SCALE_HOUSE),
    ("GET", "/api/v1/auth/me"): EVERYONE,
    ("GET", "/api/v1/captures"): SCALE_DATA,
    ("GET", "/api/v1/scales/{scale}/live"): SCALE_DATA,  # a stream; 404 for a scale not registered
    ("GET", "/api/v1/sites"): STAFF,
    ("GET", "/api/v1/scales"): STAFF,
    ("POST", "/api/v1/scales"): ADMIN,
    ("GET", "/api/v1/scales/{code}"): STAFF,
    ("PATCH", "/api/v1/scales/{code}"): ADMIN,
    # the weighbridge registry: staff read, admins change
    ("GET", "/api/v1/clients"): STAFF,
    ("POST", "/api/v1/clients"): ADMIN,
    ("GET", "/api/v1/clients/export"): STAFF,
    ("POST", "/api/v1/clients/import"): ADMIN,
    ("GET", "/api/v1/clients/{code}"): STAFF,
    ("PATCH", "/api/v1/clients/{code}"): ADMIN,
    ("DELETE", "/api/v1/clients/{code}"): ADMIN,
    ("GET", "/api/v1/waste-types"): STAFF,
    ("POST", "/api/v1/waste-types"): ADMIN,
    ("GET", "/api/v1/waste-types/export"): STAFF,
    ("POST", "/api/v1/waste-types/import"): ADMIN,
    ("GET", "/api/v1/waste-types/{code}"): STAFF,
    ("PATCH", "/api/v1/waste-types/{code}"): ADMIN,
    ("DELETE", "/api/v1/waste-types/{code}"): ADMIN,
    ("GET", "/api/v1/vehicles"): STAFF,
    ("POST", "/api/v1/vehicles"): ADMIN,
    ("GET", "/api/v1/vehicles/export"): STAFF,
    ("POST", "/api/v1/vehicles/import"): ADMIN,
    ("GET", "/api/v1/vehicles/{plate}"): STAFF,
    ("PATCH", "/api/v1/vehicles/{plate}"): ADMIN,
    ("DELETE", "/api/v1/vehicles/{plate}"): ADMIN,
    # tickets: a client's own tickets come later; until then a client gets 403
    ("GET", "/api/v1/tickets"): SCALE_DATA,
    ("POST", "/api/v1/tickets"): WEIGHERS,
    ("GET", "/api/v1/tickets/unticketed-captures"): SCALE_DATA,
    ("GET", "/api/v1/tickets/{ticket_id}"): SCALE_DATA,
    ("POST", "/api/v1/tickets/{ticket_id}/second"): WEIGHERS,
    ("POST", "/api/v1/tickets/{ticket_id}/void"): EDITORS,
    ("GET", "/api/v1/tickets/{ticket_id}/pdf"): SCALE_DATA,
    ("GET", "/api/v1/tickets/{ticket_id}/html"): SCALE_DATA,
    ("GET", "/api/v1/containers"): CONTAINERS,
    ("POST", "/api/v1/containers"): DISPATCHERS,  # add one: the dispatcher too (issue 12)
    ("GET", "/api/v1/containers/export"): CONTAINERS,
    ("POST", "/api/v1/containers/import"): EDITORS,
    ("GET", "/api/v1/containers/{code}"): CONTAINERS,
    ("PATCH", "/api/v1/containers/{code}"): DISPATCHERS,  # change one: the dispatcher too
    ("DELETE", "/api/v1/containers/{code}"): EDITORS,
    ("GET", "/api/v1/dispatch/board"): CONTAINERS,
    ("GET", "/api/v1/dispatch/alerts"): CONTAINERS,
    ("POST", "/api/v1/dispatch/alerts/{alert_id}/ack"): DISPATCHERS,
    ("GET", "/api/v1/dispatch/emptyings"): CONTAINERS,
    ("POST", "/api/v1/dispatch/emptyings/{event_id}/confirm"): DISPATCHERS,
    ("POST", "/api/v1/dispatch/emptyings/{event_id}/reject"): DISPATCHERS,
    ("GET", "/api/v1/dispatch/route"): CONTAINERS,
    ("GET", "/api/v1/dispatch/refused"): CONTAINERS,  # today's refused counts per source
    ("GET", "/api/v1/dead-letters"): ADMIN,  # the letters, with excerpts of what came
    ("GET", "/admin/dead-letters"): Page(ADMIN),
    ("GET", "/api/v1/tokens"): SECURITY,
    ("POST", "/api/v1/tokens"): ADMIN,
    ("DELETE", "/api/v1/tokens/{token_id}"): ADMIN,
    ("GET", "/api/v1/users"): SECURITY,
    ("GET", "/api/v1/audit"): SECURITY,
    # billing (issue 13): the accountant reads and acts, the auditor reads; clients: portal only
    ("GET", "/billing"): Page(BILLING),
    ("GET", "/api/v1/billing/tariffs"): BILLING,
    ("POST", "/api/v1/billing/tariffs"): BILLING_ACT,
    ("GET", "/api/v1/billing/tariffs/{code}"): BILLING,
    ("PATCH", "/api/v1/billing/tariffs/{code}"): BILLING_ACT,
    ("DELETE", "/api/v1/billing/tariffs/{code}"): BILLING_ACT,
    ("GET", "/api/v1/billing/clients"): BILLING,
    ("PATCH", "/api/v1/billing/clients/{code}"): BILLING_ACT,
    ("GET", "/api/v1/billing/statements/{client}"): BILLING,
    ("GET", "/api/v1/billing/statements/{client}/csv"): BILLING,
    ("GET", "/api/v1/billing/invoices"): BILLING,
    ("POST", "/api/v1/billing/invoices"): BILLING_ACT,
    ("GET", "/api/v1/billing/invoices/{invoice_id}"): BILLING,
    ("GET", "/api/v1/billing/invoices/{invoice_id}/pdf"): BILLING,
    ("GET", "/api/v1/billing/invoices/{invoice_id}/csv"): BILLING,
    ("GET", "/api/v1/billing/invoices/{invoice_id}/esf"): BILLING,
    ("POST", "/api/v1/billing/invoices/{invoice_id}/credit"): BILLING_ACT,
    ("POST", "/api/v1/billing/runs"): BILLING_ACT,
    ("GET", "/api/v1/billing/reconciliation"): BILLING,
    ("POST", "/api/v1/billing/reconciliation/repair"): BILLING_ACT,
    ("GET", "/portal"): Page(CLIENTS),
    ("GET", "/api/v1/portal/tickets"): CLIENTS,
    ("GET", "/api/v1/portal/statements/{month}"): CLIENTS,
    ("GET", "/api/v1/portal/invoices"): CLIENTS,
    ("GET", "/api/v1/portal/invoices/{invoice_id}"): CLIENTS,
    ("GET", "/api/v1/portal/invoices/{invoice_id}/pdf"): CLIENTS,
}
# landfill inflow and the council's report (the council's monitoring group logs in as auditor)
INFLOW = frozenset({R.billing, R.supervisor, R.admin, R.auditor})
MATRIX |= {
    ("GET", "/inflow"): Page(INFLOW),
    ("GET", "/reports/council"): Page(INFLOW),
    ("GET", "/api/v1/inflow/tonnage"): INFLOW,
    ("GET", "/api/v1/inflow/breakdown"): INFLOW,
    ("GET", "/api/v1/inflow/capacity"): INFLOW,
    ("GET", "/api/v1/reports/council"): INFLOW,
    ("GET", "/api/v1/reports/council/pdf"): INFLOW,
}


def app_routes(app):
    """(method, path, route) of every route, included routers flattened."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers: app.routes is flat
        contexts = app.routes
    else:
        contexts = list(iter_route_contexts(app.routes))
    for ctx in contexts:
        route = getattr(ctx, "original_route", ctx)
        for method in sorted(getattr(ctx, "methods", None) or {"GET"}):
            if method != "HEAD":
                yield method, ctx.path, route


def declared_roles(route) -> list[frozenset]:
    """The role sets of the access dependencies a route declares."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return []
    found, todo = [], list(dependant.dependencies)
    while todo:
        dep = todo.pop()
        if hasattr(dep.call, "roles"):
            found.append(frozenset(dep.call.roles))
        todo.extend(dep.dependencies)
    return found


def test_every_route_has_an_access_decision_and_declares_it(make_api):
    app = make_api().app
    routes = {(m, p): r for m, p, r in app_routes(app)}
    assert set(routes) == set(MATRIX), {
        "routes without a decision": set(routes) - set(MATRIX),
        "decisions without a route": set(MATRIX) - set(routes),
    }
    for key, route in routes.items():
        want = MATRIX[key]
        declared = declared_roles(route)
        if want == OPEN:
            assert declared == [], key
        else:
            assert declared == [frozenset(want)], (key, declared)


def _url(path: str) -> str:
    return re.sub(r"\{token_id\}", "999999", re.sub(r"\{(?!token_id)\w+\}", "nope", path))


def _call(client, method: str, path: str):
    url = _url(path)
    if path == "/static":
        url = "/static/site.css"
    kwargs = {"json": {}} if method in ("POST", "PATCH") and path != "/logout" else {}
    if path in ("/login", "/logout"):
        kwargs = {"data": {}}
    return client.request(method, url, follow_redirects=False, **kwargs)


@pytest.mark.parametrize("who", [None, *Role])
def test_authorization_matrix(make_api, who):
    """Every route against this role (or nobody): the expected status."""
    api = make_api(as_admin=False)
    if who is not None:
        token = add_token(api.app, who, client="acme" if who is Role.client else None)
        api.headers["Authorization"] = f"Bearer {token}"
    wrong = []
    for (method, path), allowed in MATRIX.items():
        resp = _call(api, method, path)
        if allowed == OPEN:
            ok = resp.status_code not in (401, 403) or path == "/login"  # no CSRF: 403
        elif who is None:
            want = 303 if isinstance(allowed, Page) else 401
            ok = resp.status_code == want
            if isinstance(allowed, Page):
                ok = ok and resp.headers["location"].startswith("/login?next=")
        elif who in allowed:
            ok = resp.status_code not in (401, 403)
        else:
            ok = resp.status_code == 403
        if not ok:
            wrong.append((method, path, resp.status_code, resp.text[:120]))
    assert wrong == [], f"as {who or 'anonymous'}"


def test_anonymous_gets_401_on_every_operation_of_the_openapi_document(make_api):
    api = make_api(as_admin=False)
    spec = api.get("/openapi.json").json()
    operations = [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    ]
    assert len(operations) >= 20
    answered = {}
    for method, path, op in operations:
        resp = api.request(method, _url(path), json={} if method != "GET" else None)
        answered[(method, path)] = resp.status_code
        if path != "/health":
            assert op.get("security"), (method, path)  # Swagger shows the lock
    open_ones = {k for k, v in answered.items() if v != 401}
    assert open_ones == {("GET", "/health")}, answered
    # state-changing operations are all among them, none open
    changing = {k for k in answered if k[0] in ("POST", "PATCH", "PUT", "DELETE")}
    assert len(changing) >= 10
    assert all(answered[k] == 401 for k in changing)
    assert "bearer" in str(spec["components"]["securitySchemes"]).lower()


def test_a_bad_or_foreign_authorization_header_is_401_not_anonymous(make_api):
    api = make_api(as_admin=False)
    for header in ("Bearer lft_nope", "Basic YWRtaW46YWRtaW4=", "Bearer ", "lft_x"):
        resp = api.get("/api/v1/sites", headers={"Authorization": header})
        assert resp.status_code == 401, header
        assert resp.headers["www-authenticate"] == "Bearer"
    assert api.get("/health", headers={"Authorization": "Bearer lft_nope"}).status_code == 200
