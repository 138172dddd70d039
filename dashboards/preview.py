"""`landfill dashboards preview`: the dashboards as one static HTML file with SVG charts.

For people without Grafana (a reviewer, a council member with a laptop): every panel's own
InfluxQL runs against InfluxDB exactly as Grafana would send it (`queries.py`), and the answer
is drawn here: time series as lines, bars (stacked) or points, stats as big numbers, tables
as tables, the map as the registry's points coloured by fill. The file holds everything it
shows (inline CSS and SVG, no script, font or tile from anywhere), so it opens offline and
can be mailed.
"""

from __future__ import annotations

import argparse
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dashboards.boards import BoardSpec, PanelSpec, boards
from dashboards.panels import FILL_STEPS, hides_time
from dashboards.queries import everything, panel_range, run_panel
from dashboards.registry import Place, demo_places
from dashboards.templating import TimeRange
from dashboards.texts import description, title
from landfill.influx import InfluxStore, QueryError, Series
from landfill.language import Language
from landfill.options import add_options, build, command_parser
from landfill.settings import GrafanaSettings

__all__ = ["Line", "build_parser", "lines_of", "main", "page"]

COLOURS = ("#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a6", "#705da0")
STEP_COLOURS = {"green": "#56a64b", "yellow": "#e0b400", "red": "#e02f44"}
WIDTH, HEIGHT, PAD = 560, 220, 44
CSS = """
body{font:14px sans-serif;margin:16px;background:#f4f5f5;color:#222}
h1{font-size:22px}h2{font-size:18px;margin:28px 0 4px}
.board{display:grid;grid-template-columns:repeat(24,1fr);gap:8px}
.panel{background:#fff;border:1px solid #ddd;border-radius:4px;padding:8px;overflow:auto}
.panel h3{font-size:14px;margin:0 0 2px}.panel p{font-size:12px;color:#666;margin:0 0 6px}
.stat{font-size:30px;font-weight:bold;color:#37872d}.stat small{font-size:12px;color:#666}
table{border-collapse:collapse;font-size:12px}td,th{border-bottom:1px solid #eee;padding:2px 6px}
.legend span{font-size:12px;margin-right:10px}.empty{color:#999;font-style:italic}
svg text{font-size:10px;fill:#555}.panel svg{max-height:300px}
"""


@dataclass(frozen=True)
class Line:
    """One drawn series: its label and its (epoch ms, value) points."""

    label: str
    points: list[tuple[int, float]]


def _label(alias: str, series: Series, column: str) -> str:
    if not alias:
        tags = " ".join(series.tags.values())
        return f"{tags} {column}".strip() if tags else column
    text = alias.replace("$col", column)
    for key, value in series.tags.items():
        text = text.replace(f"$tag_{key}", value)
    return text


def lines_of(spec: PanelSpec, result: list[Series]) -> list[Line]:
    """The lines a panel draws: one per series and value column, nulls left out."""
    out = []
    for series in result:
        for index, column in enumerate(series.columns):
            if column == "time":
                continue
            points = [
                (int(row[0]), float(row[index]))
                for row in series.values
                if isinstance(row[index], int | float) and not isinstance(row[index], bool)
            ]
            out.append(Line(_label(spec.alias, series, column), points))
    return out


def number(value: float) -> str:
    """A value as a person reads it: 14 560, 17.999, 0.5."""
    if abs(value) >= 1000:
        return f"{value:,.0f}".replace(",", "\u2009")
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def _when(epoch_ms: int, tz: str, fmt: str) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).astimezone(ZoneInfo(tz)).strftime(fmt)


def _axes(window: TimeRange, top: float, tz: str) -> list[str]:
    fmt = "%d.%m" if window.to_ms - window.from_ms > 2 * 86_400_000 else "%H:%M"
    parts = [
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH}" y2="{HEIGHT - PAD}" stroke="#999"/>'
    ]
    for i in range(5):
        y = HEIGHT - PAD - i * (HEIGHT - 2 * PAD) / 4
        parts.append(f'<text x="2" y="{y:.0f}">{number(top * i / 4)}</text>')
        parts.append(f'<line x1="{PAD}" y1="{y:.0f}" x2="{WIDTH}" y2="{y:.0f}" stroke="#eee"/>')
    for i in range(6):
        ms = window.from_ms + (window.to_ms - window.from_ms) * i // 5
        x = PAD + (WIDTH - PAD - 30) * i / 5
        parts.append(f'<text x="{x:.0f}" y="{HEIGHT - PAD + 14}">{_when(ms, tz, fmt)}</text>')
    return parts


def _scale(window: TimeRange, top: float) -> Any:
    span = max(window.to_ms - window.from_ms, 1)

    def xy(ms: int, value: float) -> tuple[float, float]:
        x = PAD + (WIDTH - PAD - 10) * (ms - window.from_ms) / span
        return x, HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top

    return xy


def _bars(lines: list[Line], xy: Any) -> list[str]:
    stamps = sorted({ms for line in lines for ms, _ in line.points})
    width = max(2.0, (WIDTH - PAD) / max(len(stamps), 1) * 0.8)
    base = dict.fromkeys(stamps, 0.0)
    parts = []
    for n, line in enumerate(lines):
        for ms, value in line.points:
            if value:
                x, y_top = xy(ms, base[ms] + value)
                _, y_low = xy(ms, base[ms])
                base[ms] += value
                parts.append(f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{width:.1f}" '
                             f'height="{y_low - y_top:.1f}" fill="{COLOURS[n % 8]}"/>')  # fmt: skip
    return parts


def chart(spec: PanelSpec, lines: list[Line], window: TimeRange, tz: str) -> str:
    """A time series panel as SVG: lines, stacked bars or points, with axes and a legend."""
    if not any(line.points for line in lines):
        return '<p class="empty">no data</p>'
    sums: dict[int, float] = {}
    for line in lines:
        for ms, value in line.points:
            sums[ms] = (
                sums.get(ms, 0.0) + value if spec.kind == "bars" else max(sums.get(ms, 0), value)
            )
    top = 100.0 if spec.unit == "percent" else (max(sums.values()) * 1.1 or 1.0)
    xy = _scale(window, top)
    parts = _axes(window, top, tz)
    if spec.kind == "bars":
        parts += _bars(lines, xy)
    for n, line in enumerate(lines if spec.kind != "bars" else []):
        coords = [xy(ms, v) for ms, v in line.points]
        if spec.kind == "points" or len(coords) == 1:
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS[n % 8]}"/>'
                      for x, y in coords]  # fmt: skip
        else:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{COLOURS[n % 8]}" '
                         'stroke-width="2"/>')  # fmt: skip
    legend = "".join(
        f'<span style="color:{COLOURS[n % 8]}">■ {html.escape(line.label)}</span>'
        for n, line in enumerate(lines)
    )
    return (f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img">{"".join(parts)}</svg>'
            f'<div class="legend">{legend}</div>')  # fmt: skip


def stat(spec: PanelSpec, lines: list[Line]) -> str:
    """A stat panel: the last value of each series, big."""
    shown = [(line.label, line.points[-1][1]) for line in lines if line.points]
    if not shown:
        return '<p class="empty">no data</p>'
    unit = {"masst": " t", "kg": " kg", "percent": " %"}.get(spec.unit, "")
    return "".join(
        f'<div class="stat">{number(value)}{unit} <small>{html.escape(label)}</small></div>'
        if len(shown) > 1
        else f'<div class="stat">{number(value)}{unit}</div>'
        for label, value in shown
    )


def _cell(column: str, value: Any, tz: str) -> Any:
    if column in ("time", "since") and isinstance(value, int) and value:
        return _when(value, tz, "%Y-%m-%d %H:%M")  # epoch ms
    if isinstance(value, float):
        return number(value)
    return "" if value is None else value


def table(spec: PanelSpec, result: list[Series], tz: str) -> str:
    """A table panel: tags then columns, one row per point, times local."""
    rows = []
    columns: list[str] = []
    skip = {"time"} if hides_time(spec) else set()
    for series in result:
        tags = list(series.tags)
        shown = [c for c in series.columns if c not in skip]
        columns = [*tags, *shown]
        for values in series.values:
            row = dict(zip(series.columns, values, strict=True))
            cells = [series.tags[t] for t in tags] + [_cell(c, row[c], tz) for c in shown]
            rows.append("".join(f"<td>{html.escape(str(c))}</td>" for c in cells))
    if not rows:
        return '<p class="empty">no data</p>'
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    return f"<table><tr>{head}</tr>" + "".join(f"<tr>{r}</tr>" for r in rows) + "</table>"


def fill_colour(value: float | None) -> str:
    """The board's colour of a fill percentage (grey when unknown)."""
    if value is None:
        return "#999"
    colour = "green"
    for bound, name in FILL_STEPS:
        if bound is None or value >= bound:
            colour = name
    return STEP_COLOURS[colour]


def geomap(places: Sequence[Place], result: list[Series]) -> str:
    """The map panel: each container at its registry coordinates, coloured by its last fill."""
    fill = {s.tags.get("container"): s.rows()[0].get("filtered_pct") for s in result if s.values}
    if not places:
        return '<p class="empty">no containers with coordinates in the registry</p>'
    lats, lons = [p.lat for p in places], [p.lon for p in places]
    width, height = max(max(lons) - min(lons), 1e-3), max(max(lats) - min(lats), 1e-3)
    parts = []
    for place in places:
        x = 20 + (WIDTH - 80) * (place.lon - min(lons)) / width
        y = 20 + (HEIGHT * 1.6 - 40) * (max(lats) - place.lat) / height
        value = fill.get(place.container)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{fill_colour(value)}" '
            f'data-container="{html.escape(place.container)}"><title>'
            f"{html.escape(place.container)} {html.escape(place.settlement)}: "
            f"{'?' if value is None else f'{value:.0f} %'}</title></circle>"
            f'<text x="{x + 8:.1f}" y="{y + 3:.1f}">{html.escape(place.container)}</text>'
        )
    box = f"0 0 {WIDTH} {HEIGHT * 1.6:.0f}"
    return f'<svg viewBox="{box}" width="100%" role="img">{"".join(parts)}</svg>'


def panel_html(
    spec: PanelSpec,
    result: list[Series] | str,
    window: TimeRange,
    tz: str,
    places: Sequence[Place],
    language: Language,
) -> str:
    """One panel: title, description and its drawing (or the query's error)."""
    if isinstance(result, str):
        body = f'<p class="empty">{html.escape(result)}</p>'
    elif spec.kind == "table":
        body = table(spec, result, tz)
    elif spec.kind == "stat":
        body = stat(spec, lines_of(spec, result))
    elif spec.kind == "geomap":
        body = geomap(places, result)
    else:
        body = chart(spec, lines_of(spec, result), window, tz)
    return (
        f'<section class="panel" data-panel="{spec.key}" data-kind="{spec.kind}" '
        f'style="grid-column:span {spec.width}"><h3>{html.escape(title(spec.key, language))}</h3>'
        f"<p>{html.escape(description(spec.key, language))}</p>{body}</section>"
    )


def board_html(
    store: InfluxStore,
    board: BoardSpec,
    now: datetime,
    tz: str,
    places: Sequence[Place],
    language: Language,
) -> str:
    """One dashboard: its title and every panel, queried now."""
    panels = []
    for spec in board.panels:
        window = panel_range(board, spec, now, tz)
        try:
            result: list[Series] | str = run_panel(store, board, spec, everything(board), now, tz)
        except QueryError as exc:
            result = f"query failed: {exc}"
        panels.append(panel_html(spec, result, window, tz, places, language))
    return (
        f'<h2 id="{board.uid}">{html.escape(title(board.key, language))}</h2>'
        f"<p>{html.escape(description(board.key, language))}</p>"
        f'<div class="board">{"".join(panels)}</div>'
    )


def page(
    store: InfluxStore,
    language: Language,
    places: Sequence[Place],
    tz: str,
    now: datetime | None = None,
) -> str:
    """The whole preview page."""
    when = now or datetime.now(UTC)
    body = "".join(board_html(store, b, when, tz, places, language) for b in boards(tz))
    stamp = _when(int(when.timestamp() * 1000), tz, "%Y-%m-%d %H:%M")
    heading = f"{html.escape(title('folder', language))}: Grafana preview, {stamp} ({tz})"
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{heading}</title><style>{CSS}</style></head>"
        f"<body><h1>{heading}</h1>{body}</body></html>"
    )


DESCRIPTION = """\
Run every dashboard panel's InfluxQL against InfluxDB, as Grafana would, and write one
self-contained HTML file with the panels drawn as SVG: what Grafana will show, for people
without Grafana. Variables are All; the time is now, or --at."""


def build_parser() -> argparse.ArgumentParser:
    """The arguments of `landfill dashboards preview`."""
    parser = command_parser("dashboards preview", DESCRIPTION)
    parser.add_argument("--out", type=Path, default=Path("dashboards-preview.html"), help="file")
    parser.add_argument("--demo-registry", action="store_true", help="map the demo containers")
    parser.add_argument(
        "--at", type=datetime.fromisoformat, help="show the dashboards as at this ISO time"
    )
    add_options(parser, GrafanaSettings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`landfill dashboards preview`."""
    from dashboards.push import PushError, registry

    args = build_parser().parse_args(argv)
    settings = build(GrafanaSettings, args)
    try:
        places = demo_places() if args.demo_registry else registry(settings.database_url)
    except PushError as exc:
        raise SystemExit(f"dashboards preview: {exc}") from None
    with InfluxStore(settings.influx_url, settings.influx_db, settings.influx_username,
                     settings.influx_password) as store:  # fmt: skip
        text = page(store, settings.grafana_language, places, settings.timezone, args.at)
    args.out.write_text(text, encoding="utf-8")
    print(f"preview written to {args.out}")  # noqa: T201
    return 0
