"""The wire contract: MQTT topics and versioned JSON payloads shared by edge, ingest and api.

Topic root is ``landfill/v1/{site}/``. Every payload carries ``v`` (1), ``id`` (stable, so a
replay overwrites itself) and ``ts`` (ISO-8601 UTC, the time of the observation, not of
arrival). This module is the only definition of topics and payloads; every process imports it.

`KINDS` is the contract as a table, one row per message kind: payload model, topic pattern,
QoS, retained, stored by ingest. Topics, topic parsing, the ingest's subscriptions and the
publish flags are derived from it, so a new kind is one model and one row.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from landfill.fill.spec import RegistryEntry
from landfill.names import Name, check_name

__all__ = [
    "KINDS",
    "ROOT",
    "AlertKind",
    "Capture",
    "ContainerAlert",
    "ContainerEvent",
    "ContainerReading",
    "ContainerRegistry",
    "DeadLetter",
    "Kind",
    "LiveWeight",
    "Message",
    "Name",
    "NodeStatus",
    "PayloadError",
    "Receipt",
    "ScaleEvent",
    "ScaleEventKind",
    "Ticket",
    "Topics",
    "ValidationError",
    "check_name",
    "topic_mismatch",
    "topic_names",
    "capture_id",
    "decode",
    "kind_of",
    "new_id",
    "parse_topic",
    "stable_id",
    "utcnow",
    "whole_ms",
]

ROOT = "landfill/v1"

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


def whole_ms(ts: datetime) -> datetime:
    """The time cut to the millisecond (a capture's time is never finer)."""
    return ts.replace(microsecond=ts.microsecond - ts.microsecond % 1000)


def capture_id(site: str, scale: str, ts: datetime, weight_kg: int) -> str:
    """A capture's id: the hash of what it is, site, scale, time to the millisecond and weight.

    The edge names its captures so and ingest refuses a capture whose id is not this
    (`capture_id_mismatch`): one id is one (site, scale, millisecond, weight) and back, which
    is what lets a capture's point be found by its time and weight (docs/architecture.md,
    "How a stored capture is protected"). A time finer than the millisecond is not part of it.
    """
    if ts.tzinfo is not UTC:  # decoded times are UTC already: this runs for every capture
        ts = ts.astimezone(UTC)
    if ts.microsecond % 1000:
        ts = whole_ms(ts)
    # stable_id(site, scale, ts.isoformat(), weight_kg), without its generic join (1.3 us)
    text = f"{site}|{scale}|{ts.isoformat()}|{weight_kg}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a time zone (UTC)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is in the year 10000 in UTC
        raise ValueError("timestamp outside the calendar in UTC") from None


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
    """A stable weight captured by the edge; billed weights are integer kg at the division.

    Its id is `capture_id` of its content (no random default): build one with `weighed`.
    """

    id: Name  # capture_id(site, scale, ts, weight_kg); decode refuses any other
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

    @classmethod
    def weighed(
        cls, *, ts: datetime, site: str, scale: str, weight_kg: int, **rest: object
    ) -> Capture:
        """A capture named by its content (`capture_id`), its time cut to the millisecond."""
        at = whole_ms(ts)
        named = {"id": capture_id(site, scale, at, weight_kg), "ts": at, "site": site}
        return cls.model_validate(rest | named | {"scale": scale, "weight_kg": weight_kg})

    def named_by_content(self) -> bool:
        """Whether the id is `capture_id` of this capture's site, scale, time and weight."""
        return self.id == capture_id(self.site, self.scale, self.ts, self.weight_kg)

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
    # who sent the bad input and what it was meant to be, for the board's refused counts
    # (landfill/dead_letters.py): the edge knows the device from the network server's topic
    source: str = Field(
        "",
        max_length=100,
        description="device:<eui or name>, scale:<name>, container:<name>, site:<site>",
    )
    refused_kind: str = Field(
        "", max_length=64, description="the refused message's kind: a contract kind, or uplink"
    )


class ContainerRegistry(Message):
    """Every container of a site (retained), so edge and ingest work without the API."""

    kind: Literal["registry"] = "registry"
    containers: list[RegistryEntry] = Field(max_length=10_000)  # a bad entry is left out, logged


class Receipt(Message):
    """Ingest's word that captures are stored in InfluxDB; the edge then drops them (issue 9)."""

    kind: Literal["receipt"] = "receipt"
    scale: Name
    ids: list[Annotated[str, Field(max_length=64)]] = Field(max_length=MAX_RECEIPT_IDS)


@dataclass(frozen=True)
class Kind:
    """One message kind: its payload model and how it travels. The kind's name is the model's.

    ``pattern`` is the topic below the site's root; a ``{field}`` in it is the message's field
    of that name, checked as a name so that no payload can inject ``/``, ``+`` or ``#``.
    """

    model: type[Message]
    pattern: str
    qos: Literal[0, 1] = 1
    retained: bool = False
    stored: bool = False  # ingest subscribes to it (every site) and stores it in InfluxDB
    # from the ledger, not a device clock: may be published again long after (reconciliation,
    # a broker that was away), so ingest's time window bounds it only ahead, never behind
    ledger: bool = False

    @cached_property
    def name(self) -> str:
        """The payload's ``kind``, which is also the kind's name."""
        return str(self.model.model_fields["kind"].default)

    @cached_property
    def fields(self) -> tuple[str, ...]:
        """The message fields the topic carries, in topic order."""
        return tuple(re.findall(r"\{(\w+)\}", self.pattern))

    def topic(self, site: str, names: dict[str, str]) -> str:
        """Return the topic for ``site`` with the pattern's fields filled in from ``names``."""
        if set(names) != set(self.fields):
            raise TypeError(f"{self.name} topic needs {self.fields}, got {tuple(names)}")
        below = self.pattern.format(**{k: check_name(v) for k, v in names.items()})
        return f"{ROOT}/{check_name(site)}/{below}"

    def topic_filter(self, site: str = "+") -> str:
        """Return the topic filter that matches this kind on one site (default: every site)."""
        where = site if site == "+" else check_name(site)
        return f"{ROOT}/{where}/" + re.sub(r"\{\w+\}", "+", self.pattern)


KINDS: tuple[Kind, ...] = (
    Kind(LiveWeight, "scale/{scale}/weight", qos=0, retained=True),
    Kind(Capture, "scale/{scale}/capture", stored=True),
    Kind(ScaleEvent, "scale/{scale}/event", stored=True),
    Kind(Receipt, "scale/{scale}/receipt"),
    Kind(ContainerReading, "container/{container}/reading", stored=True),
    Kind(ContainerAlert, "container/{container}/alert/{alert}", retained=True, stored=True),
    Kind(ContainerEvent, "container/{container}/event", stored=True),
    Kind(Ticket, "ticket", stored=True, ledger=True),
    Kind(NodeStatus, "node/{node}/status", retained=True),
    Kind(DeadLetter, "deadletter", stored=True),  # ingest stores them, sampled
    Kind(ContainerRegistry, "registry/containers", retained=True),
)
_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
_BY_MODEL: dict[type[Message], Kind] = {k.model: k for k in KINDS}


def _topic_regex(kind: Kind) -> str:
    parts = ("[^/]+" if p.startswith("{") else re.escape(p) for p in kind.pattern.split("/"))
    return f"(?P<{kind.name}>{'/'.join(parts)})"


# one alternative per kind, named after it: the match's lastgroup is the kind
_TOPIC = re.compile(rf"^{re.escape(ROOT)}/[^/]+/(?:{'|'.join(_topic_regex(k) for k in KINDS)})$")


def kind_of(message: Message | type[Message]) -> Kind:
    """Return the kind of a message or of a payload model."""
    model = message if isinstance(message, type) else type(message)
    return _BY_MODEL[model]


@dataclass(frozen=True)
class Topics:
    """Topics of one site, built from the kinds table."""

    site: str

    def __post_init__(self) -> None:
        check_name(self.site)

    def of(self, model: type[Message], **names: str) -> str:
        """Return the topic of a kind, given the names its pattern holds.

        ``Topics(site).of(Capture, scale="s1")``, ``Topics(site).of(ContainerRegistry)``.
        """
        return kind_of(model).topic(self.site, names)

    def for_message(self, msg: Message) -> str:
        """Return the topic a message is published on."""
        kind = kind_of(msg)
        return kind.topic(self.site, {f: getattr(msg, f) for f in kind.fields})

    def subscriptions(self) -> list[str]:
        """Topic filters the ingest subscribes to: the stored kinds of every site."""
        return [k.topic_filter() for k in KINDS if k.stored]


def parse_topic(topic: str) -> str | None:
    """Return which payload kind a topic carries, or None for a topic outside the contract."""
    parsed = _parsed_topic(topic)
    return parsed[0] if parsed else None


@lru_cache(maxsize=4096)  # ingest sees the same few topics per scale and container again and again
def _parsed_topic(topic: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """(kind, the names the topic carries: site and the kind's pattern fields), or None."""
    m = _TOPIC.match(topic)
    if m is None or m.lastgroup is None:
        return None
    kind = m.lastgroup
    parts = topic.split("/")
    depth = ROOT.count("/") + 1
    names = [("site", parts[depth])]
    for part, value in zip(_BY_NAME[kind].pattern.split("/"), parts[depth + 1 :], strict=True):
        if part.startswith("{"):
            names.append((part[1:-1], value))
    return kind, tuple(names)


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
        model = _BY_NAME[kind].model.model_validate_json(payload)
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
    if isinstance(model, Capture) and not model.named_by_content():
        raise PayloadError(
            "capture_id_mismatch", f"id {model.id!r} is not capture_id(site, scale, ts, weight_kg)"
        )
    return model


def topic_names(topic: str) -> dict[str, str] | None:
    """The names a contract topic carries (site and its kind's pattern fields), or None."""
    parsed = _parsed_topic(topic)
    return dict(parsed[1]) if parsed else None


def topic_mismatch(topic: str, msg: Message) -> tuple[str, str, str] | None:
    """The first name the topic and payload disagree on: (field, topic's, payload's), or None.

    The topic is the authority: broker ACLs are per topic, so a payload naming another site,
    scale, container, node or alert kind than its topic is refused (`site_mismatch`, ...).
    """
    parsed = _parsed_topic(topic)
    for field, value in parsed[1] if parsed else ():
        payload_value = getattr(msg, field, None)
        if payload_value is not None and payload_value != value:
            return field, value, str(payload_value)
    return None
