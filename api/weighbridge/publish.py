"""Numbered tickets to the broker: the `ticket` topic (QoS 1), which ingest stores as `weighing`.

A ticket is published when it is completed and again when it is voided. Both messages carry
the completion time as ``ts`` and the same tags, so in InfluxDB the voided state overwrites
the completed point instead of adding one. ``published_at`` records the broker's PUBACK for
the ticket's current state; a ticket still without it (the broker was away, or the API
stopped first) is sent again on the next (re)connect. A repeat is harmless: same point.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import paho.mqtt.client as mqtt
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from api.db import Site
from api.weighbridge.models import Ticket, TicketWeight
from api.weighbridge.numbering import number_text
from api.weighbridge.registry import as_utc
from landfill.contract import Ticket as TicketMessage
from landfill.contract import Topics, stable_id, utcnow

__all__ = ["Republisher", "publish_pending", "publish_ticket", "ticket_message"]

log = logging.getLogger("landfill.api.tickets")
PUBACK_WAIT_S = 0.5


def ticket_message(session: Session, ticket: Ticket, site: str) -> TicketMessage:
    """The contract message of a numbered ticket (completed or voided)."""
    heavy = session.scalar(
        select(TicketWeight)
        .where(TicketWeight.ticket_id == ticket.id, TicketWeight.source != "stored_tare")
        .order_by(TicketWeight.weight_kg.desc())
        .limit(1)
    )
    number = number_text(ticket.year, ticket.number)
    completed = as_utc(ticket.completed_at)
    assert number is not None
    assert completed is not None
    assert heavy is not None
    status = "voided" if ticket.status == "voided" else "completed"
    return TicketMessage(
        id=stable_id(site, "ticket", number, status),
        ts=completed,
        site=site,
        number=number,
        status=status,
        scale=heavy.scale_code,
        gross_kg=ticket.gross_kg or 0,
        tare_kg=ticket.tare_kg or 0,
        net_kg=ticket.net_kg or 0,
        client=ticket.client_code,
        vehicle=ticket.plate,
        waste_type=ticket.waste_code,
        zone=ticket.zone or None,
        manual=ticket.manual,
    )


def publish_ticket(client: mqtt.Client, session: Session, ticket: Ticket, site: str) -> bool:
    """Publish a numbered ticket's state; True (and recorded) when the broker acknowledged it."""
    if ticket.number is None:
        return False
    msg = ticket_message(session, ticket, site)
    info = client.publish(Topics(site).of(TicketMessage), msg.to_json(), qos=1)
    try:
        info.wait_for_publish(PUBACK_WAIT_S)
    except (RuntimeError, ValueError):  # not connected: paho keeps it queued
        return False
    if not info.is_published():
        return False
    at = utcnow()
    if _mark(session, ticket.id, ticket.status, at):
        set_committed_value(ticket, "published_at", at)
    return True


def _mark(session: Session, ticket_id: int, status: str, at: datetime) -> bool:
    # only the state that was sent: a void committed meanwhile stays pending
    done = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == status)
        .values(published_at=at)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(getattr(done, "rowcount", 0))


def publish_pending(client: mqtt.Client, sessions: sessionmaker[Session], site: str) -> int:
    """Publish every numbered ticket whose current state the broker has not acknowledged."""
    sent = 0
    with sessions() as session:
        pending = session.scalars(
            select(Ticket)
            .join(Site, Site.id == Ticket.site_id)
            .where(Site.code == site, Ticket.number.is_not(None), Ticket.published_at.is_(None))
            .order_by(Ticket.id)
        ).all()
        for ticket in pending:
            if not publish_ticket(client, session, ticket, site):
                break
            sent += 1
    return sent


class Republisher:
    """Sends pending tickets on a thread of its own when the broker (re)connects."""

    def __init__(self, sessions: sessionmaker[Session], site: str) -> None:
        self.sessions = sessions
        self.site = site
        self._running = threading.Lock()

    def __call__(self, client: mqtt.Client) -> None:
        """Start sending (from paho's on-connect, which must not wait for PUBACKs itself)."""
        threading.Thread(
            target=self._run, args=(client,), name="ticket-republish", daemon=True
        ).start()

    def _run(self, client: mqtt.Client) -> None:
        if not self._running.acquire(blocking=False):
            return
        try:
            sent = publish_pending(client, self.sessions, self.site)
            if sent:
                log.info("tickets published after (re)connect: %d", sent)
        except Exception:
            log.exception("publishing pending tickets failed; the next reconnect tries again")
        finally:
            self._running.release()
