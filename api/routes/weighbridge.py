"""Weighbridge registry: `/api/v1/{clients,waste-types,vehicles}` (CRUD, CSV import/export).

A row that tickets or vehicles refer to cannot be deleted (409 ``in_use``): a client is put on
hold, a waste type refused, a vehicle deactivated instead. Vehicles are addressed by plate in
any spelling (``01 KG 123 ABC``, ``01123abc``); the registry keeps the canonical form.

Staff read (`READ_REGISTRY`), admins change (`EDIT_WEIGHBRIDGE`); every change writes an
audit row with the row before and after, in the change's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.auth.access import EDIT_WEIGHBRIDGE, READ_REGISTRY, Caller
from api.auth.audit import record
from api.container_registry import CsvRowError, first_error
from api.db import Site
from api.deps import NowDep, SessionDep, SettingsDep, SiteDep
from api.limits import CSV_BODY_BYTES, csv_upload
from api.weighbridge.identity import display_plate, normalise_plate
from api.weighbridge.models import Client, Ticket, Vehicle, WasteType
from api.weighbridge.refusals import Refusal
from api.weighbridge.registry import (
    CLIENT_SHEET,
    VEHICLE_SHEET,
    WASTE_SHEET,
    ClientFields,
    Sheet,
    VehicleFields,
    WasteTypeFields,
    apply_vehicle,
    export_sheet,
    parse_sheet,
    tare_state,
    vehicle_fields,
)

router = APIRouter(prefix="/api/v1", tags=["weighbridge registry"])
READ = [Depends(READ_REGISTRY)]
Editor = Annotated[Caller, Depends(EDIT_WEIGHBRIDGE)]


class ClientPublic(ClientFields):
    """A registered client."""

    updated_at: datetime


class WasteTypePublic(WasteTypeFields):
    """A registered waste type."""

    updated_at: datetime


class VehiclePublic(VehicleFields):
    """A registered vehicle; ``tare_state`` says whether its stored tare may be used now."""

    plate_display: str
    tare_state: Literal["none", "valid", "expired"]
    updated_at: datetime


class ImportPublic(BaseModel):
    """What an import did."""

    created: int
    updated: int


def _patch(current: BaseModel, body: dict[str, Any], model: type[BaseModel]) -> Any:
    merged = current.model_dump(include=set(model.model_fields)) | body
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        raise HTTPException(422, first_error(exc)) from None


def _commit(session: Session, key: str) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Refusal("exists", name=key) from None


async def _read_csv(request: Request) -> str:
    raw = await csv_upload(request)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(422, "file is not UTF-8") from None


def _import_errors(errors: list[CsvRowError]) -> JSONResponse:
    body = {
        "detail": "rows with errors; nothing was imported",
        "errors": [{"line": e.line, "error": e.error} for e in errors],
    }
    return JSONResponse(body, status_code=422)


def _audit(
    session: Session,
    caller: Caller,
    action: str,
    key: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record(session, caller.actor, caller.at, action, key, before=before, after=after)


def _audit_import(
    session: Session,
    caller: Caller,
    kind: str,
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
) -> None:
    """One audit row per row an import created or changed (none for a row it left alone)."""
    for key, now in after.items():
        was = before.get(key)
        if now != was:
            action = f"{kind}.import_update" if was else f"{kind}.import_create"
            _audit(session, caller, action, key, was, now)


def _csv_response(sheet: Sheet, site: Site, items: Sequence[BaseModel]) -> Response:
    return Response(
        export_sheet(sheet, items),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{sheet.name}-{site.code}.csv"'},
    )


# ---- clients and waste types: registry rows addressed by code ----------------------------


@dataclass(frozen=True)
class Coded:
    """A registry table whose rows are addressed by code, and what refers to its rows."""

    model: type[Client] | type[WasteType]
    fields: type[BaseModel]
    public: type[BaseModel]
    kind: str  # the audit actions' prefix
    refs: tuple[InstrumentedAttribute[int | None], ...]
    sheet: Sheet

    def record(self, row: Any) -> dict[str, Any]:
        """The row's fields as the audit log keeps them."""
        return {name: getattr(row, name) for name in self.fields.model_fields}

    def public_of(self, row: Any) -> Any:
        return self.public.model_construct(**self.record(row), updated_at=row.updated_at)

    def get(self, session: Session, site: Site, code: str) -> Any:
        m = self.model
        row = session.scalar(select(m).where(m.site_id == site.id, m.code == code))
        if row is None:
            raise Refusal("not_found", name=code)
        return row

    def create(self, session: Session, site: Site, caller: Caller, body: BaseModel) -> Any:
        row = self.model(site_id=site.id)
        _set(row, body)
        session.add(row)
        code = getattr(body, "code")  # noqa: B009 - every coded table's fields have a code
        _audit(session, caller, f"{self.kind}.create", code, after=self.record(row))
        _commit(session, code)
        return self.public_of(row)

    def update(
        self, session: Session, site: Site, caller: Caller, code: str, body: dict[str, Any]
    ) -> Any:
        row = self.get(session, site, code)
        fields = _patch(self.public_of(row), body, self.fields)
        before = self.record(row)
        _set(row, fields)
        _audit(session, caller, f"{self.kind}.update", code, before, self.record(row))
        _commit(session, fields.code)
        return self.public_of(row)

    def delete(self, session: Session, site: Site, caller: Caller, code: str) -> Response:
        """Remove a row nothing refers to (409 ``in_use`` otherwise)."""
        row = self.get(session, site, code)
        for ref in self.refs:
            if session.scalar(select(ref.class_.id).where(ref == row.id).limit(1)):
                raise Refusal("in_use", name=code)
        _audit(session, caller, f"{self.kind}.delete", code, before=self.record(row))
        session.delete(row)
        session.commit()
        return Response(status_code=204)

    def import_rows(
        self, session: Session, site: Site, caller: Caller, rows: list[tuple[int, Any]]
    ) -> ImportPublic:
        """Create or update rows by code, one audit row for each one changed."""
        m = self.model
        rows_now: list[Any] = list(session.scalars(select(m).where(m.site_id == site.id)))
        existing = {r.code: r for r in rows_now}
        before = {code: self.record(r) for code, r in existing.items()}
        after = {}
        created = 0
        for _, fields in rows:
            row = existing.get(fields.code)
            if row is None:
                row = m(site_id=site.id)
                session.add(row)
                created += 1
            _set(row, fields)
            after[fields.code] = self.record(row)
        _audit_import(session, caller, self.kind, before, after)
        _commit(session, self.sheet.name)
        return ImportPublic(created=created, updated=len(rows) - created)


def _set(row: Any, fields: BaseModel) -> None:
    for name in type(fields).model_fields:
        setattr(row, name, getattr(fields, name))


CLIENTS = Coded(
    Client,
    ClientFields,
    ClientPublic,
    "client",
    (Vehicle.client_id, Ticket.client_id),
    CLIENT_SHEET,
)
WASTES = Coded(
    WasteType,
    WasteTypeFields,
    WasteTypePublic,
    "waste_type",
    (Vehicle.waste_type_id, Ticket.waste_type_id),
    WASTE_SHEET,
)


@router.get("/clients", response_model=list[ClientPublic], dependencies=READ)
def list_clients(
    session: SessionDep,
    site: SiteDep,
    status: Literal["active", "on_hold"] | None = None,
    q: Annotated[str | None, Query(max_length=100, description="code, name or INN")] = None,
) -> list[ClientPublic]:
    """Clients of the site by code."""
    stmt = select(Client).where(Client.site_id == site.id).order_by(Client.code)
    if status:
        stmt = stmt.where(Client.status == status)
    rows = list(session.scalars(stmt))
    if q:  # in Python: SQLite folds the case of ASCII letters only, not Cyrillic
        part = q.strip().casefold()
        rows = [r for r in rows if any(part in v.casefold() for v in (r.code, r.name, r.inn))]
    return [CLIENTS.public_of(r) for r in rows]


@router.get("/clients/export", response_class=Response, dependencies=READ)
def export_clients(session: SessionDep, site: SiteDep) -> Response:
    """Every client as CSV (the import layout)."""
    return _csv_response(CLIENT_SHEET, site, list_clients(session, site))


@router.get("/clients/{code}", response_model=ClientPublic, dependencies=READ)
def get_client(code: str, session: SessionDep, site: SiteDep) -> ClientPublic:
    """One client."""
    return CLIENTS.public_of(CLIENTS.get(session, site, code))  # type: ignore[no-any-return]


@router.post("/clients", response_model=ClientPublic, status_code=201)
def create_client(
    body: ClientFields, session: SessionDep, site: SiteDep, caller: Editor
) -> ClientPublic:
    """Register a client (a legal entity)."""
    return CLIENTS.create(session, site, caller, body)  # type: ignore[no-any-return]


@router.patch("/clients/{code}", response_model=ClientPublic)
def update_client(
    code: str, body: dict[str, Any], session: SessionDep, site: SiteDep, caller: Editor
) -> ClientPublic:
    """Change some fields (status ``on_hold`` stops new tickets); the client is checked again."""
    return CLIENTS.update(session, site, caller, code, body)  # type: ignore[no-any-return]


@router.delete("/clients/{code}", status_code=204)
def delete_client(code: str, session: SessionDep, site: SiteDep, caller: Editor) -> Response:
    """Remove a client no vehicle or ticket refers to."""
    return CLIENTS.delete(session, site, caller, code)


@router.post("/clients/import", response_model=ImportPublic, max_body_size=CSV_BODY_BYTES)
async def import_clients(
    caller: Editor, request: Request, session: SessionDep, site: SiteDep
) -> Any:
    """Create or update clients by code from CSV (all or nothing)."""
    rows, errors = parse_sheet(CLIENT_SHEET, await _read_csv(request))
    if errors:
        return _import_errors(errors)
    return CLIENTS.import_rows(session, site, caller, rows)


@router.get("/waste-types", response_model=list[WasteTypePublic], dependencies=READ)
def list_waste_types(
    session: SessionDep, site: SiteDep, accepted: bool | None = None
) -> list[WasteTypePublic]:
    """Waste types of the site by code."""
    stmt = select(WasteType).where(WasteType.site_id == site.id).order_by(WasteType.code)
    if accepted is not None:
        stmt = stmt.where(WasteType.accepted == accepted)
    return [WASTES.public_of(r) for r in session.scalars(stmt)]


@router.get("/waste-types/export", response_class=Response, dependencies=READ)
def export_waste_types(session: SessionDep, site: SiteDep) -> Response:
    """Every waste type as CSV (the import layout)."""
    return _csv_response(WASTE_SHEET, site, list_waste_types(session, site))


@router.get("/waste-types/{code}", response_model=WasteTypePublic, dependencies=READ)
def get_waste_type(code: str, session: SessionDep, site: SiteDep) -> WasteTypePublic:
    """One waste type."""
    return WASTES.public_of(WASTES.get(session, site, code))  # type: ignore[no-any-return]


@router.post("/waste-types", response_model=WasteTypePublic, status_code=201)
def create_waste_type(
    body: WasteTypeFields, session: SessionDep, site: SiteDep, caller: Editor
) -> WasteTypePublic:
    """Register a waste type (accepted, or refused at the gate)."""
    return WASTES.create(session, site, caller, body)  # type: ignore[no-any-return]


@router.patch("/waste-types/{code}", response_model=WasteTypePublic)
def update_waste_type(
    code: str, body: dict[str, Any], session: SessionDep, site: SiteDep, caller: Editor
) -> WasteTypePublic:
    """Change names or whether it is accepted."""
    return WASTES.update(session, site, caller, code, body)  # type: ignore[no-any-return]


@router.delete("/waste-types/{code}", status_code=204)
def delete_waste_type(code: str, session: SessionDep, site: SiteDep, caller: Editor) -> Response:
    """Remove a waste type no vehicle or ticket refers to."""
    return WASTES.delete(session, site, caller, code)


@router.post("/waste-types/import", response_model=ImportPublic, max_body_size=CSV_BODY_BYTES)
async def import_waste_types(
    caller: Editor, request: Request, session: SessionDep, site: SiteDep
) -> Any:
    """Create or update waste types by code from CSV (all or nothing)."""
    rows, errors = parse_sheet(WASTE_SHEET, await _read_csv(request))
    if errors:
        return _import_errors(errors)
    return WASTES.import_rows(session, site, caller, rows)


# ---- vehicles --------------------------------------------------------------------------------


def _vehicle_record(session: Session, row: Vehicle) -> dict[str, Any]:
    """A vehicle's fields as the audit log keeps them (owner and waste type by code)."""
    with session.no_autoflush:  # a clash of plates is found by the commit, as a refusal
        return vehicle_fields(session, row).model_dump(mode="json")


def _vehicle_public(session: Session, row: Vehicle, now: datetime) -> VehiclePublic:
    fields = vehicle_fields(session, row)
    return VehiclePublic.model_construct(
        **fields.model_dump(),
        plate_display=display_plate(row.plate),
        tare_state=tare_state(row, now),
        updated_at=row.updated_at,
    )


def _get_vehicle(session: Session, site: Site, plate: str) -> Vehicle:
    try:
        canonical = normalise_plate(plate)
    except ValueError:
        raise Refusal("not_found", name=plate) from None
    row = session.scalar(
        select(Vehicle).where(Vehicle.site_id == site.id, Vehicle.plate == canonical)
    )
    if row is None:
        raise Refusal("not_found", name=canonical)
    return row


def _compact(text: str) -> str:
    try:
        return normalise_plate(text)
    except ValueError:
        return "".join(text.split()).upper()


@router.get("/vehicles", response_model=list[VehiclePublic], dependencies=READ)
def list_vehicles(
    session: SessionDep,
    site: SiteDep,
    now: NowDep,
    q: Annotated[str | None, Query(max_length=20, description="part of the plate")] = None,
    client: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = None,
) -> list[VehiclePublic]:
    """Vehicles by plate; ``q`` matches part of the plate, with or without the KG."""
    stmt = select(Vehicle).where(Vehicle.site_id == site.id).order_by(Vehicle.plate)
    if active is not None:
        stmt = stmt.where(Vehicle.active == active)
    if client is not None:
        stmt = stmt.join(Client, Client.id == Vehicle.client_id).where(Client.code == client)
    rows = list(session.scalars(stmt))
    if q:
        part = _compact(q).replace("KG", "")
        rows = [r for r in rows if part in r.plate.replace("KG", "")]
    return [_vehicle_public(session, r, now) for r in rows]


@router.get("/vehicles/export", response_class=Response, dependencies=READ)
def export_vehicles(session: SessionDep, site: SiteDep, now: NowDep) -> Response:
    """Every vehicle as CSV (the import layout)."""
    return _csv_response(VEHICLE_SHEET, site, list_vehicles(session, site, now))


@router.get("/vehicles/{plate}", response_model=VehiclePublic, dependencies=READ)
def get_vehicle(plate: str, session: SessionDep, site: SiteDep, now: NowDep) -> VehiclePublic:
    """One vehicle, by its plate in any spelling."""
    return _vehicle_public(session, _get_vehicle(session, site, plate), now)


@router.post("/vehicles", response_model=VehiclePublic, status_code=201)
def create_vehicle(
    body: VehicleFields, session: SessionDep, site: SiteDep, settings: SettingsDep, caller: Editor
) -> VehiclePublic:
    """Register a vehicle; a tare without its date is set now, without an expiry it lasts
    `LANDFILL_TICKET_TARE_VALID_DAYS`."""
    now = caller.at
    row = Vehicle(site_id=site.id)
    if problem := apply_vehicle(session, site, row, body, now, settings.ticket_tare_valid_days):
        raise HTTPException(422, problem)
    session.add(row)
    _audit(session, caller, "vehicle.create", row.plate, after=_vehicle_record(session, row))
    _commit(session, display_plate(body.plate))
    return _vehicle_public(session, row, now)


@router.patch("/vehicles/{plate}", response_model=VehiclePublic)
def update_vehicle(
    plate: str,
    body: dict[str, Any],
    session: SessionDep,
    site: SiteDep,
    settings: SettingsDep,
    caller: Editor,
) -> VehiclePublic:
    """Change some fields; a new ``tare_kg`` without dates is set now."""
    now = caller.at
    row = _get_vehicle(session, site, plate)
    current = vehicle_fields(session, row)
    if "tare_kg" in body and not {"tare_set_at", "tare_expires_at"} & body.keys():
        body = body | {"tare_set_at": None, "tare_expires_at": None}
    fields = _patch(current, body, VehicleFields)
    before = current.model_dump(mode="json")
    if problem := apply_vehicle(session, site, row, fields, now, settings.ticket_tare_valid_days):
        raise HTTPException(422, problem)
    after = _vehicle_record(session, row)
    _audit(session, caller, "vehicle.update", before["plate"], before, after)
    _commit(session, display_plate(fields.plate))
    return _vehicle_public(session, row, now)


@router.delete("/vehicles/{plate}", status_code=204)
def delete_vehicle(plate: str, session: SessionDep, site: SiteDep, caller: Editor) -> Response:
    """Remove a vehicle no ticket refers to (otherwise set ``active`` false)."""
    row = _get_vehicle(session, site, plate)
    if session.scalar(select(Ticket.id).where(Ticket.vehicle_id == row.id).limit(1)):
        raise Refusal("in_use", name=display_plate(row.plate))
    _audit(session, caller, "vehicle.delete", row.plate, before=_vehicle_record(session, row))
    session.delete(row)
    session.commit()
    return Response(status_code=204)


@router.post("/vehicles/import", response_model=ImportPublic, max_body_size=CSV_BODY_BYTES)
async def import_vehicles(
    caller: Editor, request: Request, session: SessionDep, site: SiteDep, settings: SettingsDep
) -> Any:
    """Create or update vehicles by plate from CSV (all or nothing; owners and waste by code)."""
    rows, errors = parse_sheet(VEHICLE_SHEET, await _read_csv(request))
    if errors:
        return _import_errors(errors)
    existing = {
        v.plate: v for v in session.scalars(select(Vehicle).where(Vehicle.site_id == site.id))
    }
    before = {plate: _vehicle_record(session, v) for plate, v in existing.items()}
    after = {}
    created = 0
    with session.no_autoflush:
        for line, fields in rows:
            row = existing.get(fields.plate) or Vehicle(site_id=site.id)
            days = settings.ticket_tare_valid_days
            if problem := apply_vehicle(session, site, row, fields, caller.at, days):
                errors.append(CsvRowError(line, problem))
                continue
            if row.id is None:
                session.add(row)
                created += 1
            after[row.plate] = _vehicle_record(session, row)
    if errors:
        session.rollback()
        return _import_errors(errors)
    _audit_import(session, caller, "vehicle", before, after)
    _commit(session, "vehicles")
    return ImportPublic(created=created, updated=len(rows) - created)
