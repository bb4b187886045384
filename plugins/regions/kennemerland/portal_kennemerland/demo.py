"""Demo data of Kennemerland: four providers with their accounts, a contract manager and a
municipal account, the catalogue, framework agreements 3+1+1, budget ceilings per product group
(segments B1–B4) and each municipality's choices.

Provider names, KvK numbers and AGB codes are made up. Tariffs lie at or above the region's minimum
tariffs (segments.py) in every demo year. Sizes: the region has some 380,000 residents; the demo's
ceilings cover the part of the specialised spending that the four demo providers hold.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.toolkit import DemoLoader, ObligationReport, OrganisationKind, TrajectorySpec, roles, select
from portal_kennemerland.segments import DOMAIN, PURCHASING_OFFICE

SPAARNESTAD = "Stichting Spaarnestad Zorg"
KENNEMER_JEUGD = "Kennemer Jeugd & Gezin"
IJMOND = "IJmond Begeleiding"
DUINZICHT = "Duinzicht Dagbesteding"

# name, KvK number, AGB code
PROVIDERS = [
    (SPAARNESTAD, "71234560", "73731001"),
    (KENNEMER_JEUGD, "72345671", "75751002"),
    (IJMOND, "73456782", "73731003"),
    (DUINZICHT, "74567893", "73731004"),
]

# email, name, role, organisation
ACCOUNTS = [
    ("contractmanager@kennemerland.example", "Esther de Boer", roles.CONTRACT_MANAGER, PURCHASING_OFFICE),
    ("beheer@spaarnestadzorg.example", "Joost van der Meer", roles.PROVIDER_ADMIN, SPAARNESTAD),
    ("medewerker@spaarnestadzorg.example", "Noor Bakker", roles.PROVIDER_USER, SPAARNESTAD),
    ("beheer@kennemerjeugd.example", "Iris Smit", roles.PROVIDER_ADMIN, KENNEMER_JEUGD),
    ("beheer@ijmondbegeleiding.example", "Daan Kramer", roles.PROVIDER_ADMIN, IJMOND),
    ("beheer@duinzicht.example", "Mila Visser", roles.PROVIDER_ADMIN, DUINZICHT),
    ("medewerker@haarlem.example", "Medewerker Haarlem", roles.MUNICIPALITY_USER, "Haarlem"),
]

B1, B2, B3, B4, C = (f"{DOMAIN}.{code}" for code in ("B1", "B2", "B3", "B4", "C"))

# code, name, unit, rate in the first demo year (each at or above the segment's minimum tariff)
TARIFFS = [
    ("KEN-BEG-OH", "Begeleiding ontwikkeling en herstel", "hour", "68.40"),
    ("KEN-BEG-L", "Begeleiding duurzaam licht", "hour", "63.20"),
    ("KEN-DAG-L", "Dagbesteding duurzaam licht", "day", "121.00"),
    ("KEN-BEG-Z", "Begeleiding duurzaam zwaar", "hour", "71.50"),
    ("KEN-DAG-Z", "Dagbesteding duurzaam zwaar", "day", "146.00"),
    ("KEN-CRISIS", "Crisisinterventie", "hour", "89.00"),
    ("KEN-HS", "Hoogspecialistische behandeling", "hour", "112.00"),
    ("KEN-HS-VERBLIJF", "Verblijf met behandeling", "day", "335.00"),
]

# Segment A has no catalogue: each municipality subsidises its own basic infrastructure.
CARE_FORMS = {
    B1: [("BEG", "Ontwikkelingsgerichte begeleiding"), ("REINT", "Re-integratie en herstel")],
    B2: [("BEG", "Lichte begeleiding"), ("DAG", "Dagbesteding licht")],
    B3: [("BEG", "Intensieve begeleiding"), ("DAG", "Dagbesteding zwaar")],
    B4: [("CRISIS", "Crisisinterventie en stabilisatie")],
    C: [("BEH", "Hoogspecialistische behandeling"), ("VERBLIJF", "Verblijf met behandeling")],
}

TRAJECTORIES = {
    B1: [
        TrajectorySpec("B1-HERSTEL-6", "Herstel en ontwikkeling van vaardigheden", "BEG", "KEN-BEG-OH", "hbo",
                       "2", "week", 6),
        TrajectorySpec("B1-REINT-9", "Re-integratie naar dagritme of werk", "REINT", "KEN-BEG-OH", "mbo",
                       "1.5", "week", 9),
    ],
    B2: [
        TrajectorySpec("B2-BEG-12", "Lichte begeleiding thuis", "BEG", "KEN-BEG-L", "mbo", "1", "week", 12),
        TrajectorySpec("B2-DAG-12", "Dagbesteding licht", "DAG", "KEN-DAG-L", "mbo", "1", "week", 12),
    ],
    B3: [
        TrajectorySpec("B3-BEG-12", "Intensieve begeleiding thuis", "BEG", "KEN-BEG-Z", "hbo", "3", "week", 12),
        TrajectorySpec("B3-DAG-12", "Dagbesteding zwaar", "DAG", "KEN-DAG-Z", "mbo", "2", "week", 12),
    ],
    B4: [
        TrajectorySpec("B4-CRISIS-1", "Crisisinterventie en stabilisatie", "CRISIS", "KEN-CRISIS", "hbo",
                       "6", "week", 1),
    ],
    C: [
        TrajectorySpec("C-BEH-6", "Hoogspecialistische behandeling", "BEH", "KEN-HS", "wo", "2", "week", 6),
        TrajectorySpec("C-VERBLIJF-3", "Verblijf met behandeling", "VERBLIJF", "KEN-HS-VERBLIJF", "hbo",
                       "30", "month", 3),
    ],
}

# Budget ceilings per product group (003 §9: "budgetplafonds op het niveau van de ... segmenten of
# productgroepen"): provider, segment, yearly total in the first demo year (indexed 3% a year).
CEILINGS = [
    (SPAARNESTAD, B1, Decimal("1850000")),
    (SPAARNESTAD, B2, Decimal("2400000")),
    (SPAARNESTAD, B3, Decimal("3100000")),
    (KENNEMER_JEUGD, B1, Decimal("1200000")),
    (IJMOND, B2, Decimal("640000")),
]

# Each municipality's choice per segment: lots, funding form. Within one segment a municipality
# uses one funding form (000 appendix 1).
CHOICES = {
    f"{DOMAIN}.A": (["local"], "subsidy"),
    B1: (["regional"], "budget_ceiling"),
    B2: (["regional"], "budget_ceiling"),
    B3: (["regional"], "budget_ceiling"),
    B4: (["regional"], "availability"),
    C: (["regional"], "availability"),
}
EXCEPTIONS = {
    ("Zandvoort", f"{DOMAIN}.A"): (["local"], "lump_sum",
                                   "Zandvoort bekostigt de basisinfrastructuur als lumpsum aan één welzijnspartner."),
    ("Heemstede", C): (["regional"], "pxq", "Heemstede betaalt hoogspecialistische hulp per geleverde eenheid."),
}


def load(demo) -> None:
    for name, kvk, agb in PROVIDERS:
        demo.organisation(name, OrganisationKind.PROVIDER, kvk_number=kvk, agb_code=agb)
    for email, name, role, organisation in ACCOUNTS:
        demo.account(email, name, role, organisation)

    loader = DemoLoader(demo, "kennemerland")
    years = loader.years
    first, this_year = years[0], years[-1]
    loader.tariffs(TARIFFS)
    loader.care_forms(CARE_FORMS)
    for segment_key, specs in TRAJECTORIES.items():
        loader.trajectories(segment_key, specs)

    # Framework agreements 3+1+1 from the first demo year, both extensions used (they run out at
    # the end of the current demo year), contract form (c): agreement with a budget ceiling.
    agreements = [
        (loader.framework(SPAARNESTAD, f"KEN-{first}-R01", DOMAIN, "regional", "c", [B1, B2, B3], extensions_used=2),
         Decimal("4800000")),
        (loader.framework(KENNEMER_JEUGD, f"KEN-{first}-R02", DOMAIN, "regional", "c", [B1, B4, C], extensions_used=2),
         Decimal("6000000")),
        # These two used one extension and ended a year early; their follow-up agreements start
        # this year, one worth € 250.000 (SROI obligation € 12.500) and one worth exactly
        # € 200.000 (no SROI obligation: the value must be above € 200.000). The budget ceilings
        # under each add up to its value.
        (loader.framework(IJMOND, f"KEN-{first}-R03", DOMAIN, "regional", "c", [B2, B3], extensions_used=1),
         Decimal("900000")),
        (loader.framework(DUINZICHT, f"KEN-{first}-R04", DOMAIN, "regional", "c", [B2], extensions_used=1),
         Decimal("450000")),
        (loader.framework(DUINZICHT, f"KEN-{this_year}-250", DOMAIN, "regional", "c", [B2],
                          start=date(this_year, 1, 1)), Decimal("250000")),
        (loader.framework(IJMOND, f"KEN-{this_year}-200", DOMAIN, "regional", "c", [B3],
                          start=date(this_year, 1, 1)), Decimal("200000")),
    ]
    for agreement, value in agreements:  # the contract value (opdrachtwaarde) the SROI obligation follows
        agreement.contract_value_cents = int(value * 100)
        loader.session.add(agreement)
    _sroi_reports(loader, [agreement for agreement, _value in agreements[:4]], first)

    municipalities = loader.municipalities
    for municipality in municipalities:
        for segment_key, (lots, funding) in CHOICES.items():
            lots, funding, note = EXCEPTIONS.get((municipality.name, segment_key), (lots, funding, ""))
            loader.choice(municipality, segment_key, lots, "trajectories", funding, note=note)

    for provider, segment_key, total in CEILINGS:
        if provider == IJMOND:
            loader.years = years[:-1]  # IJmond's agreement for this year is KEN-<year>-200 below
        loader.budget_agreements(provider, segment_key, "ceiling", total, municipalities)
        loader.years = years
    # The earlier years of the two follow-up providers, and this year's exact contract values.
    loader.years = years[:-1]
    loader.budget_agreements(DUINZICHT, B2, "ceiling", Decimal("215000"), municipalities)
    loader.budget_agreements(IJMOND, B3, "ceiling", Decimal("172000"), municipalities)
    loader.years = [this_year]
    loader.budget_agreements(DUINZICHT, B2, "ceiling", Decimal("250000"), municipalities)
    loader.budget_agreements(IJMOND, B3, "ceiling", Decimal("200000"), municipalities)
    loader.years = years
    loader.finish()


# What the four first providers reported of their SROI obligation in the years that ended, in euros:
# Spaarnestad on schedule (target € 48.000 a year), Kennemer Jeugd behind (target € 60.000),
# IJmond on schedule but not yet reported for last year (target € 11.250), Duinzicht on schedule
# (target € 5.625). Rows that exist are left alone.
SROI_REPORTS = [
    ("50000", "47500", "49000", "48000"),
    ("35000", "41000", "52000", "38500"),
    ("12000", "11000", "11500", None),
    ("5700", "5700", "5700", "5700"),
]


def _sroi_reports(loader: DemoLoader, agreements: list, first: int) -> None:
    session = loader.session
    session.flush()
    known = {(row.framework_agreement_id, row.year) for row in session.exec(
        select(ObligationReport).where(ObligationReport.region_id == loader.region.id))}
    for agreement, amounts in zip(agreements, SROI_REPORTS):
        for offset, amount in enumerate(amounts):
            year = first + offset
            if amount is None or (agreement.id, year) in known:
                continue
            session.add(ObligationReport(
                region_id=loader.region.id, organisation_id=agreement.organisation_id,
                framework_agreement_id=agreement.id, obligation_id="kennemerland.sroi", year=year,
                realised_cents=int(Decimal(amount) * 100),
                note="Leerwerkplekken en werkervaringsplaatsen voor mensen met een afstand tot de arbeidsmarkt."))
