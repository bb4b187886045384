"""The portal's one clock: Dutch dates, the PORTAL_TODAY setting, and the test suite's pins."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine

from portal import clock
from portal.config import ConfigurationError
from tests.conftest import make_app
from tests.dates import RUN_DATE


def test_today_is_the_dutch_date_also_when_utc_is_still_yesterday():
    # 23:30 UTC on 31 December is 00:30 on 1 January in Amsterdam (winter time).
    with time_machine.travel(datetime(2027, 12, 31, 23, 30, tzinfo=timezone.utc), tick=False):
        assert clock.today() == date(2028, 1, 1)
        assert clock.now() == datetime(2027, 12, 31, 23, 30, tzinfo=timezone.utc)
        assert clock.local_now().hour == 0
    # Summer time: 22:30 UTC on 30 June is 00:30 on 1 July.
    with time_machine.travel(datetime(2028, 6, 30, 22, 30, tzinfo=timezone.utc), tick=False):
        assert clock.today() == date(2028, 7, 1)


def test_portal_today_moves_the_calendar_and_the_time_still_runs(database_url):
    app = make_app(database_url, TODAY="2028-02-29")
    with app.app_context():
        assert clock.today() == date(2028, 2, 29)
        first = clock.now()
        assert first.tzinfo is not None and first.astimezone(clock.TIMEZONE).date() == date(2028, 2, 29)
        assert clock.now() >= first  # not frozen
    # Outside that app the real (here: the run's) date holds.
    assert clock.today() != date(2028, 2, 29) or RUN_DATE == date(2028, 2, 29)
    app.extensions["portal.engine"].dispose()


@pytest.mark.parametrize("value", ["29-02-2028", "2027-02-29", "morgen"])
def test_a_bad_portal_today_stops_start_up_with_a_dutch_message(database_url, value):
    with pytest.raises(ConfigurationError, match="is geen datum; schrijf bijvoorbeeld 2028-02-29"):
        make_app(database_url, TODAY=value)


def test_the_run_is_on_its_date():
    assert clock.today() in (RUN_DATE, RUN_DATE + timedelta(days=1))  # a run may pass midnight


@pytest.mark.date_sensitive
def test_the_date_matrix_moves_the_clock(matrix_date):
    assert clock.today() == (matrix_date or clock.today())
    if matrix_date is not None:
        assert clock.today() == matrix_date and datetime.now().date() == matrix_date  # noqa: DTZ005


@pytest.mark.clock_on(7, 15)
def test_clock_on_keeps_the_year_of_the_run():
    assert clock.today() == date(RUN_DATE.year, 7, 15)


def _clock_readers(folders, skip) -> list[str]:
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    pattern = re.compile(r"\b(?:date\.today|datetime\.(?:now|utcnow|today))\(|\btime\.time\(")
    return [f"{path.relative_to(root)}:{number}"
            for folder in folders for path in sorted((root / folder).glob("**/*.py"))
            if path.relative_to(root).as_posix() not in skip
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if pattern.search(line)]


def test_nothing_in_the_portal_reads_the_system_clock_but_the_clock():
    """Every rule asks portal.clock; a new datetime.now() or date.today() elsewhere fails here."""
    found = _clock_readers(["portal", "plugins"], skip={"portal/clock.py"})
    assert [place for place in found if "/tests/" not in place] == []


def test_no_test_reads_the_wall_clock():
    """Tests take the run's date (tests/dates.py) or the portal's clock; only the pin itself (the
    root conftest.py, which reads the real date once) and this file's checks look at the system."""
    found = _clock_readers(["tests", "plugins"], skip={"tests/test_clock.py"})
    assert [place for place in found if place.startswith("tests/") or "/tests/" in place] == []
