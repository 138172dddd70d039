"""MQTT client construction shared by every process (paho-mqtt, callback API v2).

Clients connect asynchronously, so a broker that is not up yet at start-up is retried by
paho's reconnect loop rather than being fatal; subscriptions belong in `on_connect` so they
are renewed after every reconnect.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from landfill import __version__
from landfill.contract import NodeStatus, Topics, utcnow


def make_client(
    url: str,
    client_id: str,
    *,
    clean_start: bool = True,
    manual_ack: bool = False,
    will: tuple[Topics, str] | None = None,
) -> mqtt.Client:
    """Return a paho client for ``url`` (not yet connected); MQTT 3.1.1, callback API v2."""
    parts = urlsplit(url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_start,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    if parts.username:
        client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
    if parts.scheme == "mqtts":
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    client.max_queued_messages_set(0)
    if will is not None:
        topics, node = will
        offline = NodeStatus(
            ts=utcnow(), site=topics.site, node=node, online=False, version=__version__
        )
        client.will_set(topics.status(node), offline.to_json(), qos=1, retain=True)
    return client


def broker_address(url: str) -> tuple[str, int]:
    """Return (host, port) of a broker URL."""
    parts = urlsplit(url)
    default = 8883 if parts.scheme == "mqtts" else 1883
    return parts.hostname or "127.0.0.1", parts.port or default


def connect_async(client: mqtt.Client, url: str, keepalive: int = 30) -> None:
    """Start connecting in the background; paho retries until the broker answers."""
    host, port = broker_address(url)
    client.connect_async(host, port, keepalive=keepalive)
    client.loop_start()


def announce(client: mqtt.Client, topics: Topics, node: str) -> None:
    """Publish this node as online (retained); the last will says offline."""
    status = NodeStatus(ts=utcnow(), site=topics.site, node=node, online=True, version=__version__)
    client.publish(topics.status(node), status.to_json(), qos=1, retain=True)
