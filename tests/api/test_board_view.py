"""The board's page and map without servers: past MAP_PINS containers the map gets clusters."""

from __future__ import annotations

from api.board import ContainerState
from api.board_view import MAP_GRID, MAP_PINS, BoardQuery, board_view
from api.container_registry import fields_of
from api.db import Container


def state(i: int, status: str, lat: float | None, lon: float | None) -> ContainerState:
    row = Container(
        code=f"c{i:04}", settlement=f"s{i % 7}", zone=f"z{i % 3}", lat=lat, lon=lon,
        volume_m3=1.1, empty_mm=1450, full_mm=450, full_pct=80.0, clear_pct=70.0,
        expected_interval_s=3600, collection_weekdays="1", device=None, model=None, active=True,
    )  # fmt: skip
    s = ContainerState(row=row, spec=fields_of(row))
    s.status = status  # type: ignore[assignment]
    return s


def test_many_containers_are_drawn_as_clusters_with_their_worst_status():
    states = [state(i, "green", 42.0 + (i % 40) / 100, 74.0 + (i // 40) / 100) for i in range(900)]
    states[5].status = "red"
    states.append(state(900, "red", None, None))  # not placed: in the list, not on the map
    view = board_view(states, BoardQuery(per_page=50))
    assert len(view.page) == 50
    assert [s.row.code for s in view.page[:2]] == ["c0005", "c0900"]
    assert view.pins == []
    assert 1 < len(view.clusters) <= MAP_GRID * MAP_GRID
    assert sum(c.count for c in view.clusters) == 900
    [red] = [c for c in view.clusters if c.status == "red"]
    assert red.counts["red"] == 1
    assert red.count == red.counts["red"] + red.counts["green"]


def test_few_filtered_containers_are_pins():
    states = [state(i, "green", 42.0 + i / 1000, 74.0) for i in range(MAP_PINS + 10)]
    view = board_view(states, BoardQuery(zone="z1"))
    assert view.total == len(view.pins) == sum(1 for s in states if s.row.zone == "z1")
    assert view.clusters == []
    assert view.zones == ["z0", "z1", "z2"]
