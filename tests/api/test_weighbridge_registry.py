"""Weighbridge registry on SQLite and PostgreSQL: clients, waste types, vehicles, scales, CSV."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.limits import MAX_CSV_BYTES
from tests.api.weighbridge_seed import INN_ORG, seed_registry

pytestmark = pytest.mark.integration


@pytest.fixture
def database_url(any_database_url):
    return any_database_url


def test_client_crud_and_clear_inn_errors(make_api):
    api = make_api()
    body = {"code": "tazalyk", "name": "ОсОО «Тазалык»", "inn": "0180 3200 2101 04"}
    created = api.post("/api/v1/clients", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["inn"] == INN_ORG
    assert created.json()["status"] == "active"
    assert created.json()["vat_payer"] is False
    assert api.post("/api/v1/clients", json=body).json()["code"] == "exists"

    for inn, says in [
        (
            "1803200210104",
            "has 14 digits, this one has 13 (a spreadsheet may have dropped a leading 0)",
        ),
        ("01803200210A04", "digits only"),
        ("51803200210104", "starts with 0 (organisation), 1 or 2 (person)"),
    ]:
        resp = api.post("/api/v1/clients", json=body | {"code": "x", "inn": inn})
        assert resp.status_code == 422
        assert says in resp.text, resp.text

    held = api.patch(
        "/api/v1/clients/tazalyk", json={"status": "on_hold", "phone": "+996 555 12-34-56"}
    )
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "on_hold"
    assert api.patch("/api/v1/clients/tazalyk", json={"status": "gone"}).status_code == 422
    assert api.patch("/api/v1/clients/tazalyk", json={"colour": "red"}).status_code == 422
    assert [c["code"] for c in api.get("/api/v1/clients", params={"status": "on_hold"}).json()] == [
        "tazalyk"
    ]
    assert api.get("/api/v1/clients", params={"q": "тазалык"}).json()[0]["code"] == "tazalyk"
    missing = api.get("/api/v1/clients/nobody", params={"lang": "en"})
    assert (missing.status_code, missing.json()["detail"]) == (404, "nobody is not registered")
    assert api.delete("/api/v1/clients/tazalyk").status_code == 204
    assert api.get("/api/v1/clients").json() == []


def test_vehicle_plates_owner_tare_and_references(make_api, clock):
    api = make_api(clock=clock)
    seed_registry(api, api.get("/api/v1/sites").json()[0]["code"], clock.now)
    vehicle = api.get("/api/v1/vehicles/01 123 abc").json()  # any spelling finds it
    assert vehicle["plate"] == "01KG123ABC"
    assert vehicle["plate_display"] == "01 KG 123 ABC"
    assert (vehicle["client"], vehicle["waste_type"], vehicle["volume_m3"]) == (
        "tazalyk",
        "msw",
        16,
    )
    assert vehicle["tare_state"] == "none"
    again = api.post("/api/v1/vehicles", json={"plate": "01-kg-123-ABC"})
    assert (again.status_code, again.json()["code"]) == (409, "exists")

    # a tare without dates is set now and lasts LANDFILL_TICKET_TARE_VALID_DAYS
    tared = api.patch("/api/v1/vehicles/01KG123ABC", json={"tare_kg": 9040}).json()
    assert tared["tare_state"] == "valid"
    assert tared["tare_set_at"].startswith("2026-11-24T04:00")
    assert tared["tare_expires_at"].startswith("2027-05-23")  # 180 days
    assert api.get("/api/v1/vehicles/08KG555OLD").json()["tare_state"] == "expired"
    clock.now += timedelta(days=181)
    assert api.get("/api/v1/vehicles/01KG123ABC").json()["tare_state"] == "expired"

    bad = api.patch("/api/v1/vehicles/01KG123ABC", json={"client": "nobody"})
    assert (bad.status_code, bad.json()["detail"]) == (422, "client nobody is not registered")
    wrong = api.post("/api/v1/vehicles", json={"plate": "01/KG/1"})
    assert wrong.status_code == 422
    assert "Latin letters and digits" in wrong.text

    # suggestions: part of the plate, with or without KG
    assert [v["plate"] for v in api.get("/api/v1/vehicles", params={"q": "777"}).json()] == [
        "08KG777XYZ"
    ]
    assert len(api.get("/api/v1/vehicles", params={"q": "08 kg"}).json()) == 2
    assert api.delete("/api/v1/clients/tazalyk").json()["code"] == "in_use"
    assert api.delete("/api/v1/waste-types/msw").json()["code"] == "in_use"
    assert api.delete("/api/v1/vehicles/03 KG 200 MED").status_code == 204


def test_waste_types_in_three_languages(make_api):
    api = make_api()
    body = {
        "code": "construction",
        "name_ky": "Курулуш калдыктары",
        "name_ru": "Строительные",
        "name_en": "Construction",
    }
    assert api.post("/api/v1/waste-types", json=body).status_code == 201
    assert api.post("/api/v1/waste-types", json=body | {"name_ky": ""}).status_code == 422
    api.patch("/api/v1/waste-types/construction", json={"accepted": False})
    refused = api.get("/api/v1/waste-types", params={"accepted": False}).json()
    assert [(w["code"], w["name_ky"]) for w in refused] == [("construction", "Курулуш калдыктары")]


def test_scale_limits_and_verification(make_api, site):
    api = make_api()
    body = {
        "site": site,
        "code": "wb1",
        "name": "Weighbridge 60 t",
        "min_kg": 400,
        "certificate": "KG-2026/0417",
        "verified_on": "2026-03-02",
    }
    scale = api.post("/api/v1/scales", json=body).json()
    assert (scale["division_kg"], scale["max_kg"], scale["min_kg"]) == (20, 60000, 400)
    assert (scale["certificate"], scale["verified_on"]) == ("KG-2026/0417", "2026-03-02")
    assert api.post("/api/v1/scales", json=body | {"code": "b", "min_kg": 60000}).status_code == 422
    changed = api.patch("/api/v1/scales/wb1", json={"max_kg": 40000, "protocol": "tenso-m"})
    assert changed.status_code == 200, changed.text
    assert api.get("/api/v1/scales/wb1").json()["max_kg"] == 40000
    assert api.patch("/api/v1/scales/wb1", json={"protocol": "acme"}).status_code == 422
    assert api.patch("/api/v1/scales/nope", json={}).status_code == 404


def test_csv_round_trip_and_errors_by_line(make_api, clock, site):
    api = make_api(clock=clock)
    seed_registry(api, site, clock.now)
    for path in ("clients", "waste-types", "vehicles"):
        exported = api.get(f"/api/v1/{path}/export")
        assert exported.headers["content-type"].startswith("text/csv")
        assert f"{path}-{site}.csv" in exported.headers["content-disposition"]
        again = api.post(
            f"/api/v1/{path}/import", content=exported.content, headers={"content-type": "text/csv"}
        )
        assert again.status_code == 200, again.text
        assert again.json()["created"] == 0  # re-importing an export changes nothing
    assert api.get("/api/v1/vehicles/08KG777XYZ").json()["tare_kg"] == 9000
    audited = [r["action"] for r in api.get("/api/v1/audit", params={"limit": 1000}).json()["data"]]
    assert [a for a in audited if ".import_" in a] == []  # and no row says it did

    text = (
        "code,name,inn,vat_payer,status\n"
        "new-co,ОсОО Жаңы,00101200310001,ооба,active\n"
        "bad-inn,ОсОО Ката,123,false,active\n"
        "new-co,Again,00101200310001,,\n"
        "held,ОсОО Токтотулган,00101200310002,no,paused\n"
    )
    resp = api.post(
        "/api/v1/clients/import", content=text.encode(), headers={"content-type": "text/csv"}
    )
    assert resp.status_code == 422
    errors = {e["line"]: e["error"] for e in resp.json()["errors"]}
    assert sorted(errors) == [3, 4, 5]
    assert "14 digits" in errors[3]
    assert "repeats line 2" in errors[4]
    assert "status" in errors[5]
    assert api.get("/api/v1/clients/new-co").status_code == 404  # all or nothing

    ok = "code,name,inn,vat_payer\nnew-co,ОсОО Жаңы,00101200310001,ооба\n"
    upload = api.post("/api/v1/clients/import", files={"file": ("c.csv", ok.encode(), "text/csv")})
    assert upload.json() == {"created": 1, "updated": 0}
    assert api.get("/api/v1/clients/new-co").json()["vat_payer"] is True

    vehicles = (
        "plate,client,waste_type,tare_kg\n05 KG 001 AAA,nobody,msw,7000\n05KG002AAA,new-co,,\n"
    )
    resp = api.post(
        "/api/v1/vehicles/import", content=vehicles.encode(), headers={"content-type": "text/csv"}
    )
    assert resp.status_code == 422
    assert resp.json()["errors"] == [{"line": 2, "error": "client nobody is not registered"}]
    assert api.get("/api/v1/vehicles/05KG002AAA").status_code == 404
    header = api.post(
        "/api/v1/vehicles/import",
        content=b"plate,colour\n01KG1AB,red\n",
        headers={"content-type": "text/csv"},
    )
    assert header.json()["errors"][0] == {"line": 1, "error": "unknown columns: colour"}


def test_every_registry_change_is_in_the_audit_log(make_api, clock, site):
    api = make_api(clock=clock)
    seed_registry(api, site, clock.now)
    assert api.patch("/api/v1/clients/tazalyk", json={"status": "on_hold"}).status_code == 200
    assert api.patch("/api/v1/vehicles/01 123 abc", json={"tare_kg": 9040}).status_code == 200
    assert api.patch("/api/v1/waste-types/medical", json={"accepted": True}).status_code == 200
    assert api.patch("/api/v1/scales/wb1", json={"max_kg": 40000}).status_code == 200
    assert api.delete("/api/v1/vehicles/03KG200MED").status_code == 204
    assert api.delete("/api/v1/clients/ip-asanov").status_code == 204
    # refused changes leave no row
    assert api.delete("/api/v1/clients/tazalyk").status_code == 409
    assert (
        api.post("/api/v1/clients", json={"code": "hold", "name": "x", "inn": INN_ORG}).status_code
        == 409
    )
    # an export imported again changes nothing and writes nothing
    exported = api.get("/api/v1/clients/export").content
    csv = {"content-type": "text/csv"}
    assert api.post("/api/v1/clients/import", content=exported, headers=csv).status_code == 200
    changed = (
        "code,name,inn\ntazalyk,ОсОО «Тазалык-2»,01803200210104\nnew-co,ОсОО Жаңы,00101200310001\n"
    )
    assert api.post("/api/v1/clients/import", content=changed.encode(), headers=csv).json() == {
        "created": 1,
        "updated": 1,
    }

    rows = api.get("/api/v1/audit", params={"limit": 1000}).json()["data"]
    assert {(r["actor"], r["role"]) for r in rows} == {("token:test-admin", "admin")}
    made = [(r["action"], r["target"]) for r in reversed(rows)]
    assert made == [
        ("scale.create", f"{site}/wb1"),
        ("client.create", "tazalyk"),
        ("client.create", "hold"),
        ("client.create", "ip-asanov"),
        ("waste_type.create", "msw"),
        ("waste_type.create", "medical"),
        ("vehicle.create", "01KG123ABC"),
        ("vehicle.create", "08KG777XYZ"),
        ("vehicle.create", "08KG555OLD"),
        ("vehicle.create", "02KG100HLD"),
        ("vehicle.create", "03KG200MED"),
        ("client.update", "tazalyk"),
        ("vehicle.update", "01KG123ABC"),
        ("waste_type.update", "medical"),
        ("scale.update", f"{site}/wb1"),
        ("vehicle.delete", "03KG200MED"),
        ("client.delete", "ip-asanov"),
        ("client.import_update", "tazalyk"),
        ("client.import_create", "new-co"),
    ]
    row = {(r["action"], r["target"]): r for r in rows}
    held = row[("client.update", "tazalyk")]
    assert (held["before"]["status"], held["after"]["status"]) == ("active", "on_hold")
    tared = row[("vehicle.update", "01KG123ABC")]
    assert (tared["before"]["tare_kg"], tared["after"]["tare_kg"]) == (None, 9040)
    assert tared["after"]["tare_set_at"].startswith("2026-11-24T04:00")
    assert (tared["after"]["client"], tared["after"]["waste_type"]) == ("tazalyk", "msw")
    scale = row[("scale.update", f"{site}/wb1")]
    assert (scale["before"]["max_kg"], scale["after"]["max_kg"]) == (60000, 40000)
    assert row[("vehicle.delete", "03KG200MED")]["before"]["waste_type"] == "medical"
    assert row[("vehicle.delete", "03KG200MED")]["after"] is None
    renamed = row[("client.import_update", "tazalyk")]
    assert (renamed["before"]["name"], renamed["after"]["name"]) == (
        "ОсОО «Тазалык»",
        "ОсОО «Тазалык-2»",
    )
    assert renamed["after"]["status"] == "active"  # a cell left out is the default
    assert row[("client.import_create", "new-co")]["before"] is None


def test_a_registry_csv_up_to_the_file_limit_is_imported(make_api):
    """The same limit as the containers' import: 1 MB of CSV, not the 64 KiB of a JSON body."""
    api = make_api()
    rows = [f"c{i:05d},ОсОО Клиент {i},0010120031{i:04d}" for i in range(3000)]
    text = "code,name,inn\n" + "\n".join(rows) + "\n"
    assert 64 * 1024 < len(text.encode()) < MAX_CSV_BYTES
    for upload in (
        {"content": text.encode(), "headers": {"content-type": "text/csv"}},
        {"files": {"file": ("c.csv", text.encode(), "text/csv")}},
    ):
        resp = api.post("/api/v1/clients/import", **upload)
        assert resp.status_code == 200, resp.text[:200]
    assert api.get("/api/v1/clients/c02999").status_code == 200
    too_big = "code,name,inn\n" + "x" * MAX_CSV_BYTES
    resp = api.post("/api/v1/clients/import", content=too_big, headers={"content-type": "text/csv"})
    assert resp.status_code == 413
