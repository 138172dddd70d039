"""The dispatcher's three pages reviewed together, in real headless Chromium.

What a dispatcher meets on the integrated pages: the keyboard reaches the alerts before the
map's pins; the route sheet's link is on the first screen in every language; on a 360 px phone
no page scrolls sideways, the route sheet shows every column and the map's labels are readable;
the Kyrgyz pages write no decimal point.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from tests.api.conftest import PASSWORD
from tests.api.seed import write
from tests.api.served import Served, serve_dispatch
from tests.api.test_dead_letters_api import letters
from tests.api.test_dispatch_daily_browser import _add_due_tomorrow
from tests.browser import chromium

pytestmark = [pytest.mark.integration, pytest.mark.browser]

OFFICE = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 800}
PAGES = ("/dispatch", "/dispatch/route", "/dispatch/containers")
# dates (24.11, 25.11.2026) are written with points in every language; decimals never in ky
DATE = re.compile(r"\b\d{2}\.\d{2}(\.\d{4})?\b")


@pytest.fixture
def server(broker, influx, site, tmp_path, clock) -> Iterator[Served]:
    with serve_dispatch(broker, influx, site, tmp_path, clock) as served:
        _add_due_tomorrow(served, influx, site, clock, 21)  # 25 stops, as on a real morning
        yield served


@pytest.fixture
def browser():
    with chromium() as b:
        yield b


def _login(browser, served: Served, viewport: dict[str, int], lang: str):
    """A page logged in as aigul on the dispatcher's page in ``lang``, loaded."""
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{served.url}/dispatch?lang={lang}")
    page.fill("#username", "aigul")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form#login button[type=submit]")
    page.wait_for_selector("body[data-loaded=true]", timeout=15000)
    return page


def _goto(page, served: Served, path: str, lang: str) -> None:
    page.goto(f"{served.url}{path}?lang={lang}")
    if path == "/dispatch":
        page.wait_for_selector("body[data-loaded=true]", timeout=15000)


def _on_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= OFFICE["height"]


def test_the_keyboard_reaches_the_alerts_before_the_map(server, browser):
    page = _login(browser, server, OFFICE, "ky")
    reached = []
    for _ in range(15):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                """() => { const a = document.activeElement;
                    if (a.closest("#alerts")) return "alert";
                    if (a.closest("#map")) return "map";
                    return a.id || a.tagName; }"""
            )
        )
        if reached[-1] in ("alert", "map"):
            break
    assert reached[-1] == "alert", reached


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_the_route_sheet_and_containers_links_are_on_the_first_screen(server, browser, lang):
    page = _login(browser, server, OFFICE, lang)
    assert page.locator("#route li[data-container]").count() == 25
    assert _on_first_screen(page, "#containers-link")
    assert _on_first_screen(page, "#route-sheet-link"), page.locator(
        "#route-sheet-link"
    ).bounding_box()
    assert _on_first_screen(page, "#alerts li[data-alert]")
    with page.expect_navigation():
        page.click("#route-sheet-link")
    assert page.get_attribute("html", "lang") == lang
    assert page.locator("tr.stop").count() == 25


def test_no_page_scrolls_sideways_on_a_phone_in_kyrgyz(server, browser):
    page = _login(browser, server, PHONE, "ky")
    for path in PAGES:
        _goto(page, server, path, "ky")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    # the route sheet shows its columns, the tick boxes included, without scrolling its table
    for lang in ("ky", "ru", "en"):
        _goto(page, server, "/dispatch/route", lang)
        right = page.evaluate(
            """() => Math.max(...[...document.querySelectorAll("#stops th, #stops .box")]
                .map((e) => e.getBoundingClientRect().right))"""
        )
        assert right <= PHONE["width"], (lang, right)
        scroll = page.evaluate(
            "(() => { const s = document.querySelector('.scroll');"
            " return s.scrollWidth - s.clientWidth; })()"
        )
        assert scroll <= 0, (lang, scroll)


@pytest.mark.parametrize("viewport", [OFFICE, PHONE], ids=["office", "phone"])
def test_the_kyrgyz_pages_write_no_decimal_point(server, browser, viewport):
    page = _login(browser, server, viewport, "ky")
    for path in PAGES:
        _goto(page, server, path, "ky")
        text = DATE.sub("", page.inner_text("body"))
        assert re.findall(r"\S*\d\.\d\S*", text) == [], path
        assert re.findall(r"\b[a-z_]+\.[a-z_]+\b", text) == [], path  # no raw catalogue key


def test_the_map_labels_are_readable_on_a_phone(server, browser):
    page = _login(browser, server, PHONE, "ky")
    labels = page.evaluate(
        """() => [...document.querySelectorAll("#map text")]
            .filter((e) => getComputedStyle(e).visibility !== "hidden")
            .map((e) => { const r = e.getBoundingClientRect();
                return {x: r.x, y: r.y, r: r.right, b: r.bottom, h: r.height,
                        what: e.textContent}; })"""
    )
    assert len(labels) >= 6, labels
    small = [(a["what"], round(a["h"], 1)) for a in labels if a["h"] < 11]
    assert small == [], "labels smaller than 11 px on a phone"
    crossed = [
        (a["what"], b["what"])
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if a["x"] < b["r"] and b["x"] < a["r"] and a["y"] < b["b"] and b["y"] < a["b"]
    ]
    assert crossed == []


def test_the_refused_data_reads_as_one_sentence_in_russian(
    broker, influx, site, tmp_path, clock, browser
):
    with serve_dispatch(broker, influx, site, tmp_path, clock) as served:
        write(influx, letters(site, datetime(2026, 11, 24, 1, 10, tzinfo=UTC), "unknown_model", 14))
        page = _login(browser, served, PHONE, "ru")
        page.wait_for_selector("#refused-data li[data-source]")
        line = page.inner_text("#refused-data li[data-source]")
        assert "14" in line, line
        assert re.search(r":\s*14:", line) is None, line  # no "сообщений датчика: 14: причина"
        assert "неизвестная модель" in line
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # the section comes after the alerts, which stay on the phone's first screen
        assert page.locator("#alerts li[data-alert]").first.bounding_box()["y"] < PHONE["height"]


@pytest.mark.parametrize(
    ("lang", "why"),
    [
        ("ky", "Толгон, чыгарылганга чейин ашып кетет"),
        ("ru", "Заполнен, переполнится до вывоза"),
        ("en", "Full, overflows before collection"),
    ],
)
def test_the_reasons_of_a_stop_read_as_one_phrase(server, browser, lang, why):
    page = _login(browser, server, OFFICE, lang)
    assert why in page.inner_text("#route li[data-container=full-1]")


def test_the_containers_list_fits_a_phone_with_its_edit_buttons(server, browser):
    page = _login(browser, server, PHONE, "ky")
    _goto(page, server, "/dispatch/containers", "ky")
    scroll = page.evaluate(
        "(() => { const s = document.querySelector('#list-panel .scroll');"
        " return s.scrollWidth - s.clientWidth; })()"
    )
    assert scroll <= 0, scroll
    button = page.locator("tr[data-code=full-1] button.edit")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    row = page.inner_text("tr[data-code=full-1]")
    assert "Достук" in row  # registered as Dostuk, shown in Kyrgyz
    button.click()
    assert page.input_value("#f-code") == "full-1"


def test_a_full_container_is_never_hidden_under_another_pin(server, browser):
    page = _login(browser, server, OFFICE, "en")
    hidden = page.evaluate(
        """() => [...document.querySelectorAll("#map .pin.s-red, #map .pin.s-orange")]
            .filter((pin) => { const r = pin.getBoundingClientRect();
                const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                return top !== pin && top && top.classList.contains("pin"); })
            .map((pin) => pin.dataset.container)"""
    )
    assert hidden == []


def test_map_labels_keep_clear_of_the_pins(server, browser):
    page = _login(browser, server, OFFICE, "ky")
    touching = page.evaluate(
        """() => {
            const shown = (e) => getComputedStyle(e).visibility !== "hidden";
            const box = (e) => e.getBoundingClientRect();
            const labels = [...document.querySelectorAll("#map text")].filter(shown);
            const marks = [...document.querySelectorAll("#map .pin, #map .depot")];
            const near = (a, b) => a.x < b.right + 2 && b.x < a.right + 2
                && a.y < b.bottom + 2 && b.y < a.bottom + 2;
            return labels.flatMap((l) => marks
                .filter((m) => m.dataset.key !== l.dataset.for && near(box(l), box(m)))
                .map((m) => `${l.textContent} / ${m.dataset.key}`));
        }"""
    )
    assert touching == []


@pytest.mark.parametrize("lang", ["ky", "ru"])
def test_the_route_sheet_prints_on_one_or_two_pages_with_comma_decimals(server, browser, lang):
    page = _login(browser, server, OFFICE, lang)
    _goto(page, server, "/dispatch/route", lang)
    reader = PdfReader(io.BytesIO(page.pdf(format="A4")))
    assert 1 <= len(reader.pages) <= 2, len(reader.pages)
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "due-20" in text  # every stop, the volume column included on paper
    assert "0,66" in text
    assert re.findall(r"\S*\d\.\d\S*", DATE.sub("", text)) == []
