"""SQL tables of the weighbridge: clients, waste types, vehicles, tickets, weights, counters.

A ticket keeps a copy of what it showed (plate, client name and INN, waste code), so later
changes to the registry never change an issued ticket. Migration 0004 creates these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base
from landfill.contract import utcnow

__all__ = ["Client", "Ticket", "TicketCounter", "TicketWeight", "Vehicle", "WasteType"]


class Client(Base):
    """A legal entity that brings waste and is billed for it."""

    __tablename__ = "client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    inn: Mapped[str] = mapped_column(String(14))
    contract_no: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    vat_payer: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | on_hold
    tariff_group: Mapped[str] = mapped_column(String(64), default="")  # billing: 0005
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class WasteType(Base):
    """A kind of waste the gate accepts or refuses, named in ky, ru and en."""

    __tablename__ = "waste_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    code: Mapped[str] = mapped_column(String(64))
    name_ky: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    accepted: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Vehicle(Base):
    """A truck by its canonical plate, its owner, stored tare and defaults."""

    __tablename__ = "vehicle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    plate: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), nullable=True)
    tare_kg: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tare_set_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    tare_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    volume_m3: Mapped[float | None] = mapped_column(Float, nullable=True)
    waste_type_id: Mapped[int | None] = mapped_column(ForeignKey("waste_type.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Ticket(Base):
    """A weighing ticket: open after the first weight, completed (numbered) or voided."""

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|completed|voided
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"))
    plate: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), nullable=True)
    client_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    client_name: Mapped[str] = mapped_column(String(300), default="")
    client_inn: Mapped[str] = mapped_column(String(14), default="")
    waste_type_id: Mapped[int | None] = mapped_column(ForeignKey("waste_type.id"), nullable=True)
    waste_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    zone: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    gross_kg: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tare_kg: Mapped[int | None] = mapped_column(Integer, nullable=True)
    net_kg: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tare_source: Mapped[str | None] = mapped_column(String(16), nullable=True)  # weighed|stored
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    scale_events: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(100), default="")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    voided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    void_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    prints: Mapped[int] = mapped_column(Integer, default=0)
    last_printed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the newest state of a numbered ticket the broker acknowledged; NULL: (re)publish it
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TicketWeight(Base):
    """One weight of a ticket: a capture (with its raw frames), a manual entry or a stored tare."""

    __tablename__ = "ticket_weight"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    pass_no: Mapped[int] = mapped_column(Integer)  # 1 or 2
    source: Mapped[str] = mapped_column(String(16))  # capture | manual | stored_tare
    capture_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    scale_id: Mapped[int | None] = mapped_column(ForeignKey("scale.id"), nullable=True)
    scale_code: Mapped[str] = mapped_column(String(64), default="")
    weight_kg: Mapped[int] = mapped_column(Integer)
    weighed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    division_kg: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stable_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    protocol: Mapped[str] = mapped_column(String(64), default="")
    raw: Mapped[str] = mapped_column(Text, default="")  # frames as hex, space separated
    manual_reason: Mapped[str] = mapped_column(String(500), default="")
    actor: Mapped[str] = mapped_column(String(100), default="")
    actor_role: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TicketCounter(Base):
    """The last ticket number issued at a site in a year (locked while a number is taken)."""

    __tablename__ = "ticket_counter"

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
