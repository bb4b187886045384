"""What a Jeugd custom trajectory proposal may ask for, per segment (portal_proposal_rules).

Day treatment (S3) and ambulant/specialist help (S4) may ask for a behavioural scientist's
(gedragswetenschapper) involvement in hours a month; it is part of the care, so it can never be
more than the care hours of the trajectory itself.
"""
from decimal import Decimal

from portal.toolkit import WEEKS_PER_MONTH, ExtraField, ProposalRules

SCIENTIST_HOURS = ExtraField("behavioural_scientist_hours", "Inzet gedragswetenschapper (uren per maand)",
                             Decimal(0), Decimal(40),
                             help="Uren per maand die een gedragswetenschapper bij dit traject inzet.")


def check_scientist_hours(values):
    hours = values["extra"].get("behavioural_scientist_hours")
    if hours in (None, ""):
        return []
    intensity = Decimal(values["intensity"])
    care_per_month = intensity * WEEKS_PER_MONTH if values["intensity_period"] == "week" else intensity
    if Decimal(str(hours)) > care_per_month:
        return [("behavioural_scientist_hours",
                 "De inzet van de gedragswetenschapper kan niet groter zijn dan de zorg zelf "
                 f"(hoogstens {care_per_month.quantize(Decimal('0.1'))} uur per maand bij deze intensiteit).")]
    return []


RULES = [
    ProposalRules("jeugd.S3", min_duration=3, max_duration=24, max_intensity=Decimal(30),
                  fields=(SCIENTIST_HOURS,), check=check_scientist_hours),
    ProposalRules("jeugd.S4", min_duration=1, max_duration=24, max_intensity=Decimal(12),
                  fields=(SCIENTIST_HOURS,), check=check_scientist_hours),
]
