"""The settlement engine (portal/settlement/engine.py, issue 6): example tests with hand-computed
values (DOMAIN.md §5 places example, §7 bandwidth) and hypothesis properties of the rules."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.settlement.engine import (
    Agreement,
    Rules,
    ScenarioError,
    Settlement,
    band_value,
    settle,
    settle_one,
    settle_region,
)

D = Decimal
NBSP = "\u00a0"
YEAR = 2025  # 365 days
LEAP_YEAR = 2024  # 366 days
FULL = Rules(outside_band="full")
EXCESS = Rules(outside_band="excess")
REGION = Rules(band_scope="region")


def eur(text: str) -> str:
    """An amount as the engine (and the |money filter) writes it: € 1.234,56 with a no-break space."""
    return f"€{NBSP}{text}"


def budget(realisation, budget="100000.00", bandwidth="0.05", advances="100000.00", id="A1", **extra) -> Agreement:
    return Agreement(id=id, provider="Zorggroep Maasland", municipality=extra.pop("municipality", "Venlo"),
                     segment="jeugd.S3", kind="budget", realisation=D(realisation), budget=D(budget),
                     bandwidth=D(bandwidth), advances_paid=D(advances), **extra)


def one(agreement: Agreement, rules: Rules = FULL, year: int = YEAR) -> Settlement:
    result = settle(year, [agreement], rules)
    assert len(result.settlements) == 1
    return result.settlements[0]


def text(settlement: Settlement) -> str:
    return "\n".join(settlement.explanation)


# --- budget: inside, below and above the band, both outside_band rules ----------------------------
# B = € 100.000, b = 5%: the band runs from 100.000 × 0,95 = 95.000 to 100.000 × 1,05 = 105.000.
# Advances paid: € 100.000.

@pytest.mark.parametrize("rules", [FULL, EXCESS], ids=["full", "excess"])
def test_budget_inside_the_band_settles_the_budget(rules):
    # 95.000 ≤ 98.000 ≤ 105.000 → settled B = 100.000; due 100.000 − 100.000 = 0.
    s = one(budget("98000.00"), rules)
    assert s.settled_value == D("100000.00")
    assert s.due == D("0.00") and s.direction == "none"
    assert "binnen de band" in text(s)


@pytest.mark.parametrize("rules, settled, due", [
    (FULL, "90000.00", "-10000.00"),    # full: settle R = 90.000; due 90.000 − 100.000 = −10.000
    (EXCESS, "95000.00", "-5000.00"),   # excess: R + b·B = 90.000 + 0,05 × 100.000 = 95.000; due −5.000
], ids=["full", "excess"])
def test_budget_below_the_band(rules, settled, due):
    s = one(budget("90000.00"), rules)
    assert s.settled_value == D(settled)
    assert s.due == D(due) and s.direction == "repayment"
    assert "onder de band" in text(s)


@pytest.mark.parametrize("rules, settled, due", [
    (FULL, "112000.00", "12000.00"),    # full: settle R = 112.000; due 112.000 − 100.000 = +12.000
    (EXCESS, "107000.00", "7000.00"),   # excess: R − b·B = 112.000 − 5.000 = 107.000; due +7.000
], ids=["full", "excess"])
def test_budget_above_the_band(rules, settled, due):
    s = one(budget("112000.00"), rules)
    assert s.settled_value == D(settled)
    assert s.due == D(due) and s.direction == "additional_payment"
    assert "boven de band" in text(s)


@pytest.mark.parametrize("rules", [FULL, EXCESS], ids=["full", "excess"])
@pytest.mark.parametrize("realisation", ["95000.00", "105000.00"], ids=["lower-edge", "upper-edge"])
def test_band_edges_belong_to_the_band(rules, realisation):
    # R = B(1−b) = 95.000 and R = B(1+b) = 105.000 are inside: settled B = 100.000.
    s = one(budget(realisation), rules)
    assert s.settled_value == D("100000.00")
    assert s.direction == "none"


@pytest.mark.parametrize("realisation, full, excess", [
    ("94999.99", "94999.99", "99999.99"),     # one cent below: full R; excess 94.999,99 + 5.000 = 99.999,99
    ("105000.01", "105000.01", "100000.01"),  # one cent above: full R; excess 105.000,01 − 5.000 = 100.000,01
])
def test_one_cent_outside_the_band(realisation, full, excess):
    assert one(budget(realisation), FULL).settled_value == D(full)
    # excess is continuous at the edge: one cent past the edge settles one cent off the budget
    assert one(budget(realisation), EXCESS).settled_value == D(excess)


def test_settled_value_is_rounded_once_half_up():
    # B = 100,10, b = 5%: b·B = 5,005 exactly; band 95,095 … 105,105. R = 200,01 is above it.
    # excess: 200,01 − 5,005 = 195,005 → half-up 195,01 (half-even would give 195,00).
    s = one(budget("200.01", budget="100.10", advances="0.00"), EXCESS)
    assert s.settled_value == D("195.01")
    value, _lines = band_value(D("100.10"), D("0.05"), D("200.01"), "excess")
    assert value == D("195.005")  # band_value is exact; rounding happens once, at the end


# --- ceiling ---------------------------------------------------------------------------------------
# Ceiling € 50.000; payments already made € 40.000; no advances.

@pytest.mark.parametrize("realisation, settled, due, direction, reached", [
    ("45000.00", "45000.00", "5000.00", "additional_payment", False),   # min(45.000, 50.000) − 40.000
    ("50000.00", "50000.00", "10000.00", "additional_payment", False),  # at: min(50.000, 50.000) − 40.000
    ("62000.00", "50000.00", "10000.00", "additional_payment", True),   # above: min(62.000, 50.000) − 40.000
    ("38000.00", "38000.00", "-2000.00", "repayment", False),           # 38.000 − 40.000 = −2.000
])
def test_ceiling(realisation, settled, due, direction, reached):
    a = Agreement("C1", "Zorggroep Maasland", "Venlo", "wmo.S1a", "ceiling", realisation=D(realisation),
                  ceiling=D("50000.00"), payments_made=D("40000.00"))
    s = one(a)
    assert s.settled_value == D(settled)
    assert s.paid == D("40000.00")
    assert s.due == D(due) and s.direction == direction
    assert ("Het plafond is bereikt." in text(s)) is reached
    assert f"Budgetplafond {eur('50.000,00')}" in text(s)
    assert f"al gedane betalingen: {eur('40.000,00')}" in text(s)


def test_ceiling_ignores_the_outside_band_rule():
    a = Agreement("C1", "p", "m", "s", "ceiling", realisation=D("62000.00"), ceiling=D("50000.00"))
    assert one(a, EXCESS).settled_value == one(a, FULL).settled_value == D("50000.00")


# --- population ------------------------------------------------------------------------------------

def population(realisation, **extra) -> Agreement:
    return Agreement("P1", "Zorggroep Maasland", "Venlo", "wmo.S2a", "population", realisation=D(realisation),
                     budget=D("200000.00"), advances_paid=D("200000.00"), **extra)


def test_population_default_threshold_is_ten_percent():
    # B = 200.000, default threshold 10%: band 180.000 … 220.000.
    assert one(population("215000.00")).settled_value == D("200000.00")       # inside → B
    assert one(population("180000.00")).settled_value == D("200000.00")       # lower edge → B
    assert one(population("230000.00"), FULL).settled_value == D("230000.00")  # above, full → R
    # above, excess: 230.000 − 0,10 × 200.000 = 210.000; due 210.000 − 200.000 = +10.000
    s = one(population("230000.00"), EXCESS)
    assert s.settled_value == D("210000.00") and s.due == D("10000.00")
    # below, excess: 170.000 + 20.000 = 190.000; due −10.000
    assert one(population("170000.00"), EXCESS).due == D("-10000.00")
    assert text(s).startswith("Populatiebekostiging met drempel: budget")
    assert "bandbreedte 10%" in text(s)


def test_population_custom_threshold():
    # threshold 5%: band 190.000 … 210.000; 215.000 is above it → full settles 215.000 (with 10% it was B).
    s = one(population("215000.00", threshold=D("0.05")))
    assert s.settled_value == D("215000.00") and s.due == D("15000.00")
    # excess: 215.000 − 0,05 × 200.000 = 205.000
    assert one(population("215000.00", threshold=D("0.05")), EXCESS).settled_value == D("205000.00")


def test_population_uses_threshold_not_bandwidth():
    # the bandwidth field belongs to budget agreements; a population agreement ignores it
    a = population("215000.00", bandwidth=D("0"))
    assert one(a).settled_value == D("200000.00")


# --- places ----------------------------------------------------------------------------------------

def places(occupied, count="2", price="36500.00", advances=None, id="PL1") -> Agreement:
    price = D(price)
    advances = D(count) * price if advances is None else D(advances)
    return Agreement(id, "Zorggroep Maasland", "Venlo", "jeugd.S3", "places", places=D(count),
                     price_per_place_year=price, occupied_place_days=D(occupied), advances_paid=advances)


def test_places_empty_place_days_are_repaid_pro_rata():
    # 2 places × € 36.500 = € 73.000; capacity 2 × 365 = 730 place-days; occupied 700 → empty 30.
    # repaid 30 × 36.500 ÷ 365 = 30 × 100 = 3.000 → settled 70.000; advances 73.000 → due −3.000.
    s = one(places("700"))
    assert s.settled_value == D("70000.00")
    assert s.due == D("-3000.00") and s.direction == "repayment"
    assert f"Lege plekdagen: 30 × {eur('36.500,00')} ÷ 365 = {eur('3.000,00')} wordt terugbetaald." in s.explanation


def test_places_exactly_full():
    # occupied 730 = capacity → nothing empty → settled 73.000 = advances → due 0
    s = one(places("730"))
    assert s.settled_value == D("73000.00") and s.direction == "none"
    assert "Geen lege plekdagen." in s.explanation


def test_places_over_occupancy_is_not_paid_extra():
    # occupied 800 > 730: empty = max(730 − 800, 0) = 0 → settled 73.000, not 80.000
    s = one(places("800"))
    assert s.settled_value == D("73000.00") and s.due == D("0.00")
    assert "Geen lege plekdagen; overbezetting wordt niet extra betaald." in s.explanation


def test_places_leap_year_has_366_days():
    # 2024: 2 places × € 36.600 = 73.200; capacity 732; occupied 700 → empty 32 × 36.600 ÷ 366 = 3.200
    # → settled 70.000.
    s = one(places("700", price="36600.00"), year=LEAP_YEAR)
    assert s.settled_value == D("70000.00")
    assert "(366 dagen in 2024)" in text(s)
    # the same in 2025: capacity 730, empty 30 × 36.600 ÷ 365 = 3.008,2191… → 73.200 − 3.008,2191…
    # = 70.191,7808… → 70.191,78
    assert one(places("700", price="36600.00"), year=YEAR).settled_value == D("70191.78")


def test_places_fractional_repayment_rounds_half_up_once():
    # 1 place × € 1.000; occupied 364 → 1 empty day: 1.000 ÷ 365 = 2,7397… → settled 997,2602… → 997,26
    assert one(places("364", count="1", price="1000.00")).settled_value == D("997.26")


# DOMAIN.md §5, the places worked example of 000 §8: a trajectory of € 10.000 lasting 4 months;
# one place-year holds 12 ÷ 4 = 3 trajectories, so a place-year costs 3 × 10.000 = € 30.000.

def test_domain_5_shorter_durations_fill_the_place_within_the_budget():
    # Durations of 3 months instead of 4 let the provider help 3,5 clients on the place, but the
    # place is paid as agreed: occupied all 365 days → settled 30.000, nothing extra.
    s = one(places("365", count="1", price="30000.00"))
    assert s.settled_value == D("30000.00") and s.direction == "none"


def test_domain_5_an_empty_place_is_repaid():
    # Two places (six trajectories) = € 60.000 advanced; one place stays empty all year:
    # occupied 365 of 730 → empty 365 × 30.000 ÷ 365 = 30.000 repaid → settled 30.000, due −30.000.
    s = one(places("365", count="2", price="30000.00"))
    assert s.settled_value == D("30000.00")
    assert s.due == D("-30000.00") and s.direction == "repayment"
    assert f"Terugbetaling door de zorgaanbieder: {eur('30.000,00')}." in s.explanation


def test_domain_5_place_empty_for_part_of_the_year():
    # One place, the last client leaves and the place is empty for 73 days: occupied 292
    # → repaid 73 × 30.000 ÷ 365 = 6.000 → settled 24.000.
    assert one(places("292", count="1", price="30000.00")).settled_value == D("24000.00")


# --- DOMAIN.md §7: bandwidth ---------------------------------------------------------------------

@pytest.mark.parametrize("rules", [FULL, EXCESS], ids=["full", "excess"])
def test_domain_7_bandwidth_zero_in_the_first_years_settles_the_realisation(rules):
    # b = 0: the band is the single point 100.000. R = 97.500 → settled 97.500; advances 100.000
    # → repayment 2.500. R = 101.234,56 → settled 101.234,56 → additional payment 1.234,56.
    low = one(budget("97500.00", bandwidth="0"), rules)
    assert low.settled_value == D("97500.00") and low.due == D("-2500.00")
    high = one(budget("101234.56", bandwidth="0"), rules)
    assert high.settled_value == D("101234.56") and high.due == D("1234.56")
    assert f"Nabetaling aan de zorgaanbieder: {eur('1.234,56')}." in high.explanation


def test_domain_7_inside_the_band_nothing_is_settled_either_way():
    # b = 5%: lower than agreed but inside (97.000) → the provider repays nothing;
    # higher but inside (104.000) → the municipality pays nothing extra.
    lower = one(budget("97000.00"))
    higher = one(budget("104000.00"))
    for s in (lower, higher):
        assert s.settled_value == D("100000.00") and s.due == D("0.00") and s.direction == "none"
        assert "Er hoeft niets te worden betaald of terugbetaald." in s.explanation


# --- direction and totals --------------------------------------------------------------------------

def test_direction_and_year_totals():
    result = settle(YEAR, [
        budget("112000.00", id="up"),     # +12.000
        budget("90000.00", id="down"),    # −10.000
        budget("100000.00", id="flat"),   # 0
    ])
    assert [s.direction for s in result.settlements] == ["additional_payment", "repayment", "none"]
    assert [s.agreement.id for s in result.settlements] == ["up", "down", "flat"]  # input order kept
    assert result.totals == {
        "settled_value": D("302000.00"),       # 112.000 + 90.000 + 100.000
        "paid": D("300000.00"),
        "due": D("2000.00"),                   # 12.000 − 10.000
        "additional_payments": D("12000.00"),
        "repayments": D("10000.00"),
    }


def test_rules_per_agreement():
    # rules may be a function: Venlo chose 'excess', Venray the default 'full'
    agreements = [budget("90000.00", id="venlo", municipality="Venlo"),
                  budget("90000.00", id="venray", municipality="Venray")]
    result = settle(YEAR, agreements, lambda a: EXCESS if a.municipality == "Venlo" else FULL)
    assert [s.settled_value for s in result.settlements] == [D("95000.00"), D("90000.00")]


# --- explanation -----------------------------------------------------------------------------------

def test_explanation_is_dutch_with_nl_amounts():
    s = one(budget("1234.56", budget="100000.00", advances="50000.00"))
    assert s.explanation == (
        f"Budget {eur('100.000,00')}, bandbreedte 5%: de band loopt van {eur('95.000,00')} tot en met "
        f"{eur('105.000,00')}.",
        f"Goedgekeurde realisatie: {eur('1.234,56')}.",
        "De realisatie valt onder de band; regel 'buiten de band': volledig op realisatie. "
        "Afgerekend wordt de realisatie.",
        f"Afgerekende waarde: {eur('1.234,56')}; al betaalde voorschotten: {eur('50.000,00')}.",
        f"Terugbetaling door de zorgaanbieder: {eur('48.765,44')}.",  # 50.000 − 1.234,56
    )


def test_explanation_excess_names_the_edge_rule():
    s = one(budget("112000.00"), EXCESS)
    assert ("De realisatie valt boven de band; regel 'buiten de band': alleen het deel voorbij de rand. "
            f"Afgerekend: realisatie − bandbreedte × budget = {eur('107.000,00')}.") in s.explanation
    assert s.explanation[-1] == f"Nabetaling aan de zorgaanbieder: {eur('7.000,00')}."


def test_explanation_places_counts_in_dutch_format():
    s = one(places("2500", count="10", price="36500.00"))
    # capacity 10 × 365 = 3.650; empty 1.150 × 100 = 115.000 → settled 365.000 − 115.000 = 250.000
    assert s.settled_value == D("250000.00")
    assert s.explanation[0] == f"10 plekken × {eur('36.500,00')} per plekjaar = {eur('365.000,00')}."
    assert s.explanation[1] == "Beschikbaar: 3.650 plekdagen (365 dagen in 2025); bezet: 2.500."


# --- band_scope region -----------------------------------------------------------------------------

def regional(realisations, budgets, bandwidth="0.05", advances=None, segment="jeugd.S3"):
    names = ["Venlo", "Venray", "Gennep", "Beesel", "Bergen (L)", "Horst aan de Maas", "Peel en Maas", "Extra"]
    advances = advances or budgets
    return [Agreement(f"R{i}", "Zorggroep Maasland", names[i], segment, "budget", realisation=D(r),
                      budget=D(b), bandwidth=D(bandwidth), advances_paid=D(adv))
            for i, (r, b, adv) in enumerate(zip(realisations, budgets, advances))]


def test_region_three_municipalities_split_by_realisation_share():
    # Budgets 100.000 + 50.000 + 50.000 = 200.000, b = 5%: regional band 190.000 … 210.000.
    # Realisation 90.000 + 60.000 + 45.000 = 195.000: inside → regional settled total 200.000.
    # Shares of realisation: 200.000 × 90/195 = 92.307,6923…; × 60/195 = 61.538,4615…;
    # × 45/195 = 46.153,8461…  Rounded down 92.307,69 + 61.538,46 + 46.153,84 = 199.999,99; the
    # one cent left goes to the largest remainder (0,61 cent: Gennep) → 46.153,85.
    agreements = regional(["90000.00", "60000.00", "45000.00"], ["100000.00", "50000.00", "50000.00"])
    result = settle(YEAR, agreements, REGION)
    parts = [s.settled_value for s in result.settlements]
    assert parts == [D("92307.69"), D("61538.46"), D("46153.85")]
    assert sum(parts) == D("200000.00")
    # due per municipality against its own advances: 92.307,69 − 100.000 = −7.692,31 etc.
    assert [s.due for s in result.settlements] == [D("-7692.31"), D("11538.46"), D("-3846.15")]
    assert [s.direction for s in result.settlements] == ["repayment", "additional_payment", "repayment"]
    venlo = text(result.settlements[0])
    assert "Bandbreedte op regioniveau: 3 gemeenten samen." in venlo
    assert f"Regionaal afgerekend: {eur('200.000,00')}; deel van deze gemeente naar aandeel in de realisatie " \
           f"(46,15%): {eur('92.307,69')}." in venlo
    # Per municipality the same agreements settle differently: Venlo 90.000 < 95.000 and Gennep
    # 45.000 < 47.500 are below their own band, Venray 60.000 > 52.500 above → full: 195.000 in all.
    per_municipality = settle(YEAR, agreements, FULL)
    assert [s.settled_value for s in per_municipality.settlements] == [D("90000.00"), D("60000.00"),
                                                                       D("45000.00")]


def test_region_split_by_budget_when_nothing_was_realised():
    # Budgets 3 × 333,33 = 999,99, b = 5%, nothing realised, rule excess: 0 < 949,9905 → below the
    # band; settled 0 + 0,05 × 999,99 = 49,9995 → 50,00. Split by budget (equal): 16,666… each →
    # 16,66 × 3 = 49,98, two cents left to the first two (ties: earlier parts first).
    agreements = regional(["0", "0", "0"], ["333.33", "333.33", "333.33"], advances=["0", "0", "0"])
    result = settle(YEAR, agreements, Rules(outside_band="excess", band_scope="region"))
    parts = [s.settled_value for s in result.settlements]
    assert parts == [D("16.67"), D("16.67"), D("16.66")]
    assert sum(parts) == D("50.00")
    assert "aandeel in het budget" in text(result.settlements[0])


def test_region_split_by_budget_shares():
    # Budgets 100.000 / 50.000 / 50.000, b = 10%, nothing realised, excess:
    # 0 + 0,10 × 200.000 = 20.000 split 2:1:1 → 10.000, 5.000, 5.000.
    agreements = regional(["0", "0", "0"], ["100000.00", "50000.00", "50000.00"], bandwidth="0.10")
    parts = [s.settled_value for s in settle(YEAR, agreements, Rules("excess", "region")).settlements]
    assert parts == [D("10000.00"), D("5000.00"), D("5000.00")]


def test_region_groups_per_provider_segment_and_band():
    # Two segments with region scope are banded separately; a ceiling agreement is never pooled.
    s3 = regional(["90000.00", "60000.00"], ["100000.00", "50000.00"])
    s4 = [Agreement("S4", "Zorggroep Maasland", "Venlo", "jeugd.S4", "budget", realisation=D("50000.00"),
                    budget=D("100000.00"), bandwidth=D("0.05"))]
    ceiling = [Agreement("C", "Zorggroep Maasland", "Venlo", "jeugd.S3", "ceiling", realisation=D("70000.00"),
                         ceiling=D("60000.00"))]
    result = settle(YEAR, s3 + s4 + ceiling, REGION)
    values = {s.agreement.id: s.settled_value for s in result.settlements}
    # S3: 150.000 budget, band 142.500 … 157.500; realisation 150.000 inside → 150.000 split 90:60
    assert values["R0"] == D("90000.00") and values["R1"] == D("60000.00")
    assert values["S4"] == D("50000.00")   # alone: 50.000 below 95.000 → full R
    assert values["C"] == D("60000.00")    # ceiling: min(70.000, 60.000)


def test_settle_region_directly_matches_settle():
    agreements = regional(["90000.00", "60000.00", "45000.00"], ["100000.00", "50000.00", "50000.00"])
    direct = settle_region(agreements, D("0.05"), "full")
    assert [s.settled_value for s in direct] == [s.settled_value for s in settle(YEAR, agreements, REGION).settlements]
    assert settle_region([], D("0.05"), "full") == []


# --- adjustments hook ------------------------------------------------------------------------------

def test_adjustment_adds_an_amount_and_a_line():
    seen = []

    def shared_savings(agreement, settlement, rules):
        seen.append((agreement.id, settlement.settled_value, rules))
        # half of the underspend below the budget stays with the provider
        return (agreement.budget - settlement.settled_value) / 2 + D("0.004"), "Gedeelde besparing: de helft."

    def nothing(agreement, settlement, rules):
        return None

    # R = 90.000, full → 90.000; shared savings (100.000 − 90.000) ÷ 2 + 0,004 = 5.000,004 → 5.000,00
    # → settled 95.000; advances 100.000 → due −5.000.
    result = settle(YEAR, [budget("90000.00")], FULL, adjustments=lambda a: [shared_savings, nothing])
    s = result.settlements[0]
    assert seen == [("A1", D("90000.00"), FULL)]
    assert s.settled_value == D("95000.00")
    assert s.due == D("-5000.00") and s.direction == "repayment"
    assert s.explanation[-3:] == (
        "Gedeelde besparing: de helft.",
        f"Afgerekende waarde: {eur('95.000,00')}; al betaalde voorschotten: {eur('100.000,00')}.",
        f"Terugbetaling door de zorgaanbieder: {eur('5.000,00')}.",
    )
    # the band lines are kept, the old closing lines replaced (only one 'Afgerekende waarde')
    assert sum(line.startswith("Afgerekende waarde") for line in s.explanation) == 1
    assert s.explanation[0].startswith("Budget ")


def test_adjustment_on_a_ceiling_keeps_the_payments_label():
    a = Agreement("C1", "p", "m", "s", "ceiling", realisation=D("45000.00"), ceiling=D("50000.00"),
                  payments_made=D("40000.00"))
    s = settle(YEAR, [a], adjustments=lambda _a: [lambda *_: (D("500"), "Beloning succesvolle trajecten.")])
    only = s.settlements[0]
    assert only.settled_value == D("45500.00") and only.due == D("5500.00")
    assert f"al gedane betalingen: {eur('40.000,00')}" in text(only)


# --- ScenarioError ---------------------------------------------------------------------------------

def error_of(agreements, rules=FULL) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        settle(YEAR, agreements, rules)
    return caught.value


def test_unknown_kind():
    error = error_of([Agreement("X9", "p", "m", "s", "lump_sum")])
    assert (error.agreement_id, error.field) == ("X9", "kind")
    assert "X9" in str(error) and "kind" in str(error)
    with pytest.raises(ScenarioError):
        settle_one(Agreement("X9", "p", "m", "s", "lump_sum"), FULL, YEAR)


@pytest.mark.parametrize("rules, field", [
    (Rules(outside_band="half"), "outside_band"),
    (Rules(band_scope="province"), "band_scope"),
])
def test_unknown_rule_values(rules, field):
    error = error_of([budget("1")], rules)
    assert (error.agreement_id, error.field) == ("A1", field)
    assert field in str(error)


@pytest.mark.parametrize("field", ["realisation", "budget", "advances_paid", "ceiling", "payments_made", "places",
                                   "price_per_place_year", "occupied_place_days"])
def test_negative_amounts(field):
    a = Agreement("N1", "p", "m", "s", "budget", **{field: D("-0.01")})
    error = error_of([a])
    assert (error.agreement_id, error.field) == ("N1", field)
    assert "negatief" in str(error)
    with pytest.raises(ScenarioError):  # settle_one checks too
        settle_one(a, FULL, YEAR)


@pytest.mark.parametrize("field, value", [("bandwidth", "-0.01"), ("bandwidth", "1.01"), ("threshold", "-0.1"),
                                          ("threshold", "5")])
def test_fraction_outside_zero_to_one(field, value):
    error = error_of([Agreement("F1", "p", "m", "s", "population", **{field: D(value)})])
    assert (error.agreement_id, error.field) == ("F1", field)


@pytest.mark.parametrize("value", [0.05, "100", D("NaN"), D("Infinity")], ids=["float", "text", "nan", "inf"])
def test_amount_that_is_not_a_finite_decimal(value):
    error = error_of([Agreement("T1", "p", "m", "s", "budget", budget=value)])
    assert (error.agreement_id, error.field) == ("T1", "budget")


def test_duplicate_ids():
    error = error_of([budget("1", id="dup"), budget("2", id="ok"), budget("3", id="dup")])
    assert (error.agreement_id, error.field) == ("dup", "id")
    assert "'dup'" in str(error) and "'id'" in str(error)


def test_bandwidth_outside_range_in_settle_region():
    with pytest.raises(ScenarioError) as caught:
        settle_region(regional(["1"], ["1"]), D("1.5"), "full")
    assert caught.value.field == "bandwidth"


# --- properties (hypothesis) -----------------------------------------------------------------------

PROPERTIES = settings(max_examples=200, deadline=None)
cents = st.integers(min_value=0, max_value=10**11).map(lambda c: D(c) / 100)  # € 0,00 … € 10^9
bandwidths = st.integers(min_value=0, max_value=50).map(lambda p: D(p) / 100)  # 0 … 0,50 in steps of 0,01
outside_band_rules = st.sampled_from(["full", "excess"])
municipality_rows = st.lists(st.tuples(cents, cents, cents), min_size=1, max_size=8)  # realisation, budget, advances


def region_agreements(rows, bandwidth, kind="budget"):
    return [Agreement(f"M{i}", "prov", f"gemeente {i}", "seg", kind, realisation=r, budget=b, advances_paid=adv,
                      bandwidth=bandwidth, threshold=bandwidth) for i, (r, b, adv) in enumerate(rows)]


@PROPERTIES
@given(rows=municipality_rows, bandwidth=bandwidths, outside_band=outside_band_rules,
       kind=st.sampled_from(["budget", "population"]))
def test_property_regional_parts_add_up_to_the_regional_total(rows, bandwidth, outside_band, kind):
    agreements = region_agreements(rows, bandwidth, kind)
    result = settle(YEAR, agreements, Rules(outside_band, "region"))
    # the regional total computed independently: one agreement with the summed budget and realisation
    pooled = Agreement("pool", "prov", "regio", "seg", kind, realisation=sum(r for r, _, _ in rows),
                       budget=sum(b for _, b, _ in rows), bandwidth=bandwidth, threshold=bandwidth)
    total = settle_one(pooled, Rules(outside_band), YEAR).settled_value
    parts = [s.settled_value for s in result.settlements]
    assert sum(parts) == total
    assert all(part == part.quantize(D("0.01")) and part >= 0 for part in parts)
    assert result.totals["settled_value"] == total
    assert result.totals["due"] == total - sum(adv for _, _, adv in rows)


@PROPERTIES
@given(realisation=cents, budget_amount=cents, advances=cents, outside_band=outside_band_rules)
def test_property_bandwidth_zero_settles_exactly_the_realisation(realisation, budget_amount, advances,
                                                                 outside_band):
    a = Agreement("B0", "prov", "gem", "seg", "budget", realisation=realisation, budget=budget_amount,
                  advances_paid=advances, bandwidth=D(0))
    s = one(a, Rules(outside_band))
    assert s.settled_value == realisation
    assert s.due == realisation - advances


def _settled(kind, low_or_high, base, rules):
    """The settled value of one agreement of ``kind`` whose 'volume' (realisation, or occupied
    place-days for places) is ``low_or_high``."""
    if kind == "places":
        return one(Agreement("P", "prov", "gem", "seg", "places", places=base["places"],
                             price_per_place_year=base["price"], occupied_place_days=low_or_high), rules,
                   year=base["year"]).settled_value
    return one(Agreement("K", "prov", "gem", "seg", kind, realisation=low_or_high, budget=base["budget"],
                         bandwidth=base["band"], threshold=base["band"], ceiling=base["budget"]),
               rules).settled_value


@PROPERTIES
@given(kind=st.sampled_from(["budget", "population", "ceiling", "places"]), outside_band=outside_band_rules,
       volumes=st.tuples(cents, cents), budget_amount=cents, band=bandwidths,
       place_count=st.integers(min_value=0, max_value=40), price=cents,
       days=st.tuples(st.integers(0, 40 * 366 + 500), st.integers(0, 40 * 366 + 500)),
       year=st.sampled_from([YEAR, LEAP_YEAR]))
def test_property_settled_value_never_decreases_when_realisation_rises(kind, outside_band, volumes, budget_amount,
                                                                       band, place_count, price, days, year):
    base = {"budget": budget_amount, "band": band, "places": D(place_count), "price": price, "year": year}
    low, high = sorted(volumes) if kind != "places" else sorted(D(d) for d in days)
    rules = Rules(outside_band)
    assert _settled(kind, low, base, rules) <= _settled(kind, high, base, rules)


@PROPERTIES
@given(rows=st.lists(st.tuples(cents, cents, cents), min_size=1, max_size=8), bandwidth=bandwidths,
       outside_band=outside_band_rules, which=st.integers(min_value=0, max_value=7),
       extra=st.integers(min_value=0, max_value=10**9).map(lambda c: D(c) / 100))
def test_property_regional_total_never_decreases_when_realisation_rises(rows, bandwidth, outside_band, which,
                                                                        extra):
    which %= len(rows)
    rules = Rules(outside_band, "region")
    before = settle(YEAR, region_agreements(rows, bandwidth), rules).totals["settled_value"]
    raised = [(r + extra if i == which else r, b, adv) for i, (r, b, adv) in enumerate(rows)]
    after = settle(YEAR, region_agreements(raised, bandwidth), rules).totals["settled_value"]
    assert before <= after


@PROPERTIES
@given(realisation=cents, budget_amount=cents, advances=cents, bandwidth=bandwidths,
       outside_band=outside_band_rules, kind=st.sampled_from(["budget", "population"]))
def test_property_region_with_one_municipality_equals_municipality_scope(realisation, budget_amount, advances,
                                                                         bandwidth, outside_band, kind):
    a = Agreement("E1", "prov", "gem", "seg", kind, realisation=realisation, budget=budget_amount,
                  advances_paid=advances, bandwidth=bandwidth, threshold=bandwidth)
    regional_result = one(a, Rules(outside_band, "region"))
    municipal = one(a, Rules(outside_band, "municipality"))
    assert regional_result.settled_value == municipal.settled_value
    assert regional_result.due == municipal.due
    assert regional_result.direction == municipal.direction


# --- Formatting: euro() and percent() write what babel writes -----------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**15, max_value=10**15, places=None)
       | st.integers(min_value=-10**15, max_value=10**15)
       | st.sampled_from([D("0"), D("-0"), D("-0.001"), D("0.005"), D("0.015"), D("-0.005"), D("999.995"),
                          D("1E+3"), D("-1E-10"), D("Infinity"), D("-Infinity"), D("NaN")]))
def test_property_euro_and_percent_match_babel(value):
    """The engine formats amounts and fractions without babel's pattern machinery (speed: a national
    year formats tens of thousands of amounts); the text must stay exactly babel's nl_NL text."""
    from babel.numbers import format_currency, format_decimal

    from portal.settlement.engine import euro, percent

    assert euro(value) == format_currency(D(value), "EUR", locale="nl_NL")
    assert percent(value) == format_decimal(D(value) * 100, format="#,##0.##", locale="nl_NL") + "%"


def test_rules_and_adjustments_per_agreement_as_sequences_or_functions_settle_the_same():
    agreements = [budget("80000.00", id="A1"), budget("120000.00", id="A2", municipality="Venlo")]
    own = [Rules("full"), Rules("excess")]
    extra = [[], [lambda _a, _s, _r: (D("10.00"), "Tien euro erbij.")]]
    by_function = settle(2025, agreements, lambda a: own[agreements.index(a)], lambda a: extra[agreements.index(a)])
    by_sequence = settle(2025, agreements, own, extra)
    assert [(s.settled_value, s.explanation) for s in by_sequence.settlements] == \
        [(s.settled_value, s.explanation) for s in by_function.settlements]
    assert by_sequence.settlements[1].settled_value == D("115010.00")  # 120000 − 5% × 100000, + 10
    with pytest.raises(ValueError):
        settle(2025, agreements, own[:1])
