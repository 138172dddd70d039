"""What people read on the dashboards and in their alert rules, from the one catalogue.

The words are in ``landfill/i18n/dashboards/{ky,ru,en}.json`` (read through
``landfill/texts.py``), one generated folder per language (`dashboards/generated/<lang>/`).
A key here names a dashboard, a variable, a panel or an alert rule:

    dashboards.<key>.title / .description        a dashboard, variable or panel
    dashboards.rule.<rule>.title / .summary      an alert rule

Where the pages already name the same thing, the dashboard uses the page's text (``SAME_AS``),
and an alert kind is always the page's ``kind.<alert>`` label (``{kind}``), so a word means the
same on the dispatcher's page, in a notification and in Grafana (glossary: docs/texts.md).
Grafana fills a rule's summary per alert: ``{container}`` and ``{worker}`` become its labels.
"""

from __future__ import annotations

from landfill.language import LANGUAGES, Language
from landfill.texts import catalogue, in_sentence

__all__ = ["GRAFANA_LANGUAGES", "SAME_AS", "description", "keys", "title", "value_labels"]

GRAFANA_LANGUAGES: tuple[Language, ...] = LANGUAGES

# a dashboard text that is the page's own text for the same thing
SAME_AS = {
    "dashboards.containers.title": "containers.title",
    "dashboards.var_container.title": "col.container",
    "dashboards.wb_events.title": "ticket.events",
    "dashboards.wb_tickets.title": "inflow.tickets",
    "dashboards.ct_offline_count.title": "filter.offline",
    "dashboards.al_open_count.title": "alerts.title",
    "dashboards.rule.dead_letters.title": "page.dead_letters",
}

# the alert kinds a text names as {kind}; several become a choice Grafana makes per alert
KINDS = {
    "dashboards.ct_offline_count.description": ("offline",),
    "dashboards.rule.container_full.title": ("full",),
    "dashboards.rule.container_full.summary": ("full", "overfull"),
    "dashboards.rule.container_fire.title": ("fire",),
    "dashboards.rule.containers_offline.title": ("offline",),
}

# a rule's summary is a Grafana template: these become the firing alert's labels
LABELS = {"container": "{{ $labels.container }}", "worker": "{{ $labels.worker }}"}


def _kind(language: Language, kinds: tuple[str, ...]) -> str:
    if len(kinds) == 1:
        return in_sentence(language, f"kind.{kinds[0]}")
    choices = [f'if eq $labels.kind "{k}" }}}}{in_sentence(language, f"kind.{k}")}' for k in kinds]
    return "{{ " + "{{ else ".join(choices) + "{{ else }}{{ $labels.kind }}{{ end }}"


def _text(key: str, language: Language) -> str:
    text = catalogue(language)[SAME_AS.get(key, key)]
    return text.format(**LABELS, kind=_kind(language, KINDS[key]) if key in KINDS else "")


def keys(key: str) -> tuple[str, str]:
    """The catalogue keys of ``key``'s title and description (a rule: its summary)."""
    if key.startswith("rule_"):
        base = f"dashboards.rule.{key.removeprefix('rule_')}"
        return f"{base}.title", f"{base}.summary"
    return f"dashboards.{key}.title", f"dashboards.{key}.description"


def title(key: str, language: Language) -> str:
    """The title of ``key`` in ``language``."""
    return _text(keys(key)[0], language)


def description(key: str, language: Language) -> str:
    """The description (or alert summary) of ``key`` in ``language``; empty when it has none."""
    wanted = keys(key)[1]
    return _text(wanted, language) if wanted in catalogue(language) else ""


def value_labels(prefixes: tuple[str, ...], language: Language) -> dict[str, str]:
    """The page's label of each value named by the catalogue keys ``<prefix>.<value>``."""
    texts = catalogue(language)
    return {
        key.split(".", 1)[1]: text
        for key, text in texts.items()
        if key.split(".", 1)[0] in prefixes
    }
