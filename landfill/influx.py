"""InfluxDB on the portable v1 HTTP path: `POST /write` line protocol, InfluxQL on `/query`.

The same path works on InfluxDB 1.x, on 2.x (v1 compatibility API) and on 3.x Core/Enterprise.
This module sends lines it is given: `ingest/lines.py` builds them (the same lines as
influxdb-client's `Point`, which a test keeps as the reference). Writes use `precision=ms`
(1.6 reads `us` as nanoseconds), except the lines of a measurement declared at nanoseconds
(`scale_capture`, whose time carries the weight below the millisecond), which go in a request
of their own at `precision=ns`; and HTTP Basic auth (the one scheme all three accept).
Queries pass values as bound `params`, never by string building; measurement, tag and field
names come from `landfill/measurements.py`.

A failed write falls in one of three bins, as Telegraf's output does:
- `RetryableWriteError`: connection error, timeout, 5xx, 429 -> retry with backoff;
- `RejectedWriteError`: 400 on bad points (parse error, field type conflict) -> drop, log why;
- `FatalWriteError`: 401/403 or a missing database that cannot be created -> stop and alert.

`ensure_database` also makes new shard groups span a year (`SHARD_DURATION`), for sums over
months; both are 1.x statements.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from landfill.measurements import MEASUREMENTS

log = logging.getLogger(__name__)

__all__ = [
    "FatalWriteError",
    "InfluxStore",
    "QueryError",
    "RejectedWriteError",
    "RetryableWriteError",
    "SHARD_DURATION",
    "Series",
    "WriteError",
    "backoff_delays",
    "epoch_ms",
    "wait_for_influx",
]


# InfluxDB 1.x starts a shard group every 7 days for a policy kept forever, so a year is 53
# shards and every sum over months opens each of them. One shard group a year makes a year of
# `inflow` grouped by client 15 times faster (docs/inflow.md has the figures). Older shard
# groups keep the duration they were made with.
SHARD_DURATION = "52w"


class WriteError(Exception):
    """A write that InfluxDB did not accept; ``reason`` is one line."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class RetryableWriteError(WriteError):
    """Try again later: the server is down, overloaded or answered 5xx/429."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason, status)
        self.retry_after = retry_after


class RejectedWriteError(WriteError):
    """The points are bad (400): retrying will not help."""


class FatalWriteError(WriteError):
    """Credentials or permissions are wrong (401/403): stop and alert a person."""


class QueryError(Exception):
    """A query failed; the message is InfluxDB's error or the transport's."""


def backoff_delays(base: float = 0.5, cap: float = 30.0) -> Iterator[float]:
    """Yield exponential backoff delays with full jitter, forever."""
    attempt = 0
    while True:
        yield random.uniform(0, min(cap, base * 2**attempt))
        attempt += 1


@dataclass(frozen=True)
class Series:
    """One series of a query result."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]

    def rows(self) -> list[dict[str, Any]]:
        """Return the values as dicts keyed by column (tags included)."""
        return [{**self.tags, **dict(zip(self.columns, v, strict=True))} for v in self.values]


class InfluxStore:
    """Write and query one InfluxDB database over the v1 HTTP API."""

    def __init__(
        self,
        url: str,
        database: str,
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        auth = httpx.BasicAuth(username, password) if username else None
        self._client = httpx.Client(base_url=self.url, auth=auth, timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> InfluxStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- health and bootstrap ----------------------------------------------------------------

    def ping(self) -> bool:
        """Return True when the server answers /ping."""
        try:
            return self._client.get("/ping", timeout=2.0).status_code == 204
        except httpx.HTTPError:
            return False

    def ensure_database(self) -> None:
        """Create the database on InfluxDB 1.x (idempotent); the 1.x-only bootstrap step."""
        try:
            resp = self._client.post("/query", data={"q": f'CREATE DATABASE "{self._db_ident()}"'})
        except httpx.HTTPError as exc:
            raise RetryableWriteError(f"InfluxDB unreachable: {exc}") from exc
        if resp.status_code in (401, 403):
            raise FatalWriteError(f"InfluxDB refused CREATE DATABASE: {resp.status_code}")
        if resp.status_code >= 500:
            raise RetryableWriteError(f"InfluxDB answered {resp.status_code}", resp.status_code)
        if resp.status_code >= 400:
            raise FatalWriteError(f"CREATE DATABASE failed: {resp.text.strip()[:200]}")
        self._yearly_shards()

    def _yearly_shards(self) -> None:
        """New shard groups of the default policy span SHARD_DURATION (best effort, logged)."""
        db = self._db_ident()
        q = f'ALTER RETENTION POLICY "autogen" ON "{db}" SHARD DURATION {SHARD_DURATION}'
        try:
            resp = self._client.post("/query", data={"q": q})
        except httpx.HTTPError as exc:
            log.info("shard duration left as it was: %s", type(exc).__name__)
            return
        if resp.status_code != 200 or '"error"' in resp.text:
            log.info("shard duration left as it was: %s", _error_text(resp) or resp.status_code)

    def _db_ident(self) -> str:
        # database names come from settings, not from users; still refuse quote characters
        if '"' in self.database or "\\" in self.database:
            raise ValueError("database name may not contain quotes or backslashes")
        return self.database

    # ---- writes ------------------------------------------------------------------------------

    def write_lines(self, lines: Sequence[str]) -> None:
        """POST lines of line protocol, or raise a WriteError.

        Times are milliseconds, except in the lines of measurements declared at nanoseconds
        (`scale_capture`): those go in a second request at `precision=ns`.
        """
        ns = [ln for ln in lines if ln.startswith(_NANOSECOND_LINES)]
        ms = [ln for ln in lines if not ln.startswith(_NANOSECOND_LINES)] if ns else lines
        self._post_lines(ms, "ms")
        self._post_lines(ns, "ns")

    def _post_lines(self, lines: Sequence[str], precision: str) -> None:
        if not lines:
            return
        body = "\n".join(lines).encode()
        try:
            resp = self._client.post(
                "/write", params={"db": self.database, "precision": precision}, content=body
            )
        except httpx.HTTPError as exc:
            raise RetryableWriteError(f"InfluxDB unreachable: {type(exc).__name__}") from exc
        code = resp.status_code
        if code == 204 or code == 200:
            return
        reason = _error_text(resp)
        if code in (401, 403):
            raise FatalWriteError(f"InfluxDB refused the credentials ({code}): {reason}", code)
        if code == 404 and "database not found" in reason:
            raise RetryableWriteError(f"database not found: {reason}", code)
        if code == 429 or code >= 500:
            retry_after = _retry_after(resp)
            raise RetryableWriteError(f"InfluxDB answered {code}: {reason}", code, retry_after)
        raise RejectedWriteError(reason or f"InfluxDB answered {code}", code)

    # ---- queries -----------------------------------------------------------------------------

    def query(
        self, q: str, params: Mapping[str, Any] | None = None, *, missing_ok: bool = False
    ) -> list[Series]:
        """Run one InfluxQL statement with bound parameters; times come back as epoch ms.

        ``missing_ok``: a database ingest has not created yet has no data (``[]``), it is
        not an error.
        """
        form: dict[str, str] = {"db": self.database, "epoch": "ms", "q": q}
        if params:
            form["params"] = json.dumps(dict(params), default=_param_default)
        try:
            resp = self._client.post("/query", data=form)
        except httpx.HTTPError as exc:
            raise QueryError(f"InfluxDB unreachable: {type(exc).__name__}") from exc
        if resp.status_code != 200:
            error = _error_text(resp)
            if missing_ok and error.startswith("database not found"):
                return []
            raise QueryError(f"InfluxDB answered {resp.status_code}: {error}")
        payload = resp.json()
        out: list[Series] = []
        for result in payload.get("results", []):
            if "error" in result:
                if missing_ok and str(result["error"]).startswith("database not found"):
                    return []
                raise QueryError(str(result["error"]))
            for s in result.get("series", []):
                out.append(
                    Series(
                        name=s.get("name", ""),
                        tags=s.get("tags") or {},
                        columns=s["columns"],
                        values=s.get("values") or [],
                    )
                )
        return out

    def rows(
        self, q: str, params: Mapping[str, Any] | None = None, *, missing_ok: bool = False
    ) -> list[dict[str, Any]]:
        """Run a query and return all rows of all series as dicts."""
        return [row for s in self.query(q, params, missing_ok=missing_ok) for row in s.rows()]


def _param_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raise TypeError(f"cannot bind {type(value).__name__} as an InfluxQL parameter")


def _error_text(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return resp.text.strip()[:500]
    if isinstance(data, dict) and "error" in data:
        return str(data["error"])[:500]
    return resp.text.strip()[:500]


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    try:
        return min(float(value), 600.0) if value else None
    except ValueError:
        return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


# a line starts with its measurement's name and a comma (tags) or a space (none)
_NANOSECOND_LINES = tuple(
    f"{m.name}{sep}" for m in MEASUREMENTS if m.precision == "ns" for sep in (",", " ")
)


def epoch_ms(ts: datetime) -> int:
    """Return an aware datetime as integer epoch milliseconds (exact: no float rounding)."""
    return (ts - _EPOCH) // _MS


def wait_for_influx(store: InfluxStore, log_: logging.Logger, stop: Any = None) -> None:
    """Create the database, retrying with backoff while InfluxDB is not up yet."""
    delays = backoff_delays(0.5, 10.0)
    warned = False
    while True:
        try:
            store.ensure_database()
            if warned:
                log_.info("InfluxDB is up at %s", store.url)
            return
        except RetryableWriteError as exc:
            if not warned:
                log_.warning("InfluxDB not reachable yet (%s); retrying", exc.reason)
                warned = True
        delay = next(delays)
        if stop is not None:
            if stop.wait(delay):
                return
        else:
            time.sleep(delay)
