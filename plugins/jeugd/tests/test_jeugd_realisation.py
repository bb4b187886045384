"""Jeugd realisation: S1 reports results achieved, S2 is paid per day in care and the days fit
the period (through the API path; a refused line stores nothing). Lines for November of the run's
year, on a day in November (the month has begun)."""
from decimal import Decimal

import pytest

from tests.dates import YEAR, month
from tests.realisation_data import provider, refused, stored_line, trajectory_price, unit_price

JEUGDHULP = "Stichting Jeugdhulp Peel en Maas"

pytestmark = pytest.mark.clock_on(11, 16)


@pytest.fixture
def jeugdhulp(app, demo):
    with app.app_context():
        yield provider(JEUGDHULP)


def _s1(**values):
    return {"gemeente": "0889", "segment": "jeugd.S1", "periode": month(11), "traject": "S1-BMV-6",
            "gestart": 2, "lopend": 6, "beeindigd": 2, "clienten": 6, **values}


def _s2(**values):
    return {"gemeente": "Venray", "segment": "jeugd.S2", "periode": month(11), "traject": "S2-PLEEG-6",
            "gestart": 1, "lopend": 10, "beeindigd": 2, "clienten": 10, "eenheden": "280", **values}


def test_s1_asks_for_results_achieved(jeugdhulp):
    assert refused(jeugdhulp, _s1()) == [("resultaat_behaald", "Vul trajecten beëindigd met het afgesproken "
                                                              "resultaat in.")]
    assert refused(jeugdhulp, _s1(resultaat_behaald=3)) == [
        ("resultaat_behaald", "Er zijn meer trajecten met behaald resultaat (3) dan beëindigde trajecten (2).")]


def test_s1_line_is_valued_per_trajectory_started(jeugdhulp):
    line = stored_line(jeugdhulp, _s1(resultaat_behaald=0))
    assert line.value == 2 * trajectory_price(jeugdhulp, "jeugd.S1", "S1-BMV-6")
    assert line.extra == {"resultaat_behaald": "0"}


def test_s2_days_in_care_fit_the_period(jeugdhulp):
    assert refused(jeugdhulp, _s2(eenheden="301")) == [
        ("eenheden", "Meer verblijfsdagen (301) dan mogelijk: 10 lopende trajecten × 30 dagen in november "
                     f"{YEAR} is 300 dagen.")]
    assert refused(jeugdhulp, _s2(eenheden="280,5")) == [("eenheden", "Verblijfsdagen zijn hele dagen, niet 280.5.")]
    assert refused(jeugdhulp, _s2(uitgestroomd=3)) == [
        ("uitgestroomd", "Er zijn meer uitgestroomde jeugdigen (3) dan beëindigde trajecten (2).")]
    assert refused(jeugdhulp, _s2(eenheden="")) == [
        ("eenheden", "Vul het aantal eenheden (dag) in: in dit segment betaalt de regio per eenheid.")]


def test_s2_line_is_valued_per_day(jeugdhulp):
    line = stored_line(jeugdhulp, _s2(eenheden="300", uitgestroomd=2))
    day = unit_price(jeugdhulp, "jeugd.S2", "S2-PLEEG-6")
    assert day > Decimal("70")  # pleegzorg: about €72 a day, indexed
    assert line.unit_price == day
    assert line.value == 300 * day
    assert line.extra == {"uitgestroomd": "2"}
