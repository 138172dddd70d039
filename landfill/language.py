"""The languages people read the system in: Kyrgyz (the default on pages), Russian, English."""

from __future__ import annotations

from typing import Literal

__all__ = ["LANGUAGES", "Language"]

Language = Literal["ky", "ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ky", "ru", "en")
