"""Operator console benchmark in Chromium: live weight to the screen, and issuing a ticket.

    python -m bench.console [--plateaus 40] [--tickets 30]

Started here, in a temporary folder: mosquitto and influxd (deploy.stack), a real
`landfill edge scale` process on a pty the bench drives in-process (the simulator's
`typed_weights` through the protocol's own frames, 10 frames a second), `landfill api`, and
Debian's Chromium (Playwright) logged in as an operator on /operator.

1. live: the platform moves to a new weight (a second of motion, then it stands). t0 is the
   moment the indicator's first stable frame of that weight is written to the pty. The page
   notes when its big digits show that weight (a MutationObserver, the page's clock) and when
   they turn "stable". Baseline, same run: a plain client (httpx) reading the same server-sent
   event stream notes when the weight event arrives. Goal: p95 of frame to digits < 300 ms.
2. ticket: a capture is stored (as ingest writes it) and announced (as ingest's receipt);
   when the page shows it ready, F2 weighs a vehicle in, then Alt+1 and F3 weigh it out with the
   next capture. The page times each key press to the answer on its screen
   (`window.consoleTimings`). Baseline, same run: the same two requests from a plain httpx
   client with a login session. Goal: p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from deploy import stack
from edge.scale.simulator import PtyLink, Simulator, typed_weights
from ingest.points import capture_line
from landfill.contract import Capture, Receipt, Topics
from landfill.influx import InfluxStore
from landfill.mqtt import broker_address, make_client
from landfill.scale.protocols import make_protocol

LANDFILL = [sys.executable, "-m", "landfill.cli"]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench console password"
RATE_HZ = 10.0
SITE = "bench"
SCALE = "wb1"

# the page notes when its digits first show a weight (the DOM change, then the animation
# frame that paints it), and when they show it stable; times on the page's clock, epoch ms
OBSERVER = """() => {
  window.benchSeen = {};
  const digits = document.getElementById("weight");
  const clock = () => performance.timeOrigin + performance.now();
  new MutationObserver(() => {
    const key = digits.dataset.kg;
    const seen = window.benchSeen[key] || (window.benchSeen[key] = {});
    if (!seen.digits) {
      seen.digits = clock();
      requestAnimationFrame(() => { seen.painted = clock(); });
    }
    if (!seen.stable && digits.dataset.state === "stable") seen.stable = clock();
  }).observe(digits, { attributes: true, childList: true, characterData: true, subtree: true });
}"""


class StampedLink(PtyLink):
    """The pty, noting when the first stable frame of each weight was written (epoch ms)."""

    def __init__(self, link: Path) -> None:
        super().__init__(link)
        self.sim: Simulator | None = None
        self.first_stable: dict[int, float] = {}

    def write(self, data: bytes) -> None:
        super().write(data)
        reading = self.sim.current if self.sim is not None else None
        if reading is not None and reading.stable:
            self.first_stable.setdefault(int(reading.weight_kg), time.time() * 1000)


@dataclass
class Bench:
    """Servers and processes of one run, all stopped at the end."""

    tmp: Path
    servers: list[stack.Server] = field(default_factory=list)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        with (self.tmp / f"{name}.log").open("ab") as out:
            proc = subprocess.Popen(argv, env=env, stdout=out, stderr=out, cwd=self.tmp)
        self.procs.append(proc)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for server in reversed(self.servers):
            server.stop()


def wait(check: Any, timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):6.1f} ms  p95 {pct(values, 0.95):6.1f} ms  "
        f"max {max(values):6.1f} ms  (n={len(values)})"
    )


# ---- the stand ---------------------------------------------------------------------------------


def registry(api: httpx.Client, vehicles: int) -> list[str]:
    """A scale, a client, a waste type and ``vehicles`` vehicles; their plates."""
    scale = {"site": SITE, "code": SCALE, "name": "bench", "division_kg": 20, "min_kg": 400}
    api.post("/api/v1/scales", json=scale).raise_for_status()
    client = {"code": "tazalyk", "name": "ОсОО «Тазалык»", "inn": "01803200210104"}
    api.post("/api/v1/clients", json=client).raise_for_status()
    waste = {"code": "msw", "name_ky": "Тиричилик", "name_ru": "ТБО", "name_en": "MSW"}
    api.post("/api/v1/waste-types", json=waste).raise_for_status()
    plates = []
    for i in range(vehicles):
        plate = f"01KG{100 + i:03d}AB{chr(65 + i % 26)}"
        body = {"plate": plate, "client": "tazalyk", "waste_type": "msw"}
        api.post("/api/v1/vehicles", json=body).raise_for_status()
        plates.append(plate)
    return plates


def log_in(url: str) -> httpx.Client:
    """A plain client with the operator's login session and CSRF token."""
    client = httpx.Client(base_url=url, timeout=10)
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf
    data = {"username": "oskon", "password": PASSWORD, "csrf_token": csrf.group(1)}
    client.post("/login", data=data)
    home = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert home
    client.headers["X-CSRF-Token"] = home.group(1)
    return client


class PlainStream:
    """The baseline: a plain client reading the live stream, noting when each weight came."""

    def __init__(self, url: str, cookies: httpx.Cookies) -> None:
        self.arrived: dict[int, float] = {}
        self.client = httpx.Client(cookies=cookies, timeout=httpx.Timeout(5, read=None))
        threading.Thread(target=self._read, args=(url,), daemon=True).start()

    def _read(self, url: str) -> None:
        try:
            with self.client.stream("GET", url) as response:
                kind = ""
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "weight":
                        kg = json.loads(line[6:])["weight_kg"]
                        self.arrived.setdefault(kg, time.time() * 1000)
        except httpx.HTTPError:
            pass  # the API stopped at the end of the run


# ---- 1. live weight -----------------------------------------------------------------------------


def live(
    page: Any, link: StampedLink, typed: queue.Queue[int | None], plain: PlainStream, n: int
) -> dict[str, list[float]]:
    """Frame-to-screen latencies of ``n`` new weights (ms)."""
    page.evaluate(OBSERVER)
    rng = random.Random(7)
    out: dict[str, list[float]] = {"digits": [], "painted": [], "stable": [], "plain": []}
    for _ in range(n):
        kg = rng.randrange(3_000, 40_000, 20)
        while kg in link.first_stable:
            kg += 20
        typed.put(kg)
        page.wait_for_function(
            f"(window.benchSeen['{kg}'] || {{}}).stable !== undefined"
            f" && window.benchSeen['{kg}'].painted !== undefined",
            timeout=15_000,
        )
        seen = page.evaluate(f"window.benchSeen['{kg}']")
        wait(lambda kg=kg: kg in plain.arrived, 5, "the plain client's weight")
        t0 = link.first_stable[kg]
        for name in ("digits", "painted", "stable"):
            out[name].append(seen[name] - t0)
        out["plain"].append(plain.arrived[kg] - t0)
        time.sleep(0.4)  # the platform stands a moment before the next truck
    return out


# ---- 2. tickets ---------------------------------------------------------------------------------


class Captures:
    """Captures written as ingest writes them, announced as its receipt does."""

    def __init__(self, influx: InfluxStore, mqtt_url: str) -> None:
        self.influx = influx
        self.client = make_client(mqtt_url, f"bench-{uuid.uuid4().hex[:6]}")
        host, port = broker_address(mqtt_url)
        self.client.connect(host, port)
        self.client.loop_start()

    def new(self, kg: int) -> str:
        msg = Capture.weighed(
            ts=datetime.now(UTC), site=SITE, scale=SCALE, weight_kg=kg, division_kg=20,
            stable_ms=2000, protocol="yaohua-a9", raw=["022b30313435363030313703"],
        )  # fmt: skip
        line = capture_line(msg)
        assert line is not None
        self.influx.write_lines([line])
        receipt = Receipt(ts=msg.ts, site=SITE, scale=SCALE, ids=[msg.id])
        self.client.publish(Topics(SITE).for_message(receipt), receipt.to_json(), 1)
        return msg.id


def tickets(page: Any, captures: Captures, plates: list[str]) -> dict[str, list[float]]:
    """Key press to the answer on screen, weighing each plate in and out (ms)."""
    for done, plate in enumerate(plates, start=1):
        ready = captures.new(15_000 + 20 * random.randrange(100))
        page.wait_for_selector(f"#ready[data-capture='{ready}']", state="attached")
        page.fill("#plate", "")
        page.focus("#plate")
        page.keyboard.type(plate)
        page.wait_for_selector("#vehicle-info.on-site, #vehicle-info:not(:empty)")
        page.keyboard.press("F2")
        page.wait_for_selector(f"#on-site tr[data-plate='{plate}']")
        ready = captures.new(8_000 + 20 * random.randrange(50))
        page.wait_for_selector(f"#ready[data-capture='{ready}']", state="attached")
        page.keyboard.press("Alt+1")
        page.keyboard.press("F3")
        page.wait_for_function(
            f"window.consoleTimings.filter(t => t.action === 'weigh_out').length === {done}"
        )
    timings = page.evaluate("window.consoleTimings")
    return {
        action: [t["ms"] for t in timings if t["action"] == action]
        for action in ("weigh_in", "weigh_out")
    }


def plain_tickets(
    client: httpx.Client, captures: Captures, plates: list[str]
) -> dict[str, list[float]]:
    """The same two requests from a plain client (ms)."""
    out: dict[str, list[float]] = {"weigh_in": [], "weigh_out": []}
    for plate in plates:
        first = captures.new(15_000 + 20 * random.randrange(100))
        start = time.perf_counter()
        opened = client.post("/api/v1/tickets", json={"plate": plate, "capture_id": first})
        out["weigh_in"].append((time.perf_counter() - start) * 1000)
        opened.raise_for_status()
        second = captures.new(8_000 + 20 * random.randrange(50))
        start = time.perf_counter()
        done = client.post(
            f"/api/v1/tickets/{opened.json()['id']}/second", json={"capture_id": second}
        )
        out["weigh_out"].append((time.perf_counter() - start) * 1000)
        done.raise_for_status()
    return out


# ---- the run ------------------------------------------------------------------------------------


@dataclass
class Stand:
    """What a run talks to: the API's URL, the admin token, the broker, InfluxDB, the pty."""

    url: str
    token: str
    broker_url: str
    influx: InfluxStore
    link: StampedLink
    typed: queue.Queue[int | None]


def stand_up(bench: Bench, protocol: str) -> Stand:
    """Servers, an operator and a token, the simulated indicator, the edge and the API."""
    tmp = bench.tmp
    broker = stack.start_mosquitto(tmp / "mosquitto", stack.free_port())
    influxd = stack.start_influxd(tmp / "influxd", stack.free_port())
    bench.servers += [broker, influxd]
    influx = InfluxStore(influxd.url, "bench_console")
    influx.ensure_database()
    port = stack.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
    env |= {
        "LANDFILL_SITE": SITE, "LANDFILL_SCALE": SCALE, "LANDFILL_MQTT_URL": broker.url,
        "LANDFILL_INFLUX_URL": influxd.url, "LANDFILL_INFLUX_DB": "bench_console",
        "LANDFILL_DATABASE_URL": f"sqlite:///{tmp}/api.sqlite",
        "LANDFILL_OUTBOX_PATH": str(tmp / "outbox.sqlite"), "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    users = [*LANDFILL, "users", "add", "oskon", "--role", "operator", "--password-stdin"]
    subprocess.run(users, env=env, input=PASSWORD, text=True, check=True, capture_output=True)
    token = subprocess.run(
        [*LANDFILL, "tokens", "create", "bench", "--role", "admin"],
        env=env, text=True, check=True, capture_output=True,
    ).stdout.strip()  # fmt: skip
    typed: queue.Queue[int | None] = queue.Queue()
    link = StampedLink(tmp / "scale.tty")
    sim = Simulator(make_protocol(protocol), link, typed_weights(typed, RATE_HZ), RATE_HZ)
    link.sim = sim
    threading.Thread(target=sim.run, daemon=True).start()
    edge = ["edge", "scale", "--port", str(link.link), "--protocol", protocol]
    bench.start("edge", [*LANDFILL, *edge], env)
    bench.start("api", [*LANDFILL, "api", "--port", str(port)], env)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait(healthy, 30, "the API")
    return Stand(url, token, broker.url, influx, link, typed)


def operator_page(browser: Any, url: str) -> Any:
    """The console, logged in as the operator, showing the empty platform."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{url}/operator?lang=en")
    page.fill("#username", "oskon")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form#login button[type=submit]")
    page.wait_for_selector("body[data-loaded=true]")
    page.wait_for_selector("#weight[data-kg='0']")
    return page


def run(plateaus: int, vehicles: int, protocol: str) -> None:
    """Stand up, measure in Chromium and beside it, print."""
    from playwright.sync_api import sync_playwright

    bench = Bench(Path(tempfile.mkdtemp(prefix="bench-console-")))
    try:
        s = stand_up(bench, protocol)
        with httpx.Client(base_url=s.url, headers={"Authorization": f"Bearer {s.token}"}) as admin:
            plates = registry(admin, 2 * vehicles)
        plain_client = log_in(s.url)
        plain = PlainStream(f"{s.url}/api/v1/scales/{SCALE}/live", plain_client.cookies)
        captures = Captures(s.influx, s.broker_url)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = operator_page(browser, s.url)
            lat = live(page, s.link, s.typed, plain, plateaus)
            s.typed.put(0)
            issued = tickets(page, captures, plates[:vehicles])
            browser.close()
        plain_issued = plain_tickets(plain_client, captures, plates[vehicles:])
        report(protocol, lat, issued, plain_issued)
    finally:
        bench.stop()
        shutil.rmtree(bench.tmp, ignore_errors=True)


def report(
    protocol: str,
    lat: dict[str, list[float]],
    issued: dict[str, list[float]],
    plain: dict[str, list[float]],
) -> None:
    print(f"1. stable frame on the pty ({protocol}) -> operator's screen (Chromium, edge, API)")
    print(f"   digits change (DOM)         {summary(lat['digits'])}")
    print(f"   digits painted (next frame) {summary(lat['painted'])}")
    print(f"   shown stable                {summary(lat['stable'])}")
    print(f"   baseline: plain SSE client  {summary(lat['plain'])}")
    print(
        f"   painted / plain client, same run: p50 "
        f"{statistics.median(lat['painted']) / statistics.median(lat['plain']):.2f} x, "
        f"p95 {pct(lat['painted'], 0.95) / pct(lat['plain'], 0.95):.2f} x"
        "   (goal: painted p95 < 300 ms)"
    )
    print("2. key press -> ticket on the operator's screen (Chromium)")
    for action in ("weigh_in", "weigh_out"):
        print(f"   {action:9} browser  {summary(issued[action])}")
        print(f"   {action:9} plain    {summary(plain[action])}")
        print(
            f"   {action:9} browser / plain, same run: p50 "
            f"{statistics.median(issued[action]) / statistics.median(plain[action]):.2f} x, "
            f"p95 {pct(issued[action], 0.95) / pct(plain[action], 0.95):.2f} x"
            "   (goal: p95 < 100 ms)"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--plateaus", type=int, default=40, help="new weights to show")
    parser.add_argument("--tickets", type=int, default=30, help="vehicles weighed in and out")
    parser.add_argument(
        "--protocol", default="yaohua-a9", help="indicator protocol (toledo has a stable flag)"
    )
    args = parser.parse_args(argv)
    run(args.plateaus, args.tickets, args.protocol)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
