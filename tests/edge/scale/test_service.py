"""The real edge service through a real pty or TCP link against a real mosquitto.

Every protocol: a load that rolls across gives no capture (and a left_before_capture event),
a scripted truck gives exactly one capture with the right weight, checked on the broker.
Also: reconnect after the link disappears, bad-frame reports, protocol options.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from deploy import stack
from edge.scale.service import ScaleService
from edge.scale.simulator import (
    SCENARIOS,
    PtyLink,
    Simulator,
    TcpLink,
    Truck,
    idle,
    moving_load,
    scenario,
    truck_weights,
)
from edge.scale.simulator import main as simulator_main
from edge.scale.weighing import State
from landfill.scale.frames import Reading
from landfill.scale.protocols import PROTOCOLS, make_protocol
from landfill.settings import EdgeScaleSettings
from tests.conftest import wait_for

pytestmark = pytest.mark.integration

RATE = 40.0
GROSS = 14_560


def settings(site: str, broker: stack.Server, port: str, tmp: Path, **kw: Any) -> EdgeScaleSettings:
    return EdgeScaleSettings(
        _env_file=None,  # type: ignore[call-arg]
        site=site,
        mqtt_url=broker.url,
        scale_port=port,
        outbox_path=tmp / "outbox.sqlite",
        stable_seconds=0.8,
        scale_poll_seconds=0.02,
        no_data_seconds=1.0,
        **kw,
    )


class Running:
    """A simulator and an edge service, each in a thread, stopped at the end."""

    def __init__(self) -> None:
        self.threads: list[tuple[Any, threading.Thread]] = []

    def start(self, thing: Any) -> Any:
        t = threading.Thread(target=thing.run, daemon=True)
        t.start()
        self.threads.append((thing, t))
        return thing

    def stop(self) -> None:
        for thing, t in reversed(self.threads):
            thing.stop_event.set()
            t.join(10)


@pytest.fixture
def running() -> Iterator[Running]:
    r = Running()
    yield r
    r.stop()


def forever_idle() -> Iterator[Reading]:
    while True:
        yield from idle(1.0, RATE)


def drive_through_then_truck(rng: random.Random) -> Iterator[Reading]:
    yield from idle(0.3, RATE)
    yield from moving_load(GROSS + 2_000, 1.5, RATE)
    yield from idle(0.5, RATE)
    yield from truck_weights(Truck(GROSS, 0.3, 0.5, 1.6, 0.5), RATE, rng)
    yield from forever_idle()


def of_kind(got: Any, kind: str) -> list[dict[str, Any]]:
    return [p for p in got.payloads() if p.get("kind") == kind]


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_every_protocol_moving_load_no_capture_truck_one_capture(
    name, broker, collect, site, tmp_path, running
):
    got = collect(f"landfill/v1/{site}/scale/#")
    link = PtyLink(tmp_path / "scale.tty")
    rng = random.Random(3)
    sim = Simulator(make_protocol(name), link, drive_through_then_truck(rng), RATE)
    service = ScaleService(
        settings(site, broker, str(tmp_path / "scale.tty"), tmp_path, scale_protocol=name)
    )
    running.start(service)
    running.start(sim)
    try:
        captures = wait_for(lambda: of_kind(got, "capture"), timeout=20, what="a capture")
        # the truck has left and the platform is empty again: nothing more can be captured
        wait_for(
            # (a capture the broker has stays in the outbox until ingest's receipt: none here)
            lambda: service.tracker.state is State.EMPTY and service.outbox.unsent() == 0,
            what="truck gone, everything in the outbox sent",
        )
        captures = of_kind(got, "capture")
        assert [c["weight_kg"] for c in captures] == [GROSS]
        c = captures[0]
        assert c["division_kg"] == 20
        assert c["protocol"] == name
        assert c["stable_ms"] >= 800
        expected_source = "indicator" if PROTOCOLS[name].has_stable_flag else "window"
        assert c["stable_source"] == expected_source
        assert c["raw"]
        assert all(bytes.fromhex(h) for h in c["raw"])
        events = [e["event"] for e in of_kind(got, "scale_event")]
        assert events.count("left_before_capture") == 1, events
        live = of_kind(got, "weight")
        assert live
        assert any(w["stable"] for w in live)
    finally:
        link.close()


def test_simulator_command_offers_every_scenario(capsys):
    with pytest.raises(SystemExit):
        simulator_main(["--help"])
    help_text = capsys.readouterr().out
    for name in SCENARIOS:
        assert f"  {name} " in help_text
        assert list(scenario(name, RATE, random.Random(1), trucks=1))
    with pytest.raises(SystemExit, match="unknown scenario"):
        simulator_main(["--scenario", "parade"])


def test_tcp_link_closed_and_reopened_reconnects_and_captures(
    broker, collect, site, tmp_path, running
):
    port = stack.free_port()
    got = collect(f"landfill/v1/{site}/scale/#")
    service = running.start(
        ScaleService(
            settings(site, broker, f"socket://127.0.0.1:{port}", tmp_path, scale_protocol="tenso-m")
        )
    )
    first = TcpLink(port)
    sim1 = running.start(Simulator(make_protocol("tenso-m"), first, forever_idle(), RATE))
    wait_for(lambda: service.stream.frames > 5, what="frames over the first connection")
    sim1.stop_event.set()
    first.close()  # the adapter disappears
    wait_for(lambda: "no_data" in [e["event"] for e in of_kind(got, "scale_event")], what="no_data")
    second = TcpLink(port)  # ... and comes back
    rng = random.Random(5)
    readings = iter([*truck_weights(Truck(9_000, 2.5, 0.5, 1.6, 0.5), RATE, rng)])
    running.start(Simulator(make_protocol("tenso-m"), second, [*readings, *idle(30, RATE)], RATE))
    try:
        wait_for(lambda: of_kind(got, "capture"), what="a capture after reconnecting")
        assert [c["weight_kg"] for c in of_kind(got, "capture")] == [9_000]
        events = [e["event"] for e in of_kind(got, "scale_event")]
        assert events.index("no_data") < events.index("data_resumed")
    finally:
        second.close()


def test_pty_removed_and_recreated_reconnects(broker, collect, site, tmp_path, running):
    tty = tmp_path / "ttyUSB0"
    got = collect(f"landfill/v1/{site}/scale/#")
    service = running.start(ScaleService(settings(site, broker, str(tty), tmp_path)))
    first = PtyLink(tty)
    sim1 = running.start(Simulator(make_protocol("yaohua-a9"), first, forever_idle(), RATE))
    wait_for(lambda: service.stream.frames > 5, what="frames over the first pty")
    sim1.stop_event.set()
    first.close()  # unplugged: the device node goes away
    wait_for(lambda: "no_data" in [e["event"] for e in of_kind(got, "scale_event")], what="no_data")
    second = PtyLink(tty)  # plugged back in (a new pty behind the same path)
    rng = random.Random(6)
    # the edge retries the path with a backoff of at most 2 s: the truck comes after that
    script = [*truck_weights(Truck(7_020, 2.5, 0.5, 1.6, 0.5), RATE, rng), *idle(30, RATE)]
    running.start(Simulator(make_protocol("yaohua-a9"), second, script, RATE))
    try:
        wait_for(lambda: of_kind(got, "capture"), what="a capture after the pty came back")
        assert [c["weight_kg"] for c in of_kind(got, "capture")] == [7_020]
        assert "data_resumed" in [e["event"] for e in of_kind(got, "scale_event")]
    finally:
        second.close()


def test_noise_and_bad_checksums_are_counted_and_reported_not_captured(
    broker, collect, site, tmp_path, running
):
    got = collect(f"landfill/v1/{site}/scale/#")
    link = PtyLink(tmp_path / "scale.tty")
    rng = random.Random(8)
    script = [*truck_weights(Truck(GROSS, 0.3, 0.5, 2.5, 0.5), RATE, rng), *idle(30, RATE)]
    sim = Simulator(
        make_protocol("yaohua-a9"), link, script, RATE, noise=0.2, bad=0.2, rng=random.Random(9)
    )
    service = ScaleService(
        settings(site, broker, str(tmp_path / "scale.tty"), tmp_path, scale_bad_frames_seconds=0.5)
    )
    running.start(service)
    running.start(sim)
    try:
        report = wait_for(
            lambda: [e for e in of_kind(got, "scale_event") if e["event"] == "bad_frames"],
            what="a bad_frames report",
        )
        assert "checksum=" in report[0]["detail"] or "format=" in report[0]["detail"]
        wait_for(lambda: of_kind(got, "capture"), what="a capture despite the noise")
        wait_for(lambda: service.tracker.state is State.EMPTY, what="truck gone")
        assert [c["weight_kg"] for c in of_kind(got, "capture")] == [GROSS]
        assert sim.corrupted > 0
        assert service.stream.bad["checksum"] + service.stream.bad["format"] >= sim.corrupted // 2
    finally:
        link.close()


def test_polled_protocol_with_a_device_address(broker, collect, site, tmp_path, running):
    got = collect(f"landfill/v1/{site}/scale/#")
    link = PtyLink(tmp_path / "scale.tty")
    rng = random.Random(4)
    script = [*truck_weights(Truck(5_500, 0.3, 0.5, 1.6, 0.5), RATE, rng), *idle(30, RATE)]
    # the indicator answers only to address C; an edge polling A would see nothing
    sim = Simulator(make_protocol("yaohua-a9-poll", "address=C"), link, script, RATE)
    service = ScaleService(
        settings(
            site,
            broker,
            str(tmp_path / "scale.tty"),
            tmp_path,
            scale_protocol="yaohua-a9-poll",
            scale_options="address=C",
        )
    )
    running.start(service)
    running.start(sim)
    try:
        wait_for(lambda: of_kind(got, "capture"), what="a capture from address C")
        assert [c["weight_kg"] for c in of_kind(got, "capture")] == [5_500]
    finally:
        link.close()


def test_unknown_protocol_option_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="address"):
        make_protocol("yaohua-a9-poll", "adress=C")
    assert make_protocol("keli-eq", "reverse=true").reverse is True  # type: ignore[attr-defined]
    assert make_protocol("tenso-m", "address=7").poll is not None


def test_live_weight_is_sent_on_change_and_rate_limited(site, tmp_path, broker):
    service = ScaleService(settings(site, broker, "loop://", tmp_path, scale_live_seconds=0.25))
    sent: list[bytes] = []
    service.client.publish = lambda topic, payload, *a: sent.append(payload)  # type: ignore[assignment,method-assign]
    t = [0.0]
    service.clock = lambda: t[0]
    for kg in (1000, 1000, 2000, 3000):
        service.handle(Reading(Decimal(kg)))
        t[0] += 0.05
    assert len(sent) == 1  # 1000 at once; 2000 and 3000 fell inside the 0.25 s
    t[0] = 1.0
    service.flush_live(t[0])
    assert len(sent) == 2
    assert b'"weight_kg":3000' in sent[-1]
    service.flush_live(2.0)
    assert len(sent) == 2  # nothing changed: nothing sent
    service.outbox.close()


def test_an_empty_platform_at_rest_is_shown_stable(site, tmp_path, broker):
    # the operator console shows "stable" on an empty platform too, not only on a load
    service = ScaleService(settings(site, broker, "loop://", tmp_path, scale_live_seconds=0))
    sent: list[dict[str, Any]] = []
    service.client.publish = lambda topic, payload, *a: sent.append(json.loads(payload))  # type: ignore[assignment,method-assign]
    t = [0.0]
    service.clock = lambda: t[0]
    for kg in (0, 0, 5, 4000, 9000, 30, 0):
        service.handle(Reading(Decimal(kg)))  # no stable flag (A9): two alike in a row
        t[0] += 0.1
    assert [(w["weight_kg"], w["stable"]) for w in sent] == [
        (0, False),
        (0, True),
        (4000, False),  # a load comes: the tracker decides
        (9000, False),
        (40, False),
        (0, False),
    ]
    service.outbox.close()
