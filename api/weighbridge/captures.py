"""What the ledger reads from InfluxDB: a capture by id, scale events in a span, recent captures.

Every value is a bound parameter (InfluxQL ``$name``). A capture is looked up by its id, which
the edge gave it; the ledger never takes a weight from the request body except a supervisor's
manual entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from landfill.influx import InfluxStore

__all__ = ["CaptureRecord", "find_capture", "recent_captures", "scale_events"]


@dataclass(frozen=True)
class CaptureRecord:
    """A stable weight the edge captured, as ingest stored it."""

    id: str
    ts: datetime
    scale: str
    weight_kg: int
    division_kg: int
    stable_ms: int
    protocol: str
    stable_source: str
    raw: str  # frames as hex, space separated


def _record(row: dict[str, Any]) -> CaptureRecord:
    return CaptureRecord(
        id=str(row["id"]),
        ts=datetime.fromtimestamp(row["time"] / 1000, UTC),
        scale=str(row["scale"]),
        weight_kg=int(row["weight_kg"]),
        division_kg=int(row.get("division_kg") or 0),
        stable_ms=int(row.get("stable_ms") or 0),
        protocol=str(row.get("protocol") or ""),
        stable_source=str(row.get("stable_source") or ""),
        raw=str(row.get("raw") or ""),
    )


def find_capture(
    influx: InfluxStore, site: str, capture_id: str, since: datetime
) -> CaptureRecord | None:
    """The capture with this id at the site, taken after ``since``; None when there is none."""
    q = (
        "SELECT * FROM scale_capture WHERE site = $site AND id = $id AND time >= $since "
        "ORDER BY time DESC LIMIT 1"
    )
    rows = influx.rows(q, {"site": site, "id": capture_id, "since": since})
    return _record(rows[0]) if rows else None


def recent_captures(
    influx: InfluxStore, site: str, since: datetime, until: datetime
) -> list[CaptureRecord]:
    """Captures at the site in [since, until), oldest first."""
    q = (
        "SELECT * FROM scale_capture WHERE site = $site AND time >= $since AND time < $until "
        "ORDER BY time ASC LIMIT 5000"
    )
    rows = influx.rows(q, {"site": site, "since": since, "until": until})
    return [_record(r) for r in rows]


def scale_events(
    influx: InfluxStore, site: str, scales: Iterable[str], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Scale events (load left before capture, not back to zero, ...) on these scales in a span."""
    names = sorted(set(scales))
    if not names:
        return []
    params: dict[str, object] = {"site": site, "start": start, "end": end}
    alternatives = []
    for i, name in enumerate(names):
        params[f"s{i}"] = name
        alternatives.append(f"scale = $s{i}")
    q = (
        f"SELECT * FROM scale_event WHERE site = $site AND ({' OR '.join(alternatives)}) "  # noqa: S608 - fixed text, values bound
        "AND time >= $start AND time <= $end ORDER BY time ASC LIMIT 200"
    )
    return [
        {
            "id": str(r.get("id") or ""),
            "ts": datetime.fromtimestamp(r["time"] / 1000, UTC).isoformat(),
            "scale": str(r.get("scale") or ""),
            "kind": str(r.get("kind") or ""),
            "weight_kg": r.get("weight_kg"),
            "detail": str(r.get("detail") or ""),
        }
        for r in influx.rows(q, params)
    ]
