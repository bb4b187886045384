"""What realisation in Rivierenland's segments consists of (portal_realisation_fields).

Every segment is paid by the unit (P×Q), so the value is units × the unit price of the
trajectory's tariff (the core's "units" basis): hours for guidance and treatment, days for day
activities, etmalen (24 hours) for short stays, respite and living. An etmaal is whole and a
client spends at most every etmaal of the period with the provider, so the etmalen can never
exceed the running trajectories × the days in the period.
"""
from __future__ import annotations

from portal.toolkit import RealisationSpec

ETMAAL_SEGMENTS = ("wmo.KV", "jeugd.LOG", "jeugd.WBG", "jeugd.WBH")


def check_etmalen(line, _context) -> list[tuple[str, str]]:
    etmalen = line.units
    if etmalen is None:
        return []
    if etmalen != etmalen.to_integral_value():
        return [("eenheden", f"Etmalen zijn hele etmalen, niet {etmalen}.")]
    ceiling = line.running * line.period.days
    if etmalen > ceiling:
        return [("eenheden", f"Meer etmalen ({etmalen:f}) dan mogelijk: {line.running} lopende trajecten × "
                             f"{line.period.days} dagen in {line.period.label} is {ceiling} etmalen.")]
    return []


SPECS = [RealisationSpec(key, basis="units", check=check_etmalen) for key in ETMAAL_SEGMENTS]
