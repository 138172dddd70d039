"""`GET /api/v1/captures`: stable weights the edge captured, from InfluxDB.

Each capture says which ticket it weighs (SQL), if any; ``unused=true`` keeps only those no
ticket used yet, which is what the operator console weighs with.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.access import READ_CAPTURES
from api.deps import InfluxDep, SessionDep
from api.limits import Instant
from api.weighbridge.models import TicketWeight
from landfill.measurements import SCALE_CAPTURE
from landfill.names import NAME_PATTERN

router = APIRouter(prefix="/api/v1/captures", tags=["scale"])

Q_CAPTURES = SCALE_CAPTURE.query(
    "SELECT * FROM scale_capture WHERE time >= $since AND time < $until "
    "ORDER BY time DESC LIMIT $limit"
)
Q_SCALE_CAPTURES = SCALE_CAPTURE.query(
    "SELECT * FROM scale_capture WHERE time >= $since AND time < $until AND scale = $scale "
    "ORDER BY time DESC LIMIT $limit"
)


class CapturePublic(BaseModel):
    """One captured stable weight."""

    id: str
    ts: datetime
    site: str
    scale: str
    weight_kg: int
    division_kg: int
    stable_ms: int
    protocol: str
    stable_source: str
    ticket_id: int | None = None  # the ticket this capture weighs


class CapturesPublic(BaseModel):
    """A page of captures, newest first."""

    data: list[CapturePublic]
    count: int


def tickets_of(session: Session, capture_ids: list[str]) -> dict[str, int]:
    """Capture id -> the id of the ticket it weighs, for the captures a ticket used."""
    used: dict[str, int] = {}
    for i in range(0, len(capture_ids), 500):
        rows = session.execute(
            select(TicketWeight.capture_id, TicketWeight.ticket_id).where(
                TicketWeight.capture_id.in_(capture_ids[i : i + 500])
            )
        )
        used.update({str(capture): ticket for capture, ticket in rows})
    return used


@router.get("", response_model=CapturesPublic, dependencies=[Depends(READ_CAPTURES)])
def list_captures(
    influx: InfluxDep,
    session: SessionDep,
    scale: Annotated[str | None, Query(pattern=NAME_PATTERN, description="scale code")] = None,
    since: Annotated[Instant | None, Query(description="ISO-8601 with zone, 1970..2100")] = None,
    until: Annotated[Instant | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    unused: Annotated[bool, Query(description="only captures no ticket used yet")] = False,
) -> CapturesPublic:
    """Captures newest first; `since` defaults to 24 hours ago."""
    since = since or datetime.now(UTC) - timedelta(days=1)
    until = until or datetime.now(UTC) + timedelta(minutes=5)
    if until <= since:
        raise HTTPException(422, "until must be after since")
    # unused: the newest `limit` of those no ticket used, so look through every one in the span
    params: dict[str, object] = {"since": since, "until": until, "limit": 1000 if unused else limit}
    if scale:
        params["scale"] = scale
    rows = influx.rows(Q_SCALE_CAPTURES if scale else Q_CAPTURES, params)  # QueryError: 503
    data = [
        CapturePublic(
            id=r["id"],
            ts=datetime.fromtimestamp(r["time"] / 1000, UTC),
            site=r["site"],
            scale=r["scale"],
            weight_kg=r["weight_kg"],
            division_kg=r["division_kg"],
            stable_ms=r["stable_ms"],
            protocol=r["protocol"],
            stable_source=r["stable_source"],
        )
        for r in rows
    ]
    used = tickets_of(session, [c.id for c in data])
    for c in data:
        c.ticket_id = used.get(c.id)
    if unused:
        data = [c for c in data if c.ticket_id is None][:limit]
    return CapturesPublic(data=data, count=len(data))
