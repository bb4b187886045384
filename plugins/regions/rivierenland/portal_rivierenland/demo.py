"""Demo data of the Rivierenland pack: providers and accounts, catalogue, framework agreements of
3+3+3 years, budget ceilings and the municipalities' choices with two funding pilots.

Providers, KvK numbers and AGB codes are made up. Sizes follow 002 table 1 (2019): Wmo individual
guidance €8.8 million, group guidance and day activities €4.0 million; youth ambulant guidance
€7.0 million and ambulant treatment €16.5 million. The demo's providers hold part of that; the rest
lies with providers that are not in the demo.

Tariffs are what a Dutch region pays in 2026 (hour, day, or an etmaal for stays: the catalogue
knows hours, contacts and days, and a day of a stay is an etmaal); the demo's other years follow
by 3% a year, so the 2026 rates hold whichever year the demo is built around.

002 starts the new contracts on 1 January 2023; the demo starts them in its own first year so the
region is alive whatever the date. One provider has used both options (3+3+3), the others one (3+3).
Pilots (002 §5.5, spoor 2): from the second demo year Tiel pays Begeleiding output-based (per
result) and Culemborg pays Dagbesteding task-based (lump sum); the other municipalities stay
effort-based (P×Q), with a budget ceiling for the largest providers in Begeleiding and ambulant
treatment.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.toolkit import DemoLoader, OrganisationKind, TrajectorySpec, roles, to_cents
from portal_rivierenland.region import PURCHASING_OFFICE

DE_LINGE = "Zorgcoöperatie De Linge"
JEUGDHULP_BETUWE = "Stichting Jeugdhulp Betuwe"
WAALWAARD = "Dagbesteding De Waalwaard"
THUIS = "Stichting Thuis in de Betuwe"

# name, KvK number, AGB code (made up)
PROVIDERS = [
    (DE_LINGE, "71234560", "73731201"),
    (JEUGDHULP_BETUWE, "72345671", "75751302"),
    (WAALWAARD, "73456782", "73731403"),
    (THUIS, "74567893", "75751504"),
]

ACCOUNTS = [
    ("contractmanager@rivierenland.example", "Esther van Wijk", roles.CONTRACT_MANAGER, PURCHASING_OFFICE),
    ("beheer@delinge.example", "Joost van Tuil", roles.PROVIDER_ADMIN, DE_LINGE),
    ("medewerker@delinge.example", "Ilse Verhoef", roles.PROVIDER_USER, DE_LINGE),
    ("beheer@jeugdhulpbetuwe.example", "Mirjam de Kock", roles.PROVIDER_ADMIN, JEUGDHULP_BETUWE),
    ("beheer@waalwaard.example", "Gert van Zanten", roles.PROVIDER_ADMIN, WAALWAARD),
    ("beheer@thuisindebetuwe.example", "Hanneke Lodder", roles.PROVIDER_ADMIN, THUIS),
    ("medewerker@tiel.example", "Medewerker Tiel", roles.MUNICIPALITY_USER, "Tiel"),
]

TARIFF_YEAR = 2026
INDEXATION = Decimal("0.03")  # as the core's demo loader indexes every year

# code, name, unit, rate in 2026
TARIFFS = [
    ("RIV-WMO-BEG", "Begeleiding individueel", "hour", "72.50"),
    ("RIV-WMO-BEG-SPEC", "Begeleiding individueel specialistisch", "hour", "86.00"),
    ("RIV-WMO-BEG-GRP", "Begeleiding in een groep", "hour", "24.00"),
    ("RIV-WMO-DAG", "Dagbesteding", "day", "112.00"),
    ("RIV-WMO-DAG-INT", "Dagbesteding intensief", "day", "146.00"),
    ("RIV-WMO-KV", "Kortdurend verblijf (per etmaal)", "day", "165.00"),
    ("RIV-JGD-ABG", "Jeugdhulp ambulante begeleiding", "hour", "78.00"),
    ("RIV-JGD-ABG-SPEC", "Jeugdhulp ambulante begeleiding specialistisch", "hour", "92.00"),
    ("RIV-JGD-ABH", "Jeugdhulp ambulante behandeling", "hour", "118.00"),
    ("RIV-JGD-GGZ", "Specialistische jeugd-ggz", "hour", "132.00"),
    ("RIV-JGD-LOG", "Logeren (per etmaal)", "day", "210.00"),
    ("RIV-JGD-WBG", "Wonen met begeleiding, gezinshuis (per etmaal)", "day", "245.00"),
    ("RIV-JGD-WBH", "Wonen met behandeling (per etmaal)", "day", "385.00"),
]

CARE_FORMS = {
    "wmo.BEG": [("BEG-IND", "Individuele begeleiding"), ("BEG-GRP", "Groepsbegeleiding")],
    "wmo.DAG": [("DAG", "Dagbesteding")],
    "wmo.KV": [("KV", "Kortdurend verblijf")],
    "jeugd.ABG": [("ABG", "Ambulante begeleiding")],
    "jeugd.ABH": [("ABH", "Ambulante behandeling"), ("GGZ", "Specialistische jeugd-ggz")],
    "jeugd.LOG": [("LOG", "Logeren")],
    "jeugd.WBG": [("GEZH", "Gezinshuis"), ("BW", "Begeleid wonen")],
    "jeugd.WBH": [("WBH", "Wonen met behandeling")],
}

TRAJECTORIES = {
    "wmo.BEG": [
        TrajectorySpec("BEG-6", "Individuele begeleiding", "BEG-IND", "RIV-WMO-BEG", "mbo", "2", "week", 6),
        TrajectorySpec("BEG-12", "Individuele begeleiding langdurig", "BEG-IND", "RIV-WMO-BEG", "mbo", "1.5",
                       "week", 12),
        TrajectorySpec("BEG-SPEC-6", "Specialistische begeleiding", "BEG-IND", "RIV-WMO-BEG-SPEC", "hbo", "2",
                       "week", 6),
        TrajectorySpec("BEG-GRP-12", "Groepsbegeleiding", "BEG-GRP", "RIV-WMO-BEG-GRP", "mbo", "6", "week", 12),
    ],
    "wmo.DAG": [
        TrajectorySpec("DAG-12", "Dagbesteding", "DAG", "RIV-WMO-DAG", "mbo", "2", "week", 12),
        TrajectorySpec("DAG-INT-12", "Dagbesteding intensief", "DAG", "RIV-WMO-DAG-INT", "mbo", "3", "week", 12),
    ],
    "wmo.KV": [
        TrajectorySpec("KV-6", "Kortdurend verblijf ter ontlasting van de mantelzorger", "KV", "RIV-WMO-KV",
                       "mbo", "4", "month", 6),
    ],
    "jeugd.ABG": [
        TrajectorySpec("ABG-6", "Ambulante gezinsbegeleiding", "ABG", "RIV-JGD-ABG", "hbo", "1.5", "week", 6),
        TrajectorySpec("ABG-SPEC-9", "Specialistische ambulante begeleiding", "ABG", "RIV-JGD-ABG-SPEC", "hbo",
                       "2", "week", 9),
    ],
    "jeugd.ABH": [
        TrajectorySpec("ABH-4", "Ambulante behandeling kortdurend", "ABH", "RIV-JGD-ABH", "hbo+ (orthopedagoog)",
                       "1", "week", 4),
        TrajectorySpec("ABH-GGZ-9", "Specialistische ggz-behandeling", "GGZ", "RIV-JGD-GGZ",
                       "wo (GZ-psycholoog, BIG)", "1", "week", 9),
    ],
    "jeugd.LOG": [
        TrajectorySpec("LOG-6", "Logeren, één weekend per maand", "LOG", "RIV-JGD-LOG", "mbo", "2", "month", 6),
    ],
    "jeugd.WBG": [
        TrajectorySpec("WBG-12", "Wonen in een gezinshuis", "GEZH", "RIV-JGD-WBG", "hbo", "7", "week", 12),
        TrajectorySpec("WBG-BW-12", "Begeleid wonen voor 16- en 17-jarigen", "BW", "RIV-JGD-WBG", "hbo", "7",
                       "week", 12),
    ],
    "jeugd.WBH": [
        TrajectorySpec("WBH-6", "Wonen met behandeling", "WBH", "RIV-JGD-WBH", "hbo+ (gedragswetenschapper)",
                       "7", "week", 6),
    ],
}

# provider, reference (completed with the first year), domain, contract form, segments, options used
FRAMEWORKS = [
    (DE_LINGE, "RIV-WMO-{}-01", "wmo", "c", ["wmo.BEG", "wmo.DAG"], 2),
    (WAALWAARD, "RIV-WMO-{}-02", "wmo", "a", ["wmo.DAG", "wmo.KV"], 1),
    (DE_LINGE, "RIV-JGD-{}-01", "jeugd", "a", ["jeugd.ABG"], 1),
    (JEUGDHULP_BETUWE, "RIV-JGD-{}-02", "jeugd", "c", ["jeugd.ABG", "jeugd.ABH", "jeugd.LOG"], 1),
    (THUIS, "RIV-JGD-{}-03", "jeugd", "a", ["jeugd.LOG", "jeugd.WBG", "jeugd.WBH"], 1),
]

# Every municipality buys every segment in the regional lot, by trajectory, effort-based; a
# budget ceiling for the largest providers in Begeleiding and ambulant treatment.
DEFAULT_FUNDING = {
    "wmo.BEG": "budget_ceiling", "wmo.DAG": "pxq", "wmo.KV": "pxq",
    "jeugd.ABG": "pxq", "jeugd.ABH": "budget_ceiling", "jeugd.LOG": "pxq", "jeugd.WBG": "pxq", "jeugd.WBH": "pxq",
}
EXCEPTIONS = {
    ("Tiel", "wmo.BEG"): ("pxq", "Tiel koopt begeleiding zonder budgetplafond in, op weg naar de pilot."),
}
# The pilots (002 §5.5): from the second demo year (index 1) on.
PILOTS = [
    ("Tiel", "wmo.BEG", 1, "result",
     "Pilot outputgerichte bekostiging: Tiel betaalt begeleiding per behaald resultaat (002 §5.5, spoor 2)."),
    ("Culemborg", "wmo.DAG", 1, "lump_sum",
     "Pilot taakgerichte bekostiging: Culemborg betaalt dagbesteding voor zijn inwoners met een vast bedrag "
     "(002 §5.5, spoor 2)."),
]

# Budget ceilings: the segment's 2019 total (002 table 1), the provider's share, and the
# municipalities left out (a pilot municipality has no ceiling in that segment).
CEILINGS = [
    (DE_LINGE, "wmo.BEG", Decimal("8802420"), Decimal("0.18"), ("Tiel",)),
    (JEUGDHULP_BETUWE, "jeugd.ABH", Decimal("16511447"), Decimal("0.15"), ()),
]


def first_year_rate(rate_2026: str, first_year: int) -> str:
    """The rate of the demo's first year such that 3% a year gives (about) the 2026 rate in 2026."""
    return str(to_cents(Decimal(rate_2026) * (1 + INDEXATION) ** (first_year - TARIFF_YEAR)))


def load(demo) -> None:
    for name, kvk, agb in PROVIDERS:
        demo.organisation(name, OrganisationKind.PROVIDER, kvk_number=kvk, agb_code=agb)
    for email, name, role, organisation in ACCOUNTS:
        demo.account(email, name, role, organisation)

    loader = DemoLoader(demo, "rivierenland")
    years = loader.years
    loader.tariffs([(code, name, unit, first_year_rate(rate, years[0])) for code, name, unit, rate in TARIFFS])
    loader.care_forms(CARE_FORMS)
    for segment_key, specs in TRAJECTORIES.items():
        loader.trajectories(segment_key, specs)

    for provider, reference, domain, form, segments, used in FRAMEWORKS:
        loader.framework(provider, reference.format(years[0]), domain, "regional", form, segments,
                         extensions_used=used)

    for municipality in loader.municipalities:
        for segment_key, funding in DEFAULT_FUNDING.items():
            funding, note = EXCEPTIONS.get((municipality.name, segment_key), (funding, ""))
            loader.choice(municipality, segment_key, ["regional"], "trajectories", funding, note=note)
    for name, segment_key, index, funding, note in PILOTS:
        loader.choice(loader.organisation(name), segment_key, ["regional"], "trajectories", funding,
                      date(years[index], 1, 1), note)

    for provider, segment_key, total, share, left_out in CEILINGS:
        joining = [m for m in loader.municipalities if m.name not in left_out]
        loader.budget_agreements(provider, segment_key, "ceiling", total * share, joining)
    loader.finish()
