"""The `landfill` command: one entry point for every process, the local stack and `run`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from landfill import __version__

STATE = Path(".state")
# kept in step with edge.scale.simulator.SCENARIOS (a test checks); not imported, so that
# `landfill --help` does not load the edge
SCENARIO_NAMES = ("trucks", "truck", "moving", "person", "not-zero", "overload", "mixed")

DESCRIPTION = """\
Landfill telemetry: truck scale, container fill sensors and billing for a municipal waste
enterprise. Settings come from LANDFILL_* environment variables (see .env.example); the
options below override them for one run."""


def _raise_interrupt(*_: Any) -> NoReturn:
    raise KeyboardInterrupt


def _setup(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _overrides(args: argparse.Namespace, mapping: dict[str, str]) -> dict[str, Any]:
    return {
        field: getattr(args, opt)
        for opt, field in mapping.items()
        if getattr(args, opt, None) is not None
    }


def _settings(cls: Any, args: argparse.Namespace, mapping: dict[str, str]) -> Any:
    from pydantic import ValidationError

    try:
        return cls(**_overrides(args, mapping))
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()
        ]
        raise SystemExit("invalid settings:\n" + "\n".join(lines)) from None


def _stack_ports() -> Any:
    from deploy.stack import StackPorts
    from landfill.settings import CommonSettings

    common = CommonSettings()
    return StackPorts.from_urls(common.mqtt_url, common.influx_url)


# ---- subcommands ---------------------------------------------------------------------------


def cmd_stack(args: argparse.Namespace) -> int:
    """`landfill stack up|down|status`."""
    from deploy import stack

    ports = _stack_ports()
    try:
        if args.action == "up":
            stack.up(args.state, ports)
        elif args.action == "down":
            stack.down(args.state)
        else:
            for name, state in stack.status(args.state, ports).items():
                print(f"{name:10} {state}")  # noqa: T201
    except stack.StackError as exc:
        raise SystemExit(f"stack: {exc}") from None
    return 0


def cmd_edge_scale(args: argparse.Namespace) -> int:
    """`landfill edge scale`."""
    from edge.scale import service
    from landfill.settings import EdgeScaleSettings

    settings = _settings(
        EdgeScaleSettings,
        args,
        {
            "port": "scale_port",
            "protocol": "scale_protocol",
            "scale": "scale",
            "division": "division_kg",
            "options": "scale_options",
            "baudrate": "scale_baudrate",
            "bytesize": "scale_bytesize",
            "parity": "scale_parity",
            "stopbits": "scale_stopbits",
            "poll_seconds": "scale_poll_seconds",
            "stable_seconds": "stable_seconds",
            "min_weight": "min_weight_kg",
            "zero_band": "zero_band_kg",
            "no_data_seconds": "no_data_seconds",
            "outbox": "outbox_path",
        },
    )
    _setup(settings.log_level)
    return service.main(settings)


def cmd_edge_sensors(args: argparse.Namespace) -> int:
    """`landfill edge sensors`."""
    from edge.sensors import service
    from landfill.settings import EdgeSensorsSettings

    settings = _settings(
        EdgeSensorsSettings,
        args,
        {
            "source_url": "sensors_source_url",
            "outbox": "outbox_path",
            "registry_cache": "sensors_registry_cache",
        },
    )
    _setup(settings.log_level)
    return service.main(settings)


def cmd_ingest(args: argparse.Namespace) -> int:
    """`landfill ingest` (or `--status`: the workers' latest `ingest_stats`)."""
    from ingest import service
    from landfill.settings import IngestSettings

    settings = _settings(
        IngestSettings,
        args,
        {
            "client_id": "ingest_client_id",
            "shared_group": "ingest_shared_group",
            "batch_size": "ingest_batch_size",
            "flush_seconds": "ingest_flush_seconds",
            "max_pending": "ingest_max_pending",
        },
    )
    if args.status:
        return _ingest_status(settings)
    _setup(settings.log_level)
    return service.main(settings)


def _ingest_status(settings: Any) -> int:
    """Print each worker's newest stats; exit 0 when one runs (recent, not stopped)."""
    from ingest.stats import format_status, is_running, read_status
    from landfill.contract import utcnow
    from landfill.influx import InfluxStore, QueryError, epoch_ms

    store = InfluxStore(
        settings.influx_url, settings.influx_db, settings.influx_username, settings.influx_password
    )
    try:
        rows = read_status(store, settings.site)
    except QueryError as exc:
        raise SystemExit(f"ingest status: {exc}") from None
    finally:
        store.close()
    now = epoch_ms(utcnow())
    print(format_status(rows, now))  # noqa: T201 - the status is this command's output
    return 0 if is_running(rows, now, settings.ingest_stats_seconds) else 1


def cmd_api(args: argparse.Namespace) -> int:
    """`landfill api`."""
    from api import main as api_main
    from landfill.settings import ApiSettings

    settings = _settings(
        ApiSettings, args, {"host": "api_host", "port": "api_port", "seed_demo": "seed_demo"}
    )
    logging.basicConfig(level=getattr(logging, settings.log_level))
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return api_main.main(settings)


def cmd_simulate_scale(args: argparse.Namespace) -> int:
    """`landfill simulate scale`."""
    import random

    from edge.scale.protocols import make_protocol
    from edge.scale.simulator import PtyLink, Simulator, TcpLink, idle, scenario

    try:
        protocol = make_protocol(args.protocol, args.options or "")
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    signal.signal(signal.SIGTERM, _raise_interrupt)
    rng = random.Random(args.seed)
    readings = scenario(
        args.scenario, args.rate, rng, gross_kg=args.weight, trucks=args.trucks, hold_s=args.hold
    )
    link: PtyLink | TcpLink = TcpLink(args.tcp) if args.tcp is not None else PtyLink(args.link)
    print(link.path, flush=True)  # noqa: T201 - the device path is this command's output
    finite = args.scenario != "trucks" or args.trucks > 0

    def script() -> Any:
        yield from readings
        # after a finite script the indicator stays on, showing an empty platform
        while finite:
            yield from idle(1.0, args.rate)

    sim = Simulator(
        protocol,
        link,
        script(),
        rate_hz=args.rate,
        noise=args.noise,
        bad=args.bad_checksums,
        rng=random.Random(None if args.seed is None else args.seed + 1),
    )
    try:
        sim.run()
    except KeyboardInterrupt:
        pass
    finally:
        link.close()
    return 0


def cmd_simulate_sensors(args: argparse.Namespace) -> int:
    """`landfill simulate sensors`."""
    from datetime import UTC, datetime, timedelta

    from edge.sensors import simulator
    from landfill.contract import Topics
    from landfill.mqtt import broker_address, make_client
    from landfill.settings import EdgeSensorsSettings

    settings = _settings(EdgeSensorsSettings, args, {"url": "sensors_source_url"})
    _setup(settings.log_level)
    log = logging.getLogger("landfill.simulate.sensors")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        containers = simulator.fleet(args.containers)
        start = datetime.fromisoformat(args.start) if args.start else datetime.now(UTC)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    if start.tzinfo is None:
        raise SystemExit("--start needs a time zone, e.g. 2026-11-02T00:00:00+00:00")

    def connect(url: str, name: str) -> Any:
        client = make_client(url, f"sim-sensors-{name}-{os.getpid()}")
        try:
            client.connect(*broker_address(url))
        except OSError as exc:
            raise SystemExit(f"simulate sensors: broker {url} not reachable: {exc}") from None
        client.loop_start()
        return client

    project = connect(settings.mqtt_url, "registry")
    if args.publish_registry:
        reg = simulator.registry(settings.site, containers, datetime.now(UTC))
        info = project.publish(Topics(settings.site).registry(), reg.to_json(), 1, True)
        info.wait_for_publish(10)
        log.info("published the registry of %d containers", len(containers))
    same = settings.source_url == settings.mqtt_url
    source = project if same else connect(settings.source_url, "uplinks")
    sim = simulator.SensorSimulator(containers, start, seed=args.seed)
    until = start + timedelta(hours=args.hours) if args.hours else None
    last: list[Any] = []

    def send(up: simulator.SimUplink) -> None:
        last[:] = [source.publish(up.topic, up.body, qos=1)]
        log.debug("%s %s fill %.0f %%", up.ts.isoformat(), up.container, up.fill_pct)

    log.info("%d containers, %.0f simulated s per s, from %s", len(containers), args.speed, start)
    try:
        wall = (lambda: datetime.now(UTC)) if args.live else None
        sent = simulator.run(sim, send, speed=args.speed, until=until, wall=wall)
        if last:
            last[0].wait_for_publish(10)
        log.info("sent %d uplinks", sent)
    except KeyboardInterrupt:
        pass
    finally:
        for client in {id(project): project, id(source): source}.values():
            client.disconnect()
            client.loop_stop()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """`landfill run`: the stack, the simulator, edge, ingest and API, until Ctrl-C."""
    from deploy import stack

    logging.basicConfig(level=logging.INFO, format="%(asctime)s run: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    log = logging.getLogger("landfill.run")
    # explicit: a shell's background job inherits SIGINT ignored, and Ctrl-C must still work
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    state: Path = args.state
    ports = _stack_ports()
    was_up = all(v.startswith("running") for v in stack.status(state, ports).values())
    try:
        stack.up(state, ports, log=log.info)
    except stack.StackError as exc:
        raise SystemExit(f"stack: {exc}") from None
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    me = [sys.executable, "-m", "landfill.cli"]
    tty = state / "sim-scale.tty"
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    def spawn(name: str, *argv: str) -> None:
        out = (logs / f"{name}.log").open("ab")
        proc = subprocess.Popen([*me, *argv], env=env, stdout=out, stderr=subprocess.STDOUT)
        children.append((name, proc))
        log.info("started %s (pid %d), log in %s", name, proc.pid, logs / f"{name}.log")

    try:
        spawn("simulator", "simulate", "scale", "--link", str(tty))
        deadline = time.monotonic() + 10
        while not tty.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        spawn("edge-scale", "edge", "scale", "--port", str(tty))
        spawn("ingest", "ingest")
        # the API loads the 33 demo containers and publishes the retained registry
        spawn("api", "api", "--port", str(args.port), "--seed-demo")
        if not args.no_sensors:
            spawn("edge-sensors", "edge", "sensors")
            # uplinks sent before edge sensors subscribes are lost (as with a real network
            # server), so the simulator starts once edge sensors says it takes uplinks
            if not _wait_for_line(logs / "edge-sensors.log", "taking uplinks", 30):
                log.warning("edge sensors is not taking uplinks yet; see its log")
            # the last two days replayed at once, so the board has levels and rates at once
            start = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
            spawn("sensor-simulator", "simulate", "sensors", "--live", "--start", start)
        log.info("API on http://127.0.0.1:%d  (captures: /api/v1/captures, /health)", args.port)
        log.info("dispatcher page: http://127.0.0.1:%d/dispatch", args.port)
        log.info("Ctrl-C stops everything")
        _watch_captures(args.port, children, log.info)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        # a second Ctrl-C (or `timeout`, which signals the child and then its whole group)
        # must not abort the clean-up and orphan the stack
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: log.info("already stopping; please wait"))
        for _, proc in reversed(children):
            if proc.poll() is None:
                proc.terminate()
        for name, proc in children:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", name)
                proc.kill()
                proc.wait()
        if not was_up or args.stop_stack:
            stack.down(state, log=log.info)
    return 0


def _wait_for_line(path: Path, text: str, timeout: float) -> bool:
    """Wait until a child's log file contains ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def _watch_captures(
    port: int, children: list[tuple[str, subprocess.Popen[bytes]]], say: Callable[[str], None]
) -> None:
    """Print each new capture as the API reports it; return when a child dies."""
    from zoneinfo import ZoneInfo

    import httpx

    seen: set[str] = set()
    local = ZoneInfo("Asia/Bishkek")
    while True:
        for name, proc in children:
            if proc.poll() is not None:
                raise SystemExit(
                    f"{name} exited with {proc.returncode}; see .state/logs/{name}.log"
                )
        try:
            data = httpx.get(f"http://127.0.0.1:{port}/api/v1/captures", timeout=2).json()["data"]
        except (httpx.HTTPError, KeyError, ValueError):
            data = []
        for c in reversed(data):
            if c["id"] not in seen:
                seen.add(c["id"])
                from datetime import datetime

                at = datetime.fromisoformat(c["ts"]).astimezone(local).strftime("%H:%M:%S")
                say(f"capture {c['weight_kg']:,} kg on {c['scale']} at {at} (Asia/Bishkek)")
        time.sleep(1)


# ---- parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    p = argparse.ArgumentParser(prog="landfill", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"landfill {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    st = sub.add_parser(
        "stack",
        help="start/stop the local mosquitto and InfluxDB",
        description="Run mosquitto and influxd from the Debian packages on "
        "loopback (MQTT 18830, InfluxDB 18086) with state in .state/. Installs "
        "the packages with apt-get when missing and run as root.",
    )
    st.add_argument("action", choices=["up", "down", "status"])
    st.add_argument("--state", type=Path, default=STATE, help="state folder (default .state)")
    st.set_defaults(func=cmd_stack)

    edge = sub.add_parser("edge", help="device-facing processes").add_subparsers(
        dest="edge", required=True, metavar="DEVICE"
    )
    es = edge.add_parser(
        "scale",
        help="read a scale indicator and publish captures",
        description="Read a truck-scale indicator over RS-232, detect stable "
        "weights and publish captures through a durable outbox.",
    )
    es.add_argument("--port", help="pyserial URL: /dev/ttyUSB0, a pty path, socket://host:port")
    es.add_argument("--protocol", help="indicator protocol (default yaohua-a9)")
    es.add_argument("--scale", help="scale code in topics (default scale1)")
    es.add_argument("--division", type=int, help="scale division in kg (default 20)")
    es.add_argument(
        "--options",
        help="protocol options key=value,...: address=B (a9-poll), reverse=true (keli-eq), "
        "checksum=true (toledo), command=S (mt-sics), continuous=true (sma), address=2 (tenso-m)",
    )
    es.add_argument("--baudrate", type=int, help="override the protocol's baud rate")
    es.add_argument("--bytesize", type=int, choices=[7, 8], help="override data bits")
    es.add_argument("--parity", choices=["N", "E", "O"], help="override parity")
    es.add_argument("--stopbits", type=int, choices=[1, 2], help="override stop bits")
    es.add_argument("--poll-seconds", type=float, help="poll period of polled protocols (0.1)")
    es.add_argument("--stable-seconds", type=float, help="stable window in seconds (2.0)")
    es.add_argument("--min-weight", type=int, help="kg above which a load is present (200)")
    es.add_argument("--zero-band", type=int, help="kg that still count as zero (40)")
    es.add_argument("--no-data-seconds", type=float, help="silence before no_data (3.0)")
    es.add_argument("--outbox", type=Path, help="outbox SQLite file")
    es.set_defaults(func=cmd_edge_scale)
    ens = edge.add_parser(
        "sensors",
        help="LoRaWAN fill-sensor uplinks to container readings",
        description="Take ChirpStack v4, The Things Stack v3 and native uplinks from the "
        "network server's broker, map devices to containers with the retained registry, "
        "decode the device bytes and publish readings through a durable outbox.",
    )
    ens.add_argument("--source-url", help="network server broker (default: the project broker)")
    ens.add_argument("--outbox", type=Path, help="outbox SQLite file")
    ens.add_argument("--registry-cache", type=Path, help="JSON copy of the last registry")
    ens.set_defaults(func=cmd_edge_sensors)

    ing = sub.add_parser(
        "ingest",
        help="broker to InfluxDB, ack after write",
        description="Consume contract messages and write them to InfluxDB; "
        "a message is acknowledged only after InfluxDB stored it.",
    )
    ing.add_argument("--client-id", help="MQTT client id of the persistent session")
    ing.add_argument("--shared-group", help="join $share/GROUP/... to split work with others")
    ing.add_argument("--batch-size", type=int, help="points per write (default 5000)")
    ing.add_argument("--flush-seconds", type=float, help="max wait before a write (default 0.5)")
    ing.add_argument(
        "--max-pending", type=int, help="messages held before the broker must wait (default 20000)"
    )
    ing.add_argument(
        "--status",
        action="store_true",
        help="print every worker's latest ingest_stats; exit 1 unless one runs (recent, no fatal)",
    )
    ing.set_defaults(func=cmd_ingest)

    api = sub.add_parser("api", help="serve the HTTP API and pages")
    api.add_argument("--host", help="bind address (default 127.0.0.1)")
    api.add_argument("--port", type=int, help="port (default 8000)")
    api.add_argument(
        "--seed-demo",
        action="store_true",
        default=None,
        help="load the first customer's 33 demo containers (api/data/containers_demo.csv)",
    )
    api.set_defaults(func=cmd_api)

    sim = sub.add_parser("simulate", help="simulated devices").add_subparsers(
        dest="device", required=True, metavar="DEVICE"
    )
    ss = sim.add_parser(
        "scale",
        help="a scale indicator on a pty or TCP port",
        description="Simulate trucks on a scale indicator speaking PROTOCOL "
        "byte for byte. Prints the device path (or socket:// URL) first.",
    )
    ss.add_argument("--protocol", default="yaohua-a9", help="indicator protocol")
    ss.add_argument("--link", type=Path, help="also make a symlink to the pty here")
    ss.add_argument("--tcp", type=int, help="serve on this TCP port instead of a pty (0 = any)")
    ss.add_argument("--rate", type=float, default=10.0, help="frames per second (default 10)")
    ss.add_argument(
        "--scenario",
        default="trucks",
        choices=SCENARIO_NAMES,
        help="trucks (endless random, default), truck, moving, person, not-zero, overload, mixed",
    )
    ss.add_argument("--weight", type=int, default=14_560, help="gross kg of scripted trucks")
    ss.add_argument("--hold", type=float, default=5.0, help="seconds a scripted truck stands")
    ss.add_argument("--trucks", type=int, default=0, help="stop after N trucks (0 = forever)")
    ss.add_argument("--noise", type=float, default=0.0, help="share of frames after garbage")
    ss.add_argument(
        "--bad-checksums", type=float, default=0.0, help="share of frames sent corrupted"
    )
    ss.add_argument("--options", help="protocol options key=value,... (as for edge scale)")
    ss.add_argument("--seed", type=int, default=None, help="random seed for repeatable runs")
    ss.set_defaults(func=cmd_simulate_scale)
    sse = sim.add_parser(
        "sensors",
        help="the 33 containers as ChirpStack and TTS uplinks",
        description="Simulate the customer's containers filling, being emptied weekly, "
        "catching fire, tipping over, going silent and sending sentinel readings; publish "
        "ChirpStack v4 and TTS v3 uplinks with real device bytes.",
    )
    sse.add_argument(
        "--speed", type=float, default=60.0, help="simulated s per real s (1440: a day a minute)"
    )
    sse.add_argument("--seed", type=int, default=None, help="random seed for repeatable runs")
    sse.add_argument("--containers", type=int, default=33, help="how many (1-33, default 33)")
    sse.add_argument("--hours", type=float, default=0, help="stop after H simulated hours")
    sse.add_argument("--start", help="simulated start, ISO-8601 with zone (default now)")
    sse.add_argument("--url", help="broker to publish uplinks on (default: the source broker)")
    sse.add_argument(
        "--live",
        action="store_true",
        help="replay from --start up to now at once, then report in real time (ignores --speed)",
    )
    sse.add_argument(
        "--publish-registry",
        action="store_true",
        help="publish a matching retained container registry first",
    )
    sse.set_defaults(func=cmd_simulate_sensors)

    run = sub.add_parser(
        "run",
        help="everything at once with the simulated scale and sensors",
        description="Start the stack, the scale and sensor simulators, both edges, ingest "
        "and the API with the 33 demo containers; print captures as they arrive. "
        "Ctrl-C stops everything.",
    )
    run.add_argument("--state", type=Path, default=STATE, help="state folder (default .state)")
    run.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    run.add_argument(
        "--no-sensors", action="store_true", help="only the scale, no container sensors"
    )
    run.add_argument(
        "--stop-stack",
        action="store_true",
        help="also stop a stack that was already running before",
    )
    run.set_defaults(func=cmd_run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `landfill` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
