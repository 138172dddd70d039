"""Alert notifications: webhook and Telegram against a local stand-in server; texts in ky/ru/en."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from deploy.stack import free_port
from ingest.fill.processor import start_fill
from ingest.fill.texts import TRANSITIONS, alert_text, kind_word
from ingest.notify import Notifier
from ingest.service import Ingest
from landfill.contract import (
    AlertKind,
    ContainerAlert,
    ContainerReading,
    ContainerRegistry,
    NodeStatus,
    Topics,
)
from landfill.language import LANGUAGES
from landfill.settings import IngestSettings
from landfill.texts import catalogue
from tests.conftest import publish, wait_for
from tests.ingest.test_fill_pipeline import BISHKEK, SITE, T0, reading, registry, spec

SEVERITIES = get_args(ContainerAlert.model_fields["severity"].annotation)


class StandIn:
    """A local HTTP server that records JSON posts and answers with scripted status codes."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.statuses = list(statuses or [])
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append((self.path, json.loads(body)))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in():
    made: list[StandIn] = []

    def make(statuses: list[int] | None = None) -> StandIn:
        s = StandIn(statuses)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def alert(transition="raised", kind="fire", **kw) -> ContainerAlert:
    return ContainerAlert(
        id=kw.pop("id", uuid.uuid4().hex),
        ts=T0 + timedelta(minutes=30),
        site=SITE,
        container="bin-03",
        alert=kind,
        active=transition != "cleared",
        severity=kw.pop("severity", "critical"),
        transition=transition,
        since=T0,
        value=71.5,
        detail="temperature, 71.5 °C",
    )


@pytest.fixture
def notifier():
    made: list[Notifier] = []

    def make(**kw) -> Notifier:
        n = Notifier(tz=BISHKEK, retry_seconds=0.01, timeout_seconds=2, **kw)
        n.start()
        made.append(n)
        return n

    yield make
    for n in made:
        n.stop()


DOSTUK = {"ky": "Достук", "ru": "Достук", "en": "Dostuk"}  # landfill/i18n/settlements/


def test_texts_exist_for_every_language_kind_severity_and_transition() -> None:
    kinds = get_args(AlertKind)
    assert set(TRANSITIONS) == set(get_args(ContainerAlert.model_fields["transition"].annotation))
    for lang in LANGUAGES:
        for kind in kinds:
            for transition in TRANSITIONS:
                for severity in SEVERITIES:
                    text = alert_text(
                        alert(transition, kind, severity=severity), lang, "Dostuk", tz=BISHKEK
                    )
                    assert f"bin-03 ({DOSTUK[lang]})" in text
                    assert kind_word(lang, kind) in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_notification_names_the_alert_as_the_page_does(lang) -> None:
    """The phone and the dispatcher's page use one word per alert kind and severity."""
    page = catalogue(lang)
    for kind in get_args(AlertKind):
        label = page[f"kind.{kind}"].lower()
        for transition in TRANSITIONS:
            text = alert_text(alert(transition, kind), lang, tz=BISHKEK).lower()
            assert label in text, (lang, kind, transition, text)
            if transition in ("raised", "escalated"):
                assert f"({page['severity.critical'].lower()})" in text, (lang, text)


def test_times_in_texts_are_bishkek_local() -> None:
    assert alert_text(alert(), "ru", "Noshken", tz=BISHKEK) == (
        "⚠ bin-03 (Ношкен): пожар (критично), с 24.11.2026 08:00. temperature, 71.5 °C"
    )
    assert alert_text(alert(), "ky", tz=BISHKEK) == (
        "⚠ bin-03: өрт (өтө коркунучтуу), 24.11.2026 08:00 баштап. temperature, 71.5 °C"
    )
    assert "cleared at 24.11.2026 08:30" in alert_text(alert("cleared"), "en", tz=BISHKEK)


def test_a_notification_names_the_settlement_as_its_language_spells_it() -> None:
    """Registered "Bürgöndü" is Бургонду to a Russian reader, Бүргөндү to a Kyrgyz one; a name
    without a catalogue entry (landfill/i18n/settlements/) is sent as it was registered."""
    assert alert_text(alert(), "ru", "Bürgöndü", tz=BISHKEK).startswith("⚠ bin-03 (Бургонду):")
    assert alert_text(alert(), "ky", "Bürgöndü", tz=BISHKEK).startswith("⚠ bin-03 (Бүргөндү):")
    assert alert_text(alert(), "en", "Bürgöndü", tz=BISHKEK).startswith("⚠ bin-03 (Bürgöndü):")
    assert alert_text(alert(), "ru", "Jany-Aryk", tz=BISHKEK).startswith("⚠ bin-03 (Джаны-Арык):")
    for name in ("Settlement 12", "Кок-Жар"):
        assert alert_text(alert(), "ru", name, tz=BISHKEK).startswith(f"⚠ bin-03 ({name}):")
    n = Notifier.from_settings(
        IngestSettings(notify_language="ru", notify_webhook_url="http://127.0.0.1:9/hook")
    )
    try:
        [(_, _, body)] = n.targets(alert(), "Bürgöndü")
    finally:
        n.stop()
    assert "(Бургонду)" in body["text"]
    assert body["settlement"] == "Bürgöndü", "the webhook's data field keeps the registered name"


def test_times_follow_the_time_zone_setting() -> None:
    assert "cleared at 24.11.2026 05:30" in alert_text(
        alert("cleared"), "en", tz=ZoneInfo("Europe/Moscow")
    )
    n = Notifier.from_settings(
        IngestSettings(timezone="Europe/Moscow", notify_webhook_url="http://127.0.0.1:9/hook")
    )
    try:
        [(_, _, body)] = n.targets(alert(), "Dostuk")
    finally:
        n.stop()
    assert (body["since_local"], body["timezone"]) == ("24.11.2026 05:00", "Europe/Moscow")
    assert "с 24.11.2026 05:00" in body["text"]
    with pytest.raises(ValueError, match="IANA time zone"):
        IngestSettings(timezone="Asia/Nowhere")


def test_webhook_and_telegram_receive_the_alert(stand_in, notifier) -> None:
    hook, bot = stand_in(), stand_in()
    n = notifier(
        webhook_url=f"{hook.url}/hooks/alerts",
        telegram_token="123:abc",
        telegram_chat_id="-100200",
        telegram_api=bot.url,
        language="ky",
    )
    a = alert()
    n.submit(a, spec("bin-03", settlement="Kyzyl-Tuu"))
    [(path, body)] = wait_for(lambda: hook.posts, what="webhook post")
    assert path == "/hooks/alerts"
    assert body["alert"]["id"] == a.id
    assert body["alert"]["since"] == "2026-11-24T02:00:00Z", "UTC in data"
    assert (body["since_local"], body["timezone"]) == ("24.11.2026 08:00", "Asia/Bishkek")
    assert body["language"] == "ky"
    assert body["text"].startswith("⚠ bin-03 (Кызыл-Туу): өрт")  # registered "Kyzyl-Tuu", in Kyrgyz
    [(path, msg)] = wait_for(lambda: bot.posts, what="telegram post")
    assert path == "/bot123:abc/sendMessage"
    assert msg == {"chat_id": "-100200", "text": body["text"]}
    n.submit(a)  # the same alert again (a replay): not sent twice
    n.submit(alert("cleared"))
    wait_for(lambda: len(hook.posts) == 2, what="clear posted")
    assert n.counters["sent:webhook"] == 2


def test_failures_are_retried_then_given_up_without_blocking(stand_in, notifier, caplog) -> None:
    flaky = stand_in([500, 503])
    n = notifier(webhook_url=flaky.url, retries=3)
    n.submit(alert())
    wait_for(lambda: n.counters["sent:webhook"] == 1, what="delivered on the third try")
    assert len(flaky.posts) == 3

    refusing = stand_in([400])
    n2 = notifier(webhook_url=refusing.url, retries=3)
    n2.submit(alert())
    wait_for(lambda: n2.counters["failed:webhook"] == 1, what="refused")
    assert len(refusing.posts) == 1, "a 4xx is not retried"

    dead = notifier(webhook_url=f"http://127.0.0.1:{free_port()}", retries=2)
    started = time.monotonic()
    for _ in range(50):
        dead.submit(alert())
    assert time.monotonic() - started < 0.5, "submit never waits for the network"
    wait_for(lambda: dead.counters["failed:webhook"] >= 1, what="given up")
    assert "webhook notification not delivered" in caplog.text


@pytest.mark.integration
def test_ingest_notifies_raised_alerts_once(
    broker, influx, site, tmp_path, stand_in, collect
) -> None:
    hook = stand_in()
    publish(
        broker.url, Topics(site).of(ContainerRegistry), registry(site=site).to_json(), retain=True
    )
    settings = IngestSettings(
        site=site,
        mqtt_url=broker.url,
        influx_url=influx.url,
        influx_db=influx.database,
        ingest_client_id=f"ingest-{uuid.uuid4().hex[:8]}",
        ingest_flush_seconds=0.05,
        fill_state_path=tmp_path / "state.sqlite",
        notify_webhook_url=hook.url,
        notify_language="en",
        notify_retry_seconds=0.01,
    )
    fill = start_fill(settings)
    # readings from 08:00 to 08:30 local; the clock must not let the sensor look offline
    ingest = Ingest(
        settings, processors={"reading": fill.processor}, clock=lambda: T0 + timedelta(minutes=30)
    )
    status = collect(Topics(site).of(NodeStatus, node=settings.ingest_client_id))
    ingest.start()
    try:
        wait_for(lambda: fill.processor.containers(site), what="registry")
        wait_for(status.payloads, what="ingest subscribed (it announces itself after that)")
        for minute, temp in ((0, 72.0), (10, 75.0), (20, 30.0), (30, 29.0)):
            r = reading(minute, 40, site=site, temp_c=temp)
            publish(broker.url, Topics(site).of(ContainerReading, container="bin-01"), r.to_json())
        posts = wait_for(lambda: len(hook.posts) >= 2 and hook.posts, what="raise and clear")
        texts = [body["text"] for _, body in posts]
        assert texts[0].startswith("⚠ bin-01 (Dostuk): fire (critical) since 24.11.2026 08:00")
        assert texts[1].startswith("✓ bin-01 (Dostuk): fire cleared at 24.11.2026 08:30")
        assert len(hook.posts) == 2
    finally:
        ingest.stop()
        fill.close()
