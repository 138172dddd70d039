"""A ticket's life: first weight, second weight (or a stored tare), number, void.

- The first weighing opens a ticket; the second completes it. Either may be the loaded one:
  gross is the larger weight, tare the smaller, net the difference. One pass against the
  vehicle's stored tare completes a ticket at once, when the tare has not expired.
- A weight is a capture, by its id, looked up in InfluxDB; each capture weighs one ticket
  once (a unique constraint). A supervisor may key a weight by hand, with a reason; the
  ticket is then flagged manual.
- Who acts is the route's `Caller` (the login or token); every change writes its audit row
  in the transaction that makes it, so a refusal leaves none.
- A number is taken at completion (`numbering.py`), so open tickets that are voided leave
  no gap. A completed ticket is never deleted: it is voided with a reason and keeps its number.
- Every refusal is a `Refusal` with a code the console translates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.access import Caller
from api.auth.audit import record
from api.auth.roles import SUPERVISE_TICKETS
from api.db import Scale, Site
from api.weighbridge.captures import find_capture, scale_events
from api.weighbridge.identity import normalise_plate
from api.weighbridge.models import Client, Ticket, TicketWeight, Vehicle, WasteType
from api.weighbridge.numbering import locked_ticket, number_text, start_writing, take_number
from api.weighbridge.refusals import Refusal
from api.weighbridge.registry import as_utc, tare_state
from landfill.influx import InfluxStore
from landfill.settings import ApiSettings

__all__ = [
    "CAPTURE_LOOKBACK",
    "Desk",
    "OpenRequest",
    "WeightEntry",
    "get_ticket",
    "open_ticket",
    "second_weighing",
    "ticket_weights",
    "void_ticket",
]

CAPTURE_LOOKBACK = timedelta(days=31)  # how far back a capture id is looked for at all
MIN_REASON = 3


@dataclass(frozen=True)
class WeightEntry:
    """One weighing as asked for: a capture id, or a supervisor's manual weight with a reason."""

    capture_id: str | None = None
    manual_kg: int | None = None
    scale: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class OpenRequest:
    """A new ticket: the vehicle, who and what (defaults from the vehicle), the first weight."""

    plate: str
    weight: WeightEntry
    client: str | None = None
    waste_type: str | None = None
    zone: str = ""
    note: str = ""
    stored_tare: bool = False


@dataclass
class Desk:
    """What a ticket operation works with: SQL, the site, InfluxDB, settings, who calls, when."""

    session: Session
    site: Site
    influx: InfluxStore
    settings: ApiSettings
    caller: Caller

    @property
    def now(self) -> datetime:
        """The request's time."""
        return self.caller.at

    @property
    def by(self) -> str:
        """The name written on the ticket as who did something."""
        return self.caller.display

    @property
    def supervises(self) -> bool:
        """May key a weight by hand and void a ticket."""
        return self.caller.role in SUPERVISE_TICKETS


@dataclass
class Parties:
    """The vehicle, its client and the waste type of a ticket."""

    vehicle: Vehicle
    client: Client | None
    waste: WasteType | None


# ---- checks ----------------------------------------------------------------------------------


def _vehicle(desk: Desk, plate: str) -> Vehicle:
    try:
        canonical = normalise_plate(plate)
    except ValueError:
        raise Refusal("vehicle_unknown", plate=plate) from None
    row = desk.session.scalar(
        select(Vehicle).where(Vehicle.site_id == desk.site.id, Vehicle.plate == canonical)
    )
    if row is None or not row.active:
        raise Refusal("vehicle_unknown", plate=canonical)
    return row


def _client(desk: Desk, client_id: int | None, code: str | None) -> Client | None:
    if code is not None:
        row = desk.session.scalar(
            select(Client).where(Client.site_id == desk.site.id, Client.code == code)
        )
        if row is None:
            raise Refusal("client_unknown", client=code)
    else:
        row = desk.session.get(Client, client_id) if client_id else None
    if row is not None and row.status == "on_hold":
        raise Refusal("client_on_hold", client=row.name)
    return row


def _waste(desk: Desk, waste_id: int | None, code: str | None) -> WasteType | None:
    if code is not None:
        row = desk.session.scalar(
            select(WasteType).where(WasteType.site_id == desk.site.id, WasteType.code == code)
        )
        if row is None:
            raise Refusal("waste_unknown", waste=code)
    else:
        row = desk.session.get(WasteType, waste_id) if waste_id else None
    if row is not None and not row.accepted:
        raise Refusal("waste_refused", waste=row.code)
    return row


def _scale(desk: Desk, code: str | None) -> Scale:
    row = desk.session.scalar(
        select(Scale).where(Scale.site_id == desk.site.id, Scale.code == (code or ""))
    )
    if row is None:
        raise Refusal("scale_unknown", scale=code or "")
    return row


def _in_range(kg: int, scale: Scale, code: str) -> None:
    if not scale.min_kg <= kg <= scale.max_kg:
        raise Refusal(code, weight=kg, min=scale.min_kg, max=scale.max_kg, scale=scale.code)


def _captured(desk: Desk, capture_id: str) -> TicketWeight:
    capture = find_capture(desk.influx, desk.site.code, capture_id, desk.now - CAPTURE_LOOKBACK)
    if capture is None:
        raise Refusal("capture_not_found", capture=capture_id)
    limit = desk.settings.ticket_capture_max_age_minutes
    age = (desk.now - capture.ts).total_seconds() / 60
    if age > limit:
        raise Refusal("capture_too_old", capture=capture_id, age=round(age), limit=round(limit))
    if desk.session.scalar(select(TicketWeight.id).where(TicketWeight.capture_id == capture_id)):
        raise Refusal("capture_used", capture=capture_id)
    scale = _scale(desk, capture.scale)
    return TicketWeight(
        source="capture",
        capture_id=capture.id,
        scale_id=scale.id,
        scale_code=scale.code,
        weight_kg=capture.weight_kg,
        weighed_at=capture.ts,
        division_kg=capture.division_kg,
        stable_ms=capture.stable_ms,
        protocol=capture.protocol,
        raw=capture.raw,
    )


def _keyed(desk: Desk, entry: WeightEntry, kg: int) -> TicketWeight:
    if not desk.supervises:
        raise Refusal("manual_needs_supervisor")
    if len(entry.reason.strip()) < MIN_REASON:
        raise Refusal("manual_needs_reason")
    scale = _scale(desk, entry.scale)
    if kg % scale.division_kg:
        raise Refusal("manual_off_division", weight=kg, division=scale.division_kg)
    return TicketWeight(
        source="manual",
        scale_id=scale.id,
        scale_code=scale.code,
        weight_kg=kg,
        weighed_at=desk.now,
        division_kg=scale.division_kg,
        protocol=scale.protocol,
        manual_reason=entry.reason.strip(),
    )


def weigh(desk: Desk, entry: WeightEntry) -> TicketWeight:
    """One weighing from a capture or a supervisor's keyed weight (not yet saved)."""
    if (entry.capture_id is None) == (entry.manual_kg is None):
        raise Refusal("weight_source")
    if entry.capture_id is not None:
        weight = _captured(desk, entry.capture_id)
    else:
        assert entry.manual_kg is not None
        weight = _keyed(desk, entry, entry.manual_kg)
    weight.actor, weight.actor_role = desk.by, desk.caller.role.value
    return weight


def _stored_tare(desk: Desk, vehicle: Vehicle) -> TicketWeight:
    state = tare_state(vehicle, desk.now)
    if state == "none":
        raise Refusal("tare_missing", plate=vehicle.plate)
    if state == "expired":
        expired = as_utc(vehicle.tare_expires_at)
        assert expired is not None
        raise Refusal("tare_expired", plate=vehicle.plate, expired=expired.date().isoformat())
    assert vehicle.tare_kg is not None
    assert vehicle.tare_set_at is not None
    return TicketWeight(
        source="stored_tare",
        weight_kg=vehicle.tare_kg,
        weighed_at=vehicle.tare_set_at,
        actor=desk.by,
        actor_role=desk.caller.role.value,
    )


# ---- the ledger ------------------------------------------------------------------------------


def _state(ticket: Ticket, weights: list[TicketWeight] | None = None) -> dict[str, Any]:
    """What the audit log keeps of a ticket (and of the weights this change added)."""
    state: dict[str, Any] = {
        "number": number_text(ticket.year, ticket.number),
        "status": ticket.status,
        "plate": ticket.plate,
        "client": ticket.client_code,
        "waste_type": ticket.waste_code,
        "gross_kg": ticket.gross_kg,
        "tare_kg": ticket.tare_kg,
        "net_kg": ticket.net_kg,
        "manual": bool(ticket.manual),
        "void_reason": ticket.void_reason,
    }
    if weights is not None:
        state["weights"] = [
            {
                "pass_no": w.pass_no,
                "source": w.source,
                "capture_id": w.capture_id,
                "scale": w.scale_code,
                "weight_kg": w.weight_kg,
                "manual_reason": w.manual_reason or "",
            }
            for w in weights
        ]
    return state


def _audit(desk: Desk, action: str, ticket: Ticket, **change: Any) -> None:
    """The audit row of a ticket change, in the change's transaction (target: the ticket id)."""
    record(desk.session, desk.caller.actor, desk.now, action, str(ticket.id), **change)


@contextmanager
def _writing(desk: Desk, *, capture: str = "", plate: str = "", ticket: int = 0) -> Iterator[None]:
    """The write transaction (holding the numbering lock); committed, or rolled back on error."""
    start_writing(desk.session)
    try:
        yield
        desk.session.commit()
    except IntegrityError as exc:
        desk.session.rollback()
        text = str(exc.orig).lower()
        if "capture_id" in text:
            raise Refusal("capture_used", capture=capture) from None
        if "vehicle" in text:
            raise Refusal("vehicle_on_site", plate=plate) from None
        if "pass" in text:  # a second weight raced another one onto the same ticket
            raise Refusal("ticket_not_open", ticket=ticket) from None
        raise
    except BaseException:
        desk.session.rollback()
        raise


def _events(desk: Desk, kept_json: str, weights: list[TicketWeight]) -> str:
    """The scale events around the ticket's weights, merged by id with those already kept."""
    weighed = [w for w in weights if w.source != "stored_tare"]
    if not weighed:
        return kept_json
    margin = timedelta(seconds=desk.settings.ticket_event_margin_seconds)
    start = min(as_utc(w.weighed_at) or desk.now for w in weighed) - margin
    scales = [w.scale_code for w in weighed]
    found = scale_events(desk.influx, desk.site.code, scales, start, desk.now)
    kept = {e["id"]: e for e in json.loads(kept_json or "[]")}
    kept.update({e["id"]: e for e in found})
    return json.dumps(sorted(kept.values(), key=lambda e: str(e["ts"])))


def _complete(desk: Desk, ticket: Ticket, first: TicketWeight, second: TicketWeight) -> None:
    """Gross, tare, net, the checks on them, and the number; inside the write transaction."""
    heavy, light = (first, second) if first.weight_kg >= second.weight_kg else (second, first)
    scale = desk.session.get(Scale, heavy.scale_id)
    assert scale is not None
    _in_range(heavy.weight_kg, scale, "gross_out_of_range")
    net = heavy.weight_kg - light.weight_kg
    _in_range(net, scale, "net_out_of_range")
    ticket.gross_kg, ticket.tare_kg, ticket.net_kg = heavy.weight_kg, light.weight_kg, net
    ticket.tare_source = "stored" if light.source == "stored_tare" else "weighed"
    ticket.manual = "manual" in (first.source, second.source)
    ticket.status = "completed"
    ticket.completed_at, ticket.completed_by = desk.now, desk.by
    ticket.year = desk.now.astimezone(ZoneInfo(desk.site.timezone)).year
    ticket.number = take_number(desk.session, desk.site.id, ticket.year)
    ticket.published_at = None
    _audit(desk, "ticket.complete", ticket, after=_state(ticket, [first, second]))


def open_ticket(desk: Desk, req: OpenRequest) -> Ticket:
    """Open a ticket with its first weight; with ``stored_tare`` complete it at once."""
    vehicle = _vehicle(desk, req.plate)
    parties = Parties(
        vehicle,
        _client(desk, vehicle.client_id, req.client),
        _waste(desk, vehicle.waste_type_id, req.waste_type),
    )
    first = weigh(desk, req.weight)
    tare = _stored_tare(desk, vehicle) if req.stored_tare else None
    if tare is None:
        scale = desk.session.get(Scale, first.scale_id)
        assert scale is not None
        _in_range(first.weight_kg, scale, "weight_out_of_range")
    ticket = _new_ticket(desk, req, parties)
    weights = [first] if tare is None else [first, tare]
    ticket.scale_events = _events(desk, "[]", weights)
    with _writing(desk, capture=first.capture_id or "", plate=vehicle.plate):
        if desk.session.scalar(
            select(Ticket.id).where(Ticket.vehicle_id == vehicle.id, Ticket.status == "open")
        ):
            raise Refusal("vehicle_on_site", plate=vehicle.plate)
        desk.session.add(ticket)
        desk.session.flush()
        for i, w in enumerate(weights, start=1):
            w.ticket_id, w.pass_no = ticket.id, i
            desk.session.add(w)
        _audit(desk, "ticket.open", ticket, after=_state(ticket, [first]))
        if tare is not None:
            _complete(desk, ticket, first, tare)
    return ticket


def _new_ticket(desk: Desk, req: OpenRequest, parties: Parties) -> Ticket:
    client, waste = parties.client, parties.waste
    return Ticket(
        site_id=desk.site.id,
        status="open",
        vehicle_id=parties.vehicle.id,
        plate=parties.vehicle.plate,
        client_id=client.id if client else None,
        client_code=client.code if client else None,
        client_name=client.name if client else "",
        client_inn=client.inn if client else "",
        waste_type_id=waste.id if waste else None,
        waste_code=waste.code if waste else None,
        zone=req.zone,
        note=req.note,
        opened_at=desk.now,
        opened_by=desk.by,
        scale_events="[]",
    )


def get_ticket(session: Session, site: Site, ticket_id: int) -> Ticket:
    """A ticket of the site, or the refusal that says there is none."""
    row = session.scalar(select(Ticket).where(Ticket.id == ticket_id, Ticket.site_id == site.id))
    if row is None:
        raise Refusal("ticket_not_found", ticket=ticket_id)
    return row


def ticket_weights(session: Session, ticket_id: int) -> list[TicketWeight]:
    """A ticket's weights in pass order."""
    return list(
        session.scalars(
            select(TicketWeight)
            .where(TicketWeight.ticket_id == ticket_id)
            .order_by(TicketWeight.pass_no)
        )
    )


def _refuse_unless_open(ticket: Ticket | None, ticket_id: int) -> Ticket:
    if ticket is None:
        raise Refusal("ticket_not_found", ticket=ticket_id)
    if ticket.status == "voided":
        raise Refusal("ticket_voided", ticket=ticket_id)
    if ticket.status != "open":
        raise Refusal("ticket_not_open", ticket=ticket_id)
    return ticket


def second_weighing(desk: Desk, ticket_id: int, entry: WeightEntry) -> Ticket:
    """Complete an open ticket with its second weight; the number is taken here."""
    ticket = _refuse_unless_open(desk.session.get(Ticket, ticket_id), ticket_id)
    if ticket.site_id != desk.site.id:
        raise Refusal("ticket_not_found", ticket=ticket_id)
    _client(desk, ticket.client_id, None)
    _waste(desk, ticket.waste_type_id, None)
    second = weigh(desk, entry)  # InfluxDB is asked before the write lock is taken
    first = ticket_weights(desk.session, ticket.id)[0]
    events = _events(desk, ticket.scale_events, [first, second])
    with _writing(desk, capture=second.capture_id or "", plate=ticket.plate, ticket=ticket_id):
        ticket = _refuse_unless_open(
            locked_ticket(desk.session, desk.site.id, ticket_id), ticket_id
        )
        ticket.scale_events = events
        second.ticket_id, second.pass_no = ticket.id, 2
        desk.session.add(second)
        _complete(desk, ticket, first, second)
    return ticket


def void_ticket(desk: Desk, ticket_id: int, reason: str) -> Ticket:
    """Void a ticket with a reason (a supervisor's decision); a number stays taken."""
    if not desk.supervises:  # the route lets only supervisors in; the ledger says so too
        raise Refusal("void_needs_supervisor")
    if len(reason.strip()) < MIN_REASON:
        raise Refusal("void_needs_reason")
    with _writing(desk):
        ticket = locked_ticket(desk.session, desk.site.id, ticket_id)
        if ticket is None:
            raise Refusal("ticket_not_found", ticket=ticket_id)
        if ticket.status == "voided":
            raise Refusal("ticket_voided", ticket=ticket_id)
        before = _state(ticket)
        ticket.status = "voided"
        ticket.voided_at, ticket.voided_by = desk.now, desk.by
        ticket.void_reason = reason.strip()
        ticket.published_at = None
        _audit(desk, "ticket.void", ticket, before=before, after=_state(ticket))
    return ticket
