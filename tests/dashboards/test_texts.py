"""Every text of the dashboards and their alert rules comes from the one catalogue
(landfill/i18n/dashboards/, read through landfill/texts.py), in ky, ru and en, and an alert kind
is named with the page's label (docs/texts.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from dashboards import alerts, render
from dashboards.boards import VARIABLES, boards
from dashboards.texts import GRAFANA_LANGUAGES, SAME_AS, description, keys, title
from landfill.language import LANGUAGES
from landfill.texts import CATALOGUES, catalogue

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "dashboards" / "generated"
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _named() -> list[str]:
    """Every key the dashboards and rules name: folder, dashboards, variables, panels, rules."""
    specs = boards("Asia/Bishkek")
    named = ["folder", *(b.key for b in specs), *(p.key for b in specs for p in b.panels)]
    named += [f"var_{name}" for name in VARIABLES]
    return named + [f"rule_{r.key}" for r in alerts.RULES]


def test_every_dashboard_language_is_rendered():
    assert set(GRAFANA_LANGUAGES) == set(LANGUAGES)
    assert {p.name for p in GENERATED.iterdir()} == set(LANGUAGES)


def test_no_dashboard_module_holds_words():
    for module in (ROOT / "dashboards").glob("*.py"):
        found = CYRILLIC.findall(module.read_text(encoding="utf-8"))
        assert not found, f"{module.name} has words of its own; put them in landfill/i18n/"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_dashboard_text_is_in_the_catalogue(lang):
    texts = catalogue(lang)
    for key in _named():
        head, body = keys(key)
        assert SAME_AS.get(head, head) in texts, (lang, key)
        assert title(key, lang).strip(), (lang, key)
        if key in [b.key for b in boards("UTC")] or key.startswith("rule_"):
            assert SAME_AS.get(body, body) in texts, (lang, key)
    own = json.loads((CATALOGUES / "dashboards" / f"{lang}.json").read_text(encoding="utf-8"))
    used = {k for key in _named() for k in keys(key)}
    assert set(own) <= used, set(own) - used  # no text left over that nothing shows
    assert not set(own) & set(SAME_AS), "a reused text must not be defined twice"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_generated_files_carry_the_catalogue_s_words(lang):
    board = json.loads((GENERATED / lang / "dashboards/landfill-alerts.json").read_text())
    assert board["title"] == catalogue(lang)["dashboards.alerts.title"]
    assert board["panels"][0]["title"] == catalogue(lang)["alerts.title"]  # the page's words
    by_key = {p["title"]: p for p in board["panels"]}
    table = by_key[title("al_open", lang)]  # a kind or severity cell shows the page's label
    (mapping,) = table["fieldConfig"]["defaults"]["mappings"]
    assert mapping["options"]["warning"]["text"] == catalogue(lang)["severity.warning"]
    assert mapping["options"]["tilt"]["text"] == catalogue(lang)["kind.tilt"]
    bars = by_key[title("al_raised_per_day", lang)]  # and so does a series named by its kind
    overrides = bars["fieldConfig"]["overrides"]
    names = {o["matcher"]["options"]: o["properties"][0]["value"] for o in overrides}
    assert names["fire"] == catalogue(lang)["kind.fire"]
    rules = yaml.safe_load((GENERATED / lang / "provisioning/alerting/rules.yaml").read_text())
    by_uid = {r["uid"]: r for r in rules["groups"][0]["rules"]}
    assert rules["groups"][0]["folder"] == catalogue(lang)["dashboards.folder.title"]
    fire = by_uid["landfill-container-fire"]
    assert catalogue(lang)["kind.fire"].lower() in fire["title"].lower()
    offline = by_uid["landfill-containers-offline"]
    assert catalogue(lang)["kind.offline"].lower() in offline["title"].lower()
    full = by_uid["landfill-container-full"]["annotations"]["summary"]
    for kind in ("full", "overfull"):  # Grafana picks the page's label by the alert's kind label
        label = catalogue(lang)[f"kind.{kind}"]
        assert f'eq $labels.kind "{kind}" }}}}{label[:1].lower()}{label[1:]}{{{{' in full
    assert "{{ $labels.container }}" in full


def test_rendered_texts_are_the_same_as_the_generated_files():
    wanted = render.files(render.demo_places())
    for lang in LANGUAGES:
        path = Path("dashboards/generated") / lang / "dashboards/landfill-inflow.json"
        assert json.loads(wanted[path])["description"] == description("inflow", lang)
