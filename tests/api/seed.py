"""Seed InfluxDB the way the ingest writes it (the shared schema), for dispatcher tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from landfill.influx import InfluxStore


def ms(ts: datetime) -> int:
    """Epoch milliseconds."""
    return int(ts.timestamp() * 1000)


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
    out = []
    for ts, pct in levels:
        fields = [
            f"fill_pct={pct}",
            f"filtered_pct={pct}",
            f"distance_mm={int(1450 - pct * 10)}i",
            "temp_c=12.5",
            "tilt=false",
            f'quality="{quality}"',
            f"overfull={'true' if overfull else 'false'}",
            f'id="{container}-{ms(ts)}"',
        ]
        if battery_pct is not None:
            fields.append(f"battery_pct={battery_pct}")
        if battery_v is not None:
            fields.append(f"battery_v={battery_v}")
        out.append(
            f"fill,container={container},site={site},zone={zone} {','.join(fields)} {ms(ts)}"
        )
    return out


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
    fields = [
        f"active={'true' if active else 'false'}",
        f'severity="{severity}"',
        f'transition="{transition}"',
        f"since={ms(since)}i",
        f'detail="{kind} on {container}"',
        f'id="{alert_id}"',
    ]
    if value is not None:
        fields.append(f"value={value}")
    return (
        f"container_alert,container={container},kind={kind},site={site} {','.join(fields)} {ms(ts)}"
    )


def emptying_line(
    site: str, container: str, ts: datetime, before: float, after: float, event_id: str
) -> str:
    """One `container_event` emptying point."""
    return (
        f"container_event,container={container},kind=emptying,site={site} "
        f'before_pct={before},after_pct={after},detail="drop",id="{event_id}" {ms(ts)}'
    )


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
    ("nodata-1", "Settlement 08", 41.070, 72.590, [3]),
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
