"""Alert texts in Kyrgyz, Russian and English; times are local to ``LANDFILL_TIMEZONE``.

One catalogue: alert kind and severity names, and one template per transition. Placeholders:
``{kind} {container} {place} {since} {at} {value} {detail} {severity}``. The tracker's
``detail`` is technical English ("level 85 %") and is passed through as it is.
The Kyrgyz and Russian wording was written by the developers and wants a native speaker's
review before it goes to the dispatchers' phones.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from landfill.contract import ContainerAlert
from landfill.language import Language

__all__ = ["alert_text", "local_time"]

KINDS: dict[Language, dict[str, str]] = {
    "ky": {
        "full": "толду",
        "overfull": "ашыкча толду",
        "fire": "өрт",
        "tilt": "кулады же кыйшайды",
        "lid_open": "капкагы ачык",
        "offline": "датчик байланышта эмес",
        "low_battery": "батареясы отуруп калды",
    },
    "ru": {
        "full": "заполнен",
        "overfull": "переполнен",
        "fire": "возгорание",
        "tilt": "опрокинут или наклонён",
        "lid_open": "открыта крышка",
        "offline": "датчик не на связи",
        "low_battery": "разряжается батарея",
    },
    "en": {
        "full": "full",
        "overfull": "overfull",
        "fire": "fire",
        "tilt": "tipped over or tilted",
        "lid_open": "lid open",
        "offline": "sensor offline",
        "low_battery": "battery low",
    },
}

SEVERITIES: dict[Language, dict[str, str]] = {
    "ky": {
        "info": "маалымат",
        "minor": "анча маанилүү эмес",
        "warning": "эскертүү",
        "major": "маанилүү",
        "critical": "өтө коркунучтуу",
    },
    "ru": {
        "info": "информация",
        "minor": "незначительно",
        "warning": "предупреждение",
        "major": "важно",
        "critical": "критично",
    },
    "en": {
        "info": "info",
        "minor": "minor",
        "warning": "warning",
        "major": "major",
        "critical": "critical",
    },
}

TEMPLATES: dict[Language, dict[str, str]] = {
    "ky": {
        "raised": "⚠ {container}{place}: {kind} ({severity}), {since} баштап. {detail}",
        "escalated": "‼ {container}{place}: {kind} ({severity}), {since} баштап. {detail}",
        "cleared": "✓ {container}{place}: «{kind}» жоюлду, {at}. {detail}",
        "repeated": "⚠ {container}{place}: {kind} дагы эле уланууда, {since} баштап. {detail}",
    },
    "ru": {
        "raised": "⚠ {container}{place}: {kind} ({severity}), с {since}. {detail}",
        "escalated": "‼ {container}{place}: {kind} ({severity}), с {since}. {detail}",
        "cleared": "✓ {container}{place}: «{kind}» снято, {at}. {detail}",
        "repeated": "⚠ {container}{place}: {kind} продолжается с {since}. {detail}",
    },
    "en": {
        "raised": "⚠ {container}{place}: {kind} ({severity}) since {since}. {detail}",
        "escalated": "‼ {container}{place}: {kind} ({severity}) since {since}. {detail}",
        "cleared": "✓ {container}{place}: {kind} cleared at {at}. {detail}",
        "repeated": "⚠ {container}{place}: still {kind} since {since}. {detail}",
    },
}


def local_time(ts: datetime, tz: tzinfo) -> str:
    """A UTC time as wall-clock text in ``tz``, day first as both languages write it."""
    return ts.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def alert_text(
    alert: ContainerAlert, language: Language, settlement: str = "", *, tz: tzinfo
) -> str:
    """The one-line message for an alert transition in ``language``, times local to ``tz``."""
    text = TEMPLATES[language][alert.transition].format(
        container=alert.container,
        place=f" ({settlement})" if settlement else "",
        kind=KINDS[language][alert.alert],
        severity=SEVERITIES[language][alert.severity],
        since=local_time(alert.since, tz),
        at=local_time(alert.ts, tz),
        value="" if alert.value is None else f"{alert.value:g}",
        detail=alert.detail,
    )
    return text.strip()
