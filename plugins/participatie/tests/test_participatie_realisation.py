"""Participatie realisation: outflow to work is reported and earns the trajectory's success
reward on top of the value; hours fit the period (through the API path; a refused line stores
nothing). Lines for October and November of the run's year, on a day in November."""
from decimal import Decimal

import pytest

from portal.money import to_cents
from tests.dates import YEAR, month
from tests.realisation_data import provider, refused, standard, stored_line, trajectory_price, unit_price

WERKBEDRIJF = "Werkbedrijf Noord-Limburg"

pytestmark = pytest.mark.clock_on(11, 16)


@pytest.fixture
def werkbedrijf(app, demo):
    with app.app_context():
        yield provider(WERKBEDRIJF)


def _row(segment, code, **values):
    return {"gemeente": "1507", "segment": segment, "periode": month(11), "traject": code,
            "gestart": 3, "lopend": 10, "beeindigd": 4, "clienten": 10, **values}


def test_outflow_to_work_is_required_and_at_most_the_trajectories_ended(werkbedrijf):
    row = _row("participatie.S1", "S1-GRP-6")
    assert refused(werkbedrijf, row) == [("uitstroom_werk", "Vul trajecten beëindigd met uitstroom naar werk in.")]
    assert refused(werkbedrijf, {**row, "uitstroom_werk": 5}) == [
        ("uitstroom_werk", "Er zijn meer trajecten met uitstroom naar werk (5) dan beëindigde trajecten (4).")]


def test_s1_value_is_trajectories_plus_the_reward_per_outflow(werkbedrijf):
    reward = Decimal(standard("participatie.S1", "S1-GRP-6").extra["success_reward"])
    assert reward == Decimal("1000.00")
    line = stored_line(werkbedrijf, _row("participatie.S1", "S1-GRP-6", uitstroom_werk=2))
    assert line.value == 3 * trajectory_price(werkbedrijf, "participatie.S1", "S1-GRP-6") + 2 * reward
    assert line.extra == {"uitstroom_werk": "2"}


def test_s2_value_is_hours_plus_the_reward(werkbedrijf):
    line = stored_line(werkbedrijf, _row("participatie.S2", "S2-JOB-9", eenheden="120,5", uitstroom_werk=1))
    hour = unit_price(werkbedrijf, "participatie.S2", "S2-JOB-9")
    assert line.unit_price == hour
    assert line.value == to_cents(Decimal("120.5") * hour) + Decimal("1250.00")


def test_s2_hours_fit_the_period(werkbedrijf):
    row = _row("participatie.S2", "S2-JOB-3", gestart=1, lopend=1, beeindigd=0, clienten=1, eenheden="172",
               uitstroom_werk=0)
    assert refused(werkbedrijf, row) == [
        ("eenheden", "Meer uren (172) dan mogelijk: ten hoogste 40 uur per week voor elk van de 1 lopende "
                     f"trajecten, 171 uur in november {YEAR}.")]
    assert stored_line(werkbedrijf, {**row, "eenheden": "171"}).value == 171 * unit_price(
        werkbedrijf, "participatie.S2", "S2-JOB-3")


def test_s3_outflow_is_optional_and_earns_nothing(werkbedrijf):
    row = _row("participatie.S3", "S3-WGD-6", eenheden="40")
    line = stored_line(werkbedrijf, row)
    assert line.value == 40 * unit_price(werkbedrijf, "participatie.S3", "S3-WGD-6")
    assert refused(werkbedrijf, {**_row("participatie.S3", "S3-WGD-6", eenheden="40", periode=month(10)),
                                 "uitstroom_werk": 9}) == [
        ("uitstroom_werk", "Er zijn meer trajecten met uitstroom naar werk (9) dan beëindigde trajecten (4).")]
