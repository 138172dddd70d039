"""A weighbridge registry and captures for ticket tests, written the way edge and ingest do."""

from __future__ import annotations

import weakref
from datetime import datetime, timedelta

from fastapi import FastAPI

from ingest.points import capture_line, scale_event_line
from landfill.contract import Capture, ScaleEvent
from landfill.influx import InfluxStore
from tests.api.conftest import add_token

# Yaohua A9 frames of a truck at 14 560 kg (constructed from the documented layout, XOR checked)
RAW = ["022b30313435363030313703", "022b30313435363030313703"]
INN_ORG = "01803200210104"  # an organisation: 0, then digits
INN_PERSON = "21203199001234"  # a man born on 12.03.1990


def capture(influx: InfluxStore, site: str, kg: int, ts: datetime, scale: str = "wb1") -> str:
    """Store one capture as ingest does; return its id."""
    msg = Capture.weighed(
        ts=ts,
        site=site,
        scale=scale,
        weight_kg=kg,
        division_kg=20,
        stable_ms=2400,
        protocol="yaohua-a9",
        raw=RAW,
    )
    line = capture_line(msg)
    assert line is not None
    influx.write_lines([line])
    return msg.id


def scale_event(influx: InfluxStore, site: str, kind: str, ts: datetime, scale: str = "wb1") -> str:
    """Store one scale event as ingest does; return its id."""
    msg = ScaleEvent(ts=ts, site=site, scale=scale, event=kind, weight_kg=15000, detail=kind)  # type: ignore[arg-type]
    line = scale_event_line(msg)
    assert line is not None
    influx.write_lines([line])
    return msg.id


def seed_registry(api, site: str, now: datetime) -> None:
    """Scale wb1 (400..60 000 kg, e = 20), clients, waste types and vehicles."""
    scale = {"site": site, "code": "wb1", "name": "Weighbridge 60 t", "division_kg": 20}
    assert api.post("/api/v1/scales", json=scale | {"min_kg": 400}).status_code == 201
    for body in (
        {"code": "tazalyk", "name": "ОсОО «Тазалык»", "inn": INN_ORG, "vat_payer": True},
        {"code": "hold", "name": "ОсОО «Карыз»", "inn": "00303200710150", "status": "on_hold"},
        {"code": "ip-asanov", "name": "ИП Асанов", "inn": INN_PERSON},
    ):
        assert api.post("/api/v1/clients", json=body).status_code == 201, body
    for body in (
        {"code": "msw", "name_ky": "Тиричилик калдыктары", "name_ru": "ТБО", "name_en": "MSW"},
        {
            "code": "medical",
            "name_ky": "Медициналык калдыктар",
            "name_ru": "Медицинские отходы",
            "name_en": "Medical waste",
            "accepted": False,
        },
    ):
        assert api.post("/api/v1/waste-types", json=body).status_code == 201, body
    tare_set = now - timedelta(days=10)
    for body in (
        {"plate": "01 KG 123 ABC", "client": "tazalyk", "waste_type": "msw", "volume_m3": 16},
        {
            "plate": "08KG777XYZ",
            "client": "tazalyk",
            "waste_type": "msw",
            "tare_kg": 9000,
            "tare_set_at": tare_set.isoformat(),
            "tare_expires_at": (now + timedelta(days=20)).isoformat(),
        },
        {
            "plate": "08KG555OLD",
            "client": "tazalyk",
            "waste_type": "msw",
            "tare_kg": 8800,
            "tare_set_at": (now - timedelta(days=400)).isoformat(),
            "tare_expires_at": (now - timedelta(days=35)).isoformat(),
        },
        {"plate": "02KG100HLD", "client": "hold", "waste_type": "msw"},
        {"plate": "03KG200MED", "client": "tazalyk", "waste_type": "medical"},
    ):
        resp = api.post("/api/v1/vehicles", json=body)
        assert resp.status_code == 201, resp.text


# (role, token name): the name a ticket records as who weighed or voided
SUPERVISOR = ("supervisor", "aigul")
OPERATOR = ("operator", "bakyt")
_TOKENS: weakref.WeakKeyDictionary[FastAPI, dict[tuple[str, str], str]] = (
    weakref.WeakKeyDictionary()
)


def auth_headers(api, who: tuple[str, str]) -> dict[str, str]:
    """The Authorization header of this role's token on this API (made once per app)."""
    tokens = _TOKENS.setdefault(api.app, {})
    if who not in tokens:
        role, name = who
        tokens[who] = add_token(api.app, role, name)
    return {"Authorization": f"Bearer {tokens[who]}"}
