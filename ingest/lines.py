"""Line protocol built directly: one escaping function per element, milliseconds, no Point objects.

    measurement[,tag=value...] field=value[,field=value...] epoch_ms

influxdb-client's `Point` costs about 13 us per point, which matters at 15,000 msg/s; this
builder does the same job in about 2 us. It writes the same line as `Point` with
`to_line_protocol(precision=ms)`: a property test (tests/ingest/test_lines.py) keeps the
library as the reference. Escaping, as InfluxDB 1.x-3.x parse it:
- measurement: `,` and space are escaped with a backslash; newline, carriage return and tab
  become `\\n`, `\\r`, `\\t` (two characters, so they cannot end the line);
- tag keys and values, field keys: as the measurement, and `=` is escaped too. A backslash is
  kept as it is: 1.6 reads `a\\,b` back exactly. A tag value cannot end in a backslash on 1.6
  (it would escape the separator), so a space follows it there, as `Point` does;
- tags are sorted by key (InfluxDB's advice), fields by key too; empty or None tag values
  are left out (not allowed);
- string fields: `"` and `\\` are escaped; newlines stay (allowed inside quotes);
- integers get the `i` suffix, booleans are `true`/`false`, a float that is a whole number
  loses its `.0`; floats that are not finite and None values are left out. A point without
  any field is not a point: `line` returns None.
Measurement names and keys are ours (landfill/measurements.py): lowercase letters, digits and
`_`. They never hold a backslash, which 1.6 misreads before a separator in those places.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

__all__ = ["FieldValue", "escape_field_string", "line"]

FieldValue = int | float | bool | str | None

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n", "\r": r"\r", "\t": r"\t"})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\r": r"\r", "\t": r"\t"})


def _escape_measurement(name: str) -> str:
    """Escape a measurement name."""
    return name.translate(_MEASUREMENT)


def _escape_key(value: str) -> str:
    """Escape a tag key, a tag value or a field key."""
    return value.translate(_KEY)


def escape_field_string(value: str) -> str:
    """Escape the inside of a quoted string field."""
    # two replaces run at C speed; str.translate looks every character up (20 us for 500)
    return value.replace("\\", "\\\\").replace('"', '\\"')


@lru_cache(maxsize=1024)  # keys repeat on every point: escape each once (bounded, just in case)
def _key(name: str) -> str:
    """A tag or field key, escaped."""
    return _escape_key(name)


def _tag(key: str, value: str) -> str:
    escaped = _escape_key(value)
    if escaped[-1] == "\\":
        escaped += " "  # a trailing backslash would escape the separator after it
    return f"{_key(key)}={escaped}"


def _field(key: str, value: FieldValue) -> str | None:
    if value is None:
        return None
    if value is True or value is False:
        return f"{_key(key)}={'true' if value else 'false'}"
    if isinstance(value, int):
        return f"{_key(key)}={value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = repr(value)
        return f"{_key(key)}={text[:-2] if text.endswith('.0') else text}"
    return f'{_key(key)}="{escape_field_string(value)}"'


def line(
    measurement: str,
    tags: Mapping[str, str | None],
    fields: Mapping[str, FieldValue],
    epoch_ms: int,
) -> str | None:
    """Return one line of line protocol at ms precision, or None when no field has a value."""
    rendered = [f for k, v in sorted(fields.items()) if (f := _field(k, v)) is not None]
    if not rendered:
        return None
    parts = [_escape_measurement(measurement)]
    parts += [_tag(k, v) for k, v in sorted(tags.items()) if v and k]
    return f"{','.join(parts)} {','.join(rendered)} {epoch_ms}"
