"""Refused data: `/api/v1/dispatch/refused` (the board's counts), `/api/v1/dead-letters` and
the admin's page `/admin/dead-letters` (the letters themselves, to see why data is missing)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel

from api.auth.access import PAGE_DEAD_LETTERS, READ_DEAD_LETTERS, READ_DISPATCH, Caller
from api.dead_letters import (
    Letter,
    day_start,
    default_since,
    recent_letters,
    refused_today,
)
from api.deps import InfluxDep, NowDep, SessionDep, SettingsDep, SiteDep
from api.templating import page

router = APIRouter(tags=["dead letters"])
Reason = Annotated[str | None, Query(max_length=81, pattern=r"^[a-z0-9_:]+$")]
Source = Annotated[str | None, Query(max_length=100)]
Since = Annotated[AwareDatetime | None, Query(description="default: a day ago")]


class ReasonCount(BaseModel):
    """How many messages of a source were refused for one reason."""

    reason: str
    letters: int


class RefusedSourcePublic(BaseModel):
    """One source's refused messages today."""

    source: str
    name: str
    kind: str
    container: str | None
    letters: int
    reasons: list[ReasonCount]


class RefusedPublic(BaseModel):
    """Messages refused today (site time zone), per source, most refused first."""

    day: date
    since: datetime
    sources: list[RefusedSourcePublic]


class LetterPublic(BaseModel):
    """One stored dead letter: why, from where, when, and the start of what came."""

    ts: datetime
    local_time: str
    source: str
    reason: str
    kind: str
    topic: str
    detail: str
    excerpt: str
    consumer: str


class LettersPublic(BaseModel):
    """Stored dead letters, newest first (the first few per source and reason a minute)."""

    since: datetime
    data: list[LetterPublic]


@router.get(
    "/api/v1/dispatch/refused",
    response_model=RefusedPublic,
    dependencies=[Depends(READ_DISPATCH)],
)
def refused(
    session: SessionDep, settings: SettingsDep, site: SiteDep, influx: InfluxDep, now: NowDep
) -> RefusedPublic:
    """Messages refused today (`LANDFILL_TIMEZONE`) per device or source, by reason."""
    sources = refused_today(influx, session, site.id, site.code, now, settings.tz)
    return RefusedPublic(
        day=now.astimezone(settings.tz).date(),
        since=day_start(now, settings.tz),
        sources=[
            RefusedSourcePublic(
                source=s.source,
                name=s.name,
                kind=s.kind,
                container=s.container,
                letters=s.letters,
                reasons=[ReasonCount(reason=r, letters=n) for r, n in s.reasons.items()],
            )
            for s in sources
        ],
    )


def _public(letter: Letter, settings: SettingsDep) -> LetterPublic:
    local = letter.ts.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M:%S")
    return LetterPublic(local_time=local, **letter.__dict__)


@router.get(
    "/api/v1/dead-letters",
    response_model=LettersPublic,
    dependencies=[Depends(READ_DEAD_LETTERS)],
)
def dead_letters(
    settings: SettingsDep,
    site: SiteDep,
    influx: InfluxDep,
    now: NowDep,
    since: Since = None,
    reason: Reason = None,
    source: Source = None,
) -> LettersPublic:
    """Stored dead letters since ``since`` (default a day), by reason and source if given."""
    start = since or default_since(now)
    letters = recent_letters(influx, site.code, start, now, reason, source)
    return LettersPublic(since=start, data=[_public(x, settings) for x in letters])


@router.get("/admin/dead-letters", response_class=HTMLResponse, include_in_schema=False)
def dead_letters_page(
    request: Request,
    settings: SettingsDep,
    site: SiteDep,
    influx: InfluxDep,
    now: NowDep,
    caller: Annotated[Caller, Depends(PAGE_DEAD_LETTERS)],
    reason: Reason = None,
    source: Source = None,
) -> HTMLResponse:
    """The admin's list of refused messages of the last day: why data is missing."""
    since = default_since(now)
    letters = recent_letters(influx, site.code, since, now, reason, source)
    return page(
        request,
        settings,
        "dead_letters.html",
        caller=caller,
        letters=[_public(x, settings) for x in letters],
        reason=reason or "",
        source=source or "",
        timezone=settings.timezone,
    )
