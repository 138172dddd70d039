"""Line protocol built directly: one escaping function per element, milliseconds, no Point objects.

    measurement[,tag=value...] field=value[,field=value...] epoch_ms

influxdb-client's `Point` costs about 13.5 us for a capture's point, which matters at 15,000
msg/s; this builder does the same job in about 5 us. Escaping, as InfluxDB 1.x-3.x parse it:
- measurement: `,` and space are escaped with a backslash;
- tag keys and values: `,`, `=` and space are escaped; newline, carriage return and tab (which
  would end or corrupt the line) become a space; a backslash is doubled so it can never escape
  the separator after it (1.x then stores it doubled: tag values are names, not free text);
  empty or None tag values are left out (not allowed);
- string fields: `"` and `\\` are escaped; newlines stay (allowed inside quotes);
- integers get the `i` suffix, booleans are `true`/`false`, floats that are not finite and
  None values are left out. A point without any field is not a point: `line` returns None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["FieldValue", "escape_field_string", "escape_measurement", "escape_tag", "line"]

FieldValue = int | float | bool | str | None

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": " ", "\r": " ", "\t": " "})
_TAG = str.maketrans(
    {",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\ ", "\r": r"\ ", "\t": r"\ ", "\\": "\\\\"}
)
_STRING = str.maketrans({'"': r"\"", "\\": "\\\\"})


def escape_measurement(name: str) -> str:
    """Escape a measurement name."""
    return name.translate(_MEASUREMENT)


def escape_tag(value: str) -> str:
    """Escape a tag key or value."""
    return value.translate(_TAG)


def escape_field_string(value: str) -> str:
    """Escape the inside of a quoted string field."""
    return value.translate(_STRING)


_KEYS: dict[str, str] = {}  # escaped tag and field keys: a few dozen names from ingest/points


def _key(name: str) -> str:
    """A tag or field key escaped once and remembered (keys repeat on every point)."""
    escaped = _KEYS.get(name)
    if escaped is None:
        escaped = escape_tag(name)
        if len(_KEYS) < 1024:  # bounded, should keys ever come from data
            _KEYS[name] = escaped
    return escaped


def _field(key: str, value: FieldValue) -> str | None:
    if value is None:
        return None
    if value is True or value is False:
        return f"{_key(key)}={'true' if value else 'false'}"
    if isinstance(value, int):
        return f"{_key(key)}={value}i"
    if isinstance(value, float):
        return f"{_key(key)}={value!r}" if math.isfinite(value) else None
    return f'{_key(key)}="{escape_field_string(value)}"'


def line(
    measurement: str,
    tags: Mapping[str, str | None],
    fields: Mapping[str, FieldValue],
    epoch_ms: int,
) -> str | None:
    """Return one line of line protocol at ms precision, or None when no field has a value."""
    parts = [escape_measurement(measurement)]
    for key, value in tags.items():
        if value:
            parts.append(f"{_key(key)}={escape_tag(value)}")
    rendered = [f for k, v in fields.items() if (f := _field(k, v)) is not None]
    if not rendered:
        return None
    return f"{','.join(parts)} {','.join(rendered)} {epoch_ms}"
