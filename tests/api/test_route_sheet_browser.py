"""The route sheet printed by real headless Chromium against a real API (uvicorn, free port).

A dispatcher logs in, picks the day with the date picker, and prints a 26-stop route in three
truck trips to an A4 PDF; pypdf reads it back: at most two pages, every stop, the
"straight-line" wording and the total.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from pypdf import PdfReader

from tests.api.conftest import add_user
from tests.api.served import serve_api
from tests.api.test_route_sheet import DEPOT, add_containers
from tests.browser import chromium, log_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

STOPS = 25  # full containers, and rise-1 (due on the day): 26 stops


@pytest.fixture
def server(broker, influx, site, tmp_path, clock) -> Iterator[str]:
    """The API with 26 containers due tomorrow and a dispatcher, aigul; its base URL."""
    # 11 stops of 1.8 m³ a trip
    with serve_api(broker, influx, site, tmp_path, clock, truck_capacity_m3=20.0, **DEPOT) as api:
        add_user(api.app, "aigul", "dispatcher", full_name="Aigul")
        with httpx.Client(base_url=api.url, headers=api.admin) as client:
            add_containers(client, influx, site, clock.now, count=STOPS)
        yield api.url


def test_the_route_sheet_prints_on_at_most_two_a4_pages(server):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{server}/dispatch?lang=en")
        log_in(page, "aigul")
        with page.expect_navigation():
            page.click("#route-sheet-link")
        assert page.input_value("#date") == "2026-11-25"  # tomorrow in Bishkek
        page.fill("#date", "2026-11-26")  # Thursday: rise-1 is not due
        with page.expect_navigation():
            page.click("#pick-date button[type=submit]")
        assert page.locator("tr.stop").count() == STOPS
        page.fill("#date", "2026-11-25")
        with page.expect_navigation():
            page.click("#pick-date button[type=submit]")
        assert page.locator("tr.stop").count() == STOPS + 1
        assert page.locator("tbody.trip").count() == 3
        pdf = page.pdf(format="A4")
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 2, len(reader.pages)
    text = "\n".join(p.extract_text() for p in reader.pages)
    for code in [f"c-{i:02d}" for i in range(1, STOPS + 1)] + ["rise-1"]:
        assert code in text, code
    assert "straight-line km" in text
    assert "Wednesday, 25.11.2026" in text
    assert "Total: 26 containers, 46.46 m³, 3 trips" in text  # 25 × 1.8 + 1.46
    assert "Trip 3: 4 containers" in text
    assert "Container dispatcher" not in text  # the page header and toolbar are not printed
