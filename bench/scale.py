"""Scale edge benchmark: decode throughput per protocol, capture latency, edge memory.

    python -m bench.scale [--frames 20000] [--trucks 10]

1. frames/s: every protocol's frames (encoded by the protocol itself) through the stream
   buffer in 512-byte chunks, as the serial reader delivers them.
2. latency: a real `landfill edge scale` process reads a pty and publishes to a real mosquitto
   started here on a free port; the bench writes a plateau one frame every 100 ms and, after
   each frame, waits for the capture at a subscriber. The frame after which the capture
   arrives is the stabilising frame; latency = arrival time - time that frame was written.
3. RSS: VmRSS and VmHWM (peak) of that edge process after the run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

from deploy import stack
from edge.scale.simulator import PtyLink
from landfill.mqtt import broker_address, make_client
from landfill.scale.buffer import FrameStream
from landfill.scale.frames import Reading
from landfill.scale.protocols import PROTOCOLS
from landfill.scale.protocols.yaohua_a9 import YaohuaA9


def decode_rate(frames: int) -> dict[str, float]:
    """Frames per second decoded by each protocol through the stream buffer."""
    out: dict[str, float] = {}
    for name, cls in sorted(PROTOCOLS.items()):
        protocol = cls()
        data = b"".join(
            protocol.encode(Reading(Decimal(1000 + 20 * (i % 900)), stable=i % 3 != 0))
            for i in range(frames)
        )
        stream = FrameStream(protocol)
        start = time.perf_counter()
        n = 0
        for i in range(0, len(data), 512):
            n += len(stream.feed(data[i : i + 512]))
        elapsed = time.perf_counter() - start
        assert n == frames, f"{name}: decoded {n} of {frames}"
        out[name] = frames / elapsed
    return out


def latency(trucks: int) -> tuple[list[float], int, int]:
    """Capture latencies (ms) through a real edge process and mosquitto; edge RSS/peak in kB."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    broker = stack.start_mosquitto(tmp / "mosquitto", stack.free_port())
    site = f"b{uuid.uuid4().hex[:8]}"
    arrived: list[float] = []
    got = threading.Event()
    sub = make_client(broker.url, f"bench-{site}")
    sub.on_connect = lambda c, *_: c.subscribe(f"landfill/v1/{site}/scale/+/capture", qos=1)

    def on_message(*_: object) -> None:
        arrived.append(time.perf_counter())
        got.set()

    sub.on_message = on_message
    sub.connect(*broker_address(broker.url))
    sub.loop_start()
    link = PtyLink(tmp / "scale.tty")
    env = {
        **os.environ,
        "LANDFILL_SITE": site,
        "LANDFILL_MQTT_URL": broker.url,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    edge = subprocess.Popen(
        [sys.executable, "-m", "landfill.cli", "edge", "scale", "--port", str(link.path),
         "--outbox", str(tmp / "outbox.sqlite"), "--stable-seconds", "0.5",
         "--no-data-seconds", "30"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        results = _drive(link, trucks, got, arrived)
        rss, hwm = _memory(edge.pid)
    finally:
        edge.terminate()
        edge.wait(20)
        sub.disconnect()
        sub.loop_stop()
        link.close()
        broker.stop()
    return results, rss, hwm


def _drive(link: PtyLink, trucks: int, got: threading.Event, arrived: list[float]) -> list[float]:
    """Drive trucks onto the indicator; ms from each stabilising frame to its capture."""
    a9 = YaohuaA9()
    results: list[float] = []
    for _ in range(20):  # let the edge open the pty and connect
        link.write(a9.encode(Reading(Decimal(0))))
        time.sleep(0.1)
    for t in range(trucks):
        kg = 8_000 + 1_000 * t
        for w in (0, 0, kg // 3, 2 * kg // 3):
            link.write(a9.encode(Reading(Decimal(w))))
            time.sleep(0.1)
        got.clear()
        for _ in range(30):
            sent = time.perf_counter()
            link.write(a9.encode(Reading(Decimal(kg))))
            if got.wait(0.1):
                results.append((arrived[-1] - sent) * 1000)
                break
        for _ in range(8):
            link.write(a9.encode(Reading(Decimal(0))))
            time.sleep(0.1)
    return results


def _memory(pid: int) -> tuple[int, int]:
    """A process's resident set and its peak, in kB."""
    rss = hwm = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    p.add_argument("--frames", type=int, default=20_000, help="frames per protocol")
    p.add_argument("--trucks", type=int, default=10, help="trucks for the latency run")
    args = p.parse_args(argv)

    print(f"== decode throughput ({args.frames} frames each, 512-byte chunks)")
    for name, rate in decode_rate(args.frames).items():
        print(f"  {name:16} {rate:>12,.0f} frames/s")

    print(f"== stabilising frame -> capture at a subscriber ({args.trucks} trucks, goal < 50 ms)")
    lat, rss, hwm = latency(args.trucks)
    if len(lat) < args.trucks:
        print(f"  only {len(lat)} of {args.trucks} captures arrived")
    if lat:
        lat.sort()
        p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
        print(f"  median {statistics.median(lat):.1f} ms   p95 {p95:.1f} ms   max {lat[-1]:.1f} ms")
    print("== edge process memory (goal < 60 MB)")
    print(f"  RSS {rss / 1024:.1f} MB   peak {hwm / 1024:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
