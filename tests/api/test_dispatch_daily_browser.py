"""The dispatcher page as a dispatcher uses it every day, in real headless Chromium.

On an office monitor (1366×768) the open alerts are on the first screen; the 30 s refresh
keeps a half-typed note and the focus; on a phone (360×800) nothing scrolls sideways; numbers
and units are written the way the page's language writes them; map labels never overlap.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.routing import Stop, plan_route
from landfill.numbers import number
from tests.api.seed import SCENARIO, fill_lines, hourly, write
from tests.api.served import Served, serve_dispatch
from tests.browser import log_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

OFFICE = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 800}
# a depot south of the villages: tomorrow's route is then 59.4 km (checked below)
FAR_DEPOT = {"depot_lat": 40.8948, "depot_lon": 72.651}


@pytest.fixture
def server(broker, influx, site, tmp_path, clock) -> Iterator[Served]:
    with serve_dispatch(broker, influx, site, tmp_path, clock) as served:
        yield served


def _open(browser, served: Served, viewport: dict[str, int], lang: str = "en"):
    """The dispatcher's page, logged in as aigul, loaded."""
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{served.url}/dispatch?lang={lang}")
    log_in(page, "aigul")
    page.wait_for_selector("body[data-loaded=true]", timeout=15000)
    return page


def _active(page) -> str:
    """What has the focus: the alert it belongs to and its class or data-ack."""
    return page.evaluate(
        """() => {
            const a = document.activeElement;
            const card = a.closest("li[data-alert]");
            return `${card ? card.dataset.alert : "-"} ${a.dataset.ack ? "ack" : a.className}`;
        }"""
    )


def _add_due_tomorrow(served: Served, influx, site: str, clock, count: int) -> None:
    """``count`` more containers, 60 % full, collected on Wednesdays: a long route tomorrow."""
    lines = []
    for i in range(count):
        body = {
            "code": f"due-{i:02}",
            "settlement": "Dostuk",
            "zone": "dostuk",
            "lat": 41.06 + i % 5 * 0.02,
            "lon": 72.55 + i // 5 * 0.03,
            "empty_mm": 1450,
            "full_mm": 450,
            "collection_weekdays": [2],
        }
        resp = httpx.post(f"{served.url}/api/v1/containers", json=body, headers=served.admin)
        assert resp.status_code == 201, resp.text
        levels = hourly(clock.now.replace(hour=0), clock.now, 60, 0)
        lines += fill_lines(site, f"due-{i:02}", "dostuk", levels)
    write(influx, lines)


def test_open_alerts_are_on_the_first_screen(server, browser, tmp_path, influx, site, clock):
    _add_due_tomorrow(server, influx, site, clock, 21)  # 25 stops, as on a real morning
    page = _open(browser, server, OFFICE)
    assert page.locator("#route li[data-container]").count() == 25
    page.screenshot(path=str(tmp_path / "dispatch-office.png"))
    cards = page.locator("#alerts li[data-alert]")
    assert cards.count() == 3
    box = cards.first.bounding_box()
    assert box is not None
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= OFFICE["height"], "the first alert is below the fold"
    # each card: settlement, fill %, how long it has been open (the clock says 10:00)
    card = page.inner_text("li[data-alert=al-full-1]")
    assert "Dostuk" in card
    assert "94 %" in card  # full-1's last level: 40 + 3 days × 18
    assert "open 8 h" in card
    # a card of a full container has the colour of the container's row
    colours = page.evaluate(
        """() => [
            getComputedStyle(document.querySelector("li[data-alert=al-full-1]")).borderLeftColor,
            getComputedStyle(document.querySelector(
                "#containers tr[data-container=full-1] .dot")).backgroundColor,
        ]"""
    )
    assert colours == ["rgb(198, 40, 40)", "rgb(198, 40, 40)"]


def test_a_refresh_keeps_the_note_the_caret_and_the_focus(server, browser):
    page = _open(browser, server, OFFICE)
    note = page.locator("li[data-alert=al-full-1] .note")
    note.click()
    page.keyboard.type("truck 2 is on")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.evaluate("refresh()")  # what the 30 s timer calls
    assert note.input_value() == "truck 2 is on"
    assert _active(page) == "al-full-1 note"
    assert page.evaluate("document.activeElement.selectionStart") == len("truck 2 is on") - 2
    page.keyboard.type(" its way")
    assert note.input_value() == "truck 2 is  its wayon"

    # after an acknowledgement the focus goes to the next alert's button, not to the page
    note.fill("truck 2 is on its way")
    ids = page.eval_on_selector_all("#alerts li[data-alert]", "ls => ls.map(l => l.dataset.alert)")
    here = ids.index("al-full-1")
    next_alert = ids[here + 1] if here + 1 < len(ids) else ids[here - 1]
    page.click("button[data-ack=al-full-1]")
    page.wait_for_selector("li[data-alert=al-full-1] .acked", timeout=10000)
    page.wait_for_function(f"document.activeElement.dataset.ack === '{next_alert}'")
    # the saved note is on the alert and in its history
    assert "truck 2 is on its way" in page.inner_text("li[data-alert=al-full-1] .acked")
    page.click("li[data-alert=al-full-1] details.history summary")
    history = page.inner_text("li[data-alert=al-full-1] details.history")
    assert "Acknowledged by Aigul" in history
    assert "truck 2 is on its way" in history
    page.evaluate("refresh()")  # the history stays open through a refresh
    assert page.get_attribute("li[data-alert=al-full-1] details.history", "open") == ""


def test_the_phone_layout_does_not_scroll_sideways(server, browser, tmp_path):
    page = _open(browser, server, PHONE)
    page.screenshot(path=str(tmp_path / "dispatch-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for alert_id in ("al-full-1", "al-over-2", "al-off-1"):
        button = page.locator(f"button[data-ack={alert_id}]")
        page.evaluate(
            "y => window.scrollTo(0, y)",
            page.evaluate(
                f"document.querySelector('button[data-ack={alert_id}]')"
                ".getBoundingClientRect().top + window.scrollY - 100"
            ),
        )
        box = button.bounding_box()
        assert box is not None
        assert box["x"] >= 0, alert_id
        assert box["x"] + box["width"] <= PHONE["width"], alert_id
        assert box["y"] >= 0, alert_id
        assert box["y"] + box["height"] <= PHONE["height"], alert_id
    assert page.evaluate("window.scrollX") == 0


def test_numbers_and_units_in_kyrgyz(broker, influx, site, tmp_path, clock, browser):
    coords = {code: (lat, lon) for code, _, lat, lon, _ in SCENARIO}
    due = [Stop(c, *coords[c]) for c in ("full-1", "full-2", "risk-1", "sched-1")]
    depot = Stop("depot", FAR_DEPOT["depot_lat"], FAR_DEPOT["depot_lon"])
    assert f"{plan_route(depot, due).km:.1f}" == "59.4"
    with serve_dispatch(broker, influx, site, tmp_path, clock, **FAR_DEPOT) as served:
        # a sensor that reports its battery in volts only
        body = {
            "code": "volt-1",
            "settlement": "Dostuk",
            "zone": "dostuk",
            "lat": None,
            "lon": None,
            "empty_mm": 1450,
            "full_mm": 450,
            "collection_weekdays": [6],
        }
        resp = httpx.post(f"{served.url}/api/v1/containers", json=body, headers=served.admin)
        assert resp.status_code == 201, resp.text
        levels = hourly(clock.now.replace(hour=0), clock.now, 30, 1)
        write(
            influx, fill_lines(site, "volt-1", "dostuk", levels, battery_pct=None, battery_v=3.614)
        )
        route = httpx.get(f"{served.url}/api/v1/dispatch/route", headers=served.admin).json()
        page = _open(browser, served, OFFICE, lang="ky")
        page.screenshot(path=str(tmp_path / "dispatch-ky.png"), full_page=True)
        total = page.inner_text("#route-total")
        assert "59,4 км" in total
        legs = page.eval_on_selector_all(
            "#route li[data-container] .leg", "ls => ls.map(l => l.textContent)"
        )
        assert legs == [f"+{number(s['leg_km'], 1, 'ky')} км" for s in route["stops"]]
        battery = page.eval_on_selector_all(
            "#containers tr[data-container] td.battery",
            "cells => Object.fromEntries(cells.map("
            "c => [c.parentElement.dataset.container, c.textContent]))",
        )
        assert battery["low-1"] == "15 %"
        assert battery["volt-1"] == "3,61 В"


def test_map_labels_do_not_overlap(server, browser):
    # two more villages right beside Dostuk and Noshken: their names crowd the map
    for code, settlement, lat, lon in (
        ("near-1", "Dostuk-Bazar", 41.1185, 72.6415),
        ("near-2", "Noshken-Sai", 41.1015, 72.6605),
    ):
        body = {
            "code": code,
            "settlement": settlement,
            "zone": "dostuk",
            "lat": lat,
            "lon": lon,
            "empty_mm": 1450,
            "full_mm": 450,
            "collection_weekdays": [2],
        }
        resp = httpx.post(f"{server.url}/api/v1/containers", json=body, headers=server.admin)
        assert resp.status_code == 201, resp.text
    page = _open(browser, server, OFFICE)
    boxes = page.evaluate(
        """() => {
            const shown = (e) => getComputedStyle(e).visibility !== "hidden"
                && getComputedStyle(e).display !== "none";
            const box = (e) => { const r = e.getBoundingClientRect();
                return {x: r.x, y: r.y, r: r.right, b: r.bottom, what: e.textContent || e.id
                    || e.dataset.container}; };
            return {
                labels: [...document.querySelectorAll("#map text")].filter(shown).map(box),
                marks: [...document.querySelectorAll("#map .pin, #map .depot")].map(box),
                hidden: [...document.querySelectorAll("#map text")].filter((e) => !shown(e))
                    .map((e) => e.dataset.for),
            };
        }"""
    )

    def overlap(a, b) -> bool:
        return a["x"] < b["r"] and b["x"] < a["r"] and a["y"] < b["b"] and b["y"] < a["b"]

    labels, marks = boxes["labels"], boxes["marks"]
    assert len(labels) >= 8, boxes  # most labels find a place
    crossed = [
        (a["what"], b["what"])
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if overlap(a, b)
    ]
    assert crossed == []
    covered = [(a["what"], m["what"]) for a in labels for m in marks if overlap(a, m)]
    assert covered == []
    # a label with no room is shown when its pin has the focus
    for key in boxes["hidden"]:
        page.focus(f"#map [data-key='{key}']")
        assert page.locator(f"#map text.label-shown[data-for='{key}']").count() >= 1, key


def test_an_alert_says_where_how_full_and_how_long(server):
    """What the cards show comes with the alerts: settlement, row colour, level, time open."""
    alerts = httpx.get(f"{server.url}/api/v1/dispatch/alerts", headers=server.admin).json()
    full = {a["id"]: a for a in alerts["data"]}["al-full-1"]
    assert (full["settlement"], full["status"], full["open_s"]) == ("Dostuk", "red", 8 * 3600)
    assert full["fill_pct"] == pytest.approx(94.0)
