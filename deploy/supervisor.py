"""`landfill run`: the local stack and every process, supervised until Ctrl-C.

Starts mosquitto and influxd (`deploy/stack.py`), the scale simulator on a pty, the scale
edge, ingest, the API with the demo containers and, unless `--no-sensors`, the sensor edge and
the sensor simulator. Each child logs to `.state/logs/NAME.log`. Prints each capture that
arrives after it started; stops when a child dies or on Ctrl-C (a second Ctrl-C, or the
SIGTERM `timeout` sends to the whole group, does not abort the clean-up). A stack that was
already running is left running unless `--stop-stack`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, Field

from deploy import stack
from landfill.lifecycle import raise_interrupt
from landfill.options import add_options, build, command_parser
from landfill.settings import STATE_DIR, ApiSettings

log = logging.getLogger("landfill.run")

DESCRIPTION = """\
Start the stack, the scale and sensor simulators, both edges, ingest and the API with the 33
demo containers; print captures as they arrive. Ctrl-C stops everything. The broker, InfluxDB
and display time zone come from the LANDFILL_* variables."""


class RunOptions(BaseModel):
    """What `landfill run` starts."""

    state: Path = Field(STATE_DIR, description="folder of the servers' data, outboxes and logs")
    port: int = Field(8000, gt=0, lt=65536, description="API port")
    no_sensors: bool = Field(False, description="only the scale, no container sensors")
    stop_stack: bool = Field(False, description="also stop a stack that was already running")


class Children:
    """The processes `landfill run` started, each logging to a file of its own."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        logs.mkdir(parents=True, exist_ok=True)

    def spawn(self, name: str, *argv: str) -> None:
        """Start `landfill ARGV...` as ``name``."""
        path = self.logs / f"{name}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with path.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "landfill.cli", *argv],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append((name, proc))
        log.info("started %s (pid %d), log in %s", name, proc.pid, path)

    def check(self) -> None:
        """Stop supervising when a child has died, naming it and its log."""
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise SystemExit(
                    f"{name} exited with {proc.returncode}; see {self.logs / name}.log"
                )

    def stop(self, timeout: float = 15) -> None:
        """Terminate every child, newest first; kill one that does not stop in time."""
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for name, proc in self.procs:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", name)
                proc.kill()
                proc.wait()

    def wait_for_line(self, name: str, text: str, timeout: float) -> bool:
        """Wait until a child's log contains ``text``."""
        path = self.logs / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists() and text in path.read_text(errors="replace"):
                return True
            time.sleep(0.1)
        return False


class CaptureWatcher:
    """The captures the API reports that were taken after ``since``, each once."""

    def __init__(self, api: httpx.Client, since: datetime, zone: str, token: str = "") -> None:
        self.api = api
        self.since = since
        self.zone = ZoneInfo(zone)
        self.seen: set[str] = set()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def new_lines(self) -> list[str]:
        """A line for each capture not reported before, oldest first; none while the API is down."""
        params: dict[str, str | int] = {"since": self.since.isoformat(), "limit": 1000}
        try:
            resp = self.api.get("/api/v1/captures", params=params, headers=self.headers)
            data: list[dict[str, Any]] = resp.json()["data"]
        except (httpx.HTTPError, KeyError, ValueError):
            return []
        lines = []
        for capture in reversed(data):
            if capture["id"] not in self.seen:
                self.seen.add(capture["id"])
                lines.append(self.line(capture))
        return lines

    def line(self, capture: dict[str, Any]) -> str:
        """``capture 14,560 kg on scale1 at 10:42:11 (Asia/Bishkek)``."""
        at = datetime.fromisoformat(capture["ts"]).astimezone(self.zone).strftime("%H:%M:%S")
        return f"capture {capture['weight_kg']:,} kg on {capture['scale']} at {at} ({self.zone})"


def demo_login(state: Path) -> dict[str, str]:
    """The demo admin's login and a read token (`landfill users demo`); empty when refused."""
    done = subprocess.run(
        [sys.executable, "-m", "landfill.cli", "users", "demo", "--state", str(state)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        log.warning("no demo login: %s", done.stderr.strip().splitlines()[-1:] or "?")
        return {}
    login: dict[str, str] = json.loads(done.stdout)
    return login


def start_all(children: Children, opts: RunOptions) -> None:
    """Start the simulators, the edges, ingest and the API, in the order they need."""
    tty = opts.state / "sim-scale.tty"
    children.spawn("simulator", "simulate", "scale", "--link", str(tty))
    deadline = time.monotonic() + 10
    while not tty.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    children.spawn("edge-scale", "edge", "scale", "--port", str(tty))
    children.spawn("ingest", "ingest")
    # the API loads the 33 demo containers and publishes the retained registry
    children.spawn("api", "api", "--port", str(opts.port), "--seed-demo")
    if opts.no_sensors:
        return
    children.spawn("edge-sensors", "edge", "sensors")
    # uplinks sent before edge sensors subscribes are lost (as with a real network server), so
    # the simulator starts once edge sensors says it takes uplinks
    if not children.wait_for_line("edge-sensors", "taking uplinks", 30):
        log.warning("edge sensors is not taking uplinks yet; see its log")
    # the last two days replayed at once, so the board has levels and rates at once
    start = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
    children.spawn("sensor-simulator", "simulate", "sensors", "--live", "--start", start)


def watch(children: Children, captures: CaptureWatcher, say: Callable[[str], None]) -> None:
    """Print new captures every second; return (by SystemExit) when a child dies."""
    while True:
        children.check()
        for line in captures.new_lines():
            say(line)
        time.sleep(1)


def build_parser() -> argparse.ArgumentParser:
    """The options of `landfill run`, from `RunOptions`."""
    parser = command_parser("run", DESCRIPTION)
    add_options(parser, RunOptions)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill run`: everything at once until Ctrl-C or until a child dies."""
    opts = build(RunOptions, build_parser().parse_args(argv))
    settings = build(ApiSettings, argparse.Namespace())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s run: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # explicit: a shell's background job inherits SIGINT ignored, and Ctrl-C must still work
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, raise_interrupt)
    started = datetime.now(UTC)
    ports = stack.StackPorts.from_urls(settings.mqtt_url, settings.influx_url)
    was_up = all(v.startswith("running") for v in stack.status(opts.state, ports).values())
    try:
        stack.up(opts.state, ports, log=log.info)
    except stack.StackError as exc:
        raise SystemExit(f"stack: {exc}") from None
    children = Children(opts.state / "logs")
    try:
        login = demo_login(opts.state)
        start_all(children, opts)
        log.info("API on http://127.0.0.1:%d  (captures: /api/v1/captures, /health)", opts.port)
        log.info("dispatcher page: http://127.0.0.1:%d/dispatch", opts.port)
        if login:
            log.info("log in as %s with password %s", login["username"], login["password"])
        log.info("Ctrl-C stops everything")
        with httpx.Client(base_url=f"http://127.0.0.1:{opts.port}", timeout=2) as api:
            watcher = CaptureWatcher(api, started, settings.timezone, login.get("token", ""))
            watch(children, watcher, log.info)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        # a second Ctrl-C (or `timeout`, which signals the child and then its whole group)
        # must not abort the clean-up and orphan the stack
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: log.info("already stopping; please wait"))
        children.stop()
        if not was_up or opts.stop_stack:
            stack.down(opts.state, log=log.info)
    return 0
