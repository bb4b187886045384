"""Demo data of the Wmo plugin for Noord-Limburg: catalogue, contracts, ceilings and choices.

Sizes follow the 2019 figures (DOMAIN.md §11): Wmo S1a €5.3 million a year, S1b €8.2 million.
The one regional provider in the demo holds part of that; the rest lies with providers that are
not in the demo. Tariffs: begeleiding €62.50 and €78.00 an hour in the first demo year (2022 in the
demo of 2026), dagbesteding €152 a day; hulp bij het huishouden at a realistic €33.90 an hour (below
the other hourly rates, as in practice).
"""
from __future__ import annotations

from decimal import Decimal

from portal.toolkit import DemoLoader, TrajectorySpec

ZORGGROEP = "Zorggroep Maasland"
THUISHULP = "Thuishulp Venray"
SCHAKEL = "Dagbesteding De Schakel"
OP_MAAT = "Begeleiding Op Maat Gennep"

TARIFFS = [
    ("WMO-BEG", "Begeleiding individueel", "hour", "62.50"),
    ("WMO-BEG-SPEC", "Begeleiding individueel specialistisch", "hour", "78.00"),
    ("WMO-DAG", "Dagbesteding", "day", "152.00"),
    ("WMO-HH", "Hulp bij het huishouden", "hour", "33.90"),
    ("WMO-LOG", "Logeren (kortdurend verblijf)", "day", "185.00"),
]

CARE_FORMS = {
    "wmo.S1a": [("BEG", "Begeleiding individueel"), ("DAG", "Dagbesteding")],
    "wmo.S1b": [("BEG-KORT", "Kortdurende begeleiding")],
    "wmo.S2a": [("BEG-LANG", "Langdurige begeleiding"), ("DAG", "Dagbesteding")],
    "wmo.S2b": [("BEG-OUD", "Begeleiding ouderen thuis"), ("DAG-OUD", "Dagbesteding ouderen")],
    "wmo.S3a": [("HH", "Hulp bij het huishouden")],
    "wmo.S3b": [("LOG", "Logeren")],
}

TRAJECTORIES = {
    "wmo.S1a": [
        TrajectorySpec("S1A-BEG-INT", "Intensieve begeleiding bij meervoudige problematiek", "BEG",
                       "WMO-BEG-SPEC", "hbo", "3", "week", 12),
        TrajectorySpec("S1A-BEG-9", "Begeleiding bij meervoudige problematiek", "BEG", "WMO-BEG", "mbo",
                       "2", "week", 9),
        TrajectorySpec("S1A-DAG-12", "Dagbesteding met begeleiding", "DAG", "WMO-DAG", "mbo", "1", "week", 12),
    ],
    "wmo.S1b": [
        TrajectorySpec("S1B-BEG-3", "Kortdurende begeleiding licht", "BEG-KORT", "WMO-BEG", "mbo", "1.5",
                       "week", 3),
        TrajectorySpec("S1B-BEG-6", "Kortdurende begeleiding", "BEG-KORT", "WMO-BEG", "mbo", "2", "week", 6),
    ],
    "wmo.S2a": [
        TrajectorySpec("S2A-BEG-12", "Langdurige begeleiding thuis", "BEG-LANG", "WMO-BEG", "mbo", "1.5",
                       "week", 12),
        TrajectorySpec("S2A-DAG-12", "Dagbesteding langdurig", "DAG", "WMO-DAG", "mbo", "0.5", "week", 12),
    ],
    "wmo.S2b": [
        TrajectorySpec("S2B-BEG-6", "Begeleiding ouderen thuis", "BEG-OUD", "WMO-BEG", "mbo", "1", "week", 6),
        TrajectorySpec("S2B-DAG-12", "Dagbesteding ouderen met geheugenproblemen", "DAG-OUD", "WMO-DAG",
                       "mbo", "0.5", "week", 12),
    ],
    "wmo.S3a": [
        TrajectorySpec("S3A-HH-12", "Schoon en leefbaar huis", "HH", "WMO-HH", "mbo", "2", "week", 12),
        TrajectorySpec("S3A-HH-3", "Schoon huis na ziekenhuisopname", "HH", "WMO-HH", "mbo", "2.5", "week", 3),
    ],
    "wmo.S3b": [
        TrajectorySpec("S3B-LOG-6", "Logeren ter ontlasting van de mantelzorger", "LOG", "WMO-LOG", "mbo",
                       "2", "month", 6),
    ],
}

# Segment totals of 2019 (DOMAIN.md §11) and the share the demo's regional provider holds.
CEILINGS = {"wmo.S1a": (Decimal("5300000"), Decimal("0.30")), "wmo.S1b": (Decimal("8200000"), Decimal("0.25"))}

# Choices of every municipality (effective 1 January of the first demo year); exceptions below.
DEFAULT_CHOICES = {
    "wmo.S1a": (["regional", "local"], "budget_ceiling"),
    "wmo.S1b": (["regional", "local"], "budget_ceiling"),
    "wmo.S2a": (["regional", "local"], "population"),
    "wmo.S2b": (["regional", "local"], "population"),
    "wmo.S3a": (["regional", "local"], "population"),
    "wmo.S3b": (["open_house"], "pxq"),
}
EXCEPTIONS = {
    ("Bergen (L)", "wmo.S1a"): (["local"], "trajectory",
                                "Bergen koopt complexe begeleiding alleen lokaal in, per traject."),
    ("Beesel", "wmo.S2b"): (["regional"], "population",
                            "Beesel doet voor ouderen alleen mee met het regionale perceel."),
}


# Yearly volume of each segment at the region's real size, in euros: 2019 (DOMAIN.md §11). Read by
# `flask demo --size region` (portal/region_demo.py).
VOLUMES_2019 = {"wmo.S1a": Decimal("5300000"), "wmo.S1b": Decimal("8200000"), "wmo.S2a": Decimal("5400000"),
                "wmo.S2b": Decimal("5300000"), "wmo.S3a": Decimal("17500000"), "wmo.S3b": Decimal("100000")}


def load(demo) -> None:
    demo.volumes.update(VOLUMES_2019)
    loader = DemoLoader(demo, "wmo")
    years = loader.years
    loader.tariffs(TARIFFS)
    loader.care_forms(CARE_FORMS)
    for segment_key, specs in TRAJECTORIES.items():
        loader.trajectories(segment_key, specs)
    loader.surcharge("WMO-NAH", "Specialistische expertise niet-aangeboren hersenletsel", "6", "wmo.S1a",
                     [ZORGGROEP])
    loader.surcharge("WMO-KLEIN", "Kleinschaligheid (minder dan 25 cliënten)", "3", "wmo.S2a", [SCHAKEL, OP_MAAT])

    loader.framework(ZORGGROEP, f"RO-WMO-{years[0]}-R01", "wmo", "regional", "c",
                                ["wmo.S1a", "wmo.S1b", "wmo.S2a", "wmo.S2b", "wmo.S3a"], extensions_used=2)
    loader.framework(THUISHULP, f"RO-WMO-{years[0]}-L01", "wmo", "local", "b", ["wmo.S1b", "wmo.S3a"],
                     extensions_used=2)
    loader.framework(SCHAKEL, f"RO-WMO-{years[0]}-L02", "wmo", "local", "b", ["wmo.S2a", "wmo.S2b"], extensions_used=2)
    loader.framework(SCHAKEL, f"RO-WMO-{years[0]}-OH01", "wmo", "open_house", "a", ["wmo.S3b"], extensions_used=2)
    # One extension used, the second not: this local agreement ended after the fourth demo year.
    loader.framework(OP_MAAT, f"RO-WMO-{years[0]}-L03", "wmo", "local", "b", ["wmo.S1a", "wmo.S1b"], extensions_used=1)

    choices = {}
    for municipality in loader.municipalities:
        for segment_key, (lots, funding) in DEFAULT_CHOICES.items():
            lots, funding, note = EXCEPTIONS.get((municipality.name, segment_key), (lots, funding, ""))
            choices[(municipality.name, segment_key)] = lots
            loader.choice(municipality, segment_key, lots, "trajectories", funding, note=note)

    for segment_key, (total, share) in CEILINGS.items():
        joining = [m for m in loader.municipalities if "regional" in choices[(m.name, segment_key)]]
        loader.budget_agreements(ZORGGROEP, segment_key, "ceiling", total * share, joining)

    loader.extra_capacity(THUISHULP, "Venray", "wmo.S1a", years[3], "24000.00",
                          "Wachtlijst bij de gecontracteerde aanbieders voor complexe begeleiding in Venray; "
                          "Thuishulp Venray neemt tijdelijk twaalf cliënten over.")
    loader.finish()
