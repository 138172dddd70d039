"""`landfill dashboards preview` in Debian's Chromium: every panel of every dashboard is drawn from
its own query on a real InfluxDB, the map shows the registry's 33 containers coloured by fill,
and the page loads nothing from anywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards import preview
from dashboards.boards import boards
from tests.browser import new_page
from tests.dashboards.seed import seed_day

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PANELS = {p.key: p for b in boards("Asia/Bishkek") for p in b.panels}


def test_the_preview_draws_every_panel_offline(influx, site, tmp_path, browser, monkeypatch):
    day = seed_day(influx, site)
    out = tmp_path / "preview.html"
    monkeypatch.setenv("LANDFILL_INFLUX_URL", influx.url)
    monkeypatch.setenv("LANDFILL_INFLUX_DB", influx.database)
    argv = ["--out", str(out), "--demo-registry", "--language", "ky", "--at", day.now.isoformat()]
    assert preview.main(argv) == 0

    page, outside = new_page(browser, inside="file:")
    page.goto(Path(out).as_uri())
    assert outside == []
    assert page.locator("h2").count() == 5
    assert page.locator("h2").first.inner_text() == "Полигонго келген таштанды"

    drawn = page.eval_on_selector_all(
        "section.panel",
        """els => els.map(e => ({key: e.dataset.panel, kind: e.dataset.kind,
              marks: e.querySelectorAll('svg polyline, svg rect, svg circle').length,
              rows: e.querySelectorAll('table tr').length,
              stat: e.querySelector('.stat') ? e.querySelector('.stat').innerText : '',
              empty: !!e.querySelector('.empty')}))""",
    )
    assert {d["key"] for d in drawn} == set(PANELS)
    for d in drawn:
        assert not d["empty"], d["key"]  # the day has data for every panel
        if d["kind"] == "table":
            assert d["rows"] > 1, d["key"]
        elif d["kind"] == "stat":
            assert d["stat"], d["key"]
        else:
            assert d["marks"] > 0, d["key"]

    map_ = page.locator('section[data-panel="ct_map"] circle')
    assert map_.count() == 33
    full = page.locator('section[data-panel="ct_map"] circle[data-container="bin-02"]')
    assert full.get_attribute("fill") == preview.STEP_COLOURS["red"]  # 85 % full
    today = page.locator('section[data-panel="inflow_trucks_today"] .stat').inner_text()
    assert today == "3"  # both sites: the preview opens with All, as Grafana does
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)


def test_numbers_read_as_people_write_them():
    assert [preview.number(v) for v in (14560.0, 17.999, 0.5, 0.0, 100.0)] == [
        "14\u2009560",
        "17.999",
        "0.5",
        "0",
        "100",
    ]
