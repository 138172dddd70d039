"""Dead letters as a person reads them: a short reason, who sent the input, a safe excerpt.

The edge and ingest refuse messages and publish `DeadLetter`s; ingest stores them
(`ingest/dead_letters.py`) and the API shows them (`api/dead_letters.py`). These rules are
shared so that all three agree on the tags InfluxDB holds, which must stay few and bounded:

- ``reason_code``: the fixed head of a reason text (``invalid_payload: weight_kg: ...`` is
  ``invalid_payload``; the edge's ``bad_envelope:invalid_json`` stays whole,
  ``bad_envelope:missing_field:deviceInfo`` is ``bad_envelope:missing_field``), anything else
  ``other``.
- ``source_of_topic``: who sent a contract message, from its topic (never from the payload,
  which is the bad input): ``scale:<name>``, ``container:<name>``, ``node:<name>``,
  ``site:<site>``. The edge names the device itself: ``device:<eui or name>``.
- ``excerpt``: the first 200 bytes of the payload with every unprintable character escaped,
  so a page or a log shows it as it came, and no more of it.
"""

from __future__ import annotations

import re

from landfill.contract import KINDS, topic_names

__all__ = [
    "EXCERPT_BYTES",
    "UNKNOWN",
    "checked_source",
    "device_source",
    "excerpt",
    "reason_code",
    "refused_kind",
    "source_of_topic",
]

EXCERPT_BYTES = 200
UNKNOWN = "unknown"
# a word, and at most one more after a colon (bad_envelope:missing_field:deviceInfo keeps two)
_CODE = re.compile(r"([a-z][a-z0-9_]{0,39}(?::[a-z][a-z0-9_]{0,39})?)(?=$|[:\s])")
_SOURCE = re.compile(r"^(device|scale|container|node|site):[A-Za-z0-9_.:@-]{1,64}$")
_KINDS = frozenset({k.name for k in KINDS} | {"uplink"})


def reason_code(reason: str) -> str:
    """The fixed reason of a dead letter's text, or ``other``."""
    found = _CODE.match(reason.strip())
    return found[1] if found else "other"


def source_of_topic(topic: str) -> str:
    """Who sent a message on a contract topic: its scale, container or node, else its site."""
    names = topic_names(topic)
    if names is None:
        return UNKNOWN
    for field in ("scale", "container", "node"):
        if field in names:
            return checked_source(f"{field}:{names[field]}")
    return checked_source(f"site:{names['site']}")


def device_source(device: str | None) -> str:
    """The source of an uplink the edge refused: ``device:<eui or network-server name>``."""
    return checked_source(f"device:{(device or '').lower()}")


def checked_source(source: str) -> str:
    """``source`` when it is a well-formed, bounded source, else ``unknown``."""
    return source if _SOURCE.match(source) else UNKNOWN


def refused_kind(kind: str | None) -> str:
    """A contract kind or ``uplink`` as it is, anything else ``unknown``."""
    return kind if kind in _KINDS else UNKNOWN


def excerpt(payload: str, limit: int = EXCERPT_BYTES) -> str:
    """The first ``limit`` bytes of ``payload`` (UTF-8), unprintable characters escaped."""
    head = payload.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore")
    return "".join(_printable(c) for c in head)


def _printable(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char.isprintable():
        return char
    return char.encode("unicode_escape").decode("ascii")
