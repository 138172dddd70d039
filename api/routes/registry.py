"""Registry: sites and scales (`/api/v1/sites`, `/api/v1/scales`).

A scale carries what legal-for-trade weighing needs: division (e), capacity (max), the
smallest weight billed (min; 20 e is usual), the indicator protocol, and the verification
certificate with its date. Tickets refuse gross and net weights outside min..max.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.auth.access import EDIT_SCALES, READ_REGISTRY, Caller
from api.auth.audit import record
from api.container_registry import first_error
from api.db import Scale, Site
from api.deps import SessionDep, SiteDep
from landfill.names import NAME_PATTERN

router = APIRouter(prefix="/api/v1", tags=["registry"])


class SitePublic(BaseModel):
    """A landfill site."""

    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    timezone: str


class ScaleFields(BaseModel):
    """What a scale is: its indicator and its legal limits."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    protocol: str = "yaohua-a9"
    division_kg: int = Field(20, gt=0, le=1000)
    max_kg: int = Field(60_000, gt=0, le=500_000, description="capacity (Max)")
    min_kg: int = Field(400, ge=0, le=500_000, description="smallest weight billed (Min)")
    certificate: str = Field("", max_length=100, description="verification certificate number")
    verified_on: date | None = Field(None, description="date of the verification")

    @model_validator(mode="after")
    def _limits(self) -> ScaleFields:
        if self.min_kg >= self.max_kg:
            raise ValueError("min_kg must be below max_kg")
        from landfill.scale.protocols import PROTOCOLS

        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol; known: {', '.join(sorted(PROTOCOLS))}")
        return self


class ScaleCreate(ScaleFields):
    """A new scale."""

    site: str = Field(pattern=NAME_PATTERN)
    code: str = Field(pattern=NAME_PATTERN)


class ScalePublic(ScaleFields):
    """A registered scale."""

    site: str
    code: str


@router.get("/sites", response_model=list[SitePublic], dependencies=[Depends(READ_REGISTRY)])
def list_sites(session: SessionDep) -> list[Site]:
    """All sites."""
    return list(session.scalars(select(Site).order_by(Site.code)))


@router.get("/scales", response_model=list[ScalePublic], dependencies=[Depends(READ_REGISTRY)])
def list_scales(
    session: SessionDep, site: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None
) -> list[ScalePublic]:
    """All scales, optionally of one site."""
    stmt = select(Scale, Site.code).join(Site).order_by(Site.code, Scale.code)
    if site:
        stmt = stmt.where(Site.code == site)
    return [_public(s, code) for s, code in session.execute(stmt).all()]


@router.post("/scales", response_model=ScalePublic, status_code=201)
def create_scale(
    body: ScaleCreate, session: SessionDep, caller: Annotated[Caller, Depends(EDIT_SCALES)]
) -> ScalePublic:
    """Register a scale at a site."""
    site = session.scalar(select(Site).where(Site.code == body.site))
    if site is None:
        raise HTTPException(404, "site not found")
    scale = Scale(site_id=site.id, code=body.code)
    _apply(scale, body)
    session.add(scale)
    after = _public(scale, site.code).model_dump(mode="json")
    record(
        session, caller.actor, caller.at, "scale.create", f"{site.code}/{body.code}", after=after
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(409, "a scale with this code exists at this site") from None
    return _public(scale, site.code)


def _get(session: SessionDep, site: Site, code: str) -> Scale:
    scale = session.scalar(select(Scale).where(Scale.site_id == site.id, Scale.code == code))
    if scale is None:
        raise HTTPException(404, "scale not found")
    return scale


@router.get("/scales/{code}", response_model=ScalePublic, dependencies=[Depends(READ_REGISTRY)])
def get_scale(code: str, session: SessionDep, site: SiteDep) -> ScalePublic:
    """One scale of the configured site."""
    return _public(_get(session, site, code), site.code)


@router.patch("/scales/{code}", response_model=ScalePublic)
def update_scale(
    code: str,
    body: dict[str, Any],
    session: SessionDep,
    site: SiteDep,
    caller: Annotated[Caller, Depends(EDIT_SCALES)],
) -> ScalePublic:
    """Change a scale of the configured site (limits, protocol, verification)."""
    scale = _get(session, site, code)
    current = _public(scale, site.code).model_dump(include=set(ScaleFields.model_fields))
    try:
        fields = ScaleFields.model_validate(current | body)
    except ValidationError as exc:
        raise HTTPException(422, first_error(exc)) from None
    before = _public(scale, site.code).model_dump(mode="json")
    _apply(scale, fields)
    after = _public(scale, site.code).model_dump(mode="json")
    target = f"{site.code}/{code}"
    record(session, caller.actor, caller.at, "scale.update", target, before=before, after=after)
    session.commit()
    return _public(scale, site.code)


def _apply(scale: Scale, fields: ScaleFields) -> None:
    for name in ScaleFields.model_fields:
        setattr(scale, name, getattr(fields, name))


def _public(scale: Scale, site_code: str) -> ScalePublic:
    fields = {name: getattr(scale, name) for name in ScaleFields.model_fields}
    return ScalePublic.model_construct(site=site_code, code=scale.code, **fields)
