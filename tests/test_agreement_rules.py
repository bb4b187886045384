"""Rules of additional agreements, extra capacity and municipal choices (pure functions)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal.contracts import rules

D = Decimal


def test_only_regional_providers_get_additional_agreements():
    assert rules.additional_agreement_refusal("regional", True) is None
    assert "lokale perceel" in rules.additional_agreement_refusal("local", True)
    assert "geen raamovereenkomst" in rules.additional_agreement_refusal("regional", False)
    assert "geen raamovereenkomst" in rules.additional_agreement_refusal(None, False)


def test_advances_add_up_to_the_budget():
    advances = rules.advance_schedule(D("1000000.01"), 12)
    assert sum(advances) == D("1000000.01") and len(advances) == 12
    assert advances[0] == D("83333.34") and advances[-1] == D("83333.33")
    assert rules.advance_schedule(D("10.00"), 4) == [D("2.50")] * 4
    with pytest.raises(ValueError):
        rules.advance_schedule(D("10.00"), 5)


def test_extra_capacity_at_most_ten_percent():
    assert rules.extra_capacity_refusal(D("1000000.00"), D("60000.00"), D("40000.00")) is None
    message = rules.extra_capacity_refusal(D("1000000.00"), D("60000.00"), D("40000.01"))
    assert "10%" in message and "€\xa040.000,00" in message
    assert rules.extra_capacity_room(D("999.99"), D(0)) == D("100.00")


def test_one_funding_form_per_segment():
    allowed = ("trajectory", "budget_agreement")
    assert rules.funding_form_refusal(["trajectory"], allowed) is None
    assert "één bekostigingssystematiek" in rules.funding_form_refusal(["trajectory", "budget_agreement"], allowed)
    assert "hoort niet" in rules.funding_form_refusal(["pxq"], allowed)
    assert rules.funding_form_refusal([], allowed)


def test_a_segment_may_allow_a_combination_of_funding_forms():
    allowed = ("availability", "trajectory", "budget_agreement")
    combinations = (frozenset({"availability", "trajectory"}),)
    assert rules.funding_form_refusal(["trajectory", "availability"], allowed, combinations) is None
    refused = rules.funding_form_refusal(["trajectory", "budget_agreement"], allowed, combinations)
    assert "één bekostigingssystematiek" in refused and "beschikbaarheidsfinanciering plus" in refused
    assert "één bekostigingssystematiek" in rules.funding_form_refusal(
        ["availability", "trajectory", "budget_agreement"], allowed, combinations)
    assert "hoort niet" in rules.funding_form_refusal(["availability", "pxq"], allowed, combinations)
