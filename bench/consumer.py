"""The floor `bench.ingest` compares ingest with: a minimal paho consumer, ack after write.

    python -m bench.consumer MQTT_URL INFLUX_URL DB TOPIC_FILTER [--batch-size 5000]

What anyone would write in forty lines with paho's plain API: subscribe with QoS 1 and
`manual_ack`; on each message parse the JSON and build the capture's line of line protocol
(the same measurement, tags `site` and `scale` and fields ingest writes, without validating or
escaping; the time is the capture's millisecond at `precision=ms`, where ingest adds the weight
in nanoseconds: one series per scale either way); a writer thread posts the lines in batches
(by size, or every ``--flush-seconds``) to InfluxDB's `/write` and, after the 204,
acknowledges each message with `client.ack`. No validation, dead
letters, retries, processors or statistics: what ingest does on top of this is what it has to
pay for within the goal (ingest's throughput at least 1.3 x this one's).
Prints ``subscribed`` once the broker has the subscription.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import paho.mqtt.client as mqtt

from landfill.mqtt import broker_address, make_client

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def capture_line(payload: bytes | bytearray) -> str:
    """A capture's `scale_capture` line, trusting the payload (bench input is well formed)."""
    m = json.loads(payload)
    ms = (datetime.fromisoformat(m["ts"]) - _EPOCH) // _MS
    return (
        f"scale_capture,site={m['site']},scale={m['scale']} "
        f'division_kg={m["division_kg"]}i,id="{m["id"]}",protocol="{m["protocol"]}",'
        f'raw="{" ".join(m.get("raw", []))}",stable_ms={m["stable_ms"]}i,'
        f'stable_source="{m.get("stable_source", "window")}",weight_kg={m["weight_kg"]}i {ms}'
    )


class Consumer:
    """Network thread: parse and append. Writer thread: write a batch, then ack it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pending: list[tuple[int, str]] = []
        self.ready = threading.Condition()
        self.stop = threading.Event()
        self.http = httpx.Client(base_url=args.influx_url, timeout=30)
        self.client = make_client(args.mqtt_url, "bench-floor", manual_ack=True)
        self.client.on_connect = lambda c, *_: c.subscribe(args.topic, qos=1)
        self.client.on_subscribe = lambda *_: print("subscribed", flush=True)
        self.client.on_message = self.on_message

    def on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        """Parse on paho's network thread and hand over."""
        item = (msg.mid, capture_line(msg.payload))
        with self.ready:
            self.pending.append(item)
            if len(self.pending) >= self.args.batch_size:
                self.ready.notify()

    def write_loop(self) -> None:
        """Write what has arrived, acknowledge it after InfluxDB's 204, repeat."""
        params = {"db": self.args.db, "precision": "ms"}
        while not self.stop.is_set():
            with self.ready:
                if len(self.pending) < self.args.batch_size:
                    self.ready.wait(self.args.flush_seconds)
                batch, self.pending = self.pending, []
            if not batch:
                continue
            body = "\n".join(line for _, line in batch).encode()
            resp = self.http.post("/write", params=params, content=body)
            if resp.status_code != 204:
                print(f"write failed: {resp.status_code} {resp.text[:200]}", file=sys.stderr)
                continue  # not acknowledged: the broker delivers again after a reconnect
            for mid, _ in batch:
                self.client.ack(mid, 1)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGTERM or SIGINT."""
    p = argparse.ArgumentParser(prog="python -m bench.consumer", description=__doc__)
    p.add_argument("mqtt_url")
    p.add_argument("influx_url")
    p.add_argument("db")
    p.add_argument("topic")
    p.add_argument("--batch-size", type=int, default=5000)
    p.add_argument("--flush-seconds", type=float, default=0.5)
    consumer = Consumer(p.parse_args(argv))
    signal.signal(signal.SIGTERM, lambda *_: consumer.stop.set())
    signal.signal(signal.SIGINT, lambda *_: consumer.stop.set())
    writer = threading.Thread(target=consumer.write_loop, daemon=True)
    writer.start()
    consumer.client.connect(*broker_address(consumer.args.mqtt_url))
    consumer.client.loop_start()
    consumer.stop.wait()
    consumer.client.disconnect()
    consumer.client.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
