"""The one catalogue of texts people read, in Kyrgyz, Russian and English (landfill/i18n/).

Pages, printouts, refusals and alert notifications all take their words from here, so a
thing has the same name on the dispatcher's screen and on the phone (glossary: docs/texts.md).

    landfill/i18n/<lang>.json            the common texts
    landfill/i18n/<area>/<lang>.json     an area's own texts (billing, inflow, notify, ...)

Settlement names are registered in one spelling (the demo data's is latin: "Bürgöndü");
``settlements/<lang>.json`` spells a known name per language (key ``settlement.<registered
name>``), and ``settlement_name`` shows any other name as it was registered.

Every file of an area joins its language's catalogue; a key may be defined only once, and every
key exists in every language with the same ``{placeholders}`` (tests/landfill/test_texts.py).
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path
from typing import cast

from landfill.language import Language

__all__ = ["CATALOGUES", "areas", "catalogue", "in_sentence", "settlement_name", "translate"]

CATALOGUES = Path(__file__).resolve().parent / "i18n"


def areas() -> list[str]:
    """The area folders whose texts join the common ones, in the order they are read."""
    return sorted(p.name for p in CATALOGUES.iterdir() if p.is_dir() and not p.name.startswith("_"))


def _read(path: Path) -> dict[str, str]:
    return cast(dict[str, str], json.loads(path.read_text(encoding="utf-8")))


@cache
def catalogue(lang: Language) -> dict[str, str]:
    """Every text of one language by key: ``<lang>.json`` and each area's ``<area>/<lang>.json``."""
    data = _read(CATALOGUES / f"{lang}.json")
    for area in areas():
        part = CATALOGUES / area / f"{lang}.json"
        more = _read(part)
        twice = data.keys() & more.keys()
        if twice:
            raise ValueError(f"{part}: keys already in the catalogue: {sorted(twice)}")
        data |= more
    return data


def translate(lang: Language, key: str, **values: object) -> str:
    """One text with ``{name}`` placeholders filled in."""
    return catalogue(lang)[key].format(**values)


def in_sentence(lang: Language, key: str) -> str:
    """A page label as a word inside a sentence: "Fire" -> "fire", "Пожар" -> "пожар"."""
    label = catalogue(lang)[key]
    return label[:1].lower() + label[1:]


def settlement_name(lang: Language, name: str) -> str:
    """A registered settlement name as ``lang`` spells it, or as registered if not catalogued.

    "Bürgöndü" is "Бүргөндү" in Kyrgyz and "Бургонду" in Russian; a name an operator typed
    in any script ("Settlement 12", "Жаңы-Арык") without a ``settlement.<name>`` entry is
    shown as it is. The registered value stays the key for filters and forms.
    """
    if not name:
        return name
    return catalogue(lang).get(f"settlement.{unicodedata.normalize('NFC', name)}", name)
