"""The kept rate model (landfill/fill/state.py) gives the forecast a recomputation gives.

Histories are hourly levels with noise, fill cycles ended by emptying drops, gaps and a
tracker emptying whose drop the filtered level does not show. The recomputation is
`forecast.forecast` over the whole history; the kept side sees one level at a time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landfill.fill.forecast import FillSample, forecast
from landfill.fill.spec import ContainerSpec
from landfill.fill.state import FillState, RateModel, forecast_at, model_forecast, to_ms

BISHKEK = ZoneInfo("Asia/Bishkek")
T0 = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)  # Monday 09:00 in Bishkek
SPEC = ContainerSpec(
    container="c01", empty_mm=1450, full_mm=450, collection_weekdays=[1, 4], full_pct=80
)


def kept(history: list[FillSample], emptied: datetime | None = None) -> FillState:
    """Feed the model one level at a time, as the keeper does, and build the state."""
    model = RateModel()
    for ts, pct in history:
        model.add(to_ms(ts), pct, BISHKEK)
        if emptied is not None and model.emptied_ms is None and ts > emptied:
            model.emptied(to_ms(emptied), BISHKEK)  # the tracker says so with the confirming level
    # a restart in the middle changes nothing
    model = RateModel.restore(json.loads(json.dumps(model.snapshot())))
    fit, rel = model_forecast(model)
    level = model.level
    assert level is not None
    return FillState(
        last_ms=level[0],
        level_pct=level[1],
        level_ms=level[0],
        rate_pct_per_day=fit.rate_pct_per_day if fit else None,
        r2=fit.r2 if fit else None,
        points=model.n,
        reliability=rel,
        rates=model.weekday_rates(),
        emptied_ms=model.emptied_ms,
        segment_ms=model.segment_ms,
    )


def same(history: list[FillSample], now: datetime, emptied: datetime | None = None) -> None:
    want = forecast(SPEC, history, now, tz=BISHKEK, emptied_at=emptied)
    got = forecast_at(kept(history, emptied), SPEC, now, tz=BISHKEK)
    assert got is not None
    assert (got.level_pct, got.level_ts, got.points) == (want.level_pct, want.level_ts, want.points)
    assert (got.reliability, got.never, got.next_collection, got.overflow_risk) == (
        want.reliability,
        want.never,
        want.next_collection,
        want.overflow_risk,
    )
    for a, b in ((got.rate_pct_per_day, want.rate_pct_per_day), (got.r2, want.r2)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a == pytest.approx(b, rel=1e-6, abs=1e-6)
    assert (got.full_at is None) == (want.full_at is None)
    if got.full_at is not None and want.full_at is not None:
        assert abs((got.full_at - want.full_at).total_seconds()) < 60
    if want.projected_pct is not None:
        assert got.projected_pct == pytest.approx(want.projected_pct, rel=1e-6, abs=1e-6)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[FillSample], int]:
    """Up to 13 days of hourly levels: cycles at their own rates, noise, gaps, emptyings."""
    hours = draw(st.integers(3, 13 * 24))
    out: list[FillSample] = []
    level = draw(st.floats(0, 60))
    rate = draw(st.floats(-2, 30))
    for h in range(hours):
        if draw(st.integers(0, 40)) == 0:
            level, rate = draw(st.floats(0, 8)), draw(st.floats(0, 30))  # emptied
        level = min(100.0, max(0.0, level + rate / 24 + draw(st.floats(-1.5, 1.5))))
        if draw(st.integers(0, 9)):  # one hour in ten brings no level
            out.append(FillSample(T0 + timedelta(hours=h, minutes=h % 7), round(level, 1)))
    return out, hours


@settings(max_examples=150, deadline=None)
@given(histories(), st.integers(0, 30))
def test_the_kept_model_forecasts_as_the_history_does(drawn, later_hours) -> None:
    history, hours = drawn
    if not history:
        return
    same(history, T0 + timedelta(hours=hours + later_hours))


def test_a_straight_fill_and_an_emptying_the_level_alone_does_not_show() -> None:
    up = [FillSample(T0 + timedelta(hours=h), 30 + 0.5 * h) for h in range(40)]  # to 49.5 %
    # the tracker saw 30 % then 20 % confirm an emptying: a median that only falls to 40 %
    candidate = FillSample(T0 + timedelta(hours=40), 49.5)
    after = [FillSample(T0 + timedelta(hours=41 + h), 40 + 0.4 * h) for h in range(30)]
    history = [*up, candidate, *after]
    same(history, T0 + timedelta(hours=75), emptied=candidate.ts)
    same(history, T0 + timedelta(hours=75))


def test_weekday_history_is_the_last_fourteen_local_days() -> None:
    model = RateModel()
    for h in range(30 * 24):
        model.add(to_ms(T0 + timedelta(hours=h)), (h % 100) * 0.5, BISHKEK)
    assert len(model.days) == 15  # today and the fourteen days before
    assert model.weekday_rates() == pytest.approx(dict.fromkeys(range(7), 12.0))
