"""What a Participatie custom trajectory proposal may ask for, per segment (portal_proposal_rules).

Participatie steers on results (reward for successful trajectories, ROI via MKBA), so a proposal
says which share of its clients it expects to move on to work. A trajectory that promises more
than half its clients in paid work within six months is not credible and is refused.
"""
from decimal import Decimal

from portal.toolkit import ExtraField, ProposalRules

OUTFLOW = ExtraField("expected_outflow_percentage", "Verwachte uitstroom naar werk (%)", Decimal(0),
                     Decimal(100), help="Welk deel van de cliënten na het traject betaald werk heeft.")
SHORT_TRAJECTORY_MONTHS = 6
MAX_OUTFLOW_SHORT = Decimal(50)


def check_outflow(values):
    outflow = values["extra"].get("expected_outflow_percentage")
    if outflow in (None, ""):
        return []
    if values["duration_months"] <= SHORT_TRAJECTORY_MONTHS and Decimal(str(outflow)) > MAX_OUTFLOW_SHORT:
        return [("expected_outflow_percentage",
                 f"Bij een traject van {SHORT_TRAJECTORY_MONTHS} maanden of korter is een uitstroom van meer "
                 f"dan {MAX_OUTFLOW_SHORT}% naar werk niet aannemelijk; onderbouw een langer traject.")]
    return []


RULES = [
    ProposalRules("participatie.S1", min_duration=3, max_duration=36, max_intensity=Decimal(20),
                  fields=(OUTFLOW,), check=check_outflow),
    ProposalRules("participatie.S2", min_duration=1, max_duration=24, max_intensity=Decimal(20),
                  fields=(OUTFLOW,), check=check_outflow),
]
