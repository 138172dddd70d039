"""Container registry: CRUD, validation messages, CSV import/export, retained registry message."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import update

from api.container_registry import CSV_COLUMNS, demo_csv, parse_csv
from api.db import Container
from landfill.contract import ContainerRegistry, Topics
from landfill.sensor_models import model_names
from tests.api.conftest import add_user, client_for, login
from tests.conftest import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def database_url(any_database_url):
    """The container registry runs on SQLite and on PostgreSQL."""
    return any_database_url


KNOWN = "EM310-UDL, EM400-UDL, EM400-MUD, LDDS75, LDDS20"
BIN = {
    "code": "bin-a",
    "settlement": "Dostuk",
    "zone": "dostuk",
    "lat": 41.118,
    "lon": 72.64,
    "empty_mm": 1450,
    "full_mm": 450,
    "collection_weekdays": [3, 0],
    "device": "A840410000000001",
    "model": "LDDS75",
}


def test_crud_round_trip(make_api):
    api = make_api()
    resp = api.post("/api/v1/containers", json=BIN)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["device"] == "a840410000000001"  # EUIs are kept in lower case
    assert body["collection_weekdays"] == [0, 3]
    assert body["full_pct"] == 80
    assert body["clear_pct"] == 70
    assert body["active"] is True

    api.post("/api/v1/containers", json=BIN | {"code": "bin-b", "zone": "road", "device": None})
    assert [c["code"] for c in api.get("/api/v1/containers").json()["data"]] == ["bin-a", "bin-b"]
    assert [c["code"] for c in api.get("/api/v1/containers?zone=road").json()["data"]] == ["bin-b"]
    monday = api.get("/api/v1/containers?weekday=0").json()["data"]
    assert [c["code"] for c in monday] == ["bin-a", "bin-b"]
    assert api.get("/api/v1/containers?weekday=1").json()["count"] == 0

    resp = api.patch("/api/v1/containers/bin-a", json={"full_pct": 90, "settlement": "Noshken"})
    assert resp.status_code == 200, resp.text
    got = api.get("/api/v1/containers/bin-a").json()
    assert (got["full_pct"], got["settlement"], got["empty_mm"]) == (90, "Noshken", 1450)

    resp = api.delete("/api/v1/containers/bin-a")
    assert resp.status_code == 200
    assert resp.json()["active"] is False
    assert [c["code"] for c in api.get("/api/v1/containers?active=true").json()["data"]] == [
        "bin-b"
    ]
    assert api.delete("/api/v1/containers/bin-b?purge=true").status_code == 204
    assert api.get("/api/v1/containers/bin-b").status_code == 404
    assert api.get("/api/v1/containers/nope").json() == {"detail": "container not found"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"full_mm": 1500}, "full_mm must be less than empty_mm"),
        ({"full_mm": 100}, "full_mm must be at least the 280 mm sensor blind zone"),
        ({"clear_pct": 85}, "clear_pct must be below full_pct"),
        ({"full_pct": 120}, "less than or equal to 100"),
        ({"collection_weekdays": [7]}, "less than or equal to 6"),
        ({"collection_weekdays": [-1]}, "greater than or equal to 0"),
        ({"lat": None}, "give both lat and lon, or neither"),
        # "not-an-eui" is a network server's device name now (issue 12); a space is not
        ({"device": "not an eui"}, "should match pattern"),
        ({"device": "a84041000000001"}, "a DevEUI has 16 hex digits, this one 15"),
        ({"device": "x" * 65}, "should match pattern"),
        ({"model": "EM310-UDI"}, f"unknown model 'EM310-UDI'; the sensor edge decodes {KNOWN}"),
        ({"lat": 95.0}, "less than or equal to 90"),
        ({"lon": -181}, "greater than or equal to -180"),
        ({"volume_m3": 0}, "greater than 0"),
        ({"code": "bin a/1"}, "should match pattern"),
    ],
)
def test_validation_errors_say_what_is_wrong(make_api, change, message):
    api = make_api()
    resp = api.post("/api/v1/containers", json=BIN | change)
    assert resp.status_code == 422
    assert message in json.dumps(resp.json())
    # the same rule holds when a PATCH would break it
    assert api.post("/api/v1/containers", json=BIN).status_code == 201
    if "code" not in change:
        resp = api.patch("/api/v1/containers/bin-a", json=change)
        assert resp.status_code == 422
        assert message in resp.json()["detail"]


def test_duplicates_are_409(make_api):
    api = make_api()
    assert api.post("/api/v1/containers", json=BIN).status_code == 201
    resp = api.post("/api/v1/containers", json=BIN)
    assert resp.status_code == 409
    assert resp.json()["detail"] == "a container with this code exists"
    resp = api.post("/api/v1/containers", json=BIN | {"code": "bin-b"})
    assert resp.json() == {"detail": "device is bound to another container"}
    assert api.post("/api/v1/containers", json=BIN | {"code": "bin-b", "device": None}).is_success
    resp = api.patch("/api/v1/containers/bin-b", json={"device": "a840410000000001"})
    assert resp.status_code == 409
    # a retired container releases its device for the one that replaces it
    api.delete("/api/v1/containers/bin-a")
    assert api.patch("/api/v1/containers/bin-b", json={"device": "a840410000000001"}).is_success
    assert api.patch("/api/v1/containers/bin-a", json={"active": True}).status_code == 409


CSV_OK = """code,settlement,zone,lat,lon,empty_mm,full_mm,collection_weekdays,device,model
bin-01,Dostuk,dostuk,41.1,72.6,1450,450,0 3,a840410000000001,LDDS75
bin-02,Noshken,dostuk,41.2,72.7,1450,450,1,,EM310-UDL
"""


def test_csv_import_text_and_multipart_then_export_round_trip(make_api):
    api = make_api()
    resp = api.post(
        "/api/v1/containers/import", content=CSV_OK, headers={"content-type": "text/csv"}
    )
    assert resp.json() == {"created": 2, "updated": 0}
    changed = CSV_OK.replace("Noshken", "Kyzyl-Tuu")
    resp = api.post(
        "/api/v1/containers/import", files={"file": ("c.csv", changed.encode(), "text/csv")}
    )
    assert resp.json() == {"created": 0, "updated": 2}
    assert api.get("/api/v1/containers/bin-02").json()["settlement"] == "Kyzyl-Tuu"

    exported = api.get("/api/v1/containers/export")
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert lines[1].startswith("bin-01,Dostuk,dostuk,41.1,72.6,1.1,1450,450,80.0,70.0,3600,0 3,")
    before = api.get("/api/v1/containers").json()["data"]
    resp = api.post(
        "/api/v1/containers/import", content=exported.text, headers={"content-type": "text/csv"}
    )
    assert resp.json() == {"created": 0, "updated": 2}
    after = api.get("/api/v1/containers").json()["data"]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "updated_at"} for r in rows]  # noqa: E731
    assert strip(after) == strip(before)


def test_csv_errors_by_line_and_nothing_half_imported(make_api):
    api = make_api()
    bad = (
        "code,empty_mm,full_mm,collection_weekdays,device,active\n"
        "ok-1,1450,450,0,a840410000000001,true\n"
        "bad-1,450,1450,0,,true\n"  # line 3: full below empty
        '"ok-2",1450,450,"1;4",,yes\n'
        "bad-2,1450,450,9,,true\n"  # line 5: weekday out of range
        "ok-1,1450,450,2,,true\n"  # line 6: code repeats line 2
        "bad-3,1450,450,2,a840410000000001,true\n"  # line 7: device repeats line 2
        "bad-4,1450,450\n"  # line 8: short row
        "bad-5,1450,450,2,,maybe\n"  # line 9: not a boolean
    )
    resp = api.post("/api/v1/containers/import", content=bad, headers={"content-type": "text/csv"})
    assert resp.status_code == 422
    body = resp.json()
    assert body["detail"] == "rows with errors; nothing was imported"
    errors = {e["line"]: e["error"] for e in body["errors"]}
    assert sorted(errors) == [3, 5, 6, 7, 8, 9]
    assert "full_mm must be less than empty_mm" in errors[3]
    assert errors[5].startswith("collection_weekdays.0:")
    assert errors[6] == "code ok-1 repeats line 2"
    assert errors[7] == "device a840410000000001 repeats line 2"
    assert errors[8] == "expected 6 cells, found 3"
    assert errors[9].startswith("active:")
    assert api.get("/api/v1/containers").json()["count"] == 0


def test_csv_header_and_device_bound_elsewhere(make_api):
    api = make_api()
    resp = api.post(
        "/api/v1/containers/import",
        content="code,empty,full_mm\nx,1,2\n",
        headers={"content-type": "text/csv"},
    )
    assert resp.json()["errors"] == [
        {"line": 1, "error": "unknown columns: empty; missing columns: empty_mm"}
    ]
    assert api.post("/api/v1/containers", json=BIN).status_code == 201
    other = "code,empty_mm,full_mm,device\nnew-1,1450,450,a840410000000001\n"
    resp = api.post(
        "/api/v1/containers/import", content=other, headers={"content-type": "text/csv"}
    )
    assert resp.json()["errors"] == [
        {"line": 2, "error": "device a840410000000001 is bound to bin-a"}
    ]
    # 0x98 is neither UTF-8 nor Windows-1251 (which is read since Russian Excel writes it)
    resp = api.post(
        "/api/v1/containers/import", content=b"\x98\xff", headers={"content-type": "text/csv"}
    )
    assert resp.json() == {"detail": "file is neither UTF-8 nor Windows-1251"}
    resp = api.post("/api/v1/containers/import", json={"a": 1})
    assert resp.status_code == 415


def test_registry_is_published_retained_at_start_and_on_every_change(make_api, collect, site):
    topic = Topics(site).of(ContainerRegistry)
    api = make_api()
    first = collect(topic)
    # retained: a subscriber arriving after start-up gets the (empty) registry at once
    wait_for(lambda: first.payloads(), what="retained registry at start-up")
    assert first.payloads()[-1]["containers"] == []
    assert first.messages[-1][0] == topic

    api.post("/api/v1/containers", json=BIN)
    msg = wait_for(
        lambda: [p for p in first.payloads() if len(p["containers"]) == 1], what="registry"
    )[-1]
    registry = ContainerRegistry.model_validate(msg)
    spec = registry.containers[0]
    assert (spec.container, spec.device, spec.collection_weekdays) == (
        "bin-a",
        "a840410000000001",
        [0, 3],
    )
    api.patch("/api/v1/containers/bin-a", json={"full_pct": 85})
    wait_for(
        lambda: any(
            p["containers"] and p["containers"][0]["full_pct"] == 85 for p in first.payloads()
        ),
        what="registry after PATCH",
    )
    api.delete("/api/v1/containers/bin-a")
    late = collect(topic)  # a late subscriber sees only the newest retained state
    wait_for(lambda: late.payloads() and late.payloads()[-1]["containers"] == [], what="retained")


def test_demo_seed_loads_33_containers(make_api):
    rows, errors = parse_csv(demo_csv())
    assert errors == []
    assert len(rows) == 33
    settlements = {f.settlement for _, f in rows}
    assert len(settlements) == 19
    assert {
        "Bürgöndü",
        "Dostuk",
        "Jany-Aryk",
        "Noshken",
        "Shamaldy-Sai",
        "Kyzyl-Tuu",
    } <= settlements
    assert {d for _, f in rows for d in f.collection_weekdays} == {0, 1, 2, 3, 4, 5}
    assert {f.model for _, f in rows} == {"EM310-UDL", "LDDS75"}
    assert len({f.device for _, f in rows}) == 33
    api = make_api(seed_demo=True)
    assert api.get("/api/v1/containers").json()["count"] == 33


def test_unknown_model_is_422_listing_the_models_the_edge_decodes(make_api):
    """A typo in the model would dead-letter every uplink of the device: refused on entry."""
    api = make_api()
    resp = api.post("/api/v1/containers", json=BIN | {"model": "LDDS57"})
    assert resp.status_code == 422
    [error] = resp.json()["detail"]
    assert (error["type"], error["loc"]) == ("unknown_model", ["body", "model"])
    assert all(name in error["msg"] for name in model_names())
    # each error names its field, so the page can put it beside the field
    resp = api.post("/api/v1/containers", json=BIN | {"device": 24, "empty_mm": "deep"})
    assert [(e["loc"], e["type"]) for e in resp.json()["detail"]] == [
        (["body", "empty_mm"], "int_parsing"),
        (["body", "device"], "string_type"),
    ]
    # the edge's spelling rules: case, dashes and a vendor prefix do not matter; stored canonical
    resp = api.post("/api/v1/containers", json=BIN | {"model": "milesight em310udl"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["model"] == "EM310-UDL"
    resp = api.patch("/api/v1/containers/bin-a", json={"model": "EM31O-UDL"})
    assert resp.status_code == 422
    assert resp.json()["detail"].startswith("model: unknown model 'EM31O-UDL'")
    [error] = resp.json()["errors"]
    assert (error["type"], error["loc"]) == ("unknown_model", ["model"])
    assert KNOWN in error["msg"]
    assert api.patch("/api/v1/containers/bin-a", json={"model": None}).json()["model"] is None
    # a CSV row too, by line, and nothing is imported
    csv_text = CSV_OK.replace("LDDS75", "LDS75")
    resp = api.post(
        "/api/v1/containers/import", content=csv_text, headers={"content-type": "text/csv"}
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["line"] == 2
    assert "unknown model 'LDS75'" in resp.json()["errors"][0]["error"]


def test_a_device_known_by_its_network_server_name(make_api, collect, site):
    """ChirpStack deviceName, TTS device_id, a native bridge's device: registered by name."""
    api = make_api()
    resp = api.post("/api/v1/containers", json=BIN | {"device": "Bin-A-Sensor"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["device"] == "bin-a-sensor"  # compared without case, as the edge does
    resp = api.post("/api/v1/containers", json=BIN | {"code": "bin-b", "device": "bin-a-sensor"})
    assert resp.json() == {"detail": "device is bound to another container"}
    registry = collect(Topics(site).of(ContainerRegistry))
    got = wait_for(
        lambda: [p for p in registry.payloads() if p["containers"]], what="registry with bin-a"
    )[-1]
    spec = ContainerRegistry.model_validate(got).containers[0]
    assert (spec.container, spec.device) == ("bin-a", "bin-a-sensor")
    # a dispatcher registers and changes containers (deactivating and importing stay supervisors')
    add_user(api.app, "aigul", "dispatcher")
    dispatcher = client_for(api.app)
    assert login(dispatcher, "aigul").status_code == 303
    changed = dispatcher.patch("/api/v1/containers/bin-a", json={"device": "a840410000000009"})
    assert changed.status_code == 200, changed.text
    added = dispatcher.post("/api/v1/containers", json=BIN | {"code": "bin-c", "device": None})
    assert added.status_code == 201, added.text
    assert dispatcher.delete("/api/v1/containers/bin-a").status_code == 403


def test_the_containers_page_texts_exist_in_every_language():
    """Every text the containers script asks for, every model's description, every rule's."""
    from pathlib import Path

    from api.i18n import catalogue
    from landfill.language import LANGUAGES

    script = (Path(__file__).parents[2] / "api" / "static" / "containers.js").read_text("utf-8")
    used = set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", script))
    used |= {f"containers.model.{name}" for name in model_names()}
    rule_types = ("unknown_model", "device_eui_length", "full_below_empty", "full_blind_zone")
    used |= {f"containers.error.{kind}" for kind in (*rule_types, "both_coordinates")}
    for lang in LANGUAGES:
        assert used <= set(catalogue(lang)), (lang, used - set(catalogue(lang)))


def test_the_page_lists_containers_flags_an_undecodable_stored_model_and_is_linked(make_api):
    api = make_api()
    assert api.post("/api/v1/containers", json=BIN).status_code == 201
    with api.app.state.sessions() as session:  # a row stored before models were a choice
        session.execute(update(Container).values(model="EM31O"))
        session.commit()
    add_user(api.app, "aigul", "dispatcher")
    dispatcher = client_for(api.app)
    login(dispatcher, "aigul")
    html = dispatcher.get("/dispatch/containers?lang=en").text
    assert 'id="container-form"' in html
    assert '<tr data-code="bin-a">' in html
    assert 'class="model unknown"' in html
    assert 'href="/dispatch/containers"' in dispatcher.get("/dispatch").text
    # changing anything of that container asks for a model the edge decodes
    resp = dispatcher.patch("/api/v1/containers/bin-a", json={"settlement": "Noshken"})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["type"] == "unknown_model"
