"""Measurement definitions: queries and points are checked against them."""

from __future__ import annotations

import pytest

from landfill.measurements import FILL, INGEST_STATS, MEASUREMENTS, Measurement


@pytest.mark.parametrize(
    "q",
    [
        "SELECT filtered_pct, quality FROM fill WHERE site = $site AND zone = 'a b' "
        "AND time > now() - 14d GROUP BY container ORDER BY time DESC LIMIT 1",
        # boolean literals and fill()'s arguments are InfluxQL, not names
        "SELECT count(id) FROM fill WHERE overfull = true OR tilt = false "
        "GROUP BY time(1h), container fill(none) tz($tz)",
    ],
)
def test_queries_with_known_names_pass_unchanged(q):
    assert FILL.query(q) == q


@pytest.mark.parametrize(
    "q",
    [
        "SELECT fill_percent FROM fill WHERE site = $site",  # a renamed field
        "SELECT * FROM fill WHERE scale = $scale",  # another measurement's tag
        "SELECT * FROM fill GROUP BY worker",
        "SELECT * FROM fills WHERE site = $site",  # another measurement
        "SELECT * FROM scale_capture",
    ],
)
def test_queries_with_unknown_names_fail(q):
    with pytest.raises(ValueError):
        FILL.query(q)


def test_points_must_use_declared_keys_and_types():
    FILL.check({"site": "d", "container": "c"}, {"fill_pct": 50.0, "tilt": None, "id": "x"})
    INGEST_STATS.check({"worker": "w"}, {"rejected_invalid_json": 2, "received": 5})
    for tags, fields in [
        ({"scale": "s1"}, {}),
        ({}, {"fill_percent": 50.0}),
        ({}, {"fill_pct": 50}),  # int where InfluxDB holds a float: a type conflict
        ({}, {"tilt": 1}),
    ]:
        with pytest.raises(ValueError):
            FILL.check(tags, fields)


def test_definitions_refuse_names_that_need_escaping_or_repeat():
    names = [m.name for m in MEASUREMENTS]
    assert len(set(names)) == len(names)
    with pytest.raises(ValueError):
        Measurement("bad name", tags=(), fields={"f": int})
    with pytest.raises(ValueError):
        Measurement("m", tags=("site",), fields={"site": str})
