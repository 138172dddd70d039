"""InfluxDB store against a real influxd 1.6, plus the failure bins on canned HTTP answers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from deploy import stack
from ingest.lines import line
from landfill.influx import (
    FatalWriteError,
    InfluxStore,
    QueryError,
    RejectedWriteError,
    RetryableWriteError,
    epoch_ms,
)

pytestmark = pytest.mark.integration


def test_write_and_query_round_trip_at_ms_precision(influx: InfluxStore):
    ts = datetime(2026, 11, 24, 6, 30, 15, 123000, tzinfo=UTC)
    influx.write_lines(
        [line("scale_event", {"scale": "s1"}, {"weight_kg": 14560}, epoch_ms(ts)) or ""]
    )
    rows = influx.rows("SELECT weight_kg FROM scale_event WHERE scale = $s", {"s": "s1"})
    assert rows == [{"time": int(ts.timestamp() * 1000), "weight_kg": 14560}]


def test_capture_lines_go_at_ns_precision_beside_ms_lines(influx: InfluxStore):
    # scale_capture is declared at ns (its time carries the weight under the millisecond);
    # one call with both kinds writes each at its precision, and reads come back at ms
    ms = epoch_ms(datetime(2026, 11, 24, 6, 30, 15, 123000, tzinfo=UTC))
    influx.write_lines(
        [
            f"scale_capture,scale=s1 weight_kg=14560i {ms * 1_000_000 + 14_560}",
            f"scale_event,scale=s1 weight_kg=9020i {ms}",
            f"scale_capture,scale=s1 weight_kg=9020i {ms * 1_000_000 + 9_020}",
        ]
    )
    captures = influx.rows("SELECT weight_kg FROM scale_capture")
    assert captures == [{"time": ms, "weight_kg": 9020}, {"time": ms, "weight_kg": 14560}]
    assert influx.rows("SELECT weight_kg FROM scale_event") == [{"time": ms, "weight_kg": 9020}]


def test_bound_parameters_are_values_not_syntax(influx: InfluxStore):
    influx.write_lines(["m,scale=s1 f=1i 1700000000000"])
    hostile = "s1' OR scale = 's2"
    assert influx.rows("SELECT f FROM m WHERE scale = $s", {"s": hostile}) == []
    assert influx.rows("SELECT f FROM m WHERE time >= $t", {"t": datetime(2023, 1, 1, tzinfo=UTC)})


def test_new_shard_groups_span_a_year(influx: InfluxStore):
    """Sums over months open one shard a year, not 53 (the default for a policy kept forever)."""
    policies = influx.rows("SHOW RETENTION POLICIES")
    assert [(p["name"], p["shardGroupDuration"], p["default"]) for p in policies] == [
        ("autogen", "8736h0m0s", True)  # 52 weeks
    ]
    influx.ensure_database()  # again: nothing changes, nothing fails
    assert influx.rows("SHOW RETENTION POLICIES") == policies
    start = datetime(2026, 1, 5, tzinfo=UTC)
    lines = [f"m f=1i {epoch_ms(start) + week * 7 * 86_400_000}" for week in range(20)]
    influx.write_lines(lines)
    shards = [s for s in influx.query("SHOW SHARDS") if s.name == influx.database]
    assert sum(len(s.values) for s in shards) <= 2  # 20 weeks: one or two yearly groups


def test_rewriting_the_same_point_overwrites_it(influx: InfluxStore):
    line = "m,scale=s1 f=1i 1700000000000"
    influx.write_lines([line, line])
    influx.write_lines([line])
    assert len(influx.rows("SELECT * FROM m")) == 1


def test_field_type_conflict_is_rejected_not_retried(influx: InfluxStore):
    influx.write_lines(["m f=1i 1700000000000"])
    with pytest.raises(RejectedWriteError) as err:
        influx.write_lines(['m f="text" 1700000000001'])
    assert "conflict" in err.value.reason


def test_unparsable_line_is_rejected(influx: InfluxStore):
    with pytest.raises(RejectedWriteError):
        influx.write_lines(["m f= 1"])


def test_server_down_is_retryable():
    store = InfluxStore(f"http://127.0.0.1:{stack.free_port()}", "x", timeout=1)
    with pytest.raises(RetryableWriteError):
        store.write_lines(["m f=1i"])
    assert store.ping() is False
    with pytest.raises(QueryError):
        store.query("SELECT * FROM m")


def test_a_database_not_created_yet_has_no_data_only_when_asked(influx: InfluxStore):
    missing = InfluxStore(influx.url, "not_created_yet")
    try:
        q = "SELECT * FROM fill"
        assert missing.query(q, missing_ok=True) == []
        assert missing.rows(q, missing_ok=True) == []
        with pytest.raises(QueryError, match="database not found"):
            missing.query(q)
        with pytest.raises(QueryError, match="error parsing query"):
            missing.query("SELEKT nonsense", missing_ok=True)
    finally:
        missing.close()


def test_bad_query_raises_with_influx_message(influx: InfluxStore):
    with pytest.raises(QueryError, match="error parsing query"):
        influx.query("SELEKT nonsense")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, FatalWriteError),
        (403, FatalWriteError),
        (429, RetryableWriteError),
        (500, RetryableWriteError),
        (503, RetryableWriteError),
        (400, RejectedWriteError),
        (413, RejectedWriteError),
    ],
)
def test_failure_bins(status, error):
    """Statuses 1.6 cannot be made to send on demand (auth off, no rate limit): canned answers."""
    store = InfluxStore("http://influx.invalid", "x")
    store._client = httpx.Client(
        base_url="http://influx.invalid",
        transport=httpx.MockTransport(
            lambda _req: httpx.Response(
                status, json={"error": "nope"}, headers={"Retry-After": "7"}
            )
        ),
    )
    with pytest.raises(error) as err:
        store.write_lines(["m f=1i"])
    assert err.value.status == status
    if status == 429:
        assert err.value.retry_after == 7.0


def test_requests_use_ms_precision_and_basic_auth():
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(204)

    store = InfluxStore("http://influx.invalid", "landfill", "writer", "s3cret")
    store._client = httpx.Client(
        base_url="http://influx.invalid",
        auth=httpx.BasicAuth("writer", "s3cret"),
        transport=httpx.MockTransport(handler),
    )
    store.write_lines(["m f=1i 1"])
    assert seen[0].url.params["precision"] == "ms"
    assert seen[0].url.params["db"] == "landfill"
    assert seen[0].headers["authorization"].startswith("Basic ")
