"""The provider portal: a Flask core for regional purchasing in the social domain, extended by
pluggy plugins. ``create_app`` builds an app; ``hookimpl`` marks a plugin's hook functions."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader

from portal.hookspecs import hookimpl

__all__ = ["create_app", "hookimpl"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the portal app. ``config`` overrides the defaults and the PORTAL_* environment.

    Besides the settings in :mod:`portal.config`, ``INSTANCE_PATH`` (or ``PORTAL_INSTANCE_PATH``)
    moves the instance folder, and a test may pass ``EXTRA_PLUGINS`` (a list of plugin modules or
    objects to register next to the entry points).
    """
    # Imported here, not above: every ``portal.*`` import runs this package first, and the app's
    # parts (blueprints, services) import ``portal.db`` and friends themselves.
    from flask_wtf import CSRFProtect
    from htmx_flask import Htmx

    from portal import db, jobs, logs, page_cache
    from portal.accounts import login
    from portal.config import load_settings
    from portal.plugin_manager import build_plugin_manager
    from portal.registry import PluginConflict, build_registry
    from portal.web import blueprints, errors, security, templating

    instance_path = ((config or {}).get("INSTANCE_PATH") or os.environ.get("PORTAL_INSTANCE_PATH")
                     or str(PROJECT_ROOT / "instance"))
    app = Flask(__name__, static_folder=str(PROJECT_ROOT / "static"), instance_path=instance_path)
    load_settings(app, config)
    app.debug = False  # never the interactive debugger: no stack trace is shown to a user

    pm = build_plugin_manager(app.config["ENABLED_PLUGINS"], app.config.get("EXTRA_PLUGINS", ()))
    app.extensions["portal.plugins"] = pm
    app.extensions["portal.registry"] = build_registry(pm)

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    logs.init_app(app)  # first, so the request id is there for every other before_request
    db.init_app(app)
    jobs.init_app(app)
    page_cache.init_app(app)  # after the engine and Redis: commits that write move its version
    CSRFProtect(app)
    Htmx(app)
    login.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    extra_folders = [str(folder) for folders in pm.hook.portal_template_folders() for folder in folders]
    if extra_folders:
        app.jinja_loader = ChoiceLoader([FileSystemLoader(extra_folders), app.jinja_loader])

    blueprints.register_blueprints(app)
    for plugin_blueprints in reversed(pm.hook.portal_blueprints()):
        for blueprint in plugin_blueprints:
            if blueprint.name in app.blueprints:
                raise PluginConflict(
                    f"Blueprint name {blueprint.name!r} is already taken; rename the plugin's blueprint."
                )
            app.register_blueprint(blueprint)

    registry = app.extensions["portal.registry"]
    endpoints = set(app.view_functions)
    for item in registry.menu_items:
        if item.endpoint not in endpoints:
            raise PluginConflict(f"Menu item {item.label!r} points to unknown endpoint {item.endpoint!r}.")

    from portal import cli  # the commands load the demo and the settlement: only an app needs them

    cli.init_app(app)
    pm.hook.portal_app_ready(app=app)
    return app
