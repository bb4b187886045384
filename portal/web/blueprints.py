"""Every screen of the core, by domain: ``register_blueprints`` puts each package's blueprints on
an app (the plugins add theirs through ``portal_blueprints``)."""
from __future__ import annotations

from portal import api
from portal.accounts.views import api_keys, auth, organisations, users
from portal.catalogue.views import catalogue, segments
from portal.contracts.views import agreements, municipal_choices, my_agreements, obligations
from portal.proposals import views as proposals
from portal.realisation.views import dashboard as realisation_dashboard
from portal.realisation.views import reports as realisation
from portal.realisation.views import review as realisation_review
from portal.settlement.views import runs as settlement
from portal.settlement.views import whatif as settlement_whatif
from portal.web import audit_log, exports, health, home

BLUEPRINTS = (
    # web: the home page of each role, the audit log, the health probes, and exports made by a job
    home.bp, audit_log.bp, health.bp, exports.bp,
    # accounts: signing in, the organisations and their people, API keys and the JSON API
    auth.bp, organisations.bp, users.bp, api_keys.bp, api.bp,
    # catalogue: the domains and segments, the catalogue and its prices
    segments.bp, catalogue.bp,
    # contracts: framework and budget agreements, extra capacity, municipal choices, obligations
    agreements.bp, my_agreements.bp, municipal_choices.bp, obligations.bp,
    # proposals: custom trajectory proposals and their negotiation
    proposals.bp,
    # realisation: reports and uploads, the review, the dashboards
    realisation.bp, realisation_review.bp, realisation_dashboard.bp,
    # settlement: the yearly settlement and its what-if simulator
    settlement_whatif.bp, settlement.bp,
)


def register_blueprints(app) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
