"""Region pack Kennemerland (Zuid-Kennemerland and IJmond, seed 003): its domain with segments A,
B1–B4 and C, overview page and home tile, minimum tariffs, no surcharges, and demo data."""
from portal.toolkit import hookimpl, region_pack_hooks
from portal_kennemerland.segments import LOCAL_RULES, PACK, SOCIAL_DOMAIN, TARIFF_FLOORS

globals().update(region_pack_hooks(
    PACK, [SOCIAL_DOMAIN], __name__,
    {SOCIAL_DOMAIN.code: "Segmenten A, B1–B4 en C: Wmo-ondersteuning en jeugdhulp in Zuid-Kennemerland en IJmond."},
    parts=("demo",)))


@hookimpl
def portal_tariff_floors():
    return TARIFF_FLOORS


@hookimpl
def portal_local_rules():
    return LOCAL_RULES


@hookimpl
def portal_agreement_obligations():
    from portal_kennemerland.obligations import OBLIGATIONS

    return OBLIGATIONS
