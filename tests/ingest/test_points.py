"""Every line ingest writes matches its definition in landfill/measurements.py: the name, every
declared tag and field, and the type of every value (a wrong type is a field type conflict
that InfluxDB rejects)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import points
from ingest.fill.tracker import FillPoint
from ingest.lines import line as build_line
from ingest.stats import Stats
from landfill import contract
from landfill.fill.state import FillState
from landfill.influx import epoch_ms
from landfill.measurements import (
    CONTAINER_ALERT,
    CONTAINER_EVENT,
    DEAD_LETTER,
    DEAD_LETTER_COUNT,
    FILL,
    FILL_STATE,
    INFLOW,
    INGEST_STATS,
    MEASUREMENTS,
    SCALE_CAPTURE,
    SCALE_EVENT,
    WEIGHING,
    Measurement,
)
from landfill.names import NAME_PATTERN

TS = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
# every optional value set, so every declared field is written; no spaces or commas in values
READING = contract.ContainerReading(
    ts=TS,
    site="d",
    container="c7",
    device="dev",
    model="EM310-UDL",
    distance_mm=900,
    temp_c=12.5,
    battery_pct=90,
    battery_v=3.6,
    tilt=False,
)
LEVEL = FillPoint("c7", "north", TS, 900, 55.0, 54.5, "accepted", False)
VOIDED_TICKET = contract.Ticket(
    ts=TS,
    site="d",
    number="A-1",
    status="voided",
    scale="s1",
    gross_kg=20000,
    tare_kg=8000,
    net_kg=12000,
    client="c1",
    vehicle="v1",
    waste_type="msw",
    zone="north",
)
LINES = [
    (
        SCALE_CAPTURE,
        points.capture_line(
            contract.Capture.weighed(
                ts=TS,
                site="d",
                scale="s1",
                weight_kg=14560,
                division_kg=20,
                stable_ms=2000,
                protocol="yaohua-a9",
                raw=["02a1"],
            )
        ),
    ),
    (
        SCALE_EVENT,
        points.scale_event_line(
            contract.ScaleEvent(
                ts=TS, site="d", scale="s1", event="overload", weight_kg=61000, detail="max"
            )
        ),
    ),
    (WEIGHING, points.weighing_line(VOIDED_TICKET)),
    (INFLOW, points.inflow_line(VOIDED_TICKET)),
    (FILL, points.fill_line(READING, LEVEL)),
    (
        CONTAINER_ALERT,
        points.alert_line(
            contract.ContainerAlert(
                ts=TS,
                site="d",
                container="c7",
                alert="full",
                active=True,
                severity="warning",
                transition="raised",
                since=TS,
                value=82,
                detail="level",
            )
        ),
    ),
    (
        CONTAINER_EVENT,
        points.container_event_line(
            contract.ContainerEvent(
                ts=TS,
                site="d",
                container="c7",
                event="emptying",
                before_pct=85,
                after_pct=4,
                detail="drop",
            )
        ),
    ),
    (
        DEAD_LETTER,
        points.dead_letter_line(
            contract.DeadLetter(
                ts=TS, site="d", reason="invalid_json", topic="t", payload="p", consumer="w1"
            ),
            points.DeadLetterTags("container:c7", "invalid_json", "reading"),
            0,
        ),
    ),
    (
        DEAD_LETTER_COUNT,
        points.dead_letter_count_line(
            "d", points.DeadLetterTags("device:a1", "unknown_model", "uplink"), "w1", 0, 14, 9
        ),
    ),
]


def parse(line: str) -> tuple[str, dict[str, str], dict[str, object]]:
    """Split a line whose values hold no space, comma or escape into name, tags and fields."""
    head, body, _ts = line.split(" ")
    name, *pairs = head.split(",")
    tags = dict(pair.split("=", 1) for pair in pairs)
    fields: dict[str, object] = {}
    for pair in body.split(","):
        key, raw = pair.split("=", 1)
        if raw.startswith('"'):
            fields[key] = raw[1:-1]
        elif raw in ("true", "false"):
            fields[key] = raw == "true"
        elif raw.endswith("i"):
            fields[key] = int(raw[:-1])
        else:
            fields[key] = float(raw)
    return name, tags, fields


@pytest.mark.parametrize(("measurement", "line"), LINES, ids=lambda x: getattr(x, "name", ""))
def test_lines_match_their_measurement(measurement: Measurement, line: str | None):
    assert line is not None
    name, tags, fields = parse(line)
    assert name == measurement.name
    measurement.check(tags, fields)
    assert set(tags) == set(measurement.tags)
    assert set(fields) == set(measurement.fields)


def test_a_capture_point_is_its_millisecond_plus_its_weight_in_ns():
    real = contract.Capture.weighed(
        ts=TS, site="d", scale="s1", weight_kg=14560, division_kg=20, stable_ms=0, protocol="p"
    )
    other = contract.Capture.weighed(**(real.model_dump() | {"weight_kg": 9_020}))
    ms = epoch_ms(TS)
    assert points.capture_ns(real) == ms * 1_000_000 + 14_560
    assert other.id != real.id
    assert points.capture_ns(other) != points.capture_ns(real)  # same ms, two points
    biggest = other.model_copy(update={"weight_kg": contract.MAX_WEIGHT_KG})
    assert points.capture_ns(biggest) // 1_000_000 == ms  # read at ms: the capture's ms
    assert points.capture_line(real).endswith(f" {ms * 1_000_000 + 14_560}")
    assert SCALE_CAPTURE.precision == "ns"


def test_every_measurement_is_written_and_to_lines_picks_it():
    written = {m.name for m, _ in LINES} | {INGEST_STATS.name, FILL_STATE.name}
    assert written == {m.name for m in MEASUREMENTS}
    for _, line in LINES:
        assert line is not None
    assert points.to_lines(READING) == [], "fill needs the container: the fill processor"


def test_ingest_stats_line_matches_its_measurement():
    stats = Stats("d", "w1")
    for counter in INGEST_STATS.fields:
        if counter not in ("backlog", "lag_ms_avg", "lag_ms_max", "received"):
            stats.add(counter)
    stats.add("rejected:invalid_json")
    stats.received = 3
    stats.lag([10, 30])
    name, tags, fields = parse(stats.snapshot_line(1_700_000_000_000, backlog=2) or "")
    assert name == INGEST_STATS.name
    INGEST_STATS.check(tags, fields)
    assert set(fields) == set(INGEST_STATS.fields) | {"rejected_invalid_json"}


def test_fill_state_line_matches_its_measurement():
    state = FillState(last_ms=1_700_000_000_000, level_pct=54.5, rates={0: 9.5}, quality="ok")
    line = points.fill_state_line("d", "c7", state.model_dump_json(), 1_700_000_000_000, "r1")
    assert line is not None
    # the JSON document holds commas and quotes: split on the unescaped separators only
    head, body = line.rsplit(" ", 1)[0].split(" ", 1)
    name, *pairs = head.split(",")
    tags = dict(pair.split("=", 1) for pair in pairs)
    ident, doc = body.split(",", 1)
    fields = {"id": ident.split("=", 1)[1].strip('"'), "state": doc.split("=", 1)[1]}
    assert name == FILL_STATE.name
    FILL_STATE.check(tags, fields)
    assert set(tags) == set(FILL_STATE.tags)
    assert set(fields) == set(FILL_STATE.fields)
    unescaped = fields["state"][1:-1].replace('\\"', '"').replace("\\\\", "\\")
    assert FillState.model_validate_json(unescaped) == state


def test_a_ticket_is_a_weighing_and_an_inflow_point_and_its_void_counts_nothing():
    completed = VOIDED_TICKET.model_copy(update={"status": "completed", "id": "x"})
    weighing, inflow = points.to_lines(completed)
    assert weighing.startswith("weighing,")
    assert inflow.startswith("inflow,")
    assert parse(inflow)[2] == {
        "counted_kg": 12000,
        "id": "x",
        "number": "A-1",
        "tickets": 1,
        "voided": False,
    }
    _, tags, fields = parse(points.inflow_line(VOIDED_TICKET) or "")
    assert (fields["counted_kg"], fields["tickets"], fields["voided"]) == (0, 0, True)
    assert "ticket" not in tags  # the time keeps tickets apart, not a tag per ticket


@pytest.mark.parametrize(
    ("ts_ms", "number", "expected"),
    [
        (1_700_000_000_123, "2026-000001", 1_700_000_000_001),
        (1_700_000_000_999, "2026-001999", 1_700_000_000_999),
        (1_700_000_000_000, "2026-123456", 1_700_000_000_456),
        (1_700_000_000_500, "A-1", 1_700_000_000_001),
    ],
)
def test_the_inflow_time_is_the_second_plus_the_sequence(ts_ms, number, expected):
    assert points.inflow_ms(ts_ms, number) == expected
    # the second never changes, so neither does the local day of the ticket
    assert points.inflow_ms(ts_ms, number) // 1000 == ts_ms // 1000


def test_tickets_of_one_vehicle_in_one_second_have_distinct_inflow_times():
    times = {points.inflow_ms(1_700_000_000_000, f"2026-{n:06d}") for n in range(5000, 6000)}
    assert len(times) == 1000


NAME_TEXT = st.from_regex(NAME_PATTERN, fullmatch=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    capture=st.builds(
        contract.Capture,
        id=NAME_TEXT,
        ts=st.datetimes(
            min_value=datetime(1971, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
            max_value=datetime(2200, 1, 1),  # noqa: DTZ001
            timezones=st.just(UTC),
        ),
        site=NAME_TEXT,
        scale=NAME_TEXT,
        weight_kg=st.integers(1, 10_000).map(lambda n: n * 20),
        division_kg=st.just(20),
        stable_ms=st.integers(0, 3_600_000),
        protocol=st.text(max_size=contract.MAX_LABEL),
        stable_source=st.sampled_from(["indicator", "window"]),
        raw=st.lists(st.from_regex(r"[0-9a-f]{0,16}", fullmatch=True), max_size=4),
    )
)
def test_the_capture_line_is_the_one_line_builds(capture: contract.Capture):
    # capture_line is one f-string for speed (every capture); `build_line` is the reference
    expected = build_line(
        SCALE_CAPTURE.name,
        {"site": capture.site, "scale": capture.scale},
        {
            "division_kg": capture.division_kg,
            "id": capture.id,
            "protocol": capture.protocol,
            "raw": " ".join(capture.raw),
            "stable_ms": capture.stable_ms,
            "stable_source": capture.stable_source,
            "weight_kg": capture.weight_kg,
        },
        epoch_ms(capture.ts) * 1_000_000 + capture.weight_kg,  # capture_ns
    )
    assert points.capture_line(capture) == expected
