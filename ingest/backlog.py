"""A bounded hand-over from the MQTT network thread to the batcher, taken in batches.

`put` blocks while the backlog is full: the network thread then stops reading the socket, TCP
pushes back and the broker keeps the rest in the persistent session. Full means ``limit``
items, or ``max_bytes`` by the items' ``weigh`` (payload bytes): a count alone would let 20,000
messages of 1 MiB each in. An item heavier than ``max_bytes`` still goes in once the backlog is
empty, so nothing can wait forever. `take` returns up to ``size`` items (and about a quarter of
``max_bytes``, at least one item) as soon as that many are there, or whatever arrived within
``wait`` seconds of the first one (batching by size and time). So the batches in the pipeline
behind the backlog are bounded by bytes too. One lock and two conditions; no per-item queue.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["Backlog"]


class Backlog(Generic[T]):
    """Bounded FIFO with blocking put and batch take."""

    def __init__(
        self,
        limit: int,
        max_bytes: int = 0,
        weigh: Callable[[T], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.max_bytes = max_bytes if weigh is not None else 0  # 0: no byte bound
        self.batch_bytes = max(1, self.max_bytes // 4)
        self._weigh = weigh or _weightless
        self.bytes = 0  # weight of what is in the backlog now
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._not_full = threading.Condition(self._lock)
        self._not_empty = threading.Condition(self._lock)
        self._clock = clock
        self._want = 1  # the size a waiting `take` asks for: put wakes it when reached
        self._hurry = False

    def __len__(self) -> int:
        return len(self._items)

    def room(self) -> int:
        """How many more items the count bound lets in now (the byte bound may let in fewer)."""
        return self.limit - len(self._items)

    def _full(self, weight: int) -> bool:
        if len(self._items) >= self.limit:
            return True
        return bool(self.max_bytes and self._items and self.bytes + weight > self.max_bytes)

    def _has_room(self, weight: int) -> bool:
        return not self._full(weight)

    def _batch_ready(self) -> bool:
        n = len(self._items)
        return n == 1 or n >= self._want or bool(self.max_bytes and self.bytes >= self.batch_bytes)

    def put(self, item: T, timeout: float | None = None) -> bool:
        """Append ``item``, waiting while full; return False if still full after ``timeout``."""
        weight = self._weigh(item)
        with self._not_full:
            if self._full(weight):
                if not self._not_full.wait_for(lambda: not self._full(weight), timeout):
                    return False
            self._items.append(item)
            self.bytes += weight
            if self._batch_ready():
                self._not_empty.notify()
            return True

    def put_many(self, items: list[T], timeout: float | None = None) -> int:
        """Append ``items`` in order, waiting while full; return how many went in.

        All of them, unless the backlog stayed full for ``timeout`` seconds at some point.
        """
        done = 0
        with self._not_full:
            for item in items:
                weight = self._weigh(item)
                if self._full(weight):
                    self._not_empty.notify()  # the taker may be waiting for a bigger batch
                    if not self._not_full.wait_for(partial(self._has_room, weight), timeout):
                        break
                self._items.append(item)
                self.bytes += weight
                done += 1
            if done and self._batch_ready():
                self._not_empty.notify()
        return done

    def take(self, size: int, wait: float, idle: float) -> list[T]:
        """Return up to ``size`` items, waiting ``wait`` s after the first; [] after ``idle`` s."""
        with self._not_empty:
            if not self._items and not self._not_empty.wait(idle):
                return []
            deadline = self._clock() + wait
            self._want = size
            while len(self._items) < size and not self._hurry:
                if self.max_bytes and self.bytes >= self.batch_bytes:
                    break
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                self._not_empty.wait(remaining)
            self._want = 1
            out = self._pop(size)
            self._not_full.notify_all()
            return out

    def _pop(self, size: int) -> list[T]:
        n = min(size, len(self._items))
        if not self.max_bytes:
            return [self._items.popleft() for _ in range(n)]
        out: list[T] = []
        taken = 0
        while self._items and len(out) < n and (not out or taken < self.batch_bytes):
            item = self._items.popleft()
            taken += self._weigh(item)
            out.append(item)
        self.bytes -= taken
        return out

    def hurry(self) -> None:
        """From now on `take` returns at once with what it has (for shutdown)."""
        with self._not_empty:
            self._hurry = True
            self._not_empty.notify_all()


def _weightless(_item: object) -> int:
    return 0
