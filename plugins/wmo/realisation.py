"""What Wmo realisation consists of, per segment (portal_realisation_fields).

- S2a, S2b and S3a (langdurige begeleiding, ouderen, hulp bij het huishouden) are paid by
  population funding: the region settles on the number of residents helped, so a line with
  running trajectories must name its clients (``clienten`` at least 1). Value: the core's
  trajectory basis (trajectories started × price).
- S3b (logeren, P×Q per day): value = nights out (``eenheden``, in days) × the price per day.
  A resident stays at most every day of the period, so the days can never exceed the running
  trajectories × the days in the period; and they are whole days.
- S1a and S1b keep the core default (trajectories × price, no extra columns).
"""
from __future__ import annotations

from portal.toolkit import RealisationSpec

POPULATION_SEGMENTS = ("wmo.S2a", "wmo.S2b", "wmo.S3a")


def check_population_clients(line, _context) -> list[tuple[str, str]]:
    if line.running > 0 and line.clients < 1:
        return [("clienten", "Vul het aantal cliënten in: bij populatiebekostiging rekent de regio af op "
                             "het aantal geholpen inwoners.")]
    return []


def population_clients_named(lines) -> bool:
    """check_population_clients over many lines at once: True when every line with running
    trajectories names at least one client."""
    return all(clients >= 1 for running, clients in zip(lines.running, lines.clients) if running > 0)


def short_stays_possible(lines) -> bool:
    """check_short_stay over many lines at once: every line's days whole and within the running
    trajectories × the days of the period."""
    days_in_period = lines.period.days
    return all(days is None or (days == days.to_integral_value() and days <= running * days_in_period)
               for days, running in zip(lines.units, lines.running))


def check_short_stay(line, _context) -> list[tuple[str, str]]:
    days = line.units
    if days is None:
        return []
    if days != days.to_integral_value():
        return [("eenheden", f"Logeerdagen zijn hele dagen, niet {days}.")]
    ceiling = line.running * line.period.days
    if days > ceiling:
        return [("eenheden", f"Meer logeerdagen ({days:f}) dan mogelijk: {line.running} lopende trajecten × "
                             f"{line.period.days} dagen in {line.period.label} is {ceiling} dagen.")]
    return []


SPECS = [RealisationSpec(key, basis="trajectory", check=check_population_clients,
                         check_lines=population_clients_named) for key in POPULATION_SEGMENTS] + [
    RealisationSpec("wmo.S3b", basis="units", check=check_short_stay, check_lines=short_stays_possible),
]
