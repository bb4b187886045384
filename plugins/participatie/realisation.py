"""What Participatie realisation consists of, per segment (portal_realisation_fields).

Every segment reports ``uitstroom_werk``: trajectories that ended in the period with outflow to
paid work (a job or a contract of at least six months, as the region's reward conditions say). It
can never exceed the trajectories ended.

- S1 (collectieve begeleiding): value = trajectories started × price (the core's trajectory
  basis), plus ``uitstroom_werk`` × the trajectory's success reward (the ``success_reward`` of the
  standard or custom trajectory, see :mod:`plugins.participatie.pricing`). Required: the reward
  depends on it, and 0 is an answer.
- S2 (individuele begeleiding): value = hours (``eenheden``) × the hourly rate, plus the reward
  as in S1; required likewise.
- S3 (werkgeversdienstverlening): value = hours × the hourly rate; ``uitstroom_werk`` is optional
  (there is no reward) and only informs the steering on placements.

Hours (S2, S3) can never exceed ``MAX_HOURS_PER_WEEK`` (the core's ceiling for an intensity, 40
hours a week) per running trajectory over the weeks of the period.
"""
from __future__ import annotations

from decimal import Decimal

from portal.toolkit import RealisationField, RealisationSpec

MAX_HOURS_PER_WEEK = Decimal(40)

OUTFLOW_HELP = ("Van de beëindigde trajecten: hoeveel eindigden met uitstroom naar betaald werk "
                "(een baan of contract van ten minste zes maanden).")
OUTFLOW = RealisationField("uitstroom_werk", "Trajecten beëindigd met uitstroom naar werk", required=True,
                           help=OUTFLOW_HELP + " Per traject wordt de beloning bij succes betaald.")
OUTFLOW_OPTIONAL = RealisationField("uitstroom_werk", "Trajecten beëindigd met uitstroom naar werk",
                                    help=OUTFLOW_HELP)


def check_outflow(line, _context) -> list[tuple[str, str]]:
    outflow = line.extra.get("uitstroom_werk")
    if outflow is not None and outflow > line.ended:
        return [("uitstroom_werk", f"Er zijn meer trajecten met uitstroom naar werk ({outflow}) dan beëindigde "
                                   f"trajecten ({line.ended}).")]
    return []


def check_hours(line, context) -> list[tuple[str, str]]:
    errors = check_outflow(line, context)
    if line.units is not None:
        weeks = Decimal(line.period.days) / Decimal(7)
        ceiling = (line.running * MAX_HOURS_PER_WEEK * weeks).quantize(Decimal(1))
        if line.units > ceiling:
            errors.append(("eenheden", f"Meer uren ({line.units:f}) dan mogelijk: ten hoogste "
                                       f"{MAX_HOURS_PER_WEEK:f} uur per week voor elk van de {line.running} lopende "
                                       f"trajecten, {ceiling} uur in {line.period.label}."))
    return errors


def success_reward(line, context) -> Decimal:
    """Trajectories ended with outflow to work × the trajectory's success reward (0 without one)."""
    reward = Decimal(str(context.price.extra.get("success_reward") or 0))
    return line.extra.get("uitstroom_werk", Decimal(0)) * reward


REWARD_LABEL = "Beloning bij uitstroom naar werk"

SPECS = [
    RealisationSpec("participatie.S1", basis="trajectory", fields=(OUTFLOW,), check=check_outflow,
                    extra_value=success_reward, extra_value_label=REWARD_LABEL),
    RealisationSpec("participatie.S2", basis="units", fields=(OUTFLOW,), check=check_hours,
                    extra_value=success_reward, extra_value_label=REWARD_LABEL),
    RealisationSpec("participatie.S3", basis="units", fields=(OUTFLOW_OPTIONAL,), check=check_hours),
]
