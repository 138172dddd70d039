"""Tariffs: a price per tonne, m³ or load, for a waste type or any, for a client, a group or all.

Which tariff prices a ticket (its client, waste type and local day of completion): the most
specific one valid that day, in this order:

    1 the client's own, for the waste type      4 the client's group, for any waste type
    2 the client's own, for any waste type      5 everyone's, for the waste type
    3 the client's group, for the waste type    6 everyone's, for any waste type

Validity is ``valid_from`` to ``valid_to``, both days included (no end: open). Two tariffs of one
scope (the same client or group or everyone, and the same waste type or any) may not overlap in
time, so at most one tariff of each rank is valid on a day and the choice never depends on the
order of rows. A ticket no tariff prices is listed as unpriced and cannot be invoiced.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.billing.models import Tariff
from landfill.names import NAME_PATTERN

__all__ = ["Scope", "TariffBook", "TariffFields", "overlapping", "scope_of"]

Money = Field(ge=0, max_digits=12, decimal_places=2)


class TariffFields(BaseModel):
    """A tariff as the API takes it; client, group and waste type by code (none: any)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=NAME_PATTERN)
    waste_type: str | None = Field(None, pattern=NAME_PATTERN, description="none: any")
    client: str | None = Field(None, pattern=NAME_PATTERN, description="one client's tariff")
    client_group: str | None = Field(
        None, pattern=NAME_PATTERN, description="the tariff of a group (client's tariff_group)"
    )
    unit: Literal["t", "m3", "load"]
    price: Decimal = Money
    min_charge: Decimal = Field(Decimal("0.00"), ge=0, max_digits=12, decimal_places=2)
    vat: bool = Field(True, description="the service bears VAT (for clients that pay it)")
    valid_from: date
    valid_to: date | None = Field(None, description="last day, included; none: open")
    note: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> TariffFields:
        if self.client and self.client_group:
            raise ValueError("a tariff is for a client or for a group, not both")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


@dataclass(frozen=True)
class Scope:
    """Who and what a tariff is for; tariffs of one scope may not overlap in time."""

    client_id: int | None
    client_group: str | None
    waste_type_id: int | None


def scope_of(tariff: Tariff) -> Scope:
    """A tariff's scope."""
    return Scope(tariff.client_id, tariff.client_group, tariff.waste_type_id)


def overlapping(session: Session, tariff: Tariff) -> Tariff | None:
    """Another tariff of the same scope whose dates meet this one's, if any."""
    stmt = select(Tariff).where(
        Tariff.site_id == tariff.site_id,
        Tariff.id != (tariff.id or -1),
        _same(Tariff.client_id, tariff.client_id),
        _same(Tariff.client_group, tariff.client_group),
        _same(Tariff.waste_type_id, tariff.waste_type_id),
        (Tariff.valid_to.is_(None)) | (Tariff.valid_to >= tariff.valid_from),
    )
    if tariff.valid_to is not None:
        stmt = stmt.where(Tariff.valid_from <= tariff.valid_to)
    return session.scalars(stmt.limit(1)).first()


def _same(column: Any, value: object) -> Any:
    return column.is_(None) if value is None else column == value


class TariffBook:
    """Every tariff of a site, indexed for picking one per ticket without a query each."""

    def __init__(self, tariffs: list[Tariff]) -> None:
        by_scope: dict[Scope, list[Tariff]] = defaultdict(list)
        for t in tariffs:
            by_scope[scope_of(t)].append(t)
        self._scopes = {s: sorted(ts, key=lambda t: t.valid_from) for s, ts in by_scope.items()}
        self._starts = {s: [t.valid_from for t in ts] for s, ts in self._scopes.items()}

    @classmethod
    def load(cls, session: Session, site_id: int) -> TariffBook:
        """The site's tariffs."""
        return cls(list(session.scalars(select(Tariff).where(Tariff.site_id == site_id))))

    def _valid(self, scope: Scope, day: date) -> Tariff | None:
        starts = self._starts.get(scope)
        if not starts:
            return None
        i = bisect_right(starts, day) - 1
        if i < 0:
            return None
        found = self._scopes[scope][i]
        return found if found.valid_to is None or day <= found.valid_to else None

    def pick(
        self, client_id: int | None, group: str, waste_type_id: int | None, day: date
    ) -> Tariff | None:
        """The tariff of a ticket (ranks in the module docstring); None: no tariff applies."""
        groups = [group] if group else []
        candidates = [
            Scope(client_id, None, waste_type_id),
            Scope(client_id, None, None),
            *(Scope(None, g, waste_type_id) for g in groups),
            *(Scope(None, g, None) for g in groups),
            Scope(None, None, waste_type_id),
            Scope(None, None, None),
        ]
        for scope in candidates:
            found = self._valid(scope, day)
            if found is not None:
                return found
        return None
