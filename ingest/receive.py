"""Ingest's receive path: PUBLISH packets split from large socket reads, handed over in bulk.

    broker --TCP--> SplittingSocket.recv (256 KiB at a time)
                      | PUBLISH, QoS 0/1, complete  -> on_publishes([Publish, ...])  (in bulk)
                      | any other packet, complete  -> served to paho byte by byte, as read
                      | a partial packet            -> kept until the rest arrives

paho reads one packet per wake-up with three or four small `recv` calls, then builds an
`MQTTMessage` and calls `on_message`: about 15 us a message here, more than ingest's
validation and line protocol together. This socket wrapper sits under paho (`make_client(...,
client_class=SplittingClient)`): one `recv` takes what the kernel holds, the QoS 0 and 1
PUBLISH packets in it (MQTT 3.1.1: command, remaining length, topic, packet id, payload) go
to ``on_publishes`` in order, and every other packet (CONNACK, SUBACK, PUBACK, PINGRESP)
goes to paho unchanged, so connecting, subscribing, publishing, keepalive and reconnecting
stay paho's. Acknowledgements stay manual (`landfill.mqtt.ack_many`).

Order is kept: packets are handled in the order they came, and a packet for paho stops the
split until paho has read it (a CONNACK before the publishes of its connection). paho waits
in `select` on the real socket; `pending()` tells it when a whole packet is still buffered
here. Back-pressure as before: a batch holds at most ``room()`` publishes (what the backlog
takes now, at least one); the rest wait here as bytes, and nothing more is read until they are
handed over, so while ``on_publishes`` blocks (a full backlog) TCP pushes back.

Faults: a malformed remaining length or PUBLISH ends the connection (paho reconnects, the
broker redelivers what was not acknowledged); a topic that is not UTF-8 (mosquitto refuses
them) is decoded with replacement and dead-lettered as an unknown topic.

This overrides paho's private `Client._create_socket`: pyproject.toml pins paho's minor
versions and tests/ingest/test_receive.py fails if it changes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt

__all__ = ["Publish", "SplittingClient", "SplittingSocket"]

_PUBLISH = 0x30
_CHUNK = 262_144


class Publish(NamedTuple):
    """One PUBLISH packet as received (QoS 0 has packet id 0)."""

    mid: int
    qos: int
    topic: str
    payload: bytes


class SplittingSocket:
    """A socket that hands whole PUBLISH packets to ``on_publishes`` and the rest to paho."""

    def __init__(
        self,
        sock: Any,
        on_publishes: Callable[[list[Publish]], None],
        room: Callable[[], int] | None = None,
        chunk: int = _CHUNK,
    ) -> None:
        self._sock = sock
        self._on_publishes = on_publishes
        self._room = room or (lambda: sys.maxsize)
        self._chunk = chunk
        self._buf = bytearray()
        self._through = 0  # bytes of a packet for paho not yet read by paho

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)  # fileno, setblocking, send, close, ...

    def pending(self) -> int:
        """Bytes paho can read without waiting: a whole packet buffered here (or in TLS)."""
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        try:
            ready = self._through or _packet(self._buf, 0) is not None
        except ConnectionError:
            ready = True  # let paho read: `recv` raises it there, and paho reconnects
        return inner + (len(self._buf) if ready else 0)

    def recv(self, size: int) -> bytes:
        """Serve paho the next packet that is not a publish; raise BlockingIOError if none."""
        if self._through:
            return self._serve(size)
        read = False
        while True:
            head = self._split()
            if head:
                self._through = head
                return self._serve(size)
            if read or _packet(self._buf, 0) is not None:
                # publishes only (or whole ones waiting for room, which `pending` tells paho):
                # paho goes on to write and keepalive, then comes back
                raise BlockingIOError
            data = self._sock.recv(self._chunk)  # BlockingIOError / OSError go to paho
            if not data:
                return b""  # closed by the broker: paho reconnects
            self._buf += data
            read = True

    def _serve(self, size: int) -> bytes:
        n = min(size, self._through)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        self._through -= n
        return out

    def _split(self) -> int:
        """Hand over the complete publishes at the head (as many as there is room for).

        Return the size of the packet at the head if it is a whole one for paho, else 0.
        """
        buf = self._buf
        pos = 0
        batch: list[Publish] = []
        room = max(1, self._room())  # one more than there is room for waits in on_publishes
        while len(batch) < room and (bounds := _packet(buf, pos)) is not None:
            cmd = buf[pos]
            qos = (cmd >> 1) & 3
            if cmd & 0xF0 != _PUBLISH or qos > 1:
                break
            start, end = bounds
            topic_end = start + 2 + (buf[start] << 8 | buf[start + 1]) if end - start > 1 else end
            if topic_end + 2 * qos > end or end - start < 2:
                raise ConnectionError("malformed MQTT PUBLISH")  # paho: connection lost
            topic = buf[start + 2 : topic_end].decode("utf-8", "replace")
            if qos:
                mid = buf[topic_end] << 8 | buf[topic_end + 1]
                topic_end += 2
            else:
                mid = 0
            batch.append(Publish(mid, qos, topic, bytes(buf[topic_end:end])))
            pos = end
        if pos:
            del buf[:pos]
        if batch:
            self._on_publishes(batch)
        head = _packet(buf, 0)
        if head is None or (buf[0] & 0xF0 == _PUBLISH and (buf[0] >> 1) & 3 < 2):
            return 0
        return head[1]


def _packet(buf: bytearray, pos: int) -> tuple[int, int] | None:
    """(start of the body, end) of the packet at ``pos``, or None while it is incomplete."""
    size = len(buf)
    length, shift, i = 0, 0, pos + 1
    while True:
        if i >= size:
            return None
        byte = buf[i]
        length |= (byte & 127) << shift
        i += 1
        if byte < 128:
            break
        shift += 7
        if shift > 21:
            raise ConnectionError("malformed MQTT remaining length")  # paho: connection lost
    end = i + length
    return (i, end) if end <= size else None


class SplittingClient(mqtt.Client):
    """A paho client whose socket hands PUBLISH packets to ``on_publishes`` in bulk.

    ``on_message`` is not called for QoS 0 and 1 publishes; set ``on_publishes`` before
    connecting. MQTT 3.1.1 over TCP or TLS only (no websockets, no MQTT 5 properties).
    """

    on_publishes: Callable[[list[Publish]], None] | None = None
    publish_room: Callable[[], int] | None = None  # how many ``on_publishes`` takes at once

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        if self.on_publishes is None:
            return sock
        return SplittingSocket(sock, self.on_publishes, self.publish_room)
