"""The one module plugins import from the core: hook marker, registration types and helpers.

Plugins use only what is exported here, so the core may reorganise its internals freely.
"""
from __future__ import annotations

from dataclasses import replace
from importlib import import_module

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlmodel import select

from portal import audit, db
from portal.accounts import roles
from portal.accounts.roles import roles_required
from portal.accounts.scoping import get_scoped_or_404, scoped
from portal.catalogue.pricing import WEEKS_PER_MONTH, ExtraField, PriceLine, SegmentPricing, TrajectoryTerms
from portal.contracts import terms as contract_terms
from portal.demo_loader import DemoLoader, Evaluation, TrajectorySpec
from portal.formatting import percent
from portal.hookspecs import hookimpl
from portal.models import (
    BowWaveEvaluation,
    BudgetAgreement,
    CareForm,
    ExtraCapacity,
    FrameworkAgreement,
    FrameworkSegment,
    MunicipalChoice,
    ObligationReport,
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
    AgreementObligation,
    Domain,
    LocalRule,
    MenuItem,
    ProposalRules,
    RealisationField,
    RealisationSpec,
    RegionPack,
    RuleDefinition,
    Segment,
    SettlementParameter,
    SettlementRule,
    TariffFloor,
    current_registry,
    region_scope,
)
from portal.settlement.engine import euro

__all__ = [
    "ALL_ROLES", "Blueprint", "Domain", "domain_plugin_hooks", "RegionPack", "region_pack_hooks", "region_scope", "ExtraField", "LocalRule", "PriceLine", "SegmentPricing",
    "ProposalRules", "RealisationField", "RealisationSpec", "WEEKS_PER_MONTH",
    "TrajectoryTerms", "to_cents", "MenuItem", "RuleDefinition", "Segment", "audit",
    "current_user", "db", "domain_blueprint", "get_scoped_or_404", "hookimpl", "login_required",
    "registry", "render_template", "roles", "roles_required", "scoped", "select",
    # demo data (portal_demo_data) and the tables it fills
    "DemoLoader", "Evaluation", "TrajectorySpec", "contract_terms",
    "BowWaveEvaluation", "BudgetAgreement", "CareForm", "ExtraCapacity", "FrameworkAgreement",
    "FrameworkSegment", "MunicipalChoice", "ObligationReport", "Organisation", "OrganisationKind", "StandardTrajectory",
    "Surcharge", "SurchargeQualification", "Tariff", "TariffVersion",
    # settlement rules (portal_settlement_rules, portal_settlement_parameters) and their Dutch amounts
    "SettlementParameter", "SettlementRule", "euro", "percent",
    # minimum tariffs (portal_tariff_floors)
    "TariffFloor",
    # obligations that come with a framework agreement (portal_agreement_obligations)
    "AgreementObligation",
]

ALL_ROLES = frozenset(roles.ALL_ROLES)

# The merged registry of the running app (domains, segments, rules, menu), for plugins.
registry = current_registry


def domain_blueprint(domain_code: str, import_name: str, template: str, region: str | None = None) -> Blueprint:
    """A blueprint named after the domain with its overview page at ``/<domain_code>/``; for a
    region pack's domain (``region``) named ``<region>_<domain_code>`` at
    ``/<region>/<domain_code>/``.

    The page renders the plugin's ``template`` with ``domain`` (the registered :class:`Domain`);
    the template usually extends the core's ``segments/domain.html``. A user of another region (one
    without that domain, or a pack region with a domain of the same code) gets 404.
    """
    name = f"{region}_{domain_code}" if region else domain_code
    prefix = f"/{region}/{domain_code}" if region else f"/{domain_code}"
    blueprint = Blueprint(name, import_name, url_prefix=prefix, template_folder="templates")

    @blueprint.route("/")
    @login_required
    def overview():
        # A region's registry answers; a page of the regions without a pack (``region`` None) is
        # not for a pack region, even when that region has a domain of the same code.
        registry = current_registry()
        domain = registry.domains.get(domain_code)
        if domain is None or registry.region != region:
            abort(404)
        return render_template(template, domain=domain)

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
    _check_parts(parts)

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
    return {**hooks, **_optional_hooks(package, pricing, parts)}


def region_pack_hooks(pack: RegionPack, domains: list[Domain], package: str, menu_texts: dict[str, str],
                      order: int = 30, pricing: list | None = None, parts: tuple[str, ...] = ()) -> dict:
    """The hook functions of a region pack, for its package's ``__init__.py``:
    ``globals().update(region_pack_hooks(...))``.

    ``portal_regions`` (``pack``), ``portal_domains`` (``domains``, each :class:`Domain` with
    ``endpoint`` left empty: it is set here), ``portal_blueprints`` (an overview page per domain at
    ``/<region>/<domain>/`` with the template ``<region>/<domain>.html`` from the package's
    ``templates`` folder) and ``portal_menu_items`` (a home-page tile per domain, with the text in
    ``menu_texts[domain.code]``). ``pricing`` and ``parts`` as in :func:`domain_plugin_hooks`.
    """
    _check_parts(parts)
    stamped = [replace(domain, endpoint=f"{pack.code}_{domain.code}.overview") for domain in domains]

    @hookimpl
    def portal_regions():
        return [pack]

    @hookimpl
    def portal_domains():
        return stamped

    @hookimpl
    def portal_blueprints():
        return [domain_blueprint(domain.code, package, f"{pack.code}/{domain.code}.html", region=pack.code)
                for domain in stamped]

    @hookimpl
    def portal_menu_items():
        return [MenuItem(domain.name, domain.endpoint, ALL_ROLES, menu_texts.get(domain.code, ""),
                         order=order + index, place="home") for index, domain in enumerate(stamped)]

    hooks = {"portal_regions": portal_regions, "portal_domains": portal_domains,
             "portal_blueprints": portal_blueprints, "portal_menu_items": portal_menu_items}
    return {**hooks, **_optional_hooks(package, pricing, parts)}


def _check_parts(parts: tuple[str, ...]) -> None:
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown plugin parts {unknown}; known: {sorted(PARTS)}")


def _optional_hooks(package: str, pricing: list | None, parts: tuple[str, ...]) -> dict:
    """``portal_segment_pricing`` for ``pricing`` (when given) and the hook of each part."""
    hooks = {}
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
