"""The population key (verdeelsleutel inwonertallen) reproduces the table of 000 §9 to the euro,
says out loud where its parts do not add up, and the exact method never creates or loses a euro."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from portal.settlement.cost_allocation import allocate, population_key, split_by_realisation

# Residents on 1-1-2020, in the order of the table of 000 §9.
RESIDENTS = {"Beesel": 13_483, "Bergen (L)": 13_085, "Gennep": 16_935, "Horst aan de Maas": 42_407,
             "Peel en Maas": 43_430, "Venray": 43_596, "Venlo": 101_797}
SHARES = {"Beesel": "4.91", "Bergen (L)": "4.76", "Gennep": "6.16", "Horst aan de Maas": "15.44",
          "Peel en Maas": "15.81", "Venray": "15.87", "Venlo": "37.05"}
TABLE_2020 = {"Beesel": 10_829, "Bergen (L)": 10_498, "Gennep": 13_586, "Horst aan de Maas": 34_053,
              "Peel en Maas": 34_869, "Venray": 35_001, "Venlo": 81_714}
TABLE_2021 = {"Beesel": 10_557, "Bergen (L)": 10_234, "Gennep": 13_244, "Horst aan de Maas": 33_196,
              "Peel en Maas": 33_992, "Venray": 34_121, "Venlo": 79_658}


def amounts(allocation) -> dict[str, Decimal]:
    return {part.name: part.amount for part in allocation.parts}


def test_the_shares_are_the_tables_percentages_to_two_decimals():
    assert population_key(RESIDENTS) == {name: Decimal(share) for name, share in SHARES.items()}
    assert sum(population_key(RESIDENTS).values()) == Decimal("100.00")


def test_shares_round_half_up():
    assert population_key({"a": 1, "b": 7}) == {"a": Decimal("12.50"), "b": Decimal("87.50")}
    assert population_key({"a": 1, "b": 39_999})["a"] == Decimal("0.00")  # 0.0025%
    assert population_key({"a": 1, "b": 7_999})["a"] == Decimal("0.01")  # 0.0125%
    assert population_key({"a": 1, "b": 3_999})["a"] == Decimal("0.03")  # 0.025%: half-up, not half-even


def test_2020_column_is_reproduced_to_the_euro_and_adds_up():
    allocation = allocate(Decimal("220550"), RESIDENTS)
    assert amounts(allocation) == {name: Decimal(value) for name, value in TABLE_2020.items()}
    assert allocation.total == Decimal("220550")
    assert allocation.rounding_difference == 0


def test_2021_column_is_reproduced_to_the_euro_and_the_two_extra_euros_are_reported():
    allocation = allocate(Decimal("215000"), RESIDENTS, method="table")
    assert amounts(allocation) == {name: Decimal(value) for name, value in TABLE_2021.items()}
    assert allocation.total == Decimal("215002")
    assert allocation.rounding_difference == Decimal("2")
    assert allocation.residents_total == 274_733
    assert allocation.shares_total == Decimal("100.00")


def test_exact_method_adds_up_and_keeps_the_key():
    allocation = allocate(Decimal("215000"), RESIDENTS, method="exact")
    assert allocation.total == Decimal("215000")
    assert allocation.rounding_difference == 0
    table = amounts(allocate(Decimal("215000"), RESIDENTS))
    for name, amount in amounts(allocation).items():
        assert amount == amount.to_integral_value(), "whole euros"
        assert abs(amount - table[name]) <= 1, name  # only where the rounding euros go differs
    # the 2020 column already adds up: exact gives the very same parts
    assert amounts(allocate(Decimal("220550"), RESIDENTS, method="exact")) == amounts(
        allocate(Decimal("220550"), RESIDENTS))


def test_exact_method_splits_an_amount_with_cents_in_cents():
    allocation = allocate(Decimal("1000.01"), {"a": 1, "b": 1, "c": 1}, method="exact")
    assert [part.amount for part in allocation.parts] == [Decimal("333.34"), Decimal("333.34"), Decimal("333.33")]


@pytest.mark.parametrize("amount, residents, method, message", [
    (Decimal("-1"), RESIDENTS, "table", "0 of meer"),
    (Decimal("1.001"), RESIDENTS, "table", "twee decimalen"),
    (Decimal("1"), RESIDENTS, "fair", "onbekende methode"),
    (Decimal("1"), {}, "table", "geen gemeenten"),
    (Decimal("1"), {"a": 0}, "table", "geen inwoners"),
    (Decimal("1"), {"a": -5, "b": 10}, "table", "inwonertal van a"),
])
def test_refusals(amount, residents, method, message):
    with pytest.raises(ValueError, match=message):
        allocate(amount, residents, method)


residents_strategy = st.dictionaries(st.text(min_size=1, max_size=8), st.integers(min_value=0, max_value=2_000_000),
                                     min_size=1, max_size=12).filter(lambda r: sum(r.values()) > 0)


@settings(max_examples=300, deadline=None)
@given(residents=residents_strategy, euros=st.integers(min_value=0, max_value=10**12))
def test_exact_method_never_creates_or_loses_a_euro(residents, euros):
    allocation = allocate(Decimal(euros), residents, method="exact")
    assert allocation.total == Decimal(euros)
    assert allocation.rounding_difference == 0
    assert all(part.amount >= 0 and part.amount == part.amount.to_integral_value() for part in allocation.parts)
    # and each part is within a euro of its exact share of the key
    key_total = sum(population_key(residents).values())
    if key_total:
        for part in allocation.parts:
            assert abs(part.amount - Decimal(euros) * part.share / key_total) < 1


@settings(max_examples=200, deadline=None)
@given(residents=residents_strategy, cents=st.integers(min_value=0, max_value=10**12))
def test_table_method_reports_exactly_what_it_adds_or_drops(residents, cents):
    amount = Decimal(cents) / 100
    allocation = allocate(amount, residents)
    assert allocation.total == sum(part.amount for part in allocation.parts)
    assert allocation.rounding_difference == allocation.total - amount
    for part in allocation.parts:
        assert abs(part.amount - amount * part.share / 100) <= Decimal("0.5")


def test_shared_costs_are_split_by_realisation_in_cents_that_add_up():
    # 1.000,00 over realisation 1 : 1 : 1 → 333,34 + 333,33 + 333,33 (the first gets the cent)
    parts = split_by_realisation(Decimal("1000.00"), {"Beesel": Decimal("50"), "Gennep": Decimal("50"),
                                                      "Venlo": Decimal("50")})
    assert parts == {"Beesel": Decimal("333.34"), "Gennep": Decimal("333.33"), "Venlo": Decimal("333.33")}
    # by share of realisation: 25% / 75%
    assert split_by_realisation(Decimal("80.00"), {"A": Decimal("100000"), "B": Decimal("300000")}) == {
        "A": Decimal("20.00"), "B": Decimal("60.00")}
    # a municipality without realisation pays nothing
    assert split_by_realisation(Decimal("10.00"), {"A": Decimal("0"), "B": Decimal("5")})["A"] == Decimal("0.00")
    for bad in ({}, {"A": Decimal(0)}, {"A": Decimal(-1), "B": Decimal(2)}):
        with pytest.raises(ValueError):
            split_by_realisation(Decimal("10.00"), bad)
    with pytest.raises(ValueError):
        split_by_realisation(Decimal("10.005"), {"A": Decimal(1)})


@given(amount=st.integers(min_value=0, max_value=10**11),
       weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=12))
@settings(max_examples=200, deadline=None)
def test_split_by_realisation_never_creates_or_loses_a_cent(amount, weights):
    assume(sum(weights) > 0)
    total = Decimal(amount) / 100
    parts = split_by_realisation(total, {f"g{i}": Decimal(w) for i, w in enumerate(weights)})
    assert sum(parts.values()) == total
    assert all(part == part.quantize(Decimal("0.01")) and part >= 0 for part in parts.values())
