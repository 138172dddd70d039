"""Panel specs to Grafana panels with the foundation SDK's builders, one function per kind."""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import geomap, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.boards import PanelSpec
from dashboards.influxql import DATASOURCE, Target
from dashboards.registry import Place, RegistryTarget
from dashboards.texts import description, title, value_labels
from landfill.language import Language
from landfill.measurements import CONTAINER_ALERT, SCALE_EVENT

__all__ = ["FILL_STEPS", "MAX_DATA_POINTS", "MIXED", "hides_time", "panel"]

MIXED = model.DataSourceRef(type_val="datasource", uid="-- Mixed --")
MAX_DATA_POINTS = 600  # every time series panel asks for this many points at most
# the map's default view: the landfill and the villages it serves (Nooken district)
MAP_CENTRE = (41.13, 72.61)
FILL_STEPS = ((None, "green"), (60.0, "yellow"), (80.0, "red"))  # % full, the board's colours
# values a table shows, or a series is named by ($tag_kind), with the page's label: the catalogue
# keys "<prefix>.<value>" (an alert's kind and severity, a scale event's kind)
NAMED_VALUES = {CONTAINER_ALERT.name: ("kind", "severity"), SCALE_EVENT.name: ("event",)}


def _thresholds(steps: Sequence[tuple[float | None, str]]) -> db.ThresholdsConfig:
    return (
        db.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in steps])
    )


def _series(spec: PanelSpec) -> timeseries.Panel:
    panel = timeseries.Panel().legend(
        cb.VizLegendOptions()
        .display_mode(common.LegendDisplayMode.LIST)
        .placement(common.LegendPlacement.BOTTOM)
        .show_legend(True)
    )
    if spec.kind == "bars":
        panel.draw_style(common.GraphDrawStyle.BARS).fill_opacity(80).stacking(
            cb.StackingConfig().mode(common.StackingMode.NORMAL)
        )
    elif spec.kind == "points":
        panel.draw_style(common.GraphDrawStyle.POINTS).show_points(common.VisibilityMode.ALWAYS)
    else:
        panel.draw_style(common.GraphDrawStyle.LINE).line_width(2).fill_opacity(10)
    if spec.unit == "percent":
        panel.min(0).max(100)
    return panel.max_data_points(MAX_DATA_POINTS)


def _stat(_spec: PanelSpec) -> stat.Panel:
    return (
        stat.Panel()
        .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.VALUE)
    )


def hides_time(spec: PanelSpec) -> bool:
    """Whether a table shows one aggregate row per series, whose time is only the range's start."""
    return any(f"{fn}(" in spec.statement for fn in ("last", "sum", "count"))


def _table(spec: PanelSpec) -> table.Panel:
    panel = table.Panel()
    if hides_time(spec):
        panel.with_transformation(
            model.DataTransformerConfig(
                id_val="organize", options={"excludeByName": {"Time": True}}
            )
        )
    return panel


def _map(places: Sequence[Place]) -> geomap.Panel:
    lat, lon = MAP_CENTRE
    markers = (
        cb.MapLayerOptions()
        .type("markers")
        .name("containers")
        .location(
            cb.FrameGeometrySource()
            .mode(common.FrameGeometrySourceMode.COORDS)
            .latitude("lat")
            .longitude("lon")
        )
        .config(
            {
                "showLegend": True,
                "style": {
                    "color": {"field": "filtered_pct", "fixed": "dark-green"},
                    "size": {"fixed": 10},
                    "text": {"field": "container", "mode": "field"},
                    "textConfig": {"fontSize": 10, "offsetY": -12},
                },
            }
        )
        .tooltip(True)
    )
    return (
        geomap.Panel()
        .datasource(MIXED)
        .with_target(RegistryTarget(places))
        .view(geomap.MapViewConfig().id("coords").lat(lat).lon(lon).zoom(11))  # type: ignore[arg-type]
        .basemap(cb.MapLayerOptions().type("default").name("basemap"))
        .layers([markers])
        .with_transformation(
            model.DataTransformerConfig(
                id_val="joinByField", options={"byField": "container", "mode": "outer"}
            )
        )
        .thresholds(_thresholds(FILL_STEPS))
        .color_scheme(db.FieldColor().mode(model.FieldColorModeId.THRESHOLDS))
    )


def _name_values(
    built: geomap.Panel | stat.Panel | table.Panel | timeseries.Panel,
    spec: PanelSpec,
    language: Language,
) -> None:
    """Show kinds and severities with the page's labels: a table's cells, a series' names."""
    labels = value_labels(NAMED_VALUES.get(spec.measurement.name, ()), language)
    if not labels:
        return
    if isinstance(built, table.Panel):
        options = {value: model.ValueMappingResult(text=text) for value, text in labels.items()}
        built.mappings([model.ValueMap(options=options)])
    elif isinstance(built, timeseries.Panel) and spec.alias == "$tag_kind":
        for value, text in labels.items():
            built.override_by_name(value, [model.DynamicConfigValue("displayName", text)])


def panel(
    spec: PanelSpec, language: Language, panel_id: int, places: Sequence[Place]
) -> cogbuilder.Builder[model.Panel]:
    """The Grafana panel of ``spec``: titles in ``language``, the map with ``places``."""
    built: geomap.Panel | stat.Panel | table.Panel | timeseries.Panel
    if spec.kind == "geomap":
        built = _map(places)
    elif spec.kind == "stat":
        built = _stat(spec)
    elif spec.kind == "table":
        built = _table(spec)
    else:
        built = _series(spec)
    if spec.kind != "geomap":
        built.datasource(DATASOURCE)
        _name_values(built, spec, language)
    built.id(panel_id).title(title(spec.key, language)).description(description(spec.key, language))
    built.with_target(Target(spec.statement, "A", spec.fmt, spec.alias))
    built.height(spec.height).span(spec.width)
    if spec.unit:
        built.unit(spec.unit)
    if spec.time_from:
        built.time_from(spec.time_from)
    if spec.min_interval:
        built.interval(spec.min_interval)
    return built
