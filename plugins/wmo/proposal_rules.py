"""What a Wmo custom trajectory proposal may ask for, per segment (portal_proposal_rules).

Day activities (dagbesteding) are given in groups, so a proposal says how many clients share a
group: at most 12, and at most 8 when a client comes more than three day parts a week (the
heavier the support, the smaller the group).
"""
from decimal import Decimal

from portal.toolkit import ExtraField, ProposalRules

GROUP_SIZE = ExtraField("clients_per_group", "Aantal cliënten per groep", Decimal(1), Decimal(12),
                        required=False,
                        help="Alleen bij dagbesteding: met hoeveel cliënten de cliënt een groep deelt.")
MAX_GROUP_WHEN_INTENSIVE = Decimal(8)


def _per_week(values) -> Decimal:
    intensity = Decimal(values["intensity"])
    return intensity / 4 if values["intensity_period"] == "month" else intensity


def check_group_size(values):
    """A larger group is refused for intensive day activities (more than 3 day parts a week)."""
    size = values["extra"].get("clients_per_group")
    if size in (None, ""):
        return []
    size = Decimal(str(size))
    if size != size.to_integral():
        return [("clients_per_group", "Aantal cliënten per groep: vul een heel getal in.")]
    if _per_week(values) > 3 and size > MAX_GROUP_WHEN_INTENSIVE:
        return [("clients_per_group", "Bij meer dan drie dagdelen per week is een groep hoogstens "
                                      f"{MAX_GROUP_WHEN_INTENSIVE} cliënten.")]
    return []


RULES = [
    # S1a: complex multiple support needs; a longer course may be argued for.
    ProposalRules("wmo.S1a", min_duration=3, max_duration=24, max_intensity=Decimal(10),
                  fields=(GROUP_SIZE,), check=check_group_size),
    # S1b: short single support needs: short by definition.
    ProposalRules("wmo.S1b", min_duration=1, max_duration=9, max_intensity=Decimal(6)),
    # S2a: long-term support, including day activities.
    ProposalRules("wmo.S2a", min_duration=6, max_duration=36, max_intensity=Decimal(10),
                  fields=(GROUP_SIZE,), check=check_group_size),
    ProposalRules("wmo.S2b", min_duration=3, max_duration=36, max_intensity=Decimal(10),
                  fields=(GROUP_SIZE,), check=check_group_size),
]
