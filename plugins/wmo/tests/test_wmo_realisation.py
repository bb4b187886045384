"""Wmo realisation: population-funded segments name their clients; logeren is paid per day and
the days fit the period (through the API path; a refused line stores nothing). Lines for November of
the run's year, on a day in November (the month has begun)."""
import pytest

from tests.dates import YEAR, month
from tests.realisation_data import provider, refused, stored_line, trajectory_price, unit_price

pytestmark = pytest.mark.clock_on(11, 16)


@pytest.fixture
def zorggroep(app, demo):
    with app.app_context():
        yield provider("Zorggroep Maasland")


@pytest.fixture
def schakel(app, demo):
    with app.app_context():
        yield provider("Dagbesteding De Schakel")


def _s3a(**values):
    return {"gemeente": "Gennep", "segment": "wmo.S3a", "periode": month(11), "traject": "S3A-HH-12",
            "gestart": 4, "lopend": 25, "beeindigd": 3, **values}


def _s3b(**values):
    return {"gemeente": "0984", "segment": "wmo.S3b", "periode": month(11), "traject": "S3B-LOG-6",
            "gestart": 1, "lopend": 3, "beeindigd": 0, "clienten": 3, "eenheden": "6", **values}


def test_population_funding_needs_the_clients(zorggroep):
    assert refused(zorggroep, _s3a()) == [
        ("clienten", "Vul het aantal cliënten in: bij populatiebekostiging rekent de regio af op het aantal "
                     "geholpen inwoners.")]
    line = stored_line(zorggroep, _s3a(clienten=24))
    assert line.value == 4 * trajectory_price(zorggroep, "wmo.S3a", "S3A-HH-12")
    assert line.clients == 24


def test_short_stay_days_fit_the_period(schakel):
    assert refused(schakel, _s3b(eenheden="91")) == [
        ("eenheden", "Meer logeerdagen (91) dan mogelijk: 3 lopende trajecten × 30 dagen in november "
                     f"{YEAR} is 90 dagen.")]
    assert refused(schakel, _s3b(eenheden="6,5")) == [("eenheden", "Logeerdagen zijn hele dagen, niet 6.5.")]
    line = stored_line(schakel, _s3b())
    day = unit_price(schakel, "wmo.S3b", "S3B-LOG-6")
    assert line.unit_price == day
    assert line.value == 6 * day
