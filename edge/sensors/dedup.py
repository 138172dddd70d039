"""Drop an uplink seen before: two gateways, two integrations, or a replay after a reconnect.

Key: (device, fcnt), remembering the uplink time. A repeat is the same key with a time within
``window`` of the remembered one; the same frame counter much later is a new uplink (the
counter restarts at 0 when a device rejoins). An uplink without a frame counter is a repeat
only with the exact same time. The memory is an LRU of ``maxlen`` keys, so it stays bounded
however long the process runs. Pure: no clock, no I/O; time comes from the envelope.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

__all__ = ["DuplicateFilter"]


class DuplicateFilter:
    """Bounded LRU memory of recent uplinks; ``is_duplicate`` records and answers in one step."""

    def __init__(self, maxlen: int = 4096, window: timedelta = timedelta(seconds=60)) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self.maxlen = maxlen
        self.window = window
        self.dropped = 0
        self._seen: OrderedDict[tuple[str, int | None, datetime | None], datetime] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def is_duplicate(self, device: str, fcnt: int | None, time: datetime) -> bool:
        """Return True if this uplink was seen already; otherwise remember it and return False."""
        key = (device, fcnt, None if fcnt is not None else time)
        before = self._seen.get(key)
        if before is not None and abs(time - before) <= self.window:
            self._seen.move_to_end(key)
            self.dropped += 1
            return True
        self._seen[key] = time
        self._seen.move_to_end(key)
        while len(self._seen) > self.maxlen:
            self._seen.popitem(last=False)
        return False
