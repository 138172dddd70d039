"""Seed InfluxDB the way the ingest writes it (landfill/measurements.py), for dispatcher tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from ingest.lines import FieldValue, line
from landfill.influx import InfluxStore
from landfill.measurements import CONTAINER_ALERT, CONTAINER_EVENT, FILL, Measurement


def ms(ts: datetime) -> int:
    """Epoch milliseconds."""
    return int(ts.timestamp() * 1000)


def point(m: Measurement, tags: dict[str, str], fields: dict[str, FieldValue], ts: datetime) -> str:
    """One line, its keys and value types checked against the measurement's definition."""
    m.check(tags, fields)
    written = line(m.name, tags, fields, ms(ts))
    assert written is not None
    return written


def fill_lines(
    site: str,
    container: str,
    zone: str,
    levels: Iterable[tuple[datetime, float]],
    *,
    battery_pct: float | None = 90.0,
    battery_v: float | None = None,
    quality: str = "accepted",
    overfull: bool = False,
) -> list[str]:
    """One `fill` point per (time, filtered level); the raw level equals the filtered one."""
    tags = {"site": site, "container": container, "zone": zone}
    return [
        point(
            FILL,
            tags,
            {
                "fill_pct": float(pct),
                "filtered_pct": float(pct),
                "distance_mm": int(1450 - pct * 10),
                "temp_c": 12.5,
                "tilt": False,
                "quality": quality,
                "overfull": overfull,
                "id": f"{container}-{ms(ts)}",
                "battery_pct": battery_pct,
                "battery_v": battery_v,
            },
            ts,
        )
        for ts, pct in levels
    ]


def hourly(start: datetime, end: datetime, pct0: float, rate_per_day: float):
    """Hourly levels from ``start`` to ``end`` rising at a constant rate."""
    t, out = start, []
    while t <= end:
        out.append((t, round(pct0 + rate_per_day * (t - start).total_seconds() / 86400, 2)))
        t += timedelta(hours=1)
    return out


def alert_line(
    site: str,
    container: str,
    kind: str,
    ts: datetime,
    *,
    active: bool,
    since: datetime,
    alert_id: str,
    severity: str = "warning",
    transition: str = "raised",
    value: float | None = None,
) -> str:
    """One `container_alert` point."""
    fields: dict[str, FieldValue] = {
        "active": active,
        "severity": severity,
        "transition": transition,
        "since": ms(since),
        "detail": f"{kind} on {container}",
        "id": alert_id,
        "value": value,
    }
    return point(CONTAINER_ALERT, {"site": site, "container": container, "kind": kind}, fields, ts)


def emptying_line(
    site: str, container: str, ts: datetime, before: float, after: float, event_id: str
) -> str:
    """One `container_event` emptying point."""
    tags = {"site": site, "container": container, "kind": "emptying"}
    fields: dict[str, FieldValue] = {
        "before_pct": before,
        "after_pct": after,
        "detail": "drop",
        "id": event_id,
    }
    return point(CONTAINER_EVENT, tags, fields, ts)


def write(influx: InfluxStore, lines: list[str]) -> None:
    """Write all lines in one request."""
    influx.write_lines(lines)


# (code, settlement, lat, lon, collection weekdays); the scenario's "now" is a Tuesday
SCENARIO = (
    ("full-1", "Dostuk", 41.118, 72.640, [4]),
    ("full-2", "Noshken", 41.101, 72.662, [4]),
    ("risk-1", "Kyzyl-Tuu", 41.087, 72.618, [5]),
    ("sched-1", "Bürgöndü", 41.142, 72.583, [2]),
    ("low-1", "Jany-Aryk", 41.156, 72.561, [2]),
    ("off-1", "Tendik", 41.131, 72.604, [0]),
    ("fire-1", "Shamaldy-Sai", 41.198, 72.536, [1]),
    ("nodata-1", "Kuduk-Sai", 41.070, 72.590, [3]),
)


def seed_scenario(api, influx: InfluxStore, site: str, now: datetime) -> None:
    """Register the scenario's containers and write three days of their data."""
    for code, settlement, lat, lon, days in SCENARIO:
        body = {
            "code": code,
            "settlement": settlement,
            "zone": "dostuk",
            "lat": lat,
            "lon": lon,
            "empty_mm": 1450,
            "full_mm": 450,
            "collection_weekdays": days,
        }
        resp = api.post("/api/v1/containers", json=body)
        assert resp.status_code == 201, resp.text
    d3 = now - timedelta(days=3)
    lines = [
        *fill_lines(site, "full-1", "dostuk", hourly(d3, now, 40, 18)),
        *fill_lines(site, "full-2", "dostuk", hourly(d3, now - timedelta(hours=1), 60, 13)),
        *fill_lines(site, "full-2", "dostuk", [(now, 100.0)], overfull=True),
        *fill_lines(site, "risk-1", "dostuk", hourly(d3, now, 20, 12)),
        *fill_lines(site, "sched-1", "dostuk", hourly(d3, now, 52, 1)),
        *fill_lines(site, "low-1", "dostuk", hourly(d3, now, 17, 1), battery_pct=15.0),
        *fill_lines(site, "off-1", "dostuk", hourly(d3, now - timedelta(hours=6), 30, 4)),
        *fill_lines(site, "fire-1", "dostuk", hourly(d3, now, 10, 0.5)),
        alert_line(
            site,
            "full-1",
            "full",
            now - timedelta(hours=8),
            active=True,
            since=now - timedelta(hours=8),
            alert_id="al-full-1",
            value=82.0,
        ),
        alert_line(
            site,
            "full-2",
            "overfull",
            now,
            active=True,
            since=now,
            alert_id="al-over-2",
            severity="major",
            value=100.0,
        ),
        alert_line(
            site,
            "off-1",
            "offline",
            now - timedelta(hours=3),
            active=True,
            since=now - timedelta(hours=3),
            alert_id="al-off-1",
            severity="major",
        ),
        alert_line(
            site,
            "fire-1",
            "fire",
            now - timedelta(hours=20),
            active=True,
            since=now - timedelta(hours=20),
            alert_id="al-fire-1",
            severity="critical",
            value=71.0,
        ),
        alert_line(
            site,
            "fire-1",
            "fire",
            now - timedelta(hours=18),
            active=False,
            since=now - timedelta(hours=20),
            alert_id="al-fire-1-clear",
            severity="critical",
            transition="cleared",
        ),
        emptying_line(site, "sched-1", d3 - timedelta(hours=1), 85.0, 4.0, "ev-1"),
        emptying_line(site, "risk-1", d3 - timedelta(hours=2), 90.0, 6.0, "ev-2"),
    ]
    write(influx, lines)
