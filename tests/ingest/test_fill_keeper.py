"""The kept state (`fill_state`) the fill processor writes: on change, in order, after restarts."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import timedelta

from ingest.fill.processor import FillProcessor
from landfill.fill.state import FillState, to_ms
from tests.ingest.test_fill_pipeline import BISHKEK, SITE, T0, feed, reading, registry, run


def states(lines: list[str]) -> list[tuple[int, FillState]]:
    """(time, state) of every `fill_state` line."""
    out = []
    for line in lines:
        if line.startswith("fill_state,"):
            doc = re.search(r'state="(.*)" (\d+)$', line)
            assert doc is not None, line
            text = doc[1].replace('\\"', '"').replace("\\\\", "\\")
            out.append((int(doc[2]), FillState.model_validate_json(text)))
    return out


def test_each_new_reading_writes_the_state_a_replay_writes_none(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry())
    out = feed(proc, [40, 41, 42, 85, 86, 88])
    kept = [states(lines) for lines, _ in out]
    assert all(len(k) == 1 for k in kept)
    ts, last = kept[-1][0]
    assert ts == to_ms(T0 + timedelta(minutes=50)) == last.last_ms == last.level_ms
    assert last.level_pct == 86.0  # the tracker's filtered level (median of three)
    assert last.points == 6
    assert last.rate_pct_per_day is not None
    assert [a.kind for a in last.alerts] == ["full"]
    assert last.alerts[0].since_ms == to_ms(T0 + timedelta(minutes=40))
    assert run(proc, reading(50, 88)) == ([], []), "a replay changes nothing"


def test_timers_write_the_state_and_a_late_reading_never_goes_back_in_time(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry())
    feed(proc, [30])
    proc.tick(T0)  # the first tick after a start writes the states again
    out = proc.tick(T0 + timedelta(seconds=1600))  # 2.5 x 600 s of silence: offline
    [(ts, offline)] = states(out.lines)
    assert [a.kind for a in offline.alerts] == ["offline"]
    assert ts == to_ms(T0 + timedelta(seconds=1500))  # the alert's own time
    # a queued reading from before the alert: it clears the alert, and its state point comes
    # after the one that said offline, so the newest point is the current state
    lines, _ = run(proc, reading(24, 31))
    [(later, cleared)] = states(lines)
    assert cleared.alerts == ()
    assert later == ts + 1
    assert cleared.last_ms == to_ms(T0 + timedelta(minutes=24))


def test_a_restart_keeps_the_model_and_writes_every_state_again(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry())
    before = feed(proc, [20, 22, 24, 26])
    [last_line] = [x for x in before[-1][0] if x.startswith("fill_state,")]
    proc.close()  # or kill -9: the kept state was saved with the tracker's

    again = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    first = again.tick(T0)
    assert [x for x in first.lines if x.startswith("fill_state,")] == [last_line], "same point"
    assert not again.tick(T0).lines
    [(_, state)] = states(feed(again, [28], start=40)[0][0])
    # the same state as a processor that never stopped
    never = FillProcessor(":memory:", tz=BISHKEK)
    never.use_registry(registry())
    feed(never, [20, 22, 24, 26])
    [(_, want)] = states(feed(never, [28], start=40)[0][0])
    assert state == want
    assert state.points == 5
    assert state.rate_pct_per_day is not None


def test_a_damaged_kept_row_is_dropped_alone(tmp_path) -> None:
    path = tmp_path / "state.sqlite"
    proc = FillProcessor(path, tz=BISHKEK)
    proc.use_registry(registry())
    feed(proc, [40, 41])
    proc.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE kept SET state = ?", (json.dumps({"model": {"n": "x"}}),))
    again = FillProcessor(path, tz=BISHKEK)
    assert again.open_alerts(SITE, "bin-01") == frozenset()
    assert again.containers(SITE) == ["bin-01"], "the tracker state survives"
    [(_, state)] = states(feed(again, [42], start=30)[0][0])
    assert state.points == 1, "the model starts again"
