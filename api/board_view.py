"""One request's view of the board: counts for the whole site, one filtered page, the map.

    states ─► counts per status colour and per filter group (the whole site, before filtering)
           ─► filters: group (full, overflow_risk, offline, battery), status colour, zone,
              settlement ─► most urgent first (status, then code) ─► one page
           ─► the map: every filtered container with coordinates, or, past MAP_PINS of them,
              clusters (a grid over their extent; each cell's count and worst status)

The browser gets one page of rows and at most MAP_PINS pins or MAP_GRID² clusters, however
many containers the site has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.board import ContainerState, Status

__all__ = [
    "FILTER_REASONS",
    "MAP_GRID",
    "MAP_PINS",
    "STATUS_ORDER",
    "BoardQuery",
    "BoardView",
    "Cluster",
    "board_view",
]

STATUS_ORDER: tuple[Status, ...] = ("red", "orange", "grey", "yellow", "green")
FILTER_REASONS: dict[str, frozenset[str]] = {
    "full": frozenset({"full", "overfull", "fire"}),
    "overflow_risk": frozenset({"overflow_risk"}),
    "offline": frozenset({"offline", "no_data"}),
    "battery": frozenset({"low_battery"}),
}
MAP_PINS = 500  # more filtered containers than this are drawn as clusters
MAP_GRID = 12  # clusters: cells per side
_RANK = {status: i for i, status in enumerate(STATUS_ORDER)}


@dataclass(frozen=True)
class BoardQuery:
    """What the dispatcher asked for: filters (None: any) and the page."""

    group: str | None = None
    status: str | None = None
    zone: str | None = None
    settlement: str | None = None
    page: int = 1
    per_page: int = 100

    def wants(self, s: ContainerState) -> bool:
        """Whether a container passes every filter."""
        if self.group is not None and not FILTER_REASONS[self.group] & set(s.reasons):
            return False
        if self.status is not None and s.status != self.status:
            return False
        if self.zone is not None and s.row.zone != self.zone:
            return False
        return self.settlement is None or s.row.settlement == self.settlement


@dataclass(frozen=True)
class Cluster:
    """Containers close together on the map: where, how many, the worst status among them."""

    lat: float
    lon: float
    count: int
    status: Status
    counts: dict[str, int]


@dataclass(frozen=True)
class BoardView:
    """Counts of the whole site, the matching containers' page, and what the map draws."""

    counts: dict[str, int]
    total: int
    page: list[ContainerState]
    pins: list[ContainerState]
    clusters: list[Cluster]
    zones: list[str]
    settlements: list[str]
    recomputed: int


def counts(states: Sequence[ContainerState]) -> dict[str, int]:
    """Containers per status colour and per filter group."""
    out: dict[str, int] = dict.fromkeys(STATUS_ORDER, 0)
    for s in states:
        out[s.status] += 1
    for name, reasons in FILTER_REASONS.items():
        out[name] = sum(1 for s in states if reasons & set(s.reasons))
    return out


def board_view(states: Sequence[ContainerState], q: BoardQuery) -> BoardView:
    """Filter, sort and page the states; pins or clusters for the map."""
    matching = sorted(
        (s for s in states if q.wants(s)), key=lambda s: (_RANK[s.status], s.row.code)
    )
    first = (q.page - 1) * q.per_page
    placed = [s for s in matching if s.row.lat is not None and s.row.lon is not None]
    many = len(placed) > MAP_PINS
    return BoardView(
        counts=counts(states),
        total=len(matching),
        page=matching[first : first + q.per_page],
        pins=[] if many else placed,
        clusters=clusters(placed) if many else [],
        zones=sorted({s.row.zone for s in states if s.row.zone}),
        settlements=sorted({s.row.settlement for s in states if s.row.settlement}),
        recomputed=sum(1 for s in states if s.recomputed),
    )


def clusters(placed: Sequence[ContainerState], grid: int = MAP_GRID) -> list[Cluster]:
    """Group containers into the cells of a grid over their extent."""
    lats = [s.row.lat or 0.0 for s in placed]
    lons = [s.row.lon or 0.0 for s in placed]
    lat0, lon0 = min(lats), min(lons)
    dlat = (max(lats) - lat0) / grid or 1.0
    dlon = (max(lons) - lon0) / grid or 1.0
    cells: dict[tuple[int, int], list[ContainerState]] = {}
    for s, lat, lon in zip(placed, lats, lons, strict=True):
        key = (min(int((lat - lat0) / dlat), grid - 1), min(int((lon - lon0) / dlon), grid - 1))
        cells.setdefault(key, []).append(s)
    out = []
    for key in sorted(cells):
        members = cells[key]
        per: dict[str, int] = dict.fromkeys(STATUS_ORDER, 0)
        for s in members:
            per[s.status] += 1
        out.append(
            Cluster(
                lat=sum(s.row.lat or 0.0 for s in members) / len(members),
                lon=sum(s.row.lon or 0.0 for s in members) / len(members),
                count=len(members),
                status=min((s.status for s in members), key=_RANK.__getitem__),
                counts=per,
            )
        )
    return out
