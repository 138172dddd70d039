"""Scale protocols by name: a plain dict, no plugin magic."""

from __future__ import annotations

from edge.scale.frames import ScaleProtocol
from edge.scale.protocols.yaohua_a9 import YaohuaA9

PROTOCOLS: dict[str, type[ScaleProtocol]] = {
    YaohuaA9.name: YaohuaA9,
}


def get_protocol(name: str) -> type[ScaleProtocol]:
    """Return the protocol class registered under ``name``."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        known = ", ".join(sorted(PROTOCOLS))
        raise ValueError(f"unknown scale protocol {name!r}; known: {known}") from None
