"""The one container spec and its rules; the thresholds every container shares.

    API form / CSV row ──► ContainerSpec (checked here, once) ──► SQL row
    SQL row ──► ContainerSpec ──► retained registry message ──► edge (device map), ingest (tracker)
                              ──► dispatcher board (forecast, status)

The API's request and response models extend `ContainerSpec` (the code is called ``code``
there); the registry message carries it as it is. A registry entry that breaks a rule (a row
stored under older rules) is left out and logged, so the other containers still count.
`FillRules` are the thresholds of fill-sensors.md 3.2-3.5, the same for every container.
A device is a DevEUI or the network server's name for it (``DEVICE_PATTERN``); the model rule
(`decodable_model`) is applied where a person enters a container, not to registry messages.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, PydanticOmit

from landfill.names import NAME_PATTERN
from landfill.sensor_models import canonical_model, model_names

__all__ = [
    "BLIND_ZONE_MM",
    "DEVICE_PATTERN",
    "RULES",
    "ContainerSpec",
    "FillRules",
    "RegistryEntry",
    "Weekday",
    "decodable_model",
]

log = logging.getLogger("landfill.fill")

# a device is its DevEUI or its name in the network server (ChirpStack deviceName, The Things
# Stack device_id, a native bridge's device): letters, digits and _ . : -, at most 64
DEVICE_PATTERN = r"^(?:[0-9a-f]{16}|[a-z0-9][a-z0-9_.:-]{0,63})$"
_EUI_LIKE = re.compile(r"^[0-9a-f]{12,20}$")
BLIND_ZONE_MM = 280  # the sensors cannot measure closer than this to their face
Weekday = Annotated[int, Field(ge=0, le=6, description="0 = Monday")]


class ContainerSpec(BaseModel):
    """One container as installed: geometry, thresholds, schedule, place and sensor.

    Distances are in mm from the sensor face; weekdays are Python's (0 is Monday).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    container: str = Field(pattern=NAME_PATTERN)
    settlement: str = Field("", max_length=200)
    zone: str = Field("", max_length=64)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    volume_m3: float = Field(1.1, gt=0, le=100)
    empty_mm: int = Field(gt=0, le=20_000, description="sensor face to the empty floor")
    full_mm: int = Field(gt=0, le=20_000, description="sensor face to the full line")
    full_pct: float = Field(80.0, gt=0, le=100)
    clear_pct: float = Field(70.0, ge=0, le=100)
    expected_interval_s: int = Field(
        3600, ge=1, le=7 * 86400
    )  # a test sensor may report every second
    collection_weekdays: list[Weekday] = Field(default_factory=list)
    device: str | None = Field(
        None,
        pattern=DEVICE_PATTERN,
        description="DevEUI (16 hex digits) or the network server's device name, lower case",
    )
    model: str | None = Field(None, max_length=64)

    @field_validator("device", mode="before")
    @classmethod
    def _device(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return value or None
        return value

    @field_validator("device")
    @classmethod
    def _not_a_cut_eui(cls, value: str | None) -> str | None:
        # a name of hex digits only, near 16 long, is a DevEUI typed with a digit missing or extra
        if value and len(value) != 16 and _EUI_LIKE.match(value):
            raise PydanticCustomError(
                "device_eui_length",
                "a DevEUI has 16 hex digits, this one {digits}",
                {"digits": len(value)},
            )
        return value

    @field_validator("collection_weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _rules(self) -> Self:
        # each rule has its own error type, so a form can put the message beside its field
        if self.full_mm >= self.empty_mm:
            raise PydanticCustomError("full_below_empty", "full_mm must be less than empty_mm")
        if self.full_mm < BLIND_ZONE_MM:
            raise PydanticCustomError(
                "full_blind_zone",
                "full_mm must be at least the {blind_mm} mm sensor blind zone",
                {"blind_mm": BLIND_ZONE_MM},
            )
        if self.clear_pct >= self.full_pct:
            raise PydanticCustomError("clear_below_full", "clear_pct must be below full_pct")
        if (self.lat is None) != (self.lon is None):
            raise PydanticCustomError("both_coordinates", "give both lat and lon, or neither")
        return self


def decodable_model(value: str | None) -> str | None:
    """The rule for a container entered by a person: its model is one the sensor edge decodes.

    Returns the table's spelling of the name (``em310udl`` is ``EM310-UDL``). Not a rule of the
    registry message: a container stored before the rule still reaches the edge, which
    dead-letters its uplinks as ``unknown_model`` until someone fixes it.
    """
    if value is None or value == "":
        return None
    name = canonical_model(value)
    if name is None:
        raise PydanticCustomError(
            "unknown_model",
            "unknown model '{model}'; the sensor edge decodes {known}",
            {"model": value[:64], "known": ", ".join(model_names())},
        )
    return name


def _omit_refused(value: Any, handler: ValidatorFunctionWrapHandler) -> ContainerSpec:
    """Validate one registry entry; one that breaks a rule is logged and left out of the list."""
    try:
        spec: ContainerSpec = handler(value)
    except ValidationError as exc:
        name = value.get("container") if isinstance(value, dict) else value
        log.warning("container %r left out of the registry: %s", name, exc.errors()[0]["msg"])
        raise PydanticOmit from exc
    return spec


RegistryEntry = Annotated[ContainerSpec, WrapValidator(_omit_refused)]


@dataclass(frozen=True)
class FillRules:
    """Thresholds of the level filter, the emptying rule and the alerts (fill-sensors.md 3)."""

    tolerance_mm: int = 100  # an echo this far past the floor is still the floor
    sentinel_mm: frozenset[int] = frozenset({0, 20})  # Dragino: nothing in range, fault
    # level filter and emptying rule (3.2, 3.3)
    rise_confirm_pts: float = 30.0
    drop_pts: float = 25.0
    drop_to_pct: float = 10.0
    drop_from_pct: float = 20.0
    confirm_band_pts: float = 10.0
    # alert rules (3.5)
    fire_temp_c: float = 60.0
    fire_rise_c: float = 15.0
    fire_clear_c: float = 45.0
    fire_repeat_s: int = 900
    lid_open_s: int = 1800
    low_battery_pct: float = 20.0
    low_battery_v: float = 3.3
    battery_clear_pct: float = 30.0
    battery_clear_v: float = 3.4
    offline_factor: float = 2.5  # silence of this many expected intervals is offline


RULES = FillRules()
