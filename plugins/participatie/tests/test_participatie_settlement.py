"""The Participatie success reward at settlement: nothing by default (the reward per trajectory is
already in the realisation), outflows × a region's or municipality's own reward per outflow on top
of the settled value (amounts worked out by hand)."""
from decimal import Decimal

import pytest

from portal import hookimpl
from portal.registry import SettlementParameter
from portal.settlement.engine import Agreement, settle

REGION = "noord-limburg"
VENLO, VENRAY = "0983", "0984"
NBSP = "\xa0"


class RegionAgreements:
    """Noord-Limburg pays 1.500 per outflow in S1; Venray agreed 333,335 (to test the rounding)."""

    @hookimpl
    def portal_settlement_parameters(self):
        return [
            SettlementParameter("participatie.success_reward", "reward_per_outflow", "1500.00", REGION,
                                segment="participatie.S1"),
            SettlementParameter("participatie.success_reward", "reward_per_outflow", "333.335", REGION,
                                municipality=VENRAY),
        ]


@pytest.fixture
def app_config():
    return {"EXTRA_PLUGINS": [RegionAgreements()]}


@pytest.fixture
def registry(app):
    return app.extensions["portal.registry"]


def _agreement(segment="participatie.S1", municipality=VENLO):
    # Budget 50.000 with a band of 10%; realisation 48.000 lies inside it, so the budget is settled.
    return Agreement(id="p1", provider="Werkbedrijf Noord", municipality=municipality, segment=segment,
                     kind="budget", budget=Decimal("50000.00"), advances_paid=Decimal("50000.00"),
                     bandwidth=Decimal("0.10"), realisation=Decimal("48000.00"))


def _settle(registry, agreement, outflow, region=REGION):
    results = {"p1": {"uitstroom_werk": Decimal(outflow)}}

    def adjustments(a):
        return registry.settlement_adjustments(a.segment, region, a.municipality, results)

    return settle(2026, [agreement], adjustments=adjustments).settlements[0]


def test_rule_is_registered_with_a_documented_default(registry):
    rule = registry.settlement_rules["participatie.success_reward"]
    assert rule.segments == ("participatie.S1", "participatie.S2")
    assert rule.parameters == {"reward_per_outflow": "0.00"}
    assert "'reward_per_outflow'" in rule.description and "Standaard 0,00" in rule.description
    assert registry.settlement_adjustments("participatie.S3", REGION, VENLO) == []


def test_by_default_nothing_is_added(registry):
    settlement = _settle(registry, _agreement(), 3, region="rivierenland")
    assert settlement.settled_value == Decimal("50000.00") and settlement.due == Decimal("0.00")
    assert not any("Beloning" in line for line in settlement.explanation)


def test_region_reward_per_outflow_is_paid_on_top_of_the_budget(registry):
    # 3 outflows × 1.500 = 4.500 on top of the budget settled inside the band: 54.500, paid 4.500 extra.
    settlement = _settle(registry, _agreement(), 3)
    assert settlement.settled_value == Decimal("54500.00")
    assert settlement.due == Decimal("4500.00") and settlement.direction == "additional_payment"
    assert (f"Beloning bij succes: 3 trajecten met uitstroom naar werk × €{NBSP}1.500,00 = + €{NBSP}4.500,00."
            in settlement.explanation)
    assert settlement.explanation[-1] == f"Nabetaling aan de zorgaanbieder: €{NBSP}4.500,00."
    # The region set S1 only: S2 keeps the default.
    assert _settle(registry, _agreement(segment="participatie.S2"), 3).settled_value == Decimal("50000.00")
    # No outflow, no reward.
    assert _settle(registry, _agreement(), 0).settled_value == Decimal("50000.00")


def test_municipality_reward_rounds_half_up_to_the_cent(registry):
    # Venray: 3 × 333,335 = 1.000,005 → 1.000,01 (half-up), in S1 and S2 alike.
    for segment in ("participatie.S1", "participatie.S2"):
        settlement = _settle(registry, _agreement(segment=segment, municipality=VENRAY), 3)
        assert settlement.settled_value == Decimal("51000.01")
        assert settlement.due == Decimal("1000.01")
    source = registry.settlement_parameters("participatie.success_reward", REGION, VENRAY, "participatie.S1")
    assert source["reward_per_outflow"].source.startswith("Eigen afspraak van gemeente")
