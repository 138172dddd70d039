"""Numbers as each language writes them, the same on every page, sheet and message.

Debian's Chromium has no Kyrgyz locale data (``toLocaleString("ky")`` gives ``59.4``), so the
project formats numbers itself, on the server, with these rules; ``api/static/numbers.js`` is
the same rules for the pages' live updates (a test checks that both agree):

- Kyrgyz and Russian: a comma before the fraction (``59,4``);
- English: a point (``59.4``);
- every language: a thin space between thousands (``12 340``), never a comma.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from landfill.language import Language

__all__ = ["DECIMAL_MARK", "THIN_SPACE", "integer", "number"]

THIN_SPACE = "\u2009"
DECIMAL_MARK: dict[Language, str] = {"ky": ",", "ru": ",", "en": "."}


def number(value: float | int | Decimal, decimals: int, lang: Language) -> str:
    """``value`` rounded half away from zero to ``decimals`` places: ``12 345,6`` in ky/ru.

    A float is rounded by its exact binary value, as JavaScript's ``toFixed`` does, so the
    server and the page never differ by a last digit.
    """
    exact = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{abs(exact) if exact == 0 else exact:,f}"
    whole, _, fraction = text.partition(".")
    whole = whole.replace(",", THIN_SPACE)
    if not fraction:
        return whole
    return f"{whole}{DECIMAL_MARK[lang]}{fraction}"


def integer(value: int) -> str:
    """A whole number with thin spaces between thousands: ``12 340``."""
    return number(value, 0, "en")
