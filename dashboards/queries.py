"""Run a panel's or an alert rule's InfluxQL as Grafana would send it (preview and tests)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from dashboards.alerts import RuleSpec
from dashboards.boards import BoardSpec, PanelSpec
from dashboards.panels import MAX_DATA_POINTS
from dashboards.templating import (
    ALL,
    Selection,
    TimeRange,
    interpolate,
    panel_interval_ms,
    resolve_range,
)
from landfill.influx import InfluxStore, Series

__all__ = ["everything", "panel_query", "panel_range", "rule_query", "run_panel", "run_rule"]


def everything(board: BoardSpec) -> dict[str, Selection]:
    """Every variable of ``board`` set to All, as a dashboard opens."""
    return {name: Selection(ALL) for name in board.variables}


def panel_range(board: BoardSpec, panel: PanelSpec, now: datetime, tz: str) -> TimeRange:
    """The range a panel shows: its own relative time, else the dashboard's."""
    if panel.time_from:
        return resolve_range(panel.time_from, panel.time_from, now, tz)
    return resolve_range(board.time_from, "now", now, tz)


def panel_query(
    board: BoardSpec,
    panel: PanelSpec,
    variables: Mapping[str, Selection],
    now: datetime,
    tz: str,
) -> str:
    """The statement Grafana sends to InfluxDB for ``panel`` at ``now``."""
    window = panel_range(board, panel, now, tz)
    interval = panel_interval_ms(window, MAX_DATA_POINTS, panel.min_interval)
    return interpolate(panel.statement, variables, window, interval)


def run_panel(
    store: InfluxStore,
    board: BoardSpec,
    panel: PanelSpec,
    variables: Mapping[str, Selection],
    now: datetime,
    tz: str,
) -> list[Series]:
    """The series InfluxDB answers for ``panel``."""
    return store.query(panel_query(board, panel, variables, now, tz))


def rule_query(rule: RuleSpec, now: datetime) -> str:
    """Rule's query A as Grafana's evaluation at ``now`` sends it (its relative time range)."""
    to_ms = int(now.timestamp() * 1000)
    window = TimeRange(to_ms - rule.seconds * 1000, to_ms)
    return interpolate(rule.statement, {}, window, panel_interval_ms(window, 43_200))


def run_rule(store: InfluxStore, rule: RuleSpec, now: datetime) -> list[Series]:
    """The series InfluxDB answers for rule's query A."""
    return store.query(rule_query(rule, now))
