"""The inflow page and the council's report in real headless Chromium against a real API.

An auditor (the council's monitoring group) logs in, reads October's tonnage by day, by tag
and the capacity, follows a client's link to the filtered page, then opens the council's
report in Russian and Kyrgyz and its PDF. Every figure is checked against the seeded
scenario (tests/api/inflow_seed.py), and nothing is fetched from outside the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from tests.api.conftest import add_user
from tests.api.inflow_seed import by_key, counted, seed_council
from tests.api.served import serve_api
from tests.browser import log_in, new_page

pytestmark = [pytest.mark.integration, pytest.mark.browser]

OCTOBER = counted(date(2026, 10, 1), date(2026, 10, 31))


@pytest.fixture
def base_url(broker, influx, site, tmp_path, clock) -> Iterator[str]:
    """The API with the council scenario, served by uvicorn; the auditor is "gulnara"."""
    with serve_api(broker, influx, site, tmp_path, clock) as served:
        add_user(served.app, "gulnara", "auditor", full_name="Gulnara")
        with httpx.Client(base_url=served.url, headers=served.admin) as client:
            client.app = served.app  # seed_council writes invoices straight into the database
            seed_council(client, influx, site)
        yield served.url


@pytest.fixture
def page(base_url, browser):
    """A Chromium page logged in as the auditor; it records requests that leave the API."""
    tab, outside = new_page(browser, inside=base_url)
    tab.outside = outside  # type: ignore[attr-defined]
    tab.goto(f"{base_url}/inflow")
    log_in(tab, "gulnara")
    return tab


def _rows(page, table: str) -> dict[str, tuple[int, int]]:
    return {
        key: (int(kg), int(n))
        for key, kg, n in page.eval_on_selector_all(
            f"#{table} tbody tr",
            "rows => rows.map(r => [r.dataset.key ?? r.dataset.start, r.dataset.netKg,"
            " r.dataset.tickets])",
        )
    }


def test_the_inflow_page_shows_the_seeded_figures(base_url, page, tmp_path):
    page.goto(f"{base_url}/inflow?start=2026-10-01&end=2026-10-31&step=day&lang=en")
    page.screenshot(path=str(tmp_path / "inflow-october.png"), full_page=True)
    assert page.get_attribute("#total-t", "data-net-kg") == str(sum(s.net_kg for s in OCTOBER))
    assert page.inner_text("#total-t") == "23.70 t"
    assert page.inner_text("#total-tickets") == "5"

    days = _rows(page, "series")
    assert len(days) == 31
    want = by_key(OCTOBER, lambda s: s.day.isoformat())
    assert {k: v for k, v in days.items() if v[1]} == want
    first = page.inner_text("#series tbody tr[data-start='2026-10-01']")
    assert first.split() == ["2026-10-01", "2.50", "1"]  # 00:30 Bishkek, 30 September UTC
    bars = page.locator("#series-panel svg rect.bar")
    assert bars.count() == 31
    fifth = "#series-panel svg rect.bar[data-key='2026-10-05']"
    assert page.get_attribute(fifth, "data-value") == "10.2"  # 9,000 + 1,200 kg

    for tag in ("waste_type", "zone", "client", "vehicle"):
        want = by_key(OCTOBER, lambda s, tag=tag: getattr(s, tag) or "")
        assert _rows(page, f"by-{tag}") == want, tag
    assert "(none)" in page.inner_text("#by-client tbody tr[data-key='']")

    recorded = sum(s.net_kg for s in counted())
    assert page.get_attribute("#cap-recorded", "data-net-kg") == str(recorded)
    assert float(page.get_attribute("#cap-remaining", "data-value")) == pytest.approx(
        368_000 * 0.8 - recorded / 1000
    )

    # a client's name leads to the page of that client alone
    with page.expect_navigation():
        page.click("#by-client tbody tr[data-key='tazalyk'] a")
    assert "client=tazalyk" in page.url
    assert page.get_attribute("#total-t", "data-net-kg") == "15600"
    assert list(_rows(page, "by-vehicle")) == ["03KG777CCC", "04KG999DDD"]
    assert page.outside == []


def test_the_council_report_in_russian_and_kyrgyz(base_url, page, tmp_path):
    page.goto(f"{base_url}/reports/council?month=2026-10&lang=ru")
    page.screenshot(path=str(tmp_path / "council-ru.png"), full_page=True)
    assert page.inner_text("#title") == "Ежемесячный отчёт мониторинга"
    assert page.inner_text("#month") == "октябрь 2026"

    def cells(key: str) -> list[str]:
        return page.inner_text(f"#indicators tr[data-indicator={key}]").split("\t")

    assert cells("tonnage") == ["Принято отходов на полигоне, т", "23,70", "8,00"]
    assert cells("tickets")[1:] == ["5", "1"]
    assert cells("legal_tickets")[1:] == ["4", "1"]
    assert [c.replace("\xa0", " ") for c in cells("revenue")[1:]] == ["3\u2009000,00", "500,00"]
    assert cells("collections")[1:] == ["9", "1"]
    assert cells("before_full")[1:] == ["77,8", "0,0"]
    assert cells("overflow_hours")[1:] == ["11", "1"]
    assert cells("on_schedule")[1:] == ["61,5", "7,7"]
    assert page.inner_text("#settlements tr[data-settlement=Dostuk]").split("\t") == [
        "Достук",
        "2",
        "9",
        "7",
        "1",
        "77,8",
    ]  # fmt: skip  (registered "Dostuk", named as Russian spells it)
    assert page.inner_text("#settlements tr[data-settlement-total]").split("\t")[:4] == [
        "Итого", "3", "13", "8",
    ]  # fmt: skip
    assert page.locator("#trend svg rect.bar").count() == 6
    assert page.get_attribute("#trend svg rect.bar[data-key='2026-10']", "data-value") == "23.7"
    # on paper, the page's controls are left out
    page.emulate_media(media="print")
    assert not page.is_visible("#print")
    assert page.is_visible("#indicators")
    page.emulate_media(media="screen")
    pdf = page.request.get(base_url + page.get_attribute("#pdf-ru", "href"))
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    with page.expect_navigation():
        page.click("a[data-lang-link=ky]")
    assert page.inner_text("#title") == "Айлык мониторинг отчёту"
    assert page.inner_text("#month") == "октябрь 2026"
    assert cells("tonnage")[0] == "Полигонго кабыл алынган калдыктар, т"
    page.screenshot(path=str(tmp_path / "council-ky.png"), full_page=True)
    assert page.outside == []
