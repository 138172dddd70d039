"""Gap-free ticket numbers per site and year, taken in the transaction that completes a ticket.

A number is taken only when a ticket is completed, in the same transaction that writes the
completed ticket. If that transaction fails, the counter's increment is rolled back with it, so
a number is never lost; a voided ticket keeps its number. Concurrent completions queue:

- SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the ticket is read, so
  one completion runs at a time (others wait up to the driver's busy timeout);
- PostgreSQL: the ticket row is read ``FOR UPDATE`` and the counter row is incremented by an
  ``UPDATE ... RETURNING``, whose row lock holds until commit; the next transaction then sees
  the committed value.

The counter row of a new year is created with ``INSERT ... ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.weighbridge.models import Ticket, TicketCounter

__all__ = ["locked_ticket", "number_text", "start_writing", "take_number"]


def start_writing(session: Session) -> None:
    """Begin the transaction that may take a number (SQLite: hold the write lock from now)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    # pysqlite opens a transaction only at the first write; none has happened yet, or it
    # already holds the lock
    if raw is not None and not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def locked_ticket(session: Session, site_id: int, ticket_id: int) -> Ticket | None:
    """The ticket, re-read and locked for this transaction (PostgreSQL: FOR UPDATE)."""
    stmt = (
        select(Ticket)
        .where(Ticket.id == ticket_id, Ticket.site_id == site_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalar(stmt)


def take_number(session: Session, site_id: int, year: int) -> int:
    """The next ticket number of the site's year; part of the caller's transaction."""
    return next_in_sequence(session, TicketCounter, site_id, year)


def next_in_sequence(session: Session, counter: type[Any], site_id: int, year: int) -> int:
    """The next number of a gap-free per site and year counter table (tickets, invoices).

    The row is created if missing, then incremented with UPDATE ... RETURNING inside the
    caller's transaction: concurrent callers wait on the row lock, so numbers never repeat and,
    since a rolled-back transaction undoes its increment, never leave a gap.
    """
    dialect = session.connection().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(counter).values(site_id=site_id, year=year, last_number=0).on_conflict_do_nothing()
    )
    number = session.execute(
        update(counter)
        .where(counter.site_id == site_id, counter.year == year)
        .values(last_number=counter.last_number + 1)
        .returning(counter.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return int(number)


def number_text(year: int | None, number: int | None) -> str | None:
    """The number as printed: ``2026-000123``."""
    if year is None or number is None:
        return None
    return f"{year}-{number:06d}"
