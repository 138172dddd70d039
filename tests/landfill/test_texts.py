"""The one catalogue (landfill/i18n/): every key in ky, ru and en in every area, the same
placeholders in each language, a key defined only once, and the glossary's terms kept."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from landfill import texts
from landfill.language import LANGUAGES
from landfill.texts import CATALOGUES, areas, catalogue, translate

PLACEHOLDER = re.compile(r"\{(\w+)\}")
FOLDERS = [CATALOGUES, *(CATALOGUES / a for a in areas())]


def _file(folder: Path, lang: str) -> dict[str, str]:
    return json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))


def test_the_areas_include_the_notifications():
    assert {"billing", "inflow", "notify"} <= set(areas())


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_every_key_exists_in_every_language_of_an_area(folder):
    keys = {lang: set(_file(folder, lang)) for lang in LANGUAGES}
    for lang in LANGUAGES:
        assert keys[lang] == keys["en"], (folder.name, lang, keys[lang] ^ keys["en"])
        assert all(v.strip() for v in _file(folder, lang).values()), (folder.name, lang)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_no_placeholder_differs_between_languages(folder):
    english = _file(folder, "en")
    for lang in ("ky", "ru"):
        other = _file(folder, lang)
        for key, text in english.items():
            want = sorted(PLACEHOLDER.findall(text))
            assert sorted(PLACEHOLDER.findall(other[key])) == want, (folder.name, lang, key)


def test_every_language_joins_every_area():
    sizes = {lang: len(catalogue(lang)) for lang in LANGUAGES}
    expected = sum(len(_file(folder, "en")) for folder in FOLDERS)
    assert sizes == dict.fromkeys(LANGUAGES, expected)


def test_a_key_may_be_defined_only_once(tmp_path, monkeypatch):
    for folder, text in (("", "Fire"), ("twice", "Blaze")):
        (tmp_path / folder).mkdir(exist_ok=True)
        for lang in LANGUAGES:
            (tmp_path / folder / f"{lang}.json").write_text(json.dumps({"kind.fire": text}))
    monkeypatch.setattr(texts, "CATALOGUES", tmp_path)
    texts.catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"twice/en\.json: keys already.*kind\.fire"):
            catalogue("en")
    finally:
        texts.catalogue.cache_clear()


def test_translate_fills_placeholders():
    assert translate("ru", "alerts.since", time="08:00") == "с 08:00"


# One term per concept (docs/texts.md); a word the glossary retired must not come back.
RETIRED = {
    "ru": ("возгорание", "точность", "Полный", "Полные", "старший смены", "мёртвые письма"),
    "ky": ("эскертме", "эскертүүлөр", "Сенсор", "смена башчысы", "өлүк кат"),
}


@pytest.mark.parametrize("lang", sorted(RETIRED))
def test_retired_words_do_not_come_back(lang):
    for key, text in catalogue(lang).items():
        for word in RETIRED[lang]:
            assert word.lower() not in text.lower(), (lang, key, word)


def test_kyrgyz_keeps_alert_warning_and_note_apart():
    ky = catalogue("ky")
    assert "дабыл" in ky["alerts.title"].lower()
    assert "эскертүү" in ky["severity.warning"].lower()
    assert ky["alerts.note"].startswith(ky["op.note"])
    assert "түшүндүрмө" in ky["op.note"].lower()
    assert ky["bill.col.plate"] == ky["ticket.vehicle"]  # a vehicle is "унаа" everywhere
