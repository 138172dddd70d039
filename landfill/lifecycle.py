"""Process lifecycle: wait for SIGINT/SIGTERM without raising inside threading primitives.

Raising KeyboardInterrupt from a signal handler can land inside `Event.wait` and corrupt its
lock when a second signal follows (Ctrl-C reaches the whole process group, then `landfill run`
sends SIGTERM). So the handler only records the signal; the main thread polls for it.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import NoReturn


def wait_for_signal(done: Callable[[], bool] = lambda: False, poll: float = 0.1) -> int | None:
    """Block until SIGINT or SIGTERM arrives (return it) or ``done()`` is true (return None)."""
    received: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not received and not done():
            time.sleep(poll)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    return received[0] if received else None


def setup_logging(level: str) -> None:
    """Log lines with time, level and logger; httpx's line per request only when it warns."""
    logging.basicConfig(
        level=getattr(logging, level),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


def raise_interrupt(*_: object) -> NoReturn:
    """Signal handler that stops a single-threaded loop (a simulator) as Ctrl-C does."""
    raise KeyboardInterrupt
