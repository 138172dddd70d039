"""Money and tariffs without a database: rounding on edge values, quantities, tariff choice.

The rule under test is stated once, in `api/billing/money.py`: half up to the tyiyn per line,
the minimum charge after rounding, VAT and sales tax per line, totals as sums of lines.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.billing.models import Tariff
from api.billing.money import charge, money_text, quantity_of, to_tyiyn
from api.billing.tariffs import TariffBook, TariffFields

D = Decimal


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.005", "0.01"),  # half a tyiyn goes up
        ("0.0049999", "0.00"),
        ("0.015", "0.02"),  # half up, not to even (banker's rounding would give 0.02 too)
        ("0.025", "0.03"),  # banker's rounding would give 0.02
        ("0.125", "0.13"),  # banker's: 0.12
        ("2.675", "2.68"),  # a float would print 2.67 (2.67499999...)
        ("-0.005", "-0.01"),  # a credit note's half tyiyn rounds away from zero as well
        ("99999999999.995", "100000000000.00"),
        ("0", "0.00"),
    ],
)
def test_half_up_to_the_tyiyn(amount, expected):
    assert to_tyiyn(D(amount)) == D(expected)
    assert str(to_tyiyn(D(amount))) == expected


@pytest.mark.parametrize(
    ("unit", "net_kg", "volume", "expected"),
    [
        ("t", 14560, None, "14.560"),
        ("t", 1, None, "0.001"),
        ("t", 0, None, "0.000"),
        ("m3", 14560, 16.0, "16.000"),
        ("m3", 14560, 10.3, "10.300"),  # through the float's shortest text, not 10.2999...
        ("m3", 14560, 7.0005, "7.001"),
        ("m3", 14560, None, None),  # a per-m³ tariff needs the vehicle's volume
        ("load", 14560, None, "1.000"),
    ],
)
def test_quantities_are_exact(unit, net_kg, volume, expected):
    got = quantity_of(unit, net_kg, volume)
    assert (None if got is None else str(got)) == expected


def test_a_line_at_445_som_per_tonne_with_vat():
    # 14 560 kg at the Bishkek gate fee: 6 479.20 som, VAT 777.504 -> 777.50
    c = charge(D("14.560"), D("445.00"), D("0"), D("12"), D("0"))
    assert (c.net, c.vat, c.sales_tax, c.total) == (
        D("6479.20"),
        D("777.50"),
        D("0.00"),
        D("7256.70"),
    )
    assert not c.minimum


def test_half_a_tyiyn_in_the_amount_vat_and_sales_tax():
    # 0.125 t x 0.25 = 0.03125 -> 0.03; 1.235 t x 445 = 549.575 -> 549.58
    assert charge(D("0.125"), D("0.25"), D("0"), D("0"), D("0")).net == D("0.03")
    c = charge(D("1.235"), D("445.00"), D("0"), D("12"), D("2"))
    assert c.net == D("549.58")
    assert c.vat == D("65.95")  # 65.9496 -> 65.95
    assert c.sales_tax == D("10.99")  # 10.9916 -> 10.99
    assert c.total == D("626.52")
    # VAT whose third place is exactly 5: 0.625 x 12 % = 0.075 -> 0.08
    assert charge(D("1"), D("0.625"), D("0"), D("12"), D("0")).vat == D("0.08")


def test_the_minimum_charge_replaces_a_smaller_amount_and_bears_the_taxes():
    small = charge(D("0.400"), D("445.00"), D("250.00"), D("12"), D("0"))
    assert small.minimum
    assert (small.net, small.vat, small.total) == (D("250.00"), D("30.00"), D("280.00"))
    equal = charge(D("1.000"), D("250.00"), D("250.00"), D("12"), D("0"))
    assert not equal.minimum  # equal to the minimum is not below it
    assert equal.net == D("250.00")
    # compared after rounding: 0.5 t x 499.99 = 249.995 -> 250.00, not below the minimum
    at_edge = charge(D("0.500"), D("499.99"), D("250.00"), D("0"), D("0"))
    assert (at_edge.net, at_edge.minimum) == (D("250.00"), False)


def test_no_vat_where_it_does_not_apply():
    c = charge(D("2.000"), D("445.00"), D("0"), D("0"), D("0"))
    assert (c.vat, c.total) == (D("0.00"), D("890.00"))


@given(
    st.lists(
        st.tuples(st.integers(1, 60_000), st.decimals("0", "5000", places=2)),
        min_size=1,
        max_size=30,
    )
)
def test_totals_are_sums_of_rounded_lines(lines):
    charges = [
        charge(quantity_of("t", kg, None), price, D("0"), D("12"), D("2")) for kg, price in lines
    ]  # type: ignore[arg-type]
    net = sum((c.net for c in charges), D("0"))
    vat = sum((c.vat for c in charges), D("0"))
    total = sum((c.total for c in charges), D("0"))
    assert total == net + vat + sum((c.sales_tax for c in charges), D("0"))
    assert all(x == to_tyiyn(x) for c in charges for x in (c.net, c.vat, c.sales_tax))
    # per line rounding: the document's VAT is within half a tyiyn per line of 12 % of its net
    assert abs(vat - net * D("0.12")) <= D("0.005") * len(lines)


def test_money_text():
    assert money_text(D("1234567.5")) == "1\u2009234\u2009567.50"
    assert money_text(D("-445")) == "-445.00"


# ---- tariff choice ----------------------------------------------------------------------------


def tariff(tid, *, client=None, group=None, waste=None, start="2026-01-01", end=None, price="100"):
    return Tariff(
        id=tid,
        code=f"t{tid}",
        client_id=client,
        client_group=group,
        waste_type_id=waste,
        unit="t",
        price=D(price),
        min_charge=D("0"),
        vat=True,
        valid_from=date.fromisoformat(start),
        valid_to=date.fromisoformat(end) if end else None,
    )


BOOK = TariffBook(
    [
        tariff(1),  # everyone, any waste, from 2026
        tariff(2, waste=7),  # everyone, waste 7
        tariff(3, group="firms", end="2026-06-30"),  # the group, any waste, first half
        tariff(4, group="firms", waste=7, start="2026-03-01", end="2026-03-31"),
        tariff(5, client=42),  # client 42, any waste
        tariff(6, client=42, waste=7, start="2026-05-01"),  # client 42, waste 7, from May
        tariff(8, start="2025-01-01", end="2025-12-31", price="90"),  # everyone, 2025
    ]
)


@pytest.mark.parametrize(
    ("client", "group", "waste", "day", "expected"),
    [
        (1, "", 9, "2026-02-01", 1),  # nothing specific: everyone's, any waste
        (1, "", 7, "2026-02-01", 2),  # the waste type's
        (1, "", 7, "2025-12-31", 8),  # last day of the old tariff, both days included
        (1, "", 7, "2024-12-31", None),  # before any tariff
        (1, "firms", 9, "2026-06-30", 3),  # the group's, its last day
        (1, "firms", 9, "2026-07-01", 1),  # the group's ended: everyone's
        (1, "firms", 7, "2026-03-15", 4),  # group + waste beats group + any
        (1, "firms", 7, "2026-04-01", 3),  # group + any beats everyone + waste
        (42, "firms", 7, "2026-04-30", 5),  # the client's own beats the group's
        (42, "firms", 7, "2026-05-01", 6),  # client + waste from its first day
        (42, "", None, "2026-05-01", 5),  # a ticket without a waste type
    ],
)
def test_the_most_specific_tariff_valid_that_day(client, group, waste, day, expected):
    found = BOOK.pick(client, group, waste, date.fromisoformat(day))
    assert (found.id if found else None) == expected


def test_tariff_fields_refuse_a_client_and_a_group_and_reversed_dates():
    base = {"code": "x", "unit": "t", "price": "445.00", "valid_from": "2026-01-01"}
    assert TariffFields.model_validate(base).price == D("445.00")
    for bad in (
        {"client": "a", "client_group": "b"},
        {"valid_to": "2025-12-31"},
        {"price": "-1"},
        {"price": "1.001"},  # money has two places
        {"unit": "kg"},
    ):
        with pytest.raises(ValueError):
            TariffFields.model_validate(base | bad)
