"""`GET /api/v1/captures`: stable weights the edge captured, from InfluxDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from api.deps import InfluxDep
from api.limits import Instant, influx_unavailable
from landfill.contract import _NAME
from landfill.influx import QueryError

router = APIRouter(prefix="/api/v1/captures", tags=["scale"])


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


@router.get("", response_model=CapturesPublic)
def list_captures(
    influx: InfluxDep,
    scale: Annotated[str | None, Query(pattern=_NAME.pattern, description="scale code")] = None,
    since: Annotated[Instant | None, Query(description="ISO-8601 with zone, 1970..2100")] = None,
    until: Annotated[Instant | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CapturesPublic:
    """Captures newest first; `since` defaults to 24 hours ago."""
    since = since or datetime.now(UTC) - timedelta(days=1)
    until = until or datetime.now(UTC) + timedelta(minutes=5)
    if until <= since:
        raise HTTPException(422, "until must be after since")
    where = "time >= $since AND time < $until"
    params: dict[str, object] = {"since": since, "until": until, "limit": limit}
    if scale:
        where += " AND scale = $scale"
        params["scale"] = scale
    q = f"SELECT * FROM scale_capture WHERE {where} ORDER BY time DESC LIMIT $limit"  # noqa: S608 - fixed text, values bound
    try:
        rows = influx.rows(q, params)
    except QueryError as exc:
        raise influx_unavailable(exc) from exc
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
