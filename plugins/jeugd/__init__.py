"""Jeugd plugin: the youth-care segments, their overview page and menu entry."""
from portal.toolkit import ALL_ROLES, MenuItem, domain_blueprint, hookimpl

from plugins.jeugd.pricing import PRICING
from plugins.jeugd.segments import JEUGD


@hookimpl
def portal_domains():
    return [JEUGD]


@hookimpl
def portal_blueprints():
    return [domain_blueprint("jeugd", __name__, "jeugd/overview.html")]


@hookimpl
def portal_menu_items():
    return [MenuItem("Jeugd", "jeugd.overview", ALL_ROLES,
                     "Segmenten van de jeugdhulp: van ambulant tot wonen.", order=31, place="home")]


@hookimpl
def portal_segment_pricing():
    return PRICING


@hookimpl
def portal_demo_data(demo):
    from plugins.jeugd.demo import load

    load(demo)


@hookimpl
def portal_proposal_rules():
    from plugins.jeugd.proposal_rules import RULES

    return RULES


@hookimpl
def portal_realisation_fields():
    from plugins.jeugd.realisation import SPECS

    return SPECS


@hookimpl
def portal_settlement_rules():
    from plugins.jeugd.settlement import RULES

    return RULES
