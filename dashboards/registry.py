"""Container coordinates for the map panel, from the registry, as a frame inside the dashboard.

InfluxDB holds fill levels but not where the containers stand; the SQL registry does. The map
panel therefore has two targets: InfluxQL for the last fill of each container, and a data
frame of the registry's coordinates that Grafana's built-in datasource serves from the
dashboard itself (query type ``snapshot``). A "join by field" on ``container`` puts them
together. The committed dashboards carry the first customer's 33 containers
(`api/data/containers_demo.csv`); `landfill dashboards push` and `render --registry-db`
embed the live registry read from LANDFILL_DATABASE_URL.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants

__all__ = ["DEMO_CSV", "Place", "RegistryFrame", "demo_places", "frame", "sql_places"]

DEMO_CSV = Path(__file__).resolve().parents[1] / "api" / "data" / "containers_demo.csv"
GRAFANA_DATASOURCE = {"type": "grafana", "uid": "grafana"}


@dataclass(frozen=True)
class Place:
    """Where one container stands."""

    container: str
    settlement: str
    lat: float
    lon: float


def demo_places(path: Path = DEMO_CSV) -> list[Place]:
    """The demo registry's active containers with coordinates (the committed dashboards)."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        Place(r["code"], r["settlement"], float(r["lat"]), float(r["lon"]))
        for r in rows
        if r["lat"] and r["lon"] and r.get("active", "true").lower() == "true"
    ]


def sql_places(database_url: str) -> list[Place]:
    """The active containers with coordinates in the registry at ``database_url``.

    Reads the table the API's migrations own (`container`) without importing the API.
    """
    engine = sa.create_engine(database_url)
    try:
        table = sa.Table("container", sa.MetaData(), autoload_with=engine)
        query = (
            sa.select(table.c.code, table.c.settlement, table.c.lat, table.c.lon)
            .where(table.c.active.is_(True), table.c.lat.is_not(None), table.c.lon.is_not(None))
            .order_by(table.c.code)
        )
        with engine.connect() as connection:
            return [
                Place(r.code, r.settlement or "", r.lat, r.lon) for r in connection.execute(query)
            ]
    finally:
        engine.dispose()


def frame(places: Sequence[Place], ref_id: str = "B") -> dict[str, Any]:
    """The places as a Grafana data frame (DataFrameJSON), one column per field."""
    fields = [
        ("container", "string"),
        ("settlement", "string"),
        ("lat", "number"),
        ("lon", "number"),
    ]
    return {
        "schema": {
            "name": "registry",
            "refId": ref_id,
            "fields": [{"name": name, "type": kind} for name, kind in fields],
        },
        "data": {"values": [[getattr(p, name) for p in places] for name, _ in fields]},
    }


class RegistryFrame(cogvariants.Dataquery):
    """A target of Grafana's built-in datasource that serves a frame kept in the dashboard."""

    def __init__(self, places: Sequence[Place], ref_id: str = "B") -> None:
        self.places = list(places)
        self.ref_id = ref_id

    def to_json(self) -> dict[str, object]:
        """The target as Grafana stores it."""
        return {
            "datasource": GRAFANA_DATASOURCE,
            "queryType": "snapshot",
            "refId": self.ref_id,
            "snapshot": [frame(self.places, self.ref_id)],
        }


class RegistryTarget(cogbuilder.Builder[RegistryFrame]):
    """Builder of a `RegistryFrame` target."""

    def __init__(self, places: Sequence[Place], ref_id: str = "B") -> None:
        self._internal = RegistryFrame(places, ref_id)

    def build(self) -> RegistryFrame:
        """The target."""
        return self._internal
