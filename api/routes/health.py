"""`GET /health`: is the API up, and can it reach the broker, InfluxDB and its database?"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import InfluxDep, MqttDep, SessionDep

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    """Reachability of every dependency; status is "ok" only when all are reachable."""

    status: str
    broker: bool
    influxdb: bool
    database: bool


@router.get("/health", response_model=HealthPublic)
def health(
    response: Response, session: SessionDep, influx: InfluxDep, mqtt: MqttDep
) -> HealthPublic:
    """Report broker and InfluxDB reachability (503 when something is down)."""
    try:
        session.execute(text("SELECT 1"))
        database = True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        database = False
    result = HealthPublic(
        status="ok", broker=mqtt.is_connected(), influxdb=influx.ping(), database=database
    )
    if not (result.broker and result.influxdb and result.database):
        result.status = "degraded"
        response.status_code = 503
    return result
