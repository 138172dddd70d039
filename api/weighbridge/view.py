"""A ticket as a person reads it, in one language: what the PDF and the HTML view both print.

Times are shown in the site's time zone; weights in integer kg with a thin space between
thousands. Marks (reprint, voided, manual, open) are texts of their own, so every printout
that carries the ticket carries them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from api.i18n import catalogue, translate
from api.weighbridge.identity import display_plate
from api.weighbridge.models import Ticket, TicketWeight, Vehicle, WasteType
from api.weighbridge.numbering import number_text
from api.weighbridge.registry import as_utc
from api.weighbridge.tickets import ticket_weights
from landfill.language import Language
from landfill.numbers import integer

__all__ = ["Line", "TicketSheet", "kg_text", "ticket_sheet"]


@dataclass(frozen=True)
class Line:
    """A label and its value."""

    label: str
    value: str


@dataclass
class TicketSheet:
    """Everything a printed ticket shows, already translated."""

    lang: Language
    enterprise: str
    title: str
    number: str
    marks: list[str] = field(default_factory=list)
    details: list[Line] = field(default_factory=list)
    weights: list[Line] = field(default_factory=list)
    passes: list[Line] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    footer: str = ""


def kg_text(lang: Language, kg: int | None) -> str:
    """``12 340 kg`` (a thin space between thousands), or a dash."""
    if kg is None:
        return "—"
    return translate(lang, "ticket.kg", kg=integer(kg))


def _local(ts: datetime | None, tz: ZoneInfo) -> str:
    value = as_utc(ts)
    return value.astimezone(tz).strftime("%d.%m.%Y %H:%M") if value else "—"


def _pass_line(lang: Language, label: str, w: TicketWeight, tz: ZoneInfo) -> Line:
    t = partial(translate, lang)
    if w.source == "stored_tare":
        when = _local(w.weighed_at, tz)
        return Line(label, f"{kg_text(lang, w.weight_kg)}, {t('ticket.tare_stored', date=when)}")
    parts = [kg_text(lang, w.weight_kg), _local(w.weighed_at, tz), w.scale_code]
    if w.source == "manual":
        parts.append(t("ticket.manual_note", by=w.actor, reason=w.manual_reason))
    elif w.capture_id:
        parts.append(f"#{w.capture_id[:12]}")
    return Line(label, ", ".join(parts))


def _marks(lang: Language, ticket: Ticket, copy: int) -> list[str]:
    marks = []
    if ticket.status == "voided":
        marks.append(translate(lang, "ticket.voided"))
    if ticket.status == "open":
        marks.append(translate(lang, "ticket.open"))
    if ticket.manual:
        marks.append(translate(lang, "ticket.manual"))
    if copy > 1:
        marks.append(translate(lang, "ticket.reprint", copy=copy))
    return marks


def ticket_sheet(
    session: Session, ticket: Ticket, lang: Language, tz: ZoneInfo, copy: int
) -> TicketSheet:
    """The ticket in ``lang``; ``copy`` 1 is the original, later copies are marked reprints."""
    t = partial(translate, lang)
    waste = session.get(WasteType, ticket.waste_type_id) if ticket.waste_type_id else None
    waste_name = getattr(waste, f"name_{lang}") if waste else (ticket.waste_code or "—")
    weights = ticket_weights(session, ticket.id)
    scales = sorted({w.scale_code for w in weights if w.scale_code})
    sheet = TicketSheet(
        lang=lang,
        enterprise=t("app.enterprise"),
        title=t("ticket.title"),
        number=t("ticket.number", number=number_text(ticket.year, ticket.number) or "—"),
        marks=_marks(lang, ticket, copy),
        footer=t("ticket.keep"),
        signatures=[t("ticket.sign_operator"), t("ticket.sign_driver")],
    )
    sheet.details = [
        Line(t("ticket.date"), _local(ticket.completed_at or ticket.opened_at, tz)),
        Line(t("ticket.vehicle"), display_plate(ticket.plate)),
        Line(t("ticket.client"), ticket.client_name or "—"),
        Line(t("ticket.inn"), ticket.client_inn or "—"),
        Line(t("ticket.waste"), waste_name),
        Line(t("ticket.scale"), ", ".join(scales) or "—"),
        Line(t("ticket.operator"), ticket.completed_by or ticket.opened_by),
    ]
    if ticket.zone:
        sheet.details.insert(5, Line(t("ticket.zone"), ticket.zone))
    vehicle = session.get(Vehicle, ticket.vehicle_id)
    if vehicle is not None and vehicle.volume_m3:
        volume = t("ticket.m3", m3=f"{vehicle.volume_m3:g}")
        sheet.details.insert(2, Line(t("ticket.volume"), volume))
    sheet.weights = [
        Line(t("ticket.gross"), kg_text(lang, ticket.gross_kg)),
        Line(t("ticket.tare"), kg_text(lang, ticket.tare_kg)),
        Line(t("ticket.net"), kg_text(lang, ticket.net_kg)),
    ]
    labels = [t("ticket.first"), t("ticket.second")]
    sheet.passes = [_pass_line(lang, labels[min(w.pass_no, 2) - 1], w, tz) for w in weights]
    sheet.events = [
        f"{_local(datetime.fromisoformat(e['ts']), tz)} {t('event.' + e['kind'])}"
        for e in json.loads(ticket.scale_events or "[]")
        if f"event.{e['kind']}" in _event_keys(lang)
    ]
    if ticket.status == "voided":
        when = _local(ticket.voided_at, tz)
        sheet.notes.append(
            t("ticket.void_note", by=ticket.voided_by or "", time=when, reason=ticket.void_reason)
        )
    return sheet


def _event_keys(lang: Language) -> set[str]:
    return {k for k in catalogue(lang) if k.startswith("event.")}
