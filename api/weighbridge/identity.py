"""Kyrgyz identifiers the registry checks: vehicle plates and taxpayer numbers (INN).

Plates. The 2016 standard plate reads ``01 KG 123 ABC``: a two-digit region code (01 Bishkek,
02 Osh, ... 08 Chui, 09 Issyk-Kul), the KG flag, three digits and up to three Latin letters.
People type it with or without the ``KG``, with spaces or dashes, in lower case, and with
Cyrillic letters that look Latin (А, В, Е, К, М, Н, О, Р, С, Т, Х, У). Every spelling becomes
one canonical form ``01KG123ABC``. Older and special plates (``B 1234 AB``, trailers,
diplomatic) keep their letters and digits, upper case, without spaces.

INN. A 14-digit number. The first digit says who: 1 or 2 a person (female, male: the
personal number, ПИН, that individual entrepreneurs use), 0 an organisation. For a person,
digits 2 to 9 are the birth date DDMMYYYY, which is checked; an organisation's next digits are
not checked (their layout is not confirmed by a source we could read).
"""

from __future__ import annotations

import re
from datetime import date

__all__ = ["INN_LENGTH", "check_inn", "display_plate", "normalise_plate"]

INN_LENGTH = 14
_CYRILLIC = str.maketrans("АВЕКМНОРСТХУ", "ABEKMHOPCTXY")
_MODERN = re.compile(r"^(?P<region>\d{2})(?:KG)?(?P<digits>\d{3})(?P<letters>[A-Z]{2,3})$")
_PLATE = re.compile(r"^[A-Z0-9]{2,12}$")


def normalise_plate(text: str) -> str:
    """The canonical plate (``01KG123ABC``), or ValueError with what is wrong."""
    compact = re.sub(r"[\s\-_.]+", "", text.strip().upper()).translate(_CYRILLIC)
    m = _MODERN.match(compact)
    if m:
        return f"{m['region']}KG{m['digits']}{m['letters']}"
    if not _PLATE.match(compact):
        raise ValueError("a plate is 2 to 12 Latin letters and digits, such as 01 KG 123 ABC")
    return compact


def display_plate(plate: str) -> str:
    """The plate as it is painted: ``01 KG 123 ABC``."""
    m = _MODERN.match(plate)
    if m:
        return f"{m['region']} KG {m['digits']} {m['letters']}"
    return plate


def check_inn(text: str) -> str:
    """The INN without spaces, or ValueError saying what is wrong with it."""
    inn = re.sub(r"\s+", "", text)
    if not inn.isdigit() or not inn.isascii():
        raise ValueError("the INN has digits only")
    if len(inn) != INN_LENGTH:
        raise ValueError(f"the INN has {INN_LENGTH} digits, this one has {len(inn)}")
    if inn[0] not in "012":
        raise ValueError("the INN starts with 0 (organisation), 1 or 2 (person)")
    if inn[0] in "12":
        try:
            date(int(inn[5:9]), int(inn[3:5]), int(inn[1:3]))
        except ValueError:
            raise ValueError(
                "a person's INN has the birth date (DDMMYYYY) after the first digit"
            ) from None
    return inn
