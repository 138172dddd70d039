"""Ingest self-monitoring: counters written as `ingest_stats` and read back by `--status`.

Counters are cumulative since the worker started (as Telegraf's internal metrics are), so a
restart shows as a drop to zero; gauges are the backlog now and the lag from observation time
to a 2xx write, averaged and maximal over the last interval. One point per worker and
interval, tagged with the worker's MQTT client id, so N workers show side by side. A worker
whose thread died writes a last point with `fatal` (the reason) before it exits: `--status`
and the API's `/health` then say it stopped, until a restarted worker reports again.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ingest.lines import line
from landfill.influx import InfluxStore
from landfill.measurements import INGEST_STATS

__all__ = ["Stats", "format_status", "is_running", "read_status"]

Q_STATUS = INGEST_STATS.query(
    "SELECT * FROM ingest_stats WHERE site = $site AND time > now() - 1d "
    "GROUP BY worker ORDER BY time DESC LIMIT 1"
)


@dataclass
class Stats:
    """Thread-safe counters of one worker."""

    site: str
    worker: str
    counters: Counter[str] = field(default_factory=Counter)
    received: int = 0  # only the MQTT network thread adds to it: no lock on the hot path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _lag_sum: int = 0
    _lag_n: int = 0
    _lag_max: int = 0

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to a counter."""
        with self._lock:
            self.counters[name] += n

    def __getitem__(self, name: str) -> int:
        if name == "received":
            return self.received
        with self._lock:
            return self.counters[name]

    def lag(self, lags_ms: list[int]) -> None:
        """Record lags (ms) from observation time to the write that stored them."""
        if not lags_ms:
            return
        with self._lock:
            self._lag_sum += sum(lags_ms)
            self._lag_n += len(lags_ms)
            self._lag_max = max(self._lag_max, *lags_ms)

    def snapshot_line(self, now_ms: int, backlog: int, fatal: str | None = None) -> str | None:
        """Return this interval's `ingest_stats` line and start a new lag interval."""
        with self._lock:
            fields: dict[str, int | float | str | None] = {
                k.replace(":", "_"): v for k, v in sorted(self.counters.items())
            }
            fields["received"] = self.received
            fields["backlog"] = backlog
            fields["lag_ms_avg"] = self._lag_sum / self._lag_n if self._lag_n else None
            fields["lag_ms_max"] = self._lag_max if self._lag_n else None
            fields["fatal"] = fatal
            self._lag_sum = self._lag_n = self._lag_max = 0
        return line(INGEST_STATS.name, {"site": self.site, "worker": self.worker}, fields, now_ms)


def read_status(store: InfluxStore, site: str) -> list[dict[str, Any]]:
    """Return the newest `ingest_stats` row of every worker of ``site`` (last day)."""
    return store.rows(Q_STATUS, {"site": site})


def is_running(rows: list[dict[str, Any]], now_ms: int, interval_s: float) -> bool:
    """True when a worker reported within three intervals and did not report a fatal stop."""
    return any(now_ms - int(r["time"]) <= 3000 * interval_s and not r.get("fatal") for r in rows)


def format_status(rows: list[dict[str, Any]], now_ms: int) -> str:
    """Render status rows as lines a person reads."""
    if not rows:
        return "no ingest_stats in the last day: is ingest running and writing?"
    out = []
    for r in rows:
        age = (now_ms - int(r["time"])) / 1000
        if r.get("fatal"):
            out.append(f"{r.get('worker', '?')}: STOPPED {age:.0f} s ago: {r['fatal']}")
            continue
        rejected = {
            k.removeprefix("rejected_"): v for k, v in r.items() if k.startswith("rejected_") and v
        }
        out.append(
            f"{r.get('worker', '?')}: {age:.0f} s ago  received {r.get('received') or 0:,}  "
            f"written {r.get('written') or 0:,}  acked {r.get('acked') or 0:,}  "
            f"backlog {r.get('backlog') or 0:,}  retries {r.get('retries') or 0:,}  "
            f"lag avg {_ms(r.get('lag_ms_avg'))} max {_ms(r.get('lag_ms_max'))}  "
            f"rejected {rejected or 0}"
        )
    return "\n".join(out)


def _ms(value: Any) -> str:
    return "-" if value is None else f"{float(value):.0f} ms"
