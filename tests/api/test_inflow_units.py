"""The pure parts of the inflow pages: local periods and their UTC bounds, and the SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from api.inflow.charts import Bar, bar_chart, nice_step, share_chart
from api.inflow.periods import Period, add_months, bucket_of, buckets, month_of, parse_month
from api.inflow.view import number

BISHKEK = ZoneInfo("Asia/Bishkek")


def test_a_period_is_bounded_by_local_midnights():
    start, end = Period(date(2026, 10, 1), date(2026, 10, 31)).bounds(BISHKEK)
    assert start == datetime(2026, 9, 30, 18, 0, tzinfo=UTC)
    assert end == datetime(2026, 10, 31, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        Period(date(2026, 10, 2), date(2026, 10, 1))


@pytest.mark.parametrize(
    ("first", "months", "expected"),
    [
        (date(2026, 1, 1), -1, date(2025, 12, 1)),
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
        (date(2026, 10, 1), -11, date(2025, 11, 1)),
        (date(2026, 3, 31), 0, date(2026, 3, 1)),
    ],
)
def test_months_step_over_years(first, months, expected):
    assert add_months(first, months) == expected


def test_buckets_start_on_the_day_the_monday_and_the_first():
    assert bucket_of(date(2026, 10, 1), "week") == date(2026, 9, 28)  # a Thursday's Monday
    assert buckets(Period(date(2026, 10, 1), date(2026, 10, 12)), "week") == [
        date(2026, 9, 28),
        date(2026, 10, 5),
        date(2026, 10, 12),
    ]
    assert buckets(Period(date(2025, 12, 15), date(2026, 2, 1)), "month") == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert month_of(date(2024, 2, 1)).last == date(2024, 2, 29)
    assert parse_month("2026-10") == date(2026, 10, 1)
    for bad in ("2026-13", "2026-1", "26-10", "2026-10-01"):
        with pytest.raises(ValueError):
            parse_month(bad)


@pytest.mark.parametrize(
    ("top", "step"), [(0, 1), (0.4, 0.1), (9, 5), (10, 5), (23.7, 10), (36_000, 10_000)]
)
def test_grid_steps_are_round(top, step):
    assert nice_step(top) == pytest.approx(step)


def test_charts_escape_every_text_and_carry_the_raw_values():
    evil = '<script>alert(1)</script>"&'
    svg = str(
        share_chart([Bar(evil, evil, 2.5), Bar("b", "b", 1.0)], label=evil, fmt=lambda v: f"{v}")
    )
    svg += str(bar_chart([Bar("k", evil, 3.0)], label=evil, fmt=str))
    assert "<script>" not in svg
    for one in (svg[: svg.index("</svg>") + 6], svg[svg.index("</svg>") + 6 :]):
        root = ET.fromstring(one)  # well-formed XML, so no text broke out of its element
        bars = root.findall("{http://www.w3.org/2000/svg}rect")
        assert bars
        assert all(float(b.get("data-value")) > 0 for b in bars)
        assert bars[0].get("data-key") in (evil, "k")


def test_numbers_are_written_as_each_language_writes_them():
    assert number(1234.5, 1, "en") == "1\u2009234.5"
    assert number(1234.5, 1, "ru") == "1\u2009234,5"
    assert number(1234.5, 1, "ky") == "1\u2009234,5"
