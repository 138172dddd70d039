"""ingest/receive.py: publishes split from large reads, every other packet left to paho, in order.

The packets are MQTT 3.1.1 as mosquitto sends them, fed whole, in pieces of every size and
byte by byte; a real mosquitto checks the client end to end (ingest's own tests run it too).
"""

from __future__ import annotations

import inspect
import struct
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deploy import stack
from ingest.receive import Publish, SplittingClient, SplittingSocket
from landfill.mqtt import broker_address, make_client
from tests.conftest import publish, wait_for


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish_packet(topic: str, payload: bytes, qos: int, mid: int = 0) -> bytes:
    t = topic.encode()
    var = struct.pack("!H", len(t)) + t + (struct.pack("!H", mid) if qos else b"")
    return bytes([0x30 | qos << 1]) + _length(len(var) + len(payload)) + var + payload


CONNACK = b"\x20\x02\x00\x00"
SUBACK = b"\x90\x03\x00\x01\x01"
PUBACK = b"\x40\x02\x00\x07"
PINGRESP = b"\xd0\x00"
BIG = b"x" * 20_000  # a remaining length of three bytes
STREAM = [
    CONNACK,
    SUBACK,
    publish_packet("landfill/v1/d/scale/s1/capture", b'{"a":1}', 1, 1),
    publish_packet("landfill/v1/d/scale/s1/capture", BIG, 1, 65535),
    PUBACK,
    publish_packet("t/\u0436", b"", 0),  # QoS 0: no packet id; a topic in UTF-8
    publish_packet("t", b"two", 1, 2),
    publish_packet("t2", b"qos2", 2, 3),  # never subscribed to: paho's, unchanged
    PINGRESP,
    publish_packet("t", b"last", 1, 4),
]


def expected_events(stream: list[bytes] = STREAM) -> list[object]:
    """What the stream is: publishes as Publish, every other packet as its bytes."""
    out: list[object] = []
    for packet in stream:
        if packet[0] & 0xF6 in (0x30, 0x32):  # PUBLISH, QoS 0 or 1
            body = packet[len(packet) - _remaining_of(packet) :]
            tlen = body[0] << 8 | body[1]
            topic = body[2 : 2 + tlen].decode()
            qos = packet[0] >> 1 & 3
            mid = body[2 + tlen] << 8 | body[3 + tlen] if qos else 0
            out.append(Publish(mid, qos, topic, body[2 + tlen + 2 * qos :]))
        else:
            out.append(packet)
    return out


def _remaining_of(packet: bytes) -> int:
    length, shift, i = 0, 0, 1
    while True:
        length |= (packet[i] & 127) << shift
        if packet[i] < 128:
            return length
        shift, i = shift + 7, i + 1


class FakeSocket:
    """A non-blocking socket whose reads return the given pieces, then would block."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def recv(self, _size: int) -> bytes:
        if not self.pieces:
            raise BlockingIOError
        return self.pieces.pop(0)


def read_like_paho(sock: SplittingSocket) -> bytes | None:
    """One packet the way paho reads it: command, length byte by byte, then the rest."""
    try:
        packet = sock.recv(1)
    except BlockingIOError:
        return None
    while True:
        byte = sock.recv(1)
        packet += byte
        if byte[0] < 128:
            break
    remaining = _remaining_of(packet)
    while remaining:
        part = sock.recv(remaining)
        packet += part
        remaining -= len(part)
    return packet


def pieces_of(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 4096, 1_000_000])
def test_publishes_go_in_bulk_and_the_rest_to_paho_in_order(size: int):
    events: list[object] = []
    fake = FakeSocket(pieces_of(b"".join(STREAM), size))
    sock = SplittingSocket(fake, events.extend)
    polls = 0
    while fake.pieces or sock.pending():  # paho: select says readable, or pending() > 0
        polls += 1
        while (packet := read_like_paho(sock)) is not None:
            events.append(packet)
    assert events == expected_events()
    if size >= len(b"".join(STREAM)):
        assert polls == 1, "one read: every packet handled in one wake-up"


def test_no_more_publishes_are_handed_over_than_there_is_room_for():
    events: list[object] = []
    sizes: list[int] = []

    def on_publishes(batch: list[Publish]) -> None:
        sizes.append(len(batch))
        events.extend(batch)

    fake = FakeSocket([b"".join(STREAM)])
    sock = SplittingSocket(fake, on_publishes, room=lambda: 0)  # a full backlog: one waits
    while fake.pieces or sock.pending():  # the rest waits here; pending() brings paho back
        while (packet := read_like_paho(sock)) is not None:
            events.append(packet)
    assert events == expected_events()
    assert set(sizes) == {1}


def test_a_malformed_length_is_a_lost_connection_for_paho():
    sock = SplittingSocket(FakeSocket([b"\x32\xff\xff\xff\xff\x01"]), lambda _b: None)
    with pytest.raises(ConnectionError):  # an OSError: paho reconnects
        sock.recv(1)


def test_a_closed_connection_is_an_empty_read_for_paho():
    events: list[Publish] = []
    last = publish_packet("t", b"p", 1, 9)
    fake = FakeSocket([last + last[:3], b""])
    sock = SplittingSocket(fake, events.extend)
    with pytest.raises(BlockingIOError):
        sock.recv(1)
    assert sock.recv(1) == b""
    assert [p.payload for p in events] == [b"p"], "what came whole was handed over"


def test_paho_still_creates_its_socket_where_splitting_client_wraps_it():
    create = getattr(mqtt.Client, "_create_socket", None)
    assert create is not None, "paho no longer has Client._create_socket: see ingest.receive"
    assert list(inspect.signature(create).parameters) == ["self"]
    assert "self._sock = self._create_socket()" in inspect.getsource(mqtt.Client.reconnect)


@pytest.mark.integration
def test_a_splitting_client_on_a_real_broker(broker: stack.Server, site: str):
    topic = f"{site}/receive"
    got: list[Publish] = []
    subscribed = threading.Event()
    client = make_client(
        broker.url,
        f"split-{uuid.uuid4().hex[:8]}",
        clean_start=False,
        manual_ack=True,
        client_class=SplittingClient,
    )
    client.on_publishes = got.extend  # type: ignore[attr-defined]
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect(*broker_address(broker.url))
    client.loop_start()
    try:
        assert subscribed.wait(10), "no SUBACK: paho must still see its packets"
        for i in range(3):
            publish(broker.url, topic, f"m{i}".encode())
        wait_for(lambda: len(got) == 3, what="three publishes")
        assert [p.payload for p in got] == [b"m0", b"m1", b"m2"]
        assert {p.qos for p in got} == {1}
        # paho's own traffic on the same socket still works: a QoS 1 publish gets its PUBACK
        client.publish(f"{topic}/own", b"x", qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


# ---- fuzz: the splitter parses bytes from the wire ---------------------------------------------

_OTHERS = st.sampled_from([CONNACK, SUBACK, PUBACK, PINGRESP])
_PUBLISHES = st.builds(
    publish_packet,
    st.text(min_size=1, max_size=40),
    st.binary(max_size=300),
    st.sampled_from([0, 1, 2]),
    st.integers(min_value=1, max_value=65535),
)


def _drain(sock: SplittingSocket, fake: FakeSocket, events: list[object]) -> None:
    while fake.pieces or sock.pending():
        while (packet := read_like_paho(sock)) is not None:
            events.append(packet)


@settings(max_examples=300, deadline=None)
@given(
    packets=st.lists(st.one_of(_PUBLISHES, _OTHERS), max_size=30),
    cuts=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=50),
    room=st.integers(min_value=0, max_value=5),
)
def test_any_valid_stream_in_any_pieces_gives_the_same_packets(packets, cuts, room):
    data = b"".join(packets)
    pieces, pos, i = [], 0, 0
    while pos < len(data):
        pieces.append(data[pos : pos + cuts[i % len(cuts)]])
        pos, i = pos + cuts[i % len(cuts)], i + 1
    events: list[object] = []
    fake = FakeSocket(pieces)
    _drain(SplittingSocket(fake, events.extend, room=lambda: room), fake, events)
    assert events == expected_events(packets)


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=2000), cut=st.integers(min_value=1, max_value=300))
def test_garbage_only_ever_blocks_or_drops_the_connection(data, cut):
    """Arbitrary bytes: publishes, bytes for paho, BlockingIOError or ConnectionError, no crash."""
    fake = FakeSocket(pieces_of(data, cut))
    sock = SplittingSocket(fake, lambda _batch: None)
    try:
        for _ in range(len(data) + 2):
            try:
                sock.recv(1 + len(data))
            except BlockingIOError:
                if not fake.pieces and not sock.pending():
                    break
    except ConnectionError:
        pass  # paho treats it as a lost connection and reconnects
