"""The region Rivierenland: its six municipalities (the population key) and purchasing office.

Six of the region's eight municipalities buy Wmo and youth care together (002 §1.1; Zaltbommel and
Maasdriel buy on their own). CBS municipality codes are the real ones. Residents are our
approximations of CBS StatLine's figures on 1 January 2020, rounded to hundreds (002 gives only
"nearly 250,000" for all eight municipalities); good enough for a population key in a demo.

Purchasing: the municipalities work together within the Gemeenschappelijke Regeling Regio
Rivierenland, which placed purchasing and contract management with the team Wmo/Jeugd of its
department Contractgestuurde Dienstverlening (CgD, 002 §1.1); 002 wants supplier management with
a regional implementation organisation ("regionale uitvoeringsorganisatie") without naming one, so
the purchasing office is the CgD of Regio Rivierenland.
"""
from portal.toolkit import RegionPack

REGION_CODE = "rivierenland"

MUNICIPALITIES = (
    ("Buren", "0214", 26_700),
    ("Culemborg", "0216", 28_900),
    ("Neder-Betuwe", "1740", 24_000),
    ("Tiel", "0281", 41_900),
    ("West Betuwe", "1960", 51_000),
    ("West Maas en Waal", "0668", 19_500),
)

PURCHASING_OFFICE = "Regio Rivierenland, Contractgestuurde Dienstverlening"

RIVIERENLAND = RegionPack(
    code=REGION_CODE,
    name="Rivierenland",
    municipalities=MUNICIPALITIES,
    purchasing_office=PURCHASING_OFFICE,
    description="Zes gemeenten kopen Wmo-ondersteuning en jeugdhulp samen in via Regio Rivierenland.",
)
