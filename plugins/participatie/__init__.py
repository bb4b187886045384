"""Participatie plugin: the work-and-participation segments, their overview page and menu entry,
pricing, demo data, proposal rules, realisation fields and settlement rules."""
from plugins.participatie.pricing import PRICING
from plugins.participatie.segments import PARTICIPATIE
from portal.toolkit import domain_plugin_hooks

globals().update(domain_plugin_hooks(
    PARTICIPATIE, __name__, "Segmenten van de Participatiewet: begeleiding naar werk.", order=32,
    pricing=PRICING, parts=("demo", "proposal_rules", "realisation", "settlement")))
