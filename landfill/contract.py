"""The wire contract: MQTT topics and versioned JSON payloads shared by edge, ingest and api.

Topic root is ``landfill/v1/{site}/``. Every payload carries ``v`` (1), ``id`` (stable, so a
replay overwrites itself) and ``ts`` (ISO-8601 UTC, the time of the observation, not of
arrival). This module is the only definition of topics and payloads; every process imports it.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "ROOT",
    "AlertKind",
    "Capture",
    "ContainerAlert",
    "ContainerEvent",
    "ContainerReading",
    "ContainerRegistry",
    "ContainerSpecPublic",
    "DeadLetter",
    "LiveWeight",
    "Message",
    "NodeStatus",
    "PayloadError",
    "QOS",
    "RETAINED",
    "ScaleEvent",
    "ScaleEventKind",
    "Ticket",
    "TopicKind",
    "Topics",
    "ValidationError",
    "decode",
    "new_id",
    "parse_topic",
    "stable_id",
    "utcnow",
]

ROOT = "landfill/v1"
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def new_id() -> str:
    """Return a fresh random message id."""
    return uuid.uuid4().hex


def stable_id(*parts: object) -> str:
    """Return a deterministic id from the parts, so the same observation gets the same id."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:32]


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a time zone (UTC)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is in the year 10000 in UTC
        raise ValueError("timestamp outside the calendar in UTC") from None


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError("names are 1-64 characters of letters, digits and _ . : -")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_aware_utc)]
Name = Annotated[str, AfterValidator(_name)]


class Message(BaseModel):
    """Fields every payload has."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    id: str = Field(default_factory=new_id, min_length=1, max_length=64)
    ts: UtcDatetime
    site: Name

    def to_json(self) -> bytes:
        """Serialise as UTF-8 JSON."""
        return self.model_dump_json().encode()


class LiveWeight(Message):
    """Live weight for displays (retained, QoS 0, a few per second at most)."""

    kind: Literal["weight"] = "weight"
    scale: Name
    weight_kg: int
    stable: bool
    overload: bool = False


class Capture(Message):
    """A stable weight captured by the edge; billed weights are integer kg at the division."""

    kind: Literal["capture"] = "capture"
    scale: Name
    weight_kg: int
    division_kg: int = Field(gt=0)
    stable_ms: int = Field(ge=0)
    protocol: str
    stable_source: Literal["indicator", "window"] = "window"
    raw: list[str] = Field(default_factory=list, description="frames as hex")


ScaleEventKind = Literal[
    "no_data",
    "data_resumed",
    "overload",
    "underload",
    "not_back_to_zero",
    "left_before_capture",
    "bad_frames",
]


class ScaleEvent(Message):
    """Something a scale operator should know that is not a weight."""

    kind: Literal["scale_event"] = "scale_event"
    scale: Name
    event: ScaleEventKind
    weight_kg: int | None = None
    detail: str = ""


class ContainerReading(Message):
    """A normalised fill-sensor reading; ``None`` means the device sent no usable value."""

    kind: Literal["reading"] = "reading"
    container: Name
    device: str
    model: str
    source: Literal["chirpstack", "tts", "native", "simulator"] = "native"
    distance_mm: int | None = None
    temp_c: float | None = None
    battery_pct: float | None = None
    battery_v: float | None = None
    tilt: bool | None = None
    lid_open: bool | None = None
    fire: bool | None = None
    rssi: float | None = None
    snr: float | None = None
    fcnt: int | None = None


AlertKind = Literal["full", "overfull", "fire", "tilt", "lid_open", "offline", "low_battery"]


class ContainerAlert(Message):
    """Current state of one alert kind on one container (retained)."""

    kind: Literal["alert"] = "alert"
    container: Name
    alert: AlertKind
    active: bool
    severity: Literal["info", "minor", "warning", "major", "critical"]
    transition: Literal["raised", "cleared", "escalated", "repeated"]
    since: UtcDatetime
    value: float | None = None
    detail: str = ""


class ContainerEvent(Message):
    """A derived container event, such as an emptying candidate for a dispatcher to confirm."""

    kind: Literal["container_event"] = "container_event"
    container: Name
    event: Literal["emptying"]
    before_pct: float | None = None
    after_pct: float | None = None
    detail: str = ""


class Ticket(Message):
    """A completed or voided weighing ticket from the ledger."""

    kind: Literal["ticket"] = "ticket"
    number: str
    status: Literal["completed", "voided"]
    scale: Name
    gross_kg: int
    tare_kg: int
    net_kg: int
    client: str | None = None
    vehicle: str | None = None
    waste_type: str | None = None
    zone: str | None = None
    manual: bool = False


class NodeStatus(Message):
    """Whether a process is online; the offline form is the MQTT last will."""

    kind: Literal["status"] = "status"
    node: Name
    online: bool
    version: str = ""


class DeadLetter(Message):
    """A message a consumer could not use, kept with the reason."""

    kind: Literal["dead_letter"] = "dead_letter"
    reason: str
    topic: str
    payload: str = Field(description="the original payload, UTF-8 with replacement, max 64 KiB")
    consumer: str = ""


class ContainerSpecPublic(BaseModel):
    """One container as the registry describes it (geometry, thresholds, schedule, sensor)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    container: Name
    settlement: str = ""
    zone: str = ""
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    volume_m3: float = Field(1.1, gt=0)
    empty_mm: int = Field(gt=0, description="sensor to the floor of the empty container")
    full_mm: int = Field(gt=0, description="sensor to the full line")
    full_pct: float = Field(80, gt=0, le=100)
    clear_pct: float = Field(70, ge=0, le=100)
    expected_interval_s: int = Field(3600, gt=0)
    collection_weekdays: list[int] = Field(default_factory=list, description="0 = Monday")
    device: str | None = None
    model: str | None = None


class ContainerRegistry(Message):
    """Every container of a site (retained), so edge and ingest work without the API."""

    kind: Literal["registry"] = "registry"
    containers: list[ContainerSpecPublic]


TopicKind = Literal[
    "weight",
    "capture",
    "scale_event",
    "reading",
    "alert",
    "container_event",
    "ticket",
    "status",
    "dead_letter",
    "registry",
]

_MODELS: dict[str, type[Message]] = {
    "weight": LiveWeight,
    "capture": Capture,
    "scale_event": ScaleEvent,
    "reading": ContainerReading,
    "alert": ContainerAlert,
    "container_event": ContainerEvent,
    "ticket": Ticket,
    "status": NodeStatus,
    "dead_letter": DeadLetter,
    "registry": ContainerRegistry,
}

QOS: dict[str, int] = {
    "weight": 0,
    "capture": 1,
    "scale_event": 1,
    "reading": 1,
    "alert": 1,
    "container_event": 1,
    "ticket": 1,
    "status": 1,
    "dead_letter": 1,
    "registry": 1,
}
RETAINED: frozenset[str] = frozenset({"weight", "alert", "status", "registry"})


@dataclass(frozen=True)
class Topics:
    """Topic builders for one site."""

    site: str

    def __post_init__(self) -> None:
        _name(self.site)

    @property
    def base(self) -> str:
        """Topic root of the site."""
        return f"{ROOT}/{self.site}"

    def weight(self, scale: str) -> str:
        """Live weight topic."""
        return f"{self.base}/scale/{_name(scale)}/weight"

    def capture(self, scale: str) -> str:
        """Stable capture topic."""
        return f"{self.base}/scale/{_name(scale)}/capture"

    def scale_event(self, scale: str) -> str:
        """Scale event topic."""
        return f"{self.base}/scale/{_name(scale)}/event"

    def reading(self, container: str) -> str:
        """Normalised container reading topic."""
        return f"{self.base}/container/{_name(container)}/reading"

    def alert(self, container: str, kind: str) -> str:
        """Retained alert state per container and kind."""
        return f"{self.base}/container/{_name(container)}/alert/{_name(kind)}"

    def container_event(self, container: str) -> str:
        """Derived container events (emptying)."""
        return f"{self.base}/container/{_name(container)}/event"

    def ticket(self) -> str:
        """Completed or voided tickets."""
        return f"{self.base}/ticket"

    def status(self, node: str) -> str:
        """Node online/offline (retained, last will)."""
        return f"{self.base}/node/{_name(node)}/status"

    def dead_letter(self) -> str:
        """Messages a consumer rejected, with the reason."""
        return f"{self.base}/deadletter"

    def registry(self) -> str:
        """The container registry (retained)."""
        return f"{self.base}/registry/containers"

    def for_message(self, msg: Message) -> str:
        """Return the topic a message is published on."""
        match msg:
            case LiveWeight():
                return self.weight(msg.scale)
            case Capture():
                return self.capture(msg.scale)
            case ScaleEvent():
                return self.scale_event(msg.scale)
            case ContainerReading():
                return self.reading(msg.container)
            case ContainerAlert():
                return self.alert(msg.container, msg.alert)
            case ContainerEvent():
                return self.container_event(msg.container)
            case Ticket():
                return self.ticket()
            case NodeStatus():
                return self.status(msg.node)
            case DeadLetter():
                return self.dead_letter()
            case ContainerRegistry():
                return self.registry()
        raise TypeError(f"no topic for {type(msg).__name__}")

    def subscriptions(self) -> list[str]:
        """Topic filters the ingest subscribes to (everything but live weight and dead letters)."""
        b = f"{ROOT}/+"
        return [
            f"{b}/scale/+/capture",
            f"{b}/scale/+/event",
            f"{b}/container/+/reading",
            f"{b}/container/+/alert/+",
            f"{b}/container/+/event",
            f"{b}/ticket",
        ]


_TOPIC = re.compile(
    r"^landfill/v1/(?P<site>[^/]+)/(?:"
    r"scale/(?P<scale>[^/]+)/(?P<skind>weight|capture|event)"
    r"|container/(?P<container>[^/]+)/(?P<ckind>reading|event|alert/[^/]+)"
    r"|(?P<ticket>ticket)"
    r"|node/(?P<node>[^/]+)/status"
    r"|(?P<dl>deadletter)"
    r"|(?P<registry>registry/containers))$"
)


def parse_topic(topic: str) -> TopicKind | None:
    """Return which payload kind a topic carries, or None for a topic outside the contract."""
    m = _TOPIC.match(topic)
    if not m:
        return None
    if m["skind"]:
        return {"weight": "weight", "capture": "capture", "event": "scale_event"}[m["skind"]]  # type: ignore[return-value]
    if m["ckind"]:
        if m["ckind"] == "reading":
            return "reading"
        return "container_event" if m["ckind"] == "event" else "alert"
    if m["ticket"]:
        return "ticket"
    if m["node"]:
        return "status"
    if m["registry"]:
        return "registry"
    return "dead_letter"


class PayloadError(ValueError):
    """A payload that is not a valid contract message; ``reason`` is short and fixed."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def decode(topic: str, payload: bytes) -> Message:
    """Parse a payload received on ``topic`` into its model, or raise PayloadError."""
    kind = parse_topic(topic)
    if kind is None:
        raise PayloadError("unknown_topic", topic)
    try:
        model = _MODELS[kind].model_validate_json(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        reason = "invalid_json" if first.get("type") == "json_invalid" else "invalid_payload"
        raise PayloadError(reason, f"{where}: {first.get('msg', '')}".strip(": ")) from None
    site = topic.split("/")[2]
    if model.site != site:
        raise PayloadError("site_mismatch", f"topic site {site!r}, payload site {model.site!r}")
    return model


def model_for(kind: str) -> type[Message]:
    """Return the payload model for a topic kind."""
    return _MODELS[kind]


def as_dict(msg: Message) -> dict[str, Any]:
    """Return the JSON-ready dict of a message."""
    return msg.model_dump(mode="json")
