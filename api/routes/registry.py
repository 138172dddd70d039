"""Registry: sites and scales (`/api/v1/sites`, `/api/v1/scales`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.auth.access import EDIT_SCALES, READ_REGISTRY, Caller
from api.auth.audit import record
from api.db import Scale, Site
from api.deps import SessionDep
from landfill.names import NAME_PATTERN

router = APIRouter(prefix="/api/v1", tags=["registry"])


class SitePublic(BaseModel):
    """A landfill site."""

    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    timezone: str


class ScaleCreate(BaseModel):
    """A new scale."""

    model_config = ConfigDict(extra="forbid")
    site: str = Field(pattern=NAME_PATTERN)
    code: str = Field(pattern=NAME_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    protocol: str = "yaohua-a9"
    division_kg: int = Field(20, gt=0, le=1000)
    max_kg: int = Field(60_000, gt=0, le=500_000)


class ScalePublic(BaseModel):
    """A registered scale."""

    site: str
    code: str
    name: str
    protocol: str
    division_kg: int
    max_kg: int


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
    from landfill.scale.protocols import PROTOCOLS

    if body.protocol not in PROTOCOLS:
        raise HTTPException(422, f"unknown protocol; known: {', '.join(sorted(PROTOCOLS))}")
    site = session.scalar(select(Site).where(Site.code == body.site))
    if site is None:
        raise HTTPException(404, "site not found")
    scale = Scale(
        site_id=site.id,
        code=body.code,
        name=body.name,
        protocol=body.protocol,
        division_kg=body.division_kg,
        max_kg=body.max_kg,
    )
    session.add(scale)
    after = _public(scale, site.code).model_dump()
    record(
        session, caller.actor, caller.at, "scale.create", f"{site.code}/{body.code}", after=after
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(409, "a scale with this code exists at this site") from None
    return _public(scale, site.code)


def _public(scale: Scale, site_code: str) -> ScalePublic:
    return ScalePublic(
        site=site_code,
        code=scale.code,
        name=scale.name,
        protocol=scale.protocol,
        division_kg=scale.division_kg,
        max_kg=scale.max_kg,
    )
