"""Names used in topics, tags and registry codes: 1-64 letters, digits and ``_ . : -``.

No ``/``, ``+`` or ``#``, so no name can change a topic's meaning. The contract checks every
name it puts in a topic; the container spec checks codes with the same pattern.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

__all__ = ["NAME_PATTERN", "NAME_RE", "Name", "check_name"]

NAME_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
NAME_RE = re.compile(NAME_PATTERN)


def check_name(value: str) -> str:
    """Return the name, or raise ValueError when it is not one."""
    if not NAME_RE.fullmatch(value):  # `$` alone would let a trailing newline through
        raise ValueError("names are 1-64 characters of letters, digits and _ . : -")
    return value


# the same rule checked by pydantic-core's regex (no Python call per name); its `$` is the end
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
