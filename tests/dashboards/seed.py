"""A day at the landfill in InfluxDB, written as ingest writes it, for the dashboard tests.

Tickets, captures and scale events go through `ingest/points.py` from contract messages, as
the ingest service stores them; fill readings and `ingest_stats` through `ingest/lines.py`
with the names of `landfill/measurements.py`, and each container's kept state (`fill_state`)
at its last reading. Times are local (Asia/Bishkek) around NOW, noon of the current day, so
"today" and "this month" panels have known answers. A second site's
points must never show on the first site's dashboards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ingest.dead_letters import DeadLetterStore
from ingest.lines import line
from ingest.points import alert_line, capture_line, fill_state_line, scale_event_line, to_lines
from landfill.contract import Capture, ContainerAlert, DeadLetter, ScaleEvent, Ticket
from landfill.fill.state import FillState
from landfill.influx import InfluxStore, epoch_ms
from landfill.measurements import FILL, INGEST_STATS

TZ = ZoneInfo("Asia/Bishkek")


def local_noon() -> datetime:
    """Noon today in Asia/Bishkek, as an aware UTC time."""
    today = datetime.now(TZ).replace(hour=12, minute=0, second=0, microsecond=0)
    return today.astimezone(UTC)


@dataclass
class Day:
    """What was written, so tests can compute what each panel must show."""

    site: str
    other_site: str
    now: datetime
    tickets: list[Ticket] = field(default_factory=list)
    captures: list[Capture] = field(default_factory=list)
    events: list[ScaleEvent] = field(default_factory=list)
    alerts: list[ContainerAlert] = field(default_factory=list)
    fill: dict[str, list[tuple[datetime, float, float]]] = field(default_factory=dict)

    def at(self, hour: int, minute: int = 0, days_ago: int = 0) -> datetime:
        """A local time of today (or ``days_ago``) as UTC."""
        local = self.now.astimezone(TZ) - timedelta(days=days_ago)
        return local.replace(hour=hour, minute=minute).astimezone(UTC)


def _tickets(day: Day) -> list[Ticket]:
    rows = [  # (hour, days ago, client, waste type, zone, net kg, voided, site)
        (9, 0, "ACME", "msw", "dostuk", 5000, False, day.site),
        (10, 0, "ACME", "construction", "burgondu", 3000, False, day.site),
        (11, 0, "BETA", "msw", "dostuk", 2000, True, day.site),
        (15, 1, "BETA", "msw", "dostuk", 4000, False, day.site),
        (9, 0, "ACME", "msw", "dostuk", 9999, False, day.other_site),
    ]
    return [
        Ticket(
            ts=day.at(hour, days_ago=ago),
            site=site,
            number=f"T-{n}",
            status="voided" if voided else "completed",
            scale="scale1",
            gross_kg=net + 8000,
            tare_kg=8000,
            net_kg=net,
            client=client,
            vehicle=f"0{n}KG123ABC",
            waste_type=waste,
            zone=zone,
        )
        for n, (hour, ago, client, waste, zone, net, voided, site) in enumerate(rows)
    ]


def _scale(day: Day) -> None:
    for hour, minute, scale, kg in ((9, 0, "scale1", 14560), (10, 0, "scale1", 12000),
                                    (9, 30, "scale2", 8000)):  # fmt: skip
        day.captures.append(
            Capture.weighed(
                ts=day.at(hour, minute),
                site=day.site,
                scale=scale,
                weight_kg=kg,
                division_kg=20,
                stable_ms=2100,
                protocol="yaohua-a9",
            )  # fmt: skip
        )
    day.events = [
        ScaleEvent(ts=day.at(9, 10), site=day.site, scale="scale1", event="no_data"),
        ScaleEvent(
            ts=day.at(9, 20), site=day.site, scale="scale1", event="overload", weight_kg=61000
        ),  # fmt: skip
    ]


def _alert(day: Day, container: str, kind: str, hours_ago: float, active: bool, since_h: float):
    return ContainerAlert(
        ts=day.now - timedelta(hours=hours_ago),
        site=day.site,
        container=container,
        alert=kind,  # type: ignore[arg-type]
        active=active,
        severity="major" if kind == "fire" else "warning",
        transition="raised" if active else "cleared",
        since=day.now - timedelta(hours=since_h),
        value=85.0 if kind == "full" else None,
        detail=f"{kind} test",
    )


def _alerts(day: Day) -> list[ContainerAlert]:
    return [
        _alert(day, "bin-02", "full", 3, True, 3),
        _alert(day, "bin-01", "offline", 5, True, 5),
        _alert(day, "bin-01", "offline", 4, False, 5),  # back online
        _alert(day, "bin-03", "fire", 2, True, 2),
        _alert(day, "bin-04", "offline", 1, True, 1),
    ]


def _fill_lines(day: Day) -> list[str]:
    """Hourly readings of bin-01 (filling up) and bin-02 (full, weak battery); bin-99 elsewhere."""
    out = []
    containers = (
        ("bin-01", day.site, 10.0, 10.0, 90.0),
        ("bin-02", day.site, 85.0, 0.0, 15.0),
        ("bin-99", day.other_site, 50.0, 0.0, 70.0),
    )
    for container, site, start, step, battery in containers:
        for hour in range(6):
            ts = day.now - timedelta(hours=5 - hour)
            pct = start + step * hour
            day.fill.setdefault(container, []).append((ts, pct, battery))
            tags = {"site": site, "container": container, "zone": "dostuk"}
            fields = {
                "fill_pct": pct,
                "filtered_pct": pct,
                "battery_pct": battery,
                "temp_c": 21.5,
                "id": f"{container}-{hour}",
            }
            FILL.check(tags, fields)
            out.append(line(FILL.name, tags, fields, epoch_ms(ts)))  # type: ignore[arg-type]
    return [x for x in out if x]


def _state_lines(day: Day) -> list[str]:
    """Each container's kept state (`fill_state`) at its last reading, as the fill processor."""
    out = []
    for container, readings in day.fill.items():
        ts, pct, battery = readings[-1]
        ms = epoch_ms(ts)
        state = FillState(last_ms=ms, level_pct=pct, level_ms=ms, battery_pct=battery)
        site = day.site if container != "bin-99" else day.other_site
        text = fill_state_line(site, container, state.model_dump_json(), ms, f"{container}-5")
        out += [text] if text else []
    return out


def _stats_lines(day: Day) -> list[str]:
    """Thirty minutes of ingest_stats every 10 s: w1 healthy with one dead letter, w2 lagging."""
    out = []
    for i in range(180):
        ts = day.now - timedelta(seconds=10 * (179 - i))
        for worker, lag in (("w1", 120), ("w2", 90_000)):
            fields = {
                "received": 100 * i,
                "written": 100 * i,
                "retries": 0,
                "backlog": 5,
                "dead_letters": 1 if (worker == "w1" and i >= 170) else 0,
                "rejected_invalid_json": 3,
                "lag_ms_avg": lag / 2,
                "lag_ms_max": lag,
            }
            tags = {"site": day.site, "worker": worker}
            INGEST_STATS.check(tags, fields)
            text = line(INGEST_STATS.name, tags, fields, epoch_ms(ts))  # type: ignore[arg-type]
            if text:
                out.append(text)
    return out


def seed_day(store: InfluxStore, site: str, now: datetime | None = None) -> Day:
    """Write the day into ``store`` and return what was written."""
    day = Day(site=site, other_site=f"{site}x", now=now or local_noon())
    day.tickets = _tickets(day)
    _scale(day)
    day.alerts = _alerts(day)
    lines = [x for t in day.tickets for x in to_lines(t)]  # weighing and inflow, as ingest
    lines += [capture_line(c) for c in day.captures]
    lines += [scale_event_line(e) for e in day.events]
    lines += [alert_line(a) for a in day.alerts]
    fill = _fill_lines(day)  # fills day.fill, which the kept states are made from
    lines += _dead_letter_lines(day)
    store.write_lines([x for x in lines if x] + fill + _state_lines(day) + _stats_lines(day))
    return day


def _dead_letter_lines(day: Day) -> list[str]:
    """Three uplinks of a device with a model typo, refused by the edge, stored as ingest does."""
    store = DeadLetterStore("w1", lambda: day.now)
    eui = "0004a30b001c0a11"
    letters = [
        DeadLetter(
            ts=day.now - timedelta(minutes=5 + n),
            site=day.site,
            reason="unknown_model",
            topic=f"application/1/device/{eui}/event/up",
            payload=f'{{"devEui": "{eui}", "fCnt": {n}}}',
            consumer="edge-sensors",
            source=f"device:{eui}",
            refused_kind="uplink",
        )
        for n in range(3)
    ]
    return [x for letter in letters for x in store.process(letter).lines]
