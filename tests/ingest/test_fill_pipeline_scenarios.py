"""Fill scenarios through real mosquitto, ingest and influxd: alerts on the retained topic and
in InfluxDB, raised once, cleared when they should be; the offline timer on an injected clock."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from ingest.fill.processor import FillRuntime, start_fill
from ingest.service import Ingest
from landfill.contract import (
    ContainerAlert,
    ContainerReading,
    ContainerRegistry,
    NodeStatus,
    Topics,
)
from landfill.settings import IngestSettings
from tests.conftest import publish, wait_for
from tests.ingest.test_fill_pipeline import T0, reading, registry

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline(broker, influx, site, tmp_path, collect):
    """Ingest on this test's site with the registry retained; yields a small driver."""
    made: list[tuple[Ingest, FillRuntime]] = []

    class Pipeline:
        topics = Topics(site)
        alerts = collect(f"landfill/v1/{site}/container/+/alert/+")
        events = collect(f"landfill/v1/{site}/container/+/event")
        dead = collect(f"landfill/v1/{site}/deadletter")

        def __init__(self) -> None:
            reg = registry(site=site)
            publish(broker.url, self.topics.of(ContainerRegistry), reg.to_json(), retain=True)
            self.ingest = self.start()

        def start(self) -> Ingest:
            settings = IngestSettings(
                site=site,
                mqtt_url=broker.url,
                influx_url=influx.url,
                influx_db=influx.database,
                ingest_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
                ingest_flush_seconds=0.05,
                ingest_tick_seconds=0.05,
                fill_state_path=tmp_path / "fill-state.sqlite",
                time_ahead_seconds=86400,  # the clock stands at T0; readings go hours past it
            )
            self.fill = start_fill(settings)
            # time stands still unless a test moves it
            ingest = Ingest(settings, processors={"reading": self.fill.processor}, clock=lambda: T0)
            status = collect(self.topics.of(NodeStatus, node=settings.ingest_client_id))
            ingest.start()
            # ingest announces itself after subscribing: from then on nothing published is lost
            wait_for(lambda: any(p["online"] for p in status.payloads()), what="ingest online")
            wait_for(lambda: self.fill.processor.containers(site), what="registry in ingest")
            made.append((ingest, self.fill))
            return ingest

        def stop(self) -> None:
            self.ingest.stop()
            self.fill.close()

        def send(self, minute: int, pct: float | None, **kw) -> None:
            r = reading(minute, pct, site=site, **kw)
            publish(
                broker.url, self.topics.of(ContainerReading, container=r.container), r.to_json()
            )

        def transitions(self) -> list[tuple[str, str]]:
            """Alert transitions seen, once per id (a replay after a restart has the same id)."""
            seen = {a["id"]: (a["alert"], a["transition"]) for a in self.alerts.payloads()}
            return list(seen.values())

        def rows(self, q: str) -> list[dict]:
            return influx.rows(q, {"site": site})

        def alert_rows(self) -> list[tuple[str, str, bool]]:
            rows = self.rows(
                "SELECT kind, transition, active FROM container_alert WHERE site = $site"
            )
            return [(r["kind"], r["transition"], r["active"]) for r in rows]

        def retained(self, kind: str) -> dict:
            got = collect(self.topics.of(ContainerAlert, container="bin-01", alert=kind))
            return json.loads(wait_for(lambda: got.messages, what=f"retained {kind}")[0][1])

    p = Pipeline()
    yield p
    for ingest, fill in made:
        ingest.stop()
        fill.close()


def test_full_is_raised_once_and_cleared_after_emptying(pipeline) -> None:
    levels = [50, 60, 85, 86, 88, 90, 92, 95]
    for i, pct in enumerate(levels):
        pipeline.send(10 * i, pct)
    fill = wait_for(
        lambda: len(r := pipeline.rows("SELECT * FROM fill WHERE site = $site")) == 8 and r,
        what="eight fill points",
    )
    assert [round(r["fill_pct"]) for r in fill] == levels
    assert {r["zone"] for r in fill} == {"dostuk"}
    wait_for(lambda: pipeline.alert_rows() and pipeline.transitions(), what="alert")
    assert pipeline.transitions() == [("full", "raised")], "once, not on every reading"
    retained = pipeline.retained("full")
    assert (retained["active"], retained["transition"]) == (True, "raised")

    pipeline.send(80, 3)  # the truck came
    pipeline.send(90, 4)  # confirmed low
    wait_for(lambda: len(pipeline.transitions()) == 2, what="full cleared")
    assert pipeline.transitions() == [("full", "raised"), ("full", "cleared")]
    assert pipeline.retained("full")["active"] is False
    wait_for(lambda: len(pipeline.alert_rows()) == 2, what="clear in InfluxDB")
    assert pipeline.alert_rows() == [("full", "raised", True), ("full", "cleared", False)]
    [event] = wait_for(lambda: pipeline.rows("SELECT * FROM container_event WHERE site = $site"))
    assert (event["kind"], event["before_pct"], event["after_pct"]) == (
        "emptying",
        92,
        3,
    )  # median of 90, 92, 95
    assert [e["event"] for e in pipeline.events.payloads()] == ["emptying"]


def test_silent_sensor_goes_offline_without_any_message(pipeline) -> None:
    pipeline.send(0, 40)
    wait_for(lambda: pipeline.rows("SELECT * FROM fill WHERE site = $site"), what="fill point")
    pipeline.ingest.clock = lambda: T0 + timedelta(seconds=1400)  # 600 s interval x 2.5 = 1500
    pipeline.send(-30, 40)  # an old reading changes nothing
    wait_for(lambda: pipeline.ingest.counters["received"] >= 2)
    assert ("offline", "raised") not in pipeline.transitions()
    pipeline.ingest.clock = lambda: T0 + timedelta(seconds=1600)
    wait_for(lambda: pipeline.transitions(), what="offline alert from the timer alone")
    assert pipeline.transitions() == [("offline", "raised")]
    retained = pipeline.retained("offline")
    assert (retained["severity"], retained["since"]) == ("major", "2026-11-24T02:00:00Z")
    wait_for(lambda: pipeline.alert_rows(), what="offline in InfluxDB")
    assert pipeline.alert_rows() == [("offline", "raised", True)]
    pipeline.send(30, 41)
    wait_for(lambda: len(pipeline.transitions()) == 2, what="offline cleared")
    assert pipeline.retained("offline")["active"] is False


def test_fire_alerts_on_the_first_hot_reading(pipeline) -> None:
    pipeline.send(0, 30, temp_c=71.5)
    wait_for(lambda: pipeline.transitions(), what="fire alert")
    assert pipeline.transitions() == [("fire", "raised")]
    retained = pipeline.retained("fire")
    assert (retained["severity"], retained["value"]) == ("critical", 71.5)
    wait_for(lambda: pipeline.alert_rows(), what="fire in InfluxDB")
    assert pipeline.alert_rows() == [("fire", "raised", True)]


def test_tilted_container_suppresses_fill_alerts(pipeline) -> None:
    for i in range(4):  # tipped over: the beam hits the ground, it looks "full"
        pipeline.send(10 * i, 95, tilt=True)
    fill = wait_for(
        lambda: len(r := pipeline.rows("SELECT * FROM fill WHERE site = $site")) == 4 and r
    )
    assert {r["quality"] for r in fill} == {"suspicious"}
    assert all(r["tilt"] is True and r.get("filtered_pct") is None for r in fill)
    wait_for(pipeline.transitions, what="tilt alert")  # published after the fill write
    assert pipeline.transitions() == [("tilt", "raised")]
    pipeline.send(40, 85, tilt=False)  # upright once: tilt still open, fill alerts held
    pipeline.send(50, 86, tilt=False)  # upright twice: tilt cleared, then full may rise
    wait_for(lambda: len(pipeline.transitions()) == 3, what="tilt cleared, full raised")
    assert pipeline.transitions() == [("tilt", "raised"), ("tilt", "cleared"), ("full", "raised")]


def test_restart_does_not_raise_open_alerts_again(pipeline) -> None:
    for i, pct in enumerate([85, 86, 88]):
        pipeline.send(10 * i, pct)
    wait_for(lambda: pipeline.transitions(), what="full raised")
    pipeline.stop()
    pipeline.ingest = pipeline.start()
    pipeline.send(30, 90)
    pipeline.send(40, 91)
    pipeline.send(50, 3)
    pipeline.send(60, 4)  # an emptying: its "cleared" comes after anything the 90s raised
    wait_for(lambda: ("full", "cleared") in pipeline.transitions(), what="full cleared")
    assert pipeline.transitions() == [("full", "raised"), ("full", "cleared")]


def test_reading_for_an_unregistered_container_is_dead_lettered(pipeline) -> None:
    pipeline.send(0, 50, name="bin-77")
    [letter] = wait_for(pipeline.dead.payloads, what="dead letter")
    assert letter["reason"] == "unknown_container"
    assert letter["topic"].endswith("/container/bin-77/reading")
