"""The weighbridge registry: clients, waste types and vehicles; their rules and CSV files.

CSV layout (UTF-8, comma separated, header on line 1, columns in any order, an empty cell takes
the default), the same conventions as the container registry (`api/container_registry.py`):

    clients.csv      code,name,inn,contract_no,address,phone,vat_payer,status
    waste-types.csv  code,name_ky,name_ru,name_en,accepted
    vehicles.csv     plate,client,tare_kg,tare_set_at,tare_expires_at,volume_m3,waste_type,active

Booleans are true/false (also 1/0, yes/no, да/нет, ооба/жок); times are ISO-8601 with a zone.
A vehicle names its owner client and default waste type by code. An import is all or nothing:
every row is checked and any error rejects the whole file, with each bad row's line number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.container_registry import CsvRowError, first_error
from api.db import Site
from api.weighbridge.identity import check_inn, normalise_plate
from api.weighbridge.models import Client, Vehicle, WasteType
from landfill.names import NAME_PATTERN

__all__ = [
    "CLIENT_SHEET",
    "VEHICLE_SHEET",
    "WASTE_SHEET",
    "ClientFields",
    "Sheet",
    "VehicleFields",
    "WasteTypeFields",
    "apply_vehicle",
    "as_utc",
    "export_sheet",
    "parse_sheet",
    "tare_state",
    "vehicle_fields",
]

Code = Field(pattern=NAME_PATTERN)


class ClientFields(BaseModel):
    """A client as the API takes it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Code
    name: str = Field(min_length=1, max_length=300)
    inn: str
    contract_no: str = Field("", max_length=64)
    address: str = Field("", max_length=500)
    phone: str = Field("", max_length=64, pattern=r"^[0-9+()\- ]*$")
    vat_payer: bool = False
    status: Literal["active", "on_hold"] = "active"

    @field_validator("inn")
    @classmethod
    def _inn(cls, value: str) -> str:
        try:
            return check_inn(value)
        except ValueError as exc:
            digits = "".join(value.split())
            if len(digits) == 13 and digits.isdigit():
                raise ValueError(f"{exc} (a spreadsheet may have dropped a leading 0)") from None
            raise


class WasteTypeFields(BaseModel):
    """A waste type as the API takes it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Code
    name_ky: str = Field(min_length=1, max_length=200)
    name_ru: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    accepted: bool = True


class VehicleFields(BaseModel):
    """A vehicle as the API takes it; the plate is stored in its canonical form."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    plate: str
    client: str | None = Field(None, pattern=NAME_PATTERN, description="owner client's code")
    tare_kg: int | None = Field(None, gt=0, le=200_000)
    tare_set_at: AwareDatetime | None = None
    tare_expires_at: AwareDatetime | None = None
    volume_m3: float | None = Field(None, gt=0, le=500)
    waste_type: str | None = Field(None, pattern=NAME_PATTERN, description="default waste code")
    active: bool = True

    @field_validator("plate")
    @classmethod
    def _plate(cls, value: str) -> str:
        return normalise_plate(value)

    @model_validator(mode="after")
    def _tare_dates(self) -> VehicleFields:
        if self.tare_set_at and self.tare_expires_at and self.tare_expires_at <= self.tare_set_at:
            raise ValueError("tare_expires_at must be after tare_set_at")
        return self


def tare_state(row: Vehicle, now: datetime) -> Literal["none", "valid", "expired"]:
    """Whether the vehicle has a stored tare that may weigh a ticket now."""
    if row.tare_kg is None:
        return "none"
    expires = as_utc(row.tare_expires_at)
    return "valid" if expires is None or expires > now else "expired"


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite hands them back without a zone)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def vehicle_fields(session: Session, row: Vehicle) -> VehicleFields:
    """A stored vehicle as fields, its client and waste type by code."""
    client = session.get(Client, row.client_id) if row.client_id else None
    waste = session.get(WasteType, row.waste_type_id) if row.waste_type_id else None
    return VehicleFields.model_construct(
        plate=row.plate,
        client=client.code if client else None,
        tare_kg=row.tare_kg,
        tare_set_at=as_utc(row.tare_set_at),
        tare_expires_at=as_utc(row.tare_expires_at),
        volume_m3=row.volume_m3,
        waste_type=waste.code if waste else None,
        active=row.active,
    )


def apply_vehicle(
    session: Session, site: Site, row: Vehicle, fields: VehicleFields, now: datetime, days: int
) -> str:
    """Copy checked fields onto a row; a problem with a referenced code is returned as text.

    A tare given without its date is set now; without an expiry it is valid ``days`` days.
    """
    client_id = waste_id = None
    if fields.client is not None:
        client_id = session.scalar(
            select(Client.id).where(Client.site_id == site.id, Client.code == fields.client)
        )
        if client_id is None:
            return f"client {fields.client} is not registered"
    if fields.waste_type is not None:
        waste_id = session.scalar(
            select(WasteType.id).where(
                WasteType.site_id == site.id, WasteType.code == fields.waste_type
            )
        )
        if waste_id is None:
            return f"waste type {fields.waste_type} is not registered"
    set_at = fields.tare_set_at
    expires = fields.tare_expires_at
    if fields.tare_kg is not None:
        set_at = set_at or now
        expires = expires or set_at + timedelta(days=days)
    else:
        set_at = expires = None
    row.plate = fields.plate
    row.client_id, row.waste_type_id = client_id, waste_id
    row.tare_kg, row.tare_set_at, row.tare_expires_at = fields.tare_kg, set_at, expires
    row.volume_m3, row.active = fields.volume_m3, fields.active
    return ""


@dataclass(frozen=True)
class Sheet:
    """One registry table's CSV layout: its columns, the required ones, its fields and key."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    fields: type[BaseModel]
    key: str


CLIENT_SHEET = Sheet(
    "clients",
    ("code", "name", "inn", "contract_no", "address", "phone", "vat_payer", "status"),
    ("code", "name", "inn"),
    ClientFields,
    "code",
)
WASTE_SHEET = Sheet(
    "waste-types",
    ("code", "name_ky", "name_ru", "name_en", "accepted"),
    ("code", "name_ky", "name_ru", "name_en"),
    WasteTypeFields,
    "code",
)
VEHICLE_SHEET = Sheet(
    "vehicles",
    (
        "plate",
        "client",
        "tare_kg",
        "tare_set_at",
        "tare_expires_at",
        "volume_m3",
        "waste_type",
        "active",
    ),
    ("plate",),
    VehicleFields,
    "plate",
)

_TRUE = {"1", "true", "yes", "y", "да", "ооба"}
_FALSE = {"0", "false", "no", "n", "нет", "жок"}
_BOOLEANS = {"vat_payer", "accepted", "active"}


def _cell(name: str, raw: str) -> Any:
    value = raw.strip()
    if name in _BOOLEANS:
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
    return value


def _header_problem(sheet: Sheet, header: list[str]) -> str:
    what = []
    if unknown := [h for h in header if h not in sheet.columns]:
        what.append(f"unknown columns: {', '.join(unknown)}")
    if missing := [c for c in sheet.required if c not in header]:
        what.append(f"missing columns: {', '.join(missing)}")
    if len(set(header)) != len(header):
        what.append("a column appears twice")
    return "; ".join(what)


def parse_sheet(sheet: Sheet, text: str) -> tuple[list[tuple[int, Any]], list[CsvRowError]]:
    """Check every row of a CSV file; return the good rows with their line, and the errors."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        return [], [CsvRowError(1, "empty or unreadable file")]
    if problem := _header_problem(sheet, header):
        return [], [CsvRowError(1, problem)]
    good: list[tuple[int, Any]] = []
    errors: list[CsvRowError] = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                errors.append(
                    CsvRowError(line, f"expected {len(header)} cells, found {len(cells)}")
                )
                continue
            data = {h: _cell(h, c) for h, c in zip(header, cells, strict=True) if c.strip()}
            try:
                fields = sheet.fields.model_validate(data)
            except ValidationError as exc:
                errors.append(CsvRowError(line, first_error(exc)))
                continue
            key = getattr(fields, sheet.key)
            if key in seen:
                errors.append(CsvRowError(line, f"{sheet.key} {key} repeats line {seen[key]}"))
                continue
            seen[key] = line
            good.append((line, fields))
    except csv.Error as exc:
        errors.append(CsvRowError(reader.line_num, f"unreadable CSV: {exc}"))
    return good, errors


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def export_sheet(sheet: Sheet, items: Sequence[BaseModel]) -> str:
    """Rows as CSV in the import layout (re-importing it changes nothing)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(sheet.columns)
    for item in items:
        writer.writerow([_csv_value(getattr(item, c)) for c in sheet.columns])
    return out.getvalue()
