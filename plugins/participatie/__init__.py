"""Participatie plugin: the work-and-participation segments, their overview page and menu entry."""
from portal.toolkit import ALL_ROLES, MenuItem, domain_blueprint, hookimpl

from plugins.participatie.pricing import PRICING
from plugins.participatie.segments import PARTICIPATIE


@hookimpl
def portal_domains():
    return [PARTICIPATIE]


@hookimpl
def portal_blueprints():
    return [domain_blueprint("participatie", __name__, "participatie/overview.html")]


@hookimpl
def portal_menu_items():
    return [MenuItem("Participatie", "participatie.overview", ALL_ROLES,
                     "Segmenten van de Participatiewet: begeleiding naar werk.", order=32, place="home")]


@hookimpl
def portal_segment_pricing():
    return PRICING


@hookimpl
def portal_demo_data(demo):
    from plugins.participatie.demo import load

    load(demo)


@hookimpl
def portal_proposal_rules():
    from plugins.participatie.proposal_rules import RULES

    return RULES


@hookimpl
def portal_realisation_fields():
    from plugins.participatie.realisation import SPECS

    return SPECS


@hookimpl
def portal_settlement_rules():
    from plugins.participatie.settlement import RULES

    return RULES
