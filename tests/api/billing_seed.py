"""A billing registry and completed tickets, written straight into the API's SQL database.

Tickets are inserted as the ledger keeps them (numbered, completed at a given time, with the
capture that weighed them), so billing tests need no broker round trip per ticket. Clients:

    alpha   VAT payer, tariff group "firms"      beta   not a VAT payer
    gamma   VAT payer, its own per-load tariff   delta  VAT payer, no tariff prices its "tires"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import count

from fastapi import FastAPI
from sqlalchemy import select

from api.db import Site
from api.weighbridge.models import Client, Ticket, TicketWeight, Vehicle, WasteType

INNS = {
    "alpha": "01803200210104",
    "beta": "00303200710150",
    "gamma": "02204201910011",
    "delta": "01111201810033",
}
NAMES = {
    "alpha": "ОсОО «Альфа Курулуш»",
    "beta": "ОсОО «Бета Соода»",
    "gamma": "ОсОО «Гамма Транс»",
    "delta": "ОсОО «Дельта Агро»",
}


@dataclass
class Seeded:
    """Ids of what was seeded, by code."""

    site_id: int
    clients: dict[str, int] = field(default_factory=dict)
    wastes: dict[str, int] = field(default_factory=dict)
    vehicles: dict[str, int] = field(default_factory=dict)
    numbers: count = field(default_factory=lambda: count(1))


def seed_billing(app: FastAPI, site: str) -> Seeded:
    """Clients, waste types and one vehicle per client (16 m³ body)."""
    with app.state.sessions() as session:
        site_id = session.scalar(select(Site.id).where(Site.code == site))
        assert site_id is not None
        seeded = Seeded(site_id)
        for code, names in {
            "msw": ("Тиричилик калдыктары", "ТБО", "Municipal solid waste"),
            "construction": ("Курулуш калдыктары", "Строительные отходы", "Construction waste"),
            "tires": ("Эски шиналар", "Старые шины", "Old tyres"),
        }.items():
            row = WasteType(
                site_id=site_id, code=code, name_ky=names[0], name_ru=names[1], name_en=names[2]
            )
            session.add(row)
            session.flush()
            seeded.wastes[code] = row.id
        for code, inn in INNS.items():
            client = Client(
                site_id=site_id,
                code=code,
                name=NAMES[code],
                inn=inn,
                contract_no=f"D-{code}",
                address="Ноокен району",
                vat_payer=code != "beta",
                tariff_group="firms" if code == "alpha" else "",
            )
            session.add(client)
            session.flush()
            seeded.clients[code] = client.id
            plate = f"01KG{100 + len(seeded.vehicles)}{code[:3].upper()}"
            vehicle = Vehicle(site_id=site_id, plate=plate, client_id=client.id, volume_m3=16.0)
            session.add(vehicle)
            session.flush()
            seeded.vehicles[code] = vehicle.id
        session.commit()
    return seeded


def add_ticket(
    app: FastAPI,
    seeded: Seeded,
    client: str,
    waste: str,
    net_kg: int,
    completed_at: datetime,
    status: str = "completed",
) -> tuple[int, str]:
    """A numbered ticket completed at ``completed_at``; returns its id and number text."""
    number = next(seeded.numbers)
    tare = 9000
    with app.state.sessions() as session:
        vehicle = session.get(Vehicle, seeded.vehicles[client])
        assert vehicle is not None
        ticket = Ticket(
            site_id=seeded.site_id,
            status=status,
            year=completed_at.year,
            number=number,
            vehicle_id=vehicle.id,
            plate=vehicle.plate,
            client_id=seeded.clients[client],
            client_code=client,
            client_name=NAMES[client],
            client_inn=INNS[client],
            waste_type_id=seeded.wastes[waste],
            waste_code=waste,
            gross_kg=net_kg + tare,
            tare_kg=tare,
            net_kg=net_kg,
            tare_source="weighed",
            opened_at=completed_at,
            completed_at=completed_at,
            completed_by="op",
            voided_at=completed_at if status == "voided" else None,
            published_at=completed_at,
        )
        session.add(ticket)
        session.flush()
        for pass_no, kg in ((1, net_kg + tare), (2, tare)):
            session.add(
                TicketWeight(
                    ticket_id=ticket.id,
                    pass_no=pass_no,
                    source="capture",
                    capture_id=f"c{seeded.site_id}-{number}-{pass_no}",
                    scale_code="wb1",
                    weight_kg=kg,
                    weighed_at=completed_at,
                )
            )
        session.commit()
        return ticket.id, f"{completed_at.year}-{number:06d}"
