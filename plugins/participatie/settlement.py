"""The Participatie settlement rule (portal_settlement_rules): a reward for successful trajectories
(DOMAIN.md §7), with a documented id and default that a region or municipality plugin sets with
``SettlementParameter`` (portal_settlement_parameters).

``participatie.success_reward`` (participatie.S1, participatie.S2)
    Trajectories ended in the year with outflow to paid work (``uitstroom_werk``, the realisation
    column of these segments) × ``reward_per_outflow`` (euros) is added to the settled value, on
    top of the budget and outside its band. Default ``reward_per_outflow`` 0.00: by default each
    trajectory's own success reward (the ``success_reward`` of its price) is already in the
    realisation value (see :mod:`plugins.participatie.realisation`), so the settlement adds nothing
    and nothing is paid twice. A region or municipality that agreed a year-end reward per outflow
    sets its amount. The engine's agreement carries no outflow count, so it comes in through the
    ``results`` mapping of ``registry.settlement_adjustments`` (agreement id →
    {"uitstroom_werk": …}, the year's total of the approved realisation); without it nothing is
    added. The explanation line is returned as a function that writes it when the explanation is
    read.
"""
from __future__ import annotations

from decimal import Decimal

from portal.toolkit import SettlementRule, euro, to_cents

SUCCESS_REWARD_ID = "participatie.success_reward"


def success_reward(_agreement, _settlement, _rules, parameters, results):
    """Outflows to work × the reward per outflow, when both are above 0."""
    outflow = Decimal(results.get("uitstroom_werk") or 0)
    reward = parameters["reward_per_outflow"]
    if outflow <= 0 or reward <= 0:
        return None
    amount = to_cents(outflow * reward)
    return amount, lambda: (f"Beloning bij succes: {outflow:f} trajecten met uitstroom naar werk × {euro(reward)} = "
                            f"+ {euro(amount)}.")


RULES = [
    SettlementRule(
        id=SUCCESS_REWARD_ID,
        name="Beloning bij succesvolle trajecten (Participatie)",
        description="Per traject dat eindigde met uitstroom naar betaald werk wordt bij de afrekening "
                    "'reward_per_outflow' (euro) bovenop de afgerekende waarde betaald, buiten de bandbreedte. "
                    "Standaard 0,00: de beloning per traject zit al in de waarde van de realisatie; een regio of "
                    "gemeente met een eigen afspraak over een beloning per uitstroom zet hier het bedrag.",
        segments=("participatie.S1", "participatie.S2"),
        parameters={"reward_per_outflow": "0.00"},
        adjust=success_reward,
    ),
]
