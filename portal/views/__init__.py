"""The core's blueprints."""
from __future__ import annotations


def register_core_blueprints(app) -> None:
    from portal.views import audit_log, auth, home, organisations, segments, users
    from portal.views import municipal_choices

    for module in (auth, home, organisations, users, segments, audit_log, municipal_choices):
        app.register_blueprint(module.bp)

    from portal.views import catalogue

    app.register_blueprint(catalogue.bp)

    # Framework agreements, budget agreements and extra capacity; the provider's "Mijn contracten".
    from portal.views import agreements, my_agreements

    app.register_blueprint(agreements.bp)
    app.register_blueprint(my_agreements.bp)

    # The JSON API (cookie-less, bearer tokens) and the screen where users manage their tokens.
    from portal import api
    from portal.views import api_keys

    app.register_blueprint(api.bp)
    app.register_blueprint(api_keys.bp)

    # Custom trajectory proposals (maatwerk): the provider's proposals, the review queue, the thread.
    from portal.views import proposals

    app.register_blueprint(proposals.bp)

    # Realisation: the provider's reports and uploads, the contract managers' review, the dashboards.
    from portal.views import realisation, realisation_dashboard, realisation_review

    for module in (realisation, realisation_review, realisation_dashboard):
        app.register_blueprint(module.bp)

    # What-if simulator of the yearly settlement (nothing is stored).
    from portal.views import settlement_whatif

    app.register_blueprint(settlement_whatif.bp)

    # The yearly settlement (afrekening): runs, statements per provider and municipality, files.
    from portal.views import settlement

    app.register_blueprint(settlement.bp)
