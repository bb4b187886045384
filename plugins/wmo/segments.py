"""The Wmo domain and its segments as Noord-Limburg steers them (DOMAIN.md §3, 000 §7)."""
from portal.toolkit import Domain, Segment

WMO = Domain(
    code="wmo",
    name="Wmo",
    law="Wet maatschappelijke ondersteuning 2015",
    endpoint="wmo.overview",
    segments=(
        Segment("S1a", "Volwassenen met een complexe, meervoudige ondersteuningsvraag",
                ("trajectory", "budget_ceiling"), "3+1+1",
                "Regionaal perceel (10–20 aanbieders) en lokaal perceel (tot 30); geen tussentijdse "
                "toetreding. Beperkt aantal trajecten; budgetplafonds voor regionale aanbieders."),
        Segment("S1b", "Volwassenen met een kortdurende, enkelvoudige ondersteuningsvraag",
                ("trajectory", "budget_ceiling"), "3+1+1",
                "Regionaal perceel (10–15 aanbieders) en lokaal perceel (35); budgetplafonds voor "
                "regionale aanbieders."),
        Segment("S2a", "Volwassenen met langdurige ondersteuning", ("population",), "3+1+1",
                "Regionaal perceel (15 aanbieders) en lokaal perceel (35)."),
        Segment("S2b", "Ouderen met ouderdomsgerelateerde beperkingen", ("population",), "3+1+1",
                "Regionaal perceel (5–10 aanbieders) en lokaal perceel (15)."),
        Segment("S3a", "Hulp bij het huishouden", ("population",), "3+1+1",
                "Regionaal perceel (4 aanbieders) en lokaal perceel (7)."),
        Segment("S3b", "Logeren (kortdurend verblijf)", ("pxq",), "3+1+1",
                "Open house met strengere kwaliteitseisen.", lots=("open_house",)),
    ),
)
