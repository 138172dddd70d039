"""InfluxDB measurements: the one definition of names, tag keys and field keys (with types).

`ingest/points.py` and `ingest/stats.py` write with these definitions; the API's queries and
`landfill ingest --status` read with them. `Measurement.query` checks every name in an
InfluxQL statement when the module that holds the statement is imported, so renaming a field
here breaks the reader at start-up, not as an empty page. Values in queries stay bound
parameters (``$site``).

Tags are few and bounded (site, scale, container, zone, client, waste_type, vehicle, kind);
numbers are fields; a point's time is the observation time, so a replayed message
overwrites itself. Every point written from a message carries the message `id` as a field.
Times are written in milliseconds, except a measurement declared ``precision="ns"``
(`scale_capture`), whose lines `InfluxStore.write_lines` sends at nanosecond precision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "CONTAINER_ALERT",
    "CONTAINER_EVENT",
    "DEAD_LETTER",
    "DEAD_LETTER_COUNT",
    "FILL",
    "FILL_STATE",
    "INFLOW",
    "INGEST_STATS",
    "MEASUREMENTS",
    "SCALE_CAPTURE",
    "SCALE_EVENT",
    "WEIGHING",
    "Measurement",
]

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
# what a statement may hold besides this measurement's names: InfluxQL keywords and `time`,
# the boolean literals and the arguments of fill()
_KEYWORDS = frozenset(
    "select from where and or not group by order asc desc limit offset as time "
    "true false none null previous linear".split()
)
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'|\$\w+|\b\d+[a-z]*\b")  # strings, $params, 1d, 5
_WORD = re.compile(r"\b([A-Za-z_]\w*)\b(\s*\()?")


@dataclass(frozen=True)
class Measurement:
    """One measurement: its name, its tag keys and its field keys with the type of each value."""

    name: str
    tags: tuple[str, ...]
    fields: Mapping[str, type]
    field_prefixes: tuple[str, ...] = ()  # open families such as rejected_<reason> (int)
    precision: str = "ms"  # of the times in its lines: "ms", or "ns" (scale_capture)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        names = (self.name, *self.tags, *self.fields, *self.field_prefixes)
        bad = [n for n in names if not _IDENT.match(n) or n in _KEYWORDS]
        if bad or set(self.tags) & set(self.fields):
            raise ValueError(f"{self.name}: bad or repeated names {bad or self.tags}")
        if self.precision not in ("ms", "ns"):
            raise ValueError(f"{self.name}: precision {self.precision!r} is not ms or ns")

    def __str__(self) -> str:
        return self.name

    def knows(self, key: str) -> bool:
        """Whether ``key`` is one of this measurement's tags or fields."""
        return key in self.tags or key in self.fields or key.startswith(self.field_prefixes)

    def query(self, statement: str) -> str:
        """Return ``statement`` unchanged once every name in it belongs to this measurement.

        Names are the measurement after FROM, tags, fields, `time` and InfluxQL keywords;
        function calls such as ``now()`` and literals (strings, ``$params``, ``1d``) are left
        alone. Raises ValueError on anything else.
        """
        source = re.search(r"\bFROM\s+(\w+)", statement, re.IGNORECASE)
        if source is None or source[1] != self.name:
            raise ValueError(f"{self.name}: query does not read FROM {self.name}: {statement}")
        unknown = [
            word
            for word, call in _WORD.findall(_LITERALS.sub(" ", statement))
            if not call
            and word != self.name
            and word.lower() not in _KEYWORDS
            and not self.knows(word)
        ]
        if unknown:
            raise ValueError(f"{self.name} has no tag or field {', '.join(unknown)}")
        return statement

    def check(self, tags: Mapping[str, object], fields: Mapping[str, object]) -> None:
        """Raise ValueError if a point's keys or value types differ from the definition."""
        wrong = [k for k in tags if k not in self.tags]
        for key, value in fields.items():
            want = self.fields.get(key, int if key.startswith(self.field_prefixes) else None)
            if want is None or (value is not None and type(value) is not want):
                wrong.append(f"{key}={value!r}")
        if wrong:
            raise ValueError(f"{self.name}: undeclared or mistyped {', '.join(wrong)}")


# One series per scale. The point's time keeps captures apart instead of a tag per capture
# (a series each, which InfluxDB pays for on every write and keeps forever): the capture's
# millisecond in nanoseconds plus its weight in kg as nanoseconds (ingest/points.py:
# capture_ns; the weight is at most 200,000 kg, under a millisecond). Ingest refuses a capture
# whose id is not the hash of site, scale, millisecond and weight (contract.capture_id), so a
# point's time is one id: only the capture's own replay can meet it. Read with epoch=ms, the
# time is the capture's millisecond.
SCALE_CAPTURE = Measurement(
    "scale_capture",
    tags=("site", "scale"),
    fields={
        "division_kg": int,
        "id": str,
        "protocol": str,
        "raw": str,
        "stable_ms": int,
        "stable_source": str,
        "weight_kg": int,
    },
    precision="ns",
)
SCALE_EVENT = Measurement(
    "scale_event",
    tags=("site", "scale", "kind"),
    fields={"detail": str, "id": str, "weight_kg": int},
)
WEIGHING = Measurement(
    "weighing",
    tags=("site", "scale", "client", "vehicle", "waste_type", "zone", "ticket"),
    fields={
        "gross_kg": int,
        "id": str,
        "manual": bool,
        "net_kg": int,
        "number": str,
        "tare_kg": int,
        "voided": bool,
    },
)
# The same tickets again, for sums over months: `weighing` has one series per ticket (its
# identity), and InfluxDB 1.x sums 100,000 series in seconds; here the series are the few
# client/vehicle/waste/zone combinations. The point's time keeps tickets apart instead of a
# tag: the completion second plus the ticket's sequence number modulo 1000 as milliseconds
# (ingest/points.py: inflow_ms), so a ticket's void replaces its own point and two tickets
# of one vehicle would need a thousand tickets in one second to meet. A void sets
# counted_kg and tickets to 0, so sums need no condition on a field (`docs/inflow.md`).
INFLOW = Measurement(
    "inflow",
    tags=("site", "client", "vehicle", "waste_type", "zone"),
    fields={"counted_kg": int, "id": str, "number": str, "tickets": int, "voided": bool},
)
FILL = Measurement(
    "fill",
    tags=("site", "container", "zone"),
    fields={
        "battery_pct": float,
        "battery_v": float,
        "distance_mm": int,
        "fill_pct": float,
        "filtered_pct": float,
        "id": str,
        "overfull": bool,
        "quality": str,
        "temp_c": float,
        "tilt": bool,
    },
)
# one point each time a container's state changes (ingest/fill/keeper.py): the API reads the
# newest per container. `state` is a landfill.fill.state.FillState as JSON; its time is the
# change's, never before the container's previous state point
FILL_STATE = Measurement(
    "fill_state",
    tags=("site", "container"),
    fields={"id": str, "state": str},
)
CONTAINER_ALERT = Measurement(
    "container_alert",
    tags=("site", "container", "kind"),
    fields={
        "active": bool,
        "detail": str,
        "id": str,
        "severity": str,
        "since": int,  # epoch ms
        "transition": str,
        "value": float,
    },
)
CONTAINER_EVENT = Measurement(
    "container_event",
    tags=("site", "container", "kind"),
    fields={"after_pct": float, "before_pct": float, "detail": str, "id": str},
)
INGEST_STATS = Measurement(
    "ingest_stats",
    tags=("site", "worker"),
    fields={
        # counters since the worker started (ingest/service.py)
        "received": int,
        "written": int,
        "acked": int,
        "published": int,
        "dead_letters": int,
        "dead_letters_dropped": int,  # a dead letter ingest could not store (no loop)
        "retries": int,
        "reconnects": int,
        "left_for_next_session": int,
        "not_acked_stale_connection": int,
        # gauges of the last interval
        "backlog": int,
        "lag_ms_avg": float,
        "lag_ms_max": int,
    },
    field_prefixes=("rejected_",),
)
# Dead letters (ingest/dead_letters.py): the first few of each source and reason in a minute,
# with a bounded excerpt, for the admin's list; and per minute how many came of each, for the
# board's refused counts. The count point of a minute is rewritten as it grows (its time is
# the minute, it carries the worker), so a flood of garbage costs a few points a minute.
DEAD_LETTER = Measurement(
    "dead_letter",
    tags=("site", "source", "reason", "kind"),
    fields={"consumer": str, "detail": str, "excerpt": str, "id": str, "topic": str},
)
DEAD_LETTER_COUNT = Measurement(
    "dead_letter_count",
    tags=("site", "source", "reason", "kind", "worker"),
    fields={"letters": int, "suppressed": int},  # suppressed: counted, not kept as dead_letter
)
MEASUREMENTS = (
    SCALE_CAPTURE,
    SCALE_EVENT,
    WEIGHING,
    INFLOW,
    FILL,
    FILL_STATE,
    CONTAINER_ALERT,
    CONTAINER_EVENT,
    INGEST_STATS,
    DEAD_LETTER,
    DEAD_LETTER_COUNT,
)
