"""`landfill edge scale`: read one indicator, detect stable weights, publish through the outbox.

Faults it survives: a port that is missing at start or disappears (reopened with backoff,
"no data" event), garbage and bad checksums (counted, never captured), a broker that is down
(captures wait in the SQLite outbox and go out in order when it is back).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from edge.outbox import Outbox, OutboxPublisher
from edge.scale.buffer import FrameStream
from edge.scale.frames import Reading, SerialSettings
from edge.scale.protocols import get_protocol
from edge.scale.reader import PortError, SerialPort
from edge.scale.weighing import Captured, Event, WeighingTracker, round_to_division
from landfill.contract import Capture, LiveWeight, ScaleEvent, Topics, stable_id, utcnow
from landfill.lifecycle import wait_for_signal
from landfill.mqtt import announce, connect_async, make_client
from landfill.settings import EdgeScaleSettings

log = logging.getLogger("landfill.edge.scale")

LIVE_INTERVAL_S = 0.25  # at most four live weights a second


class ScaleService:
    """Glue between the serial port, the weighing state machine and the outbox."""

    def __init__(
        self,
        settings: EdgeScaleSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.protocol = get_protocol(settings.scale_protocol)()
        self.stream = FrameStream(self.protocol)
        self.tracker = WeighingTracker(
            division_kg=settings.division_kg,
            min_weight_kg=settings.min_weight_kg,
            stable_seconds=settings.stable_seconds,
            zero_band_kg=settings.zero_band_kg,
        )
        self.topics = Topics(settings.site)
        self.node = f"edge-scale-{settings.scale}"
        self.client = make_client(settings.mqtt_url, self.node, will=(self.topics, self.node))
        self.outbox = Outbox(settings.outbox_path)
        self.publisher = OutboxPublisher(self.outbox, self.client, self.topics)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.stop_event = threading.Event()
        self._last_live = 0.0
        self._last_live_value: tuple[int, bool] | None = None
        self._last_data = clock()
        self._no_data = False
        self.captures = 0

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("broker refused the connection: %s", rc)
            return
        log.info("connected to broker; %d message(s) waiting in the outbox", len(self.outbox))
        announce(client, self.topics, self.node)
        self.publisher.on_connect()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self.publisher.on_disconnect()
        if not self.stop_event.is_set():
            log.warning("broker connection lost (%s); captures wait in the outbox", rc)

    def handle(self, reading: Reading) -> None:
        """Process one reading: live weight, state machine, captures and events."""
        now = self.clock()
        self._last_data = now
        if self._no_data:
            self._no_data = False
            self._event(Event("data_resumed", None, "indicator is sending again"))
        kg = round_to_division(reading.weight_kg, self.settings.division_kg)
        self._live(kg, reading, now)
        for out in self.tracker.observe(reading, now):
            if isinstance(out, Captured):
                self._capture(out)
            else:
                self._event(out)

    def _live(self, kg: int, reading: Reading, now: float) -> None:
        stable = self.tracker.state.value == "captured" or bool(reading.stable)
        value = (kg, stable)
        if value == self._last_live_value or now - self._last_live < LIVE_INTERVAL_S:
            return
        self._last_live, self._last_live_value = now, value
        msg = LiveWeight(
            ts=utcnow(),
            site=self.settings.site,
            scale=self.settings.scale,
            weight_kg=kg,
            stable=stable,
            overload=reading.overload,
        )
        self.client.publish(self.topics.weight(self.settings.scale), msg.to_json(), 0, True)

    def _capture(self, c: Captured) -> None:
        ts = utcnow()
        msg = Capture(
            id=stable_id(self.settings.site, self.settings.scale, ts.isoformat(), c.weight_kg),
            ts=ts,
            site=self.settings.site,
            scale=self.settings.scale,
            weight_kg=c.weight_kg,
            division_kg=self.settings.division_kg,
            stable_ms=c.stable_ms,
            protocol=self.protocol.name,
            stable_source=c.stable_source,
            raw=[r.hex() for r in c.raw],
        )
        self.publisher.submit(msg)
        self.captures += 1
        log.info("capture %s: %d kg (stable %d ms)", msg.id[:8], c.weight_kg, c.stable_ms)

    def _event(self, e: Event) -> None:
        ts = utcnow()
        msg = ScaleEvent(
            id=stable_id(self.settings.site, self.settings.scale, ts.isoformat(), e.event),
            ts=ts,
            site=self.settings.site,
            scale=self.settings.scale,
            event=e.event,
            weight_kg=e.weight_kg,
            detail=e.detail,
        )
        self.publisher.submit(msg)
        log.info("scale event %s %s", e.event, e.detail)

    def check_no_data(self) -> None:
        """Raise a "no data" event once when the indicator has been silent too long."""
        if not self._no_data and self.clock() - self._last_data > self.settings.no_data_seconds:
            self._no_data = True
            self._event(
                Event("no_data", None, f"no frame for {self.settings.no_data_seconds:.0f} s")
            )

    def _open(self) -> SerialPort | None:
        s = self.protocol.serial
        if self.settings.scale_baudrate:
            s = SerialSettings(self.settings.scale_baudrate, s.bytesize, s.parity, s.stopbits)
        try:
            return SerialPort(self.settings.scale_port, s)
        except PortError as exc:
            log.warning("%s; retrying", exc)
            return None

    def run(self) -> None:
        """Read until stopped; reopen the port when it goes away."""
        connect_async(self.client, self.settings.mqtt_url)
        self.publisher.start()
        port: SerialPort | None = None
        poll = self.protocol.poll
        last_poll = 0.0
        try:
            while not self.stop_event.is_set():
                if port is None:
                    port = self._open()
                    if port is None:
                        self.check_no_data()
                        self.stop_event.wait(1.0)
                        continue
                    log.info("reading %s (%s)", self.settings.scale_port, self.protocol.name)
                try:
                    if poll is not None and self.clock() - last_poll >= 0.1:
                        port.write(poll)
                        last_poll = self.clock()
                    data = port.read()
                except PortError as exc:
                    log.warning("%s; reopening", exc)
                    port.close()
                    port = None
                    continue
                for reading in self.stream.feed(data):
                    self.handle(reading)
                self.check_no_data()
        finally:
            if port is not None:
                port.close()
            self.publisher.drain(2.0)
            self.publisher.stop()
            self.client.disconnect()
            self.client.loop_stop()
            self.outbox.close()


def main(settings: EdgeScaleSettings) -> int:
    """Run the scale edge until interrupted."""
    if not settings.scale_port:
        raise SystemExit("no scale port: pass --port or set LANDFILL_SCALE_PORT")
    service = ScaleService(settings)
    worker = threading.Thread(target=service.run, name="scale")
    worker.start()
    wait_for_signal(done=lambda: not worker.is_alive())
    service.stop_event.set()
    worker.join(15)
    return 0
