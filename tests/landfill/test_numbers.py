"""landfill/numbers.py and api/static/numbers.js write every number the same way."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from landfill.numbers import integer, number
from tests.browser import chromium

NUMBERS_JS = Path(__file__).resolve().parents[2] / "api" / "static" / "numbers.js"

CASES = [
    (59.4, 1, "ky", "59,4"),
    (59.44, 1, "ru", "59,4"),
    (59.4, 1, "en", "59.4"),
    (12345.678, 2, "en", "12\u2009345.68"),
    (12345.678, 1, "ru", "12\u2009345,7"),
    (-1234567, 0, "ky", "-1\u2009234\u2009567"),
    (999.95, 1, "ky", "1\u2009000,0"),
    (0.5, 0, "en", "1"),
    (2.5, 0, "en", "3"),
    (-2.5, 0, "en", "-3"),
    (-0.04, 1, "ru", "0,0"),
    (1.005, 2, "en", "1.00"),
    (0, 2, "ky", "0,00"),
]


@pytest.mark.parametrize(("value", "decimals", "lang", "text"), CASES)
def test_the_languages_rules(value, decimals, lang, text) -> None:
    assert number(value, decimals, lang) == text


def test_decimal_and_integer() -> None:
    assert number(Decimal("1234.565"), 2, "ru") == "1\u2009234,57"
    assert integer(18780) == "18\u2009780"


def test_the_page_script_agrees_with_the_server() -> None:
    values = [c[:3] for c in CASES] + [
        (v / 7, d, lang) for v in range(-3000, 3000, 37) for d in (0, 1, 2) for lang in ("ky", "en")
    ]
    with chromium() as browser:
        page = browser.new_page()
        page.add_script_tag(content=NUMBERS_JS.read_text(encoding="utf-8"))
        got = page.evaluate(
            f"{json.dumps(values)}.map(([v, d, l]) => window.formatNumber(v, d, l))"
        )
    assert got == [number(v, d, lang) for v, d, lang in values]
