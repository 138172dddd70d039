"""Texts people read, in Kyrgyz, Russian and English (api/static/i18n/<lang>.json).

An area may keep its texts in a folder of its own (``api/static/i18n/billing/<lang>.json``);
they join the language's catalogue, and a key may be defined only once.

The language comes from ``?lang=``, then the ``lang`` cookie, then Accept-Language, then the
default setting (Kyrgyz). Every catalogue has the same keys; a test checks it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import cast

from landfill.language import LANGUAGES, Language

__all__ = ["catalogue", "pick_language", "translate"]

CATALOGUES = Path(__file__).resolve().parent / "static" / "i18n"


@cache
def catalogue(lang: Language) -> dict[str, str]:
    """Every text of one language by key: ``<lang>.json`` and each area's ``<area>/<lang>.json``."""
    data = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
    for part in sorted(CATALOGUES.glob(f"*/{lang}.json")):
        more = json.loads(part.read_text(encoding="utf-8"))
        twice = data.keys() & more.keys()
        if twice:
            raise ValueError(f"{part}: keys already in the catalogue: {sorted(twice)}")
        data |= more
    return cast(dict[str, str], data)


def translate(lang: Language, key: str, **values: object) -> str:
    """One text with ``{name}`` placeholders filled in."""
    return catalogue(lang)[key].format(**values)


def _known(value: str | None) -> Language | None:
    if value is None:
        return None
    code = value.strip().lower()[:2]
    return code if code in LANGUAGES else None


def pick_language(
    query: str | None, cookie: str | None, accept_language: str | None, default: Language
) -> Language:
    """The language to answer in: query, cookie, Accept-Language (by q), default."""
    for candidate in (query, cookie):
        found = _known(candidate)
        if found:
            return found
    if accept_language:
        ranked: list[tuple[float, int, str]] = []
        for i, part in enumerate(accept_language.split(",")):
            tag, _, params = part.strip().partition(";")
            q = 1.0
            if params.strip().startswith("q="):
                try:
                    q = float(params.strip()[2:])
                except ValueError:
                    q = 0.0
            ranked.append((-q, i, tag))
        for neg_q, _, tag in sorted(ranked):
            found = _known(tag)
            if found and neg_q < 0:
                return found
    return default
