"""Demo data of the Jeugd plugin for Noord-Limburg: catalogue, contracts, budget agreements and
choices (Venlo buys places in S3; Horst aan de Maas switches S4 to places in the third year).

The demo's five years end with the year it is loaded in (with the demo of 2026: 2022–2026).
Jeugd contracts run 3+1 years (the plugin's reading of 000 §2a), so the demo has the contracts of
the first four years (extension used) and their successors from the fifth after a new tender.

Sizes follow the 2019 figures (DOMAIN.md §11): Jeugd S3 €5.6 million and S4 €32.9 million a year.
The two regional providers in the demo hold part of that (S4: 28% and 14%); the rest lies with
providers that are not in the demo. Rates in 2022: ambulant €68–€110 an hour, day treatment €178
a day, treatment with stay €295 a day, a family home €215 a day; foster care at a realistic €72 a day.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.toolkit import DemoLoader, TrajectorySpec

JEUGDHULP = "Stichting Jeugdhulp Peel en Maas"
ZORGGROEP = "Zorggroep Maasland"
SCHAKEL = "Dagbesteding De Schakel"
OP_MAAT = "Begeleiding Op Maat Gennep"

TARIFFS = [
    ("JGD-BEG", "Jeugdhulp ambulante begeleiding", "hour", "68.00"),
    ("JGD-BEH", "Jeugdhulp ambulante behandeling", "hour", "98.00"),
    ("JGD-SGGZ", "Specialistische jeugd-ggz", "hour", "110.00"),
    ("JGD-DAGB", "Dagbehandeling jeugd", "day", "178.00"),
    ("JGD-VERBL", "Behandeling met verblijf", "day", "295.00"),
    ("JGD-GEZH", "Wonen in een gezinshuis", "day", "215.00"),
    ("JGD-PLEEG", "Pleegzorg", "day", "72.00"),
]

CARE_FORMS = {
    "jeugd.S1": [("BMV", "Behandeling met verblijf")],
    "jeugd.S2": [("PLEEG", "Pleegzorg"), ("GEZH", "Gezinshuis")],
    "jeugd.S3": [("DAGB", "Dagbehandeling"), ("DAGACT", "Dagactiviteiten")],
    "jeugd.S4": [("AMB-BEG", "Ambulante begeleiding"), ("AMB-BEH", "Ambulante behandeling"),
                 ("SGGZ", "Specialistische jeugd-ggz")],
}


def _opvang(days: str) -> dict:
    """The S3 fields: opvang days a week, the opvang rate per day and the parents' own part."""
    return {"opvang_days_per_week": days, "opvang_day_rate": "45.00", "parental_contribution_per_day": "7.50"}


TRAJECTORIES = {
    "jeugd.S1": [
        TrajectorySpec("S1-BMV-3", "Behandeling met verblijf, crisis en stabilisatie", "BMV", "JGD-VERBL",
                       "hbo+ (gedragswetenschapper)", "7", "week", 3),
        TrajectorySpec("S1-BMV-6", "Behandeling met verblijf", "BMV", "JGD-VERBL", "hbo+ (gedragswetenschapper)",
                       "7", "week", 6),
    ],
    "jeugd.S2": [
        TrajectorySpec("S2-PLEEG-6", "Pleegzorg (perspectiefbiedend)", "PLEEG", "JGD-PLEEG", "hbo", "7", "week", 6),
        TrajectorySpec("S2-GEZH-3", "Wonen in een gezinshuis", "GEZH", "JGD-GEZH", "hbo", "7", "week", 3),
    ],
    "jeugd.S3": [
        TrajectorySpec("S3-DAGB-4", "Dagbehandeling kortdurend", "DAGB", "JGD-DAGB", "hbo", "3", "week", 4,
                       _opvang("0.5")),
        TrajectorySpec("S3-DAGB-6", "Dagbehandeling jonge kinderen", "DAGB", "JGD-DAGB", "hbo", "2", "week", 6,
                       _opvang("1")),
        TrajectorySpec("S3-DAGACT-12", "Dagactiviteiten na schooltijd", "DAGACT", "JGD-DAGB", "mbo", "1", "week",
                       12, _opvang("1")),
    ],
    "jeugd.S4": [
        TrajectorySpec("S4-BEG-6", "Ambulante gezinsbegeleiding", "AMB-BEG", "JGD-BEG", "hbo", "1.5", "week", 6),
        TrajectorySpec("S4-BEH-4", "Ambulante behandeling kortdurend", "AMB-BEH", "JGD-BEH", "hbo+ (orthopedagoog)",
                       "1", "week", 4),
        TrajectorySpec("S4-SGGZ-9", "Specialistische ggz-behandeling", "SGGZ", "JGD-SGGZ",
                       "wo (GZ-psycholoog, BIG)", "1", "week", 9),
    ],
}

# Segment totals of 2019 (DOMAIN.md §11) and the share of each regional provider in the demo.
BUDGETS = {
    "jeugd.S3": (Decimal("5585316"), {JEUGDHULP: Decimal("0.30"), ZORGGROEP: Decimal("0.15")}),
    "jeugd.S4": (Decimal("32883213"), {JEUGDHULP: Decimal("0.28"), ZORGGROEP: Decimal("0.14")}),
}
# A bandwidth of 0 in the first two years (DOMAIN.md §7), 5% from the third, by demo year.
BANDWIDTH = ["0", "0", "5", "5", "5"]

# provider, lot, contract form, segments, reference (completed with the year the contract starts)
FRAMEWORKS = [
    (JEUGDHULP, "regional", "d", ["jeugd.S1", "jeugd.S2", "jeugd.S3", "jeugd.S4"], "RO-JGD-{}-R01"),
    (ZORGGROEP, "regional", "d", ["jeugd.S3", "jeugd.S4"], "RO-JGD-{}-R02"),
    (OP_MAAT, "local", "a", ["jeugd.S4"], "RO-JGD-{}-L01"),
    (SCHAKEL, "local", "a", ["jeugd.S3"], "RO-JGD-{}-L02"),
]

DEFAULT_CHOICES = {
    "jeugd.S1": (["regional"], "trajectories", "result"),
    "jeugd.S2": (["regional"], "trajectories", "price_per_day"),
    "jeugd.S3": (["regional", "local"], "trajectories", "budget_agreement"),
    "jeugd.S4": (["regional", "local"], "trajectories", "budget_agreement"),
}
EXCEPTIONS = {
    ("Venlo", "jeugd.S3"): (["regional", "local"], "places", "budget_agreement",
                            "Venlo stuurt sinds januari 2020 op plekken en doorlooptijden (000 §8)."),
    ("Gennep", "jeugd.S4"): (["local"], "trajectories", "trajectory",
                             "Gennep koopt ambulante jeugdhulp alleen lokaal in, per traject."),
}
# Choices from the third demo year (index 2) on.
LATER_CHOICES = [
    ("Horst aan de Maas", "jeugd.S4", 2, ["regional", "local"], "places", "budget_agreement",
     "Na het leerjaar {first} stapt Horst aan de Maas over op plekken."),
]
# Places bought where a municipality buys places (for occupancy on the dashboard).
PLACES = {("Venlo", "jeugd.S3"): 50, ("Horst aan de Maas", "jeugd.S4"): 380}


# Yearly volume of each segment at the region's real size, in euros: 2019 (DOMAIN.md §11). Read by
# `flask demo --size region` (portal/region_demo.py).
VOLUMES_2019 = {"jeugd.S1": Decimal("10674408"), "jeugd.S2": Decimal("4920317"), "jeugd.S3": Decimal("5585316"),
                "jeugd.S4": Decimal("32883213")}


def load(demo) -> None:
    demo.volumes.update(VOLUMES_2019)
    loader = DemoLoader(demo, "jeugd")
    years = loader.years
    loader.tariffs(TARIFFS)
    loader.care_forms(CARE_FORMS)
    for segment_key, specs in TRAJECTORIES.items():
        loader.trajectories(segment_key, specs)
    loader.surcharge("JGD-SGGZ-BIG", "Specialistische jeugd-ggz met BIG-geregistreerde regiebehandelaar", "8",
                     "jeugd.S4", [JEUGDHULP])
    loader.surcharge("JGD-PLATTELAND", "Reistijd in het landelijk gebied", "2.5", "jeugd.S4", [JEUGDHULP, OP_MAAT])

    # Jeugd contracts run 3+1 years: the one extension was used in the third year, so the first
    # contracts ended after the fourth; the new contracts after the next tender run from the fifth.
    for provider, lot, form, segments, reference in FRAMEWORKS:
        loader.framework(provider, reference.format(years[0]), "jeugd", lot, form, segments, extensions_used=1)
        loader.framework(provider, reference.format(years[4]), "jeugd", lot, form, segments,
                         start=date(years[4], 1, 1))

    lots_of = {}
    for municipality in loader.municipalities:
        for segment_key, (lots, basis, funding) in DEFAULT_CHOICES.items():
            lots, basis, funding, note = EXCEPTIONS.get((municipality.name, segment_key),
                                                        (lots, basis, funding, ""))
            lots_of[(municipality.name, segment_key)] = lots
            loader.choice(municipality, segment_key, lots, basis, funding, note=note,
                          volume=PLACES.get((municipality.name, segment_key)) if basis == "places" else None)
    for name, segment_key, index, lots, basis, funding, note in LATER_CHOICES:
        loader.choice(loader.organisation(name), segment_key, lots, basis, funding, date(years[index], 1, 1),
                      note.format(first=years[0]), volume=PLACES.get((name, segment_key)))

    for segment_key, (total, shares) in BUDGETS.items():
        joining = [m for m in loader.municipalities if "regional" in lots_of[(m.name, segment_key)]]
        for provider, share in shares.items():
            loader.budget_agreements(provider, segment_key, "budget", total * share, joining,
                                     bandwidth=dict(zip(years, BANDWIDTH)), installments=12)

    loader.extra_capacity(SCHAKEL, "Venlo", "jeugd.S4", years[2], "185000.00",
                          f"De regionale aanbieders hadden in {years[2]} een wachttijd van meer dan twaalf weken "
                          "voor ambulante begeleiding; De Schakel vangt dertig jongeren uit Venlo op.")
    loader.finish()
