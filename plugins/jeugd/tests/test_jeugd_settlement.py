"""Jeugd settlement rules: shared savings in S3/S4 and bonus–malus in S1, with their defaults and a
region's and municipality's own values, settled by the engine (amounts worked out by hand)."""
from decimal import Decimal

import pytest

from portal import hookimpl
from portal.registry import SettlementParameter
from portal.settlement.engine import Agreement, settle

REGION = "noord-limburg"
VENLO, BEESEL = "0983", "0889"
NBSP = "\xa0"


class RegionAgreements:
    """Noord-Limburg's own agreements: S4 shares 40% of an underspend; Venlo in S3 shares 25% and
    asks a higher S1 target."""

    @hookimpl
    def portal_settlement_parameters(self):
        return [
            SettlementParameter("jeugd.shared_savings", "share", "0.40", REGION, segment="jeugd.S4"),
            SettlementParameter("jeugd.shared_savings", "share", "0.25", REGION, municipality=VENLO,
                                segment="jeugd.S3", reason="Venlo houdt meer van de besparing"),
            SettlementParameter("jeugd.bonus_malus", "target", "0.80", REGION, municipality=VENLO),
        ]


@pytest.fixture
def app_config():
    return {"EXTRA_PLUGINS": [RegionAgreements()]}


@pytest.fixture
def registry(app):
    return app.extensions["portal.registry"]


def _settle(registry, agreement, results=None):
    def adjustments(a):
        return registry.settlement_adjustments(a.segment, REGION, a.municipality, results)

    return settle(2026, [agreement], adjustments=adjustments).settlements[0]


def _budget(segment="jeugd.S3", municipality=BEESEL, **values):
    fields = {"budget": Decimal("100000.00"), "advances_paid": Decimal("100000.00"),
              "bandwidth": Decimal("0.05"), **values}
    return Agreement(id="a1", provider="Zorggroep Maasland", municipality=municipality, segment=segment,
                     kind="budget", **fields)


def test_rules_are_registered_with_documented_parameters(registry):
    savings = registry.settlement_rules["jeugd.shared_savings"]
    assert savings.segments == ("jeugd.S3", "jeugd.S4")
    assert savings.parameters == {"share": "0.50"}
    bonus_malus = registry.settlement_rules["jeugd.bonus_malus"]
    assert bonus_malus.segments == ("jeugd.S1",)
    assert bonus_malus.parameters == {"target": "0.70", "margin": "0.05", "bonus": "0.02", "malus": "0.02"}
    for rule in (savings, bonus_malus):
        for name in rule.parameters:
            assert f"'{name}'" in rule.description, (rule.id, name)
    assert "0,50" in savings.description and "0,70" in bonus_malus.description
    assert [r.rule.id for r in registry.settlement_adjustments("jeugd.S2", REGION, BEESEL)] == []


def test_shared_savings_leaves_half_the_underspend_with_the_provider(registry):
    # Realisation 80.000 lies below the band (95.000–105.000) and is settled in full; underspend
    # 100.000 − 80.000 = 20.000, half of it (10.000) stays: settled 90.000, repayment 10.000.
    settlement = _settle(registry, _budget(realisation=Decimal("80000.00")))
    assert settlement.settled_value == Decimal("90000.00")
    assert settlement.due == Decimal("-10000.00")
    assert (f"Gedeelde besparing: budget €{NBSP}100.000,00 − afgerekend €{NBSP}80.000,00 = onderbesteding "
            f"€{NBSP}20.000,00; 50% daarvan blijft bij de zorgaanbieder: + €{NBSP}10.000,00.") in settlement.explanation
    assert settlement.explanation[-2] == f"Afgerekende waarde: €{NBSP}90.000,00; al betaalde voorschotten: €{NBSP}100.000,00."
    assert settlement.explanation[-1] == f"Terugbetaling door de zorgaanbieder: €{NBSP}10.000,00."


def test_shared_savings_rounds_half_up_to_the_cent(registry):
    # Bandwidth 0: realisation 987,67 is settled; underspend 12,33 × 0,50 = 6,165 → 6,17 (half-up).
    agreement = _budget(budget=Decimal("1000.00"), advances_paid=Decimal("1000.00"), bandwidth=Decimal(0),
                        realisation=Decimal("987.67"))
    settlement = _settle(registry, agreement)
    assert settlement.settled_value == Decimal("993.84")
    assert settlement.due == Decimal("-6.16")


def test_shared_savings_does_not_apply_without_underspend_or_budget(registry):
    inside_band = _settle(registry, _budget(realisation=Decimal("96000.00")))
    assert inside_band.settled_value == Decimal("100000.00")
    above = _settle(registry, _budget(realisation=Decimal("110000.00")))
    assert above.settled_value == Decimal("110000.00")
    ceiling = Agreement(id="c1", provider="Zorggroep Maasland", municipality=BEESEL, segment="jeugd.S3",
                        kind="ceiling", ceiling=Decimal("100000.00"), realisation=Decimal("60000.00"))
    assert _settle(registry, ceiling).settled_value == Decimal("60000.00")
    for settlement in (inside_band, above, _settle(registry, ceiling)):
        assert not any("Gedeelde besparing" in line for line in settlement.explanation)


@pytest.mark.parametrize("bandwidth", [Decimal(0), Decimal("0.05")])
def test_nothing_delivered_is_no_saving_to_share(registry, bandwidth):
    """docs/settlement.md: with no realisation at all the agreement settles on realisation (€ 0)
    and shared savings adds nothing (000 §7.2 Jeugd S3/S4: settlement on realisation), whatever
    the share; the advances come back in full."""
    settlement = _settle(registry, _budget(bandwidth=bandwidth, realisation=Decimal("0.00")))
    assert settlement.settled_value == Decimal("0.00")
    assert settlement.due == Decimal("-100000.00")
    assert ("Gedeelde besparing: er is niets gerealiseerd; zonder levering is er geen besparing te "
            "delen.") in settlement.explanation
    # One euro delivered is a delivery: the underspend is shared as before.
    one_euro = _settle(registry, _budget(bandwidth=bandwidth, realisation=Decimal("1.00")))
    assert one_euro.settled_value == Decimal("50000.50")


def test_shared_savings_follows_the_regions_and_municipalitys_own_share(registry):
    # Region S4: 40% of 20.000 = 8.000. Venlo S3: 25% = 5.000. Venlo S4: the region's 40%.
    region_s4 = _settle(registry, _budget(segment="jeugd.S4", realisation=Decimal("80000.00")))
    assert region_s4.settled_value == Decimal("88000.00")
    assert any("40% daarvan" in line for line in region_s4.explanation)
    venlo_s3 = _settle(registry, _budget(municipality=VENLO, realisation=Decimal("80000.00")))
    assert venlo_s3.settled_value == Decimal("85000.00")
    venlo_s4 = _settle(registry, _budget(segment="jeugd.S4", municipality=VENLO, realisation=Decimal("80000.00")))
    assert venlo_s4.settled_value == Decimal("88000.00")
    share = registry.settlement_parameters("jeugd.shared_savings", REGION, VENLO, "jeugd.S3")["share"]
    assert share.value == Decimal("0.25") and share.source.startswith("Eigen afspraak van gemeente en segment")
    other_region = registry.settlement_parameters("jeugd.shared_savings", "rivierenland", VENLO, "jeugd.S3")
    assert other_region["share"].value == Decimal("0.50") and other_region["share"].source == "Standaardwaarde"


def _s1(municipality=BEESEL, settled=Decimal("150000.00")):
    return Agreement(id="s1", provider="Stichting Jeugdhulp Peel en Maas", municipality=municipality,
                     segment="jeugd.S1", kind="ceiling", ceiling=Decimal("200000.00"), realisation=settled,
                     payments_made=settled)


def _results(ended, achieved):
    return {"s1": {"beeindigd": Decimal(ended), "resultaat_behaald": Decimal(achieved)}}


@pytest.mark.parametrize("achieved, expected, words", [
    (16, "153000.00", "Bonus 2% van"),   # 80% ≥ 75%: + 2% of 150.000
    (15, "153000.00", "Bonus 2% van"),   # exactly 75%: bonus
    (14, "150000.00", "Binnen de marge"),  # 70%
    (13, "150000.00", "Binnen de marge"),  # exactly 65%: no malus yet
    (12, "147000.00", "Malus 2% van"),   # 60% < 65%: − 2% of 150.000
])
def test_bonus_malus_on_the_share_of_results_achieved(registry, achieved, expected, words):
    settlement = _settle(registry, _s1(), _results(20, achieved))
    assert settlement.settled_value == Decimal(expected)
    assert settlement.due == Decimal(expected) - Decimal("150000.00")
    line = next(line for line in settlement.explanation if line.startswith("Bonus–malus:"))
    assert f"{achieved} van 20 beëindigde trajecten" in line and words in line
    assert "streefwaarde 70%, marge 5%" in line


def test_bonus_malus_rounds_half_up_and_explains_the_amount(registry):
    # 1.234,25 × 2% = 24,685 → 24,69 (half-up).
    settlement = _settle(registry, _s1(settled=Decimal("1234.25")), _results(4, 4))
    assert settlement.settled_value == Decimal("1258.94")
    assert any(line.endswith(f"Bonus 2% van €{NBSP}1.234,25: + €{NBSP}24,69.") for line in settlement.explanation)
    malus = _settle(registry, _s1(settled=Decimal("1234.25")), _results(4, 0))
    assert malus.settled_value == Decimal("1209.56")
    assert malus.due == Decimal("-24.69")


def test_bonus_malus_without_results_changes_nothing_and_says_so(registry):
    settlement = _settle(registry, _s1())
    assert settlement.settled_value == Decimal("150000.00")
    assert "Bonus–malus: er zijn geen resultaatcijfers; geen bonus of malus." in settlement.explanation
    none_ended = _settle(registry, _s1(), _results(0, 0))
    assert none_ended.settled_value == Decimal("150000.00")
    assert any("geen trajecten beëindigd" in line for line in none_ended.explanation)


def test_bonus_malus_follows_the_municipalitys_target(registry):
    # Venlo's target 80% with the default margin: 16 of 20 (80%) is inside the margin, so no bonus.
    settlement = _settle(registry, _s1(municipality=VENLO), _results(20, 16))
    assert settlement.settled_value == Decimal("150000.00")
    assert any("streefwaarde 80%" in line and "Binnen de marge" in line for line in settlement.explanation)
    assert _settle(registry, _s1(municipality=VENLO), _results(20, 17)).settled_value == Decimal("153000.00")
