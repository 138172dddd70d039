"""Envelope + decoded uplink -> the contract's ContainerReading, with a replay-stable id.

The id is ``stable_id("reading", device, fcnt, time to the second)``: a replayed uplink (same
envelope) gets the same id and overwrites itself downstream. The container comes from the
registry (device -> container), never from the sensor.
"""

from __future__ import annotations

from annotated_types import Ge, Le

from edge.sensors.envelopes import Envelope
from edge.sensors.models import SensorModel, Uplink, uplink_from_values
from landfill.contract import ContainerReading, stable_id

__all__ = ["decode_envelope", "reading_id", "to_reading"]


def reading_id(envelope: Envelope) -> str:
    """Return the stable message id of the reading an envelope yields."""
    second = envelope.time.replace(microsecond=0).isoformat()
    return stable_id("reading", envelope.device_eui, envelope.fcnt, second)


def decode_envelope(envelope: Envelope, model: SensorModel | None) -> Uplink | None:
    """Decode the raw payload with the model, or take a native envelope's own values."""
    if envelope.payload:
        return model.decode(envelope.fport, envelope.payload) if model else None
    if envelope.source == "native" and envelope.decoded_object is not None:
        return uplink_from_values(envelope.decoded_object)
    return None  # vendor codec output (object / decoded_payload) is not trusted for units


def _bounds(name: str) -> tuple[float, float]:
    meta = ContainerReading.model_fields[name].metadata
    low = next(m.ge for m in meta if isinstance(m, Ge))
    high = next(m.le for m in meta if isinstance(m, Le))
    return float(low), float(high)  # type: ignore[arg-type]


MEASURED = {name: _bounds(name) for name in ("distance_mm", "temp_c", "battery_pct", "battery_v")}


def usable(uplink: Uplink) -> dict[str, float | int | None]:
    """The uplink's measured values; one outside the contract's range is no value (``None``)."""
    values: dict[str, float | int | None] = {}
    for name, (low, high) in MEASURED.items():
        value = getattr(uplink, name)
        values[name] = value if value is None or low <= value <= high else None
    return values


def to_reading(
    envelope: Envelope, uplink: Uplink, *, site: str, container: str, model: str
) -> ContainerReading:
    """Build the contract reading; raises pydantic's ValidationError on a bad site/container.

    A measured value the contract's range refuses (a native sensor's -81 °C) becomes ``None``:
    the reading's other values still count, as they do when a decoder finds a value missing.
    """
    return ContainerReading(
        id=reading_id(envelope),
        ts=envelope.time,
        site=site,
        container=container,
        device=envelope.device_eui,
        model=model,
        source=envelope.source,
        **usable(uplink),
        tilt=uplink.tilt,
        lid_open=uplink.lid_open,
        fire=uplink.fire,
        rssi=envelope.rssi,
        snr=envelope.snr,
        fcnt=envelope.fcnt,
    )
