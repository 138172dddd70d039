"""The dispatcher page in real headless Chromium against a real API (uvicorn on a free port).

The page reads seeded InfluxDB data: a full container is red on the map and in the list, an
alert is acknowledged through the page (and stored, in the logged-in user's name), the
collection list follows plan_route, and the language switch changes the text. A dispatcher
logs in and out; an operator cannot open the dispatcher's page or do its actions.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.board_view import MAP_PINS
from api.routing import Stop, plan_route
from landfill.settings import ApiSettings
from tests.api.conftest import Clock, add_user
from tests.api.seed import SCENARIO
from tests.api.served import Served, serve_dispatch
from tests.browser import log_in, new_page

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def server(broker, influx, site, tmp_path, clock) -> Iterator[Served]:
    """The API with the scenario and accounts, served by uvicorn in a thread.

    Accounts: aigul (dispatcher, "Aigul"), oskon (operator), ainura (auditor).
    """
    with serve_dispatch(broker, influx, site, tmp_path, clock) as served:
        add_user(served.app, "oskon", "operator", full_name="Oskon")
        yield served


def test_board_ack_and_route_in_the_page(server, browser, tmp_path, clock: Clock):
    page, external = new_page(browser)
    page.goto(f"{server.url}/dispatch?lang=en")
    log_in(page, "aigul")
    page.wait_for_selector("body[data-loaded=true]", timeout=15000)
    page.screenshot(path=str(tmp_path / "dispatch-en.png"), full_page=True)

    # the full containers are red on the map and in the list; the others are not
    assert page.get_attribute("#map circle[data-container=full-1]", "data-status") == "red"
    assert page.get_attribute("#map circle[data-container=full-2]", "data-status") == "red"
    assert page.get_attribute("#map circle[data-container=risk-1]", "data-status") == "orange"
    row = page.locator("#containers tbody tr[data-container=full-1]")
    assert row.get_attribute("data-status") == "red"
    assert "Full" in row.inner_text()
    fill = page.evaluate(
        "getComputedStyle(document.querySelector('#map circle[data-container=full-1]')).fill"
    )
    assert fill == "rgb(198, 40, 40)"  # --red

    # filters narrow the list
    page.click("#filters button[data-filter=offline]")
    page.wait_for_selector('body[data-board="filter=offline"]')  # the server's answer is drawn
    codes = page.eval_on_selector_all(
        "#containers tbody tr[data-container]", "rows => rows.map(r => r.dataset.container)"
    )
    assert codes == ["nodata-1", "off-1"]
    page.click("#filters button[data-filter=all]")
    page.wait_for_selector('body[data-board=""]')

    # tomorrow's list is in plan_route order from the depot, and drawn on the map
    settings = ApiSettings()
    coords = {code: (lat, lon) for code, _, lat, lon, _ in SCENARIO}
    listed = page.eval_on_selector_all(
        "#route li[data-container]", "items => items.map(i => i.dataset.container)"
    )
    expected = plan_route(
        Stop("depot", settings.depot_lat, settings.depot_lon),
        [Stop(c, *coords[c]) for c in listed],
    )
    assert set(listed) == {"full-1", "full-2", "risk-1", "sched-1"}
    assert tuple(listed) == expected.order
    assert f"{expected.km:.1f} km" in page.inner_text("#route-total")
    points = page.get_attribute("#route-line", "points")
    assert len(points.split()) == len(listed) + 2  # depot, stops, depot

    # acknowledge through the page: the name is the logged-in user's, nobody types it
    assert page.inner_text("#who").startswith("Aigul")
    assert page.locator("#user").count() == 0
    page.fill("li[data-alert=al-full-1] .note", "truck 2 is on its way")
    page.click("button[data-ack=al-full-1]")
    page.wait_for_selector("li[data-alert=al-full-1] .acked", timeout=10000)
    assert "Acknowledged by Aigul" in page.inner_text("li[data-alert=al-full-1]")
    stored = httpx.get(
        f"{server.url}/api/v1/dispatch/alerts?acknowledged=true", headers=server.admin
    ).json()["data"]
    assert [(a["id"], a["acknowledged"]["note"]) for a in stored] == [
        ("al-full-1", "truck 2 is on its way")
    ]

    # confirm an emptying through the page
    page.click("button[data-confirm=ev-1]")
    page.wait_for_selector("li[data-emptying=ev-1] .decided", timeout=10000)
    assert "Confirmed by Aigul" in page.inner_text("li[data-emptying=ev-1]")
    # times are shown in Bishkek time (UTC+6): the ack happened at 10:00 local
    assert "10:00" in page.inner_text("li[data-alert=al-full-1] .acked")
    assert external == []  # nothing from outside: no CDN, fonts or tiles


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ({"extra_http_headers": {"Accept-Language": "de-DE,de;q=0.9"}}, "ky"),  # the default
        ({"extra_http_headers": {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}}, "ru"),
        ({"extra_http_headers": {"Accept-Language": "en-US,en;q=0.9"}}, "en"),
    ],
)
def test_language_from_accept_language(server, browser, how, expected):
    page, _ = new_page(browser, **how)
    page.goto(f"{server.url}/dispatch")
    assert page.get_attribute("html", "lang") == expected  # the login page's too
    log_in(page, "aigul")
    assert page.get_attribute("html", "lang") == expected


def test_switching_language_changes_the_text(server, browser, tmp_path):
    page, _ = new_page(browser)
    titles = {}
    for lang, link in (("ky", None), ("ru", "ru"), ("en", "en"), ("ky", "ky")):
        if link is None:
            page.goto(f"{server.url}/dispatch?lang=ky")
            log_in(page, "aigul")
        else:
            with page.expect_navigation():
                page.click(f"a[data-lang-link={link}]")
        page.wait_for_selector("body[data-loaded=true]", timeout=15000)
        assert page.get_attribute("html", "lang") == lang
        titles[lang] = (
            page.inner_text("h1"),
            page.inner_text("#alerts-panel h2"),
            page.inner_text("button[data-ack=al-over-2]"),
            page.inner_text("#containers tbody tr[data-container=full-1] td.status"),
        )
        page.screenshot(path=str(tmp_path / f"dispatch-{lang}.png"), full_page=True)
    assert titles["ky"][1] == "Ачык дабылдар"
    assert titles["ru"][1] == "Открытые тревоги"
    assert titles["en"][1] == "Open alerts"
    assert titles["ky"][2:] == ("Кабыл алдым", "Толгон")
    assert titles["ru"][2:] == ("Принято", "Заполнен")
    assert titles["en"][2:] == ("Acknowledge", "Full")
    assert len({v[0] for v in titles.values()}) == 3
    # the choice is remembered in a cookie (Chromium itself asks for en-US)
    page.goto(f"{server.url}/dispatch")
    assert page.get_attribute("html", "lang") == "ky"


def test_the_server_filters_and_pages_and_the_map_follows(server, browser):
    page, external = new_page(browser)
    page.goto(f"{server.url}/dispatch?lang=en")
    log_in(page, "aigul")
    page.wait_for_selector("body[data-loaded=true]", timeout=15000)
    page.select_option("#settlement-filter", "Tendik")
    page.wait_for_selector('body[data-board="settlement=Tendik"]')
    rows = page.eval_on_selector_all(
        "#containers tbody tr[data-container]", "rows => rows.map(r => r.dataset.container)"
    )
    assert rows == ["off-1"]
    pins = page.eval_on_selector_all(
        "#map circle[data-container]", "pins => pins.map(p => p.dataset.container)"
    )
    assert pins == ["off-1"], "the map shows only the filtered containers"
    assert page.inner_text("#page-range") == "1–1 of 1"
    assert page.is_disabled("#page-next")
    assert external == []


def test_the_kyrgyz_page_names_settlements_in_kyrgyz_and_filters_by_the_registered(server, browser):
    """sched-1 is registered in "Bürgöndü", off-1 in "Tendik" (landfill/i18n/settlements/)."""
    page, external = new_page(browser)
    page.goto(f"{server.url}/dispatch?lang=ky")
    log_in(page, "aigul")
    page.wait_for_selector("body[data-loaded=true]", timeout=15000)
    cell = "#containers tbody tr[data-container=sched-1] td:nth-child(2)"
    assert page.inner_text(cell) == "Бүргөндү"
    assert "Теңдик" in page.inner_text("#alerts li[data-alert=al-off-1]")
    assert "Бүргөндү" in (page.text_content("#map") or "")  # its label and pin title
    option = '#settlement-filter option[value="Bürgöndü"]'
    assert page.inner_text(option) == "Бүргөндү"
    page.select_option("#settlement-filter", value="Bürgöndü")
    page.wait_for_selector('body[data-board="settlement=B%C3%BCrg%C3%B6nd%C3%BC"]')
    rows = page.eval_on_selector_all(
        "#containers tbody tr[data-container]", "rows => rows.map(r => r.dataset.container)"
    )
    assert rows == ["sched-1"]
    assert page.inner_text(cell) == "Бүргөндү"
    assert external == []


def test_a_large_site_is_paged_and_clustered(server, browser, tmp_path):
    rows = ["code,settlement,zone,lat,lon,empty_mm,full_mm,collection_weekdays"]
    rows += [
        f"big-{i:03},Settlement {i % 20:02},zone-{i % 4},{41.0 + i % 30 / 100},"
        f"{72.5 + i // 30 / 100},1450,450,{i % 6}"
        for i in range(MAP_PINS + 100)
    ]
    resp = httpx.post(
        f"{server.url}/api/v1/containers/import",
        content="\n".join(rows) + "\n",
        headers={"content-type": "text/csv", **server.admin},
    )
    assert resp.status_code == 200, resp.text
    total = MAP_PINS + 100 + len(SCENARIO)
    page, _ = new_page(browser)
    page.goto(f"{server.url}/dispatch?lang=en")
    log_in(page, "ainura")  # the auditor reads the board too
    page.wait_for_selector("body[data-loaded=true]", timeout=15000)
    assert page.inner_text("#page-range") == f"1–100 of {total}"
    assert page.locator("#containers tbody tr[data-container]").count() == 100
    clusters = page.locator("#map circle[data-cluster]")
    assert clusters.count() > 1
    drawn = page.eval_on_selector_all(
        "#map circle[data-cluster]", "cs => cs.reduce((n, c) => n + Number(c.dataset.cluster), 0)"
    )
    assert drawn == total, "every container is in a cluster"
    assert page.locator("#map circle[data-container]").count() == 0
    page.screenshot(path=str(tmp_path / "dispatch-large.png"), full_page=True)
    page.click("#page-next")
    page.wait_for_function("document.querySelector('#page-range').textContent.startsWith('101')")
    first = page.get_attribute("#containers tbody tr[data-container]", "data-container")
    assert first is not None
    assert first.startswith("big-")


def test_dispatcher_logs_in_acknowledges_and_logs_out(server, browser, tmp_path):
    page, external = new_page(browser, extra_http_headers={"Accept-Language": "en"})
    page.goto(f"{server.url}/")
    assert page.inner_text("h2") == "Sign in"  # sent to the login page
    page.fill("#username", "aigul")
    page.fill("#password", "not her password")
    with page.expect_navigation():
        page.click("form#login button[type=submit]")
    assert page.inner_text("#login-error") == "Wrong username or password"
    log_in(page, "aigul")
    # the home page shows the dispatcher the pages of her role
    pages = page.eval_on_selector_all("#pages li", "items => items.map(i => i.dataset.page)")
    assert pages == ["/dispatch", "/docs"]
    with page.expect_navigation():
        page.click("#pages a[href='/dispatch']")
    page.wait_for_selector("body[data-loaded=true]", timeout=15000)
    page.click("button[data-ack=al-over-2]")
    page.wait_for_selector("li[data-alert=al-over-2] .acked", timeout=10000)
    assert "Acknowledged by Aigul" in page.inner_text("li[data-alert=al-over-2]")
    audit = httpx.get(
        f"{server.url}/api/v1/audit", params={"action": "alert.ack"}, headers=server.admin
    ).json()["data"]
    assert [(e["actor"], e["target"], e["after"]["by"]) for e in audit] == [
        ("aigul", "al-over-2", "Aigul")
    ]
    page.screenshot(path=str(tmp_path / "dispatch-logged-in.png"), full_page=True)

    with page.expect_navigation():
        page.click("#logout")
    assert page.inner_text("#login-notice") == "You have signed out."
    page.goto(f"{server.url}/dispatch")
    assert "/login?next=" in page.url  # the session is gone
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "landfill_session" not in cookies
    assert external == []


def test_an_operator_cannot_open_the_dispatchers_actions(server, browser, tmp_path):
    page, _ = new_page(browser, extra_http_headers={"Accept-Language": "en"})
    page.goto(f"{server.url}/login")
    log_in(page, "oskon")
    assert page.eval_on_selector_all("#pages li", "items => items.map(i => i.dataset.page)") == [
        "/operator",  # the operator console, and nothing of the dispatcher's
        "/docs",
    ]
    assert page.get_attribute("#who", "data-role") == "operator"
    session = {c["name"]: c for c in page.context.cookies()}["landfill_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("landfill_session") == -1  # not for scripts
    response = page.goto(f"{server.url}/dispatch")
    assert response.status == 403
    assert page.inner_text("#refused") == "Not allowed"
    assert page.inner_text("#who").startswith("Oskon")  # and a way to log out
    page.screenshot(path=str(tmp_path / "operator-refused.png"), full_page=True)
    # and the API refuses the action itself, even with the session's CSRF token
    page.goto(f"{server.url}/")
    token = page.get_attribute("form[action='/logout'] input[name=csrf_token]", "value")
    status = page.evaluate(
        """async (token) => (await fetch("/api/v1/dispatch/alerts/al-off-1/ack", {
            method: "POST", body: "{}",
            headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
        })).status""",
        token,
    )
    assert status == 403
    alerts = httpx.get(f"{server.url}/api/v1/dispatch/alerts", headers=server.admin).json()
    assert all(a["acknowledged"] is None for a in alerts["data"])


def test_an_auditor_sees_the_board_without_its_buttons(server, browser):
    page, _ = new_page(browser, extra_http_headers={"Accept-Language": "en"})
    page.goto(f"{server.url}/dispatch")
    log_in(page, "ainura")
    page.wait_for_selector("body[data-loaded=true]", timeout=15000)
    assert page.locator("li[data-alert]").count() == 3
    assert page.locator("button[data-ack], button[data-confirm], button[data-reject]").count() == 0
    assert "read only" in page.inner_text("#who")
