"""A bounded hand-over from the MQTT network thread to the batcher, taken in batches.

`put` blocks while the backlog is full: the network thread then stops reading the socket, TCP
pushes back and the broker keeps the rest in the persistent session. `take` returns up to
``size`` items as soon as that many are there, or whatever arrived within ``wait`` seconds of
the first one (batching by size and time). One lock and two conditions; no per-item queue.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["Backlog"]


class Backlog(Generic[T]):
    """Bounded FIFO with blocking put and batch take."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._not_full = threading.Condition(self._lock)
        self._not_empty = threading.Condition(self._lock)
        self._clock = clock
        self._want = 1  # the size a waiting `take` asks for: put wakes it when reached
        self._hurry = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T, timeout: float | None = None) -> bool:
        """Append ``item``, waiting while full; return False if still full after ``timeout``."""
        with self._not_full:
            if len(self._items) >= self.limit:
                if not self._not_full.wait_for(lambda: len(self._items) < self.limit, timeout):
                    return False
            self._items.append(item)
            if len(self._items) == 1 or len(self._items) >= self._want:
                self._not_empty.notify()
            return True

    def take(self, size: int, wait: float, idle: float) -> list[T]:
        """Return up to ``size`` items, waiting ``wait`` s after the first; [] after ``idle`` s."""
        with self._not_empty:
            if not self._items and not self._not_empty.wait(idle):
                return []
            deadline = self._clock() + wait
            self._want = size
            while len(self._items) < size and not self._hurry:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                self._not_empty.wait(remaining)
            self._want = 1
            n = min(size, len(self._items))
            out = [self._items.popleft() for _ in range(n)]
            self._not_full.notify_all()
            return out

    def hurry(self) -> None:
        """From now on `take` returns at once with what it has (for shutdown)."""
        with self._not_empty:
            self._hurry = True
            self._not_empty.notify_all()
