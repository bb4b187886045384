"""The batch checker of the realisation import (portal/realisation/batch_check.py) answers exactly as
check_row: for every row it either leaves the row to check_row (None) or gives the very line
check_row gives, and it never passes a row check_row refuses. Rows in order of every segment of the
demo provider (plugin checks, plugin columns, extra value, places, units), and thousands of
variations of them: numbers written otherwise, figures out of order, unknown codes, formulas."""
from __future__ import annotations

import random
from decimal import Decimal

import pytest
from sqlmodel import select

from portal import db
from portal.models import Organisation
from portal.realisation.batch_check import BatchChecker, checked_line
from portal.realisation.lookups import ProviderLookups
from portal.realisation.rules import Period, check_row
from tests.conftest import DEMO_PASSWORD, _empty_tables, make_app

PROVIDER = "Zorggroep Maasland"


@pytest.fixture(scope="module")
def app(database_url):
    from portal.demo import load_demo

    application = make_app(database_url)
    with application.app_context():
        load_demo(DEMO_PASSWORD, realisation=False)
    yield application
    engine = application.extensions["portal.engine"]
    _empty_tables(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def providers(app):
    """Every provider of the demo region with its lookups (between them every kind of segment)."""
    with app.app_context():
        found = db.session().exec(select(Organisation).where(Organisation.kind == "provider",
                                                             Organisation.region_id == _region_id())).all()
        yield [ProviderLookups(provider) for provider in found]


def _region_id() -> int:
    maasland = db.session().exec(select(Organisation).where(Organisation.name == PROVIDER)).one()
    return maasland.region_id


def _rows_in_order(lookups) -> list[dict]:
    """Per segment of the provider, per municipality (reporting period as it asks), two codes of a
    period that has begun: rows that pass every check."""
    rows = []
    today = lookups.today
    for segment_key in sorted(lookups.registry.segments):
        terms = lookups.contract_terms(segment_key)
        if not terms:
            continue
        spec = lookups.spec(segment_key)
        for municipality in lookups.municipalities():
            kind = lookups.reporting_kind(municipality, segment_key)
            period = Period(today.year - 1, kind, 3)
            if not any(start <= period.start and (end is None or period.start <= end) for start, end in terms):
                continue
            if lookups.locked(municipality, segment_key, period):
                continue
            buys_places, _places = lookups.buys_places(municipality, segment_key, period.start)
            for price in lookups.trajectory_codes(segment_key, period)[:2]:
                row = {"gemeente": municipality.code, "segment": segment_key, "periode": period.code,
                       "traject": price.code, "gestart": "2", "lopend": "5", "beeindigd": "2", "clienten": "4",
                       "eenheden": "", "plekdagen": ""}
                if spec.basis == "units":
                    row["eenheden"] = "12"
                if buys_places:
                    row["plekdagen"] = "40"
                for extra in spec.fields:
                    row[extra.name] = "1"
                rows.append(row)
    return rows


VARIANTS = {
    "gestart": ["", "0", "03", " 2", "2 ", "1.000", "-1", "1,5", "\u0663", "2000000", "x", "=1+1", "7"],
    "lopend": ["", "0", "1", "5", "1,0", "99999999"],
    "beeindigd": ["", "0", "9", "2,5"],
    "clienten": ["", "0", "6", "1000001"],
    "eenheden": ["", "0", "1,5", "1,555", "3", "-2", "2000000"],
    "plekdagen": ["", "0", "40", "1,5", "100000"],
    "traject": ["", "onbekend-1", " s4-beg-6 "],
    "gemeente": ["", "9999", "Venlo"],
    "segment": ["", "onbekend.S9"],
    "periode": ["", "2099-01", "2025-3", "2025-k1", "niets"],
    # the demo plugins' columns
    "resultaat_behaald": ["", "0", "3", "-1", "1,5"],
    "uitgestroomd": ["", "0", "3"],
    "uitstroom_werk": ["", "0", "3", "x"],
}


def _variations(rows: list[dict], count: int, seed: int = 14) -> list[dict]:
    chance = random.Random(seed)
    made = []
    for _ in range(count):
        row = dict(chance.choice(rows))
        for column in chance.sample(sorted(VARIANTS), chance.choice((1, 1, 2, 3))):
            row[column] = chance.choice(VARIANTS[column])
        if chance.random() < 0.01:
            row["traject"] = "x" * 250  # too long a cell
        made.append(row)
    return made


def _compare(lookups, rows: list[dict]) -> tuple[int, int, int]:
    batch = list(enumerate(rows, start=2))
    answers = BatchChecker(lookups).check(batch)
    accepted = refused = left = 0
    for (number, raw), answer in zip(batch, answers):
        valued, errors = check_row(number, raw, lookups)
        if answer is None:
            left += 1
            refused += bool(errors)
            continue
        assert not errors, (raw, errors)  # never passes what check_row refuses
        assert answer == checked_line(valued), raw
        accepted += 1
    return accepted, refused, left


def test_rows_in_order_of_every_segment_pass_the_batch_check_as_check_rows_lines(app, providers):
    with app.app_context():
        every_row = []
        for lookups in providers:
            rows = _rows_in_order(lookups)
            every_row += rows
            accepted, refused, left = _compare(lookups, rows)
            assert refused == 0
            assert accepted == len(rows)  # all plainly written: none left to check_row
    assert len({row["segment"] for row in every_row}) >= 10
    assert any(row["plekdagen"] for row in every_row) and any(row["eenheden"] for row in every_row)
    assert any(row.get("uitstroom_werk") for row in every_row) and any(row.get("resultaat_behaald")
                                                                         for row in every_row)


def test_thousands_of_variations_answer_as_check_row(app, providers):
    totals = [0, 0, 0]
    with app.app_context():
        for seed, lookups in enumerate(providers):
            rows = _rows_in_order(lookups)
            if rows:
                for index, count in enumerate(_compare(lookups, _variations(rows, 600, seed))):
                    totals[index] += count
    accepted, refused, _left = totals
    # The variations cover both ways: rows passed in bulk and rows refused by check_row.
    assert accepted > 300 and refused > 1000, totals


def test_a_line_of_the_batch_check_carries_cents_and_the_plugin_columns(app, providers):
    answers = []
    with app.app_context():
        for lookups in providers:
            answers += BatchChecker(lookups).check(list(enumerate(_rows_in_order(lookups), start=2)))
    values = [answer[10] for answer in answers]
    assert all(isinstance(value, Decimal) and value == value.quantize(Decimal("0.01")) for value in values)
    assert any(answer[11] for answer in answers)  # plugin columns carried as figures


# --- Column by column (BatchChecker.columns) -----------------------------------------------------


def _columnar(lookups, rows: list[dict]) -> bool:
    """Whether every row's segment can be checked column by column (no line-by-line-only plugin
    check, no extra value, no region checks)."""
    specs = {lookups.segment(row["segment"]) for row in rows}
    return not list(lookups.checks()) and all(
        not (spec.extra_value or (spec.check and not spec.check_lines)) for spec in map(lookups.spec, specs))


def _compare_columns(lookups, batch: list) -> bool:
    """columns() gives the lines check() gives, or gives up (None) where check() leaves any row
    to check_row. Returns whether it took the batch."""
    checker = BatchChecker(lookups)
    answers = checker.check(batch)
    checked = BatchChecker(lookups).columns(batch)
    if checked is None:
        return False
    assert None not in answers, [raw for (_n, raw), a in zip(batch, answers) if a is None]
    assert checked.numbers == [number for number, _raw in batch]
    assert list(checked.lines()) == answers
    return True


def test_batches_of_columnar_segments_are_checked_column_by_column_as_check_does(app, providers):
    taken = 0
    with app.app_context():
        for lookups in providers:
            rows = _rows_in_order(lookups)
            by_segment: dict[str, list] = {}
            for row in rows:
                by_segment.setdefault(row["segment"], []).append(row)
            for segment_rows in by_segment.values():
                batch = list(enumerate(segment_rows, start=2))
                took = _compare_columns(lookups, batch)
                if _columnar(lookups, segment_rows):
                    assert took, segment_rows[0]["segment"]
                    taken += 1
                else:
                    assert not took
    assert taken >= 8  # wmo and jeugd segments, their plugin checks as check_lines


def test_variations_are_checked_column_by_column_exactly_or_left_to_check(app, providers):
    taken = left = 0
    with app.app_context():
        for seed, lookups in enumerate(providers):
            rows = [row for row in _rows_in_order(lookups) if _columnar(lookups, [row])]
            if not rows:
                continue
            for row in _variations(rows, 300, seed):  # one row a batch
                took = _compare_columns(lookups, [(2, row)])
                taken += took
                left += not took
            chance = random.Random(seed)
            for _ in range(40):  # batches of rows in order with one variation among them
                sample = [dict(row) for row in chance.sample(rows, min(len(rows), 12))]
                sample.sort(key=lambda row: (row["gemeente"], row["segment"], row["periode"]))
                index = chance.randrange(len(sample))
                sample[index] = _variations([sample[index]], 1, seed * 100 + index)[0]
                took = _compare_columns(lookups, list(enumerate(sample, start=2)))
                taken += took
                left += not took
    assert taken > 200 and left > 200, (taken, left)


def test_a_report_twice_in_a_batch_or_a_row_refused_leaves_the_batch_to_check(app, providers):
    with app.app_context():
        lookups = next(lookups for lookups in providers if lookups.provider == PROVIDER)
        rows = [row for row in _rows_in_order(lookups) if _columnar(lookups, [row])]
        first, other = rows[0], next(row for row in rows if row["segment"] != rows[0]["segment"])
        apart = [first, other, dict(first, traject=first["traject"])]
        assert BatchChecker(lookups).columns(list(enumerate(apart, start=2))) is None
        together = [first, other]
        assert BatchChecker(lookups).columns(list(enumerate(together, start=2))) is not None
        population = next(row for row in rows if row["segment"] == "wmo.S2a")  # clients named (the wmo plugin)
        no_clients = dict(population, clienten="0", lopend="3", gestart="1", beeindigd="0")
        assert check_row(3, no_clients, lookups)[1]
        assert BatchChecker(lookups).columns([(2, first), (3, no_clients)]) is None
        assert BatchChecker(lookups).columns([(2, first), (3, dict(no_clients, clienten="1"))]) is not None


def test_a_region_check_takes_part_column_by_column_through_its_check_lines(app, providers):
    """A check of portal_realisation_checks with a check_lines attribute keeps a batch column by
    column (and gives it up when a line would be refused); one without it sends every batch to
    check()."""
    def at_most_3_started(line, _context):
        return [("gestart", "Te veel.")] if line.started > 3 else []

    at_most_3_started.check_lines = lambda lines: max(lines.started) <= 3

    def no_columns(line, _context):
        return []

    with app.app_context():
        lookups = next(lookups for lookups in providers if lookups.provider == PROVIDER)
        rows = [row for row in _rows_in_order(lookups) if _columnar(lookups, [row])][:6]
        batch = list(enumerate(rows, start=2))
        checker = BatchChecker(lookups)
        checker._plugin_checks = [at_most_3_started]
        assert checker.columns(batch) is not None
        too_many = BatchChecker(lookups)
        too_many._plugin_checks = [at_most_3_started]
        assert too_many.columns(batch[:-1] + [(9, dict(rows[-1], gestart="4", lopend="5"))]) is None
        assert too_many.check([(9, dict(rows[-1], gestart="4", lopend="5"))]) == [None]  # check_row says what
        plain = BatchChecker(lookups)
        plain._plugin_checks = [no_columns]
        assert plain.columns(batch) is None and None not in plain.check(batch)
