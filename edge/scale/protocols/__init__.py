"""Scale protocols by name: a plain dict, no plugin magic."""

from __future__ import annotations

from edge.scale.frames import ScaleProtocol
from edge.scale.protocols.keli_eq import KeliEq
from edge.scale.protocols.mt_sics import MtSics
from edge.scale.protocols.rinstrum import Rinstrum
from edge.scale.protocols.sma import Sma
from edge.scale.protocols.st_us import StUs
from edge.scale.protocols.tenso_m import TensoM
from edge.scale.protocols.toledo import Toledo
from edge.scale.protocols.yaohua_a9 import YaohuaA9
from edge.scale.protocols.yaohua_a9_poll import YaohuaA9Poll
from edge.scale.protocols.yaohua_a12 import YaohuaA12
from edge.scale.protocols.yaohua_a12e import YaohuaA12E

PROTOCOLS: dict[str, type[ScaleProtocol]] = {
    cls.name: cls
    for cls in (
        YaohuaA9,
        YaohuaA9Poll,
        KeliEq,
        YaohuaA12,
        YaohuaA12E,
        StUs,
        Toledo,
        Sma,
        MtSics,
        Rinstrum,
        TensoM,
    )
}


def get_protocol(name: str) -> type[ScaleProtocol]:
    """Return the protocol class registered under ``name``."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        known = ", ".join(sorted(PROTOCOLS))
        raise ValueError(f"unknown scale protocol {name!r}; known: {known}") from None
