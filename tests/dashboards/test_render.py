"""The committed dashboards and provisioning files are what the code renders, and hold together:
unique uids, every panel with a datasource and a query, no variable that is not defined, the
datasource the panels and rules name is the one provisioned, one language per folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from dashboards import render
from dashboards.alerts import RULES
from dashboards.influxql import DATASOURCE_UID
from dashboards.registry import demo_places, frame, sql_places
from dashboards.templating import (
    ALL,
    Selection,
    TimeRange,
    format_interval,
    format_value,
    interpolate,
    panel_interval_ms,
    resolve_range,
)
from dashboards.texts import GRAFANA_LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "dashboards" / "generated"
BUILT_IN = {"timeFilter", "__interval", "__interval_ms", "interval", "col"}
TAG_ALIAS = re.compile(r"^tag_\w+$")


def committed_dashboards(language: str) -> list[dict]:
    folder = GENERATED / language / "dashboards"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def test_committed_files_are_what_the_code_renders():
    assert render.main(["--check", "--root", str(ROOT)]) == 0, "run `landfill dashboards render`"


def test_check_reports_a_changed_file(tmp_path, capsys):
    assert render.main(["--root", str(tmp_path)]) == 0
    target = tmp_path / "dashboards/generated/ru/dashboards/landfill-inflow.json"
    target.write_text(target.read_text().replace("now-30d", "now-31d"))
    assert render.main(["--check", "--root", str(tmp_path)]) == 1
    assert "landfill-inflow.json differs" in capsys.readouterr().err


@pytest.mark.parametrize("language", GRAFANA_LANGUAGES)
def test_dashboards_hold_together(language):
    boards = committed_dashboards(language)
    assert len(boards) == 5
    uids = [b["uid"] for b in boards] + [r.uid for r in RULES]
    assert len(uids) == len(set(uids))
    for board in boards:
        assert board["timezone"] == "Asia/Bishkek"
        names = {v["name"] for v in board["templating"]["list"]}
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), board["uid"]
        for panel in board["panels"]:
            where = f"{board['uid']}/{panel['title']}"
            assert panel["datasource"]["uid"] in (DATASOURCE_UID, "-- Mixed --"), where
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, where
            influx = [t for t in panel["targets"] if t["datasource"]["uid"] == DATASOURCE_UID]
            assert influx, where
            assert all(t["query"].startswith(("SELECT", "SHOW")) for t in influx), where
            for target in influx:
                used = set(re.findall(r"\$(\w+)", target["query"] + target.get("alias", "")))
                missing = {u for u in used - names - BUILT_IN if not TAG_ALIAS.match(u)}
                assert not missing, f"{where} uses undefined {missing}"
        for variable in board["templating"]["list"]:
            assert variable["datasource"]["uid"] == DATASOURCE_UID
            assert set(re.findall(r"\$(\w+)", variable["query"])) <= names


def test_each_language_folder_is_in_its_own_language():
    ru, ky, en = (
        {b["uid"]: [p["title"] for p in b["panels"]] for b in committed_dashboards(lang)}
        for lang in ("ru", "ky", "en")
    )
    assert ru.keys() == ky.keys() == en.keys()
    assert all(set(ru[uid]).isdisjoint(ky[uid]) or uid for uid in ru)
    assert (
        "Поступление на полигон" in (GENERATED / "ru/dashboards/landfill-inflow.json").read_text()
    )
    assert (
        "Полигонго келген таштанды"
        in (GENERATED / "ky/dashboards/landfill-inflow.json").read_text()
    )
    assert "Landfill inflow" in (GENERATED / "en/dashboards/landfill-inflow.json").read_text()
    assert set(GRAFANA_LANGUAGES) == {"ky", "ru", "en"}  # every key in each: test_texts.py


@pytest.mark.parametrize("language", GRAFANA_LANGUAGES)
def test_provisioning_files_name_what_exists(language):
    folder = GENERATED / language / "provisioning"
    rules = yaml.safe_load((folder / "alerting/rules.yaml").read_text(encoding="utf-8"))
    policies = yaml.safe_load((folder / "alerting/policies.yaml").read_text(encoding="utf-8"))
    provider = yaml.safe_load((folder / "dashboards/landfill.yaml").read_text(encoding="utf-8"))
    datasource = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/landfill.yaml").read_text()
    )["datasources"][0]
    assert datasource["uid"] == DATASOURCE_UID
    assert datasource["jsonData"]["version"] == "InfluxQL"
    (group,) = rules["groups"]
    assert group["folder"] == provider["providers"][0]["folder"]
    for rule in group["rules"]:
        refs = {q["refId"] for q in rule["data"]}
        assert rule["condition"] in refs
        assert rule["data"][0]["datasourceUid"] == DATASOURCE_UID
        assert {q["datasourceUid"] for q in rule["data"][1:]} == {"__expr__"}
    mutes = {m["name"] for m in policies["muteTimes"]}
    (tree,) = policies["policies"]
    for route in tree["routes"]:
        assert set(route.get("mute_time_intervals", [])) <= mutes
    assert {r["labels"]["rule"] for r in group["rules"]} >= {
        m[2] for route in tree["routes"] for m in route["object_matchers"]
    }


def test_the_map_carries_the_registry_coordinates():
    board = json.loads((GENERATED / "ru/dashboards/landfill-containers.json").read_text())
    (geomap,) = [p for p in board["panels"] if p["type"] == "geomap"]
    (snapshot,) = [t for t in geomap["targets"] if t.get("queryType") == "snapshot"]
    codes = snapshot["snapshot"][0]["data"]["values"][0]
    assert len(codes) == 33
    assert codes[0] == "bin-01"
    assert frame(demo_places()) == snapshot["snapshot"][0]


def test_the_registry_is_read_from_the_api_s_sql_tables(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path}/r.sqlite"
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.execute(sa.text("CREATE TABLE container (code TEXT, settlement TEXT, lat REAL, "
                           "lon REAL, active BOOLEAN)"))  # fmt: skip
        db.execute(sa.text("INSERT INTO container VALUES ('c2', 'B', 41.2, 72.7, 1), "
                           "('c1', 'A', 41.1, 72.6, 1), ('off', 'C', 41, 72, 0), "
                           "('nowhere', 'D', NULL, NULL, 1)"))  # fmt: skip
    engine.dispose()
    assert [p.container for p in sql_places(url)] == ["c1", "c2"]


# ---- Grafana's substitution ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "query", "expected"),
    [
        (Selection(["bin-01"]), "/^$c$/", "bin-01"),
        (Selection(["a.b", "c"]), "/^$c$/", "(a\\.b|c)"),
        (Selection(ALL), "/^$c$/", ".*"),  # a custom all value is used as it is
        (Selection(ALL, options=["x", "y"], all_value=None), "/^$c$/", "(x|y)"),
        (Selection(["a.b"], multi=False, include_all=False), "'$c'", "a.b"),
        (Selection(["a.b"], multi=False, include_all=False), "=~ /^$c$/", "a\\.b"),
    ],
)
def test_variables_are_formatted_as_grafana_formats_them_for_influxdb(selection, query, expected):
    assert format_value("c", selection, query) == expected


def test_macros_and_intervals_are_replaced_as_grafana_s_backend_does():
    window = TimeRange(1_000_000, 1_000_000 + 7 * 86_400_000)
    interval = panel_interval_ms(window, 600)
    assert format_interval(interval) == "15m"  # 7 days / 600 points, rounded
    assert panel_interval_ms(TimeRange(0, 60_000), 600, "30s") == 30_000  # the panel's minimum
    text = interpolate("WHERE $timeFilter GROUP BY time($__interval) -- ${site}", {
        "site": Selection(["s1"])}, window, interval)  # fmt: skip
    assert text == (
        f"WHERE time >= {window.from_ms}ms and time <= {window.to_ms}ms GROUP BY time(15m) -- s1"
    )
    assert [format_interval(ms) for ms in (500, 1000, 60_000, 3_600_000, 86_400_000)] == [
        "500ms",
        "1s",
        "1m",
        "1h",
        "1d",
    ]


def test_today_and_this_month_are_local_days():
    from datetime import UTC, datetime

    now = datetime(2025, 3, 1, 20, 30, tzinfo=UTC)  # already 2 March in Bishkek (UTC+6)
    today = resolve_range("now/d", "now/d", now, "Asia/Bishkek")
    assert datetime.fromtimestamp(today.from_ms / 1000, UTC) == datetime(2025, 3, 1, 18, tzinfo=UTC)
    assert today.to_ms - today.from_ms == 86_400_000 - 1
    month = resolve_range("now/M", "now/M", now, "Asia/Bishkek")
    assert datetime.fromtimestamp(month.from_ms / 1000, UTC) == datetime(
        2025, 2, 28, 18, tzinfo=UTC
    )
