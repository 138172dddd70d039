"""The simulator: 33 containers, real device bytes in real envelopes, faults that happen."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from edge.sensors.envelopes import parse
from edge.sensors.models import find_model
from edge.sensors.normalise import decode_envelope
from edge.sensors.simulator import SETTLEMENTS, SensorSimulator, fleet, registry

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday


def two_weeks(seed: int = 7):
    sim = SensorSimulator(fleet(), START, seed=seed)
    return list(sim.advance(START + timedelta(days=14)))


def test_fleet_is_the_customers_33_containers_in_19_settlements() -> None:
    containers = fleet()
    assert len(containers) == 33
    assert len({c.spec.container for c in containers}) == 33
    assert len({c.eui for c in containers}) == 33
    assert len(SETTLEMENTS) == 19
    assert {"Jany-Aryk", "Noshken", "Shamaldy-Sai", "Kyzyl-Tuu", "Dostuk", "Bürgöndü"} <= {
        c.spec.settlement for c in containers
    }
    # the settlements with a name from a source (docs/settlements.md); the rest are placeholders
    named = {name for name, *_ in SETTLEMENTS if not name.startswith("Settlement ")}
    assert named == {"Bürgöndü", "Dostuk", "Jany-Aryk", "Noshken", "Shamaldy-Sai", "Kyzyl-Tuu",
                     "Tendik", "Kuduk-Sai", "Kyzyl-Kyia"}  # fmt: skip
    assert named <= {c.spec.settlement for c in containers}
    assert Counter(c.model for c in containers) == {"EM310-UDL": 22, "LDDS75": 11}
    assert Counter(c.network for c in containers) == {"chirpstack": 17, "tts": 16}
    for c in containers:
        assert 40.9 < c.spec.lat < 41.3
        assert 72.4 < c.spec.lon < 72.8
        assert len(c.spec.collection_weekdays) == 1
    assert fleet() == containers, "the layout must not depend on anything"
    assert len(fleet(5)) == 5
    with pytest.raises(ValueError):
        fleet(34)


def test_registry_describes_every_simulated_device() -> None:
    containers = fleet()
    reg = registry("dostuk", containers, START)
    assert [(s.container, s.device, s.model) for s in reg.containers] == [
        (c.spec.container, c.eui, c.model) for c in containers
    ]


def test_every_envelope_decodes_back_to_the_simulated_values() -> None:
    ups = two_weeks()
    assert len(ups) > 33 * 24 * 13  # hourly, minus the silent spells
    assert [u.ts for u in ups] == sorted(u.ts for u in ups)
    sources = Counter()
    for up in ups:
        env = parse(up.topic, up.body)
        sources[env.source] += 1
        assert env.time == up.ts
        assert (env.fcnt, env.fport, env.payload) == (up.fcnt, up.fport, up.payload)
        model = find_model(hint=env.model_hint)
        assert model is not None
        decoded = decode_envelope(env, model)
        assert decoded is not None
        v = up.values
        if v.distance_mm in (0, 20):
            assert decoded.distance_mm is None  # a sentinel, never 0 % or 100 %
        else:
            assert decoded.distance_mm == v.distance_mm
        assert decoded.tilt == (v.tilt if model.name == "EM310-UDL" else None)
        # a DS18B20 reading exactly 0.0 is the decoder's no-probe sentinel (models.py)
        assert decoded.temp_c == (None if v.temp_c == 0 else v.temp_c)
        assert decoded.battery_pct == v.battery_pct
        assert decoded.battery_v == v.battery_v
    assert set(sources) == {"chirpstack", "tts"}


def test_two_weeks_contain_every_kind_of_trouble_and_weekly_collections() -> None:
    ups = two_weeks()
    assert any(u.values.tilt for u in ups)
    assert any(u.values.temp_c is not None and u.values.temp_c >= 60 for u in ups)
    assert any(u.values.distance_mm in (0, 20) for u in ups)
    gaps = []
    for name in {u.container for u in ups}:
        times = [u.ts for u in ups if u.container == name]
        gaps += [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps) > 3 * 3600, "some sensor goes silent for hours"
    full = {u.container for u in ups if u.fill_pct >= 80}
    assert full, "containers fill up"
    for name in full:
        levels = [u.fill_pct for u in ups if u.container == name]
        drops = sum(1 for a, b in zip(levels, levels[1:], strict=False) if a - b > 30)
        assert drops >= 1, f"{name} is emptied"


def test_seed_makes_runs_repeatable() -> None:
    a = [u.body for u in two_weeks(3)[:200]]
    assert a == [u.body for u in two_weeks(3)[:200]]
    assert a != [u.body for u in two_weeks(4)[:200]]


def test_the_apis_demo_containers_are_the_simulated_fleet() -> None:
    """`landfill api` with seed_demo publishes a registry the simulator's devices match."""
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "api" / "data" / "containers_demo.csv"
    rows = {r["code"]: r for r in csv.DictReader(path.open(encoding="utf-8"))}
    assert sorted(rows) == [c.spec.container for c in fleet()]
    for c in fleet():
        r, s = rows[c.spec.container], c.spec
        days = [int(d) for d in r["collection_weekdays"].replace(";", " ").split()]
        assert (r["settlement"], r["zone"], r["device"], r["model"]) == (
            s.settlement,
            s.zone,
            s.device,
            s.model,
        )
        assert (float(r["lat"]), float(r["lon"]), days) == (s.lat, s.lon, s.collection_weekdays)
        assert (int(r["empty_mm"]), int(r["full_mm"])) == (s.empty_mm, s.full_mm)
        assert int(r["expected_interval_s"]) == s.expected_interval_s


def test_live_mode_replays_up_to_now_then_follows_the_wall_clock() -> None:
    from edge.sensors.simulator import run

    start = datetime(2026, 11, 20, tzinfo=UTC)
    wall = [start + timedelta(days=2)]
    sim = SensorSimulator(fleet()[:3], start, seed=1)
    sent: list = []
    ticks = iter(range(3))

    def stop() -> bool:
        return next(ticks, None) is None

    def sleep(_s: float) -> None:
        wall[0] += timedelta(hours=2)  # the wall clock moves on; speed plays no part

    run(sim, sent.append, speed=1.0, stop=stop, sleep=sleep, wall=lambda: wall[0])
    assert sent, "the two days before now are replayed at once"
    assert max(u.ts for u in sent) <= wall[0]
    assert max(u.ts for u in sent) > start + timedelta(days=2)  # and it went on in real time
