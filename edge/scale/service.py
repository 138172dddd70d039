"""`landfill edge scale`: read one indicator, detect stable weights, publish through the outbox.

Faults it survives: a port that is missing at start or disappears (reopened with backoff,
"no data" event, logged once per outage), garbage and bad checksums (counted by reason,
logged once per reason until a clean period, published as a periodic `bad_frames` event,
never captured), a broker that is down (captures wait in the SQLite outbox and go out in
order when it is back), a crash or power cut (the outbox is on disk; same ids on resend), a
broker that loses a capture it acknowledged (the capture stays in the outbox until ingest's
receipt says it is stored, and goes again without one), a full or read-only disk (every
weight is logged before anything else; a capture the outbox cannot store is sent directly,
an `outbox_failed` event and a node status with the fault go out, and the process exits 1),
a restart while a captured truck still stands on the platform (the captured load is kept in
the outbox's database with the capture, in one transaction, and resumed at start: the same
truck is not captured again under a new id).

Polled protocols (A9 command mode, SMA, MT-SICS, Tenso-M) get their poll every
`scale_poll_seconds`; streaming ones are only read.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from edge.outbox import Outbox, OutboxError, OutboxPublisher
from edge.scale.reader import PortError, SerialPort
from edge.scale.weighing import Captured, Event, State, WeighingTracker, round_to_division
from landfill import __version__
from landfill.contract import (
    MAX_TEXT,
    MAX_WEIGHT_KG,
    Capture,
    LiveWeight,
    Message,
    NodeStatus,
    PayloadError,
    Receipt,
    ScaleEvent,
    Topics,
    capture_id,
    decode,
    kind_of,
    stable_id,
    utcnow,
    whole_ms,
)
from landfill.lifecycle import setup_logging, wait_for_signal
from landfill.mqtt import announce, connect_async, make_client
from landfill.options import add_options, build, command_parser
from landfill.scale.buffer import FrameStream
from landfill.scale.frames import Reading, SerialSettings
from landfill.scale.protocols import describe, make_protocol
from landfill.settings import EdgeScaleSettings

log = logging.getLogger("landfill.edge.scale")

REOPEN_MIN_S, REOPEN_MAX_S = 0.2, 2.0


def serial_settings(settings: EdgeScaleSettings, default: SerialSettings) -> SerialSettings:
    """The protocol's line settings with any override from settings/CLI applied."""
    return SerialSettings(
        baudrate=settings.scale_baudrate or default.baudrate,
        bytesize=settings.scale_bytesize or default.bytesize,
        parity=settings.scale_parity or default.parity,
        stopbits=settings.scale_stopbits or default.stopbits,
    )


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
        self.protocol = make_protocol(settings.scale_protocol, settings.scale_options)
        self.serial = serial_settings(settings, self.protocol.serial)
        self.stream = FrameStream(self.protocol)
        self.tracker = WeighingTracker(
            division_kg=settings.division_kg,
            min_weight_kg=settings.min_weight_kg,
            stable_seconds=settings.stable_seconds,
            zero_band_kg=settings.zero_band_kg,
            max_gap_s=settings.scale_max_gap_seconds,
        )
        self.topics = Topics(settings.site)
        self.node = f"edge-scale-{settings.scale}"
        self.client = make_client(settings.mqtt_url, self.node, will=(self.topics, self.node))
        self.outbox = Outbox(settings.outbox_path)
        self.publisher = OutboxPublisher(
            self.outbox,
            self.client,
            self.topics,
            receipts={"capture"},
            receipt_seconds=settings.scale_receipt_seconds,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_receipt
        self.stop_event = threading.Event()
        self.fault: str | None = None  # set when the process cannot go on (exit 1)
        self._last_live = -1e9
        self._last_kg: int | None = None
        self._sent_live: tuple[int, bool, bool] | None = None
        self._pending_live: tuple[tuple[int, bool, bool], LiveWeight] | None = None
        self._last_data = clock()
        self._no_data = False
        self._reported_bad: Counter[str] = Counter()
        self._logged_bad: set[str] = set()
        self._last_bad_report = clock()
        self.captures = 0
        self._held_key = f"held:{settings.scale}"
        self._held_saved: int | None = None
        self._resume_held()

    # ---- broker ----------------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("broker refused the connection: %s", rc)
            return
        log.info("connected to broker; %d message(s) waiting in the outbox", len(self.outbox))
        self.publisher.on_connect()  # first: drops paho's stale queue before we publish more
        client.subscribe(self.topics.of(Receipt, scale=self.settings.scale), qos=1)
        announce(client, self.topics, self.node)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self.publisher.on_disconnect()
        if not self.stop_event.is_set():
            log.warning("broker connection lost (%s); captures wait in the outbox", rc)

    def _on_receipt(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            receipt = decode(msg.topic, bytes(msg.payload))
        except PayloadError as exc:
            log.warning("receipt on %s refused: %s", msg.topic, exc)
            return
        if isinstance(receipt, Receipt) and (gone := self.publisher.on_receipt(receipt)):
            log.info("ingest stored %d capture(s); they leave the outbox", gone)

    # ---- the captured load, across restarts ------------------------------------------------

    def _resume_held(self) -> None:
        """Resume a load captured before a restart, if it is recent enough to still be there."""
        text = self.outbox.state(self._held_key)
        if text is None:
            return
        try:
            held = json.loads(text)
            kg, capture_id = int(held["kg"]), str(held["capture"])
            at = datetime.fromisoformat(held["at"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable held load in the outbox: %r", text[:200])
            return
        age = utcnow() - at
        if age > timedelta(minutes=self.settings.scale_resume_minutes):
            log.info("a load of %d kg held %s ago is too old to resume", kg, age)
            return
        self.tracker.resume(kg)
        self._held_saved = kg
        log.info(
            "a load of %d kg captured before the restart (%s) may still be on the platform: "
            "it is not captured again while the weight stays",
            kg,
            capture_id,
        )

    @staticmethod
    def _held_value(kg: int, capture_id: str) -> str:
        return json.dumps({"kg": kg, "capture": capture_id, "at": utcnow().isoformat()})

    def _sync_held(self) -> None:
        """Store the captured load when it changed without a capture (left, or uncapturable)."""
        held = self.tracker.held_kg
        if held == self._held_saved:
            return
        value = None if held is None else self._held_value(held, "")
        try:
            self.outbox.set_state(self._held_key, value)
        except OutboxError as exc:  # a restart may then wait for the load to change: say so
            log.error("cannot store the weighing state (%s); a restart may miss one truck", exc)
            return
        self._held_saved = held

    # ---- readings --------------------------------------------------------------------------

    def handle(self, reading: Reading) -> None:
        """Process one reading: live weight, state machine, captures and events."""
        now = self.clock()
        self._last_data = now
        if self._no_data:
            self._no_data = False
            log.info("indicator is sending again")
            self._event(Event("data_resumed", None, "indicator is sending again"))
        kg = round_to_division(reading.weight_kg, self.settings.division_kg)
        for out in self.tracker.observe(reading, now):
            if isinstance(out, Captured):
                self._capture(out)
            else:
                self._event(out)
        self._sync_held()
        self._live(kg, reading, now)

    def _live(self, kg: int, reading: Reading, now: float) -> None:
        """Queue a live weight when it changed; send at most one per `scale_live_seconds`."""
        # stable as the tracker sees the load; with no load (or one leaving), as the indicator
        # does, or two readings in a row within one division: an empty platform is steady too
        steady = self._last_kg is not None and abs(kg - self._last_kg) <= self.settings.division_kg
        self._last_kg = kg
        stable = self.tracker.state in (State.STABLE, State.CAPTURED) or bool(reading.stable)
        if self.tracker.state in (State.EMPTY, State.LEAVING) and reading.stable is None:
            stable = stable or steady
        overload = reading.overload or reading.underload or abs(kg) > MAX_WEIGHT_KG
        kg = max(-MAX_WEIGHT_KG, min(MAX_WEIGHT_KG, kg))  # beyond any truck: overload, clamped
        value = (kg, stable, overload)
        if value == self._sent_live:
            self._pending_live = None
            return
        msg = LiveWeight(
            ts=utcnow(),
            site=self.settings.site,
            scale=self.settings.scale,
            weight_kg=kg,
            stable=stable,
            overload=overload,
        )
        self._pending_live = (value, msg)
        self.flush_live(now)

    def flush_live(self, now: float) -> None:
        """Send the latest changed live weight if the rate limit allows (QoS 0, retained)."""
        if self._pending_live is None or now - self._last_live < self.settings.scale_live_seconds:
            return
        (self._sent_live, msg), self._pending_live = self._pending_live, None
        self._last_live = now
        # live weight is not worth the outbox: a stale weight after an outage is wrong
        kind = kind_of(msg)
        self.client.publish(self.topics.for_message(msg), msg.to_json(), kind.qos, kind.retained)

    def _capture(self, c: Captured) -> None:
        ts = whole_ms(utcnow())  # a capture's time is to the millisecond, as it is stored
        cid = capture_id(self.settings.site, self.settings.scale, ts, c.weight_kg)
        # before anything that can fail: whatever happens next, the weight is on record
        log.info(
            "weighed %d kg on scale %s at %s, id %s",
            c.weight_kg,
            self.settings.scale,
            ts.isoformat(),
            cid,
        )
        try:
            msg = Capture(
                id=cid,
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
        except ValidationError as exc:  # outside the contract's range: no capture, say why
            log.error("weight %d kg is not a valid capture: %s", c.weight_kg, exc.errors()[0])
            self._event(Event("overload", None, f"stable {c.weight_kg} kg outside the contract"))
            return
        if self._submit(msg, state=(self._held_key, self._held_value(c.weight_kg, msg.id))):
            self._held_saved = c.weight_kg
            self.captures += 1
            log.info(
                "capture %s: %d kg (stable %d ms) in the outbox", msg.id, c.weight_kg, c.stable_ms
            )

    def _event(self, e: Event) -> None:
        ts = utcnow()
        weight = (
            e.weight_kg if e.weight_kg is not None and abs(e.weight_kg) <= MAX_WEIGHT_KG else None
        )
        msg = ScaleEvent(
            id=stable_id(self.settings.site, self.settings.scale, ts.isoformat(), e.event),
            ts=ts,
            site=self.settings.site,
            scale=self.settings.scale,
            event=e.event,
            weight_kg=weight,
            detail=e.detail[:MAX_TEXT],
        )
        log.info("scale event %s %s", e.event, e.detail)
        self._submit(msg)

    def _submit(self, msg: Message, state: tuple[str, str | None] | None = None) -> bool:
        """Commit a message (and ``state``) to the outbox; on a storage fault, fall back, stop."""
        try:
            self.publisher.submit(msg, state)
        except OutboxError as exc:
            self._outbox_failed(msg, exc)
            return False
        return True

    def _outbox_failed(self, msg: Message, exc: OutboxError) -> None:
        """The outbox cannot store (disk full, read-only): send directly, say so, stop (exit 1).

        A direct QoS 1 publish is not durable, but it is the best left: the broker usually
        has it and ingest stores it. The operator sees an `outbox_failed` scale event and the
        node's retained status with the fault; the supervisor sees exit code 1.
        """
        self.fault = f"outbox_failed: {exc}"
        log.critical(
            "the outbox cannot store %s %s (%s); sent directly, not durably. Stopping: "
            "free the disk under %s and start again",
            msg.kind,  # type: ignore[attr-defined]
            msg.id,
            exc,
            self.settings.outbox_path,
        )
        now = utcnow()
        weight = msg.weight_kg if isinstance(msg, Capture) else None
        alarm = ScaleEvent(
            ts=now,
            site=self.settings.site,
            scale=self.settings.scale,
            event="outbox_failed",
            weight_kg=weight,
            detail=f"{msg.kind} {msg.id}: {exc}"[:MAX_TEXT],  # type: ignore[attr-defined]
        )
        status = NodeStatus(
            ts=now,
            site=self.settings.site,
            node=self.node,
            online=False,
            version=__version__,
            fault=self.fault[:MAX_TEXT],
        )
        infos = [
            self.client.publish(
                self.topics.for_message(m),
                m.to_json(),
                qos=1,
                retain=kind_of(m).retained,
            )
            for m in (msg, alarm, status)
        ]
        deadline = time.monotonic() + 5.0
        for info in infos:
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
        self.stop_event.set()

    # ---- periodic checks -------------------------------------------------------------------

    def check_no_data(self) -> None:
        """Raise a "no data" event once when the indicator has been silent too long."""
        if not self._no_data and self.clock() - self._last_data > self.settings.no_data_seconds:
            self._no_data = True
            log.warning("no frame from the indicator for %.1f s", self.settings.no_data_seconds)
            self._event(Event("no_data", None, f"no frame for {self.settings.no_data_seconds:g} s"))
            for out in self.tracker.data_lost():
                if isinstance(out, Event):
                    self._event(out)

    def check_bad_frames(self, force: bool = False) -> None:
        """Log a new bad-frame reason once; publish counts every `scale_bad_frames_seconds`."""
        bad = self.stream.bad
        for reason in bad.keys() - self._logged_bad:
            self._logged_bad.add(reason)
            log.warning(
                "bad frames from the indicator: %s (counted, reported periodically)", reason
            )
        now = self.clock()
        if not force and now - self._last_bad_report < self.settings.scale_bad_frames_seconds:
            return
        self._last_bad_report = now
        grown = Counter({k: v - self._reported_bad[k] for k, v in bad.items()})
        grown = +grown
        if not grown:
            self._logged_bad.clear()  # a clean period: log the next occurrence again
            return
        self._reported_bad = Counter(bad)
        detail = " ".join(f"{k}={v}" for k, v in sorted(grown.items()))
        self._event(Event("bad_frames", None, f"{detail} (good frames {self.stream.frames})"))

    # ---- main loop -------------------------------------------------------------------------

    def _open(self, quiet: bool) -> SerialPort | None:
        try:
            port = SerialPort(self.settings.scale_port, self.serial)
        except PortError as exc:
            if not quiet:
                log.warning("%s; retrying until it is back", exc)
            return None
        log.info(
            "reading %s (%s, %d %d%s%d)",
            self.settings.scale_port,
            self.protocol.name,
            self.serial.baudrate,
            self.serial.bytesize,
            self.serial.parity,
            self.serial.stopbits,
        )
        return port

    def _tick(self) -> None:
        self.check_no_data()
        self.check_bad_frames()
        self.flush_live(self.clock())

    def run(self) -> None:
        """Read until stopped; a fault that ends the loop is kept in `fault` (exit 1)."""
        try:
            self._read()
        except Exception as exc:  # the thread never ends silently: main sees the fault
            log.exception("the scale loop failed")
            self.fault = self.fault or f"crashed: {exc!r}"

    def _read(self) -> None:
        """Read until stopped; reopen the port with backoff when it goes away."""
        connect_async(self.client, self.settings.mqtt_url)
        self.publisher.start()
        port: SerialPort | None = None
        poll = self.protocol.poll
        last_poll = -1e9
        backoff = REOPEN_MIN_S
        outage = False
        try:
            while not self.stop_event.is_set():
                if port is None:
                    port = self._open(quiet=outage)
                    if port is None:
                        outage = True
                        self._tick()
                        self.stop_event.wait(backoff)
                        backoff = min(backoff * 2, REOPEN_MAX_S)
                        continue
                    outage, backoff = False, REOPEN_MIN_S
                    self.stream.buffer = b""  # half a frame from the old link is garbage
                try:
                    if (
                        poll is not None
                        and self.clock() - last_poll >= self.settings.scale_poll_seconds
                    ):
                        last_poll = self.clock()
                        port.write(poll)
                    data = port.read()
                except PortError as exc:
                    log.warning("%s; reopening", exc)
                    outage = True
                    port.close()
                    port = None
                    continue
                if data:
                    for reading in self.stream.feed(data):
                        self.handle(reading)
                self._tick()
        finally:
            if port is not None:
                port.close()
            if self.fault is None:
                self.check_bad_frames(force=True)
            if not self.publisher.drain(2.0):
                log.info(
                    "%d message(s) stay in the outbox (%d sent, waiting for ingest's receipt); "
                    "they go again at the next start",
                    len(self.outbox),
                    self.outbox.awaiting_receipt(),
                )
            self.publisher.stop()
            self.client.disconnect()
            self.client.loop_stop()
            self.outbox.close()


DESCRIPTION = """\
Read a truck-scale indicator over RS-232, detect stable weights and publish captures through
a durable outbox.

protocols (--protocol), what they read, and their --options key=value,...:
"""


def build_parser() -> argparse.ArgumentParser:
    """The options of `landfill edge scale`, from `EdgeScaleSettings`."""
    parser = command_parser("edge scale", DESCRIPTION + describe())
    add_options(parser, EdgeScaleSettings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill edge scale`: read the indicator until interrupted."""
    settings = build(EdgeScaleSettings, build_parser().parse_args(argv))
    setup_logging(settings.log_level)
    return run(settings)


def run(settings: EdgeScaleSettings) -> int:
    """Run the scale edge until interrupted."""
    if not settings.scale_port:
        raise SystemExit("no scale port: pass --port or set LANDFILL_SCALE_PORT")
    service = ScaleService(settings)
    worker = threading.Thread(target=service.run, name="scale")
    worker.start()
    signalled = wait_for_signal(done=lambda: not worker.is_alive())
    service.stop_event.set()
    worker.join(15)
    if service.fault is None and signalled is None:
        service.fault = "the scale loop ended without being asked to"
    if service.fault is not None:
        log.critical("stopped: %s", service.fault)
        return 1
    return 0
