"""The region Kennemerland as its purchasing strategy describes it (seed 003): who takes part, the
one domain with segments A, B1–B4 and C, its minimum tariffs and its rule against surcharges.

003 buys Wmo support and youth care together and on purpose without walls between them ("geen
onderscheid in doelgroepen per product"), so the pack has one domain for both laws. Segment B's
four product groups are four segments B1–B4: budget ceilings, minimum tariffs and municipal choices
are per segment in the portal, and 003 §9 sets volumes, budgets and ceilings per product group.
"""
from portal.toolkit import Domain, LocalRule, RegionPack, Segment, TariffFloor

REGION = "kennemerland"
DOMAIN = "sociaal"

# The municipalities of 003 (footnote 2): IJmond (Beverwijk, Heemskerk, Velsen) and
# Zuid-Kennemerland (Bloemendaal, Haarlem, Heemstede, Zandvoort). Haarlemmerliede en Spaarnwoude
# (CBS 0393), also named there, joined Haarlemmermeer on 1 January 2019 and so has no place in the
# demo's years. CBS municipality codes; residents approximate, CBS StatLine population on
# 1 January 2023 rounded to hundreds (the population key for shared costs).
MUNICIPALITIES = (
    ("Beverwijk", "0375", 42_900),
    ("Bloemendaal", "0377", 23_900),
    ("Haarlem", "0392", 163_000),
    ("Heemskerk", "0396", 39_700),
    ("Heemstede", "0397", 27_800),
    ("Velsen", "0453", 68_900),
    ("Zandvoort", "0473", 17_200),
)

# Made-up name: 003 names no purchasing body; the municipalities buy together for the region.
PURCHASING_OFFICE = "Inkoopbureau Sociaal Domein Kennemerland"

PACK = RegionPack(
    code=REGION,
    name="Kennemerland",
    municipalities=MUNICIPALITIES,
    purchasing_office=PURCHASING_OFFICE,
    description="Zuid-Kennemerland en IJmond kopen Wmo-ondersteuning en jeugdhulp samen in, in drie segmenten.",
    # 003: segment A is funded as a lump sum "in de vorm van een subsidie" under the local
    # Algemene Subsidieverordening; the core's funding forms have no subsidy.
    funding_forms={"subsidy": "Subsidie (lokale subsidieverordening)"},
)

CONTRACT = "3+1+1"  # 003 §7 "Contractduur": three years with two options of one year each

SOCIAL_DOMAIN = Domain(
    code=DOMAIN,
    name="Kennemerland",
    law="Wmo 2015 en Jeugdwet",
    segments=(
        Segment("A", "Basisinfrastructuur (lokaal)", ("lump_sum", "subsidy"), "1",
                "Algemeen toegankelijke voorzieningen in de wijk en het sociaal wijkteam of CJG, zonder "
                "indicatie. Elke gemeente organiseert en bekostigt ze zelf, per jaar, veelal als subsidie.",
                lots=("local",)),
        Segment("B1", "Ontwikkeling en herstel", ("trajectory", "budget_ceiling"), CONTRACT,
                "Geïndiceerd, regionaal. Ontwikkelingsgerichte trajecten: maatschappelijk herstel, "
                "competenties en vaardigheden, re-integratie.", lots=("regional",)),
        Segment("B2", "Duurzaam licht", ("pxq", "budget_ceiling"), CONTRACT,
                "Geïndiceerd, regionaal. Langdurige maar relatief lichte ondersteuning, soms levenslang "
                "en levensbreed.", lots=("regional",)),
        Segment("B3", "Duurzaam zwaar", ("pxq", "budget_ceiling"), CONTRACT,
                "Geïndiceerd, regionaal. Langdurige en relatief intensieve ondersteuning, soms "
                "levenslang en levensbreed.", lots=("regional",)),
        Segment("B4", "Crisis", ("availability", "pxq"), CONTRACT,
                "Geïndiceerd, regionaal. Acuut ingrijpen, de-escalatie, stabiliseren en directe opvang.",
                lots=("regional",)),
        Segment("C", "Hoogspecialistisch (regionaal en bovenregionaal)", ("availability", "pxq"), CONTRACT,
                "Voor weinig mensen, met een groot deel van het budget; regionaal, bovenregionaal of "
                "landelijk verworven. Beschikbaarheidsbijdrage of tarief p × q.", lots=("regional",)),
    ),
)

# 003 §7 "Tariefbepaling": minimum tariffs "om de kwaliteit van dienstverlening te borgen en
# 'prijsvechters' op afstand te houden". The amounts are the demo's own (003 names none).
_QUALITY = "Minimumtarief om de kwaliteit te borgen en prijsvechters op afstand te houden (003 §7)."
TARIFF_FLOORS = [
    TariffFloor(f"{DOMAIN}.B1", "66.00", unit="hour", reason=_QUALITY),
    TariffFloor(f"{DOMAIN}.B2", "62.50", unit="hour", reason=_QUALITY),
    TariffFloor(f"{DOMAIN}.B2", "118.00", unit="day", reason=_QUALITY),
    TariffFloor(f"{DOMAIN}.B3", "68.00", unit="hour", reason=_QUALITY),
    TariffFloor(f"{DOMAIN}.B3", "140.00", unit="day", reason=_QUALITY),
    TariffFloor(f"{DOMAIN}.B4", "85.00", unit="hour", reason=_QUALITY),
    TariffFloor(f"{DOMAIN}.C", "95.00", unit="hour", reason=_QUALITY),
    TariffFloor(f"{DOMAIN}.C", "310.00", unit="day", reason=_QUALITY),
]

# 003 §7: the region steps away from surcharges for providers with a heavier client population,
# "omdat deze in de praktijk moeilijk te controleren is".
LOCAL_RULES = [
    LocalRule("surcharges", "not_allowed", region=REGION,
              reason="Kennemerland vereenvoudigt de tariefstructuur: geen opslagtarieven meer (003 §7)."),
]
