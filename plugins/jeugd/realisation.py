"""What Jeugd realisation consists of, per segment (portal_realisation_fields).

- S1 (behandeling met verblijf, resultaatfinanciering): value = trajectories started × price, as
  the core does; the provider also reports ``resultaat_behaald``: trajectories that ended in the
  period with the agreed result. It is required (0 is an answer) and can never exceed the
  trajectories ended; it is the basis of the later bonus–malus.
- S2 (wonen, prijs per dag): value = days in care (``eenheden``) × the price per day. A child is
  in care at most every day of the period, so the days can never exceed the running trajectories
  × the days in the period, and they are whole days. ``uitgestroomd`` (optional) counts the
  trajectories that ended with the child leaving the residential setting to live at home or on
  its own; it can never exceed the trajectories ended.

Where a municipality buys places in a segment, the core values place-days instead; the S2 day
check only looks at ``eenheden`` when they are reported.
"""
from __future__ import annotations

from portal.toolkit import RealisationField, RealisationSpec

RESULT_ACHIEVED = RealisationField(
    "resultaat_behaald", "Trajecten beëindigd met het afgesproken resultaat", required=True,
    help="Van de beëindigde trajecten: hoeveel het resultaat uit het behandelplan haalden. "
         "Grondslag voor de bonus–malus.")

LEFT_CARE = RealisationField(
    "uitgestroomd", "Trajecten beëindigd met uitstroom naar huis of zelfstandig wonen",
    help="Van de beëindigde trajecten: hoeveel jeugdigen thuis of zelfstandig zijn gaan wonen.")


def _not_more_than_ended(line, name: str, label: str) -> list[tuple[str, str]]:
    value = line.extra.get(name)
    if value is not None and value > line.ended:
        return [(name, f"Er zijn meer {label} ({value}) dan beëindigde trajecten ({line.ended}).")]
    return []


def check_s1(line, _context) -> list[tuple[str, str]]:
    return _not_more_than_ended(line, "resultaat_behaald", "trajecten met behaald resultaat")


def check_s2(line, _context) -> list[tuple[str, str]]:
    errors = _not_more_than_ended(line, "uitgestroomd", "uitgestroomde jeugdigen")
    days = line.units
    if days is not None:
        if days != days.to_integral_value():
            errors.append(("eenheden", f"Verblijfsdagen zijn hele dagen, niet {days}."))
        ceiling = line.running * line.period.days
        if days > ceiling:
            errors.append(("eenheden", f"Meer verblijfsdagen ({days:f}) dan mogelijk: {line.running} lopende "
                                       f"trajecten × {line.period.days} dagen in {line.period.label} is "
                                       f"{ceiling} dagen."))
    return errors


def _none_more_than_ended(lines, name: str) -> bool:
    return all(extra.get(name, 0) <= ended for extra, ended in zip(lines.extra, lines.ended))


def s1_lines_in_order(lines) -> bool:
    """check_s1 over many lines at once."""
    return _none_more_than_ended(lines, "resultaat_behaald")


def s2_lines_in_order(lines) -> bool:
    """check_s2 over many lines at once."""
    days_in_period = lines.period.days
    return _none_more_than_ended(lines, "uitgestroomd") and all(
        days is None or (days == days.to_integral_value() and days <= running * days_in_period)
        for days, running in zip(lines.units, lines.running))


# iJw product codes (JW323 ``ProductCode``) as the region lists them in its product code table,
# each counted as a trajectory of the catalogue (same code every catalogue year). Demo values.
PRODUCT_CODES = {
    "jeugd.S1": {"44A03": "S1-BMV-3", "44A06": "S1-BMV-6"},
    "jeugd.S2": {"43A03": "S2-GEZH-3", "43A06": "S2-PLEEG-6"},
    "jeugd.S3": {"46A04": "S3-DAGB-4", "46A06": "S3-DAGB-6", "46A12": "S3-DAGACT-12"},
    "jeugd.S4": {"45A03": "S4-BEG-6", "45A04": "S4-BEH-4", "45A09": "S4-SGGZ-9"},
}

SPECS = [
    RealisationSpec("jeugd.S1", basis="trajectory", fields=(RESULT_ACHIEVED,), check=check_s1,
                    check_lines=s1_lines_in_order, product_codes=PRODUCT_CODES["jeugd.S1"]),
    RealisationSpec("jeugd.S2", basis="units", fields=(LEFT_CARE,), check=check_s2,
                    check_lines=s2_lines_in_order, product_codes=PRODUCT_CODES["jeugd.S2"]),
    RealisationSpec("jeugd.S3", basis="trajectory", product_codes=PRODUCT_CODES["jeugd.S3"]),
    RealisationSpec("jeugd.S4", basis="trajectory", product_codes=PRODUCT_CODES["jeugd.S4"]),
]

