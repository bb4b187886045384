"""What Jeugd segments add to a trajectory's price.

- S2 (wonen): priced per day; the tariff's unit must be a day, and the price per day (with
  surcharges) is shown next to the price.
- S3 (dagactiviteiten): an "opvang" part on top of the care, of which the parents pay their own
  contribution per day; the municipality pays the care plus the opvang minus that contribution.
"""
from decimal import Decimal

from portal.toolkit import WEEKS_PER_MONTH, ExtraField, PriceLine, SegmentPricing


def _s2_check(terms):
    if terms.unit != "day":
        return [("tariff_id", "In Jeugd S2 (wonen) is de prijs per dag: kies een tarief per dag.")]
    return []


def _s2_lines(terms, _base):
    return [PriceLine("Prijs per dag (met opslagen)", terms.unit_rate * terms.surcharge_factor, "info")]



def _s3_lines(terms, _base):
    days = Decimal(str(terms.extra["opvang_days_per_week"])) * _weeks(terms)
    rate = Decimal(str(terms.extra["opvang_day_rate"]))
    contribution = Decimal(str(terms.extra["parental_contribution_per_day"]))
    return [
        PriceLine("Opvangdeel", rate * days),
        PriceLine("Eigen bijdrage ouders voor de opvang", -(contribution * days)),
    ]


def _weeks(terms) -> Decimal:
    return Decimal(terms.duration_months) * WEEKS_PER_MONTH


def _s3_check(terms):
    rate = Decimal(str(terms.extra["opvang_day_rate"]))
    contribution = Decimal(str(terms.extra["parental_contribution_per_day"]))
    if contribution > rate:
        return [("parental_contribution_per_day",
                 "De eigen bijdrage per dag mag niet hoger zijn dan het opvangtarief per dag.")]
    return []


PRICING = [
    SegmentPricing("jeugd.S2", extra_lines=_s2_lines, check=_s2_check),
    SegmentPricing(
        "jeugd.S3",
        fields=(
            ExtraField("opvang_days_per_week", "Opvangdagen per week", Decimal(0), Decimal(5),
                       help="Dagdelen opvang tellen als halve dagen."),
            ExtraField("opvang_day_rate", "Opvangtarief per dag (€)", Decimal(0), Decimal(500)),
            ExtraField("parental_contribution_per_day", "Eigen bijdrage ouders per dag (€)", Decimal(0),
                       Decimal(500)),
        ),
        extra_lines=_s3_lines,
        check=_s3_check,
    ),
]
