"""Alert notifications in Kyrgyz, Russian and English; times are local to ``LANDFILL_TIMEZONE``.

The words come from the one catalogue (``landfill/texts.py``): the alert kind is the page's
``kind.<alert>`` label, the severity its ``severity.<severity>`` label, and the sentence is
``notify.<transition>`` (``landfill/i18n/notify/``). Placeholders:
``{kind} {container} {place} {since} {at} {detail} {severity}``. The tracker's ``detail`` is
technical English ("level 85 %") and is passed through as it is. The settlement is named as
the language spells it (``settlement_name``: "Bürgöndü" is "Бургонду" in Russian).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from landfill.contract import ContainerAlert
from landfill.language import Language
from landfill.texts import in_sentence, settlement_name, translate

__all__ = ["TRANSITIONS", "alert_text", "kind_word", "local_time", "severity_word"]

TRANSITIONS = ("raised", "escalated", "cleared", "repeated")


def kind_word(language: Language, kind: str) -> str:
    """The alert kind as the page names it (``kind.<kind>``), lower-cased for a sentence."""
    return in_sentence(language, f"kind.{kind}")


def severity_word(language: Language, severity: str) -> str:
    """The severity as the page names it (``severity.<severity>``), lower-cased for a sentence."""
    return in_sentence(language, f"severity.{severity}")


def local_time(ts: datetime, tz: tzinfo) -> str:
    """A UTC time as wall-clock text in ``tz``, day first as both languages write it."""
    return ts.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def alert_text(
    alert: ContainerAlert, language: Language, settlement: str = "", *, tz: tzinfo
) -> str:
    """The one-line message for an alert transition in ``language``, times local to ``tz``."""
    text = translate(
        language,
        f"notify.{alert.transition}",
        container=alert.container,
        place=f" ({settlement_name(language, settlement)})" if settlement else "",
        kind=kind_word(language, alert.alert),
        severity=severity_word(language, alert.severity),
        since=local_time(alert.since, tz),
        at=local_time(alert.ts, tz),
        detail=alert.detail,
    )
    return text.strip()
