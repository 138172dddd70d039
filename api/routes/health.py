"""`GET /health`: is the API up, can it reach the broker, InfluxDB and its database, and does
ingest still run?

Ingest's state comes from the newest `ingest_stats` point of each worker (written every
`LANDFILL_INGEST_STATS_SECONDS`): "stopped" when every worker's last word was a fatal stop (a
thread died; the supervisor should be restarting it), "running" when one reported in the last
five minutes, "silent" when none did, "unknown" without any point in a day.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import InfluxDep, MqttDep, SessionDep, SettingsDep
from landfill.contract import utcnow
from landfill.influx import InfluxStore, QueryError, epoch_ms

router = APIRouter(tags=["health"])

IngestState = Literal["running", "stopped", "silent", "unknown"]
Q_INGEST = (
    "SELECT * FROM ingest_stats WHERE site = $site AND time > now() - 1d "
    "GROUP BY worker ORDER BY time DESC LIMIT 1"
)
RECENT_MS = 5 * 60 * 1000


class HealthPublic(BaseModel):
    """Reachability of every dependency; status is "ok" only when all are reachable."""

    status: str
    broker: bool
    influxdb: bool
    database: bool
    ingest: IngestState
    ingest_detail: str


def ingest_state(influx: InfluxStore, site: str) -> tuple[IngestState, str]:
    """Ingest's state from its workers' newest `ingest_stats` points, with the fatal reason."""
    try:
        rows: list[dict[str, Any]] = influx.rows(Q_INGEST, {"site": site})
    except QueryError:
        return "unknown", ""
    if not rows:
        return "unknown", ""
    if all(r.get("fatal") for r in rows):
        newest = max(rows, key=lambda r: int(r["time"]))
        return "stopped", str(newest["fatal"])
    now = epoch_ms(utcnow())  # ingest stamps stats with the wall clock
    if any(not r.get("fatal") and now - int(r["time"]) <= RECENT_MS for r in rows):
        return "running", ""
    return "silent", ""


@router.get("/health", response_model=HealthPublic)
def health(
    response: Response,
    session: SessionDep,
    influx: InfluxDep,
    mqtt: MqttDep,
    settings: SettingsDep,
) -> HealthPublic:
    """Report reachability and ingest's state (503 when something is down or ingest stopped)."""
    try:
        session.execute(text("SELECT 1"))
        database = True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        database = False
    influxdb = influx.ping()
    state, detail = ingest_state(influx, settings.site) if influxdb else ("unknown", "")
    result = HealthPublic(
        status="ok",
        broker=mqtt.is_connected(),
        influxdb=influxdb,
        database=database,
        ingest=state,
        ingest_detail=detail,
    )
    if not (result.broker and result.influxdb and result.database) or state == "stopped":
        result.status = "degraded"
        response.status_code = 503
    return result
