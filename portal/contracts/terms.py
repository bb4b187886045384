"""Contract terms as pure functions: end dates from terms and extensions, status, and the
bow-wave principle (DOMAIN.md §4, 000 appendix 1).

Bow wave with horizon X: at each yearly evaluation (from the end of year 1) a satisfactory year
earns one extra year, so the remaining horizon stays X; an unsatisfactory year earns nothing, so the
horizon shrinks to X−1; the next good year earns a year again (X−1+1: the horizon stays X−1).
The horizon never rolls past the agreement's maximum term: the initial term plus every extension
option ("3+3+3 met boeggolfprincipe", 000 §7.3 PW S3: at most nine years), or, without options,
:data:`MAX_TERM_YEARS`. Years earned beyond it are not added.
"""
from __future__ import annotations

from datetime import date, timedelta

CONTRACT_FORMS = {
    "a": "Raamovereenkomst zonder omzetgarantie, met tussentijdse toetreding",
    "b": "Raamovereenkomst zonder omzetgarantie, zonder tussentijdse toetreding",
    "c": "Overeenkomst met budgetplafond",
    "d": "Overeenkomst met vaste budgetafspraken",
}

MAX_TERM_YEARS = 30  # no agreement runs longer, whatever its scheme or bow wave

STATUS_LABELS = {
    "future": "Nog niet begonnen",
    "running": "Lopend",
    "ended": "Afgelopen",
    "terminated": "Beëindigd",
}


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def parse_scheme(scheme: str) -> tuple[int, list[int]]:
    """``"3+1+1"`` -> (3, [1, 1]): the initial term and the extension options, in years."""
    try:
        parts = [int(part) for part in scheme.replace(" ", "").split("+")]
    except ValueError:
        raise ValueError(f"onbekende looptijd {scheme!r}") from None
    if not parts or any(part <= 0 for part in parts):
        raise ValueError(f"onbekende looptijd {scheme!r}")
    return parts[0], parts[1:]


def max_term_years(initial_years: int, extension_options: list[int]) -> int:
    """The longest the agreement may run: the initial term plus every option (9 for 3+3+3); an
    agreement without options (a bow wave with only a horizon) at most :data:`MAX_TERM_YEARS`."""
    return initial_years + sum(extension_options) if extension_options else MAX_TERM_YEARS


def end_date(start: date, initial_years: int, extension_options: list[int], extensions_used: int,
             bow_wave_years_earned: int = 0) -> date:
    """The last day of the agreement (inclusive), never past its maximum term."""
    if not 0 <= extensions_used <= len(extension_options):
        raise ValueError("more extensions used than there are options")
    years = initial_years + sum(extension_options[:extensions_used]) + bow_wave_years_earned
    years = min(years, max(initial_years, max_term_years(initial_years, extension_options)))
    return add_years(start, years) - timedelta(days=1)


def last_possible_end(start: date, initial_years: int, extension_options: list[int]) -> date:
    """The last day the agreement may ever run to (its maximum term)."""
    return add_years(start, max(initial_years, max_term_years(initial_years, extension_options))) - timedelta(days=1)


def status(start: date, end: date, terminated_on: date | None, today: date) -> str:
    if terminated_on is not None and terminated_on <= today:
        return "terminated"
    if today < start:
        return "future"
    if today > end:
        return "ended"
    return "running"


def bow_wave_end_after(current_end: date, satisfactory: bool, last_end: date | None = None) -> date:
    """The end date after one yearly evaluation: a year later when satisfactory, but never past
    ``last_end`` (the maximum term, :func:`last_possible_end`)."""
    after = add_years(current_end, 1) if satisfactory else current_end
    return min(after, last_end) if last_end is not None else after


def horizon_years(end: date, evaluation_year: int) -> int:
    """Whole years left after the end of ``evaluation_year``."""
    return max(0, end.year - evaluation_year)


def next_evaluation_year(start: date, evaluated_years: list[int]) -> int:
    """Evaluations run year by year, starting with the agreement's first year."""
    return max(evaluated_years) + 1 if evaluated_years else start.year
