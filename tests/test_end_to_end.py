"""Real processes end to end: simulator on a pty, edge, mosquitto, ingest, InfluxDB, API.

Also the README's run command: `landfill run` from a clean folder shows captures through the
API within a minute (to the demo admin it prints a login for) and leaves no process behind
when stopped.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from deploy import stack
from edge.scale.simulator import random_trucks, truck_weights
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LANDFILL = [sys.executable, "-m", "landfill.cli"]


def expected_trucks(seed: int, trucks: int, rate: float) -> list[int]:
    """The gross weights `landfill simulate scale --seed SEED` drives, in order."""
    rng = random.Random(seed)
    out = []
    for n, truck in enumerate(random_trucks(rng)):
        if n >= trucks:
            break
        out.append(truck.gross_kg)
        list(truck_weights(truck, rate, rng))
    return out


class Procs:
    """Subprocesses of one test, stopped with SIGTERM (then SIGKILL) at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path | None = None):
        log = (self.tmp / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd or self.tmp
        )
        return self.procs[name]

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(sig)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"{name} did not stop within {timeout} s:\n{self.log(name)[-2000:]}")

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            if self.procs[name].poll() is None:
                self.procs[name].kill()
                self.procs[name].wait()


@pytest.fixture
def procs(tmp_path):
    p = Procs(tmp_path)
    yield p
    p.stop_all()


def api_captures(port: int, client: httpx.Client | None = None, token: str = "") -> list[dict]:
    """Captures through the API, as a logged-in client or with a token; [] until it answers."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        get = client.get if client is not None else httpx.get
        resp = get(f"http://127.0.0.1:{port}/api/v1/captures", headers=headers, timeout=2)
    except httpx.HTTPError:
        return []
    assert resp.status_code != 401, "the API refused the login or token"
    return resp.json()["data"] if resp.status_code == 200 else []


def log_in(port: int, username: str, password: str) -> httpx.Client | None:
    """Log in through the login form as a browser would; None while the API is not up."""
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
    try:
        form = client.get("/login")
    except httpx.HTTPError:
        client.close()
        return None
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    data = {"username": username, "password": password, "csrf_token": csrf}
    resp = client.post("/login", data=data)
    assert resp.status_code == 303, resp.text
    return client


def test_simulated_trucks_reach_the_api_to_the_kilogram(procs, env_for, tmp_path):
    env = env_for()
    tty = tmp_path / "scale.tty"
    api_port = stack.free_port()
    seed, trucks, rate = 7, 2, 20.0
    # an operator's token from the command line, as an installer gives one to a machine
    made = subprocess.run(
        [*LANDFILL, "tokens", "create", "e2e-reader", "--role", "operator"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    token = made.stdout.strip()
    assert token.startswith("lft_"), made
    # edge first: it retries the port until the simulator creates it, like an unplugged cable
    procs.start("edge", [*LANDFILL, "edge", "scale", "--port", str(tty)], env)
    procs.start("ingest", [*LANDFILL, "ingest", "--flush-seconds", "0.1"], env)
    procs.start("api", [*LANDFILL, "api", "--port", str(api_port)], env)
    procs.start(
        "simulator",
        [
            *LANDFILL,
            "simulate",
            "scale",
            "--link",
            str(tty),
            "--seed",
            str(seed),
            "--trucks",
            str(trucks),
            "--rate",
            str(rate),
        ],
        env,
    )
    expected = expected_trucks(seed, trucks, rate)
    got = wait_for(
        lambda: (
            len(api_captures(api_port, token=token)) >= trucks
            and api_captures(api_port, token=token)
        ),
        timeout=60,
        what=f"{trucks} captures via the API",
    )
    assert [c["weight_kg"] for c in reversed(got)] == expected
    assert all(c["division_kg"] == 20 and c["protocol"] == "yaohua-a9" for c in got)
    for name in ("simulator", "edge", "ingest"):
        assert procs.stop(name) in (0, 130), procs.log(name)[-2000:]
    # uvicorn shuts down gracefully, then re-raises SIGTERM so supervisors see it
    assert procs.stop("api") in (0, -signal.SIGTERM)
    assert "Finished server process" in procs.log("api")
    for name in ("edge", "ingest"):
        assert "Traceback" not in procs.log(name), procs.log(name)


def _processes_in(folder: Path) -> list[str]:
    """Command lines of live processes whose working directory is ``folder``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/cwd").resolve() == folder.resolve():
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                state = Path(f"/proc/{pid}/stat").read_text().split()[2]
                if state != "Z":
                    found.append(cmd.decode(errors="replace"))
        except OSError:
            continue
    return found


def test_readme_run_command_shows_a_weighing_within_a_minute(procs, tmp_path):
    """`landfill run` in a clean folder: stack, simulator, edge, ingest, API; Ctrl-C stops all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
    env |= {
        "LANDFILL_MQTT_URL": f"mqtt://127.0.0.1:{stack.free_port()}",
        "LANDFILL_INFLUX_URL": f"http://127.0.0.1:{stack.free_port()}",
    }
    api_port = stack.free_port()
    run = procs.start("run", [*LANDFILL, "run", "--port", str(api_port)], env, cwd=tmp_path)
    # the newcomer logs in with the demo login `landfill run` prints
    printed = wait_for(
        lambda: re.search(r"log in as (\S+) with password (\S+)", procs.log("run")),
        timeout=30,
        what="the demo login",
    )
    assert (tmp_path / ".state" / "demo-login.txt").read_text().strip() == printed.group(2)
    browser = wait_for(lambda: log_in(api_port, printed.group(1), printed.group(2)), what="a login")
    got = wait_for(
        lambda: api_captures(api_port, browser), timeout=60, what="a capture via the API"
    )
    browser.close()
    assert got[0]["weight_kg"] > 0
    assert got[0]["weight_kg"] % 20 == 0
    assert run.poll() is None
    run.send_signal(signal.SIGINT)  # Ctrl-C twice: the second must not abort the clean-up
    assert procs.stop("run", signal.SIGINT, timeout=40) == 0, procs.log("run")
    assert "capture" in procs.log("run")
    wait_for(lambda: not _processes_in(tmp_path), timeout=10, what="no process left behind")
