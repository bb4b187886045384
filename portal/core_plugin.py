"""The core's own default plugin: its menu entries and the region-wide rules it declares.

Registered first, under the name ``core``, so that core features use the same hooks as plugins.
"""
from __future__ import annotations

from portal.accounts import roles
from portal.hookspecs import hookimpl
from portal.registry import MenuItem, RuleDefinition

ALL = frozenset(roles.ALL_ROLES)
REGION_READERS = roles.REGION_READERS


@hookimpl
def portal_menu_items():
    return [
        MenuItem("Organisaties", "organisations.list_organisations", REGION_READERS,
                 "Zorgaanbieders, gemeenten en hun gebruikers in de regio.", order=10),
        MenuItem("Gebruikers", "users.list_users", frozenset({roles.PROVIDER_ADMIN}),
                 "Nodig collega's uit en beheer hun rollen.", order=10),
        MenuItem("Segmenten", "segments.list_segments", ALL,
                 "Domeinen en segmenten met hun contract- en bekostigingsvorm.", order=20, place="home"),
        MenuItem("Keuzes per segment", "municipal_choices.index",
                 REGION_READERS | {roles.MUNICIPALITY_USER},
                 "Per segment: percelen, trajecten of plekken, en de bekostiging van elke gemeente.",
                 order=25),
        MenuItem("Catalogus", "catalogue.overview", ALL,
                 "Standaardtrajecten per jaar met zorgvormen, tarieven, opslagen en berekende prijzen.",
                 order=22),
        MenuItem("Afspraken", "agreements.list_frameworks", REGION_READERS,
                 "Raamovereenkomsten, budgetafspraken en -plafonds, en extra capaciteit.", order=15),
        MenuItem("Mijn contracten", "my_agreements.overview", frozenset(roles.PROVIDER_ROLES),
                 "Uw raamovereenkomsten, verlengingen en budgetafspraken per gemeente.", order=15),
        MenuItem("Verplichtingen", "obligations.overview", REGION_READERS,
                 "Verplichtingen bij raamovereenkomsten, zoals social return: gerealiseerd en tekort per jaar.",
                 order=16, requires="obligations", place="home"),  # and under Afspraken: the menu fits one line
        MenuItem("Verplichtingen", "obligations.mine", frozenset(roles.PROVIDER_ROLES),
                 "Rapporteer per jaar wat u realiseerde van de verplichtingen bij uw raamovereenkomsten.",
                 order=16, requires="obligations"),
        MenuItem("Budgetafspraken", "my_agreements.municipality_budgets", frozenset({roles.MUNICIPALITY_USER}),
                 "De budgetafspraken en budgetplafonds van uw gemeente met aanbieders.", order=15),
        MenuItem("Maatwerk", "proposals.index", frozenset(roles.PROVIDER_ROLES),
                 "Stel een maatwerktraject voor en volg de onderhandeling met de regio.", order=17),
        MenuItem("Maatwerk", "proposals.queue", REGION_READERS,
                 "Voorstellen voor maatwerktrajecten: goedkeuren, afwijzen of een tegenvoorstel doen.", order=17),
        MenuItem("Realisatie", "realisation.index", frozenset(roles.PROVIDER_ROLES),
                 "Lever uw realisatie aan per gemeente, segment en periode, en volg de beoordeling.", order=18),
        MenuItem("Realisatie", "realisation_review.queue", REGION_READERS,
                 "Ingediende realisatie goedkeuren of afwijzen.", order=18),
        MenuItem("Dashboard", "realisation_dashboard.index", ALL,
                 "Budget, goedgekeurde realisatie en prognose; plafondgebruik en bezetting.", order=19),
        MenuItem("Afrekening", "settlement.index", ALL,
                 "De jaarlijkse afrekening van budgetafspraken en -plafonds op de goedgekeurde realisatie.",
                 order=21),
        MenuItem("Logboek", "audit_log.list_events", REGION_READERS,
                 "Wie deed wat en wanneer: het controlespoor.", order=90),
        MenuItem("API-sleutels", "api_keys.list_tokens", ALL,
                 "Sleutels waarmee uw eigen systemen gegevens lezen via de API.", order=95, place="account"),
    ]


@hookimpl
def portal_rule_definitions():
    return [
        RuleDefinition(
            id="reporting_period",
            name="Periode van realisatieverantwoording",
            description="Hoe vaak aanbieders hun realisatie aanleveren.",
            choices={"month": "Per maand", "quarter": "Per kwartaal"},
            default="month",
        ),
        RuleDefinition(
            id="outside_band",
            name="Afrekening buiten de bandbreedte",
            description="Bij realisatie buiten de bandbreedte: alles afrekenen op realisatie, of "
                        "alleen het deel voorbij de rand van de band.",
            choices={"full": "Volledig op realisatie", "excess": "Alleen het deel buiten de band"},
            default="full",
        ),
        RuleDefinition(
            id="band_scope",
            name="Reikwijdte van de bandbreedte",
            description="De bandbreedte geldt per gemeente (per afspraak) of voor het regionale "
                        "totaal van een aanbieder per segment.",
            choices={"municipality": "Per gemeente", "region": "Regionaal totaal"},
            default="municipality",
        ),
        RuleDefinition(
            id="surcharges",
            name="Opslagen toegestaan",
            description="Of tarieven in de regio opslagen op de basisprijs kennen (voor bepaalde "
                        "functies of omvang). Een regio die ze afschaft, laat de catalogus geen "
                        "opslag meer aanmaken.",
            choices={"allowed": "Opslagen toegestaan", "not_allowed": "Geen opslagen"},
            default="allowed",
        ),
    ]
