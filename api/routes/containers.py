"""Container registry: `/api/v1/containers` (CRUD, CSV import/export).

Every change publishes the retained registry message, so edge and ingest follow it without
asking the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.access import EDIT_CONTAINERS, READ_CONTAINERS, REGISTER_CONTAINERS, Caller
from api.auth.audit import record
from api.container_registry import (
    ContainerFields,
    apply_fields,
    device_owner,
    export_csv,
    fields_of,
    first_error,
    import_rows,
    parse_csv,
    publish_registry,
    registry_overflow,
)
from api.db import Container, Site
from api.deps import MqttDep, SessionDep, SiteDep
from api.limits import CSV_BODY_BYTES, brief_errors, csv_upload
from api.spreadsheet import decode

router = APIRouter(prefix="/api/v1/containers", tags=["containers"])
Editor = Annotated[Caller, Depends(EDIT_CONTAINERS)]  # deactivate, purge, import
Registrar = Annotated[Caller, Depends(REGISTER_CONTAINERS)]  # add one, change one


class ContainerPublic(ContainerFields):
    """A registered container."""

    site: str
    updated_at: datetime


class ContainerPatch(BaseModel):
    """Fields to change; anything left out stays as it is."""

    model_config = ConfigDict(extra="forbid")
    settlement: str | None = None
    zone: str | None = None
    lat: float | None = None
    lon: float | None = None
    volume_m3: float | None = None
    empty_mm: int | None = None
    full_mm: int | None = None
    full_pct: float | None = None
    clear_pct: float | None = None
    expected_interval_s: int | None = None
    collection_weekdays: list[int] | None = None
    device: str | None = None
    model: str | None = None
    active: bool | None = None


class ImportErrorPublic(BaseModel):
    """One bad row of an import; line 1 is the header."""

    line: int
    error: str


class ImportPublic(BaseModel):
    """What an import did."""

    created: int
    updated: int


class ContainersPublic(BaseModel):
    """A list of containers."""

    data: list[ContainerPublic]
    count: int


def _get(session: Session, site: Site, code: str) -> Container:
    row = session.scalar(
        select(Container).where(Container.site_id == site.id, Container.code == code)
    )
    if row is None:
        raise HTTPException(404, "container not found")
    return row


def _public(row: Container, site: str) -> ContainerPublic:
    return ContainerPublic(**fields_of(row).model_dump(), site=site, updated_at=row.updated_at)


def _record(row: Container | None) -> dict[str, Any] | None:
    """A container's fields as the audit log keeps them."""
    return None if row is None else fields_of(row).model_dump(mode="json")


def _refuse_overflow(session: Session, site: str) -> None:
    problem = registry_overflow(session, site)
    if problem is not None:
        session.rollback()
        raise HTTPException(422, problem)


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        text = str(exc.orig).lower()
        if "device" in text:
            raise HTTPException(409, "device is bound to another container") from None
        raise HTTPException(409, "a container with this code exists") from None


@router.get("", response_model=ContainersPublic, dependencies=[Depends(READ_CONTAINERS)])
def list_containers(
    session: SessionDep,
    site: SiteDep,
    settlement: Annotated[str | None, Query(max_length=200)] = None,
    zone: Annotated[str | None, Query(max_length=64)] = None,
    active: Annotated[bool | None, Query(description="omit for all")] = None,
    weekday: Annotated[int | None, Query(ge=0, le=6, description="collected that day")] = None,
) -> ContainersPublic:
    """Containers of the site by code, filtered by settlement, zone, active, weekday."""
    stmt = select(Container).where(Container.site_id == site.id).order_by(Container.code)
    if settlement is not None:
        stmt = stmt.where(Container.settlement == settlement)
    if zone is not None:
        stmt = stmt.where(Container.zone == zone)
    if active is not None:
        stmt = stmt.where(Container.active == active)
    rows = list(session.scalars(stmt))
    if weekday is not None:
        rows = [r for r in rows if str(weekday) in r.collection_weekdays.split()]
    data = [_public(r, site.code) for r in rows]
    return ContainersPublic(data=data, count=len(data))


@router.get("/export", response_class=Response, dependencies=[Depends(READ_CONTAINERS)])
def export_containers(session: SessionDep, site: SiteDep) -> Response:
    """Every container of the site as CSV (the import layout)."""
    rows = list(
        session.scalars(
            select(Container).where(Container.site_id == site.id).order_by(Container.code)
        )
    )
    return Response(
        export_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="containers-{site.code}.csv"'},
    )


@router.get("/{code}", response_model=ContainerPublic, dependencies=[Depends(READ_CONTAINERS)])
def get_container(code: str, session: SessionDep, site: SiteDep) -> ContainerPublic:
    """One container."""
    return _public(_get(session, site, code), site.code)


@router.post("", response_model=ContainerPublic, status_code=201)
def create_container(
    body: ContainerFields,
    session: SessionDep,
    site: SiteDep,
    mqtt: MqttDep,
    caller: Registrar,
) -> ContainerPublic:
    """Register a container; its device may not be bound to another active container."""
    if session.scalar(
        select(Container.id).where(Container.site_id == site.id, Container.code == body.container)
    ):
        raise HTTPException(409, "a container with this code exists")
    if body.active and device_owner(session, body.device) is not None:
        raise HTTPException(409, "device is bound to another container")
    row = Container(site_id=site.id)
    apply_fields(row, body)
    session.add(row)
    _refuse_overflow(session, site.code)
    record(session, caller.actor, caller.at, "container.create", body.container, after=_record(row))
    _commit(session)
    publish_registry(mqtt, session, site.code)
    return _public(row, site.code)


@router.patch(
    "/{code}",
    response_model=ContainerPublic,
    responses={422: {"description": "detail: the first problem; errors: each, by field"}},
)
def update_container(
    code: str,
    body: ContainerPatch,
    session: SessionDep,
    site: SiteDep,
    mqtt: MqttDep,
    caller: Registrar,
) -> Any:
    """Change some fields; the whole container is checked again."""
    row = _get(session, site, code)
    merged: dict[str, Any] = fields_of(row).model_dump()
    merged.update(body.model_dump(exclude_unset=True))
    try:
        fields = ContainerFields.model_validate(merged)
    except ValidationError as exc:
        errors = brief_errors(exc.errors())
        return JSONResponse({"detail": first_error(exc), "errors": errors}, status_code=422)
    if fields.active and device_owner(session, fields.device, except_code=code) is not None:
        raise HTTPException(409, "device is bound to another container")
    before = _record(row)
    apply_fields(row, fields)
    _refuse_overflow(session, site.code)
    after = _record(row)
    record(session, caller.actor, caller.at, "container.update", code, before=before, after=after)
    _commit(session)
    publish_registry(mqtt, session, site.code)
    return _public(row, site.code)


@router.delete(
    "/{code}", response_model=ContainerPublic, responses={204: {"description": "purged"}}
)
def delete_container(
    code: str,
    session: SessionDep,
    site: SiteDep,
    mqtt: MqttDep,
    caller: Editor,
    purge: Annotated[bool, Query(description="remove the row instead of deactivating")] = False,
) -> Any:
    """Deactivate a container (its history stays); with purge=true remove it entirely."""
    row = _get(session, site, code)
    before = _record(row)
    if purge:
        record(session, caller.actor, caller.at, "container.purge", code, before=before)
        session.delete(row)
        _commit(session)
        publish_registry(mqtt, session, site.code)
        return Response(status_code=204)
    row.active = False
    after = _record(row)
    record(
        session, caller.actor, caller.at, "container.deactivate", code, before=before, after=after
    )
    _commit(session)
    publish_registry(mqtt, session, site.code)
    return _public(row, site.code)


@router.post(
    "/import",
    response_model=ImportPublic,
    responses={422: {"description": "rows with errors, by line; nothing was imported"}},
    max_body_size=CSV_BODY_BYTES,  # 413 before more is read
)
def import_containers(
    caller: Editor,  # first: who may import is checked before the upload is read
    raw: Annotated[bytes, Depends(csv_upload)],
    session: SessionDep,
    site: SiteDep,
    mqtt: MqttDep,
) -> Any:
    """Create or update containers from CSV (text/csv body or multipart field `file`).

    A plain function, so FastAPI runs it on a worker thread: checking and storing 60,000 rows
    takes seconds, and the API keeps answering meanwhile.
    """
    try:
        text = decode(raw)
    except UnicodeDecodeError:
        raise HTTPException(422, "file is neither UTF-8 nor Windows-1251") from None
    rows, errors = parse_csv(text)
    before = {
        c.code: _record(c)
        for c in session.scalars(select(Container).where(Container.site_id == site.id))
    }
    if not errors:
        created, updated, errors = import_rows(session, site, rows)
    if errors:
        session.rollback()
        return _import_errors(errors)
    _audit_import(session, caller, before, [fields for _, fields in rows])
    _refuse_overflow(session, site.code)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(409, "device is bound to another container") from None
    publish_registry(mqtt, session, site.code)
    return ImportPublic(created=created, updated=updated)


def _audit_import(
    session: Session,
    caller: Caller,
    before: dict[str, dict[str, Any] | None],
    imported: list[ContainerFields],
) -> None:
    """One audit row per container the import created or changed."""
    for fields in imported:
        after = fields.model_dump(mode="json")
        was = before.get(fields.container)
        if after != was:
            action = "container.import_update" if was else "container.import_create"
            record(
                session, caller.actor, caller.at, action, fields.container, before=was, after=after
            )


def _import_errors(errors: list[Any]) -> JSONResponse:
    body = {
        "detail": "rows with errors; nothing was imported",
        "errors": [ImportErrorPublic(line=e.line, error=e.error).model_dump() for e in errors],
    }
    return JSONResponse(body, status_code=422)
