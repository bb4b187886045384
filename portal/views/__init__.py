"""The core's blueprints."""
from __future__ import annotations


def register_core_blueprints(app) -> None:
    from portal.views import audit_log, auth, home, organisations, segments, users

    for module in (auth, home, organisations, users, segments, audit_log):
        app.register_blueprint(module.bp)
