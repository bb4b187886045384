"""Options for the whole test suite (the core's tests/ and each plugin's tests/): the database, and
the date the clock is pinned to.

``--today 2028-02-29`` (or ``PORTAL_TEST_TODAY``) runs the whole suite with the clock on that date
(time-machine moves ``portal.clock`` and everything else in the process; the time of day still
runs). Without it the suite runs on the real date. Either way a test never reads the wall clock:
it reads the run's date (``tests/dates.py``) or the portal's clock, and pins what it means:

- ``@pytest.mark.date_sensitive``: the test also runs once for every date of ``MATRIX_DATES``
  (the date matrix): a 1 January, a 31 December, a leap day and a day after the demo's first
  framework agreements have ended. Its expectations follow the clock at run time.
- ``@pytest.mark.clock_on(month, day)``: the test runs on that day of the run's year (a test about
  values, not dates, that needs e.g. a month that has begun).
"""
import os
from datetime import date, datetime

import pytest
import time_machine

from portal.clock import TIMEZONE

MATRIX_DATES = [date(2027, 1, 1), date(2027, 12, 31), date(2028, 2, 29), date(2031, 3, 1)]


def pytest_addoption(parser):
    parser.addoption("--db", default=os.environ.get("PORTAL_TEST_DB", "sqlite"),
                     choices=("sqlite", "postgresql"), help="database to run the suite on")
    parser.addoption("--today", default=os.environ.get("PORTAL_TEST_TODAY") or None, type=date.fromisoformat,
                     help="pin the clock to this date (YYYY-MM-DD) for the whole run")


def pytest_configure(config):
    # The run's date, for test modules that build parameters at collection time (tests/dates.py).
    day = config.getoption("--today") or datetime.now(TIMEZONE).date()
    os.environ["PORTAL_TEST_RUN_DATE"] = day.isoformat()


def pytest_report_header(config):
    today = config.getoption("--today")
    return (f"portal database: {config.getoption('--db')}; "
            f"clock: {today.isoformat() + ' (pinned)' if today else 'the real date'}")


def _travel(day: date):
    """time-machine's traveller to ``day`` at the real time of day in the Netherlands."""
    real = datetime.now(TIMEZONE)
    return time_machine.travel(datetime.combine(day, real.time(), tzinfo=TIMEZONE), tick=True)


@pytest.fixture(scope="session", autouse=True)
def pinned_today(request):
    """The date of this run: ``--today`` with the clock moved there, or the real date."""
    day = request.config.getoption("--today")
    if day is None:
        yield datetime.now(TIMEZONE).date()
        return
    with _travel(day):
        yield day


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("date_sensitive"):
        metafunc.fixturenames.append("matrix_date")
        metafunc.parametrize("matrix_date", [None, *MATRIX_DATES], indirect=True,
                             ids=["today", *(d.isoformat() for d in MATRIX_DATES)])


@pytest.fixture(autouse=True)
def matrix_date(request, pinned_today):
    """For a ``date_sensitive`` test, the matrix date it runs on, ``None`` for the run's own date;
    the clock is moved there (and to the ``clock_on`` day of that year) for the test and every
    fixture it uses."""
    day = getattr(request, "param", None)
    marker = request.node.get_closest_marker("clock_on")
    target = day
    if marker is not None:
        target = date((day or pinned_today).year, *marker.args, **marker.kwargs)
    if target is None:
        yield None
        return
    with _travel(target):
        yield day
