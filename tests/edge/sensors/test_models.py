"""Sensor models decode their recorded payloads; sentinels never become 0 % or full."""

from __future__ import annotations

import pytest

from edge.sensors.models import MODELS, find_model, model_for_hint, model_named
from landfill.sensor_models import SENSOR_MODELS, canonical_model, model_names
from tests.edge.sensors.samples import FOREIGN_PAYLOADS, PAYLOADS, PayloadSample


def _id(sample: PayloadSample) -> str:
    return f"{sample.model}:{sample.hex}:{sample.fport}"


@pytest.mark.parametrize("sample", PAYLOADS, ids=_id)
def test_recorded_payload_decodes_to_expected_values(sample: PayloadSample) -> None:
    model = model_named(sample.model)
    assert model is not None
    assert model.decode(sample.fport, sample.payload) == sample.expected


@pytest.mark.parametrize("sample", PAYLOADS, ids=_id)
def test_sentinels_are_none_never_zero_or_full(sample: PayloadSample) -> None:
    model = model_named(sample.model)
    assert model is not None
    uplink = model.decode(sample.fport, sample.payload)
    if uplink is None:
        return
    assert uplink.distance_mm is None or uplink.distance_mm > 20
    for name in ("distance_mm", "battery_v", "temp_c", "battery_pct"):
        if any(s.startswith(f"{name}:") for s in uplink.sentinels) or "all_zero" in (
            uplink.sentinels
        ):
            assert getattr(uplink, name) is None, name


def test_every_model_has_a_recorded_sample_that_decodes() -> None:
    names = [m.name for m in MODELS]
    assert len(names) == len(set(names)), "model names must be unique"
    for model in MODELS:
        recorded = [s for s in PAYLOADS if s.model == model.name and s.expected is not None]
        assert recorded, f"{model.name} has no recorded sample in samples.py"
        for sample in recorded:
            assert model.decode(sample.fport, sample.payload) is not None
        # the sample the model advertises is one of the recorded ones
        assert model.sample in {s.hex for s in recorded}, model.name
        assert model.decode(model.fport, bytes.fromhex(model.sample)) is not None


def test_match_tokens_are_unique_and_normalised() -> None:
    tokens = [t for m in MODELS for t in m.match]
    assert len(tokens) == len(set(tokens))
    assert all(t.isalnum() and t == t.lower() for t in tokens)


@pytest.mark.parametrize(("hex_", "source"), FOREIGN_PAYLOADS)
def test_foreign_reference_payloads_give_no_reading(hex_: str, source: str) -> None:
    for model in MODELS:
        assert model.decode(None, bytes.fromhex(hex_)) is None, (model.name, source)


def test_empty_payload_is_no_reading() -> None:
    for model in MODELS:
        assert model.decode(model.fport, b"") is None


def test_dragino_rejects_other_ports_and_lengths() -> None:
    ldds75 = model_named("LDDS75")
    assert ldds75 is not None
    frame = bytes.fromhex("0cb805dc0000fa01")
    assert ldds75.decode(5, frame) is None
    assert ldds75.decode(None, frame) is not None  # port unknown: judged by length
    assert ldds75.decode(2, frame[:7]) is None
    assert ldds75.decode(2, frame + b"\x00") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("EM310-UDL", "EM310-UDL"),
        ("em310_udl", "EM310-UDL"),
        ("Milesight EM400-MUD", "EM400-MUD"),
        ("ldds20", "LDDS20"),
        ("EM400", None),
        ("LDDS45", None),
    ],
)
def test_model_by_name(name: str, expected: str | None) -> None:
    model = model_named(name)
    assert (model.name if model else None) == expected
    assert canonical_model(name) == expected  # the API's check names the same model


def test_decoders_are_the_models_landfill_offers() -> None:
    """The API's model choice (landfill) and the edge's decoder table are the same set."""
    assert sorted(m.name for m in MODELS) == sorted(model_names())
    vendors = {m.name: m.vendor for m in MODELS}
    assert {m.name: m.vendor for m in SENSOR_MODELS} == vendors
    assert all(m.description for m in SENSOR_MODELS)


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("Milesight EM310-UDL EU868", "EM310-UDL"),  # ChirpStack device-profile name
        ("em400-mud", "EM400-MUD"),  # TTS device repository model_id
        ("EM400-UDL (bin mode)", "EM400-UDL"),
        ("ldds75", "LDDS75"),
        ("DDS75-LB", "LDDS75"),
        ("LDDS20 v1.1.4", "LDDS20"),
        ("Milesight EM400", None),  # ambiguous: UDL or MUD
        ("Test device-profile", None),
        ("", None),
    ],
)
def test_model_by_hint(hint: str, expected: str | None) -> None:
    model = model_for_hint(hint)
    assert (model.name if model else None) == expected


def test_explicit_name_wins_over_hint() -> None:
    chosen = find_model("LDDS20", hint="Milesight EM310-UDL")
    assert chosen is not None
    assert chosen.name == "LDDS20"
    assert find_model("unknown-model", hint="EM310-UDL") is None  # registry typo stays visible
    hinted = find_model(None, hint="EM310-UDL")
    assert hinted is not None
    assert hinted.name == "EM310-UDL"
    assert find_model() is None


def test_ldds20_is_bottom_mounted() -> None:
    ldds20 = model_named("LDDS20")
    assert ldds20 is not None
    assert ldds20.mount == "bottom"
