"""Builds the pluggy plugin manager: the core's default plugin, entry points, and test extras."""
from __future__ import annotations

from importlib.metadata import entry_points

import pluggy

from portal import core_plugin, hookspecs
from portal.config import ConfigurationError

ENTRY_POINT_GROUP = "portal.plugins"


def build_plugin_manager(enabled="*", extra_plugins=()) -> pluggy.PluginManager:
    """A fresh manager with the core plugin, the enabled entry points and ``extra_plugins``.

    ``enabled`` is ``"*"`` (every installed entry point) or a list of entry-point names; naming a
    plugin that is not installed stops start-up.
    """
    pm = pluggy.PluginManager("portal")
    pm.add_hookspecs(hookspecs)
    pm.register(core_plugin, name="core")
    available = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if enabled == "*":
        names = sorted(available)
    else:
        names = list(enabled)
        missing = [name for name in names if name not in available]
        if missing:
            raise ConfigurationError(
                f"PORTAL_ENABLED_PLUGINS names plugins that are not installed: {', '.join(missing)}. "
                f"Installed: {', '.join(sorted(available)) or 'none'}."
            )
    for name in names:
        pm.register(available[name].load(), name=name)
    for plugin in extra_plugins:
        pm.register(plugin, name=getattr(plugin, "__name__", None) or repr(plugin))
    pm.check_pending()
    return pm
