"""`landfill edge sensors`: network-server uplinks in, contract readings out through the outbox.

    source broker (ChirpStack v4, TTS v3, native JSON), QoS 1, persistent session
        ─► envelopes.parse ─► duplicate? (device, fcnt, time) ─► drop, count
           (a gateway time off from the network server's by more than the time window ahead:
            the network server's time, counted as gateway_clock_refused, logged once a device)
        ─► registry: device EUI or name ─► container + model     unknown ─► dead letter
        ─► model.decode(raw bytes); sentinels are None           nothing ─► dead letter
        ─► ContainerReading ─► SQLite outbox ─► project broker (QoS 1), removed on PUBACK
        ─► only now: PUBACK of the uplink to the source broker (manual ack)
    project broker: retained registry ─► device map, cached in a JSON file for offline starts

Faults survived: malformed envelopes, unknown devices and models, undecodable payloads (each
counted, logged once per device and reason, and dead-lettered with the payload); a broker that
is down (the outbox keeps readings, paho reconnects); no registry at start (the cache, else a
bounded wait). An uplink is acknowledged to the source broker only after it is in the outbox:
when the outbox cannot store (disk full, read-only), the uplink stays unacknowledged, the node
status says why, and the process exits 1, so the source broker delivers it again after the
restart (its session is persistent).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from edge.outbox import Outbox, OutboxError, OutboxPublisher
from edge.sensors.dedup import DuplicateFilter
from edge.sensors.envelopes import EnvelopeError, parse, topic_device
from edge.sensors.models import MODELS, find_model
from edge.sensors.normalise import decode_envelope, to_reading
from landfill import __version__
from landfill.contract import (
    MAX_TEXT,
    ContainerRegistry,
    DeadLetter,
    NodeStatus,
    PayloadError,
    Topics,
    decode,
    utcnow,
)
from landfill.dead_letters import device_source
from landfill.lifecycle import setup_logging, wait_for_signal
from landfill.mqtt import announce, connect_async, make_client
from landfill.options import add_options, build, command_parser
from landfill.settings import EdgeSensorsSettings

log = logging.getLogger("landfill.edge.sensors")

__all__ = ["DeviceMap", "SensorService", "main"]


class DeviceMap:
    """Device (EUI or network-server device name, any case) to (container, model name)."""

    def __init__(self, registry: ContainerRegistry | None = None) -> None:
        self.registry = registry
        self._by_device: dict[str, tuple[str, str | None]] = {}
        if registry is not None:
            for spec in registry.containers:
                if spec.device:
                    self._by_device[spec.device.lower()] = (spec.container, spec.model)

    def __len__(self) -> int:
        return len(self._by_device)

    def lookup(self, *keys: str | None) -> tuple[str, str | None] | None:
        """Return (container, model) for the first key the registry knows."""
        for key in keys:
            if key and (found := self._by_device.get(key.lower())) is not None:
                return found
        return None


class SensorService:
    """Glue between the source broker, the decoders, the registry and the outbox."""

    def __init__(
        self, settings: EdgeSensorsSettings, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.topics = Topics(settings.site)
        self.node = "edge-sensors"
        self.counters: Counter[str] = Counter()
        self.dedup = DuplicateFilter(window=timedelta(seconds=settings.sensors_dedup_seconds))
        self.clock_tolerance = timedelta(seconds=settings.time_ahead_seconds)
        self.devices = DeviceMap()
        self.registry_ready = threading.Event()
        self.stop_event = threading.Event()
        self.fault: str | None = None  # the outbox cannot store: stop taking uplinks, exit 1
        self._logged: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.outbox = Outbox(settings.outbox_path)
        self.client = make_client(
            settings.mqtt_url, f"edge-sensors-{settings.site}-out", will=(self.topics, self.node)
        )
        self.publisher = OutboxPublisher(self.outbox, self.client, self.topics)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_registry
        self.source = make_client(
            settings.source_url,
            settings.sensors_client_id or f"edge-sensors-{settings.site}",
            clean_start=False,  # uplinks published while we are down wait in the broker
            manual_ack=True,  # acknowledged only once the reading is in the outbox
        )
        self.source.on_connect = self._on_source_connect
        self.source.on_message = self._on_uplink
        self._load_cache()

    # ---- registry ----------------------------------------------------------------------------

    def _load_cache(self) -> None:
        path = self.settings.sensors_registry_cache
        try:
            registry = ContainerRegistry.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return
        except (OSError, ValidationError) as exc:
            log.warning("registry cache %s unusable (%s); waiting for the broker", path, exc)
            return
        if registry.site != self.settings.site:
            log.warning("registry cache %s is for site %s; ignored", path, registry.site)
            return
        self.use_registry(registry, cache=False)
        log.info("registry from cache: %d devices", len(self.devices))

    def use_registry(self, registry: ContainerRegistry, *, cache: bool = True) -> None:
        """Take a registry (from the broker or the cache) and keep a copy on disk."""
        with self._lock:
            self.devices = DeviceMap(registry)
        self.registry_ready.set()
        if cache:
            try:
                _write_atomic(self.settings.sensors_registry_cache, registry.to_json())
            except OSError as exc:  # the cache only serves offline starts: keep going
                log.warning("registry cache not written (%s)", exc)

    def _on_registry(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            message = decode(msg.topic, bytes(msg.payload))
        except PayloadError as exc:
            log.warning("registry message rejected: %s", exc)
            return
        if isinstance(message, ContainerRegistry):
            self.use_registry(message)
            log.info("registry from broker: %d devices", len(self.devices))

    # ---- uplinks -----------------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> str:
        """Turn one uplink into a reading in the outbox; return what happened, for counting."""
        self.counters["received"] += 1
        try:
            envelope = parse(topic, payload, self.clock_tolerance)
        except EnvelopeError as exc:
            return self._reject(topic, payload, f"bad_envelope:{exc.reason}", topic)
        if envelope.gateway_clock_refused:
            self.counters["gateway_clock_refused"] += 1
            if (envelope.device_eui, "gateway_clock") not in self._logged:
                self._logged.add((envelope.device_eui, "gateway_clock"))
                log.warning(
                    "uplink from %s: the gateway's clock is off; the network server's time is "
                    "used (logged once)",
                    envelope.device_eui,
                )
        if self.dedup.is_duplicate(envelope.device_eui, envelope.fcnt, envelope.time):
            self.counters["duplicate"] += 1
            return "duplicate"
        with self._lock:
            found = self.devices.lookup(envelope.device_eui, envelope.device_name)
        device = envelope.device_eui
        if found is None:
            return self._reject(topic, payload, "unknown_device", device)
        container, model_name = found
        model = find_model(model_name, hint=envelope.model_hint)
        if model is None:
            return self._reject(topic, payload, "unknown_model", device)
        uplink = decode_envelope(envelope, model)
        if uplink is None:
            return self._reject(topic, payload, "undecodable", device)
        try:
            reading = to_reading(
                envelope, uplink, site=self.settings.site, container=container, model=model.name
            )
        except ValidationError:
            return self._reject(topic, payload, "invalid_reading", device)
        self.publisher.submit(reading)
        self.counters["published"] += 1
        if uplink.sentinels:
            self.counters["sentinels"] += 1
        return "published"

    def _reject(self, topic: str, payload: bytes, reason: str, key: str) -> str:
        self.counters[f"dead:{reason.split(':')[0]}"] += 1
        if (key, reason) not in self._logged:
            self._logged.add((key, reason))
            log.warning("uplink from %s dead-lettered: %s (logged once)", key, reason)
        letter = DeadLetter(
            ts=self.clock(),
            site=self.settings.site,
            reason=reason,
            topic=topic,
            payload=payload[:65536].decode("utf-8", "replace"),
            consumer=self.node,
            source=device_source(topic_device(topic)),  # from the topic: the body may be junk
            refused_kind="uplink",
        )
        self.publisher.submit(letter)
        return f"dead:{reason}"

    def _on_uplink(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if self.fault is not None:
            return  # not acknowledged: the source broker delivers it again after the restart
        try:
            self.handle(msg.topic, bytes(msg.payload))
        except OutboxError as exc:
            self._outbox_failed(msg.topic, exc)
            return
        except Exception:  # one bad message never stops the consumer
            self.counters["error"] += 1
            log.exception("uplink on %s could not be handled", msg.topic)
        client.ack(msg.mid, msg.qos)  # the reading (or its dead letter) is in the outbox

    def _outbox_failed(self, topic: str, exc: OutboxError) -> None:
        """The outbox cannot store: leave the uplink unacknowledged, say so, stop (exit 1)."""
        self.fault = f"outbox_failed: {exc}"
        self.counters["outbox_failed"] += 1
        log.critical(
            "the outbox cannot store the reading of an uplink on %s (%s); it stays "
            "unacknowledged at the source broker. Stopping: free the disk under %s and start again",
            topic,
            exc,
            self.settings.outbox_path,
        )
        status = NodeStatus(
            ts=utcnow(),
            site=self.settings.site,
            node=self.node,
            online=False,
            version=__version__,
            fault=self.fault[:MAX_TEXT],
        )
        self.client.publish(self.topics.for_message(status), status.to_json(), qos=1, retain=True)

    # ---- connections and lifecycle -----------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("broker refused the connection: %s", rc)
            return
        client.subscribe(self.topics.of(ContainerRegistry), qos=1)
        announce(client, self.topics, self.node)
        self.publisher.on_connect()
        log.info("connected; %d message(s) waiting in the outbox", len(self.outbox))

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self.publisher.on_disconnect()
        if not self.stop_event.is_set():
            log.warning("broker connection lost (%s); readings wait in the outbox", rc)

    def _on_source_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("source broker refused the connection: %s", rc)
            return
        filters = self.settings.source_filters()
        client.subscribe([(f, 1) for f in filters])
        log.info("taking uplinks from %s", ", ".join(filters))

    def start(self) -> None:
        """Connect to the project broker, wait (bounded) for a registry, then take uplinks."""
        connect_async(self.client, self.settings.mqtt_url)
        self.publisher.start()
        wait = self.settings.sensors_registry_wait_seconds
        deadline = time.monotonic() + wait
        while not self.registry_ready.is_set() and time.monotonic() < deadline:
            if self.stop_event.wait(0.05):
                return
        if not self.registry_ready.is_set():
            log.warning("no registry after %.0f s; unknown devices are dead-lettered", wait)
        connect_async(self.source, self.settings.source_url)

    def stop(self) -> None:
        """Stop taking uplinks, send what the outbox holds, disconnect."""
        self.stop_event.set()
        self.source.disconnect()
        self.source.loop_stop()
        self.publisher.drain(2.0)
        self.publisher.stop()
        self.client.disconnect()
        self.client.loop_stop()
        self.outbox.close()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a file so a power cut leaves the old or the new content, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


DESCRIPTION = """\
Take ChirpStack v4, The Things Stack v3 and native uplinks from the network server's broker,
map devices to containers with the retained registry, decode the device bytes and publish
readings through a durable outbox.

sensor models:
{models}
"""


def build_parser() -> argparse.ArgumentParser:
    """The options of `landfill edge sensors`, from `EdgeSensorsSettings`."""
    models = textwrap.fill(", ".join(f"{m.vendor} {m.name}" for m in MODELS), 76)
    parser = command_parser("edge sensors", DESCRIPTION.format(models=models))
    add_options(parser, EdgeSensorsSettings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill edge sensors`: take uplinks until interrupted."""
    settings = build(EdgeSensorsSettings, build_parser().parse_args(argv))
    setup_logging(settings.log_level)
    return run(settings)


def run(settings: EdgeSensorsSettings) -> int:
    """Run the sensor edge until interrupted."""
    service = SensorService(settings)
    starter = threading.Thread(target=service.start, name="start", daemon=True)
    starter.start()
    wait_for_signal(done=lambda: service.fault is not None)
    log.info("stopping; counters %s", json.dumps(dict(service.counters)))
    service.stop()
    if service.fault is not None:
        log.critical("stopped: %s", service.fault)
        return 1
    return 0
