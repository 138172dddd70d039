"""The language of a request, and the texts of the one catalogue (``landfill/texts.py``).

The catalogue itself lives in ``landfill/i18n/`` so that ingest's notifications use the same
words as the pages; this module re-exports ``catalogue`` and ``translate`` for the API.

The language comes from ``?lang=``, then the ``lang`` cookie, then Accept-Language, then the
default setting (Kyrgyz).
"""

from __future__ import annotations

from landfill.language import LANGUAGES, Language
from landfill.texts import catalogue, translate

__all__ = ["catalogue", "pick_language", "translate"]


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
