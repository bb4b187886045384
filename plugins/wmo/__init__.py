"""Wmo plugin: the Wmo segments, their overview page and menu entry, demo data, proposal rules and
realisation fields."""
from plugins.wmo.segments import WMO
from portal.toolkit import domain_plugin_hooks

globals().update(domain_plugin_hooks(
    WMO, __name__, "Segmenten van de Wmo: ondersteuning voor volwassenen en ouderen.", order=30,
    parts=("demo", "proposal_rules", "realisation")))
