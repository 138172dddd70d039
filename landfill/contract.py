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

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

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
    "Receipt",
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

# Bounds (issue 9): every number and bool is strict (no `true` as 1 kg, no "100" as 100), every
# float finite, every string and list bounded, weights in a documented range. The scale's own
# capacity (SQL `scale.max_kg`) is not known to ingest yet, so the range is the sane maximum.
MAX_WEIGHT_KG = 200_000  # no road-vehicle scale weighs more; a capture is 0 < weight <= this
DIVISIONS_KG = frozenset({1, 2, 5, 10, 20, 50, 100})  # legal divisions: 1, 2 or 5 x 10^k kg
MAX_TEXT = 500  # detail texts
MAX_LABEL = 100  # ticket labels (tags), protocol and model names
MAX_FRAMES = 16  # raw frames kept with a capture (the edge keeps the last 3)
MAX_FRAME_HEX = 512  # one frame as hex: 256 bytes
MAX_RECEIPT_IDS = 1000


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
    return value.astimezone(UTC)


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError("names are 1-64 characters of letters, digits and _ . : -")
    return value


def _clip(limit: int) -> AfterValidator:
    """Cut a text to ``limit`` characters (for dead letters, which carry bad input by design)."""
    return AfterValidator(lambda value: value[:limit])


def _text_or_datetime(value: object) -> object:
    if not isinstance(value, str | datetime):
        raise ValueError("timestamp must be an ISO-8601 text with a zone")  # no epoch numbers
    return value


# not strict, so a dict parsed from JSON validates like the JSON did; numbers are refused
UtcDatetime = Annotated[
    datetime, Field(strict=False), BeforeValidator(_text_or_datetime), AfterValidator(_aware_utc)
]
Name = Annotated[str, AfterValidator(_name)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Label = Annotated[str, Field(max_length=MAX_LABEL)]
Kg = Annotated[int, Field(ge=-MAX_WEIGHT_KG, le=MAX_WEIGHT_KG)]
BilledKg = Annotated[int, Field(ge=0, le=MAX_WEIGHT_KG)]
Pct = Annotated[float, Field(ge=-1000, le=1000)]  # fill % can pass 100 (overfull)
STRICT = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class Message(BaseModel):
    """Fields every payload has."""

    model_config = STRICT  # JSON strings still parse as `ts`; numbers and bools must be real

    v: Literal[1] = 1
    id: Name = Field(default_factory=new_id)  # a name: it is a tag of captures and weighings
    ts: UtcDatetime
    site: Name

    def to_json(self) -> bytes:
        """Serialise as UTF-8 JSON."""
        return self.model_dump_json().encode()


class LiveWeight(Message):
    """Live weight for displays (retained, QoS 0, a few per second at most)."""

    kind: Literal["weight"] = "weight"
    scale: Name
    weight_kg: Kg
    stable: bool
    overload: bool = False


class Capture(Message):
    """A stable weight captured by the edge; billed weights are integer kg at the division."""

    kind: Literal["capture"] = "capture"
    scale: Name
    weight_kg: int = Field(gt=0, le=MAX_WEIGHT_KG)
    division_kg: int
    stable_ms: int = Field(ge=0, le=3_600_000)
    protocol: Label
    stable_source: Literal["indicator", "window"] = "window"
    raw: list[Annotated[str, Field(max_length=MAX_FRAME_HEX, pattern=r"^[0-9a-f]*$")]] = Field(
        default_factory=list, max_length=MAX_FRAMES, description="frames as hex"
    )

    @model_validator(mode="after")
    def _at_a_legal_division(self) -> Capture:
        if self.division_kg not in DIVISIONS_KG:
            raise ValueError(f"division_kg must be one of {sorted(DIVISIONS_KG)}")
        if self.weight_kg % self.division_kg:
            raise ValueError("weight_kg must be a multiple of division_kg")
        return self


ScaleEventKind = Literal[
    "no_data",
    "data_resumed",
    "overload",
    "underload",
    "not_back_to_zero",
    "left_before_capture",
    "bad_frames",
    "outbox_failed",
]


class ScaleEvent(Message):
    """Something a scale operator should know that is not a weight."""

    kind: Literal["scale_event"] = "scale_event"
    scale: Name
    event: ScaleEventKind
    weight_kg: Kg | None = None
    detail: Text = ""


class ContainerReading(Message):
    """A normalised fill-sensor reading; ``None`` means the device sent no usable value."""

    kind: Literal["reading"] = "reading"
    container: Name
    device: str = Field(max_length=64)
    model: Label
    source: Literal["chirpstack", "tts", "native", "simulator"] = "native"
    distance_mm: int | None = Field(None, ge=0, le=65_535)
    temp_c: float | None = Field(None, ge=-80, le=200)
    battery_pct: float | None = Field(None, ge=0, le=100)
    battery_v: float | None = Field(None, ge=0, le=60)
    tilt: bool | None = None
    lid_open: bool | None = None
    fire: bool | None = None
    rssi: float | None = Field(None, ge=-200, le=50)
    snr: float | None = Field(None, ge=-50, le=50)
    fcnt: int | None = Field(None, ge=0, le=2**32 - 1)


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
    value: float | None = Field(None, ge=-1e9, le=1e9)
    detail: Text = ""


class ContainerEvent(Message):
    """A derived container event, such as an emptying candidate for a dispatcher to confirm."""

    kind: Literal["container_event"] = "container_event"
    container: Name
    event: Literal["emptying"]
    before_pct: Pct | None = None
    after_pct: Pct | None = None
    detail: Text = ""


class Ticket(Message):
    """A completed or voided weighing ticket from the ledger."""

    kind: Literal["ticket"] = "ticket"
    number: str = Field(pattern=r"^[A-Za-z0-9_./-]{1,32}$")  # 2026-000123; a tag in InfluxDB
    status: Literal["completed", "voided"]
    scale: Name
    gross_kg: BilledKg
    tare_kg: BilledKg
    net_kg: BilledKg
    client: Label | None = None
    vehicle: Label | None = None
    waste_type: Label | None = None
    zone: Label | None = None
    manual: bool = False

    @model_validator(mode="after")
    def _net_is_gross_less_tare(self) -> Ticket:
        if self.net_kg != self.gross_kg - self.tare_kg:
            raise ValueError("net_kg must be gross_kg - tare_kg")
        return self


class NodeStatus(Message):
    """Whether a process is online; the offline form is the MQTT last will."""

    kind: Literal["status"] = "status"
    node: Name
    online: bool
    version: str = Field("", max_length=40)
    fault: Text = Field("", description="why the node cannot do its work (outbox_failed: ...)")


class DeadLetter(Message):
    """A message a consumer could not use, kept with the reason."""

    kind: Literal["dead_letter"] = "dead_letter"
    reason: Annotated[str, _clip(1000)]
    topic: Annotated[str, _clip(1000)]
    payload: Annotated[str, _clip(65536)] = Field(
        description="the original payload, UTF-8 with replacement, cut at 64 Ki characters"
    )
    consumer: Annotated[str, _clip(64)] = ""


class ContainerSpecPublic(BaseModel):
    """One container as the registry describes it (geometry, thresholds, schedule, sensor)."""

    model_config = STRICT

    container: Name
    settlement: str = Field("", max_length=200)
    zone: str = Field("", max_length=64)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    volume_m3: float = Field(1.1, gt=0, le=100)
    empty_mm: int = Field(gt=0, le=20_000, description="sensor to the floor of the empty container")
    full_mm: int = Field(gt=0, le=20_000, description="sensor to the full line")
    full_pct: float = Field(80, gt=0, le=100)
    clear_pct: float = Field(70, ge=0, le=100)
    expected_interval_s: int = Field(3600, gt=0, le=7 * 86400)
    collection_weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=list, max_length=7, description="0 = Monday"
    )
    device: str | None = Field(None, max_length=64)
    model: str | None = Field(None, max_length=64)


class ContainerRegistry(Message):
    """Every container of a site (retained), so edge and ingest work without the API."""

    kind: Literal["registry"] = "registry"
    containers: list[ContainerSpecPublic] = Field(max_length=10_000)


class Receipt(Message):
    """Ingest's word that captures are stored in InfluxDB; the edge then drops them (issue 9)."""

    kind: Literal["receipt"] = "receipt"
    scale: Name
    ids: list[Annotated[str, Field(max_length=64)]] = Field(max_length=MAX_RECEIPT_IDS)


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
    "receipt",  # issue 9 item 5 (lead: one row of the table)
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
    "receipt": Receipt,
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
    "receipt": 1,
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

    def receipt(self, scale: str) -> str:
        """Ingest's receipts for the captures of one scale it stored."""
        return f"{self.base}/scale/{_name(scale)}/receipt"

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
            case Receipt():
                return self.receipt(msg.scale)
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
    r"scale/(?P<scale>[^/]+)/(?P<skind>weight|capture|event|receipt)"
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
        skinds = {"weight": "weight", "capture": "capture", "event": "scale_event"}
        return skinds.get(m["skind"], m["skind"])  # type: ignore[return-value]
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
    if mismatch := topic_mismatch(topic, model):
        field, in_topic, in_payload = mismatch
        raise PayloadError(
            f"{field}_mismatch", f"topic {field} {in_topic!r}, payload {field} {in_payload!r}"
        )
    return model


def topic_mismatch(topic: str, msg: Message) -> tuple[str, str, str] | None:
    """The first name the topic and payload disagree on: (field, topic's, payload's), or None.

    The topic is the authority (issue 9): broker ACLs are per topic, ingest stores under the
    payload's names, so a payload naming another site, scale, container, node or alert kind
    than its topic is refused (`site_mismatch`, `scale_mismatch`, ...). Lead: with the
    table-driven topics this is the table's name fields compared one by one.
    """
    m = _TOPIC.match(topic)
    if m is None:
        return None
    alert = m["ckind"][len("alert/") :] if (m["ckind"] or "").startswith("alert/") else None
    in_topic = {
        "site": m["site"],
        "scale": m["scale"],
        "container": m["container"],
        "node": m["node"],
        "alert": alert,
    }
    for field, value in in_topic.items():
        payload_value = getattr(msg, field, None)
        if value is not None and payload_value is not None and payload_value != value:
            return field, value, str(payload_value)
    return None


def model_for(kind: str) -> type[Message]:
    """Return the payload model for a topic kind."""
    return _MODELS[kind]


def as_dict(msg: Message) -> dict[str, Any]:
    """Return the JSON-ready dict of a message."""
    return msg.model_dump(mode="json")
