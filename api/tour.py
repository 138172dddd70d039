"""A closed tour through many points in bounded time; point 0 is the depot.

    points (planar km) ─► uniform grid, about two points a cell
                       ─► the K nearest points of each point (ring search on the grid)
                       ─► nearest neighbour tour from the depot (ring search over the points
                          not visited yet; a plain scan once the rings get wide)
                       ─► 2-opt and Or-opt moves between a point and its K nearest only,
                          with a queue of points worth another look ("don't-look bits"),
                          until no move shortens the tour or the deadline passes
                       ─► the tour from the depot, and whether the deadline stopped it

This is the classic recipe for large tours (Bentley 1992; Johnson and McGeoch 1997): a pass
costs O(n K) instead of 2-opt's O(n²) over every pair, and it ends within a few percent of the
best tour. Deterministic when the deadline does not stop it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence

__all__ = ["NEIGHBOURS", "Clock", "closed_tour"]

Clock = Callable[[], float]
Point = tuple[float, float]
NEIGHBOURS = 8  # candidate points per point for 2-opt and Or-opt moves
_WIDE_RINGS = 6  # a nearest neighbour search wider than this scans what is left instead
_CHECK_EVERY = 32  # moves looked at between two looks at the clock
_EPS = 1e-9


class _Grid:
    """Points bucketed in square cells of about two points each."""

    def __init__(self, xy: Sequence[Point]) -> None:
        xs, ys = [p[0] for p in xy], [p[1] for p in xy]
        self.x0, self.y0 = min(xs), min(ys)
        w, h, n = max(xs) - self.x0, max(ys) - self.y0, len(xy)
        self.size = max(math.sqrt(w * h * 2.0 / n), max(w, h) * 2.0 / n, 1e-6)
        self.cells: dict[tuple[int, int], list[int]] = {}
        for i, p in enumerate(xy):
            self.cells.setdefault(self.cell(p), []).append(i)
        self.rings = int(max(w, h) / self.size) + 2  # enough to reach every cell

    def cell(self, p: Point) -> tuple[int, int]:
        return int((p[0] - self.x0) / self.size), int((p[1] - self.y0) / self.size)

    def ring(self, c: tuple[int, int], r: int) -> Iterator[int]:
        """Points in the cells at Chebyshev distance ``r`` from cell ``c``."""
        return _ring(self.cells, c, r)


def _ring(cells: dict[tuple[int, int], list[int]], c: tuple[int, int], r: int) -> Iterator[int]:
    """Points in the cells at Chebyshev distance ``r`` from cell ``c``."""
    cx, cy = c
    if r == 0:
        yield from cells.get(c, ())
        return
    for x in range(cx - r, cx + r + 1):
        yield from cells.get((x, cy - r), ())
        yield from cells.get((x, cy + r), ())
    for y in range(cy - r + 1, cy + r):
        yield from cells.get((cx - r, y), ())
        yield from cells.get((cx + r, y), ())


def _neighbours(xy: Sequence[Point], grid: _Grid, k: int) -> list[list[int]]:
    """The ``k`` nearest points of every point, nearest first (ties: lower index)."""
    out = []
    for i, p in enumerate(xy):
        found: list[tuple[float, int]] = []
        c = grid.cell(p)
        for r in range(grid.rings + 1):
            found += [(math.dist(p, xy[j]), j) for j in grid.ring(c, r) if j != i]
            # rings 0..r hold every point closer than r cells
            if len(found) >= k and sorted(found)[k - 1][0] <= r * grid.size:
                break
        out.append([j for _, j in sorted(found)[:k]])
    return out


def _nearest_tour(xy: Sequence[Point], grid: _Grid) -> list[int]:
    """Nearest neighbour from point 0, each step searching the grid outwards."""
    cells = {c: list(v) for c, v in grid.cells.items()}
    left = set(range(1, len(xy)))
    cells[grid.cell(xy[0])].remove(0)
    tour, here = [0], 0
    while left:
        p, c = xy[here], grid.cell(xy[here])
        best: tuple[float, int] | None = None
        for r in range(_WIDE_RINGS + 1):
            for j in _ring(cells, c, r):
                cand = (math.dist(p, xy[j]), j)
                best = cand if best is None or cand < best else best
            if best is not None and best[0] <= r * grid.size:
                break
        else:
            best = min((math.dist(p, xy[j]), j) for j in left)
        here = best[1]
        left.discard(here)
        cells[grid.cell(xy[here])].remove(here)
        tour.append(here)
    return tour


class _Tour:
    """A tour as an array with each point's position; moves keep both in step."""

    def __init__(self, xy: Sequence[Point], order: list[int]) -> None:
        self.xy = xy
        self.t = order
        self.n = len(order)
        self.pos = [0] * self.n
        for i, a in enumerate(order):
            self.pos[a] = i

    def d(self, a: int, b: int) -> float:
        return math.dist(self.xy[a], self.xy[b])

    def succ(self, a: int) -> int:
        return self.t[(self.pos[a] + 1) % self.n]

    def pred(self, a: int) -> int:
        return self.t[self.pos[a] - 1]

    def reverse(self, a: int, b: int) -> None:
        """Reverse the path from a forward to b (or the rest of the tour: same cycle)."""
        t, pos, n = self.t, self.pos, self.n
        i, j = pos[a], pos[b]
        length = (j - i) % n + 1
        if 2 * length > n:
            i, j, length = (j + 1) % n, (i - 1) % n, n - length
        for _ in range(length // 2):
            t[i], t[j] = t[j], t[i]
            pos[t[i]], pos[t[j]] = i, j
            i, j = (i + 1) % n, (j - 1) % n

    def move(self, seg: list[int], after: int, flip: bool) -> None:
        """Take the points of ``seg`` out and put them back after ``after``."""
        start = self.pos[seg[-1]] + 1
        rest = [self.t[(start + k) % self.n] for k in range(self.n - len(seg))]
        at = rest.index(after) + 1
        self.t = rest[:at] + (seg[::-1] if flip else seg) + rest[at:]
        for i, a in enumerate(self.t):
            self.pos[a] = i


def _two_opt_move(tour: _Tour, nb: list[list[int]], a: int) -> list[int]:
    """Apply the first 2-opt move that shortens the tour at ``a``; return the points touched."""
    for forward in (True, False):
        a2 = tour.succ(a) if forward else tour.pred(a)
        d_a = tour.d(a, a2)
        for c in nb[a]:
            d_ac = tour.d(a, c)
            if d_ac >= d_a:
                break
            c2 = tour.succ(c) if forward else tour.pred(c)
            if c2 == a:
                continue
            if d_ac + tour.d(a2, c2) < d_a + tour.d(c, c2) - _EPS:
                if forward:
                    tour.reverse(a2, c)  # a a2 … c c2  ->  a c … a2 c2
                else:
                    tour.reverse(c, a2)  # c2 c … a2 a  ->  c2 a2 … c a
                return [a, a2, c, c2]
    return []


def _or_move(tour: _Tour, nb: list[list[int]], a: int) -> list[int]:
    """Apply the first move of 1-3 points from ``a`` on to beside a neighbour that pays."""
    for length in (1, 2, 3):
        seg = [a]
        while len(seg) < length:
            seg.append(tour.succ(seg[-1]))
        if 0 in seg or len(set(seg)) < length or length + 2 > tour.n:
            return []  # the depot stays where it is
        p, q = tour.pred(seg[0]), tour.succ(seg[-1])
        gain = tour.d(p, seg[0]) + tour.d(seg[-1], q) - tour.d(p, q)
        for end in (seg[0], seg[-1]):
            for c in nb[end]:
                if tour.d(end, c) >= gain:
                    break
                touched = _or_insert(tour, seg, end, c, gain)
                if touched:
                    return [p, q, *touched]
    return []


def _or_insert(tour: _Tour, seg: list[int], end: int, c: int, gain: float) -> list[int]:
    """Insert ``seg`` with ``end`` next to ``c`` (either side) if that saves more than it costs."""
    if c in seg:
        return []
    other = seg[-1] if end == seg[0] else seg[0]
    for e, after_c in ((tour.succ(c), True), (tour.pred(c), False)):
        if e in seg:
            continue
        cost = tour.d(c, end) + tour.d(other, e) - tour.d(c, e)
        if cost < gain - _EPS:
            # after c: c end … other e; before c: e other … end c
            flip = (end == seg[-1]) if after_c else (end == seg[0])
            tour.move(seg, c if after_c else e, flip)
            return [c, e, *seg]
    return []


def closed_tour(
    xy: Sequence[Point], deadline: float | None, clock: Clock
) -> tuple[list[int], bool]:
    """Visit every point from point 0 and back; stop improving at ``deadline``.

    Returns the order (starting with 0) and whether the deadline stopped the improvement.
    """
    if len(xy) <= 3:
        return list(range(len(xy))), False
    grid = _Grid(xy)
    nb = _neighbours(xy, grid, min(NEIGHBOURS, len(xy) - 1))
    tour = _Tour(xy, _nearest_tour(xy, grid))
    queue, queued = deque(tour.t), [True] * len(xy)
    looked = 0
    while queue:
        looked += 1
        if deadline is not None and looked % _CHECK_EVERY == 0 and clock() >= deadline:
            return _from_depot(tour.t), True
        a = queue.popleft()
        queued[a] = False
        touched = _two_opt_move(tour, nb, a) or _or_move(tour, nb, a)
        for b in touched:
            if not queued[b]:
                queued[b] = True
                queue.append(b)
    return _from_depot(tour.t), False


def _from_depot(t: list[int]) -> list[int]:
    i = t.index(0)
    return t[i:] + t[:i]
