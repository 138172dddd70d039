"""Money: Decimal som with tyiyn (2 places), and the one rounding rule of every amount billed.

The rule, stated once:

1. A ticket is one line. Its quantity is exact: tonnes are ``net_kg / 1000`` (3 places, no
   rounding, since weights are whole kg); m³ is the vehicle's body volume to 3 places; a load
   is 1.
2. The line's net amount is ``quantity × price`` rounded **half up to the tyiyn** (0.005 som
   becomes 0.01), then raised to the tariff's minimum charge if it is below it.
3. The line's VAT and sales tax are each ``net × rate / 100`` rounded half up to the tyiyn;
   the line's total is net + VAT + sales tax (no further rounding: all are whole tyiyn).
4. Every total (per waste type, per statement, per invoice, revenue) is the **sum of rounded
   lines**, never a rate applied to a sum; so a document's VAT may differ by a few tyiyn from
   12 % of its net, and the lines always add up to the total printed.
5. A credit note's lines are the invoice's lines with the sign turned, so they cancel exactly.

Nothing here uses float: volumes stored as float are converted through their shortest text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from landfill.numbers import number

__all__ = [
    "TYIYN",
    "ZERO",
    "Charge",
    "Unit",
    "charge",
    "money_text",
    "quantity_of",
    "to_tyiyn",
]

Unit = Literal["t", "m3", "load"]
TYIYN = Decimal("0.01")
ZERO = Decimal("0.00")
THOUSANDTH = Decimal("0.001")
HUNDRED = Decimal(100)


def to_tyiyn(amount: Decimal) -> Decimal:
    """``amount`` rounded half up to the tyiyn (two places)."""
    return amount.quantize(TYIYN, rounding=ROUND_HALF_UP)


def quantity_of(unit: Unit, net_kg: int, volume_m3: float | None) -> Decimal | None:
    """The billed quantity of one ticket; None when a per-m³ tariff meets a vehicle without one."""
    if unit == "t":
        return (Decimal(net_kg) / 1000).quantize(THOUSANDTH)
    if unit == "m3":
        if volume_m3 is None:
            return None
        return Decimal(repr(volume_m3)).quantize(THOUSANDTH, rounding=ROUND_HALF_UP)
    return Decimal(1).quantize(THOUSANDTH)


@dataclass(frozen=True)
class Charge:
    """One line's amounts in som; ``minimum`` says the minimum charge replaced the amount."""

    net: Decimal
    vat: Decimal
    sales_tax: Decimal
    minimum: bool

    @property
    def total(self) -> Decimal:
        """Net plus VAT plus sales tax."""
        return self.net + self.vat + self.sales_tax


def charge(
    quantity: Decimal, price: Decimal, min_charge: Decimal, vat_pct: Decimal, sales_tax_pct: Decimal
) -> Charge:
    """The amounts of one line under the rule above (``vat_pct`` 0 when VAT does not apply)."""
    net = to_tyiyn(quantity * price)
    minimum = net < min_charge
    if minimum:
        net = to_tyiyn(min_charge)
    return Charge(
        net=net,
        vat=to_tyiyn(net * vat_pct / HUNDRED),
        sales_tax=to_tyiyn(net * sales_tax_pct / HUNDRED),
        minimum=minimum,
    )


def money_text(amount: Decimal) -> str:
    """``12 345.60`` (a thin space between thousands, a point before the tyiyn)."""
    return number(amount, 2, "en")
