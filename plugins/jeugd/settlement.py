"""The Jeugd settlement rules (portal_settlement_rules): shared savings in S3/S4 and bonus–malus in
S1 (DOMAIN.md §7). Each is a rule with a documented id and defaults; a region or municipality
plugin sets its own values with ``SettlementParameter`` (portal_settlement_parameters).

``jeugd.shared_savings`` (jeugd.S3, jeugd.S4)
    Only for budget agreements (kind ``budget``; in this region a budget agreement is always an
    additional agreement with a provider of the regional lot). When the settled value lies below
    the budget, the underspend is budget − settled value; a share ``share`` of it stays with the
    provider and is added to the settled value. Default ``share`` 0.50: the underspend is split
    evenly, so provider and municipalities both gain from a saving and neither has a reason to
    spend up to the budget; the sources name the rule but no share. Inside the band the settled
    value is the budget, so there is nothing to share. With no realisation at all (nothing
    delivered) there is no saving either: the agreement settles on realisation (000 §7.2 Jeugd
    S3/S4, appendix 1 "Budgetafspraken"), the rule adds nothing and says so (docs/settlement.md).
``jeugd.bonus_malus`` (jeugd.S1, result funding)
    On the results the provider reported: of the trajectories ended in the year
    (``beeindigd``), the share that reached the agreed result (``resultaat_behaald``, the
    realisation column of S1). At or above ``target`` + ``margin`` the provider earns a bonus of
    ``bonus`` × the settled value; below ``target`` − ``margin`` a malus of ``malus`` × the
    settled value is deducted; in between neither. Defaults: ``target`` 0.70, ``margin`` 0.05
    (bonus from 75%, malus below 65%), ``bonus`` 0.02 and ``malus`` 0.02 (2% of the settled value):
    small enough not to reward refusing hard cases, large enough to be felt; the sources give no
    figures, so the region sets its own. The engine's agreement carries no results, so the
    figures come in through the ``results`` mapping of ``registry.settlement_adjustments``
    (agreement id → {"beeindigd": …, "resultaat_behaald": …}, the year's totals of the approved
    realisation); without them, or without ended trajectories, the line says so and nothing
    changes.

Both return their explanation line as a function that writes it (the engine calls it only when an
explanation is read): a national year settles without formatting every agreement's amounts.
"""
from __future__ import annotations

from decimal import Decimal

from portal.toolkit import SettlementRule, euro, percent, to_cents

SHARED_SAVINGS_ID = "jeugd.shared_savings"
BONUS_MALUS_ID = "jeugd.bonus_malus"
NOTHING_DELIVERED = "Gedeelde besparing: er is niets gerealiseerd; zonder levering is er geen besparing te delen."


def shared_savings(agreement, settlement, _rules, parameters, _results):
    """Part of an underspend on a budget agreement stays with the provider."""
    if agreement.kind != "budget":
        return None
    if agreement.realisation <= 0:
        # A saving is delivering the agreed care for less, not delivering none (docs/settlement.md).
        return Decimal(0), NOTHING_DELIVERED
    underspend = agreement.budget - settlement.settled_value
    if underspend <= 0:
        return None
    share = parameters["share"]
    amount = to_cents(underspend * share)
    settled = settlement.settled_value
    return amount, lambda: (f"Gedeelde besparing: budget {euro(agreement.budget)} − afgerekend "
                            f"{euro(settled)} = onderbesteding {euro(underspend)}; "
                            f"{percent(share)} daarvan blijft bij de zorgaanbieder: + {euro(amount)}.")


def bonus_malus(_agreement, settlement, _rules, parameters, results):
    """A bonus or malus on the settled value by the share of trajectories with the agreed result."""
    ended = results.get("beeindigd")
    achieved = results.get("resultaat_behaald")
    if ended is None or achieved is None:
        return Decimal(0), "Bonus–malus: er zijn geen resultaatcijfers; geen bonus of malus."
    ended, achieved = Decimal(ended), Decimal(achieved)
    if ended <= 0:
        return Decimal(0), "Bonus–malus: er zijn geen trajecten beëindigd; geen bonus of malus."
    rate = achieved / ended
    target, margin = parameters["target"], parameters["margin"]
    settled = settlement.settled_value

    def head() -> str:
        shown = percent(rate.quantize(Decimal("0.0001")))
        return (f"Bonus–malus: {achieved:f} van {ended:f} beëindigde trajecten haalden het afgesproken resultaat "
                f"({shown}); streefwaarde {percent(target)}, marge {percent(margin)}.")
    if rate >= target + margin:
        bonus = parameters["bonus"]
        amount = to_cents(settled * bonus)
        return amount, lambda: f"{head()} Bonus {percent(bonus)} van {euro(settled)}: + {euro(amount)}."
    if rate < target - margin:
        malus = parameters["malus"]
        amount = to_cents(settled * malus)
        return -amount, lambda: f"{head()} Malus {percent(malus)} van {euro(settled)}: − {euro(amount)}."
    return Decimal(0), lambda: f"{head()} Binnen de marge: geen bonus of malus."


RULES = [
    SettlementRule(
        id=SHARED_SAVINGS_ID,
        name="Gedeelde besparing (Jeugd S3/S4, regionaal perceel)",
        description="Bij een budgetafspraak die onder het budget wordt afgerekend, blijft een deel van de "
                    "onderbesteding (budget − afgerekende waarde) bij de zorgaanbieder. Parameter 'share': het "
                    "deel dat bij de aanbieder blijft, als fractie (standaard 0,50: de helft; 0 zet de regel uit). "
                    "Zonder enige realisatie is er geen besparing: dan blijft er niets bij de aanbieder.",
        segments=("jeugd.S3", "jeugd.S4"),
        parameters={"share": "0.50"},
        fractions=("share",),
        adjust=shared_savings,
    ),
    SettlementRule(
        id=BONUS_MALUS_ID,
        name="Bonus–malus (Jeugd S1)",
        description="Op het aandeel beëindigde trajecten dat het afgesproken resultaat haalde. Vanaf "
                    "'target' + 'margin' een bonus van 'bonus' × de afgerekende waarde, onder 'target' − 'margin' "
                    "een malus van 'malus' × de afgerekende waarde, daartussen niets. Standaard: 'target' 0,70, "
                    "'margin' 0,05 (bonus vanaf 75%, malus onder 65%), 'bonus' 0,02 en 'malus' 0,02 (2%).",
        segments=("jeugd.S1",),
        parameters={"target": "0.70", "margin": "0.05", "bonus": "0.02", "malus": "0.02"},
        fractions=("target", "margin", "bonus", "malus"),
        adjust=bonus_malus,
    ),
]
