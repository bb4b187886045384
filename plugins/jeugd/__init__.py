"""Jeugd plugin: the youth-care segments, their overview page and menu entry, pricing, demo data,
proposal rules, realisation fields and settlement rules."""
from plugins.jeugd.pricing import PRICING
from plugins.jeugd.segments import JEUGD
from portal.toolkit import domain_plugin_hooks

globals().update(domain_plugin_hooks(
    JEUGD, __name__, "Segmenten van de jeugdhulp: van ambulant tot wonen.", order=31,
    pricing=PRICING, parts=("demo", "proposal_rules", "realisation", "settlement")))
