"""Wmo plugin: the Wmo segments, their overview page and menu entry."""
from portal.toolkit import ALL_ROLES, MenuItem, domain_blueprint, hookimpl

from plugins.wmo.segments import WMO


@hookimpl
def portal_domains():
    return [WMO]


@hookimpl
def portal_blueprints():
    return [domain_blueprint("wmo", __name__, "wmo/overview.html")]


@hookimpl
def portal_menu_items():
    return [MenuItem("Wmo", "wmo.overview", ALL_ROLES,
                     "Segmenten van de Wmo: ondersteuning voor volwassenen en ouderen.", order=30, place="home")]


@hookimpl
def portal_demo_data(demo):
    from plugins.wmo.demo import load

    load(demo)


@hookimpl
def portal_proposal_rules():
    from plugins.wmo.proposal_rules import RULES

    return RULES


@hookimpl
def portal_realisation_fields():
    from plugins.wmo.realisation import SPECS

    return SPECS
