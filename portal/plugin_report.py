"""What the plugins of a running app add up to, for ``flask --app wsgi plugins``: the loaded plugins
(where each comes from, which hooks it implements), the local rules and the settlement parameters
in force per region, municipality and segment, and where each value comes from.

The report is built from the plugin manager and the registry (:func:`build_report`) and written as
Dutch text for a terminal (:func:`render`); the command itself is in :mod:`portal.cli`.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.metadata import entry_points

from babel.numbers import format_decimal
from sqlmodel import select

from portal import db
from portal.formatting import percent
from portal.models import Organisation, OrganisationKind, Region
from portal.plugin_manager import ENTRY_POINT_GROUP
from portal.registry import Registry

WIDTH = 100  # the terminal width the text is wrapped to


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin: its name in the plugin manager, where it comes from and its hooks."""

    name: str
    origin: str  # Dutch: the distribution and entry point, or how else it was registered
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class RegionInfo:
    code: str
    name: str | None  # None: named by a plugin, but not a row of the region table
    municipalities: dict[str, str] = field(default_factory=dict)  # CBS code -> name


@dataclass(frozen=True)
class ScopedValue:
    """The value in force for one scope, with its Dutch source and the plugin's reason if it gave one."""

    scope: str
    value: str
    source: str
    reason: str = ""


@dataclass(frozen=True)
class RuleEntry:
    id: str
    name: str
    owner: str
    choices: str  # "month = Per maand, quarter = Per kwartaal"
    default: str
    values: list[ScopedValue]


@dataclass(frozen=True)
class SettlementEntry:
    id: str
    name: str
    owner: str
    segments: str
    defaults: str  # "share 50%"
    values: list[tuple[str, list[ScopedValue]]]  # scope -> one value per parameter


@dataclass(frozen=True)
class Report:
    plugins: list[PluginInfo]
    regions: list[RegionInfo]
    rules: list[RuleEntry]
    settlement_rules: list[SettlementEntry]
    realisation_checks: list[str]  # "module.function" of each check, in the order they run
    proposal_checks: list[str]


class UnknownRegion(LookupError):
    """``--region`` names a region that is not in the region table; the message is Dutch."""


# --- Gathering --------------------------------------------------------------------------------


def loaded_plugins(pm) -> list[PluginInfo]:
    """Every plugin of the manager in the order it was registered (the core first)."""
    points = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    plugins = []
    for name, plugin in pm.list_name_plugin():
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        point = points.get(name)
        if name == "core":
            origin = "ingebouwd in het portaal (portal.core_plugin)"
        elif point is not None and point.dist is not None:
            origin = (f"pakket {point.dist.name} {point.dist.version}, "
                      f"entry point {point.name} = {point.value}")
        elif point is not None:
            origin = f"entry point {point.name} = {point.value}"
        else:
            origin = "geen entry point: meegegeven aan create_app (EXTRA_PLUGINS)"
        plugins.append(PluginInfo(name, origin, hooks))
    return plugins


def regions_in_database() -> dict[str, RegionInfo]:
    """The regions of the region table with their municipalities' CBS codes and names."""
    session = db.session()
    names: dict[int, dict[str, str]] = {}
    for org in session.exec(select(Organisation).where(Organisation.kind == OrganisationKind.MUNICIPALITY)):
        if org.municipality_code:
            names.setdefault(org.region_id, {})[org.municipality_code] = org.name
    return {region.code: RegionInfo(region.code, region.name, names.get(region.id, {}))
            for region in session.exec(select(Region).order_by(Region.code))}


def choose_regions(registry: Registry, known: dict[str, RegionInfo],
                   region_code: str | None) -> list[RegionInfo]:
    """The regions to report: ``region_code`` alone (it must be a row of the region table), or every
    region of the table and every region a plugin sets values for (a typo in a plugin shows up)."""
    if region_code is not None:
        code = region_code.strip()
        if code not in known and code in registry.packs:
            return [RegionInfo(code, None)]
        if code not in known:
            listed = ", ".join(sorted(known.keys() | registry.packs.keys())) or "geen"
            raise UnknownRegion(f"Er is geen regio met de code {region_code!r}. Bekende regio's: {listed}.")
        return [known[code]]
    named = set(registry.packs)
    for each in (registry, *registry.regions.values()):
        named |= {key[1] for key in each.local_rules} | {key[2] for key in each.settlement_values}
    return [known.get(code) or RegionInfo(code, None) for code in sorted(known.keys() | named)]


def registry_for(registry: Registry, region: RegionInfo) -> Registry:
    """The registry whose rules hold in ``region``: its region pack's, else the shared one."""
    return registry.for_region(region.code)


def _scope_label(registry: Registry, region: RegionInfo, municipality: str | None,
                 segment: str | None) -> str:
    if municipality is None:
        label = f"regio {region.code}"
    else:
        name = region.municipalities.get(municipality)
        if name:
            label = f"gemeente {name} ({municipality})"
        elif region.name is not None:  # the region is known, the municipality not: a typo in the plugin?
            label = f"gemeente {municipality} (LET OP: geen gemeente van {region.code})"
        else:
            label = f"gemeente {municipality}"
    if segment is not None:
        label += f", segment {registry.segment_short_label(segment)}"
    return label


def _scopes(keys, region: str) -> list[tuple[str | None, str | None]]:
    """The region itself, then every (municipality, segment) scope a plugin set a value for."""
    found = {(municipality, segment) for key_region, municipality, segment in keys if key_region == region}
    found.discard((None, None))
    return [(None, None), *sorted(found, key=lambda scope: (scope[0] or "", scope[1] or ""))]


def rule_entries(registry: Registry, regions: list[RegionInfo]) -> list[RuleEntry]:
    entries = []
    for rule_id, definition in registry.rules.items():
        values = []
        for region in regions:
            scoped = registry_for(registry, region)
            keys = [key[1:] for key in scoped.local_rules if key[0] == rule_id]
            for municipality, segment in _scopes(keys, region.code):
                resolved = scoped.rule(rule_id, region.code, municipality, segment)
                local = scoped.local_rules.get((rule_id, region.code, municipality, segment))
                label = _scope_label(scoped, region, municipality, segment)
                values.append(ScopedValue(label, resolved.value_label, resolved.source,
                                          local[0].reason if local else ""))
        choices = ", ".join(f"{value} = {label}" for value, label in definition.choices.items())
        default = definition.choices.get(definition.default, definition.default)
        owner = registry.owners.get("rule:" + rule_id, "?")
        entries.append(RuleEntry(rule_id, definition.name, owner, choices, default, values))
    return entries


def _parameter_text(value: Decimal, fraction: bool) -> str:
    """A fraction as a percentage (0.40 → "40%"), any other parameter as a Dutch decimal."""
    if fraction:
        return percent(value)
    return format_decimal(value, format="#,##0.##", locale="nl_NL")


def settlement_entries(registry: Registry, regions: list[RegionInfo]) -> list[SettlementEntry]:
    entries = []
    # Each region pack has settlement rules of its own: every rule of every registry, once.
    owners: dict[str, Registry] = {}
    for each in (registry, *registry.regions.values()):
        for rule_id in each.settlement_rules:
            owners.setdefault(rule_id, each)
    for rule_id, home in owners.items():
        rule = home.settlement_rules[rule_id]
        values = []
        for region in regions:
            scoped = registry_for(registry, region)
            if rule_id not in scoped.settlement_rules:
                continue
            keys = [(key[2], key[3], key[4]) for key in scoped.settlement_values if key[0] == rule_id]
            for municipality, segment in _scopes(keys, region.code):
                resolved = scoped.settlement_parameters(rule_id, region.code, municipality, segment)
                parameters = []
                for name, parameter in resolved.items():
                    local = scoped.settlement_values.get((rule_id, name, region.code, municipality, segment))
                    text = _parameter_text(parameter.value, name in rule.fractions)
                    reason = local[0].reason if local else ""
                    parameters.append(ScopedValue(name, text, parameter.source, reason))
                values.append((_scope_label(scoped, region, municipality, segment), parameters))
        defaults = ", ".join(f"{name} {_parameter_text(Decimal(str(default)), name in rule.fractions)}"
                             for name, default in rule.parameters.items())
        segments = ", ".join(home.segment_short_label(key) for key in rule.segments)
        if home.region:
            segments += f" (regio {home.region})"
        owner = home.owners.get("settlement_rule:" + rule_id, "?")
        entries.append(SettlementEntry(rule_id, rule.name, owner, segments, defaults, values))
    return entries


def build_report(pm, registry: Registry, region_code: str | None = None) -> Report:
    """The report of a running app (inside its app context: the regions come from the database).
    An unknown ``region_code`` raises :class:`UnknownRegion`."""
    regions = choose_regions(registry, regions_in_database(), region_code)
    return Report(loaded_plugins(pm), regions, rule_entries(registry, regions),
                  settlement_entries(registry, regions),
                  [_callable_name(check) for check in registry.realisation_checks],
                  [_callable_name(check) for check in registry.proposal_checks])


def _callable_name(check) -> str:
    module = getattr(check, "__module__", None) or "?"
    return f"{module}.{getattr(check, '__qualname__', None) or repr(check)}"


# --- Writing ----------------------------------------------------------------------------------


def _wrapped(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False) or [indent]


def _value_lines(values: list[ScopedValue], indent: str) -> list[str]:
    scope_width = max(len(value.scope) for value in values)
    value_width = max(len(value.value) for value in values)
    lines = []
    for value in values:
        lines.append(f"{indent}{value.scope:{scope_width}}  {value.value:{value_width}}  {value.source}")
        if value.reason:
            lines += _wrapped(f"reden: {value.reason}", indent + " " * (scope_width + value_width + 4))
    return lines


def render(report: Report) -> list[str]:
    """The report as lines of Dutch text."""
    lines = [f"Plug-ins ({len(report.plugins)} geladen, in volgorde van registratie)"]
    name_width = max(len(plugin.name) for plugin in report.plugins)
    for plugin in report.plugins:
        lines.append(f"  {plugin.name:{name_width}}  {plugin.origin}")
        lines += _wrapped("hooks: " + (", ".join(plugin.hooks) or "geen"), " " * (name_width + 4))

    lines.append("")
    if report.regions:
        lines.append("Regio's")
        for region in report.regions:
            if region.name is None:
                lines.append(f"  {region.code}: LET OP, staat niet in de database; de waarden voor deze "
                             f"regio gelden nergens (een typefout in de plug-in?)")
            else:
                lines.append(f"  {region.code}: {region.name}, {len(region.municipalities)} gemeenten")
    else:
        lines.append("Regio's: geen in de database en geen in de plug-ins; "
                     "hieronder alleen de standaardwaarden.")

    lines += ["", "Lokale regels (de meest specifieke waarde geldt: gemeente en segment, gemeente,",
              "regio en segment, regio, standaard)"]
    for rule in report.rules:
        lines.append(f"  {rule.id}: {rule.name} (plug-in {rule.owner})")
        lines += _wrapped(f"keuzes: {rule.choices}; standaard: {rule.default}", "    ")
        if rule.values:
            lines += _value_lines(rule.values, "    ")
    if not report.rules:
        lines.append("  geen")

    lines += ["", "Afrekenregels (parameters per bereik; dezelfde volgorde van voorrang)"]
    for rule in report.settlement_rules:
        lines.append(f"  {rule.id}: {rule.name} (plug-in {rule.owner})")
        lines += _wrapped(f"segmenten: {rule.segments}; standaard: {rule.defaults}", "    ")
        for scope, parameters in rule.values:
            lines.append(f"    {scope}")
            lines += _value_lines(parameters, "      ")
    if not report.settlement_rules:
        lines.append("  geen")

    lines += ["", "Extra controles van regio's en gemeenten (naast die van de kern en de segmenten)"]
    for title, checks in (("op realisatieregels (portal_realisation_checks)", report.realisation_checks),
                          ("op maatwerkvoorstellen (portal_proposal_checks)", report.proposal_checks)):
        lines += _wrapped(f"{title}: {', '.join(checks) or 'geen'}", "  ")
    return lines
