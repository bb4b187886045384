"""The one module plugins import from the core: hook marker, registration types and helpers.

Plugins use only what is exported here, so the core may reorganise its internals freely.
"""
from __future__ import annotations

from importlib import import_module

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from portal import audit, db
from portal.accounts import roles
from portal.accounts.roles import roles_required
from portal.accounts.scoping import get_scoped_or_404, scoped
from portal.catalogue.pricing import WEEKS_PER_MONTH, ExtraField, PriceLine, SegmentPricing, TrajectoryTerms
from portal.contracts import terms as contract_terms
from portal.demo_loader import DemoLoader, Evaluation, TrajectorySpec
from portal.hookspecs import hookimpl
from portal.models import (
    BowWaveEvaluation,
    BudgetAgreement,
    CareForm,
    ExtraCapacity,
    FrameworkAgreement,
    FrameworkSegment,
    MunicipalChoice,
    Organisation,
    OrganisationKind,
    StandardTrajectory,
    Surcharge,
    SurchargeQualification,
    Tariff,
    TariffVersion,
)
from portal.money import to_cents
from portal.registry import (
    Domain,
    LocalRule,
    MenuItem,
    ProposalRules,
    RealisationField,
    RealisationSpec,
    RuleDefinition,
    Segment,
    SettlementParameter,
    SettlementRule,
    current_registry,
)
from portal.settlement.engine import euro, percent

__all__ = [
    "ALL_ROLES", "Blueprint", "Domain", "domain_plugin_hooks", "ExtraField", "LocalRule", "PriceLine", "SegmentPricing",
    "ProposalRules", "RealisationField", "RealisationSpec", "WEEKS_PER_MONTH",
    "TrajectoryTerms", "to_cents", "MenuItem", "RuleDefinition", "Segment", "audit",
    "current_user", "db", "domain_blueprint", "get_scoped_or_404", "hookimpl", "login_required",
    "registry", "render_template", "roles", "roles_required", "scoped",
    # demo data (portal_demo_data) and the tables it fills
    "DemoLoader", "Evaluation", "TrajectorySpec", "contract_terms",
    "BowWaveEvaluation", "BudgetAgreement", "CareForm", "ExtraCapacity", "FrameworkAgreement",
    "FrameworkSegment", "MunicipalChoice", "Organisation", "OrganisationKind", "StandardTrajectory",
    "Surcharge", "SurchargeQualification", "Tariff", "TariffVersion",
    # settlement rules (portal_settlement_rules, portal_settlement_parameters) and their Dutch amounts
    "SettlementParameter", "SettlementRule", "euro", "percent",
]

ALL_ROLES = frozenset(roles.ALL_ROLES)

# The merged registry of the running app (domains, segments, rules, menu), for plugins.
registry = current_registry


def domain_blueprint(domain_code: str, import_name: str, template: str) -> Blueprint:
    """A blueprint named after the domain with its overview page at ``/<domain_code>/``.

    The page renders the plugin's ``template`` with ``domain`` (the registered :class:`Domain`);
    the template usually extends the core's ``segments/domain.html``.
    """
    blueprint = Blueprint(domain_code, import_name, url_prefix=f"/{domain_code}",
                          template_folder="templates")

    @blueprint.route("/")
    @login_required
    def overview():
        return render_template(template, domain=current_registry().domains[domain_code])

    return blueprint


# The optional parts of a domain plugin: the module of the plugin's package, the name it exports
# and the hook that hands it to the core. A part's module is imported when its hook is first
# called, so loading the plugin stays light.
PARTS = {
    "demo": ("demo", "load", "portal_demo_data"),
    "proposal_rules": ("proposal_rules", "RULES", "portal_proposal_rules"),
    "realisation": ("realisation", "SPECS", "portal_realisation_fields"),
    "settlement": ("settlement", "RULES", "portal_settlement_rules"),
}


def domain_plugin_hooks(domain: Domain, package: str, menu_text: str, order: int,
                        pricing: list | None = None, parts: tuple[str, ...] = ()) -> dict:
    """The hook functions every domain plugin has, for its package's ``__init__.py``:
    ``globals().update(domain_plugin_hooks(...))``.

    Always: ``portal_domains`` (``domain``), ``portal_blueprints`` (the overview page at
    ``/<domain.code>/`` with the template ``<domain.code>/overview.html``) and
    ``portal_menu_items`` (a home-page tile named after the domain, with ``menu_text`` and
    ``order``). ``pricing`` adds ``portal_segment_pricing``; each name in ``parts`` (see
    :data:`PARTS`) adds the hook that reads that module of ``package``, e.g. ``"demo"`` calls
    ``<package>.demo.load(demo)`` from ``portal_demo_data``.
    """
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown plugin parts {unknown}; known: {sorted(PARTS)}")

    @hookimpl
    def portal_domains():
        return [domain]

    @hookimpl
    def portal_blueprints():
        return [domain_blueprint(domain.code, package, f"{domain.code}/overview.html")]

    @hookimpl
    def portal_menu_items():
        return [MenuItem(domain.name, f"{domain.code}.overview", ALL_ROLES, menu_text, order=order, place="home")]

    hooks = {"portal_domains": portal_domains, "portal_blueprints": portal_blueprints,
             "portal_menu_items": portal_menu_items}
    if pricing is not None:
        @hookimpl
        def portal_segment_pricing():
            return pricing

        hooks["portal_segment_pricing"] = portal_segment_pricing
    for part in parts:
        module, name, hook = PARTS[part]
        hooks[hook] = _part_hook(hook, f"{package}.{module}", name)
    return hooks


def _part_hook(hook: str, module: str, name: str):
    def read():
        return getattr(import_module(module), name)

    if hook == "portal_demo_data":
        def portal_demo_data(demo):
            read()(demo)

        return hookimpl(portal_demo_data)

    def part():
        return read()

    part.__name__ = hook
    return hookimpl(part)
