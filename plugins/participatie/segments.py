"""The Participatie domain and its segments as Noord-Limburg steers them (DOMAIN.md §3, 000 §7)."""
from portal.toolkit import Domain, Segment

PARTICIPATIE = Domain(
    code="participatie",
    name="Participatie",
    law="Participatiewet",
    endpoint="participatie.overview",
    segments=(
        Segment("S1", "Collectieve begeleiding", ("availability", "trajectory", "budget_agreement"),
                "3+3+3",
                "Evaluatie na het eerste jaar; circa 15 aanbieders; tussentijdse toetreding. "
                "Beschikbaarheidsfinanciering zonder afnameverplichting plus trajectfinanciering, met "
                "een beloning voor geslaagde trajecten; sturing op rendement via MKBA.",
                lots=("regional",),
                # 000 §7.3, PW S1: availability funding without purchase obligation *plus*
                # trajectory funding, used together by one municipality.
                funding_combinations=(frozenset({"availability", "trajectory"}),)),
        Segment("S2", "Individuele begeleiding", ("pxq", "result"), "3+3+3",
                "Raamovereenkomst zonder omzetgarantie met tussentijdse toetreding. Uurtarief × uren, "
                "met een beloning per individueel plan; geen plafonds per aanbieder."),
        Segment("S3", "Werkgeversdienstverlening", ("pxq",), "3+3+3",
                "Raamovereenkomst met een pool van hoogstens 4 aanbieders, verlenging volgens het "
                "boeggolfprincipe. Reëel tarief; kan beschikbaarheidsfinanciering worden.",
                lots=("regional",),
                # 000 §7.3 PW S3: "Duur: 3 + 3 + 3, met boeggolfprincipe": the horizon of 3 years
                # rolls on yearly, within the nine years of the options.
                bow_wave_extensions=True),
    ),
)
