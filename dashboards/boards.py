"""The five dashboards as data: each panel's kind, InfluxQL statement, format and layout.

`render.py` turns these into Grafana JSON with the foundation SDK, `preview.py` into SVG, and
the tests run every statement against a real InfluxDB. Statements use Grafana's variables:
``$site`` and ``$container`` (multi-value, formatted as a regular expression), ``$timeFilter``
and ``$__interval``. Local days (``GROUP BY time(1d) ... tz(...)``) are days in the display
time zone, LANDFILL_TIMEZONE.

| dashboard | uid | panels |
|---|---|---|
| inflow | landfill-inflow | today, month to date, daily by waste type and zone, by client |
| weighbridge | landfill-weighbridge | last capture per scale, captures, per hour, events, tickets |
| containers | landfill-containers | map, fill, now, battery, offline |
| alerts | landfill-alerts | open (count, table), raised per day, history |
| ingest | landfill-ingest | rates, lag, backlog, dead letters and retries, rejected, workers |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dashboards.influxql import ResultFormat, checked
from landfill.measurements import (
    CONTAINER_ALERT,
    FILL,
    INGEST_STATS,
    SCALE_CAPTURE,
    SCALE_EVENT,
    WEIGHING,
    Measurement,
)

__all__ = ["VARIABLES", "BoardSpec", "PanelKind", "PanelSpec", "Variable", "boards"]

PanelKind = Literal["timeseries", "bars", "points", "stat", "table", "geomap"]

SITE = '"site" =~ /^$site$/'
CONTAINER = '"container" =~ /^$container$/'
TICKETS = f'"weighing" WHERE {SITE} AND "voided" = false AND $timeFilter'
OPEN_SINCE = "365d"  # how far back an open alert's last transition is looked for


@dataclass(frozen=True)
class PanelSpec:
    """One panel: what it shows, its statement, and where it sits (24 columns wide)."""

    key: str
    kind: PanelKind
    measurement: Measurement
    statement: str
    fmt: ResultFormat = "time_series"
    alias: str = ""
    unit: str = ""
    width: int = 12
    height: int = 8
    time_from: str = ""  # the panel's own range, such as now/d (today) or now/M (this month)
    min_interval: str = ""

    def __post_init__(self) -> None:
        checked(self.measurement, self.statement)


@dataclass(frozen=True)
class Variable:
    """A template variable: multi-value with All (``.*``), options from InfluxDB."""

    name: str
    query: str


VARIABLES = {
    "site": Variable("site", 'SHOW TAG VALUES WITH KEY = "site"'),
    "container": Variable(
        "container",
        checked(FILL, f'SHOW TAG VALUES FROM "fill" WITH KEY = "container" WHERE {SITE}'),
    ),
}


@dataclass(frozen=True)
class BoardSpec:
    """One dashboard: its stable uid, default range, variables and panels."""

    key: str
    uid: str
    time_from: str
    variables: tuple[str, ...]
    panels: tuple[PanelSpec, ...]


def _open_alerts(columns: tuple[str, ...], where: str, select: str = "") -> str:
    """The containers whose last transition of an alert kind left it active.

    InfluxQL has no boolean arithmetic and Grafana alerting no boolean values, so the last
    point of each series is taken in a subquery and filtered on ``active`` outside it.
    """
    inner = ", ".join(f'last("{c}") AS "{c}"' for c in ("active", *columns))
    shown = select or ", ".join(f'"{c}"' for c in columns)
    return (
        f'SELECT {shown} FROM (SELECT {inner} FROM "container_alert" WHERE {where} '
        f'AND time > now() - {OPEN_SINCE} GROUP BY "site", "container", "kind") '
        'WHERE "active" = true'
    )


def inflow(tz: str) -> BoardSpec:
    """Landfill inflow: tonnage by day, waste type, zone and client."""
    daily = f'SELECT sum("net_kg") / 1000 FROM {TICKETS} GROUP BY time(1d), "{{}}" fill(0) '
    daily += f"tz('{tz}')"
    panels = (
        PanelSpec("inflow_today", "stat", WEIGHING, f'SELECT sum("net_kg") / 1000 FROM {TICKETS}',
                  unit="masst", width=8, height=5, time_from="now/d"),
        PanelSpec("inflow_trucks_today", "stat", WEIGHING, f'SELECT count("net_kg") FROM {TICKETS}',
                  unit="short", width=8, height=5, time_from="now/d"),
        PanelSpec("inflow_month", "stat", WEIGHING, f'SELECT sum("net_kg") / 1000 FROM {TICKETS}',
                  unit="masst", width=8, height=5, time_from="now/M"),
        PanelSpec("inflow_daily_by_type", "bars", WEIGHING, daily.format("waste_type"),
                  alias="$tag_waste_type", unit="masst"),
        PanelSpec("inflow_daily_by_zone", "bars", WEIGHING, daily.format("zone"),
                  alias="$tag_zone", unit="masst"),
        PanelSpec("inflow_month_by_client", "table", WEIGHING,
                  f'SELECT sum("net_kg") / 1000 AS "t", count("net_kg") AS "trucks" FROM {TICKETS} '
                  'GROUP BY "client"', fmt="table", width=24, time_from="now/M"),
    )  # fmt: skip
    return BoardSpec("inflow", "landfill-inflow", "now-30d", ("site",), panels)


def weighbridge(tz: str) -> BoardSpec:
    """The weighbridge: captures, scale events and tickets."""
    captures = f'"scale_capture" WHERE {SITE} AND $timeFilter'
    events = f'"scale_event" WHERE {SITE} AND $timeFilter'
    panels = (
        PanelSpec("wb_last_capture", "stat", SCALE_CAPTURE,
                  f'SELECT last("weight_kg") FROM {captures} GROUP BY "scale"',
                  alias="$tag_scale", unit="kg", width=24, height=5),
        PanelSpec("wb_captures", "points", SCALE_CAPTURE,
                  f'SELECT "weight_kg" FROM {captures} GROUP BY "scale"', alias="$tag_scale",
                  unit="kg"),
        PanelSpec("wb_captures_per_hour", "bars", SCALE_CAPTURE,
                  f"SELECT count(\"weight_kg\") FROM {captures} GROUP BY time(1h), \"scale\" "
                  f"fill(0) tz('{tz}')", alias="$tag_scale", unit="short"),
        PanelSpec("wb_events", "table", SCALE_EVENT,
                  f'SELECT "detail", "weight_kg" FROM {events} GROUP BY "scale", "kind" '
                  "ORDER BY time DESC LIMIT 200", fmt="table"),
        PanelSpec("wb_events_by_kind", "bars", SCALE_EVENT,
                  f"SELECT count(\"id\") FROM {events} GROUP BY time(1d), \"kind\" fill(0) "
                  f"tz('{tz}')", alias="$tag_kind", unit="short"),
        PanelSpec("wb_tickets", "table", WEIGHING,
                  'SELECT "number", "gross_kg", "tare_kg", "net_kg", "manual", "voided" FROM '
                  f'"weighing" WHERE {SITE} AND $timeFilter GROUP BY "client", "vehicle", '
                  '"waste_type", "zone" ORDER BY time DESC LIMIT 200', fmt="table", width=24),
    )  # fmt: skip
    return BoardSpec("weighbridge", "landfill-weighbridge", "now-24h", ("site",), panels)


def containers(_tz: str) -> BoardSpec:
    """Containers: the map, fill, battery and the ones that went silent."""
    fill = f'"fill" WHERE {SITE} AND {CONTAINER} AND $timeFilter'
    offline = f"{SITE} AND {CONTAINER} AND \"kind\" = 'offline'"
    panels = (
        PanelSpec("ct_map", "geomap", FILL,
                  f'SELECT last("filtered_pct") AS "filtered_pct", last("battery_pct") AS '
                  f'"battery_pct" FROM {fill} GROUP BY "container"', fmt="table", unit="percent",
                  height=12),
        PanelSpec("ct_fill", "timeseries", FILL,
                  f'SELECT mean("filtered_pct") FROM {fill} GROUP BY time($__interval), '
                  '"container" fill(null)', alias="$tag_container", unit="percent", height=12),
        PanelSpec("ct_now", "table", FILL,
                  f'SELECT last("filtered_pct") AS "filtered_pct", last("battery_pct") AS '
                  f'"battery_pct", last("temp_c") AS "temp_c" FROM {fill} GROUP BY "container", '
                  '"zone"', fmt="table"),
        PanelSpec("ct_battery", "timeseries", FILL,
                  f'SELECT min("battery_pct") FROM {fill} GROUP BY time($__interval), '
                  '"container" fill(null)', alias="$tag_container", unit="percent"),
        PanelSpec("ct_offline_count", "stat", CONTAINER_ALERT,
                  _open_alerts(("since",), offline, 'count("since")'), unit="short", width=6),
        PanelSpec("ct_offline", "table", CONTAINER_ALERT,
                  _open_alerts(("since", "detail"), offline) + ' GROUP BY "container"', fmt="table",
                  width=18),
    )  # fmt: skip
    return BoardSpec("containers", "landfill-containers", "now-7d", ("site", "container"), panels)


def alerts(tz: str) -> BoardSpec:
    """Container alerts: open now, raised per day, and every transition."""
    where = f"{SITE} AND {CONTAINER}"
    panels = (
        PanelSpec("al_open_count", "stat", CONTAINER_ALERT,
                  _open_alerts(("since",), where, 'count("since")'), unit="short", width=6),
        PanelSpec("al_open", "table", CONTAINER_ALERT,
                  _open_alerts(("severity", "since", "detail"), where)
                  + ' GROUP BY "container", "kind"', fmt="table", width=18),
        PanelSpec("al_raised_per_day", "bars", CONTAINER_ALERT,
                  f"SELECT count(\"id\") FROM \"container_alert\" WHERE {where} AND "
                  f"\"transition\" = 'raised' AND $timeFilter GROUP BY time(1d), \"kind\" fill(0) "
                  f"tz('{tz}')", alias="$tag_kind", unit="short", width=24),
        PanelSpec("al_history", "table", CONTAINER_ALERT,
                  'SELECT "transition", "severity", "active", "detail" FROM "container_alert" '
                  f'WHERE {where} AND $timeFilter GROUP BY "container", "kind" '
                  "ORDER BY time DESC LIMIT 500", fmt="table", width=24, height=12),
    )  # fmt: skip
    return BoardSpec("alerts", "landfill-alerts", "now-7d", ("site", "container"), panels)


def ingest(_tz: str) -> BoardSpec:
    """Ingest health from `ingest_stats`: rates, lag, backlog, dead letters, retries."""
    stats = f'"ingest_stats" WHERE {SITE} AND $timeFilter'
    every = 'GROUP BY time($__interval), "worker" fill(null)'
    counters = ("received", "written", "dead_letters", "retries", "reconnects")
    panels = (
        PanelSpec("in_rate", "timeseries", INGEST_STATS,
                  'SELECT non_negative_derivative(max("received"), 1s) AS "received", '
                  f'non_negative_derivative(max("written"), 1s) AS "written" FROM {stats} {every}',
                  alias="$tag_worker $col", unit="cps", min_interval="30s"),
        PanelSpec("in_lag", "timeseries", INGEST_STATS,
                  'SELECT max("lag_ms_max") AS "max", mean("lag_ms_avg") AS "mean" '
                  f"FROM {stats} {every}", alias="$tag_worker $col", unit="ms",
                  min_interval="30s"),
        PanelSpec("in_backlog", "timeseries", INGEST_STATS,
                  f'SELECT max("backlog") FROM {stats} {every}', alias="$tag_worker",
                  unit="short", min_interval="30s"),
        PanelSpec("in_dead_letters", "bars", INGEST_STATS,
                  'SELECT non_negative_difference(max("dead_letters")) AS "dead_letters", '
                  'non_negative_difference(max("retries")) AS "retries" '
                  f"FROM {stats} {every}", alias="$tag_worker $col", unit="short",
                  min_interval="1m"),
        PanelSpec("in_rejected", "table", INGEST_STATS,
                  f'SELECT last(/^rejected_/) FROM {stats} GROUP BY "worker"', fmt="table"),
        PanelSpec("in_workers", "table", INGEST_STATS,
                  "SELECT " + ", ".join(f'last("{c}") AS "{c}"' for c in counters)
                  + f' FROM {stats} GROUP BY "worker"', fmt="table"),
    )  # fmt: skip
    return BoardSpec("ingest", "landfill-ingest", "now-6h", ("site",), panels)


def boards(tz: str) -> tuple[BoardSpec, ...]:
    """Every dashboard, with local days in time zone ``tz``."""
    return tuple(make(tz) for make in (inflow, weighbridge, containers, alerts, ingest))
