"""Live weights, scale events and capture receipts of the site, for the operator console.

One MQTT connection of its own (client id ``api-<port>-live-<random>``; with broker logins the
companion user ``<user>-live``), opened at the API's start and subscribed on every connect:

    landfill/v1/{site}/scale/+/weight     LiveWeight, retained: the last weight comes at once
    landfill/v1/{site}/scale/+/event      ScaleEvent: left before capture, not back to zero, ...
    landfill/v1/{site}/scale/+/receipt    Receipt: ingest stored these captures (ticketable now)
    landfill/v1/{site}/node/+/status      NodeStatus: is the scale's edge process online

Each stream (`GET /api/v1/scales/{scale}/live`, `api/routes/console.py`) has an asyncio queue;
paho's network thread hands an update to the stream's event loop (``call_soon_threadsafe``).
A browser that reads slowly loses old weights, never the newest: a full queue drops its oldest
update. The broker going away or coming back is an update of its own, so the console says so.

Faults: a payload outside the contract is skipped (logged once per kind); a broker that is down
is retried by paho; a stream that ends unsubscribes, whatever ended it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import paho.mqtt.client as mqtt

from landfill.contract import (
    LiveWeight,
    Message,
    NodeStatus,
    PayloadError,
    Receipt,
    ScaleEvent,
    decode,
    kind_of,
)
from landfill.mqtt import connect_async, make_client
from landfill.settings import ApiSettings, companion_url

__all__ = ["EDGE_NODE_PREFIX", "LiveHub", "Subscription", "Update"]

log = logging.getLogger("landfill.api.live")

EDGE_NODE_PREFIX = "edge-scale-"  # the scale edge's node name is edge-scale-<scale>
QUEUE_SIZE = 64
UpdateKind = Literal["weight", "event", "capture", "edge", "broker"]


@dataclass(frozen=True)
class Update:
    """One thing a console should know: its kind, the scale ("" for the broker) and data."""

    kind: UpdateKind
    scale: str
    data: dict[str, Any]


@dataclass(eq=False)
class Subscription:
    """One stream's queue on its event loop."""

    scale: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Update] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, update: Update) -> None:
        """Queue an update (on the stream's loop); when full, the oldest one makes room."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(update)

    async def get(self) -> Update:
        """The next update."""
        return await self.queue.get()


def _update_of(msg: Message) -> Update | None:
    """What a console is told of a contract message, or None."""
    data: dict[str, Any]
    if isinstance(msg, LiveWeight):
        data = {"weight_kg": msg.weight_kg, "stable": msg.stable, "overload": msg.overload}
        return Update("weight", msg.scale, data | {"ts": msg.ts.isoformat()})
    if isinstance(msg, ScaleEvent):
        data = {"id": msg.id, "event": msg.event, "weight_kg": msg.weight_kg}
        return Update("event", msg.scale, data | {"detail": msg.detail, "ts": msg.ts.isoformat()})
    if isinstance(msg, Receipt):  # the captures are in InfluxDB: a ticket may use them now
        return Update("capture", msg.scale, {"ids": list(msg.ids)})
    if isinstance(msg, NodeStatus) and msg.node.startswith(EDGE_NODE_PREFIX):
        data = {"online": msg.online, "fault": msg.fault, "ts": msg.ts.isoformat()}
        return Update("edge", msg.node.removeprefix(EDGE_NODE_PREFIX), data)
    return None


class LiveHub:
    """The site's live scale traffic, fanned out to the console streams."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()
        self._latest: dict[tuple[UpdateKind, str], Update] = {}
        self._connected = False
        self._client: mqtt.Client | None = None
        self._skipped: set[str] = set()
        self._closing = False

    @property
    def connected(self) -> bool:
        """Whether the hub's broker connection is up."""
        return self._connected

    def start(self) -> LiveHub:
        """Connect (at the API's start, so the first console sees the broker's real state);
        paho retries a broker that is not up yet."""
        with self._lock:
            if self._client is None:
                self._start()
        return self

    def _start(self) -> None:
        url = companion_url(self.settings.mqtt_url, "live")
        # its own id: two APIs on one broker (tests, a second worker) must not push each other
        # off; with broker logins the broker uses the username instead
        client = make_client(url, f"api-{self.settings.api_port}-live-{uuid.uuid4().hex[:8]}")
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        connect_async(client, url)
        self._client = client

    def subscribe(self, scale: str, loop: asyncio.AbstractEventLoop) -> Subscription:
        """A new stream of one scale's updates, on ``loop``."""
        sub = Subscription(scale, loop)
        with self._lock:
            self._subscriptions.add(sub)
            if self._client is None:
                self._start()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """The stream has ended."""
        with self._lock:
            self._subscriptions.discard(sub)

    def snapshot(self, scale: str) -> list[Update]:
        """What a new stream is told first: the broker's state, the edge's, the last weight."""
        with self._lock:
            known = [self._latest.get((kind, scale)) for kind in ("edge", "weight")]
            connected = self._connected
        return [Update("broker", "", {"connected": connected}), *(u for u in known if u)]

    def close(self) -> None:
        """Disconnect (the app is stopping)."""
        with self._lock:
            client, self._client = self._client, None
            self._closing = True
        if client is not None:
            client.disconnect()
            client.loop_stop()

    # ---- paho's thread ---------------------------------------------------------------------

    def _fan_out(self, update: Update) -> None:
        with self._lock:
            if update.kind in ("weight", "edge"):
                self._latest[(update.kind, update.scale)] = update
            targets = [s for s in self._subscriptions if update.scale in ("", s.scale)]
        for sub in targets:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, update)
            except RuntimeError:  # that stream's loop is closed: it is going away
                self.unsubscribe(sub)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("live weights: the broker refused the connection: %s", rc)
            return
        site = self.settings.site
        filters = [kind_of(model).topic_filter(site) for model in (LiveWeight, ScaleEvent, Receipt)]
        client.subscribe([(f, 0) for f in filters] + [(kind_of(NodeStatus).topic_filter(site), 1)])
        self._connected = True
        self._fan_out(Update("broker", "", {"connected": True}))

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if self._connected and not self._closing:
            log.warning("live weights: broker connection lost (%s); reconnecting", rc)
        self._connected = False
        self._fan_out(Update("broker", "", {"connected": False}))

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        if not message.payload:  # a cleared retained message
            return
        try:
            msg = decode(message.topic, bytes(message.payload))
        except PayloadError as exc:
            if exc.reason not in self._skipped:
                self._skipped.add(exc.reason)
                log.warning("live weights: skipped a message on %s: %s", message.topic, exc)
            return
        update = _update_of(msg)
        if update is not None:
            self._fan_out(update)
