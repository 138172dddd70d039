"""Local stack: mosquitto and influxd from the Debian packages, on loopback, state in a folder.

`landfill stack up|down|status` and the tests both use this module, so what the tests run is
what a developer runs. Packages are installed with apt-get when missing and we are root;
otherwise we stop with a message naming them.
"""

from __future__ import annotations

import argparse
import getpass
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from landfill.options import build, command_parser
from landfill.settings import STATE_DIR, CommonSettings

HERE = Path(__file__).resolve().parent
PACKAGES = {"mosquitto": "mosquitto", "influxd": "influxdb"}
SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


class StackError(RuntimeError):
    """The stack could not be started or checked; the message says what to do."""


def find_binary(name: str) -> str | None:
    """Return the path of a server binary (mosquitto lives in /usr/sbin, often off PATH)."""
    found = shutil.which(name)
    if found:
        return found
    for d in SBIN:
        candidate = Path(d) / name
        if candidate.exists():
            return str(candidate)
    return None


def ensure_packages(log: Callable[[str], None] = print) -> None:
    """Install mosquitto and influxdb with apt-get when missing (root only)."""
    missing = [pkg for binary, pkg in PACKAGES.items() if find_binary(binary) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        raise StackError(
            f"missing Debian packages: {' '.join(missing)}. "
            f"Install them as root: apt-get install -y {' '.join(missing)}"
        )
    log(f"installing Debian packages: {' '.join(missing)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
    )


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now on ``host``."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """Return True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it is true or raise StackError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise StackError(f"{what} did not come up within {timeout:.0f} s")


def influx_ping(url: str) -> bool:
    """Return True when InfluxDB answers /ping."""
    try:
        return httpx.get(f"{url}/ping", timeout=0.5).status_code == 204
    except httpx.HTTPError:
        return False


@dataclass
class Server:
    """One server process we started: its name, process, state folder and port."""

    name: str
    proc: subprocess.Popen[bytes]
    state: Path
    host: str
    port: int

    @property
    def url(self) -> str:
        """URL clients use to reach it."""
        if self.name == "postgres":
            return f"postgresql+psycopg://postgres@{self.host}:{self.port}/postgres"
        scheme = "mqtt" if self.name == "mosquitto" else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def stop(self, timeout: float = 10) -> None:
        """Stop the server gracefully, then by force."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """Kill -9 (for chaos tests)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _render(template: str, target: Path, **values: object) -> Path:
    text = (HERE / template).read_text().format(**values)
    target.write_text(text)
    return target


def _start(
    name: str,
    argv: list[str],
    state: Path,
    host: str,
    port: int,
    *,
    detach: bool,
    ready: Callable[[Server], bool],
    timeout: float,
    log: Path,
) -> Server:
    """Start a server, wait until ``ready`` says so, and stop it again if it never is."""
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=log.open("ab"), start_new_session=detach
    )
    server = Server(name, proc, state, host, port)
    try:
        wait_until(lambda: ready(server) or proc.poll() is not None, timeout, name)
        if proc.poll() is not None:
            raise StackError(f"{name} exited with {proc.returncode}; see {log}")
    except StackError:
        server.stop()
        raise
    return server


def _binary(name: str, package: str) -> str:
    binary = find_binary(name)
    if binary is None:
        raise StackError(f"{name} is not installed (Debian package '{package}')")
    return binary


ACCESS = """\
# logins and ACL written by `landfill mqtt-acl`, as in deploy/production/mosquitto.conf
allow_anonymous false
password_file {acl}/mosquitto.passwd
acl_file {acl}/mosquitto.acl
use_username_as_clientid true"""


def start_mosquitto(
    state: Path,
    port: int,
    host: str = "127.0.0.1",
    *,
    detach: bool = False,
    acl: Path | None = None,
) -> Server:
    """Start mosquitto with the project's config; state (persistence, log) under ``state``.

    With ``acl`` (a folder `landfill mqtt-acl` wrote), clients log in and obey its ACL.
    """
    binary = _binary("mosquitto", "mosquitto")
    state.mkdir(parents=True, exist_ok=True)
    conf = _render(
        "mosquitto.conf",
        state / "mosquitto.conf",
        port=port,
        host=host,
        state=state.resolve(),
        user=getpass.getuser(),
        access="allow_anonymous true" if acl is None else ACCESS.format(acl=acl.resolve()),
    )
    return _start(
        "mosquitto",
        [binary, "-c", str(conf)],
        state,
        host,
        port,
        detach=detach,
        ready=lambda _s: port_open(host, port),
        timeout=15,
        log=state / "mosquitto.stderr",
    )


def start_influxd(
    state: Path,
    port: int,
    host: str = "127.0.0.1",
    *,
    rpc_port: int | None = None,
    detach: bool = False,
) -> Server:
    """Start influxd 1.x with the project's config; data under ``state``."""
    binary = _binary("influxd", "influxdb")
    state.mkdir(parents=True, exist_ok=True)
    conf = _render(
        "influxdb.conf",
        state / "influxdb.conf",
        port=port,
        host=host,
        state=state.resolve(),
        rpc_port=rpc_port or free_port(host),
    )
    return _start(
        "influxd",
        [binary, "-config", str(conf)],
        state,
        host,
        port,
        detach=detach,
        ready=lambda s: influx_ping(s.url),
        timeout=60,
        log=state / "influxd.log",
    )


def postgres_binary(name: str) -> str:
    """A PostgreSQL server program (Debian keeps them in /usr/lib/postgresql/<major>/bin)."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if versions:
        return str(versions[-1])
    return _binary(name, "postgresql")


def _postgres_user() -> tuple[int, int] | None:
    """(uid, gid) to run PostgreSQL as when we are root (it refuses root); None otherwise."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        user = pwd.getpwnam("nobody")
    return user.pw_uid, user.pw_gid


def _as_user(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    ids = _postgres_user()
    return subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
        env=env,
        user=ids[0] if ids else None,
        group=ids[1] if ids else None,
        extra_groups=[] if ids else None,
    )


def start_postgres(state: Path, port: int, host: str = "127.0.0.1") -> Server:
    """Start a throwaway PostgreSQL (Debian's `postgresql`): initdb in ``state``, trust on loopback.

    Run as root, the server runs as the `postgres` user (or nobody), so ``state`` must be a
    folder that user can reach (the tests make one under the system temp folder). The data is
    for tests: fsync is off.
    """
    state.mkdir(parents=True, exist_ok=True)
    if ids := _postgres_user():
        os.chown(state, *ids)
    data, log = state / "data", state / "postgres.log"
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    if not (data / "PG_VERSION").exists():
        initdb = [postgres_binary("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
        proc = _as_user([*initdb, "-E", "UTF8", "--locale=C", "--no-sync"], log, env)
        if proc.wait(120) != 0:
            raise StackError(f"initdb failed; see {log}")
    argv = [postgres_binary("postgres"), "-D", str(data), "-p", str(port), "-h", host]
    argv += ["-k", str(state), "-c", "fsync=off", "-c", "full_page_writes=off"]
    argv += ["-c", "max_connections=200"]
    server = Server("postgres", _as_user(argv, log, env), state, host, port)
    ready = [postgres_binary("pg_isready"), "-q", "-h", host, "-p", str(port)]
    try:
        wait_until(
            lambda: server.proc.poll() is not None or subprocess.run(ready).returncode == 0,
            60,
            "postgres",
        )
        if server.proc.poll() is not None:
            raise StackError(f"postgres exited with {server.proc.returncode}; see {log}")
    except StackError:
        server.stop()
        raise
    return server


# ---- the developer's long-running stack (pid files under the state folder) ----------------


@dataclass(frozen=True)
class StackPorts:
    """Ports of the local stack."""

    mqtt: int = 18830
    influx: int = 18086
    influx_rpc: int = 18088

    @classmethod
    def from_urls(cls, mqtt_url: str, influx_url: str) -> StackPorts:
        """Ports taken from the broker and InfluxDB URLs the processes are configured with."""
        mqtt = urlsplit(mqtt_url).port or cls.mqtt
        influx = urlsplit(influx_url).port or cls.influx
        rpc = cls.influx_rpc if influx == cls.influx else free_port()
        return cls(mqtt, influx, rpc)


def _pidfile(state: Path, name: str) -> Path:
    return state / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        # reap it if it is our own child (`landfill run` started it), else it stays a zombie
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(state: Path, name: str) -> int | None:
    path = _pidfile(state, name)
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def up(
    state: Path,
    ports: StackPorts = StackPorts(),
    log: Callable[[str], None] = print,
    *,
    acl: bool = False,
) -> None:
    """Start mosquitto and influxd in the background unless they already run.

    With ``acl``, the broker takes the logins and ACL in ``state/mqtt``.
    """
    ensure_packages(log)
    state.mkdir(parents=True, exist_ok=True)
    logins = state / "mqtt"
    if acl and not (logins / "mosquitto.acl").exists():
        raise StackError(f"no logins in {logins}: run `landfill mqtt-acl --out {logins}` first")
    for name, port in (("mosquitto", ports.mqtt), ("influxd", ports.influx)):
        pid = _read_pid(state, name)
        if pid is not None:
            log(f"{name} already running (pid {pid}) on 127.0.0.1:{port}")
            continue
        if port_open("127.0.0.1", port):
            raise StackError(f"port {port} is taken by another program; stop it or change ports")
        if name == "mosquitto":
            server = start_mosquitto(
                state / "mosquitto", ports.mqtt, detach=True, acl=logins if acl else None
            )
        else:
            server = start_influxd(
                state / "influxdb", ports.influx, rpc_port=ports.influx_rpc, detach=True
            )
        _pidfile(state, name).write_text(str(server.proc.pid))
        log(f"{name} started (pid {server.proc.pid}) on {server.url}")


def down(state: Path, log: Callable[[str], None] = print) -> None:
    """Stop what `up` started."""
    for name in ("mosquitto", "influxd"):
        pid = _read_pid(state, name)
        if pid is None:
            log(f"{name} not running")
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        _pidfile(state, name).unlink(missing_ok=True)
        log(f"{name} stopped")


def status(state: Path, ports: StackPorts = StackPorts()) -> dict[str, str]:
    """Say what runs where."""
    result = {}
    for name, port in (("mosquitto", ports.mqtt), ("influxd", ports.influx)):
        pid = _read_pid(state, name)
        if pid is None:
            result[name] = "stopped"
        else:
            ok = port_open("127.0.0.1", port)
            result[name] = f"running, pid {pid}, 127.0.0.1:{port}{'' if ok else ' (not answering)'}"
    return result


# ---- `landfill stack` -----------------------------------------------------------------------

DESCRIPTION = """\
Run mosquitto and influxd from the Debian packages on loopback, with their data in the state
folder. The ports are those of LANDFILL_MQTT_URL and LANDFILL_INFLUX_URL (default 18830 and
18086). Installs the packages with apt-get when they are missing and we are root."""


def build_parser() -> argparse.ArgumentParser:
    """The arguments of `landfill stack`."""
    parser = command_parser("stack", DESCRIPTION)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument(
        "--state", type=Path, default=STATE_DIR, help=f"state folder (default {STATE_DIR})"
    )
    parser.add_argument(
        "--acl",
        action="store_true",
        help="up: broker with logins and ACL from STATE/mqtt (written by `landfill mqtt-acl`)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill stack up|down|status`."""
    args = build_parser().parse_args(argv)
    common = build(CommonSettings, argparse.Namespace())
    ports = StackPorts.from_urls(common.mqtt_url, common.influx_url)
    try:
        if args.action == "up":
            up(args.state, ports, acl=args.acl)
        elif args.action == "down":
            down(args.state)
        else:
            for name, state in status(args.state, ports).items():
                print(f"{name:10} {state}")  # noqa: T201 - the status is this command's output
    except StackError as exc:
        raise SystemExit(f"stack: {exc}") from None
    return 0
