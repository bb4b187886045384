"""What Participatie segments add to a trajectory's price: P×Q on an hourly rate, and a reward
for a successful trajectory (uitstroom naar werk) that is paid only on success."""
from decimal import Decimal

from portal.toolkit import ExtraField, PriceLine, SegmentPricing

REWARD = ExtraField("success_reward", "Beloning bij succesvol traject (€)", Decimal(0), Decimal(25000),
                    help="Wordt alleen betaald als het traject slaagt; 0 als er geen beloning is.")


def _hourly_only(terms):
    if terms.unit != "hour":
        return [("tariff_id", "In dit segment geldt een uurtarief (P×Q): kies een tarief per uur.")]
    return []


def _reward_line(terms, _base):
    reward = Decimal(str(terms.extra.get("success_reward") or 0))
    return [PriceLine("Beloning bij succesvol traject (niet in de prijs)", reward, "conditional")] if reward else []


PRICING = [
    SegmentPricing("participatie.S1", fields=(REWARD,), extra_lines=_reward_line),
    SegmentPricing("participatie.S2", fields=(REWARD,), extra_lines=_reward_line, check=_hourly_only),
]
