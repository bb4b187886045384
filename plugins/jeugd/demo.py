"""Demo data of the Jeugd plugin for Noord-Limburg: catalogue, contracts, budget agreements and
choices (Venlo buys places in S3; Horst aan de Maas switches S4 to places in 2024).

Jeugd contracts run 3+1 years (the plugin's reading of 000 §2a), so the demo has the contracts of
2022–2025 (extension used) and their successors from 2026 after a new tender.

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
# A bandwidth of 0 in the first years (DOMAIN.md §7), 5% from 2024.
BANDWIDTH = {2022: "0", 2023: "0", 2024: "5", 2025: "5", 2026: "5"}

# provider, lot, contract form, segments, reference 2022–2025, reference from 2026
FRAMEWORKS = [
    (JEUGDHULP, "regional", "d", ["jeugd.S1", "jeugd.S2", "jeugd.S3", "jeugd.S4"], "RO-JGD-2022-R01",
     "RO-JGD-2026-R01"),
    (ZORGGROEP, "regional", "d", ["jeugd.S3", "jeugd.S4"], "RO-JGD-2022-R02", "RO-JGD-2026-R02"),
    (OP_MAAT, "local", "a", ["jeugd.S4"], "RO-JGD-2022-L01", "RO-JGD-2026-L01"),
    (SCHAKEL, "local", "a", ["jeugd.S3"], "RO-JGD-2022-L02", "RO-JGD-2026-L02"),
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
LATER_CHOICES = [
    ("Horst aan de Maas", "jeugd.S4", date(2024, 1, 1), ["regional", "local"], "places", "budget_agreement",
     "Na het leerjaar 2022 stapt Horst aan de Maas over op plekken."),
]
# Places bought where a municipality buys places (for occupancy on the dashboard).
PLACES = {("Venlo", "jeugd.S3"): 50, ("Horst aan de Maas", "jeugd.S4"): 380}


def load(demo) -> None:
    loader = DemoLoader(demo, "jeugd")
    loader.tariffs(TARIFFS)
    loader.care_forms(CARE_FORMS)
    for segment_key, specs in TRAJECTORIES.items():
        loader.trajectories(segment_key, specs)
    loader.surcharge("JGD-SGGZ-BIG", "Specialistische jeugd-ggz met BIG-geregistreerde regiebehandelaar", "8",
                     "jeugd.S4", [JEUGDHULP])
    loader.surcharge("JGD-PLATTELAND", "Reistijd in het landelijk gebied", "2.5", "jeugd.S4", [JEUGDHULP, OP_MAAT])

    # Jeugd contracts run 3+1 years: the one extension was used in 2024, so the first contracts
    # ended on 31 December 2025; the new contracts after the next tender run from 1 January 2026.
    for provider, lot, form, segments, first, second in FRAMEWORKS:
        loader.framework(provider, first, "jeugd", lot, form, segments, extensions_used=1)
        loader.framework(provider, second, "jeugd", lot, form, segments, start=date(2026, 1, 1))

    lots_of = {}
    for municipality in loader.municipalities:
        for segment_key, (lots, basis, funding) in DEFAULT_CHOICES.items():
            lots, basis, funding, note = EXCEPTIONS.get((municipality.name, segment_key),
                                                        (lots, basis, funding, ""))
            lots_of[(municipality.name, segment_key)] = lots
            loader.choice(municipality, segment_key, lots, basis, funding, note=note,
                          volume=PLACES.get((municipality.name, segment_key)) if basis == "places" else None)
    for name, segment_key, effective_from, lots, basis, funding, note in LATER_CHOICES:
        loader.choice(loader.organisation(name), segment_key, lots, basis, funding, effective_from, note,
                      volume=PLACES.get((name, segment_key)))

    for segment_key, (total, shares) in BUDGETS.items():
        joining = [m for m in loader.municipalities if "regional" in lots_of[(m.name, segment_key)]]
        for provider, share in shares.items():
            loader.budget_agreements(provider, segment_key, "budget", total * share, joining,
                                     bandwidth=BANDWIDTH, installments=12)

    loader.extra_capacity(SCHAKEL, "Venlo", "jeugd.S4", 2024, "185000.00",
                          "De regionale aanbieders hadden in 2024 een wachttijd van meer dan twaalf weken "
                          "voor ambulante begeleiding; De Schakel vangt dertig jongeren uit Venlo op.")
    loader.finish()
