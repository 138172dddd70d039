"""The containers page in real headless Chromium against a real API (uvicorn on a free port).

A dispatcher adds a container through the form (a comma as decimal mark, a device known by its
network-server name), edits it, and sees each 422 error beside its field: a model the sensor
edge cannot decode (with the known ones listed), a latitude out of range, a full line below
the floor. An auditor sees the list without the form. Nothing is fetched from outside.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from landfill.sensor_models import model_names
from tests.api.conftest import add_user
from tests.api.served import Served, serve_api
from tests.browser import chromium, log_in, new_page

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def server(broker, influx, site, tmp_path) -> Iterator[Served]:
    """The API with a dispatcher (aigul) and an auditor (ainura), served by uvicorn."""
    with serve_api(broker, influx, site, tmp_path) as served:
        add_user(served.app, "aigul", "dispatcher", full_name="Aigul")
        add_user(served.app, "ainura", "auditor", full_name="Ainura")
        yield served


def _open(browser, url: str, username: str):
    """A page at ``url`` after logging in as ``username``; and the list of outside requests."""
    page, external = new_page(browser, viewport={"width": 1366, "height": 900})
    page.goto(url)
    log_in(page, username)
    return page, external


def _submit(page) -> None:
    page.click("#save")


def test_add_and_edit_a_container_with_errors_beside_their_fields(server: Served) -> None:
    with chromium() as browser:
        page, external = _open(browser, f"{server.url}/dispatch/containers?lang=en", "aigul")
        page.wait_for_selector("form#container-form")
        options = page.eval_on_selector_all("#f-model option", "os => os.map(o => o.value)")
        assert options == ["", *model_names()]

        # add: a comma as decimal mark, two collection days, a device by its ChirpStack name
        page.fill("#f-code", "bin-new")
        page.fill("#f-settlement", "Dostuk")
        page.fill("#f-lat", "41,118")
        page.fill("#f-lon", "72.64")
        page.fill("#f-volume_m3", "1,1")
        page.fill("#f-empty_mm", "1450")
        page.fill("#f-full_mm", "450")
        page.check("input[name=collection_weekdays][value='0']")
        page.check("input[name=collection_weekdays][value='3']")
        page.fill("#f-device", "Bin-New-Sensor")
        page.select_option("#f-model", "LDDS75")
        with page.expect_navigation():
            _submit(page)
        page.wait_for_selector("tr[data-code=bin-new]")
        assert "Container bin-new saved" in page.inner_text("#form-status")
        got = httpx.get(f"{server.url}/api/v1/containers/bin-new", headers=server.admin).json()
        assert (got["lat"], got["lon"], got["volume_m3"]) == (41.118, 72.64, 1.1)
        assert (got["device"], got["model"], got["collection_weekdays"]) == (
            "bin-new-sensor",
            "LDDS75",
            [0, 3],
        )

        # edit: the form is filled from the row; a full line below the floor is refused
        page.click("tr[data-code=bin-new] button.edit")
        assert page.input_value("#f-code") == "bin-new"
        assert page.eval_on_selector("#f-code", "e => e.readOnly")
        assert page.input_value("#f-lat") == "41.118"
        page.fill("#f-settlement", "Noshken")
        page.fill("#f-full_mm", "1500")
        _submit(page)
        page.wait_for_selector("#err-full_mm:not([hidden])")
        assert "less than the distance to the empty floor" in page.inner_text("#err-full_mm")
        assert page.get_attribute("#f-full_mm", "aria-invalid") == "true"
        page.fill("#f-full_mm", "500")
        with page.expect_navigation():
            _submit(page)
        page.wait_for_selector("tr[data-code=bin-new]")
        got = httpx.get(f"{server.url}/api/v1/containers/bin-new", headers=server.admin).json()
        assert (got["settlement"], got["full_mm"], got["empty_mm"]) == ("Noshken", 500, 1450)

        # an unknown model (a page older than the API's list) and a latitude out of range
        page.click("#new")
        page.fill("#f-code", "bin-typo")
        page.fill("#f-lat", "95")
        page.fill("#f-lon", "72.6")
        page.fill("#f-empty_mm", "1450")
        page.fill("#f-full_mm", "450")
        page.eval_on_selector(
            "#f-model",
            "s => { s.add(new Option('EM310-UDI', 'EM310-UDI')); s.value = 'EM310-UDI'; }",
        )
        _submit(page)
        page.wait_for_selector("#err-model:not([hidden])")
        model_error = page.inner_text("#err-model")
        assert "cannot decode this model" in model_error
        assert "Known models: EM310-UDL, EM400-UDL, EM400-MUD, LDDS75, LDDS20" in model_error
        assert "Too large" in page.inner_text("#err-lat")
        assert page.is_hidden("#err-volume_m3")  # left empty: the default volume, no error
        assert page.is_visible("#form-error")
        resp = httpx.get(f"{server.url}/api/v1/containers/bin-typo", headers=server.admin)
        assert resp.status_code == 404
        assert external == []


def test_the_page_in_kyrgyz_and_read_only_for_an_auditor(server: Served) -> None:
    body = {"code": "bin-1", "empty_mm": 1450, "full_mm": 450, "lat": 41.1, "lon": 72.6}
    assert httpx.post(f"{server.url}/api/v1/containers", json=body, headers=server.admin).is_success
    with chromium() as browser:
        page, _ = _open(browser, f"{server.url}/dispatch/containers?lang=ky", "ainura")
        page.wait_for_selector("tr[data-code=bin-1]")
        assert page.inner_text("#list-panel h2").startswith("Катталган контейнерлер")
        # the project's number rules: a comma in Kyrgyz, no trailing zeros
        assert "41,1; 72,6" in page.inner_text("tr[data-code=bin-1]")
        assert page.locator("#container-form").count() == 0
        assert page.locator("button.edit").count() == 0
