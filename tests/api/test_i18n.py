"""The ky/ru/en catalogues: same keys, same placeholders, every key the page uses exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.i18n import catalogue, pick_language, translate
from landfill.language import LANGUAGES

API = Path(__file__).resolve().parents[2] / "api"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_key_in_every_language():
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    for lang in LANGUAGES:
        assert keys[lang] == keys["en"], f"{lang}: {keys[lang] ^ keys['en']}"
        assert all(v.strip() for v in catalogue(lang).values()), lang


def test_placeholders_agree():
    for key, text in catalogue("en").items():
        want = set(PLACEHOLDER.findall(text))
        for lang in ("ky", "ru"):
            assert set(PLACEHOLDER.findall(catalogue(lang)[key])) == want, (lang, key)


def test_texts_differ_between_languages():
    # a catalogue copied from another language would pass the key checks; most texts differ
    same = [k for k in catalogue("en") if catalogue("ky")[k] == catalogue("ru")[k]]
    assert len(same) < len(catalogue("en")) // 4, same


def _used_keys() -> set[str]:
    js = "".join(
        (API / "static" / name).read_text(encoding="utf-8")
        for name in ("dispatch.js", "operator.js")
    )
    html = "".join(
        p.read_text(encoding="utf-8") for p in sorted((API / "templates").glob("*.html"))
    )
    used = set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", js))
    used |= set(re.findall(r"""t\[["']([\w.]+)["']\]""", html))
    # the home page's links and the role names (api/routes/auth.py, api/auth/roles.py)
    from typing import get_args

    from api.auth.roles import Role
    from api.routes.auth import PAGES
    from landfill.contract import ScaleEventKind

    used |= {key for p in PAGES for key in (p.title, p.note)}
    used |= {f"role.{r}" for r in Role}
    # keys built from data: t(`status.${...}`), t("filter." ~ f), ...
    for prefix, values in {
        "status.": ("red", "orange", "grey", "yellow", "green"),
        "filter.": ("all", "full", "overflow_risk", "offline", "battery"),
        "reason.": ("fire", "overfull", "full", "offline", "no_data", "overflow_risk"),
        "kind.": ("full", "overfull", "fire", "tilt", "lid_open", "offline", "low_battery"),
        "severity.": ("info", "minor", "warning", "major", "critical"),
        "forecast.reliability.": ("low", "medium", "high"),
        "weekday.": tuple(str(d) for d in range(7)),
        "emptyings.": ("confirmed", "rejected"),
        # the operator console: weight states, connection banners, scale events
        "op.state.": ("stable", "moving", "overload", "unknown"),
        "op.banner.": ("api", "stream", "broker", "edge"),
        "event.": get_args(ScaleEventKind),
    }.items():
        used |= {prefix + v for v in values}
    return (
        used
        | {"reason.low_battery", "reason.scheduled", "lang.name"}
        | {f"login.{k}" for k in ("failed", "too_many", "expired", "signed_out")}
    )


def test_every_key_the_page_uses_exists():
    used = _used_keys()
    assert len(used) > 60
    missing = used - set(catalogue("en"))
    assert not missing, missing


def test_alert_kinds_of_the_contract_have_texts():
    from typing import get_args

    from landfill.contract import AlertKind

    for kind in get_args(AlertKind):
        assert f"kind.{kind}" in catalogue("ky")


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        (None, None, None, "ky"),
        ("ru", None, "en", "ru"),
        ("xx", "en", "ru", "en"),
        (None, None, "de-DE, ru;q=0.8, en;q=0.9", "en"),
        (None, None, "ru-RU", "ru"),
        (None, None, "ky-KG,ru;q=0.9", "ky"),
        (None, None, "en;q=0", "ky"),
        (None, None, "garbage;q=x", "ky"),
    ],
)
def test_pick_language(query, cookie, header, expected):
    assert pick_language(query, cookie, header, "ky") == expected


def test_translate_fills_placeholders():
    assert translate("en", "route.total", km="12.5", n=3) == "Total: 12.5 km (3 containers)"
