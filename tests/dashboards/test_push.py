"""`landfill dashboards push` against a stand-in of Grafana's HTTP API that records requests:
the first push creates everything, a second changes nothing, a changed panel updates only its
dashboard, --dry-run writes nothing, and a wrong URL or token says so plainly.
"""

from __future__ import annotations

import copy
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dashboards import push
from dashboards.registry import demo_places
from deploy import stack
from landfill.settings import GrafanaSettings
from tests.dashboards.grafana_standin import GrafanaStandIn

TOKEN = "glsa_test"


@pytest.fixture
def grafana():
    standin = GrafanaStandIn(TOKEN)
    yield standin
    standin.close()


def wanted(**settings) -> push.Desired:
    return push.desired(GrafanaSettings(**settings), demo_places())


def paths(requests) -> list[str]:
    return [f"{r.method} {r.path}" for r in requests]


def test_first_push_creates_everything_and_a_second_changes_nothing(grafana):
    api = push.connect(grafana.url, TOKEN)
    first = push.Pusher(api).push(wanted())
    assert {c.action for c in first} == {"create"}
    assert len(grafana.state.dashboards) == 5
    assert grafana.state.folders["landfill"]["title"] == "Полигон ТБО"
    (group,) = grafana.state.rule_groups.values()
    assert len(group["rules"]) == 6
    assert grafana.state.datasources["landfill-influxdb"]["jsonData"]["version"] == "InfluxQL"
    writes = len(grafana.state.writes())
    assert writes == 8  # datasource, folder, 5 dashboards, the rule group

    second = push.Pusher(push.connect(grafana.url, TOKEN)).push(wanted())
    assert {c.action for c in second} == {"unchanged"}
    assert len(grafana.state.writes()) == writes  # only reads the second time


def test_a_changed_panel_updates_only_its_dashboard(grafana):
    api = push.connect(grafana.url, TOKEN)
    push.Pusher(api).push(wanted())
    before = len(grafana.state.requests)
    want = wanted()
    changed = copy.deepcopy(want.dashboards)
    board = next(b for b in changed if b["uid"] == "landfill-containers")
    board["panels"][1]["targets"][0]["query"] += " LIMIT 100"
    changes = push.Pusher(api).push(push.Desired(want.datasource, want.folder_title, changed,
                                                 want.rule_group))  # fmt: skip
    writes = [r for r in grafana.state.requests[before:] if r.method != "GET"]
    assert paths(writes) == ["POST /api/dashboards/db"]
    assert writes[0].body["dashboard"]["uid"] == "landfill-containers"
    (update,) = [c for c in changes if c.action != "unchanged"]
    assert update.detail == "Заполнение, %"  # the panel that changed, by title
    assert grafana.state.dashboards["landfill-containers"]["dashboard"]["version"] == 2


def test_another_language_updates_titles_and_rules(grafana):
    api = push.connect(grafana.url, TOKEN)
    push.Pusher(api).push(wanted())
    changes = push.Pusher(api).push(wanted(grafana_language="ky"))
    updated = {c.kind for c in changes if c.action == "update"}
    assert updated == {"folder", "dashboard", "alert rules"}
    assert grafana.state.folders["landfill"]["title"] == "Таштанды полигону"


def test_dry_run_writes_nothing_and_says_what_would_change(grafana, monkeypatch, capsys):
    monkeypatch.setenv("LANDFILL_GRAFANA_TOKEN", TOKEN)
    assert push.main(["--url", grafana.url, "--dry-run", "--demo-registry"]) == 0
    assert grafana.state.writes() == []
    out = capsys.readouterr().out
    assert "would create dashboard landfill-inflow" in out
    assert "would create alert rules landfill/landfill" in out
    assert push.main(["--url", grafana.url, "--demo-registry"]) == 0
    capsys.readouterr()
    assert push.main(["--url", grafana.url, "--dry-run", "--demo-registry"]) == 0
    out = capsys.readouterr().out
    assert "would" not in out
    assert "unchanged dashboard landfill-ingest" in out


def test_the_datasource_takes_the_influx_url_grafana_reaches_and_force_rewrites(grafana):
    api = push.connect(grafana.url, TOKEN)
    settings = {"grafana_influx_url": "http://influxdb:8086", "influx_username": "grafana",
                "influx_password": "s3cret"}  # fmt: skip
    push.Pusher(api).push(wanted(**settings))
    stored = grafana.state.datasources["landfill-influxdb"]
    assert (stored["url"], stored["user"]) == ("http://influxdb:8086", "grafana")
    assert stored["secureJsonData"] == {"password": "s3cret"}
    forced = push.Pusher(api, force=True).push(wanted(**settings))
    assert {c.action for c in forced} == {"update"}


def test_a_wrong_url_or_token_is_a_clear_error(grafana, monkeypatch):
    nothing = f"http://127.0.0.1:{stack.free_port()}"
    with pytest.raises(push.PushError, match="cannot reach Grafana at http://127.0.0.1"):
        push.connect(nothing, TOKEN, timeout=2)
    with pytest.raises(push.PushError, match=r"refused the token \(401\)"):
        push.connect(grafana.url, "glsa_wrong")
    with pytest.raises(push.PushError, match="LANDFILL_GRAFANA_TOKEN"):
        push.connect(grafana.url, "")
    monkeypatch.setenv("LANDFILL_GRAFANA_TOKEN", "glsa_wrong")
    with pytest.raises(SystemExit, match="dashboards push: Grafana at .* refused the token"):
        push.main(["--url", grafana.url, "--demo-registry"])


def test_a_server_that_is_not_grafana_is_named_as_such():
    class NotGrafana(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", stack.free_port()), NotGrafana)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(push.PushError, match="does not look like Grafana"):
            push.connect(f"http://127.0.0.1:{server.server_address[1]}", TOKEN)
    finally:
        server.shutdown()
        server.server_close()


def test_a_missing_registry_says_what_to_do(tmp_path, monkeypatch, grafana):
    monkeypatch.setenv("LANDFILL_GRAFANA_TOKEN", TOKEN)
    url = f"sqlite:///{tmp_path}/empty.sqlite"
    with pytest.raises(SystemExit, match="--demo-registry"):
        push.main(["--url", grafana.url, "--database-url", url])
