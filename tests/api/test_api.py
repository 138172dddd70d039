"""API against real mosquitto and influxd: health, captures, registry, clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from deploy import stack
from landfill.settings import ApiSettings
from tests.api.conftest import add_token
from tests.conftest import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def api(broker, influx, site, tmp_path):
    settings = ApiSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=f"sqlite:///{tmp_path}/api.sqlite",
    )
    with TestClient(create_app(settings)) as client:
        wait_for(lambda: client.get("/health").status_code == 200, what="healthy")
        client.headers["Authorization"] = f"Bearer {add_token(client.app, 'admin')}"
        yield client


def test_health_reports_every_dependency(api):
    assert api.get("/health").json() == {
        "status": "ok",
        "broker": True,
        "influxdb": True,
        "database": True,
        "ingest": "unknown",  # no ingest has written ingest_stats to this database
        "ingest_detail": "",
    }


def test_health_is_503_when_influx_is_down(broker, site, tmp_path):
    settings = ApiSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=f"http://127.0.0.1:{stack.free_port()}",
        database_url=f"sqlite:///{tmp_path}/api.sqlite",
    )
    with TestClient(create_app(settings)) as client:
        wait_for(lambda: client.get("/health").json()["broker"], what="broker connected")
        client.headers["Authorization"] = f"Bearer {add_token(client.app, 'operator')}"
        resp = client.get("/health")
        assert resp.status_code == 503
        assert resp.json()["status"] == "degraded"
        assert resp.json()["influxdb"] is False
        assert client.get("/api/v1/captures").status_code == 503


def test_health_says_when_ingest_stopped(api, influx, site):
    def stats(worker: str, age_s: int, fatal: str = "") -> str:
        ms = int((datetime.now(UTC) - timedelta(seconds=age_s)).timestamp() * 1000)
        fields = f'received=5i,fatal="{fatal}"' if fatal else "received=5i"
        return f"ingest_stats,site={site},worker={worker} {fields} {ms}"

    influx.write_lines([stats("w1", 60), stats("w1", 1, fatal="writer thread died: OSError: x")])
    resp = api.get("/health")
    assert resp.status_code == 503
    assert resp.json() | {"ingest_detail": ""} == {
        "status": "degraded",
        "broker": True,
        "influxdb": True,
        "database": True,
        "ingest": "stopped",
        "ingest_detail": "",
    }
    assert resp.json()["ingest_detail"] == "writer thread died: OSError: x"
    influx.write_lines([stats("w1", 0)])  # the supervisor restarted it
    resp = api.get("/health")
    assert (resp.status_code, resp.json()["ingest"]) == (200, "running")
    influx.write_lines([stats("w2", 0)])
    influx.write_lines([stats("w1", -1, fatal="batcher thread died: RuntimeError: y")])
    assert api.get("/health").json()["ingest"] == "running", "w2 still runs"


def test_captures_newest_first_filtered_by_scale_and_time(api, influx, site):
    now = datetime.now(UTC).replace(microsecond=0)
    lines = []
    for i, (scale, kg) in enumerate([("s1", 14560), ("s2", 9000), ("s1", 4200)]):
        ms = int((now - timedelta(minutes=10 - i)).timestamp() * 1000)
        lines.append(
            f"scale_capture,scale={scale},site={site} weight_kg={kg}i,division_kg=20i,"
            f'stable_ms=2000i,id="c{i}",protocol="yaohua-a9",stable_source="window",raw="" '
            f"{ms * 1_000_000 + kg}"  # at ns, as ingest's capture_ns
        )
    influx.write_lines(lines)
    data = api.get("/api/v1/captures", params={"scale": "s1"}).json()
    assert [c["weight_kg"] for c in data["data"]] == [4200, 14560]
    since = (now - timedelta(minutes=8, seconds=30)).isoformat()
    data = api.get("/api/v1/captures", params={"since": since}).json()
    assert [c["id"] for c in data["data"]] == ["c2"]
    assert api.get("/api/v1/captures", params={"limit": 1}).json()["count"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"scale": "s1' OR 1=1"},
        {"since": "2026-11-24T10:00:00"},  # no zone: ambiguous, refused
        {"since": "yesterday"},
        {"limit": 0},
        {"limit": 100000},
        {"since": "2026-11-24T10:00:00Z", "until": "2026-11-24T09:00:00Z"},
    ],
)
def test_bad_capture_queries_get_422(api, params):
    resp = api.get("/api/v1/captures", params=params)
    assert resp.status_code == 422, resp.text


def test_registry_sites_and_scales(api, site):
    assert [s["code"] for s in api.get("/api/v1/sites").json()] == [site]
    body = {"site": site, "code": "main", "name": "Weighbridge 60 t", "division_kg": 20}
    assert api.post("/api/v1/scales", json=body).status_code == 201
    assert api.post("/api/v1/scales", json=body).status_code == 409
    assert api.post("/api/v1/scales", json=body | {"site": "nowhere"}).status_code == 404
    assert (
        api.post("/api/v1/scales", json=body | {"code": "x", "protocol": "acme"}).status_code == 422
    )
    assert api.post("/api/v1/scales", json=body | {"division_kg": 0}).status_code == 422
    assert [s["code"] for s in api.get("/api/v1/scales", params={"site": site}).json()] == ["main"]
