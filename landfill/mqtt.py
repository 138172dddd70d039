"""MQTT client construction shared by every process (paho-mqtt, callback API v2).

Clients connect asynchronously, so a broker that is not up yet at start-up is retried by
paho's reconnect loop rather than being fatal; subscriptions belong in `on_connect` so they
are renewed after every reconnect.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from landfill import __version__
from landfill.contract import NodeStatus, Topics, utcnow

# the broker drops a client that sends a larger packet (max_packet_size, deploy/mosquitto.conf)
MAX_PACKET_BYTES = 1_048_576


def make_client(
    url: str,
    client_id: str,
    *,
    clean_start: bool = True,
    manual_ack: bool = False,
    will: tuple[Topics, str] | None = None,
    client_class: type[mqtt.Client] = mqtt.Client,
) -> mqtt.Client:
    """Return a paho client for ``url`` (not yet connected); MQTT 3.1.1, callback API v2."""
    parts = urlsplit(url)
    client = client_class(
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
        client.will_set(topics.of(NodeStatus, node=node), offline.to_json(), qos=1, retain=True)
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
    client.publish(topics.of(NodeStatus, node=node), status.to_json(), qos=1, retain=True)


_PUBACK = struct.Struct("!BBH")  # PUBACK, remaining length 2, packet id (3.1.1 and 5 short form)


def ack_many(client: mqtt.Client, mids: Sequence[int]) -> None:
    """Acknowledge QoS 1 messages (manual ack) with one socket write instead of one per message.

    paho's `ack` queues one packet and wakes its network thread per message, which costs more
    than parsing the message at 15,000 msg/s; the PUBACKs here are joined into one buffer on
    paho's outgoing packet queue. That is paho's private `_packet_queue`: pyproject.toml pins
    paho to the minor versions tested, and tests/landfill/test_mqtt.py fails if it changes.
    """
    if not mids:
        return
    queue = getattr(client, "_packet_queue", None)
    if queue is None:  # a paho without it: acknowledge one by one
        for mid in mids:
            client.ack(mid, 1)
        return
    blob = b"".join(_PUBACK.pack(0x40, 2, mid) for mid in mids)
    queue(mqtt.PUBACK, blob, 0, 0)
