"""Kyrgyz plates become one canonical form; INNs are 14 digits with a known first digit."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.weighbridge.identity import check_inn, display_plate, normalise_plate


@pytest.mark.parametrize(
    "typed",
    [
        "01KG123ABC",
        "01 KG 123 ABC",
        "01 123 ABC",
        "01123abc",
        "01-kg-123-abc",
        " 01 kg 123abc ",
        "01 КG 123 АВС",  # Cyrillic К, А, В, С typed on a Russian layout
        "01КГ123ABC".replace("Г", "G"),
    ],
)
def test_spellings_of_one_plate_are_one_plate(typed):
    assert normalise_plate(typed) == "01KG123ABC"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("08 KG 777 XY", "08KG777XY"),  # two letters
        ("B 1234 AB", "B1234AB"),  # an old Soviet-style Bishkek plate keeps its form
        ("t 0042", "T0042"),
    ],
)
def test_other_plates_are_upper_case_without_spaces(typed, canonical):
    assert normalise_plate(typed) == canonical


@pytest.mark.parametrize("bad", ["", "1", "01/KG/123", "01 KG 123 ABC 999 999", "01 KG 12€"])
def test_a_non_plate_is_refused_with_what_a_plate_is(bad):
    with pytest.raises(ValueError, match="Latin letters and digits"):
        normalise_plate(bad)


def test_display_form():
    assert display_plate("01KG123ABC") == "01 KG 123 ABC"
    assert display_plate("B1234AB") == "B1234AB"


@given(st.text(max_size=30))
def test_any_text_is_a_plate_or_a_value_error(text):
    try:
        plate = normalise_plate(text)
    except ValueError:
        return
    assert normalise_plate(plate) == plate  # canonical is a fixed point
    assert normalise_plate(display_plate(plate)) == plate


@pytest.mark.parametrize(
    ("inn", "kept"),
    [
        ("01803200210104", "01803200210104"),  # organisation
        ("0180 3200 2101 04", "01803200210104"),  # spaces dropped
        ("21203199001234", "21203199001234"),  # a man born 12.03.1990
        ("12902200000017", "12902200000017"),  # a woman born 29.02.2000 (leap day)
    ],
)
def test_good_inns(inn, kept):
    assert check_inn(inn) == kept


@pytest.mark.parametrize(
    ("inn", "message"),
    [
        ("0180320021010", "has 14 digits, this one has 13"),
        ("018032002101045", "has 14 digits, this one has 15"),
        ("0180320021010A", "digits only"),
        ("０１８０３２００２１０１０４", "digits only"),  # full-width digits
        ("31803200210104", "starts with 0 (organisation), 1 or 2 (person)"),
        ("23213199001234", "birth date"),  # 32.13.1990
        ("12902200100017", "birth date"),  # 29.02.2001 is no day
    ],
)
def test_bad_inns_say_what_is_wrong(inn, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_inn(inn)
