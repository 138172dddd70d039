"""Refused data through the real processes: the sensor edge refuses the uplinks of a device
whose model is a typo and of garbage, ingest refuses a malformed reading, and the dispatcher's
board (API and page in Chromium) shows who had how many refused today, and why; the admin's
list shows the letters themselves.

    uplinks --> landfill edge sensors --deadletter--> mosquitto --> landfill ingest --> influxd
    readings ------------------------------------------^                                 |
                                           landfill api /api/v1/dispatch/refused <-------+
"""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from api import db
from bench.ingest import wait_online
from tests.browser import chromium
from tests.conftest import publish, wait_for
from tests.test_end_to_end import LANDFILL, Procs

pytestmark = pytest.mark.integration

TYPO = "0004a30b001c0a11"  # registered, with the model "EM310-UDX" (a typo of EM310-UDL)
STRANGER = "a84041000181c2e1"  # sends garbage


@pytest.fixture
def procs(tmp_path):
    p = Procs(tmp_path)
    yield p
    p.stop_all()


def uplink(eui: str, fcnt: int) -> bytes:
    """A ChirpStack v4 `up` event (the shape of tests/edge/sensors/samples.py)."""
    return json.dumps(
        {
            "deduplicationId": str(uuid.uuid4()),
            "time": datetime.now(UTC).isoformat(),
            "deviceInfo": {"deviceName": f"bin {eui[-4:]}", "devEui": eui, "tags": {}},
            "fCnt": fcnt,
            "fPort": 85,
            "data": base64.b64encode(bytes([0x01, 0x75, 0x5C, 0x03, 0x82, 0x1E, 0x05])).decode(),
            "rxInfo": [{"gatewayId": "0016c001f153a14c", "rssi": -90, "snr": 7.5}],
        }
    ).encode()


def register_container(sql_url: str, site: str) -> None:
    """The SQL registry before the API starts: one container whose device has a model typo."""
    engine = db.make_engine(sql_url)
    db.migrate(engine)
    with db.session_factory(engine)() as session:
        row = db.Site(code=site, name="Dostuk")
        session.add(row)
        session.flush()
        session.add(
            db.Container(
                site_id=row.id,
                code="K-12",
                empty_mm=1500,
                full_mm=300,
                device=TYPO.upper(),
                model="EM310-UDX",
            )
        )
        session.commit()
    engine.dispose()


def token(env: dict[str, str], cwd, role: str) -> str:
    made = subprocess.run(
        [*LANDFILL, "tokens", "create", f"refused-{role}", "--role", role],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip()


def get(port: int, path: str, bearer: str) -> dict | None:
    try:
        resp = httpx.get(
            f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {bearer}"}
        )
    except httpx.HTTPError:
        return None
    return resp.json() if resp.status_code == 200 else None


def by_source(refused: dict | None) -> dict[str, dict]:
    return {s["source"]: s for s in (refused or {}).get("sources", [])}


def test_refused_uplinks_and_bad_readings_show_on_the_board(procs, env_for, broker, site, tmp_path):
    from deploy import stack

    ingest_id = f"ingest-{uuid.uuid4().hex[:8]}"
    env = env_for(
        LANDFILL_INGEST_CLIENT_ID=ingest_id,
        LANDFILL_INGEST_FLUSH_SECONDS="0.1",
        LANDFILL_SENSORS_CLIENT_ID=f"edge-{uuid.uuid4().hex[:8]}",
    )
    register_container(env["LANDFILL_DATABASE_URL"], site)
    dispatcher, admin = token(env, tmp_path, "dispatcher"), token(env, tmp_path, "admin")
    port = stack.free_port()
    procs.start("ingest", [*LANDFILL, "ingest"], env)
    procs.start("api", [*LANDFILL, "api", "--port", str(port)], env)
    wait_online(broker.url, site, ingest_id)
    procs.start("edge", [*LANDFILL, "edge", "sensors"], env)
    wait_for(lambda: "registry from broker: 1 devices" in procs.log("edge"), 30, "registry")
    wait_for(lambda: "taking uplinks" in procs.log("edge"), 30, "edge subscribed")

    for fcnt in range(14):
        publish(broker.url, f"application/app1/device/{TYPO}/event/up", uplink(TYPO, fcnt))
    for n in range(3):
        publish(broker.url, f"application/app1/device/{STRANGER}/event/up", b"\x00junk %d" % n)
    for _ in range(2):
        publish(broker.url, f"landfill/v1/{site}/container/K-12/reading", b"{not json")

    def complete() -> dict | None:
        found = by_source(get(port, "/api/v1/dispatch/refused", dispatcher))
        total = sum(s["letters"] for s in found.values())
        return found if total >= 14 + 3 + 2 else None

    found = wait_for(complete, 30, "19 refused messages on the board")
    assert found[f"device:{TYPO}"] == {
        "source": f"device:{TYPO}",
        "name": TYPO,
        "kind": "uplink",
        "container": "K-12",  # the registry knows the device (in capitals): the dispatcher's name
        "letters": 14,
        "reasons": [{"reason": "unknown_model", "letters": 14}],
    }
    assert found[f"device:{STRANGER}"]["reasons"] == [
        {"reason": "bad_envelope:invalid_json", "letters": 3}
    ]
    assert found["container:K-12"]["reasons"] == [{"reason": "invalid_json", "letters": 2}]
    assert found["container:K-12"]["kind"] == "reading"
    assert len(found) == 3

    # the admin sees the letters: at most five a minute of each, with a bounded excerpt
    letters = get(port, f"/api/v1/dead-letters?source=device:{TYPO}", admin)["data"]
    assert 1 <= len(letters) <= 5
    assert {x["reason"] for x in letters} == {"unknown_model"}
    assert all(TYPO in x["excerpt"] and len(x["excerpt"].encode()) <= 200 for x in letters)
    assert all(x["topic"] == f"application/app1/device/{TYPO}/event/up" for x in letters)
    junk = get(port, f"/api/v1/dead-letters?source=device:{STRANGER}", admin)["data"]
    assert {x["excerpt"][:9] for x in junk} == {"\\x00junk "}
    assert get(port, "/api/v1/dead-letters", dispatcher) is None  # 403: admins only

    with chromium() as browser:
        ctx = browser.new_context(
            viewport={"width": 1366, "height": 768},
            extra_http_headers={"Authorization": f"Bearer {dispatcher}"},
        )
        page = ctx.new_page()
        page.goto(f"http://127.0.0.1:{port}/dispatch?lang=en")
        item = page.locator(f'#refused-data li[data-source="device:{TYPO}"]')
        item.wait_for(timeout=15_000)
        assert item.inner_text() == (
            f"device {TYPO} (container K-12): 14 uplinks refused today: unknown model"
        )
        assert page.locator("#refused-data li").count() == 3
        assert page.locator("#refused-data .none").is_hidden()
        page.goto(f"http://127.0.0.1:{port}/dispatch?lang=ky")
        item.wait_for(timeout=15_000)
        assert item.inner_text() == (
            f"{TYPO} түзмөгү (K-12 контейнери): бүгүн датчиктен келген 14 билдирүү четке "
            "кагылды: белгисиз модель"
        )
        admin_page = browser.new_context(extra_http_headers={"Authorization": f"Bearer {admin}"})
        listing = admin_page.new_page()
        listing.goto(f"http://127.0.0.1:{port}/admin/dead-letters?lang=ru&reason=unknown_model")
        rows = listing.locator("#letters tbody tr")
        assert 1 <= rows.count() <= 5
        assert "неизвестная модель" in rows.first.inner_text()
        ctx.close()
        admin_page.close()

    for name in ("edge", "ingest"):
        assert procs.stop(name) in (0, 130), procs.log(name)[-2000:]
        assert "Traceback" not in procs.log(name), procs.log(name)
