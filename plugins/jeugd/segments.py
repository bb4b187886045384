"""The Jeugd domain and its segments as Noord-Limburg steers them (DOMAIN.md §3, 000 §7).

Contract duration: 000 §2a says "meerjarig, drie à vier jaar met mogelijkheid tot verlengen";
we record that as 3+1.
"""
from portal.toolkit import Domain, Segment

JEUGD = Domain(
    code="jeugd",
    name="Jeugd",
    law="Jeugdwet",
    endpoint="jeugd.overview",
    segments=(
        Segment("S1", "Behandeling met verblijf", ("result",), "3+1",
                "Meerjarig met weinig aanbieders; bonus–malus en innovatie. De gemiddelde kosten per "
                "cliënt mogen niet stijgen; op het verblijfsdeel wordt niet verdiend.",
                lots=("regional",)),
        Segment("S2", "Wonen (pleegzorg en residentieel)", ("price_per_day",), "3+1",
                "Meerjarig; strategische partners en aanbieders met vaste capaciteit. Prijs per dag, "
                "afgerekend op realisatie.", lots=("regional",)),
        Segment("S3", "Dagactiviteiten en dagbehandeling", ("trajectory", "budget_agreement"), "3+1",
                "Trajecten tegen een vast tarief, per gemeente eventueel omgezet naar plekken. "
                "Regionaal perceel: budgetafspraken per aanbieder met gedeelde besparing; lokaal "
                "perceel declareert realisatie. Ouders betalen een eigen bijdrage voor het opvangdeel."),
        Segment("S4", "Ambulante en specialistische hulp", ("trajectory", "budget_agreement"), "3+1",
                "Als S3, zonder ouderbijdrage; regionaal en lokaal perceel."),
    ),
)
