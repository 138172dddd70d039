"""Ingest benchmark: throughput against a minimal consumer, latency at a fixed rate, memory.

    python -m bench.ingest [--messages 100000] [--rate 1000] [--seconds 20]

Starts its own mosquitto (the project's config) and influxd on free loopback ports in a
temporary folder, then in one run:
0. measures this machine's single-core Python speed (a fixed loop, best of three), so figures
   from different machines can be compared;
1. the floor: runs `bench.consumer` (a minimal paho consumer, QoS 1, ack after write, no
   validation) as a subprocess, publishes N captures as fast as the broker takes them and
   reports msg/s from the first publish until all N are queryable, and its CPU per message;
2. the same burst through `landfill ingest` (a subprocess, QoS 1, ack after write), and the
   ratio of the two throughputs (the goal: ingest >= 1.3 x the floor); for each burst also
   the CPU per message of InfluxDB and mosquitto, which share the two cores (ingest writes
   one series per capture, `capture_id`, which InfluxDB pays for: docs/ingest.md);
3. publishes at a fixed rate to ingest and reports p50/p99 latency from publish to queryable
   (a poller queries for new ids every 20 ms, so figures include up to 20 ms of polling);
4. reports the ingest process's peak and current RSS.
The machine is shared (two cores): run it when nothing else is busy, and compare ratios more
than absolute rates. The stream helpers here are also used by the chaos tests.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from deploy import stack
from landfill.contract import Capture, NodeStatus, Topics
from landfill.influx import InfluxStore
from landfill.mqtt import broker_address, make_client

# yesterday's midnight: inside ingest's time window (LANDFILL_TIME_BACK_DAYS) on any day
BASE = (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def capture_stream(
    site: str, n: int, scale: str = "s1", start: datetime = BASE
) -> list[tuple[str, bytes, str]]:
    """Return ``n`` (topic, payload, id) captures with distinct ids and millisecond times.

    Ids are the edge's (`Capture.weighed`: a hash of site, scale, time and weight), as
    ingest checks them.
    """
    topic = Topics(site).of(Capture, scale=scale)
    out = []
    for i in range(n):
        msg = Capture.weighed(
            ts=start + timedelta(milliseconds=i),
            site=site,
            scale=scale,
            weight_kg=1000 + 20 * (i % 2_000),  # at the division, as the contract wants
            division_kg=20,
            stable_ms=2000,
            protocol="yaohua-a9",
        )
        out.append((topic, msg.to_json(), msg.id))
    return out


class Publisher:
    """A QoS 1 publisher that survives broker restarts and counts PUBACKs."""

    def __init__(self, url: str, window: int = 10_000) -> None:
        self.client = make_client(url, f"bench-pub-{uuid.uuid4().hex[:8]}", clean_start=False)
        # our own window of unacknowledged messages: paho reuses packet ids past 65,535 in
        # flight (and loses messages), and its own queue is quadratic when the window is wide
        self.client.max_inflight_messages_set(0)
        self.window = window
        self.sent = 0
        self.acked = 0
        self._room = threading.Condition()
        self.client.on_publish = self._on_publish
        host, port = broker_address(url)
        self.client.connect(host, port)
        self.client.loop_start()

    def _on_publish(self, *_: Any) -> None:
        with self._room:
            self.acked += 1
            if self.sent - self.acked < self.window:
                self._room.notify()

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish one QoS 1 message (paho resends it after a reconnect until PUBACKed)."""
        with self._room:
            self._room.wait_for(lambda: self.sent - self.acked < self.window)
            self.sent += 1
        self.client.publish(topic, payload, qos=1)

    def publish_all(self, stream: Sequence[tuple[str, bytes, str]], rate: float = 0) -> None:
        """Publish a stream, at ``rate`` msg/s when given, else as fast as possible."""
        start = time.monotonic()
        for i, (topic, payload, _) in enumerate(stream):
            if rate:
                delay = start + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self.publish(topic, payload)

    def wait_acked(self, n: int, timeout: float = 120) -> None:
        """Wait until ``n`` PUBACKs arrived (the broker has them)."""
        deadline = time.monotonic() + timeout
        while self.acked < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.acked} of {n} PUBACKed")
            time.sleep(0.01)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


class RawPublisher:
    """A minimal MQTT 3.1.1 QoS 1 publisher on a plain socket, for the burst.

    paho spends about 60 us of Python per QoS 1 publish, as much as the ingest under test spends
    per message; on two cores that would measure the load generator. This one sends pre-encoded
    PUBLISH packets in chunks and counts PUBACKs on a thread, keeping at most ``window``
    unacknowledged (below 65,535 so packet ids never repeat in flight).
    """

    def __init__(self, url: str, window: int = 20_000) -> None:
        host, port = broker_address(url)
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cid = f"bench-raw-{uuid.uuid4().hex[:8]}".encode()
        body = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack("!H", len(cid)) + cid
        self.sock.sendall(b"\x10" + _remaining_length(len(body)) + body)
        connack = self.sock.recv(4)
        if len(connack) != 4 or connack[0] != 0x20 or connack[3] != 0:
            raise ConnectionError(f"broker refused the connection: {connack!r}")
        self.window = window
        self.acked = 0
        self._room = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            n = len(buf) // 4  # PUBACK is 4 bytes; nothing else comes to a clean publisher
            buf = buf[n * 4 :]
            with self._room:
                self.acked += n
                self._room.notify_all()

    def publish_all(self, stream: Sequence[tuple[str, bytes, str]], chunk: int = 500) -> None:
        """Send the stream as fast as the broker takes it."""
        sent = 0
        for start in range(0, len(stream), chunk):
            part = []
            for i, (topic, payload, _) in enumerate(stream[start : start + chunk], start):
                t = topic.encode()
                var = struct.pack("!H", len(t)) + t + struct.pack("!H", i % 65535 + 1)
                part.append(b"\x32" + _remaining_length(len(var) + len(payload)) + var + payload)
            with self._room:
                self._room.wait_for(lambda s=sent: s - self.acked < self.window)  # type: ignore[misc]
            self.sock.sendall(b"".join(part))
            sent += len(part)

    def wait_acked(self, n: int, timeout: float = 120) -> None:
        """Wait until ``n`` PUBACKs arrived."""
        with self._room:
            if not self._room.wait_for(lambda: self.acked >= n, timeout):
                raise TimeoutError(f"only {self.acked} of {n} PUBACKed")

    def close(self) -> None:
        """Disconnect."""
        self.sock.sendall(b"\xe0\x00")
        self.sock.close()


def stored_ids(store: InfluxStore, scale: str = "s1") -> list[str]:
    """Every capture id stored for ``scale`` (one per point)."""
    return [
        r["id"] for r in store.rows("SELECT id FROM scale_capture WHERE scale = $s", {"s": scale})
    ]


def stored_count(store: InfluxStore, scale: str = "s1") -> int:
    """How many capture points ``scale`` has."""
    rows = store.rows("SELECT count(id) FROM scale_capture WHERE scale = $s", {"s": scale})
    return int(rows[0]["count"]) if rows else 0


def ingest_env(site: str, mqtt_url: str, influx_url: str, db: str, **extra: str) -> dict[str, str]:
    """Environment for a `landfill ingest` subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
    root = str(Path(__file__).resolve().parent.parent)
    env.update(
        LANDFILL_SITE=site,
        LANDFILL_MQTT_URL=mqtt_url,
        LANDFILL_INFLUX_URL=influx_url,
        LANDFILL_INFLUX_DB=db,
        # fill tracker state of this run only, never the repository's .state/
        LANDFILL_FILL_STATE_PATH=str(
            Path(tempfile.mkdtemp(prefix="landfill-ingest-")) / "fill.sqlite"
        ),
        PYTHONPATH=os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")])),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_ingest(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `landfill ingest` as a subprocess logging to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "landfill.cli", "ingest"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_online(url: str, site: str, node: str, timeout: float = 30) -> None:
    """Wait for a node's retained online status (ingest announces it after subscribing)."""
    seen = threading.Event()

    def on_message(_c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if b'"online":true' in msg.payload:
            seen.set()

    client = make_client(url, f"bench-watch-{uuid.uuid4().hex[:8]}")
    client.on_connect = lambda c, *_: c.subscribe(Topics(site).of(NodeStatus, node=node), qos=1)
    client.on_message = on_message
    host, port = broker_address(url)
    client.connect(host, port)
    client.loop_start()
    try:
        if not seen.wait(timeout):
            raise TimeoutError(f"{node} did not come online within {timeout:.0f} s")
    finally:
        client.disconnect()
        client.loop_stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> tuple[int, int]:
    """Return (peak, current) resident memory of a process in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])


def python_speed(steps: int = 2_000_000) -> float:
    """Steps per second of a fixed pure-Python loop, best of three: single-core speed."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        x = 1
        for _ in range(steps):
            x = (x * 1_103_515_245 + 12_345) & 0x7FFF_FFFF
        best = min(best, time.perf_counter() - t0)
    return steps / best


@dataclass
class Burst:
    """One consumer's figures for the burst."""

    publish_rate: float
    end_to_end_rate: float
    cpu_us_per_msg: float
    python_steps_per_s: float  # measured just before: the machine is shared
    influxd_us_per_msg: float  # InfluxDB's CPU for the same burst: it shares the two cores
    broker_us_per_msg: float


@dataclass
class Result:
    """Benchmark figures."""

    messages: int
    python_steps_per_s: float
    floor: Burst | None
    ingest: Burst
    latency_p50_ms: float
    latency_p99_ms: float
    latency_max_ms: float
    rate: float
    rss_peak_mib: float
    rss_mib: float


def _wait(check: Any, timeout: float, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(poll)


def throughput(pub: RawPublisher, store: InfluxStore, site: str, n: int) -> tuple[float, float]:
    """Publish ``n`` as fast as possible; return (publish msg/s, msg/s until all queryable)."""
    stream = capture_stream(site, n, scale="burst")
    t0 = time.monotonic()
    pub.publish_all(stream)
    pub.wait_acked(n, timeout=600)
    t_pub = time.monotonic() - t0
    _wait(lambda: stored_count(store, "burst") >= n, 600, "all messages queryable", poll=0.2)
    t_all = time.monotonic() - t0
    return n / t_pub, n / t_all


@dataclass
class Servers:
    """The broker and InfluxDB of a run, whose CPU per message is reported too."""

    broker: stack.Server
    influxd: stack.Server


def burst(servers: Servers, store: InfluxStore, site: str, n: int, pid: int) -> Burst:
    """The burst through the consumer running as ``pid``: rates and CPU per message."""
    speed = python_speed()
    raw = RawPublisher(servers.broker.url)
    pids = (pid, servers.influxd.proc.pid, servers.broker.proc.pid)
    cpu0 = [cpu_seconds(p) for p in pids]
    try:
        pub_rate, e2e_rate = throughput(raw, store, site, n)
    finally:
        raw.close()
    mine, influxd, broker = (
        (cpu_seconds(p) - c) / n * 1e6 for p, c in zip(pids, cpu0, strict=True)
    )
    return Burst(pub_rate, e2e_rate, mine, speed, influxd, broker)


def floor_burst(servers: Servers, n: int, log: Path) -> Burst:
    """The same burst through `bench.consumer`, the minimal paho consumer, on its own site."""
    site = "floor"
    broker_url, influx_url = servers.broker.url, servers.influxd.url
    store = InfluxStore(influx_url, site)
    store.ensure_database()
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    topic = Topics(site).of(Capture, scale="burst")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.consumer", broker_url, influx_url, site, topic],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("ab"),
    )
    try:
        line = proc.stdout.readline() if proc.stdout else b""
        if line.strip() != b"subscribed":
            raise RuntimeError(f"bench.consumer did not subscribe; see {log}")
        return burst(servers, store, site, n, proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
        store.close()


def latency(
    pub: Publisher, store: InfluxStore, site: str, rate: float, seconds: float
) -> list[float]:
    """Publish at ``rate`` for ``seconds``; return each message's publish-to-queryable ms."""
    n = int(rate * seconds)
    topic = Topics(site).of(Capture, scale="rate")
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    oldest = [datetime.now(UTC)]
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            rows = store.rows(
                "SELECT id FROM scale_capture WHERE scale = 'rate' AND time >= $t",
                {"t": oldest[0]},
            )
            now = time.monotonic()
            for r in rows:
                seen.setdefault(r["id"], now)
            pending = [t for i, t in list(sent_ts.items()) if i not in seen]
            if pending:
                oldest[0] = min(pending)
            if len(seen) >= n:
                done.set()
            time.sleep(0.02)

    sent_ts: dict[str, datetime] = {}
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    start = time.monotonic()
    last = datetime.now(UTC) - timedelta(milliseconds=1)
    for i in range(n):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        ts = max(datetime.now(UTC), last + timedelta(milliseconds=1))
        # whole ms, as stored: the poller asks for time >= the oldest unseen, and a microsecond
        # part would leave that point just before it, unseen until the 120 s timeout
        ts = ts.replace(microsecond=ts.microsecond - ts.microsecond % 1000)
        last = ts
        msg = Capture.weighed(
            ts=ts,
            site=site,
            scale="rate",
            weight_kg=20 * (1 + i % 10_000),
            division_kg=20,
            stable_ms=2000,
            protocol="bench",
        )
        sent_ts[msg.id] = ts
        sent[msg.id] = time.monotonic()
        pub.publish(topic, msg.to_json())
    done.wait(120)
    done.set()
    poller.join()
    return [(seen[i] - sent[i]) * 1000 for i in sent if i in seen]


def run(
    messages: int, rate: float, seconds: float, extra_env: dict[str, str], floor: bool = True
) -> Result:
    """Run the whole benchmark in a temporary folder and return the figures."""
    speed = python_speed()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        root = Path(tmp)
        broker = stack.start_mosquitto(root / "mosquitto", stack.free_port())
        influxd = stack.start_influxd(root / "influxd", stack.free_port())
        proc = None
        pub = None
        try:
            servers = Servers(broker, influxd)
            floor_figures = floor_burst(servers, messages, root / "floor.log") if floor else None
            site = "bench"
            store = InfluxStore(influxd.url, "bench")
            store.ensure_database()
            env = ingest_env(site, broker.url, influxd.url, "bench", **extra_env)
            proc = start_ingest(env, root / "ingest.log")
            wait_online(broker.url, site, "landfill-ingest")
            ingest_figures = burst(servers, store, site, messages, proc.pid)
            pub = Publisher(broker.url)
            lat = sorted(latency(pub, store, site, rate, seconds))
            peak, now = rss_kib(proc.pid)
            q = statistics.quantiles(lat, n=100)
            return Result(
                messages=messages,
                python_steps_per_s=speed,
                floor=floor_figures,
                ingest=ingest_figures,
                latency_p50_ms=q[49],
                latency_p99_ms=q[98],
                latency_max_ms=lat[-1],
                rate=rate,
                rss_peak_mib=peak / 1024,
                rss_mib=now / 1024,
            )
        finally:
            if pub is not None:
                pub.close()
            if proc is not None:
                proc.terminate()
                proc.wait(30)
            influxd.stop()
            broker.stop()


def report(r: Result) -> list[str]:
    """The figures as printed lines."""
    out = [
        f"cpus: {os.cpu_count()}  python {sys.version.split()[0]}  single core at the start: "
        f"{r.python_steps_per_s / 1e6:,.1f} M steps/s (bench.ingest.python_speed)",
        f"burst of {r.messages:,} captures, QoS 1, ack after write:",
        f"  {'':34}{'ingest':>10}{'minimal consumer':>20}",
    ]
    rows: list[tuple[str, str, float, float | None]] = [
        ("broker took them at (msg/s)", ",.0f", r.ingest.publish_rate, None),
        ("all queryable at (msg/s)", ",.0f", r.ingest.end_to_end_rate, None),
        ("CPU per message (us)", ",.1f", r.ingest.cpu_us_per_msg, None),
        ("InfluxDB's CPU per message (us)", ",.1f", r.ingest.influxd_us_per_msg, None),
        ("mosquitto's CPU per message (us)", ",.1f", r.ingest.broker_us_per_msg, None),
        ("single core just before (M steps/s)", ".1f", r.ingest.python_steps_per_s / 1e6, None),
    ]
    if r.floor is not None:
        f = r.floor
        theirs = [
            f.publish_rate,
            f.end_to_end_rate,
            f.cpu_us_per_msg,
            f.influxd_us_per_msg,
            f.broker_us_per_msg,
            f.python_steps_per_s / 1e6,
        ]
        rows = [(name, fmt, mine, t) for (name, fmt, mine, _), t in zip(rows, theirs, strict=True)]
    for name, fmt, mine, other in rows:
        other_text = format(other, fmt) if other is not None else "-"
        out.append(f"  {name:34}{format(mine, fmt):>10}{other_text:>20}")
    if r.floor is not None:
        ratio = r.ingest.end_to_end_rate / r.floor.end_to_end_rate
        verdict = "met" if ratio >= 1.3 else "NOT met"
        out.append(f"  ingest / minimal consumer: {ratio:.2f} x (goal >= 1.3 x: {verdict})")
        cpu_ratio = r.floor.cpu_us_per_msg / r.ingest.cpu_us_per_msg
        out.append(f"  by the consumer's own CPU per message: {cpu_ratio:.2f} x")
    out += [
        f"fixed rate {r.rate:,.0f} msg/s, publish to queryable:",
        f"  p50 {r.latency_p50_ms:,.0f} ms  p99 {r.latency_p99_ms:,.0f} ms  "
        f"max {r.latency_max_ms:,.0f} ms",
        f"ingest RSS: peak {r.rss_peak_mib:,.0f} MiB, at the end {r.rss_mib:,.0f} MiB",
    ]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `python -m bench.ingest`."""
    p = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n")[0])
    p.add_argument("--messages", type=int, default=100_000, help="burst size (default 100000)")
    p.add_argument("--rate", type=float, default=1000.0, help="fixed rate msg/s (default 1000)")
    p.add_argument("--seconds", type=float, default=20.0, help="fixed-rate duration (default 20)")
    p.add_argument("--batch-size", type=int, help="LANDFILL_INGEST_BATCH_SIZE for the run")
    p.add_argument("--flush-seconds", type=float, help="LANDFILL_INGEST_FLUSH_SECONDS")
    p.add_argument("--no-floor", action="store_true", help="skip the minimal consumer's burst")
    args = p.parse_args(argv)
    extra = {}
    if args.batch_size:
        extra["LANDFILL_INGEST_BATCH_SIZE"] = str(args.batch_size)
    if args.flush_seconds:
        extra["LANDFILL_INGEST_FLUSH_SECONDS"] = str(args.flush_seconds)
    r = run(args.messages, args.rate, args.seconds, extra, floor=not args.no_floor)
    print("\n".join(report(r)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
