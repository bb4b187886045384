"""The rounding rules of docs/rounding.md."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.formatting import balance
from portal.money import parse_amount, split_by_weights, split_evenly, to_cents

D = Decimal


@pytest.mark.parametrize("value, expected", [
    ("0.005", "0.01"), ("0.004", "0.00"), ("-0.005", "-0.01"), ("2.675", "2.68"), ("1.2345", "1.23"),
])
def test_half_up_to_cents(value, expected):
    assert to_cents(D(value)) == D(expected)


@pytest.mark.parametrize("text, expected", [
    ("1.234,56", "1234.56"), ("1234,56", "1234.56"), ("1234.56", "1234.56"), ("€ 12,5", "12.5"),
    ("1.000.000", "1000000"), ("-5,25", "-5.25"), ("100.000", "100000"), ("1.5", "1.5"),
    ("12.3456", "12.3456"), ("0.125", "0.125"), ("1234.567", "1234.567"),
])
def test_parse_dutch_amounts(text, expected):
    assert parse_amount(text) == D(expected)


@pytest.mark.parametrize("text", ["", "abc", "1e3", "12,3,4", "5-", "--5", "1.23.4"])
def test_parse_refuses_noise(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_split_evenly_gives_extra_cents_to_the_first_parts():
    assert split_evenly(D("100.00"), 12) == [D("8.34")] * 4 + [D("8.33")] * 8
    assert split_evenly(D("-0.05"), 3) == [D("-0.02"), D("-0.02"), D("-0.01")]


def test_split_by_weights_largest_remainder():
    assert split_by_weights(D("10.00"), [D(1), D(1), D(1)]) == [D("3.34"), D("3.33"), D("3.33")]
    assert split_by_weights(D("1.00"), [D(2), D(1)]) == [D("0.67"), D("0.33")]


@given(cents=st.integers(min_value=-10**9, max_value=10**9),
       weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40)
       .filter(lambda w: sum(w) > 0))
def test_no_cent_created_or_lost(cents, weights):
    total = D(cents) / 100
    parts = split_by_weights(total, [D(w) for w in weights])
    assert sum(parts) == total
    assert all(part == to_cents(part) for part in parts)
    assert all(part == 0 for part, w in zip(parts, weights) if w == 0)


def test_a_balance_reads_in_words_never_with_a_minus_sign():
    assert balance(Decimal("-2051897.25")) == "terug te betalen €\xa02.051.897,25"
    assert balance(Decimal("1234.5")) == "na te betalen €\xa01.234,50"
    assert balance(Decimal("0")) == "€\xa00,00"
    assert balance(None) == ""
