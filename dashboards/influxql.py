"""InfluxQL targets for Grafana panels and alert rules, with their names checked.

The foundation SDK types every panel, variable and alert rule but ships no InfluxDB query
model, so this module adds one: `InfluxQL` is a `Dataquery` that renders the target Grafana's
InfluxDB datasource (InfluxQL mode) stores for a raw query:

    {"refId": "A", "datasource": {...}, "query": "SELECT ...", "rawQuery": true,
     "resultFormat": "time_series" | "table", "alias": "$tag_container"}

`checked(measurement, statement)` holds each statement to `landfill/measurements.py`: every
double-quoted name must be the measurement or one of its tags and fields, so a renamed field
breaks the render and its test, not a wall screen. (`Measurement.query` does the same for the
API's statements, but it takes neither subqueries nor the `true`/`null` literals the panels
need, so the panels quote their names and are checked here.)
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from landfill.measurements import Measurement

__all__ = [
    "DATASOURCE",
    "DATASOURCE_UID",
    "InfluxQL",
    "Target",
    "checked",
    "names_in",
    "to_json",
]

DATASOURCE_UID = "landfill-influxdb"
DATASOURCE = DataSourceRef(type_val="influxdb", uid=DATASOURCE_UID)

_QUOTED = re.compile(r'"([^"]+)"')
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
_FROM = re.compile(r'\bFROM\s+"([^"]+)"', re.IGNORECASE)
_ALIAS = re.compile(r'\bAS\s+"[^"]+"', re.IGNORECASE)
ResultFormat = Literal["time_series", "table"]


def to_json(obj: object) -> dict[str, Any]:
    """A built SDK object (dashboard, rule) as plain JSON data."""
    data: dict[str, Any] = json.loads(json.dumps(obj, cls=JSONEncoder))
    return data


def names_in(statement: str) -> list[str]:
    """The double-quoted names a statement reads (string literals and AS aliases skipped)."""
    return _QUOTED.findall(_ALIAS.sub("", _STRING.sub("''", statement)))


def checked(measurement: Measurement, statement: str) -> str:
    """Return ``statement`` once every quoted name in it belongs to ``measurement``.

    Raises ValueError when the statement reads another measurement or names an unknown tag or
    field. Column names made with ``AS "name"`` are the statement's own and are not checked.
    """
    sources = set(_FROM.findall(statement))
    if sources != {measurement.name}:
        raise ValueError(f"{measurement.name}: statement reads {sorted(sources)}: {statement}")
    unknown = [n for n in names_in(statement) if n != measurement.name and not measurement.knows(n)]
    if unknown:
        raise ValueError(f"{measurement.name} has no tag or field {', '.join(unknown)}")
    return statement


class InfluxQL(cogvariants.Dataquery):
    """A raw InfluxQL target of Grafana's InfluxDB datasource."""

    def __init__(
        self,
        query: str,
        ref_id: str = "A",
        result_format: ResultFormat = "time_series",
        alias: str = "",
    ) -> None:
        self.query = query
        self.ref_id = ref_id
        self.result_format = result_format
        self.alias = alias

    def to_json(self) -> dict[str, object]:
        """The target as Grafana stores it."""
        payload: dict[str, Any] = {
            "datasource": DATASOURCE.to_json(),
            "query": self.query,
            "rawQuery": True,
            "refId": self.ref_id,
            "resultFormat": self.result_format,
        }
        if self.alias:
            payload["alias"] = self.alias
        return payload


class Target(cogbuilder.Builder[InfluxQL]):
    """Builder of an `InfluxQL` target, for ``Panel.with_target`` and alert ``Query.model``."""

    def __init__(
        self,
        query: str,
        ref_id: str = "A",
        result_format: ResultFormat = "time_series",
        alias: str = "",
    ) -> None:
        self._internal = InfluxQL(query, ref_id, result_format, alias)

    def build(self) -> InfluxQL:
        """The target."""
        return self._internal
