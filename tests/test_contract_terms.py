"""End dates, status, extension schemes and the bow-wave principle."""
from __future__ import annotations

from datetime import date

import pytest

from portal.contracts import terms as ct


def test_scheme_parsing():
    assert ct.parse_scheme("3+1+1") == (3, [1, 1])
    assert ct.parse_scheme("3+3+3") == (3, [3, 3])
    with pytest.raises(ValueError):
        ct.parse_scheme("3+0")


def test_end_date_follows_the_extensions_used():
    start = date(2022, 1, 1)
    assert ct.end_date(start, 3, [1, 1], 0) == date(2024, 12, 31)
    assert ct.end_date(start, 3, [1, 1], 1) == date(2025, 12, 31)
    assert ct.end_date(start, 3, [1, 1], 2) == date(2026, 12, 31)
    assert ct.end_date(start, 3, [3, 3], 1) == date(2027, 12, 31)
    with pytest.raises(ValueError):
        ct.end_date(start, 3, [1, 1], 3)


def test_leap_day_start():
    assert ct.add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_status():
    start, end = date(2022, 1, 1), date(2024, 12, 31)
    assert ct.status(start, end, None, date(2021, 12, 31)) == "future"
    assert ct.status(start, end, None, date(2023, 5, 1)) == "running"
    assert ct.status(start, end, None, date(2025, 1, 1)) == "ended"
    assert ct.status(start, end, date(2023, 6, 30), date(2023, 7, 1)) == "terminated"


def test_bow_wave_keeps_the_horizon_on_good_years_and_shrinks_it_on_a_bad_one():
    """000 appendix 1: horizon X=3; a bad year gives X−1; the next good year earns a year again."""
    start = date(2022, 1, 1)
    end = ct.end_date(start, 3, [], 0)
    assert ct.horizon_years(end, 2021) == 3
    end = ct.bow_wave_end_after(end, satisfactory=True)  # evaluation of 2022
    assert end == date(2025, 12, 31) and ct.horizon_years(end, 2022) == 3
    end = ct.bow_wave_end_after(end, satisfactory=False)  # 2023
    assert end == date(2025, 12, 31) and ct.horizon_years(end, 2023) == 2
    end = ct.bow_wave_end_after(end, satisfactory=True)  # 2024: X−1+1
    assert end == date(2026, 12, 31) and ct.horizon_years(end, 2024) == 2


def test_bow_wave_never_runs_past_the_maximum_term():
    """3+3+3 with the bow wave (000 §7.3 PW S3): at most nine years, however many good years."""
    start = date(2022, 1, 1)
    last = ct.last_possible_end(start, 3, [3, 3])
    assert last == date(2030, 12, 31) and ct.max_term_years(3, [3, 3]) == 9
    end = ct.end_date(start, 3, [3, 3], 0)
    for year in range(2022, 2040):
        end = ct.bow_wave_end_after(end, satisfactory=True, last_end=last)
    assert end == last and ct.horizon_years(end, 2029) == 1
    assert ct.end_date(start, 3, [3, 3], 0, bow_wave_years_earned=12) == last
    # A bow wave with only a horizon stops at the portal's longest term.
    assert ct.end_date(start, 3, [], 0, bow_wave_years_earned=40) == date(2051, 12, 31)
    assert ct.end_date(start, 3, [1, 1], 2) == date(2026, 12, 31)  # plain extensions unchanged


def test_evaluations_run_year_by_year():
    assert ct.next_evaluation_year(date(2022, 1, 1), []) == 2022
    assert ct.next_evaluation_year(date(2022, 1, 1), [2022, 2023]) == 2024
