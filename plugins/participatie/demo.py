"""Demo data of the Participatie plugin for Noord-Limburg: catalogue, contracts (one under the
bow-wave principle, with one unsatisfactory year), budget agreements for S1 and choices.

Size follows the 2019 figure (DOMAIN.md §11): Participatie S1 €550,000 a year, of which the
regional provider in the demo holds 60%. Hourly rates in the first demo year: €60 to €95.
"""
from __future__ import annotations

from decimal import Decimal

from portal.toolkit import DemoLoader, Evaluation, TrajectorySpec

WERKBEDRIJF = "Werkbedrijf Noord-Limburg"
OP_MAAT = "Begeleiding Op Maat Gennep"

TARIFFS = [
    ("PAR-GRP", "Groepsbegeleiding naar werk", "hour", "60.00"),
    ("PAR-JOB", "Jobcoaching individueel", "hour", "82.00"),
    ("PAR-WGD", "Werkgeversdienstverlening", "hour", "95.00"),
]

CARE_FORMS = {
    "participatie.S1": [("GRP", "Collectieve begeleiding in de groep")],
    "participatie.S2": [("JOB", "Individuele begeleiding en jobcoaching")],
    "participatie.S3": [("WGD", "Ondersteuning van werkgevers")],
}


def _reward(amount: str) -> dict:
    return {"success_reward": amount}


TRAJECTORIES = {
    "participatie.S1": [
        TrajectorySpec("S1-GRP-6", "Werkfit in de groep", "GRP", "PAR-GRP", "mbo", "4", "week", 6, _reward("1000.00")),
        TrajectorySpec("S1-GRP-12", "Participatietraject in de groep", "GRP", "PAR-GRP", "mbo", "3", "week", 12,
                       _reward("1500.00")),
    ],
    "participatie.S2": [
        TrajectorySpec("S2-JOB-3", "Jobcoaching bij plaatsing", "JOB", "PAR-JOB", "hbo", "2", "week", 3,
                       _reward("750.00")),
        TrajectorySpec("S2-JOB-9", "Intensieve begeleiding naar werk", "JOB", "PAR-JOB", "hbo", "2", "week", 9,
                       _reward("1250.00")),
    ],
    "participatie.S3": [
        TrajectorySpec("S3-WGD-6", "Werkgeversondersteuning bij inclusief werven", "WGD", "PAR-WGD", "hbo", "1",
                       "week", 6),
    ],
}

S1_TOTAL, S1_SHARE = Decimal("550000"), Decimal("0.60")

# The bow-wave agreement for S3 (horizon 3 years from the first demo year): the evaluations of
# the first four demo years, in order (the year the demo is loaded in is not evaluated yet).
BOW_WAVE = (
    (True, "Goede plaatsingsresultaten bij werkgevers; één jaar erbij."),
    (False, "Te weinig werkgevers bereikt in Venray en Gennep; geen jaar erbij."),
    (True, "Verbeterplan uitgevoerd; de doelen zijn gehaald."),
    (True, "Voldoende: werkgeverstevredenheid 8,1."),
)

DEFAULT_CHOICES = {
    "participatie.S1": (["regional"], "budget_agreement"),
    "participatie.S2": (["regional", "local"], "pxq"),
    "participatie.S3": (["regional"], "pxq"),
}
EXCEPTIONS = {
    ("Venray", "participatie.S2"): (["regional", "local"], "result",
                                    "Venray betaalt individuele begeleiding op resultaat (plaatsing)."),
}


# Yearly volume of each segment at the region's real size, in euros: 2019 (DOMAIN.md §11; S1 has no
# client count). Read by `flask demo --size region` (portal/region_demo.py).
VOLUMES_2019 = {"participatie.S1": Decimal("550000")}


def load(demo) -> None:
    demo.volumes.update(VOLUMES_2019)
    loader = DemoLoader(demo, "participatie")
    first = loader.years[0]
    loader.tariffs(TARIFFS)
    loader.care_forms(CARE_FORMS)
    for segment_key, specs in TRAJECTORIES.items():
        loader.trajectories(segment_key, specs)
    loader.surcharge("PAR-DOELGROEP", "Doelgroep met een grote afstand tot de arbeidsmarkt", "5",
                     "participatie.S2", [WERKBEDRIJF])

    # 3+3+3: the first extension (three years) was used in the third year.
    loader.framework(WERKBEDRIJF, f"RO-PAR-{first}-R01", "participatie", "regional", "d", ["participatie.S1"],
                     extensions_used=1)
    loader.framework(WERKBEDRIJF, f"RO-PAR-{first}-R02", "participatie", "regional", "a", ["participatie.S2"],
                     extensions_used=1)
    loader.framework(WERKBEDRIJF, f"RO-PAR-{first}-R03", "participatie", "regional", "b", ["participatie.S3"],
                     bow_wave=True, evaluations=tuple(Evaluation(year, satisfactory, note) for year, (satisfactory, note)
                                                      in zip(loader.years, BOW_WAVE)))
    loader.framework(OP_MAAT, f"RO-PAR-{first}-L01", "participatie", "local", "a", ["participatie.S2"],
                     extensions_used=1)

    for municipality in loader.municipalities:
        for segment_key, (lots, funding) in DEFAULT_CHOICES.items():
            lots, funding, note = EXCEPTIONS.get((municipality.name, segment_key), (lots, funding, ""))
            loader.choice(municipality, segment_key, lots, "trajectories", funding, note=note)

    loader.budget_agreements(WERKBEDRIJF, "participatie.S1", "budget", S1_TOTAL * S1_SHARE,
                             loader.municipalities, bandwidth={year: "10" for year in loader.years},
                             installments=4)
    loader.finish()
