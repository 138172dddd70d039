"""Gap-free ticket numbers under concurrent requests, on SQLite and on PostgreSQL.

Two API processes share one database (two operators' desks, each with its own operator token
made by `landfill tokens create`); threads hammer both at once.
Every one-pass capture is sent twice, by two threads, so the unique capture rule races too;
every open ticket gets two second weighings at once, so completing one ticket races too. The
numbers issued must be exactly 1..N: no gap, no duplicate, one ticket per capture.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from deploy import stack
from tests.api.weighbridge_seed import capture
from tests.conftest import wait_for

pytestmark = pytest.mark.integration
ONE_PASS = 40  # captures, each a one-pass ticket against the stored tare (sent twice)
TWO_PASS = 12  # vehicles with an open ticket, completed at the same moment
OPERATORS = ("bakyt", "aigerim")  # the token of each desk, by its name


@pytest.fixture
def desks(env_for, any_database_url, tmp_path):
    """Two API processes on one database and their tokens (`TOKENS`); yields the base URLs."""
    env = env_for(LANDFILL_DATABASE_URL=any_database_url, LANDFILL_LOG_LEVEL="WARNING")
    TOKENS.clear()
    procs, urls = [], []
    for i in range(2):
        port = stack.free_port()
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        log = (tmp_path / f"api-{i}.log").open("wb")
        procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        # one after the other: each migrates the database at start-up
        wait_for(lambda u=url: _healthy(u), timeout=60, what=f"API {i}")
        urls.append(url)
    # the tokens, made the way an admin does, in the database both desks share
    for name, role in [("seed", "admin"), *((n, "operator") for n in OPERATORS)]:
        TOKENS[name] = _create_token(env, name, role)
    yield urls
    for proc in procs:
        proc.terminate()
        proc.wait(20)


TOKENS: dict[str, str] = {}  # token name -> its secret, for the desks of the running test


def _create_token(env: dict[str, str], name: str, role: str) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "landfill.cli", "tokens", "create", name, "--role", role],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip()


def _as(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name]}"}


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _seed(url: str, site: str, now: datetime) -> None:
    with httpx.Client(base_url=url, timeout=10, headers=_as("seed")) as c:
        c.post(
            "/api/v1/scales", json={"site": site, "code": "wb1", "name": "60 t"}
        ).raise_for_status()
        c.post(
            "/api/v1/clients", json={"code": "c1", "name": "ОсОО Тест", "inn": "01803200210104"}
        ).raise_for_status()
        c.post(
            "/api/v1/vehicles", json={"plate": "01KG100AAA", "client": "c1", "tare_kg": 9000}
        ).raise_for_status()
        for i in range(TWO_PASS):
            c.post(
                "/api/v1/vehicles", json={"plate": f"02KG{200 + i}BBB", "client": "c1"}
            ).raise_for_status()


def test_numbers_stay_gap_free_when_desks_issue_at_once(desks, influx, site):
    now = datetime.now(UTC)
    _seed(desks[0], site, now)
    ms = timedelta(milliseconds=1)
    singles = [
        capture(influx, site, 20000 + 20 * i, now - timedelta(minutes=5) + i * ms)
        for i in range(ONE_PASS)
    ]
    firsts = [
        capture(influx, site, 15000, now - timedelta(minutes=4) + i * ms) for i in range(TWO_PASS)
    ]
    seconds = [  # two per open ticket: two desks complete the same ticket at once
        capture(influx, site, 9000 + 20 * (i % 2), now - timedelta(minutes=3) + i * ms)
        for i in range(2 * TWO_PASS)
    ]
    with httpx.Client(base_url=desks[1], timeout=10, headers=_as(OPERATORS[1])) as c:
        opened = [
            c.post(
                "/api/v1/tickets", json={"plate": f"02KG{200 + i}BBB", "capture_id": cid}
            ).json()["id"]
            for i, cid in enumerate(firsts)
        ]

    # requests in pairs that race each other: the same capture twice, the same ticket twice
    pairs = [
        [("/api/v1/tickets", {"plate": "01 KG 100 AAA", "capture_id": cid, "stored_tare": True})]
        * 2
        for cid in singles
    ]
    pairs += [
        [
            (f"/api/v1/tickets/{t}/second", {"capture_id": a}),
            (f"/api/v1/tickets/{t}/second", {"capture_id": b}),
        ]
        for t, a, b in zip(opened, seconds[::2], seconds[1::2], strict=True)
    ]
    random.Random(7).shuffle(pairs)
    jobs = [job for pair in pairs for job in pair]
    clients = [
        httpx.Client(base_url=u, timeout=30, headers=_as(name))
        for u, name in zip(desks, OPERATORS, strict=True)
    ]
    counter = iter(range(len(jobs)))
    lock = threading.Lock()

    def send(job):
        with lock:
            n = next(counter)
        path, body = job
        resp = clients[n % 2].post(path, json=body)
        return resp.status_code, resp.json() | {"desk": OPERATORS[n % 2]}

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, jobs))
    elapsed = time.monotonic() - started
    for c in clients:
        c.close()

    statuses = [s for s, _ in answers]
    assert statuses.count(201) == ONE_PASS, answers  # each capture weighed exactly one ticket
    assert statuses.count(200) == TWO_PASS, answers
    refusals = [b["code"] for s, b in answers if s >= 400]
    assert sorted(refusals) == ["capture_used"] * ONE_PASS + ["ticket_not_open"] * TWO_PASS
    # each ticket was completed by the operator of the desk that answered
    assert all(b["completed_by"] == b["desk"] for s, b in answers if s < 400), answers
    numbers = [b["number"] for s, b in answers if s < 400]
    total = ONE_PASS + TWO_PASS
    assert sorted(numbers) == [f"{now.year}-{n:06d}" for n in range(1, total + 1)]
    with httpx.Client(base_url=desks[0], timeout=10, headers=_as(OPERATORS[0])) as c:
        listed = c.get("/api/v1/tickets", params={"status": "completed", "limit": 1000}).json()
    assert listed["count"] == total
    print(f"{len(jobs)} requests on 2 desks in {elapsed:.2f} s, {total} numbers, no gap")
