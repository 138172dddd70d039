"""What a request may ask of the API: body sizes, a long import, time ranges, echo-free 422s.

The body and concurrency checks run `landfill api` as a real process (uvicorn) and talk to it
over a socket: that is where a body is buffered or an event loop is blocked.
"""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest

from api.limits import MAX_CSV_BYTES
from deploy import stack
from tests.conftest import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
IMPORT = "/api/v1/containers/import"
TOKENS: dict[str, str] = {}  # base URL -> an admin token of that API (`landfill tokens create`)


@pytest.fixture
def api_url(env_for, tmp_path) -> Iterator[str]:
    """`landfill api` as a subprocess on a free port; its base URL."""
    port = stack.free_port()
    env = env_for(
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    log = (tmp_path / "api.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "landfill.cli", "api", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _status(f"{url}/health") == 200, timeout=60, what="API up")
        made = subprocess.run(
            [sys.executable, "-m", "landfill.cli", "tokens", "create", "limits", "--role", "admin"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        TOKENS[url] = made.stdout.strip()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None


def _raw_request(url: str, head: str, chunks: Iterable[bytes] = ()) -> tuple[str, int]:
    """Send a request head and then body chunks until the server answers; (status line, sent).

    The answer is read on its own thread while the body goes out, so a server that answers
    early is seen at once. Without a limit the server would wait for the rest of the body, and
    no answer comes within the timeout.
    """
    host, port = url.removeprefix("http://").split(":")
    # an admin's request: the limits hold for someone who may import, not only for strangers
    head = head.replace("\r\n\r\n", f"\r\nAuthorization: Bearer {TOKENS[url]}\r\n\r\n", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    answer: list[bytes] = []
    got = threading.Event()

    def read() -> None:
        try:
            answer.append(sock.recv(4096))
        except OSError:
            answer.append(b"")
        got.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent = 0
    try:
        sock.sendall(head.encode())
        for chunk in chunks:
            if got.is_set():
                break
            sock.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass  # the server answered and closed; the answer is what counts
    got.wait(30)
    sock.close()
    status = answer[0].split(b"\r\n", 1)[0].decode() if answer and answer[0] else "no answer"
    return status, sent


def _head(path: str, content_type: str, length_header: str) -> str:
    return (
        f"POST {path} HTTP/1.1\r\nHost: api\r\nContent-Type: {content_type}\r\n"
        f"{length_header}\r\n\r\n"
    )


EARLY = 40 * MAX_CSV_BYTES  # a fifth of the smaller body offered below (200 MB)


def _chunked(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """``total`` bytes of a CSV-looking body as HTTP chunks, never terminated."""
    line = b"bin-0001,1450,450\n"
    piece = line * (size // len(line))
    for _ in range(total // len(piece) + 1):
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"


def test_a_body_announced_as_too_large_is_refused_before_it_is_sent(api_url):
    head = _head(IMPORT, "text/csv", "Content-Length: 300000000")
    status, _ = _raw_request(api_url, head)
    assert status.startswith("HTTP/1.1 413"), status
    head = _head("/api/v1/containers", "application/json", "Content-Length: 200000000")
    status, _ = _raw_request(api_url, head)
    assert status.startswith("HTTP/1.1 413"), status


def test_a_chunked_body_is_counted_and_refused_without_reading_the_rest(api_url):
    """300 MB offered in chunks, no length given: 413 after about the limit, not 300 MB."""
    head = _head(IMPORT, "text/csv", "Transfer-Encoding: chunked")
    status, sent = _raw_request(api_url, head, _chunked(300_000_000))
    assert status.startswith("HTTP/1.1 413"), status
    # What went out also fills both sockets' buffers (several MB each on loopback) while the
    # answer crosses a busy machine: the bound is "refused long before the end", not the limit.
    assert sent < EARLY, f"{sent:,} bytes went out before the 413"
    head = _head("/api/v1/containers", "application/json", "Transfer-Encoding: chunked")
    status, sent = _raw_request(api_url, head, _chunked(200_000_000))
    assert status.startswith("HTTP/1.1 413"), status
    assert sent < EARLY, f"{sent:,} bytes went out before the 413"
    assert _status(f"{api_url}/health") == 200


def big_import(rows: int) -> bytes:
    """A CSV of ``rows`` inactive containers (the registry holds only active ones)."""
    lines = ["code,empty_mm,full_mm,active"] + [f"c{i:05d},1450,450,0" for i in range(rows)]
    body = ("\n".join(lines) + "\n").encode()
    assert len(body) <= MAX_CSV_BYTES
    return body


def test_health_answers_while_a_large_import_runs(api_url):
    """The import checks and stores 30,000 rows for seconds; /health answers meanwhile."""
    body = big_import(30_000)
    done: list[httpx.Response] = []
    started = time.monotonic()
    importer = threading.Thread(
        target=lambda: done.append(
            httpx.post(
                f"{api_url}{IMPORT}",
                content=body,
                headers={"content-type": "text/csv", "authorization": f"Bearer {TOKENS[api_url]}"},
                timeout=300,
            )
        )
    )
    importer.start()
    answered: list[float] = []  # seconds after the import was sent
    while importer.is_alive():
        resp = httpx.get(f"{api_url}/health", timeout=300)
        if importer.is_alive():
            answered.append(time.monotonic() - started)
        assert resp.status_code == 200, resp.text
        time.sleep(0.1)
    took = time.monotonic() - started
    importer.join()
    assert done[0].status_code == 200, done[0].text
    assert done[0].json() == {"created": 30_000, "updated": 0}
    assert took > 1.5, "the import was too quick to show anything; make it larger"
    # answers well inside the import, not just before it started or after it ended
    inside = [t for t in answered if 1.0 < t < took - 0.3]
    assert inside, f"no /health answer during a {took:.1f} s import: {answered}"


def test_a_registry_the_broker_would_refuse_is_not_imported(make_api):
    """5,000 active containers are over 1 MiB as one retained message: 422, nothing stored."""
    api = make_api()
    lines = ["code,empty_mm,full_mm"] + [f"c{i:05d},1450,450" for i in range(5_000)]
    resp = api.post(IMPORT, content="\n".join(lines), headers={"content-type": "text/csv"})
    assert resp.status_code == 422
    assert "5000 active containers make a registry of" in resp.json()["detail"]
    assert api.get("/api/v1/containers").json()["count"] == 0
    assert api.get("/health").status_code == 200, "the API must still be on the broker"


def test_a_422_names_the_rule_but_never_echoes_the_input(make_api):
    api = make_api()
    body = {"code": "bin-1", "empty_mm": 1450, "full_mm": 450, "settlement": "x" * 60_000}
    resp = api.post("/api/v1/containers", json=body)
    assert resp.status_code == 422
    assert len(resp.content) < 1000
    assert "xxxxxxxxxx" not in resp.text
    assert resp.json()["detail"] == [
        {
            "type": "string_too_long",
            "loc": ["body", "settlement"],
            "msg": "String should have at most 200 characters",
        }
    ]
    resp = api.post("/api/v1/containers", json={"k" * 50_000: 1})
    assert resp.status_code == 422
    assert len(resp.content) < 2000, "a huge unknown key is shortened, not repeated"
    resp = api.get("/api/v1/containers", params={"zone": "z" * 5_000})
    assert resp.status_code == 422
    assert "zzzzzzzzzz" not in resp.text


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/captures", {"since": "0001-01-01T00:00:00+01:00"}),
        ("/api/v1/captures", {"until": "9999-12-31T23:59:59-01:00"}),
        ("/api/v1/captures", {"since": "2300-01-01T00:00:00Z"}),
        ("/api/v1/captures", {"since": "1969-12-31T23:59:59Z"}),
        ("/api/v1/dispatch/route", {"date": "0001-01-01"}),
        ("/api/v1/dispatch/route", {"date": "9999-12-31"}),
    ],
)
def test_times_outside_1970_to_2100_are_a_clear_422(make_api, path, params):
    api = make_api()
    resp = api.get(path, params=params)
    assert resp.status_code == 422, resp.text
    assert "from 1970-01-01 to before 2100-01-01 (UTC)" in resp.json()["detail"][0]["msg"]


def test_times_inside_the_range_still_work(make_api):
    api = make_api()
    resp = api.get("/api/v1/captures", params={"since": "1970-01-01T00:00:00Z"})
    assert resp.status_code == 200, resp.text
    assert api.get("/api/v1/dispatch/route", params={"date": "2099-12-31"}).status_code == 200


def test_russian_excel_csv_is_imported(make_api):
    """Windows-1251, semicolons and decimal commas, as Excel saves "CSV" in a Russian locale."""
    api = make_api()
    text = (
        "code;settlement;zone;lat;lon;volume_m3;empty_mm;full_mm;collection_weekdays\r\n"
        "bin-1;Достук;север;41,118;72,64;1,1;1450;450;0,3\r\n"
        "bin-2;Ноокен;юг;41,12;72,65;0,75;1200;400;\r\n"
    )
    resp = api.post(IMPORT, content=text.encode("cp1251"), headers={"content-type": "text/csv"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"created": 2, "updated": 0}
    got = api.get("/api/v1/containers/bin-1").json()
    assert (got["settlement"], got["zone"], got["lat"], got["lon"]) == (
        "Достук",
        "север",
        41.118,
        72.64,
    )
    assert (got["volume_m3"], got["collection_weekdays"]) == (1.1, [0, 3])
    # the same file saved as "CSV UTF-8" (with a byte-order mark) updates the same rows
    resp = api.post(
        IMPORT, content=b"\xef\xbb\xbf" + text.encode(), headers={"content-type": "text/csv"}
    )
    assert resp.json() == {"created": 0, "updated": 2}


def test_export_never_writes_a_formula_and_round_trips(make_api):
    api = make_api()
    at = {"lat": -12.5, "lon": -70.25}
    bins = [
        {"code": "bin-1", "settlement": '=HYPERLINK("http://x","y")', "zone": "+north"} | at,
        {"code": "bin-2", "settlement": "@SUM(A1)", "zone": "-south"} | at,
        # the model is a choice of decodable models now, so "-2+3" is a settlement here
        {"code": "bin-3", "settlement": "-2+3"},
    ]
    for b in bins:
        body = b | {"empty_mm": 1450, "full_mm": 450}
        assert api.post("/api/v1/containers", json=body).status_code == 201
    exported = api.get("/api/v1/containers/export").text
    cells = [c for row in list(csv.reader(io.StringIO(exported)))[1:] for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "@"))]
    assert """'=HYPERLINK("http://x","y")""" in cells
    assert "'+north" in cells
    assert "'-south" in cells
    assert "'-2+3" in cells
    assert cells.count("-12.5") == 2, "negative numbers stay numbers"
    assert cells.count("-70.25") == 2
    before = api.get("/api/v1/containers").json()["data"]
    resp = api.post(IMPORT, content=exported, headers={"content-type": "text/csv"})
    assert resp.json() == {"created": 0, "updated": 3}
    after = api.get("/api/v1/containers").json()["data"]
    strip = [{k: v for k, v in c.items() if k != "updated_at"} for c in before]
    assert [{k: v for k, v in c.items() if k != "updated_at"} for c in after] == strip
    assert after[0]["settlement"] == '=HYPERLINK("http://x","y")'
