"""The portal's one clock: what day and what time it is, for every rule and screen that asks.

``today()`` is the date in the Netherlands (Europe/Amsterdam, also when the server runs on UTC),
``now()`` an aware UTC moment (what the tables store) and ``local_now()`` that moment in Dutch
time (what documents print). Nothing else in the portal reads the system clock.

``PORTAL_TODAY=2028-02-29`` moves the portal's calendar to that date while the time of day still
runs: a demo or an acceptance run "on" another day (``./dev.sh start`` and ``flask demo`` build
the demo region around it). Tests pin the clock with time-machine, which moves these functions
along with everything else in the process (see the root ``conftest.py``).
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

TIMEZONE = ZoneInfo("Europe/Amsterdam")
_NO_SHIFT = timedelta(0)


def parse_today(value) -> date | None:
    """The setting ``TODAY`` as a date (``None`` or ``""``: the real date). ValueError with a
    Dutch message when it is not a date written as YYYY-MM-DD."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"PORTAL_TODAY={value!r} is geen datum; schrijf bijvoorbeeld 2028-02-29.") from None


def _shift() -> timedelta:
    """How far the configured ``TODAY`` lies from the real date, in whole days."""
    if not has_app_context():
        return _NO_SHIFT
    target = current_app.config.get("TODAY")
    if not target:
        return _NO_SHIFT
    return timedelta(days=(target - datetime.now(TIMEZONE).date()).days)


def now() -> datetime:
    """This moment, timezone-aware in UTC."""
    return datetime.now(timezone.utc) + _shift()


def local_now() -> datetime:
    """This moment in Dutch time (for "gemaakt op" lines and file names)."""
    return now().astimezone(TIMEZONE)


def today() -> date:
    """Today's date in the Netherlands."""
    return local_now().date()


def wall_seconds() -> float:
    """Seconds since the epoch on the machine's own clock, unshifted: for heartbeats that processes
    compare with each other (a job's sign of life), never for a date a rule reads."""
    return time.time()
