"""Rivierenland's region, domains and segments as its purchasing strategy sets them (seed 002
§5.3 and §5.6, DOMAIN.md §9).

Three Wmo segments (Begeleiding, Dagbesteding, Kortdurend verblijf) and five youth-care segments
(ambulant guidance, ambulant treatment, respite, living with guidance, living with treatment).
The codes are ours: 002 names the segments but gives them no codes.

Funding (002 §5.3): effort-based, price × quantity ("inspanningsgericht", P×Q), optionally with a
budget ceiling; 002 wants pilots with output-based ("outputgericht": arrangements, trajectory or
result funding) and task-based ("taakgericht": lump sum, population) funding for most Wmo segments
and possibly for youth care. A segment therefore lists the forms a municipality may choose in it;
a municipality runs a pilot by choosing another form for one segment (a municipal choice, see
demo.py). Kortdurend verblijf (€38,000 in 2019) and the residential youth segments stay P×Q.

Contracts (002 §5.5 and "Duur inkoopperiode"): at least three years with two options of at most
three years each, nine years at most: "3+3+3". An agreement may use one option (3+3) or both.
"""
from portal.toolkit import Domain, Segment

CONTRACT = "3+3+3"

EFFORT = ("pxq", "budget_ceiling")
WITH_PILOTS = EFFORT + ("result", "lump_sum")

WMO = Domain(
    code="wmo",
    name="Wmo",
    law="Wet maatschappelijke ondersteuning 2015",
    segments=(
        Segment("BEG", "Begeleiding", WITH_PILOTS, CONTRACT,
                "Individuele en groepsgewijze begeleiding samen in één segment, zodat aanbieders flexibel "
                "kunnen wisselen tussen individuele en collectieve inzet. Inspanningsgericht (P×Q), "
                "eventueel met een budgetplafond; pilots met outputgerichte en taakgerichte bekostiging.",
                lots=("regional",)),
        Segment("DAG", "Dagbesteding", WITH_PILOTS, CONTRACT,
                "Een zelfstandig segment, scherper onderscheiden van begeleiding. Inspanningsgericht per "
                "dag; pilots met outputgerichte en taakgerichte bekostiging.",
                lots=("regional",)),
        Segment("KV", "Kortdurend verblijf", ("pxq",), CONTRACT,
                "Respijtzorg voor mantelzorgers: de inwoner logeert kort bij een aanbieder. Prijs per "
                "etmaal; een klein segment (circa € 38.000 in 2019).",
                lots=("regional",)),
    ),
)

JEUGD = Domain(
    code="jeugd",
    name="Jeugd",
    law="Jeugdwet",
    segments=(
        Segment("ABG", "Ambulante begeleiding", EFFORT + ("result",), CONTRACT,
                "Begeleiding van jeugdigen en gezinnen thuis, op school of bij de aanbieder. "
                "Inspanningsgericht per uur; een pilot met outputgerichte bekostiging is mogelijk.",
                lots=("regional",)),
        Segment("ABH", "Ambulante behandeling", EFFORT + ("result",), CONTRACT,
                "Behandeling zonder verblijf, waaronder jeugd-ggz; het grootste jeugdsegment "
                "(circa € 16,5 miljoen in 2019). Inspanningsgericht per uur, eventueel met budgetplafond.",
                lots=("regional",)),
        Segment("LOG", "Logeren", EFFORT, CONTRACT,
                "Respijtzorg: de jeugdige logeert een weekend of enkele dagen bij een aanbieder. "
                "Prijs per etmaal.", lots=("regional",)),
        Segment("WBG", "Wonen met begeleiding", EFFORT, CONTRACT,
                "Wonen buiten het eigen gezin met begeleiding (gezinshuis, begeleid wonen). "
                "Prijs per etmaal.", lots=("regional",)),
        Segment("WBH", "Wonen met behandeling", EFFORT, CONTRACT,
                "Wonen met behandeling (behandeling met verblijf); leent zich mogelijk voor "
                "(boven)regionale inkoop. Prijs per etmaal.", lots=("regional",)),
    ),
)

DOMAINS = [WMO, JEUGD]
