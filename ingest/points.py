"""Contract messages to line protocol, with the measurements of `landfill/measurements.py`.

Tags are few and bounded (site, scale, container, zone, client, waste_type, vehicle, kind);
numbers are fields; the point's time is the observation time from the message at millisecond
precision, so a replayed message overwrites itself. Every point carries the message `id` as a
field, so a store can be counted and reconciled by id. A billed weight can only be replaced by
its own replay (or, for a ticket, by its voiding): a capture's time is its millisecond plus its
weight in nanoseconds (`capture_ns`; its id is the hash of site, scale, millisecond and weight,
checked by the contract), a weighing carries its ticket number as the tag `ticket`.

| measurement       | tags                                        | from                  |
|-------------------|---------------------------------------------|-----------------------|
| `scale_capture`   | site, scale (time: ms + weight_kg ns)       | Capture               |
| `scale_event`     | site, scale, kind (event)                   | ScaleEvent            |
| `weighing`        | site, scale, client, vehicle, waste_type, zone, ticket | Ticket     |
| `inflow`          | site, client, vehicle, waste_type, zone     | Ticket (for sums)     |
| `fill`            | site, container, zone                       | ContainerReading (*)  |
| `fill_state`      | site, container                             | the kept state (*)    |
| `container_alert` | site, container, kind (alert)               | ContainerAlert        |
| `container_event` | site, container, kind (event)               | ContainerEvent        |
| `ingest_stats`    | site, worker                                | ingest.stats          |
| `dead_letter`     | site, source, reason, kind                  | DeadLetter (sampled)  |
| `dead_letter_count` | site, source, reason, kind, worker        | DeadLetters per minute |

(*) `fill` needs the container's geometry, so the fill processor (ingest/fill/processor.py)
calls `fill_line` with the tracker's level, and `fill_state_line` with the container's kept
state (ingest/fill/keeper.py); `to_lines` stores no reading by itself.
"""

from __future__ import annotations

import re
import zlib
from typing import NamedTuple

from ingest.fill.tracker import FillPoint
from ingest.lines import escape_field_string, line
from landfill.contract import (
    Capture,
    ContainerAlert,
    ContainerEvent,
    ContainerReading,
    DeadLetter,
    Message,
    ScaleEvent,
    Ticket,
)
from landfill.dead_letters import excerpt
from landfill.influx import epoch_ms
from landfill.measurements import (
    CONTAINER_ALERT,
    CONTAINER_EVENT,
    DEAD_LETTER,
    DEAD_LETTER_COUNT,
    FILL,
    FILL_STATE,
    INFLOW,
    SCALE_CAPTURE,
    SCALE_EVENT,
    WEIGHING,
)

DETAIL_BYTES = 300  # a dead letter's reason text and topic, as kept in InfluxDB


class DeadLetterTags(NamedTuple):
    """The bounded tags of a dead letter: who sent it, why it was refused, what it was."""

    source: str
    reason: str
    kind: str


__all__ = [
    "DeadLetterTags",
    "alert_line",
    "capture_line",
    "capture_ns",
    "container_event_line",
    "dead_letter_count_line",
    "dead_letter_line",
    "fill_line",
    "fill_state_line",
    "inflow_line",
    "inflow_ms",
    "scale_event_line",
    "to_lines",
    "weighing_line",
]


def capture_ns(msg: Capture) -> int:
    """The `scale_capture` point's time in ns: the capture's millisecond plus its weight in ns.

    The weight (at most 200,000 kg) stays under a millisecond, so the point's time is one
    (millisecond, weight), which is one capture id (`contract.capture_id`, checked at decode):
    two captures of a scale in one millisecond with different weights are two points, a
    replay meets itself, and a reader with epoch=ms sees the capture's millisecond.
    """
    return epoch_ms(msg.ts) * 1_000_000 + msg.weight_kg


def capture_line(msg: Capture) -> str:
    """`scale_capture`: one point per stable weight captured by the edge, at ns precision.

    One f-string, as `line` would build it (tests/ingest/test_points.py checks that for any
    capture): it runs for every capture. Tags, keys and `id` are contract names (letters,
    digits, `_ . : -`) and `raw` is hex, so only `protocol` can hold a character to escape.
    The time is `capture_ns`: no other capture id can meet it (docs/architecture.md);
    `InfluxStore.write_lines` sends these lines at precision=ns.
    """
    protocol = escape_field_string(msg.protocol)
    return (
        f"{SCALE_CAPTURE.name},scale={msg.scale},site={msg.site} "
        f'division_kg={msg.division_kg}i,id="{msg.id}",protocol="{protocol}",'
        f'raw="{" ".join(msg.raw)}",stable_ms={msg.stable_ms}i,'
        f'stable_source="{msg.stable_source}",weight_kg={msg.weight_kg}i {capture_ns(msg)}'
    )


def scale_event_line(msg: ScaleEvent) -> str | None:
    """`scale_event`: no data, overload, not back to zero, load left before capture."""
    return line(
        SCALE_EVENT.name,
        {"site": msg.site, "scale": msg.scale, "kind": msg.event},
        {"detail": msg.detail, "id": msg.id, "weight_kg": msg.weight_kg},
        epoch_ms(msg.ts),
    )


def weighing_line(msg: Ticket) -> str | None:
    """`weighing`: one point per completed ticket; a voided ticket keeps its point, voided."""
    return line(
        WEIGHING.name,
        {
            "site": msg.site,
            "scale": msg.scale,
            "client": msg.client,
            "vehicle": msg.vehicle,
            "waste_type": msg.waste_type,
            "zone": msg.zone,
            # identity: the ticket's number. Its voided message (another id, same number and
            # time) replaces its point; another ticket never can (docs/architecture.md)
            "ticket": msg.number,
        },
        {
            "gross_kg": msg.gross_kg,
            "id": msg.id,
            "manual": msg.manual,
            "net_kg": msg.net_kg,
            "number": msg.number,
            "tare_kg": msg.tare_kg,
            "voided": msg.status == "voided",
        },
        epoch_ms(msg.ts),
    )


_SEQUENCE = re.compile(r"(\d+)$")


def inflow_ms(ts_ms: int, number: str) -> int:
    """The `inflow` point's time: the second of ``ts_ms`` plus the ticket's sequence mod 1000.

    The sequence is the number's trailing digits (2026-000123: 123), or a CRC of the number
    when it has none. Distinct tickets of one vehicle meet only when a thousand tickets are
    completed within one second; a ticket's void has its number and time, so it meets itself.
    """
    digits = _SEQUENCE.search(number)
    sequence = int(digits[1]) if digits else zlib.crc32(number.encode())
    return ts_ms - ts_ms % 1000 + sequence % 1000


def inflow_line(msg: Ticket) -> str | None:
    """`inflow`: the ticket once more for sums; a void counts 0 kg and 0 tickets."""
    counted = msg.status == "completed"
    return line(
        INFLOW.name,
        {
            "site": msg.site,
            "client": msg.client,
            "vehicle": msg.vehicle,
            "waste_type": msg.waste_type,
            "zone": msg.zone,
        },
        {
            "counted_kg": msg.net_kg if counted else 0,
            "id": msg.id,
            "number": msg.number,
            "tickets": 1 if counted else 0,
            "voided": not counted,
        },
        inflow_ms(epoch_ms(msg.ts), msg.number),
    )


def alert_line(msg: ContainerAlert) -> str | None:
    """`container_alert`: each change of an alert's state on a container."""
    return line(
        CONTAINER_ALERT.name,
        {"site": msg.site, "container": msg.container, "kind": msg.alert},
        {
            "active": msg.active,
            "detail": msg.detail,
            "id": msg.id,
            "severity": msg.severity,
            "since": epoch_ms(msg.since),
            "transition": msg.transition,
            "value": msg.value,
        },
        epoch_ms(msg.ts),
    )


def container_event_line(msg: ContainerEvent) -> str | None:
    """`container_event`: derived container events such as an emptying candidate."""
    return line(
        CONTAINER_EVENT.name,
        {"site": msg.site, "container": msg.container, "kind": msg.event},
        {
            "after_pct": msg.after_pct,
            "before_pct": msg.before_pct,
            "detail": msg.detail,
            "id": msg.id,
        },
        epoch_ms(msg.ts),
    )


def fill_line(reading: ContainerReading, level: FillPoint) -> str | None:
    """`fill`: one point per reading, raw and filtered level with the sensor's own values."""
    return line(
        FILL.name,
        {"site": reading.site, "container": reading.container, "zone": level.zone},
        {
            "battery_pct": reading.battery_pct,
            "battery_v": reading.battery_v,
            "distance_mm": reading.distance_mm,
            "fill_pct": level.raw_pct,
            "filtered_pct": level.filtered_pct,
            "id": reading.id,
            "overfull": level.overfull,
            "quality": level.quality,
            "temp_c": reading.temp_c,
            "tilt": reading.tilt,
        },
        epoch_ms(reading.ts),
    )


def fill_state_line(
    site: str, container: str, state: str, ts_ms: int, source_id: str
) -> str | None:
    """`fill_state`: a container's state (FillState JSON) as of a change; the newest is current."""
    return line(
        FILL_STATE.name,
        {"site": site, "container": container},
        {"id": source_id, "state": state},
        ts_ms,
    )


def dead_letter_line(letter: DeadLetter, tags: DeadLetterTags, ts_ms: int) -> str | None:
    """`dead_letter`: one refused message, its reason and a bounded, escaped excerpt.

    ``ts_ms`` is the letter's time, moved on a millisecond past the previous letter of the
    same tags when they meet, so a burst keeps every sampled letter (dead_letters.py).
    """
    return line(
        DEAD_LETTER.name,
        {"site": letter.site, **tags._asdict()},
        {
            "consumer": letter.consumer,
            "detail": excerpt(letter.reason, DETAIL_BYTES),
            "excerpt": excerpt(letter.payload),
            "id": letter.id,
            "topic": excerpt(letter.topic, DETAIL_BYTES),
        },
        ts_ms,
    )


def dead_letter_count_line(
    site: str, tags: DeadLetterTags, worker: str, minute_ms: int, letters: int, suppressed: int
) -> str | None:
    """`dead_letter_count`: how many letters of a source and reason one worker had in a minute."""
    return line(
        DEAD_LETTER_COUNT.name,
        {"site": site, **tags._asdict(), "worker": worker},
        {"letters": letters, "suppressed": suppressed},
        minute_ms,
    )


def to_lines(msg: Message) -> list[str]:
    """Return the lines a message is stored as (none for kinds not stored here)."""
    out: str | None
    match msg:
        case Capture():
            return [capture_line(msg)]
        case ScaleEvent():
            out = scale_event_line(msg)
        case Ticket():
            return [x for x in (weighing_line(msg), inflow_line(msg)) if x is not None]
        case ContainerAlert():
            out = alert_line(msg)
        case ContainerEvent():
            out = container_event_line(msg)
        case _:
            out = None
    return [out] if out is not None else []
