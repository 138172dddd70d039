"""Container registry logic: field rules, CSV import/export, the retained registry message.

CSV layout (header on line 1, columns in any order; UTF-8 or Windows-1251, comma or semicolon,
decimal point or comma: see `api/spreadsheet.py`)::

    code,settlement,zone,lat,lon,volume_m3,empty_mm,full_mm,full_pct,clear_pct,
    expected_interval_s,collection_weekdays,device,model,active

Only ``code``, ``empty_mm`` and ``full_mm`` are required; an empty cell takes the default.
``collection_weekdays`` holds digits 0 (Monday) to 6 (Sunday) separated by spaces or ``;``.
``active`` is true/false (also 1/0, yes/no). A row whose code exists updates that container.
``device`` is a DevEUI or the network server's device name; ``model`` one the sensor edge
decodes (`landfill.sensor_models`), as in the form.
An import is all or nothing: every row is checked first and any error rejects the whole file,
with the line number of each bad row.
An export writes text that starts like a formula (``=``, ``+``, ``-``, ``@``) with a leading
``'``; the import takes it off again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from typing import Any

import paho.mqtt.client as mqtt
from pydantic import ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import Container, Site
from api.spreadsheet import decimal_point, delimiter, neutralise, restore
from landfill.contract import ContainerRegistry, Topics, stable_id, utcnow
from landfill.fill.spec import ContainerSpec, decodable_model
from landfill.mqtt import MAX_PACKET_BYTES
from landfill.names import NAME_PATTERN

__all__ = [
    "CSV_COLUMNS",
    "ContainerFields",
    "CsvRowError",
    "apply_fields",
    "device_owner",
    "export_csv",
    "fields_of",
    "first_error",
    "parse_csv",
    "publish_registry",
    "registry_overflow",
    "registry_message",
    "seed_demo",
    "spec_of",
]

CSV_COLUMNS = (
    "code",
    "settlement",
    "zone",
    "lat",
    "lon",
    "volume_m3",
    "empty_mm",
    "full_mm",
    "full_pct",
    "clear_pct",
    "expected_interval_s",
    "collection_weekdays",
    "device",
    "model",
    "active",
)
DEMO_CSV = "containers_demo.csv"
REGISTRY_BYTES = MAX_PACKET_BYTES - 1024  # the topic and the packet header take the rest


class ContainerFields(ContainerSpec):
    """A container as the API takes it: the spec (its rules), ``code`` for its name, active."""

    model_config = ConfigDict(populate_by_name=True)

    container: str = Field(alias="code", pattern=NAME_PATTERN)
    active: bool = True

    @field_validator("model")
    @classmethod
    def _decodable(cls, value: str | None) -> str | None:
        return decodable_model(value)


def first_error(exc: ValidationError) -> str:
    """One readable line for the first problem: ``field: message``."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


# the one mapping between the spec and the stored row: the row calls the name `code` and keeps
# the weekdays as digits separated by spaces
def fields_of(row: Container) -> ContainerFields:
    """A stored container as fields (it was checked on the way in)."""
    values = {name: getattr(row, _column(name)) for name in ContainerFields.model_fields}
    values["collection_weekdays"] = [int(d) for d in row.collection_weekdays.split()]
    return ContainerFields.model_construct(**values)


def apply_fields(row: Container, fields: ContainerFields) -> None:
    """Copy checked fields onto a row."""
    for name in ContainerFields.model_fields:
        value = getattr(fields, name)
        if name == "collection_weekdays":
            value = " ".join(str(d) for d in value)
        setattr(row, _column(name), value)


def _column(field: str) -> str:
    return "code" if field == "container" else field


def spec_of(row: Container) -> ContainerSpec:
    """A stored container as the registry message carries it."""
    return ContainerSpec.model_construct(**fields_of(row).model_dump(exclude={"active"}))


def device_owner(
    session: Session, device: str | None, except_code: str | None = None
) -> str | None:
    """The code of the active container bound to ``device`` (any site: a device is one radio)."""
    if device is None:
        return None
    stmt = select(Container.code).where(Container.device == device, Container.active)
    if except_code is not None:
        stmt = stmt.where(Container.code != except_code)
    return session.scalar(stmt)


def registry_message(session: Session, site: str) -> ContainerRegistry:
    """The retained registry: every active container of the site, by code.

    The id is derived from the content, so publishing an unchanged registry is a replay.
    """
    rows = session.scalars(
        select(Container)
        .join(Site)
        .where(Site.code == site, Container.active)
        .order_by(Container.code)
    )
    specs = [spec_of(r) for r in rows]
    content = "|".join(s.model_dump_json() for s in specs)
    return ContainerRegistry(
        id=stable_id(site, "registry", content), ts=utcnow(), site=site, containers=specs
    )


def registry_overflow(session: Session, site: str) -> str | None:
    """Why the site's registry (pending changes included) is too large to publish, or None.

    The broker drops a client that sends more than `MAX_PACKET_BYTES`, so a registry over it
    would never arrive and the API would reconnect and try again for ever.
    """
    msg = registry_message(session, site)
    size = len(msg.to_json())
    if size <= REGISTRY_BYTES:
        return None
    return (
        f"{len(msg.containers)} active containers make a registry of {size:,} bytes; "
        f"the broker takes {REGISTRY_BYTES:,} (about 3,000 containers)"
    )


def publish_registry(client: mqtt.Client, session: Session, site: str) -> ContainerRegistry:
    """Publish the registry retained at QoS 1 (paho queues it while the broker is away)."""
    msg = registry_message(session, site)
    client.publish(Topics(site).of(ContainerRegistry), msg.to_json(), qos=1, retain=True)
    return msg


@dataclass(frozen=True)
class CsvRowError:
    """One problem in an imported file; line 1 is the header."""

    line: int
    error: str


_TRUE = {"1", "true", "yes", "y", "да", "ооба"}
_FALSE = {"0", "false", "no", "n", "нет", "жок"}
_DECIMALS = frozenset({"lat", "lon", "volume_m3", "full_pct", "clear_pct"})


def _cell(name: str, raw: str) -> Any:
    value = restore(raw.strip())
    if name in _DECIMALS:
        return decimal_point(value)
    if name == "collection_weekdays":
        parts = value.replace(";", " ").replace(",", " ").split()
        return [int(p) if p.lstrip("-").isdigit() else p for p in parts]
    if name == "active":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        return value
    return value


def parse_csv(text: str) -> tuple[list[tuple[int, ContainerFields]], list[CsvRowError]]:
    """Check every row of a CSV; return the good rows with their line, and the errors."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], [CsvRowError(1, "empty file")]
    except csv.Error as exc:
        return [], [CsvRowError(1, f"unreadable CSV: {exc}")]
    if problem := _header_problem(header):
        return [], [CsvRowError(1, problem)]

    good: list[tuple[int, ContainerFields]] = []
    errors: list[CsvRowError] = []
    seen: dict[str, int] = {}  # "code X" and "device Y" -> the line that has it
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(CsvRowError(reader.line_num, f"unreadable CSV: {exc}"))
            break
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append(CsvRowError(line, f"expected {len(header)} cells, found {len(cells)}"))
            continue
        data = {h: _cell(h, c) for h, c in zip(header, cells, strict=True) if c.strip() != ""}
        try:
            fields = ContainerFields.model_validate(data)
        except ValidationError as exc:
            errors.append(CsvRowError(line, first_error(exc)))
            continue
        if repeat := _repeat(fields, line, seen):
            errors.append(CsvRowError(line, repeat))
            continue
        good.append((line, fields))
    return good, errors


def _header_problem(header: list[str]) -> str:
    what = []
    if unknown := [h for h in header if h not in CSV_COLUMNS]:
        what.append(f"unknown columns: {', '.join(unknown)}")
    if missing := [c for c in ("code", "empty_mm", "full_mm") if c not in header]:
        what.append(f"missing columns: {', '.join(missing)}")
    if len(set(header)) != len(header):
        what.append("a column appears twice")
    return "; ".join(what)


def _repeat(fields: ContainerFields, line: int, seen: dict[str, int]) -> str:
    """A code, or the device of an active container, that an earlier line already has."""
    keys = [f"code {fields.container}"]
    if fields.device and fields.active:
        keys.append(f"device {fields.device}")
    for key in keys:
        if key in seen:
            return f"{key} repeats line {seen[key]}"
        seen[key] = line
    return ""


def _csv_value(name: str, fields: ContainerFields) -> str:
    value = getattr(fields, "container" if name == "code" else name)
    if name == "collection_weekdays":
        return " ".join(str(d) for d in value)
    if name == "active":
        return "true" if value else "false"
    return "" if value is None else str(value)


def export_csv(rows: list[Container]) -> str:
    """The containers as CSV in the import layout (re-importing it changes nothing)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        fields = fields_of(row)
        writer.writerow([neutralise(_csv_value(c, fields)) for c in CSV_COLUMNS])
    return out.getvalue()


def import_rows(
    session: Session, site: Site, rows: list[tuple[int, ContainerFields]]
) -> tuple[int, int, list[CsvRowError]]:
    """Create or update the rows in the session (not committed); (created, updated, errors)."""
    existing = {
        c.code: c for c in session.scalars(select(Container).where(Container.site_id == site.id))
    }
    in_file = {f.container for _, f in rows}
    errors: list[CsvRowError] = []
    created = updated = 0
    with session.no_autoflush:
        for line, fields in rows:
            owner = device_owner(session, fields.device if fields.active else None)
            if owner is not None and owner != fields.container and owner not in in_file:
                errors.append(CsvRowError(line, f"device {fields.device} is bound to {owner}"))
                continue
            row = existing.get(fields.container)
            if row is None:
                row = Container(site_id=site.id)
                session.add(row)
                created += 1
            else:
                updated += 1
            apply_fields(row, fields)
    return created, updated, errors


def demo_csv() -> str:
    """The shipped CSV of the first customer's 33 containers."""
    return resources.files("api").joinpath("data", DEMO_CSV).read_text(encoding="utf-8")


def seed_demo(session: Session, site: Site) -> int:
    """Load the demo containers (create or update by code); return how many rows."""
    rows, errors = parse_csv(demo_csv())
    if errors:
        raise ValueError(f"demo CSV line {errors[0].line}: {errors[0].error}")
    _, _, errors = import_rows(session, site, rows)
    if errors:
        raise ValueError(f"demo CSV line {errors[0].line}: {errors[0].error}")
    session.commit()
    return len(rows)
