"""Region pack Rivierenland: the region, its Wmo and Jeugd segments with their overview pages and
home-page tiles, realisation rules for the segments paid per etmaal, and demo data."""
from portal.toolkit import region_pack_hooks
from portal_rivierenland.region import RIVIERENLAND
from portal_rivierenland.segments import DOMAINS

MENU_TEXTS = {
    "wmo": "Segmenten van de Wmo in Rivierenland: begeleiding, dagbesteding en kortdurend verblijf.",
    "jeugd": "Segmenten van de jeugdhulp in Rivierenland: van ambulante begeleiding tot wonen met behandeling.",
}

globals().update(region_pack_hooks(RIVIERENLAND, DOMAINS, __name__, MENU_TEXTS, order=30,
                                   parts=("demo", "realisation")))
