"""Property tests: decoders never crash on bytes; envelope parsers raise only EnvelopeError."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.sensors.envelopes import Envelope, EnvelopeError, parse
from edge.sensors.models import MODELS, Uplink
from edge.sensors.normalise import decode_envelope, to_reading
from tests.edge.sensors.samples import ENVELOPES

FUZZ = settings(max_examples=300, deadline=None)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
topics = st.sampled_from([topic for topic, _, _ in ENVELOPES])
ports = st.none() | st.integers(min_value=0, max_value=255)


def _paths(node: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _check(topic: str, body: bytes | str) -> None:
    try:
        envelope = parse(topic, body)
    except EnvelopeError as exc:
        reason = exc.reason
    else:
        reason = ""
        assert isinstance(envelope, Envelope)
        assert envelope.time.utcoffset() is not None
        model = next((m for m in MODELS if m.fport == envelope.fport), MODELS[0])
        uplink = decode_envelope(envelope, model)
        assert uplink is None or isinstance(uplink, Uplink)
    assert " " not in reason  # short fixed reasons, countable


@FUZZ
@given(payload=st.binary(max_size=64), fport=ports)
def test_arbitrary_bytes_never_crash_a_decoder(payload: bytes, fport: int | None) -> None:
    for model in MODELS:
        result = model.decode(fport, payload)
        assert result is None or isinstance(result, Uplink)
        if result is not None:
            assert result.distance_mm is None or result.distance_mm > 0
            assert result.battery_pct is None or 0 <= result.battery_pct <= 100


@FUZZ
@given(record=st.binary(min_size=1, max_size=12), fport=ports)
def test_real_frames_with_noise_appended_never_crash(record: bytes, fport: int | None) -> None:
    for model in MODELS:
        payload = bytes.fromhex(model.sample) + record
        result = model.decode(fport, payload)
        assert result is None or isinstance(result, Uplink)


@FUZZ
@given(topic=topics, body=st.binary(max_size=200))
def test_arbitrary_bytes_only_raise_envelope_error(topic: str, body: bytes) -> None:
    _check(topic, body)


@FUZZ
@given(topic=topics, doc=json_values)
def test_arbitrary_json_only_raises_envelope_error(topic: str, doc: object) -> None:
    _check(topic, json.dumps(doc))


@FUZZ
@given(index=st.integers(min_value=0), value=json_values, data=st.data())
def test_real_envelopes_with_one_field_replaced(index: int, value: object, data: Any) -> None:
    topic, body, _ = ENVELOPES[index % len(ENVELOPES)]
    paths = _paths(body)
    path = data.draw(st.sampled_from(paths))
    doc: Any = copy.deepcopy(body)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    _check(topic, json.dumps(doc))
    envelope = None
    try:
        envelope = parse(topic, json.dumps(doc))
    except EnvelopeError:
        return
    uplink = decode_envelope(envelope, MODELS[0]) or Uplink()
    reading = to_reading(envelope, uplink, site="kant", container="c01", model="EM310-UDL")
    assert reading.ts == envelope.time
