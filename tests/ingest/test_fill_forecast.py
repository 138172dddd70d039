"""Forecasts from synthetic level histories with known rates."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from landfill.fill.forecast import (
    FillSample,
    fit_rate,
    forecast,
    reliability,
    segments,
    time_to_full,
    weekday_rates,
)
from landfill.fill.spec import ContainerSpec

# Monday 23 Nov 2026, 08:00 in Bishkek; collection on Thursdays
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
BISHKEK = ZoneInfo("Asia/Bishkek")
SPEC = ContainerSpec(
    container="c01", zone="zone-a", volume_m3=1.1, empty_mm=1300, full_mm=300,
    collection_weekdays=[3],
)  # fmt: skip
H = timedelta(hours=1)


def linear(start: datetime, pct: float, per_day: float, hours: int) -> list[FillSample]:
    return [FillSample(start + h * H, pct + per_day * h / 24) for h in range(hours + 1)]


def previous_cycle(end: datetime) -> list[FillSample]:
    """A cycle ending at 90 % a day before ``end``, so the history shows an emptying."""
    return linear(end - timedelta(days=5), 40, 10, 96)


def by_weekday(start: datetime, days: int, rates: dict[int, float], empty_on: int, at_hour: int):
    """Hourly levels filling at a rate per local weekday, emptied to 2 % weekly."""
    pts, level, t = [], 2.0, start
    for _ in range(days * 24):
        local = t.astimezone(BISHKEK)
        if local.weekday() == empty_on and local.hour == at_hour:
            level = 2.0
        pts.append(FillSample(t, level))
        level += rates.get(local.weekday(), 5.0) / 24
        t += H
    return pts


def test_linear_fill_gives_the_slope_and_time_to_full():
    history = previous_cycle(T0) + linear(T0, 5, 10, 72)
    now = T0 + 72 * H
    f = forecast(SPEC, history, now, tz=BISHKEK)
    assert f.rate_pct_per_day == pytest.approx(10)
    assert f.r2 == pytest.approx(1)
    assert f.points == 73
    assert f.level_pct == pytest.approx(35)
    assert f.full_at == now + timedelta(days=4.5)  # (80 - 35) / 10
    assert not f.never
    assert f.next_collection == date(2026, 11, 26)  # Thursday, not yet over
    assert f.projected_pct == pytest.approx(35 + 10 * 9 / 24)
    assert not f.overflow_risk


def test_points_after_now_are_ignored():
    history = linear(T0, 5, 10, 200)
    assert forecast(SPEC, history, T0 + 24 * H, tz=BISHKEK).points == 25


@pytest.mark.parametrize("per_day", [0.0, -3.0])
def test_no_rise_means_never(per_day):
    f = forecast(SPEC, linear(T0, 40, per_day, 48), T0 + 48 * H, tz=BISHKEK)
    assert f.never
    assert f.full_at is None


def test_already_full_is_full_now():
    f = forecast(SPEC, linear(T0, 70, 10, 48), T0 + 48 * H, tz=BISHKEK)
    assert f.full_at == T0 + 24 * H * 2  # last point, 90 %: already past 80 %


def test_time_to_full():
    assert time_to_full(35, 10, 80) == timedelta(days=4.5)
    assert time_to_full(85, 10, 80) == timedelta(0)
    assert time_to_full(35, 0, 80) is None


def test_emptied_at_cuts_the_segment():
    history = linear(T0, 5, 10, 72)
    f = forecast(SPEC, history, T0 + 72 * H, emptied_at=T0 + 48 * H, tz=BISHKEK)
    assert f.points == 25


def test_segments_split_at_emptyings_only():
    history = previous_cycle(T0) + linear(T0, 5, 10, 24)
    noisy = [FillSample(T0 + 30 * H, 20), FillSample(T0 + 31 * H, 14)]  # 6 points, not 25
    segs = segments(history + noisy)
    assert [len(s) for s in segs] == [97, 27]


def test_weekday_rates():
    start = datetime(2026, 11, 2, 0, 0, tzinfo=BISHKEK)  # a Monday midnight, 3 weeks
    history = by_weekday(start, 21, {0: 20.0, 5: 0.0}, empty_on=3, at_hour=10)
    rates = weekday_rates(history, BISHKEK)
    assert set(rates) == set(range(7))
    assert rates[0] == pytest.approx(20)
    assert rates[5] == pytest.approx(0, abs=1e-9)
    for wd in (1, 2, 3, 4, 6):  # Thursday too: the emptying itself is not a rate
        assert rates[wd] == pytest.approx(5)


def test_weekday_without_enough_hours_has_no_rate():
    history = linear(datetime(2026, 11, 23, 20, 0, tzinfo=BISHKEK), 10, 12, 6)  # Mon 20-02
    assert weekday_rates(history, BISHKEK) == {}  # Monday has 4 h, Tuesday 2 h
    assert set(weekday_rates(history, BISHKEK, min_hours=3)) == {0}
    assert set(weekday_rates(history, BISHKEK, min_hours=2)) == {0, 1}


def test_overflow_risk_before_the_next_collection():
    since_saturday = linear(T0 - timedelta(days=2), 30, 15, 48)  # 60 % on Monday 08:00
    f = forecast(SPEC, since_saturday, T0, tz=BISHKEK)
    assert f.next_collection == date(2026, 11, 26)
    assert f.projected_pct == pytest.approx(60 + 15 * (3 + 9 / 24))
    assert f.overflow_risk
    tuesday = SPEC.model_copy(update={"collection_weekdays": [1]})
    f = forecast(tuesday, since_saturday, T0, tz=BISHKEK)
    assert f.projected_pct == pytest.approx(60 + 15 * (1 + 9 / 24))
    assert not f.overflow_risk


def test_projection_uses_the_weekday_rates():
    start = datetime(2026, 11, 2, 0, 0, tzinfo=BISHKEK)
    history = by_weekday(start, 21, {0: 60.0}, empty_on=3, at_hour=10)
    now = history[-1].ts  # Sunday 22 Nov, 23:00 local
    f = forecast(SPEC, history, now, tz=BISHKEK)
    # Sunday's last hour, Monday at 60 %/day (not this week's 5), Tuesday to Thursday 17:00
    assert f.projected_pct == pytest.approx(f.level_pct + 5 / 24 + 60 + 5 + 5 + 5 * 17 / 24)


def test_next_collection_skips_today_once_emptied():
    thursday_noon = datetime(2026, 11, 26, 12, 0, tzinfo=BISHKEK)
    history = linear(thursday_noon - 20 * H, 60, 10, 18) + [
        FillSample(thursday_noon - H, 3),
        FillSample(thursday_noon, 3),
    ]
    assert forecast(SPEC, history, thursday_noon, tz=BISHKEK).next_collection == date(2026, 12, 3)
    assert forecast(SPEC, history[:-3], thursday_noon, tz=BISHKEK).next_collection == date(
        2026, 11, 26
    )


def test_no_schedule_no_risk():
    f = forecast(
        SPEC.model_copy(update={"collection_weekdays": []}),
        linear(T0, 90, 30, 10),
        T0 + 10 * H,
        tz=BISHKEK,
    )
    assert (f.next_collection, f.projected_pct, f.overflow_risk) == (None, None, False)


def test_empty_history():
    f = forecast(SPEC, [], T0, tz=BISHKEK)
    assert (f.level_pct, f.rate_pct_per_day, f.full_at, f.never, f.reliability) == (
        None,
        None,
        None,
        False,
        "low",
    )


# -- reliability ---------------------------------------------------------------------------


def test_reliability_high_with_many_points_a_good_fit_and_agreeing_history():
    history = previous_cycle(T0) + linear(T0, 5, 10, 48)
    assert forecast(SPEC, history, T0 + 48 * H, tz=BISHKEK).reliability == "high"


def test_reliability_medium_with_few_points():
    assert forecast(SPEC, linear(T0, 5, 10, 10), T0 + 10 * H, tz=BISHKEK).reliability == "medium"


def test_reliability_medium_when_the_weekday_history_disagrees():
    fast = linear(T0 - timedelta(days=7), 5, 30, 48)  # the same weekdays last week: 30 %/day
    history = fast + linear(T0, 5, 10, 48)
    f = forecast(SPEC, history, T0 + 48 * H, tz=BISHKEK)
    assert f.r2 == pytest.approx(1)
    assert f.reliability == "medium"


def test_reliability_low_with_three_points_or_a_poor_fit():
    assert forecast(SPEC, linear(T0, 5, 10, 2), T0 + 2 * H, tz=BISHKEK).reliability == "low"
    zigzag = [FillSample(T0 + h * H, 30 + (15 if h % 2 else 0)) for h in range(30)]
    fit = fit_rate(zigzag)
    assert fit is not None
    assert fit.r2 < 0.5
    assert reliability(fit, None) == "low"


# -- never raises ----------------------------------------------------------------------------

# hypothesis takes naive bounds and gives UTC times between them
ANY_TIME = st.datetimes(datetime.min, datetime.max, timezones=st.just(UTC))  # noqa: DTZ901
LEVELS = st.floats(allow_nan=False) | st.sampled_from([0.0, 33.3, 43.7, 79.99, 100.0, 1e308])
GAPS = st.integers(1, 10 * 365 * 86_400_000_000).map(lambda us: timedelta(microseconds=us)) | (
    st.integers(1, 1000).map(lambda us: timedelta(microseconds=us))
)


@st.composite
def series(draw: st.DrawFn) -> tuple[list[FillSample], datetime]:
    """A history and a now: anywhere in the calendar, or clustered with tiny and huge gaps."""
    if draw(st.booleans()):
        points = draw(st.lists(st.tuples(ANY_TIME, LEVELS), max_size=30))
        return [FillSample(t, p) for t, p in points], draw(ANY_TIME)
    t = draw(st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)))  # noqa: DTZ001
    flat = draw(st.none() | LEVELS)  # identical levels at uneven times (issue 9, item 4)
    points = []
    for gap, pct in draw(st.lists(st.tuples(GAPS, LEVELS), min_size=1, max_size=30)):
        t = t + gap if t + gap < datetime(9000, 1, 1, tzinfo=UTC) else t
        points.append(FillSample(t, pct if flat is None else flat))
    return points, t + draw(st.sampled_from([timedelta(0), H, timedelta(days=3)]))


END = datetime.max.replace(tzinfo=UTC)
START = datetime.min.replace(tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@example(([FillSample(END - timedelta(hours=h), 10.0 + h) for h in (5, 3, 0)], END), (3,), None)
@example(([FillSample(START, 10.0), FillSample(START + H, 20.0)], START + H), (3,), START)
@given(
    history=series(),
    weekdays=st.sampled_from([(), (3,), (0, 1, 2, 3, 4, 5, 6)]),
    emptied_at=st.none() | ANY_TIME,
)
def test_forecast_never_raises_and_gives_finite_numbers(history, weekdays, emptied_at):
    points, now = history
    spec = SPEC.model_copy(update={"collection_weekdays": weekdays})
    f = forecast(spec, points, now, tz=BISHKEK, emptied_at=emptied_at)
    for value in (f.level_pct, f.rate_pct_per_day, f.r2, f.projected_pct):
        assert value is None or math.isfinite(value)
    assert not (f.never and f.full_at is not None)
    if f.full_at is not None:
        assert f.level_ts is not None
        assert f.full_at >= f.level_ts


@pytest.mark.parametrize("gaps_s", [(11328, 7566), (1, 86400 * 300), (1e-6, 2e-6)])
@pytest.mark.parametrize("pct", [43.7, 33.3, 0.1])
def test_identical_levels_at_uneven_times_never_fill(gaps_s, pct):
    t1 = T0 + timedelta(seconds=gaps_s[0])
    history = [(T0, pct), (t1, pct), (t1 + timedelta(seconds=gaps_s[1]), pct)]
    f = forecast(SPEC, history, history[-1][0], tz=BISHKEK)
    assert f.rate_pct_per_day == 0
    assert f.never
    assert f.full_at is None
