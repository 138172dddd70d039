"""landfill.mqtt against a real mosquitto; `ack_many` leans on paho's private `_packet_queue`.

If a paho release changes that method, these tests fail: check `landfill.mqtt.ack_many`
against the new paho, then widen the pin in pyproject.toml.
"""

from __future__ import annotations

import inspect
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from deploy import stack
from landfill.mqtt import ack_many, broker_address, make_client
from tests.conftest import publish, wait_for


def test_paho_still_has_the_packet_queue_ack_many_uses():
    queue = getattr(mqtt.Client, "_packet_queue", None)
    assert queue is not None, "paho no longer has Client._packet_queue: see landfill.mqtt"
    params = list(inspect.signature(queue).parameters)
    assert params[:5] == ["self", "command", "packet", "mid", "qos"], params


class Consumer:
    """A persistent-session, manual-ack subscriber that records (mid, payload)."""

    def __init__(self, url: str, client_id: str, topic: str) -> None:
        self.got: list[tuple[int, bytes]] = []
        self.subscribed = threading.Event()
        self.gone = threading.Event()
        self.client = make_client(url, client_id, clean_start=False, manual_ack=True)
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda _c, _u, m: self.got.append((m.mid, bytes(m.payload)))
        self.client.on_disconnect = lambda *_: self.gone.set()
        self.client.connect(*broker_address(url))
        self.client.loop_start()
        assert self.subscribed.wait(10), "no SUBACK"

    def stop(self) -> None:
        self.client.disconnect()
        assert self.gone.wait(10)
        self.client.loop_stop()


@pytest.mark.integration
def test_ack_many_acknowledges_on_the_broker(broker: stack.Server, site: str):
    topic, client_id = f"{site}/acks", f"acks-{uuid.uuid4().hex[:8]}"
    first = Consumer(broker.url, client_id, topic)
    for i in range(5):
        publish(broker.url, topic, f"m{i}".encode())
    wait_for(lambda: len(first.got) == 5, what="five messages")

    def no_fallback(*_: object) -> None:
        raise AssertionError("ack_many fell back to one ack per message")

    first.client.ack = no_fallback
    ack_many(first.client, [mid for mid, _ in first.got[:4]])  # m4 stays unacknowledged
    # packets leave in order: once a later publish is acknowledged, the acks went out before it
    first.client.publish(f"{topic}/flush", b"", qos=1).wait_for_publish(10)
    first.stop()

    # the broker redelivers what it holds unacknowledged when the session resumes, before
    # anything published after the reconnect: only m4 may come back before the marker
    second = Consumer(broker.url, client_id, topic)
    publish(broker.url, topic, b"marker")
    wait_for(lambda: b"marker" in [p for _, p in second.got], what="marker")
    second.stop()
    assert [p for _, p in second.got] == [b"m4", b"marker"]
