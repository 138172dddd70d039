"""Debian's Chromium, headless, for tests of what the pages do (Playwright drives it).

`chromium()` launches it; `new_page` opens a page that records every request leaving the API;
`log_in` fills in the login form a page was sent to.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL = "http://127.0.0.1"
WIDE = {"width": 1400, "height": 1000}


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser; fails (never skips) when Debian's chromium is missing."""
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(
    browser: Any, inside: str = LOCAL, viewport: dict[str, int] = WIDE, **context: Any
) -> tuple[Any, list[str]]:
    """A page in a context of its own, and the list of the URLs it requested outside ``inside``.

    ``context`` are Playwright's new_context options (extra_http_headers, locale...).
    """
    page = browser.new_context(viewport=viewport, **context).new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(inside) else outside.append(r.url))
    return page, outside


def log_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Fill in the login form the page was sent to, and wait for where it leads."""
    page.wait_for_selector("form#login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form#login button[type=submit]")
