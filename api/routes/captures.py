"""`GET /api/v1/captures`: stable weights the edge captured, from InfluxDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from api.auth.access import READ_CAPTURES
from api.deps import InfluxDep
from api.limits import Instant
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


class CapturesPublic(BaseModel):
    """A page of captures, newest first."""

    data: list[CapturePublic]
    count: int


@router.get("", response_model=CapturesPublic, dependencies=[Depends(READ_CAPTURES)])
def list_captures(
    influx: InfluxDep,
    scale: Annotated[str | None, Query(pattern=NAME_PATTERN, description="scale code")] = None,
    since: Annotated[Instant | None, Query(description="ISO-8601 with zone, 1970..2100")] = None,
    until: Annotated[Instant | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CapturesPublic:
    """Captures newest first; `since` defaults to 24 hours ago."""
    since = since or datetime.now(UTC) - timedelta(days=1)
    until = until or datetime.now(UTC) + timedelta(minutes=5)
    if until <= since:
        raise HTTPException(422, "until must be after since")
    params: dict[str, object] = {"since": since, "until": until, "limit": limit}
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
    return CapturesPublic(data=data, count=len(data))
