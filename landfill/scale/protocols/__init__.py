"""Scale protocols by name: a plain dict, no plugin magic."""

from __future__ import annotations

import inspect

from landfill.scale.frames import ScaleProtocol
from landfill.scale.protocols.keli_eq import KeliEq
from landfill.scale.protocols.mt_sics import MtSics
from landfill.scale.protocols.rinstrum import Rinstrum
from landfill.scale.protocols.sma import Sma
from landfill.scale.protocols.st_us import StUs
from landfill.scale.protocols.tenso_m import TensoM
from landfill.scale.protocols.toledo import Toledo
from landfill.scale.protocols.yaohua_a9 import YaohuaA9
from landfill.scale.protocols.yaohua_a9_poll import YaohuaA9Poll
from landfill.scale.protocols.yaohua_a12 import YaohuaA12
from landfill.scale.protocols.yaohua_a12e import YaohuaA12E

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


def parse_options(text: str) -> dict[str, bool | int | str]:
    """Parse ``key=value,key=value`` (true/false become bools, whole numbers ints)."""
    options: dict[str, bool | int | str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"protocol option {item!r} is not key=value")
        value = value.strip()
        parsed: bool | int | str = value
        if value.lower() in ("true", "yes", "on"):
            parsed = True
        elif value.lower() in ("false", "no", "off"):
            parsed = False
        elif value.lstrip("-").isdigit():
            parsed = int(value)
        options[key.strip()] = parsed
    return options


def make_protocol(name: str, options: str = "") -> ScaleProtocol:
    """Build protocol ``name`` with per-instance options (address, reverse, checksum...)."""
    cls = get_protocol(name)
    kwargs = parse_options(options)
    accepted = list(protocol_options(cls))
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        known = ", ".join(accepted) or "none"
        raise ValueError(f"{name} has no option {', '.join(unknown)}; options: {known}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} options {options!r}: {exc}") from None


def protocol_options(cls: type[ScaleProtocol]) -> dict[str, object]:
    """The per-instance options a protocol takes, with their defaults."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params if p.name != "self" and p.kind in named}


def describe() -> str:
    """One line per protocol for help texts: name, what it reads, options with defaults."""
    lines = []
    for name, cls in PROTOCOLS.items():
        what = (cls.__doc__ or "").strip().splitlines()[0].replace("``", "")
        options = ", ".join(
            f"{key}={str(value).lower() if isinstance(value, bool) else value}"
            for key, value in protocol_options(cls).items()
        )
        lines.append(f"  {name:15} {what}" + (f" Options: {options}." if options else ""))
    return "\n".join(lines)
