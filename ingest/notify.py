"""Alert notifications: a JSON webhook and a Telegram bot, from a thread that never blocks ingest.

    FillProcessor.commit ─► submit(alert) ─► bounded queue ─► sender thread
        ─► POST webhook_url   {"alert": {...}, "text": "...", "language": "ru", ...}
        ─► POST {telegram_api}/bot{token}/sendMessage   {"chat_id": ..., "text": ...}

Faults survived: a target that is down or slow (5xx, 429, timeouts, refused connections:
retried a few times with growing delays, then logged and dropped), a target that refuses the
request (other 4xx: logged, not retried), a full queue (the alert is dropped and counted; the
retained alert topic and InfluxDB still have it). Alert ids already sent are not sent again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter, OrderedDict
from datetime import tzinfo
from typing import Any

import httpx

from ingest.fill.texts import alert_text, local_time
from landfill.contract import ContainerAlert
from landfill.fill.spec import ContainerSpec
from landfill.language import Language
from landfill.settings import IngestSettings

__all__ = ["Notifier", "Target"]

log = logging.getLogger("landfill.ingest.notify")

Target = tuple[str, str, dict[str, Any]]  # (name for logs and counters, url, JSON body)


class Notifier:
    """Sends alert transitions to the configured targets on its own thread."""

    def __init__(
        self,
        *,
        tz: tzinfo,
        webhook_url: str = "",
        telegram_token: str = "",
        telegram_chat_id: str = "",
        telegram_api: str = "https://api.telegram.org",
        language: Language = "ru",
        retries: int = 3,
        retry_seconds: float = 2.0,
        timeout_seconds: float = 5.0,
        max_pending: int = 1000,
    ) -> None:
        self.tz = tz  # times in texts and the webhook's *_local fields
        self.webhook_url = webhook_url
        self.telegram_token = telegram_token
        self.telegram_chat_id = telegram_chat_id
        self.telegram_api = telegram_api.rstrip("/")
        self.language = language
        self.retries = retries
        self.retry_seconds = retry_seconds
        self.counters: Counter[str] = Counter()
        self._queue: queue.Queue[tuple[ContainerAlert, str]] = queue.Queue(max_pending)
        self._sent: OrderedDict[str, None] = OrderedDict()
        self._stop = threading.Event()
        self._http = httpx.Client(timeout=timeout_seconds)
        self._thread = threading.Thread(target=self._run, name="notify", daemon=True)

    @property
    def enabled(self) -> bool:
        """True when at least one target is configured."""
        return bool(self.webhook_url or (self.telegram_token and self.telegram_chat_id))

    def start(self) -> None:
        """Start the sender thread (nothing happens without a target)."""
        if self.enabled:
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the alert being sent; what is still queued is logged, not sent."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._queue.qsize():
            log.warning("%d notification(s) not sent at shutdown", self._queue.qsize())
        self._http.close()

    def submit(self, alert: ContainerAlert, spec: ContainerSpec | None = None) -> None:
        """Queue one alert transition; drops it (counted) rather than block when full."""
        if not self.enabled:
            return
        try:
            self._queue.put_nowait((alert, spec.settlement if spec else ""))
        except queue.Full:
            self.counters["dropped"] += 1
            log.warning("notification queue full; %s %s not sent", alert.container, alert.alert)

    def targets(self, alert: ContainerAlert, settlement: str) -> list[Target]:
        """The requests one alert becomes."""
        text = alert_text(alert, self.language, settlement, tz=self.tz)
        out: list[Target] = []
        if self.webhook_url:
            body = {
                "alert": alert.model_dump(mode="json"),
                "text": text,
                "language": self.language,
                "settlement": settlement,
                "since_local": local_time(alert.since, self.tz),
                "at_local": local_time(alert.ts, self.tz),
                "timezone": str(self.tz),
            }
            out.append(("webhook", self.webhook_url, body))
        if self.telegram_token and self.telegram_chat_id:
            url = f"{self.telegram_api}/bot{self.telegram_token}/sendMessage"
            out.append(("telegram", url, {"chat_id": self.telegram_chat_id, "text": text}))
        return out

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> Notifier:
        """A notifier configured by the ingest settings."""
        return cls(
            tz=settings.tz,
            webhook_url=settings.notify_webhook_url,
            telegram_token=settings.notify_telegram_token,
            telegram_chat_id=settings.notify_telegram_chat_id,
            telegram_api=settings.notify_telegram_api,
            language=settings.notify_language,
            retries=settings.notify_retries,
            retry_seconds=settings.notify_retry_seconds,
            timeout_seconds=settings.notify_timeout_seconds,
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                alert, settlement = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if alert.id in self._sent:
                continue
            try:
                for name, url, body in self.targets(alert, settlement):
                    self._send(name, url, body)
            except Exception:  # one alert that cannot be sent never stops the others
                self.counters["failed:error"] += 1
                log.exception("alert %s not notified", alert.id)
            self._sent[alert.id] = None
            while len(self._sent) > 4096:
                self._sent.popitem(last=False)

    def _send(self, name: str, url: str, body: dict[str, Any]) -> bool:
        for attempt in range(self.retries + 1):
            try:
                resp = self._http.post(url, json=body)
            except httpx.HTTPError as exc:
                why = f"{type(exc).__name__}"
            else:
                if resp.is_success:
                    self.counters[f"sent:{name}"] += 1
                    return True
                why = f"HTTP {resp.status_code}"
                if resp.status_code < 500 and resp.status_code != 429:
                    break  # the target refuses this request: retrying changes nothing
            if attempt == self.retries:
                break
            log.info("%s notification failed (%s), attempt %d; retrying", name, why, attempt + 1)
            if self._stop.wait(self.retry_seconds * 2**attempt):
                break
        self.counters[f"failed:{name}"] += 1
        # the token is part of the Telegram URL: never log the URL
        log.warning("%s notification not delivered (%s)", name, why)
        return False
