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


def tick(proc: FillProcessor, minutes: float) -> list[tuple[int, FillState]]:
    return states(proc.tick(T0 + timedelta(minutes=minutes)).lines)


def test_one_state_point_a_tick_for_what_changed(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry())
    assert tick(proc, 0) == []  # the first tick after a start: nothing kept yet
    out = feed(proc, [40, 41, 42, 85, 86, 88])
    assert [states(lines) for lines, _ in out] == [[]] * 6, "readings write their fill only"
    [(ts, last)] = tick(proc, 50)  # six readings, one point
    assert ts == to_ms(T0 + timedelta(minutes=50)) == last.last_ms == last.level_ms
    assert last.level_pct == 86.0  # the tracker's filtered level (median of three)
    assert last.points == 6
    assert last.rate_pct_per_day is not None
    assert [a.kind for a in last.alerts] == ["full"]
    assert last.alerts[0].since_ms == to_ms(T0 + timedelta(minutes=40))
    assert tick(proc, 51) == [], "nothing changed"
    assert run(proc, reading(50, 88)) == ([], []), "a replay changes nothing"
    assert tick(proc, 52) == []


def test_timers_write_the_state_and_a_late_reading_never_goes_back_in_time(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry())
    feed(proc, [30])
    [(first, _)] = tick(proc, 0)
    assert first == to_ms(T0)
    [(ts, offline)] = tick(proc, 1600 / 60)  # 2.5 x 600 s of silence: offline
    assert [a.kind for a in offline.alerts] == ["offline"]
    assert ts == to_ms(T0 + timedelta(seconds=1500))  # the alert's own time
    # a queued reading from before the alert: it clears the alert, and its state point comes
    # after the one that said offline, so the newest point is the current state
    run(proc, reading(24, 31))
    [(later, cleared)] = tick(proc, 27)
    assert cleared.alerts == ()
    assert later == ts + 1
    assert cleared.last_ms == to_ms(T0 + timedelta(minutes=24))


def test_a_restart_keeps_the_model_and_writes_every_state_again(tmp_path) -> None:
    def first_half(proc: FillProcessor) -> list[str]:
        proc.use_registry(registry())
        feed(proc, [20, 22, 24, 26])
        return proc.tick(T0 + timedelta(minutes=30)).lines  # writes and saves what changed

    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    [last_line] = first_half(proc)
    # then a crash (no close): nothing is lost
    again = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    assert again.tick(T0).lines == [last_line], "the same point again"
    assert again.tick(T0).lines == []
    feed(again, [28], start=40)
    [(_, state)] = tick(again, 40)
    # the same state as a processor that never stopped
    never = FillProcessor(":memory:", tz=BISHKEK)
    first_half(never)
    feed(never, [28], start=40)
    [(_, want)] = tick(never, 40)
    assert state == want
    assert state.points == 5


def test_a_crash_between_ticks_loses_levels_from_the_model_never_an_open_alert(tmp_path) -> None:
    proc = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    proc.use_registry(registry())
    feed(proc, [60, 62])
    tick(proc, 10)  # the model is saved with two levels
    feed(proc, [85, 86, 88], start=20)
    # a crash before the next tick: the tracker and its messages were saved, the model was not
    again = FillProcessor(tmp_path / "state.sqlite", tz=BISHKEK)
    assert again.open_alerts(SITE, "bin-01") == {"full"}
    feed(again, [90], start=60)
    [_, (_, state)] = tick(again, 60)  # the saved state again, then the new one
    assert [a.kind for a in state.alerts] == ["full"], "open alerts come from the last messages"
    assert state.points == 3, "the two saved levels and this one"


def test_a_damaged_kept_row_is_dropped_alone(tmp_path) -> None:
    path = tmp_path / "state.sqlite"
    proc = FillProcessor(path, tz=BISHKEK)
    proc.use_registry(registry())
    feed(proc, [40, 41])
    proc.close()  # saves what changed
    with sqlite3.connect(path) as db:
        db.execute("UPDATE kept SET state = ?", (json.dumps({"model": {"n": "x"}}),))
    again = FillProcessor(path, tz=BISHKEK)
    assert again.containers(SITE) == ["bin-01"], "the tracker state survives"
    feed(again, [42], start=30)
    [(_, state)] = tick(again, 30)
    assert state.points == 1, "the model starts again"


def test_a_failed_save_of_the_kept_states_loses_no_alert_and_is_tried_again(tmp_path) -> None:
    path = tmp_path / "state.sqlite"
    proc = FillProcessor(path, tz=BISHKEK)
    proc.use_registry(registry())
    feed(proc, [30])
    tick(proc, 0)
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE kept")  # every save of a kept state fails from now on
    out = proc.tick(T0 + timedelta(seconds=1600))
    assert [(a.alert, a.transition) for a in out.publish] == [("offline", "raised")]
    [(_, offline)] = states(out.lines)
    assert [a.kind for a in offline.alerts] == ["offline"]
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE kept (site TEXT, container TEXT, state TEXT NOT NULL)")
    tick(proc, 30)  # saves what the failed tick could not
    with sqlite3.connect(path) as db:
        [(saved,)] = db.execute("SELECT state FROM kept").fetchall()
    assert json.loads(saved)["last_ms"] == to_ms(T0)
