"""Dead letters into InfluxDB at a bounded cost: a sample of the letters and a count of all.

Every refused message reaches ingest as a `DeadLetter` on the `deadletter` topic: ingest's
own (an invalid payload, a time out of the window, a point InfluxDB rejected) and the edge's
(an unknown device or model, an envelope that is not one). Per minute and key (site, source,
reason, kind; `landfill/dead_letters.py` keeps each tag bounded):

    letter --> the first `per_minute` of the key this minute: a `dead_letter` point with a
          |    200-byte escaped excerpt, and the minute's `dead_letter_count` point
          +--> the rest: only counted (`suppressed`); the count point is rewritten on the tick

So a flood of garbage costs a few points a minute, whatever its rate. At most `max_keys` keys
a minute (random device names cannot explode the series); the rest count under source
`other`. Count points carry the worker's name, so workers of a shared subscription do not
overwrite each other; the board sums them.

Faults it survives: InfluxDB down (the service keeps the batch and retries; nothing is
acknowledged, so no valid point is lost and the letters wait with it); a dead letter that is
itself refused (the service drops it, never dead-letters it again, so no loop). Bounded
losses, both of counts only: letters suppressed since the last tick when the worker is killed
(a tick is a second), and a worker restarted within a minute rewrites that minute's count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ingest.pipeline import Output
from ingest.points import DeadLetterTags, dead_letter_count_line, dead_letter_line
from landfill.contract import DeadLetter, Message, parse_topic, utcnow
from landfill.dead_letters import (
    checked_source,
    reason_code,
    refused_kind,
    source_of_topic,
)
from landfill.influx import epoch_ms

__all__ = ["OTHER", "DeadLetterStore", "tags_of"]

OTHER = "other"  # the source of keys beyond `max_keys` in a minute
MINUTE_MS = 60_000


def tags_of(letter: DeadLetter) -> DeadLetterTags:
    """The bounded tags of a letter: its source (the letter's, else its topic's), reason, kind."""
    source = checked_source(letter.source) if letter.source else source_of_topic(letter.topic)
    kind = refused_kind(letter.refused_kind or parse_topic(letter.topic))
    return DeadLetterTags(source, reason_code(letter.reason), kind)


@dataclass
class _Count:
    letters: int = 0
    suppressed: int = 0
    dirty: bool = False  # counted since its point was last written
    last_ms: int = -1  # time of the last sampled letter: two never share a point


Key = tuple[str, DeadLetterTags]  # site and tags


class DeadLetterStore:
    """The `dead_letter` processor: sampled letters and per-minute counts (see the module)."""

    def __init__(
        self,
        worker: str,
        clock: Callable[[], datetime] = utcnow,
        per_minute: int = 5,
        max_keys: int = 200,
    ) -> None:
        self.worker = worker
        self.clock = clock
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._minute_ms = -1
        self._counts: dict[Key, _Count] = {}

    def process(self, msg: Message) -> Output:
        """A letter: its point while the key is under the limit, else only counted."""
        if not isinstance(msg, DeadLetter):
            raise ValueError(f"not a dead letter: {type(msg).__name__}")
        lines = self._roll(self.clock())
        key = (msg.site, tags_of(msg))
        if key not in self._counts and len(self._counts) >= self.max_keys:
            key = (msg.site, key[1]._replace(source=OTHER))
        count = self._counts.setdefault(key, _Count())
        count.letters += 1
        if count.letters > self.per_minute:
            count.suppressed += 1
            count.dirty = True
            return Output(lines)
        count.last_ms = max(epoch_ms(msg.ts), count.last_ms + 1)
        sample = (dead_letter_line(msg, key[1], count.last_ms), self._count_line(key, count))
        return Output(lines + [x for x in sample if x is not None])

    def tick(self, now: datetime) -> Output:
        """The counts that grew since their last point, and the last of a minute gone by."""
        lines = self._roll(now)
        lines += self._dirty_lines()
        return Output(lines)

    def _roll(self, now: datetime) -> list[str]:
        minute = epoch_ms(now) // MINUTE_MS * MINUTE_MS
        if minute == self._minute_ms:
            return []
        lines = self._dirty_lines()
        self._counts.clear()
        self._minute_ms = minute
        return lines

    def _dirty_lines(self) -> list[str]:
        lines = [self._count_line(k, c) for k, c in self._counts.items() if c.dirty]
        return [x for x in lines if x is not None]

    def _count_line(self, key: Key, count: _Count) -> str | None:
        count.dirty = False
        site, tags = key
        return dead_letter_count_line(
            site, tags, self.worker, self._minute_ms, count.letters, count.suppressed
        )
