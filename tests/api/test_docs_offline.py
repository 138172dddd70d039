"""`/docs` and `/redoc` work with no internet: vendored assets, rendered in Chromium offline."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.served import serve_api
from tests.browser import WIDE

VENDOR = Path(__file__).resolve().parents[2] / "api" / "static" / "vendor"


def test_vendored_docs_assets_are_the_recorded_files():
    readme = (VENDOR / "README.md").read_text()
    recorded = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M))
    assert set(recorded) == {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"}
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    for licence in (
        "LICENSE-swagger-ui-dist.txt",
        "NOTICE-swagger-ui-dist.txt",
        "LICENSE-redoc.txt",
    ):
        assert (VENDOR / licence).stat().st_size > 0


def test_no_vendored_asset_loads_from_another_host():
    """An image, script or font address (``src``, CSS ``url()``) is this server's or data:.

    Links a person may follow (ReDoc's "API docs by Redocly") are not loads and stay.
    """
    loads = re.compile(r"""\bsrc\s*[:=]\s*["'](https?:)?//|url\(\s*["']?(https?:)?//""")
    for path in sorted(VENDOR.glob("*.js")) + sorted(VENDOR.glob("*.css")):
        found = loads.search(path.read_text(encoding="utf-8"))
        assert found is None, (path.name, found and found.group(0))


@pytest.mark.integration
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_the_apis_own_files(make_api, page):
    api = make_api()
    html = api.get(page)
    assert html.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", html.text)
    urls = [a or b for a, b in urls]
    assert urls
    for url in urls:
        if url.startswith("data:"):
            continue
        assert url.startswith("/"), f"{page} loads {url} from elsewhere"
        assert api.get(url).status_code == 200, url
    assert api.get("/docs/oauth2-redirect").status_code == 200


@pytest.fixture
def docs_server(broker, influx, site, tmp_path) -> Iterator[str]:
    """The API served by uvicorn in a thread; yields its base URL."""
    with serve_api(broker, influx, site, tmp_path) as served:
        yield served.url


@dataclass
class Offline:
    """A Chromium page that reaches only the API, what it tried elsewhere, its console errors."""

    page: Any
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def offline(docs_server, browser) -> Offline:
    """A page on which every request not to the API is aborted.

    When /docs needs a login (issue 10), sign in on this page before yielding it.
    """
    page = browser.new_context(viewport=WIDE).new_page()
    view = Offline(page)

    def route(r: Any) -> None:
        if r.request.url.startswith((docs_server, "blob:", "data:")):
            r.continue_()
        else:
            view.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: view.errors.append(m.text) if m.type == "error" else None)
    return view


@pytest.mark.integration
@pytest.mark.browser
def test_docs_renders_the_operations_offline(docs_server, offline, tmp_path):
    page = offline.page
    page.goto(f"{docs_server}/docs")
    page.wait_for_selector(".opblock", timeout=20000)
    page.screenshot(path=str(tmp_path / "docs.png"))
    paths = page.eval_on_selector_all(
        ".opblock .opblock-summary-path", "els => els.map(e => e.textContent.trim())"
    )
    assert "/health" in paths
    assert "/api/v1/captures" in paths
    assert offline.blocked == []
    assert offline.errors == []


@pytest.mark.integration
@pytest.mark.browser
def test_redoc_renders_offline(docs_server, offline, tmp_path):
    page = offline.page
    page.goto(f"{docs_server}/redoc")
    page.wait_for_selector("h1", timeout=20000)
    page.screenshot(path=str(tmp_path / "redoc.png"))
    assert "Landfill telemetry" in page.inner_text("h1")
    page.wait_for_selector("text=/health", timeout=10000)
    assert offline.blocked == []
    # ReDoc's sidebar logo comes from its CDN; the page's policy stops it in the browser
    assert all("cdn.redoc.ly" in e and "Content Security Policy" in e for e in offline.errors)
