"""Every hook of the portal, in one file: the contract between the core and its plugins.

A plugin is a module or object with functions marked ``@portal.hookimpl`` whose names match the
specifications below. Plugins load from the entry-point group ``portal.plugins``; the setting
``PORTAL_ENABLED_PLUGINS`` (comma-separated names, or ``*``) chooses which. Hooks that collect
things return lists; the core merges the lists and stops start-up when two plugins claim the same
key (a domain, a segment, a blueprint, a rule id).
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("portal")
hookimpl = pluggy.HookimplMarker("portal")


# ---------------------------------------------------------------------------------------------
# Regions, domains and segments
# ---------------------------------------------------------------------------------------------


@hookspec
def portal_regions():
    """Declare the region a *region pack* serves: a region that brings its own domains, segments,
    catalogue rules, contract schemes, funding forms and settlement rules.

    Called once, while ``create_app`` builds the registry, before anything else. A plugin that
    returns a region is that region's pack: the domains, segment pricing, proposal rules,
    realisation fields, settlement rules and menu items it registers hold in its region only,
    and the signed-in users of that region see only those (``current_registry()`` answers per
    region). Plugins without a region (the domain plugins of the first region, say) serve every
    region without a pack. Rule definitions, proposal and realisation checks, local rules and
    settlement parameters of other plugins hold in a pack's region too (scoped by their region
    code as always). A pack's demo data (``portal_demo_data``) is called with its own region.

    :return: a list with at most one :class:`portal.registry.RegionPack` (code, name, its
        municipalities with CBS code and residents, the purchasing office, funding forms of its
        own). Two packs for one region, or a plugin declaring two regions, stop start-up with a
        message naming both plugins.
    """


@hookspec
def portal_domains():
    """Register the domains a plugin serves, with their segments.

    Called once, while ``create_app`` builds the registry; a region pack's domains hold in its
    region only (``portal_regions``), so two regions may both have a domain ``zorg`` with a
    segment ``B1``.

    :return: a list of :class:`portal.registry.Domain`, each carrying its
        :class:`portal.registry.Segment` objects (code, name, funding forms, contract duration,
        lots, and the combinations of its funding forms a municipality may use together,
        ``funding_combinations``; without them a municipality uses one funding form per segment;
        and ``bow_wave_extensions``, whether a bow-wave agreement keeps the extension options as
        the maximum term its horizon rolls within). Within one region a domain code may be
        registered by one plugin only, and a segment code only once within its domain; a clash
        stops start-up with a message naming both plugins. A funding combination that names fewer
        than two forms, or a form the segment does not have, stops start-up too.
    """


@hookspec
def portal_segment_pricing():
    """Add what a segment needs to the price of its trajectories: extra fields, price lines and
    checks (for instance a price per day, a parental contribution, a success reward).

    Called once, while ``create_app`` builds the registry, after the domains are known.

    :return: a list of :class:`portal.catalogue.pricing.SegmentPricing`, each for one registered segment
        key (``"domain.code"``). One segment has at most one pricing; a second, or a pricing for an
        unknown segment, stops start-up.
    """


@hookspec
def portal_tariff_floors():
    """Set the region's minimum tariffs (minimumtarieven): no unit rate in a segment may lie below
    its floor, to guard the quality of care and keep price fighters away.

    Called once, while ``create_app`` builds the registry, after the domains are known; only the
    floors of the plugins that own the region's domains count (a region pack's for its region, the
    domain plugins' for the regions without a pack). The catalogue refuses a tariff version, or a
    standard trajectory, whose unit rate lies below the floor of a segment it prices, and a custom
    trajectory proposal is refused when its tariff lies below the floor, each with a Dutch message
    that names the minimum.

    :return: a list of :class:`portal.registry.TariffFloor` (segment key, minimum as a decimal
        string in euros, optionally the unit ``"hour"``/``"contact"``/``"day"`` and a care form code
        it is narrowed to, and a Dutch reason). An unknown segment or unit, an amount that is not
        euros and cents, or two floors for the same segment, unit and care form stop start-up. The
        most specific floor holds: care form and unit, care form, unit, the whole segment.
    """


# ---------------------------------------------------------------------------------------------
# Framework agreements and their obligations
# ---------------------------------------------------------------------------------------------


@hookspec
def portal_agreement_obligations():
    """Declare obligations that come with a framework agreement, such as a region's social return
    (SROI): a share of the agreement's contract value, above a threshold, that the provider
    realises and reports on year by year.

    Called once, while ``create_app`` builds the registry, after the domains are known. A region
    pack's obligations hold in its region only (``portal_regions``); those of a plugin without a
    region hold in every region without a pack. The agreement pages and PDF show the obligation in
    force (``contract value × rate``, rounded half-up to the cent, when the contract value is
    strictly above the threshold), providers report their realisation per agreement and year, and
    contract managers follow it per year.

    :return: a list of :class:`portal.registry.AgreementObligation` (an id such as
        ``"region.sroi"``, Dutch name and description, ``rate`` a fraction as a decimal string,
        ``threshold`` in euros as a decimal string, optional segment keys and domain codes it is
        limited to). Within one region an obligation id may be declared by one plugin only; a second
        declaration (naming both plugins), a rate outside 0–1, a negative or unreadable threshold,
        or an unknown segment or domain stop start-up.
    """


# ---------------------------------------------------------------------------------------------
# Web: blueprints, templates, menu
# ---------------------------------------------------------------------------------------------


@hookspec
def portal_blueprints():
    """Add Flask blueprints (pages, partials, API routes) to the app.

    Called once, while ``create_app`` registers the core's own blueprints, after them.

    :return: a list of :class:`flask.Blueprint`. Blueprint names must be unique over the core and
        all plugins; a clash stops start-up. A blueprint may carry its own ``template_folder``.
    """


@hookspec
def portal_template_folders():
    """Add template folders that are searched *before* the core's templates.

    Called once, while ``create_app`` sets up Jinja. Lets a region plugin restyle a core page
    (for instance ``home/_region_banner.html``) without editing the core.

    :return: a list of absolute folder paths (str or :class:`pathlib.Path`).
    """


@hookspec
def portal_menu_items():
    """Add entries to the main menu and to the "where to go next" list of the home page.

    Called once, while ``create_app`` builds the registry; the core shows each entry only to the
    roles it names.

    :return: a list of :class:`portal.registry.MenuItem` (label, endpoint, roles, description,
        order, and ``requires``: a registry attribute that must not be empty for the entry to show,
        such as ``"obligations"``). The endpoint must exist once all blueprints are registered.
    """


# ---------------------------------------------------------------------------------------------
# Local rules (couleur locale) of regions and municipalities
# ---------------------------------------------------------------------------------------------


@hookspec
def portal_rule_definitions():
    """Declare rules that a region or municipality may choose, each with its documented default.

    Called once, while ``create_app`` builds the registry.

    :return: a list of :class:`portal.registry.RuleDefinition` (id, Dutch name, description,
        allowed values, default). A rule id may be declared once over all plugins.
    """


@hookspec
def portal_local_rules():
    """Set the value of declared rules for a region, a municipality and/or a segment.

    This is how a municipality or region plugs in its own rules without editing the core. Called
    once, while ``create_app`` builds the registry, after all rule definitions are known.

    :return: a list of :class:`portal.registry.LocalRule`. Each names a declared rule id and an
        allowed value, and its scope (region code, optional CBS municipality code, optional
        segment key such as ``"domain.S1"``). Two rules for the same id and scope stop start-up.
        The most specific rule wins: municipality + segment, municipality, region + segment,
        region, then the default.
    """


# ---------------------------------------------------------------------------------------------
# Custom trajectory proposals (maatwerk)
# ---------------------------------------------------------------------------------------------


@hookspec
def portal_proposal_rules():
    """Say what a custom trajectory proposal in a segment may ask for: the range of its duration
    and intensity, the extra fields the domain adds, and the domain's own check of the values.

    Called once, while ``create_app`` builds the registry, after the domains are known. Segments
    without rules get the core default (duration 1–36 months, intensity above 0 and at most 40 per
    week or 160 per month).

    :return: a list of :class:`portal.registry.ProposalRules`, each for one registered segment key
        (``"domain.code"``). One segment has at most one set of rules; a second, or rules for an
        unknown segment, stop start-up.
    """


@hookspec
def portal_proposal_checks():
    """Add an extra check of a region or municipality on every proposal (start, draft change,
    revision and counter-proposal), on top of the segment's rules.

    Called once, while ``create_app`` builds the registry. Each check is later called as
    ``check(values, context)``: ``values`` as the services receive them (intensity,
    intensity_period, duration_months, expected_per_year, extra, substantiation) and ``context``
    a dict with ``region`` (region code), ``provider`` (the :class:`Organisation`),
    ``segment_key`` and ``standard_trajectory``.

    :return: a list of callables; each returns a list of ``(field, Dutch message)`` pairs for the
        values it refuses (empty or None when it has no objection). The same callable registered
        twice stops start-up.
    """


# ---------------------------------------------------------------------------------------------
# Realisation reporting
# ---------------------------------------------------------------------------------------------


@hookspec
def portal_realisation_fields():
    """Say what realisation in a segment consists of: how its value follows from the prices
    (trajectories started × price, or units × unit price), the extra columns the domain adds
    (days in care, outflow to work, ...) and the domain's own check of a
    line, and optionally an amount added to a line's value (a success reward).

    Called once, while ``create_app`` builds the registry, after the domains are known. Segments
    without a spec get the core default: "units" for P×Q and price-per-day segments, else
    "trajectory", no extra columns.

    :return: a list of :class:`portal.registry.RealisationSpec`, one per registered segment key.
        A second spec for a segment, an unknown segment or basis, or a field that reuses a core
        column name stop start-up.
    """


@hookspec
def portal_realisation_checks():
    """Add a check of a region or municipality on every realisation line (form, file and API),
    on top of the core's and the segment's checks.

    Called once, while ``create_app`` builds the registry. Each check is later called as
    ``check(line, context)`` with a :class:`portal.realisation.rules.Line` (municipality code,
    segment key, period, trajectory code, volumes, extra values) and its
    :class:`portal.realisation.rules.LineContext` (region code, provider name, trajectory price
    and the like); it must not touch the database.

    A large file is checked a batch at a time, column by column. A check that also has an attribute
    ``check_lines`` (a function of a :class:`portal.realisation.rules.LineColumns`: the lines of one
    municipality × segment × period, figure by figure) takes part in that: it returns True only
    when ``check`` would refuse none of the lines, else they are checked one by one with
    ``check``. A check without it makes every batch of the region go line by line (correct, a few
    times slower for a file of 100,000 lines).

    :return: a list of callables; each returns a list of ``(column, Dutch message)`` pairs for a
        line it refuses (empty or None when it has no objection).
    """


# ---------------------------------------------------------------------------------------------
# Settlement (afrekening)
# ---------------------------------------------------------------------------------------------


@hookspec
def portal_settlement_rules():
    """Add the extra settlement rules of a domain (shared savings, bonus–malus, a success reward)
    on top of the settlement engine's band, ceiling and places rules.

    Called once, while ``create_app`` builds the registry, after the domains are known. The
    registry binds each rule's parameters for a region, municipality and segment
    (``registry.settlement_adjustments``) and hands the result to
    :func:`portal.settlement.engine.settle` as its ``adjustments``.

    :return: a list of :class:`portal.registry.SettlementRule` (a documented id such as
        ``"domain.shared_savings"``, Dutch name and description, the segment keys it applies to,
        its parameters with their defaults, and ``adjust(agreement, settlement, rules, parameters,
        results)``). A rule id may be declared once over all plugins; a rule for an unknown
        segment, or a default that is not a valid value, stops start-up.
    """


@hookspec
def portal_settlement_parameters():
    """Set the parameters of declared settlement rules for a region, a municipality and/or a
    segment: the region's or municipality's own agreements (say, a share of 40% instead of 50%).

    Called once, while ``create_app`` builds the registry, after all settlement rules are known.

    :return: a list of :class:`portal.registry.SettlementParameter`. Each names a declared rule
        id, one of its parameters, a decimal value as a string, and its scope (region code,
        optional CBS municipality code, optional segment key the rule applies to). An unknown rule
        or parameter, a value that is not a decimal (or a fraction outside 0–1), or two values for
        the same parameter and scope stop start-up. The most specific value wins, as for
        ``portal_local_rules``: municipality + segment, municipality, region + segment, region,
        then the rule's default.
    """


# ---------------------------------------------------------------------------------------------
# Application lifecycle
# ---------------------------------------------------------------------------------------------


@hookspec
def portal_demo_data(demo):
    """Add a plugin's demo data (catalogue, agreements, choices) to the demo region.

    Called by ``flask --app wsgi demo`` after the core has loaded the region, its organisations
    and its accounts, inside one transaction; it must be idempotent (running the command twice
    changes nothing the second time).

    :param demo: a :class:`portal.demo.DemoContext` with the region, the organisations by name, the
        database session and the year the demo contracts start.
    :return: nothing; the return value is ignored.
    """


@hookspec
def portal_app_ready(app):
    """Called at the end of ``create_app``, once the app is fully configured.

    :param app: the :class:`flask.Flask` application; a plugin may add CLI commands, template
        filters or context processors to it.
    :return: nothing; the return value is ignored.
    """
