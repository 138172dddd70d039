"""The fill-sensor models the sensor edge can decode: names and short descriptions.

The API offers these in the container form and refuses any other model; the edge's decoder
table (`edge/sensors/models.py`) must hold exactly these names, which it checks when it is
imported (and `tests/edge/sensors/test_models.py` checks too). A container with a model the
edge cannot decode would have every uplink dead-lettered as ``unknown_model``.

Names are compared as the edge compares them: case, dashes and a vendor prefix ignored
(``em310udl`` and ``Milesight EM310-UDL`` are ``EM310-UDL``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SENSOR_MODELS", "SensorModelInfo", "canonical_model", "model_names"]


@dataclass(frozen=True, slots=True)
class SensorModelInfo:
    """One decodable model: its name as the registry stores it, its vendor, what it is."""

    name: str
    vendor: str
    description: str  # short, English; the pages translate by name (containers.model.<name>)


SENSOR_MODELS: tuple[SensorModelInfo, ...] = (
    SensorModelInfo("EM310-UDL", "Milesight", "ultrasonic distance from the lid, tilt"),
    SensorModelInfo("EM400-UDL", "Milesight", "ultrasonic distance from the lid, temperature"),
    SensorModelInfo("EM400-MUD", "Milesight", "multi-purpose distance from the lid, temperature"),
    SensorModelInfo("LDDS75", "Dragino", "ultrasonic distance 280-7500 mm, probe temperature"),
    SensorModelInfo("LDDS20", "Dragino", "liquid level from under the tank, 20-2000 mm"),
)


def model_names() -> tuple[str, ...]:
    """The names of the decodable models, in table order."""
    return tuple(m.name for m in SENSOR_MODELS)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def canonical_model(name: str) -> str | None:
    """The table's name for ``name`` (case, dashes, a vendor prefix ignored), or None."""
    key = _key(name)
    found = (m for m in SENSOR_MODELS if key in (_key(m.name), _key(m.vendor + m.name)))
    return next((m.name for m in found), None)
