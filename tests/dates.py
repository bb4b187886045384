"""Dates for the tests, relative to the run's date (``--today``, or the real date).

Module-level values (``YEAR``, ``period``) are fixed when the tests are collected, from the run's
date: use them in parameters and constants. Inside a test that runs in the date matrix
(``date_sensitive``) use the functions, which follow the portal's clock at run time.

The demo region is built around the run's date (:func:`portal.demo.load_demo`): its five years end
with ``YEAR``; with the demo of 2026 they are 2022–2026.
"""
from __future__ import annotations

import os
from datetime import date

from portal import clock
from portal.demo import DEMO_YEARS as DEMO_LENGTH

RUN_DATE = date.fromisoformat(os.environ.get("PORTAL_TEST_RUN_DATE") or clock.today().isoformat())
YEAR = RUN_DATE.year
DEMO_YEARS = list(range(YEAR - DEMO_LENGTH + 1, YEAR + 1))
FIRST_YEAR = DEMO_YEARS[0]


def demo_year(index: int) -> int:
    """The demo's year ``index`` (0 = first, 4 or -1 = the run's year), e.g. 2022 and 2026."""
    return DEMO_YEARS[index]


def month(number: int, year: int | None = None) -> str:
    """A month period code, "2026-03" for ``month(3)`` in a run of 2026."""
    return f"{year or YEAR}-{number:02d}"


def this_year() -> int:
    """The year on the portal's clock now (follows the date matrix)."""
    return clock.today().year


def today() -> date:
    """The portal's date now (follows the date matrix)."""
    return clock.today()
