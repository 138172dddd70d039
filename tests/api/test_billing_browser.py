"""The billing page and the client portal in real headless Chromium against uvicorn.

An accountant logs in, opens October's statement of a client, issues its invoice with the
page's button, cancels it with a credit note (the reason typed in the prompt) and runs the
month; the client's user logs in and sees its own invoice on its page. Nothing is loaded from
outside.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.billing_seed import NAMES, add_ticket, seed_billing
from tests.api.conftest import add_user
from tests.api.served import serve_api
from tests.api.test_billing_portal import october
from tests.browser import log_in, new_page

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def served(broker, influx, site, tmp_path, clock) -> Iterator[str]:
    """The API with two clients' October tickets, served by uvicorn in a thread."""
    with serve_api(broker, influx, site, tmp_path, clock) as api:
        app = api.app
        seeded = seed_billing(app, site)
        tariff = {"code": "all", "unit": "t", "price": "445.00", "valid_from": "2026-01-01"}
        posted = httpx.post(f"{api.url}/api/v1/billing/tariffs", json=tariff, headers=api.admin)
        assert posted.status_code == 201
        for day in (3, 9):
            add_ticket(app, seeded, "alpha", "msw", 10000 + day * 20, october(day))
            add_ticket(app, seeded, "beta", "msw", 5000, october(day))
        add_user(app, "kanykei", "billing", full_name="Kanykei")
        add_user(app, "alpha-user", "client", client="alpha")
        yield api.url


def test_issue_credit_and_run_from_the_page_then_the_client_sees_its_invoice(served, browser):
    page, external = new_page(browser)
    page.goto(f"{served}/billing?month=2026-10&client=alpha&lang=ru")
    log_in(page, "kanykei")
    assert "Ежемесячная выписка" in page.inner_text("#statement h2")
    # 10.06 t and 10.18 t at 445 som: 4476.70 + 4530.10 = 9006.80; VAT per line 537.20 +
    # 543.61 = 1080.81, a tyiyn less than 12 % of the sum (1080.816): totals are sums of lines
    assert "10087.61" in page.inner_text("#statement-total")
    with page.expect_navigation():
        page.click("button[data-action=issue]")
    assert page.locator("tr[data-invoice='2026-00001']").count() == 1
    assert page.locator("button[data-action=issue]").count() == 0  # nothing left to invoice
    page.once("dialog", lambda d: d.accept("неверный тариф"))
    with page.expect_navigation():
        page.click("button[data-action=credit]")
    note = page.locator("tr[data-invoice='2026-00002']")
    assert "Кредит-нота" in note.inner_text()
    assert "-10087.61" in note.inner_text()
    with page.expect_navigation():
        page.click("button[data-action=run]")
    numbers = page.eval_on_selector_all(
        "#documents tr[data-invoice]", "rows => rows.map(r => r.dataset.invoice)"
    )
    assert sorted(numbers) == ["2026-00001", "2026-00002", "2026-00003", "2026-00004"]
    assert page.locator("#reconcile-ok").count() == 0  # no points were stored: days differ
    assert external == []

    portal, external = new_page(browser)
    portal.goto(f"{served}/portal?month=2026-10&lang=ky")
    log_in(portal, "alpha-user")
    text = portal.inner_text("main")
    assert NAMES["alpha"] in text
    assert NAMES["beta"] not in text
    rows = portal.eval_on_selector_all(
        "#documents tr[data-invoice]", "rows => rows.map(r => r.dataset.invoice)"
    )
    assert sorted(rows) == ["2026-00001", "2026-00002", "2026-00003"]  # beta's is 2026-00004
    assert external == []
