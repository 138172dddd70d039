"""Weighing tickets: `/api/v1/tickets` (open, second weight, void, list, PDF, HTML view).

Operators, supervisors and admins weigh (`ISSUE_TICKETS`); supervisors and admins void
(`SUPERVISE_TICKETS`); the scale house's staff, billing and auditors read (`READ_TICKETS`).
Who acts is the caller of that dependency, and the ledger writes each change's audit row.

Refusals answer 409/422/403/404 with ``{"code", "detail", "values"}``, the detail in the
request's language (`api/weighbridge/refusals.py`). A completed or voided ticket is published
on the `ticket` topic right after its commit (`api/weighbridge/publish.py`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Cookie, Depends, Header, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.auth.access import ISSUE_TICKETS, READ_TICKETS, SUPERVISE_TICKETS, Caller
from api.auth.audit import record
from api.db import Site
from api.deps import InfluxDep, MqttDep, NowDep, SessionDep, SettingsDep, SiteDep
from api.i18n import pick_language
from api.templating import TEMPLATES
from api.weighbridge.captures import recent_captures
from api.weighbridge.identity import display_plate, normalise_plate
from api.weighbridge.models import Ticket, TicketWeight
from api.weighbridge.numbering import number_text
from api.weighbridge.pdf import ticket_pdf
from api.weighbridge.publish import publish_ticket
from api.weighbridge.refusals import Refusal
from api.weighbridge.registry import as_utc
from api.weighbridge.tickets import (
    Desk,
    OpenRequest,
    WeightEntry,
    get_ticket,
    open_ticket,
    second_weighing,
    ticket_weights,
    void_ticket,
)
from api.weighbridge.view import ticket_sheet
from landfill.language import Language
from landfill.names import NAME_PATTERN

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
Reader = Annotated[Caller, Depends(READ_TICKETS)]
Weigher = Annotated[Caller, Depends(ISSUE_TICKETS)]
Supervisor = Annotated[Caller, Depends(SUPERVISE_TICKETS)]


class WeightBody(BaseModel):
    """A weighing: the id of a capture, or (supervisor) a weight keyed by hand with a reason."""

    model_config = ConfigDict(extra="forbid")
    capture_id: str | None = Field(None, min_length=1, max_length=64)
    manual_kg: int | None = Field(None, gt=0, le=500_000)
    scale: str | None = Field(None, pattern=NAME_PATTERN, description="manual weight: which")
    reason: str = Field("", max_length=500, description="why the weight is keyed by hand")

    def entry(self) -> WeightEntry:
        """As the ledger takes it."""
        return WeightEntry(self.capture_id, self.manual_kg, self.scale, self.reason)


class OpenBody(WeightBody):
    """A new ticket; client and waste type default to the vehicle's."""

    plate: str = Field(min_length=1, max_length=32)
    client: str | None = Field(None, pattern=NAME_PATTERN)
    waste_type: str | None = Field(None, pattern=NAME_PATTERN)
    zone: str = Field("", max_length=64)
    note: str = Field("", max_length=500)
    stored_tare: bool = Field(False, description="one pass against the vehicle's stored tare")


class VoidBody(BaseModel):
    """Why a ticket is voided."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=500)


class WeightPublic(BaseModel):
    """One weight of a ticket; ``manual`` says it was keyed by hand."""

    pass_no: int
    source: str
    manual: bool
    capture_id: str | None
    scale: str
    weight_kg: int
    weighed_at: datetime
    division_kg: int | None
    stable_ms: int | None
    protocol: str
    raw: list[str]
    manual_reason: str
    actor: str
    actor_role: str


class TicketPublic(BaseModel):
    """A ticket; ``number`` is set once it is completed."""

    id: int
    number: str | None
    status: str
    plate: str
    plate_display: str
    client: str | None
    client_name: str
    client_inn: str
    waste_type: str | None
    zone: str
    note: str
    gross_kg: int | None
    tare_kg: int | None
    net_kg: int | None
    tare_source: str | None
    manual: bool
    weights: list[WeightPublic]
    scale_events: list[dict[str, Any]]
    opened_at: datetime
    opened_by: str
    completed_at: datetime | None
    completed_by: str | None
    voided_at: datetime | None
    voided_by: str | None
    void_reason: str | None
    prints: int
    reprints: int
    published: bool


class TicketsPublic(BaseModel):
    """A page of tickets, newest first."""

    data: list[TicketPublic]
    count: int


class UnticketedPublic(BaseModel):
    """A capture no ticket used, older than `LANDFILL_TICKET_UNTICKETED_MINUTES`."""

    id: str
    ts: datetime
    scale: str
    weight_kg: int
    age_min: float


def weighing_desk(
    session: SessionDep, site: SiteDep, influx: InfluxDep, settings: SettingsDep, caller: Weigher
) -> Desk:
    """The desk of a weighing, for a caller who may weigh."""
    return Desk(session, site, influx, settings, caller)


def supervising_desk(
    session: SessionDep, site: SiteDep, influx: InfluxDep, settings: SettingsDep, caller: Supervisor
) -> Desk:
    """The desk of a void, for a caller who may void."""
    return Desk(session, site, influx, settings, caller)


WeighingDesk = Annotated[Desk, Depends(weighing_desk)]
SupervisingDesk = Annotated[Desk, Depends(supervising_desk)]


def _weight_public(w: TicketWeight, with_raw: bool) -> WeightPublic:
    weighed = as_utc(w.weighed_at)
    assert weighed is not None
    return WeightPublic(
        pass_no=w.pass_no,
        source=w.source,
        manual=w.source == "manual",
        capture_id=w.capture_id,
        scale=w.scale_code,
        weight_kg=w.weight_kg,
        weighed_at=weighed,
        division_kg=w.division_kg,
        stable_ms=w.stable_ms,
        protocol=w.protocol,
        raw=w.raw.split() if with_raw else [],
        manual_reason=w.manual_reason,
        actor=w.actor,
        actor_role=w.actor_role,
    )


def _public(session: Session, t: Ticket, with_raw: bool = True) -> TicketPublic:
    opened = as_utc(t.opened_at)
    assert opened is not None
    return TicketPublic(
        id=t.id,
        number=number_text(t.year, t.number),
        status=t.status,
        plate=t.plate,
        plate_display=display_plate(t.plate),
        client=t.client_code,
        client_name=t.client_name,
        client_inn=t.client_inn,
        waste_type=t.waste_code,
        zone=t.zone,
        note=t.note,
        gross_kg=t.gross_kg,
        tare_kg=t.tare_kg,
        net_kg=t.net_kg,
        tare_source=t.tare_source,
        manual=t.manual,
        weights=[_weight_public(w, with_raw) for w in ticket_weights(session, t.id)],
        scale_events=json.loads(t.scale_events or "[]"),
        opened_at=opened,
        opened_by=t.opened_by,
        completed_at=as_utc(t.completed_at),
        completed_by=t.completed_by,
        voided_at=as_utc(t.voided_at),
        voided_by=t.voided_by,
        void_reason=t.void_reason,
        prints=t.prints,
        reprints=max(t.prints - 1, 0),
        published=t.published_at is not None,
    )


def _published(desk: Desk, mqtt: MqttDep, ticket: Ticket) -> TicketPublic:
    publish_ticket(mqtt, desk.session, ticket, desk.site.code)
    return _public(desk.session, ticket)


@router.post("", response_model=TicketPublic, status_code=201)
def create_ticket(body: OpenBody, desk: WeighingDesk, mqtt: MqttDep) -> TicketPublic:
    """First weighing: open a ticket (or, with ``stored_tare``, complete it in one pass)."""
    req = OpenRequest(
        plate=body.plate,
        weight=body.entry(),
        client=body.client,
        waste_type=body.waste_type,
        zone=body.zone,
        note=body.note,
        stored_tare=body.stored_tare,
    )
    return _published(desk, mqtt, open_ticket(desk, req))


@router.post("/{ticket_id}/second", response_model=TicketPublic)
def weigh_second(
    ticket_id: int, body: WeightBody, desk: WeighingDesk, mqtt: MqttDep
) -> TicketPublic:
    """Second weighing: complete the ticket; gross, tare, net and the number are set."""
    return _published(desk, mqtt, second_weighing(desk, ticket_id, body.entry()))


@router.post("/{ticket_id}/void", response_model=TicketPublic)
def void(ticket_id: int, body: VoidBody, desk: SupervisingDesk, mqtt: MqttDep) -> TicketPublic:
    """Void a ticket with a reason (supervisor); it keeps its number and is published voided."""
    return _published(desk, mqtt, void_ticket(desk, ticket_id, body.reason))


@router.get("", response_model=TicketsPublic, dependencies=[Depends(READ_TICKETS)])
def list_tickets(
    session: SessionDep,
    site: SiteDep,
    status: Literal["open", "completed", "voided"] | None = None,
    plate: Annotated[str | None, Query(max_length=32)] = None,
    client: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    since: Annotated[AwareDatetime | None, Query(description="opened at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="opened before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TicketsPublic:
    """Tickets newest first; ``status=open`` lists the vehicles on site."""
    stmt = select(Ticket).where(Ticket.site_id == site.id)
    if status:
        stmt = stmt.where(Ticket.status == status)
    if plate:
        try:
            stmt = stmt.where(Ticket.plate == normalise_plate(plate))
        except ValueError:
            return TicketsPublic(data=[], count=0)
    if client:
        stmt = stmt.where(Ticket.client_code == client)
    if since:
        stmt = stmt.where(Ticket.opened_at >= since)
    if until:
        stmt = stmt.where(Ticket.opened_at < until)
    rows = session.scalars(stmt.order_by(Ticket.id.desc()).limit(limit))
    data = [_public(session, t, with_raw=False) for t in rows]
    return TicketsPublic(data=data, count=len(data))


@router.get(
    "/unticketed-captures",
    response_model=list[UnticketedPublic],
    dependencies=[Depends(READ_TICKETS)],
)
def unticketed_captures(
    session: SessionDep,
    site: SiteDep,
    influx: InfluxDep,
    settings: SettingsDep,
    now: NowDep,
    hours: Annotated[float, Query(gt=0, le=168)] = 24,
) -> list[UnticketedPublic]:
    """Captures of the last ``hours`` that no ticket used after the grace time (oldest first)."""
    grace = timedelta(minutes=settings.ticket_unticketed_minutes)
    captures = recent_captures(influx, site.code, now - timedelta(hours=hours), now - grace)
    ids = [c.id for c in captures]
    used: set[str] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        used |= set(
            session.scalars(
                select(TicketWeight.capture_id).where(TicketWeight.capture_id.in_(chunk))
            )
        )
    return [
        UnticketedPublic(
            id=c.id,
            ts=c.ts,
            scale=c.scale,
            weight_kg=c.weight_kg,
            age_min=round((now - c.ts).total_seconds() / 60, 1),
        )
        for c in captures
        if c.id not in used
    ]


@router.get("/{ticket_id}", response_model=TicketPublic, dependencies=[Depends(READ_TICKETS)])
def read_ticket(ticket_id: int, session: SessionDep, site: SiteDep) -> TicketPublic:
    """One ticket with its weights (raw frames included) and scale events."""
    return _public(session, get_ticket(session, site, ticket_id))


def _printable(
    session: Session, site: Site, ticket_id: int, caller: Caller, preview: bool
) -> tuple[Ticket, int]:
    """The ticket and the copy number this print is (a preview is not counted)."""
    ticket = get_ticket(session, site, ticket_id)
    if ticket.status == "open":
        raise Refusal("ticket_not_open", ticket=ticket_id)
    if preview:
        return ticket, max(ticket.prints, 1)
    copy = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(prints=Ticket.prints + 1, last_printed_at=caller.at)
        .returning(Ticket.prints)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    number = number_text(ticket.year, ticket.number)
    after = {"number": number, "copy": int(copy)}
    record(session, caller.actor, caller.at, "ticket.print", str(ticket.id), after=after)
    session.commit()
    return ticket, int(copy)


def _language(
    settings: SettingsDep,
    lang: Annotated[str | None, Query(max_length=8)] = None,
    lang_cookie: Annotated[str | None, Cookie(alias="lang")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Language:
    return pick_language(lang, lang_cookie, accept_language, settings.default_language)


LanguageDep = Annotated[Language, Depends(_language)]
Preview = Annotated[bool, Query(description="show without counting a print")]


@router.get("/{ticket_id}/pdf", response_class=Response)
def ticket_pdf_file(
    ticket_id: int,
    session: SessionDep,
    site: SiteDep,
    caller: Reader,
    lang: LanguageDep,
    preview: Preview = False,
) -> Response:
    """The ticket as an A5 PDF; every print after the first is marked as a reprint."""
    ticket, copy = _printable(session, site, ticket_id, caller, preview)
    sheet = ticket_sheet(session, ticket, lang, ZoneInfo(site.timezone), copy)
    name = number_text(ticket.year, ticket.number) or str(ticket.id)
    return Response(
        ticket_pdf(sheet),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="ticket-{name}.pdf"'},
    )


@router.get("/{ticket_id}/html", response_class=HTMLResponse)
def ticket_html(
    ticket_id: int,
    session: SessionDep,
    site: SiteDep,
    caller: Reader,
    lang: LanguageDep,
    paper: Literal["a5", "80mm"] = "a5",
    preview: Preview = False,
) -> HTMLResponse:
    """The ticket as a printable page (A5 or an 80 mm roll); prints are counted like the PDF."""
    ticket, copy = _printable(session, site, ticket_id, caller, preview)
    sheet = ticket_sheet(session, ticket, lang, ZoneInfo(site.timezone), copy)
    html = TEMPLATES.get_template("ticket.html").render(
        sheet=sheet, paper=paper, ticket_id=ticket.id, copy=copy, voided=ticket.status == "voided"
    )
    return HTMLResponse(html)
