"""The one module plugins import from the core: hook marker, registration types and helpers.

Plugins use only what is exported here, so the core may reorganise its internals freely.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from portal import audit, contract_terms, db, roles
from portal.demo_loader import DemoLoader, Evaluation, TrajectorySpec
from portal.hookspecs import hookimpl
from portal.models import (BowWaveEvaluation, BudgetAgreement, CareForm, ExtraCapacity,
                           FrameworkAgreement, FrameworkSegment, MunicipalChoice, Organisation,
                           OrganisationKind, StandardTrajectory, Surcharge, SurchargeQualification,
                           Tariff, TariffVersion)
from portal.money import to_cents
from portal.pricing import WEEKS_PER_MONTH, ExtraField, PriceLine, SegmentPricing, TrajectoryTerms
from portal.registry import (Domain, LocalRule, MenuItem, ProposalRules, RealisationField, RealisationSpec,
                             RuleDefinition, Segment, SettlementParameter, SettlementRule)
from portal.roles import roles_required
from portal.settlement_engine import euro, percent
from portal.scoping import get_scoped_or_404, scoped

__all__ = [
    "ALL_ROLES", "Blueprint", "Domain", "ExtraField", "LocalRule", "PriceLine", "SegmentPricing",
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


def registry():
    """The merged registry of the running app (domains, segments, rules, menu)."""
    return current_app.extensions["portal.registry"]


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
        return render_template(template, domain=registry().domains[domain_code])

    return blueprint
