"""Every panel and alert rule query runs against a real InfluxDB 1.6 and returns what it must.

The day of `seed.py` is written as ingest writes it; each statement is sent as Grafana sends
it (variables formatted as a regular expression, `$timeFilter` and `$__interval` replaced,
the panel's own relative time resolved in Asia/Bishkek). A table below holds, for every
panel, what the dashboard must show; a test fails if a panel has no entry.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboards.alerts import RULES, RuleSpec
from dashboards.boards import VARIABLES, boards
from dashboards.queries import run_panel, run_rule
from dashboards.templating import ALL, Selection, TimeRange, interpolate
from landfill.influx import Series
from tests.dashboards.seed import TZ, Day, seed_day

pytestmark = pytest.mark.integration

ZONE = "Asia/Bishkek"
BOARDS = {b.uid: b for b in boards(ZONE)}
PANELS = {p.key: (b, p) for b in BOARDS.values() for p in b.panels}


@pytest.fixture
def day(influx, site) -> Day:
    return seed_day(influx, site)


def by_tags(series: list[Series], column: str) -> dict[tuple[str, ...], list[Any]]:
    """Non-null values of ``column`` per series, keyed by the series' tag values."""
    out = {}
    for s in series:
        index = s.columns.index(column)
        out[tuple(s.tags[k] for k in sorted(s.tags))] = [
            v[index] for v in s.values if v[index] is not None
        ]
    return out


def one(series: list[Series], column: str) -> Any:
    values = [v for vs in by_tags(series, column).values() for v in vs]
    assert len(values) == 1, values
    return values[0]


def daily(series: list[Series], column: str) -> dict[tuple[str, str], float]:
    """Non-zero daily buckets as (tag value, local date) -> value."""
    out = {}
    for s in series:
        index = s.columns.index(column)
        for row in s.values:
            if row[index]:
                date = (s.tags and next(iter(s.tags.values())), _local_date(row[0]))
                out[date] = row[index]
    return out


def _local_date(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).astimezone(TZ).date().isoformat()


def this_month(day: Day, when) -> bool:
    return when.astimezone(TZ).strftime("%Y-%m") == day.now.astimezone(TZ).strftime("%Y-%m")


def expected_month(day: Day) -> dict[str, tuple[float, int]]:
    out: dict[str, tuple[float, int]] = {}
    for t in day.tickets:
        if t.site == day.site and t.status == "completed" and this_month(day, t.ts):
            tonnes, trucks = out.get(t.client or "", (0.0, 0))
            out[t.client or ""] = (tonnes + t.net_kg / 1000, trucks + 1)
    return out


def check_inflow(day: Day, result: dict[str, list[Series]]) -> None:
    today, yesterday = (
        (day.now - timedelta(days=n)).astimezone(TZ).date().isoformat() for n in (0, 1)
    )
    assert one(result["inflow_today"], "sum") == pytest.approx(8.0)  # the voided one left out
    assert one(result["inflow_trucks_today"], "count") == 2
    month = expected_month(day)
    assert one(result["inflow_month"], "sum") == pytest.approx(sum(t for t, _ in month.values()))
    assert daily(result["inflow_daily_by_type"], "sum") == {
        ("msw", today): 5,
        ("construction", today): 3,
        ("msw", yesterday): 4,
    }
    assert daily(result["inflow_daily_by_zone"], "sum") == {
        ("dostuk", today): 5,
        ("burgondu", today): 3,
        ("dostuk", yesterday): 4,
    }
    clients = result["inflow_month_by_client"]
    tonnes, trucks = by_tags(clients, "t"), by_tags(clients, "trucks")
    got = {k[0]: (round(tonnes[k][0], 3), trucks[k][0]) for k in tonnes}
    assert got == {client: (round(t, 3), n) for client, (t, n) in month.items()}


def check_weighbridge(result: dict[str, list[Series]]) -> None:
    assert by_tags(result["wb_last_capture"], "last") == {("scale1",): [12000], ("scale2",): [8000]}
    assert by_tags(result["wb_captures"], "weight_kg") == {
        ("scale1",): [14560, 12000],
        ("scale2",): [8000],
    }
    per_hour = by_tags(result["wb_captures_per_hour"], "count")
    assert sorted(v for v in per_hour[("scale1",)] if v) == [1, 1]
    assert sum(per_hour[("scale2",)]) == 1
    events = by_tags(result["wb_events"], "weight_kg")
    assert set(events) == {("no_data", "scale1"), ("overload", "scale1")}
    assert events[("overload", "scale1")] == [61000]
    assert {k: sum(v) for k, v in by_tags(result["wb_events_by_kind"], "count").items()} == {
        ("no_data",): 1,
        ("overload",): 1,
    }
    tickets = by_tags(result["wb_tickets"], "number")
    assert sorted(n for ns in tickets.values() for n in ns) == ["T-0", "T-1", "T-2", "T-3"]
    voided = [v for vs in by_tags(result["wb_tickets"], "voided").values() for v in vs]
    assert voided.count(True) == 1


def check_containers(result: dict[str, list[Series]]) -> None:
    assert by_tags(result["ct_map"], "filtered_pct") == {("bin-01",): [60], ("bin-02",): [85]}
    fill = by_tags(result["ct_fill"], "mean")
    assert fill[("bin-01",)] == [10, 20, 30, 40, 50, 60]
    assert set(fill[("bin-02",)]) == {85}
    assert by_tags(result["ct_now"], "battery_pct") == {
        ("bin-01", "dostuk"): [90],
        ("bin-02", "dostuk"): [15],
    }
    assert min(by_tags(result["ct_battery"], "min")[("bin-02",)]) == 15
    assert one(result["ct_offline_count"], "count") == 1  # bin-01 came back, bin-04 did not
    assert set(by_tags(result["ct_offline"], "since")) == {("bin-04",)}


def check_alerts(result: dict[str, list[Series]]) -> None:
    assert one(result["al_open_count"], "count") == 3
    assert set(by_tags(result["al_open"], "severity")) == {
        ("bin-02", "full"),
        ("bin-03", "fire"),
        ("bin-04", "offline"),
    }
    raised = {k: sum(v) for k, v in by_tags(result["al_raised_per_day"], "count").items()}
    assert raised == {("fire",): 1, ("full",): 1, ("offline",): 2}
    history = by_tags(result["al_history"], "transition")
    assert sum(len(v) for v in history.values()) == 5
    assert history[("bin-01", "offline")] == ["cleared", "raised"]  # newest first


def check_ingest(result: dict[str, list[Series]]) -> None:
    rates = by_tags(result["in_rate"], "received")
    assert set(rates) == {("w1",), ("w2",)}
    assert statistics.median(rates[("w1",)]) == pytest.approx(10)  # 100 messages per 10 s
    assert max(by_tags(result["in_lag"], "max")[("w2",)]) == 90_000
    assert set(by_tags(result["in_backlog"], "max")[("w1",)]) == {5}
    dead = by_tags(result["in_dead_letters"], "dead_letters")
    assert (sum(dead[("w1",)]), sum(dead[("w2",)])) == (1, 0)
    assert by_tags(result["in_rejected"], "last_rejected_invalid_json") == {
        ("w1",): [3],
        ("w2",): [3],
    }
    assert by_tags(result["in_workers"], "dead_letters") == {("w1",): [1], ("w2",): [0]}


def test_every_panel_returns_its_expected_series(influx, day):
    variables = {"site": Selection([day.site]), "container": Selection(ALL)}
    result = {
        key: run_panel(influx, board, panel, variables, day.now, ZONE)
        for key, (board, panel) in PANELS.items()
    }
    checked = set()
    checks = (
        (check_weighbridge, "wb_"),
        (check_containers, "ct_"),
        (check_alerts, "al_"),
        (check_ingest, "in_"),
    )
    for check, prefix in checks:
        check(result)
        checked |= {k for k in result if k.startswith(prefix)}
    check_inflow(day, result)
    checked |= {k for k in result if k.startswith("inflow_")}
    assert checked == set(PANELS), "every panel needs an expectation"


def test_all_sites_include_the_other_site_and_one_site_leaves_it_out(influx, day):
    board, panel = PANELS["inflow_today"]
    every = run_panel(influx, board, panel, {"site": Selection(ALL)}, day.now, ZONE)
    assert one(every, "sum") == pytest.approx(8.0 + 9.999)
    board, panel = PANELS["ct_map"]
    chosen = {"site": Selection([day.other_site]), "container": Selection(ALL)}
    assert set(by_tags(run_panel(influx, board, panel, chosen, day.now, ZONE), "filtered_pct")) == {
        ("bin-99",)
    }


@pytest.mark.parametrize(
    ("containers", "expected"),
    [
        (["bin-01"], {("bin-01", "dostuk")}),
        (["bin-01", "bin-02"], {("bin-01", "dostuk"), ("bin-02", "dostuk")}),
        (ALL, {("bin-01", "dostuk"), ("bin-02", "dostuk")}),
    ],
)
def test_the_container_variable_filters_as_grafana_formats_it(influx, day, containers, expected):
    board, panel = PANELS["ct_now"]
    variables = {"site": Selection([day.site]), "container": Selection(containers)}
    assert set(by_tags(run_panel(influx, board, panel, variables, day.now, ZONE), "temp_c")) == (
        expected
    )


def test_the_variables_offer_the_sites_and_the_site_s_containers(influx, day):
    window = TimeRange(0, 1)
    sites = influx.query(interpolate(VARIABLES["site"].query, {}, window, 1000))
    assert {day.site, day.other_site} <= {row[1] for s in sites for row in s.values}
    query = interpolate(VARIABLES["container"].query, {"site": Selection([day.site])}, window, 1)
    containers = {row[1] for s in influx.query(query) for row in s.values}
    assert containers == {"bin-01", "bin-02"}


# ---- alert rules: query A on InfluxDB, then Grafana's reduce (B) and threshold (C) ----------

REDUCERS = {"last": lambda v: v[-1], "max": max, "sum": sum, "count": len}


def evaluate(rule: RuleSpec, series: list[Series]) -> dict[tuple[str, ...], bool] | str:
    """Firing per series (by tag values), or the no-data state when A returned nothing."""
    if not series:
        return rule.no_data
    out = {}
    for s in series:
        values = [row[1] for row in s.values if row[1] is not None]
        value = REDUCERS[rule.reducer](values)
        fires = value > rule.threshold if rule.op == "gt" else value < rule.threshold
        out[tuple(s.tags[k] for k in ("container", "worker") if k in s.tags)] = fires
    return out


def firing(state: dict[tuple[str, ...], bool] | str) -> set[tuple[str, ...]] | str:
    return state if isinstance(state, str) else {k for k, v in state.items() if v}


def test_alert_rules_fire_for_exactly_the_seeded_problems(influx, day):
    rules = {r.key: r for r in RULES}
    states = {key: firing(evaluate(r, run_rule(influx, r, day.now))) for key, r in rules.items()}
    assert states == {
        "container_full": {("bin-02",)},
        "container_fire": {("bin-03",)},
        "containers_offline": {("bin-04",)},  # bin-01 went offline and came back
        "scale_silent": "Alerting",  # nothing weighed between 11:00 and 12:00
        "ingest_lag": {("w2",)},
        "dead_letters": {("w1",)},
    }
    at_half_past_ten = day.at(10, 30)
    silent = rules["scale_silent"]
    assert firing(evaluate(silent, run_rule(influx, silent, at_half_past_ten))) == set()
