"""Container readings through `landfill ingest`: this tree against a baseline tree, same run.

    python -m bench.fill_ingest --baseline-ref 847a5ea [--containers 200] [--hours 100]
                                [--rounds 2]

bench.ingest measures captures, which the fill processor never sees. This one publishes a
burst of readings (QoS 1) for ``--containers`` registered containers, ``--hours`` readings
each, and reports msg/s from the first publish until every `fill` point is queryable, and the
ingest process's CPU per message. Each round runs the baseline (``git archive`` of the ref
into a temporary folder) and then this tree, each with fresh servers and state, so both see
the same machine at nearly the same time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.board import SITE, readings, region
from bench.ingest import RawPublisher, cpu_seconds, ingest_env, wait_online
from deploy import stack
from landfill.contract import ContainerReading, ContainerRegistry, Topics
from landfill.influx import InfluxStore
from landfill.mqtt import broker_address, make_client
from landfill.settings import ApiSettings

ROOT = Path(__file__).resolve().parent.parent


def baseline_tree(ref: str, into: Path) -> Path:
    """The repository at ``ref``, unpacked into ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _publish_registry(url: str, registry: ContainerRegistry) -> None:
    client = make_client(url, f"bench-registry-{time.monotonic_ns()}")
    client.connect(*broker_address(url))
    client.loop_start()
    info = client.publish(Topics(SITE).of(ContainerRegistry), registry.to_json(), 1, retain=True)
    info.wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def run_once(code: Path, containers: int, hours: int) -> tuple[float, float]:
    """(msg/s until queryable, ingest CPU µs per message) for the tree at ``code``."""
    fleet = region(containers)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    days = hours // 24 + 1
    stream = [
        (Topics(SITE).of(ContainerReading, container=r.container), r.to_json(), r.id)
        for r in readings(fleet, end, days, ApiSettings().tz)
    ][: containers * hours]
    with tempfile.TemporaryDirectory(prefix="bench-fill-ingest-") as tmp:
        root = Path(tmp)
        broker = stack.start_mosquitto(root / "mosquitto", stack.free_port())
        influxd = stack.start_influxd(root / "influxd", stack.free_port())
        proc = None
        try:
            store = InfluxStore(influxd.url, "bench", timeout=60)
            store.ensure_database()
            registry = ContainerRegistry(ts=end, site=SITE, containers=[c.spec for c in fleet])
            _publish_registry(broker.url, registry)
            env = ingest_env(SITE, broker.url, influxd.url, "bench", PYTHONPATH=str(code))
            proc = subprocess.Popen(
                [sys.executable, "-m", "landfill.cli", "ingest"],
                cwd=code,
                env=env,
                stdout=(root / "ingest.log").open("ab"),
                stderr=subprocess.STDOUT,
            )
            wait_online(broker.url, SITE, "landfill-ingest")
            cpu0 = cpu_seconds(proc.pid)
            pub = RawPublisher(broker.url)
            t0 = time.monotonic()
            pub.publish_all(stream)
            pub.wait_acked(len(stream), timeout=600)
            deadline = time.monotonic() + 600
            while _count(store) < len(stream):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {_count(store)} of {len(stream)} fill points")
                time.sleep(0.2)
            elapsed = time.monotonic() - t0
            cpu = (cpu_seconds(proc.pid) - cpu0) / len(stream) * 1e6
            pub.close()
            return len(stream) / elapsed, cpu
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(30)
            influxd.stop()
            broker.stop()


def _count(store: InfluxStore) -> int:
    rows = store.rows("SELECT count(id) FROM fill WHERE site = $site", {"site": SITE})
    return int(rows[0]["count"]) if rows else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `python -m bench.fill_ingest`."""
    p = argparse.ArgumentParser(
        prog="python -m bench.fill_ingest", description=__doc__.split("\n")[0]
    )
    p.add_argument("--baseline-ref", required=True, help="git ref of the tree to compare with")
    p.add_argument("--containers", type=int, default=200)
    p.add_argument("--hours", type=int, default=100, help="readings per container")
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args(argv)
    results: dict[str, list[tuple[float, float]]] = {"baseline": [], "this tree": []}
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        base = baseline_tree(args.baseline_ref, Path(tmp))
        for _ in range(args.rounds):
            for name, code in (("baseline", base), ("this tree", ROOT)):
                results[name].append(run_once(code, args.containers, args.hours))
    n = args.containers * args.hours
    print(f"burst of {n:,} readings ({args.containers} containers), QoS 1, until queryable:")
    for name, runs in results.items():
        rates = [r for r, _ in runs]
        cpus = [c for _, c in runs]
        each = ", ".join(f"{r:,.0f}" for r in rates)
        print(
            f"  {name:10} {statistics.median(rates):6,.0f} msg/s (runs: {each})"
            f"  ingest CPU {statistics.median(cpus):4.0f} us/msg"
        )
    base_rate = statistics.median(r for r, _ in results["baseline"])
    this_rate = statistics.median(r for r, _ in results["this tree"])
    print(f"  this tree / baseline: {this_rate / base_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
