"""Realisation row rules without a database: periods, column names, the header, every check of
``check_row`` (with a fake :class:`portal.realisation.rules.Lookups`) and the value of a line."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.money import to_cents
from portal.realisation.rules import (
    MAX_CELL,
    Line,
    LineContext,
    Municipality,
    Period,
    TrajectoryPrice,
    check_header,
    check_row,
    column_key,
    parse_period,
    value_line,
)
from portal.registry import RealisationField, RealisationSpec

VENLO = Municipality(1, "0983", "Venlo")
BEESEL = Municipality(2, "0889", "Beesel")
PRICE = TrajectoryPrice(code="S4-BEG-6", name="Begeleiding", price=Decimal("1234.57"),
                        unit_price=Decimal("67.89"), unit="uur", duration_months=6)
HOURS = TrajectoryPrice(code="P-UUR", name="Per uur", price=Decimal("500.00"), unit_price=Decimal("59.99"),
                        unit="uur", duration_months=3)


@dataclass
class FakeLookups:
    """Answers from dicts; every test changes what it needs."""

    region: str = "noord-limburg"
    provider: str = "Zorggroep Proef"
    today: date = date(2026, 11, 23)
    municipalities: dict = field(default_factory=lambda: {"0983": VENLO, "venlo": VENLO, "0889": BEESEL})
    segments: dict = field(default_factory=lambda: {"jeugd.s4": "jeugd.S4", "proef.uren": "proef.UREN",
                                                    "proef.extra": "proef.EXTRA"})
    terms: dict = field(default_factory=lambda: {"jeugd.S4": [(date(2022, 1, 1), date(2029, 12, 31))],
                                                 "proef.UREN": [(date(2022, 1, 1), None)],
                                                 "proef.EXTRA": [(date(2022, 1, 1), None)]})
    kinds: dict = field(default_factory=dict)  # (municipality code, segment) -> month | quarter
    prices: dict = field(default_factory=lambda: {("jeugd.S4", "S4-BEG-6"): PRICE, ("proef.UREN", "P-UUR"): HOURS,
                                                  ("proef.EXTRA", "S4-BEG-6"): PRICE})
    places: dict = field(default_factory=dict)  # (municipality code, segment) -> places
    locked_periods: set = field(default_factory=set)
    specs: dict = field(default_factory=lambda: {
        "proef.UREN": RealisationSpec("proef.UREN", basis="units"),
        "proef.EXTRA": RealisationSpec("proef.EXTRA", fields=(
            RealisationField("resultaat", "Behaald resultaat", required=True, maximum=Decimal(10)),
            RealisationField("uren_extra", "Extra uren", kind="decimal"))),
    })
    extra_checks: list = field(default_factory=list)

    def municipality(self, text):
        return self.municipalities.get(text.strip().lower())

    def segment(self, text):
        return self.segments.get(text.strip().lower())

    def segment_label(self, segment_key):
        return f"Segment {segment_key}"

    def contract_terms(self, segment_key):
        return self.terms.get(segment_key, [])

    def reporting_kind(self, municipality, segment_key):
        return self.kinds.get((municipality.code, segment_key), "month")

    def price(self, segment_key, period, code):
        return self.prices.get((segment_key, code.strip().upper()))

    def buys_places(self, municipality, segment_key, on):
        key = (municipality.code, segment_key)
        return (key in self.places), self.places.get(key)

    def locked(self, municipality, segment_key, period):
        return (municipality.code, segment_key, period.code) in self.locked_periods

    def spec(self, segment_key):
        return self.specs.get(segment_key) or RealisationSpec(segment_key)

    def checks(self):
        return self.extra_checks


def good_row(**changes):
    row = {"gemeente": "0983", "segment": "jeugd.S4", "periode": "2026-03", "traject": "S4-BEG-6",
           "gestart": "2", "lopend": "5", "beeindigd": "1", "clienten": "4"}
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


def errors_of(raw, lookups=None, row=7):
    valued, errors = check_row(row, raw, lookups or FakeLookups())
    assert (valued is None) == bool(errors)
    return [(e.column, e.message) for e in errors]


def only_error(raw, lookups=None):
    found = errors_of(raw, lookups)
    assert len(found) == 1, found
    return found[0]


# --- Periods and column names ------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2026-03", Period(2026, "month", 3)), ("2026-3", Period(2026, "month", 3)),
    (" 2026-12 ", Period(2026, "month", 12)), ("2026-K1", Period(2026, "quarter", 1)),
    ("2026-k4", Period(2026, "quarter", 4)), ("2026-Q2", Period(2026, "quarter", 2)),
    ("2026-q3", Period(2026, "quarter", 3)),
])
def test_parse_period_reads_months_and_quarters(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["", None, "2026", "2026-00", "2026-13", "2026-K0", "2026-K5", "2026-Q5",
                                  "26-03", "1999-01", "2101-01", "2026/03", "maart 2026", "2026-03-01",
                                  "2026-K1x", "2026-KK1", "=2026-03"])
def test_parse_period_refuses_what_is_no_period(text):
    with pytest.raises(ValueError):
        parse_period(text)


def test_period_properties():
    march = parse_period("2024-02")
    assert (march.start, march.end, march.days, march.code, march.label) == (
        date(2024, 2, 1), date(2024, 2, 29), 29, "2024-02", "februari 2024")
    quarter = parse_period("2026-K4")
    assert (quarter.start, quarter.end, quarter.days, quarter.code, quarter.label, quarter.months) == (
        date(2026, 10, 1), date(2026, 12, 31), 92, "2026-K4", "4e kwartaal 2026", (10, 11, 12))


@pytest.mark.parametrize("name, key", [
    ("Cliënten", "clienten"), ("Beëindigd", "beeindigd"), ("  GEMEENTE ", "gemeente"), ("Periode", "periode"),
    ("Plek dagen", "plek_dagen"), ("traject", "traject"), (None, ""), (12, "12"), ("BEËINDIGD", "beeindigd"),
])
def test_column_key_ignores_case_accents_and_surrounding_space(name, key):
    assert column_key(name) == key


def test_check_header_accepts_the_template_in_any_spelling():
    header = ["Gemeente", "Segment", "Periode", "Traject", "Gestart", "Lopend", "Beëindigd", "Cliënten",
              "Eenheden", "Plekdagen", ""]
    assert check_header(header, []) == []


def test_check_header_reports_missing_unknown_and_repeated_columns():
    spec = RealisationSpec("proef.X", fields=(RealisationField("resultaat", "Resultaat"),))
    errors = check_header(["gemeente", "Segment", "segment", "traject", "onzin", "resultaat"], [spec])
    assert [(e.row, e.column, e.message) for e in errors] == [
        (1, "periode", "De kolom 'periode' ontbreekt in de kopregel."),
        (1, "segment", "De kolom 'segment' staat twee keer in de kopregel."),
        (1, "onzin", "Onbekende kolom 'onzin'. Gebruik het sjabloon."),
    ]
    # A plugin's column is unknown without its spec.
    assert [e.column for e in check_header(["gemeente", "segment", "periode", "traject", "resultaat"], [])] == [
        "resultaat"]


# --- check_row: each column ----------------------------------------------------------------------


def test_a_good_row_is_valued_at_started_times_price():
    valued, errors = check_row(3, good_row(), FakeLookups())
    assert errors == []
    line = valued.line
    assert (line.row, line.municipality, line.segment_key, line.period, line.trajectory_code) == (
        3, VENLO, "jeugd.S4", Period(2026, "month", 3), "S4-BEG-6")
    assert (line.started, line.running, line.ended, line.clients) == (2, 5, 1, 4)
    assert valued.context.basis == "trajectory"
    assert valued.quantity == 2 and valued.unit_price == Decimal("1234.57")
    assert valued.value == Decimal("2469.14")
    assert valued.group == (VENLO.id, "jeugd.S4", Period(2026, "month", 3))


def test_municipality_by_name_and_numbers_from_a_spreadsheet():
    valued, errors = check_row(2, good_row(gemeente="Venlo", gestart=2, lopend=5.0, beeindigd=None,
                                           clienten=Decimal("4")), FakeLookups())
    assert errors == []
    assert (valued.line.started, valued.line.running, valued.line.ended, valued.line.clients) == (2, 5, 0, 4)


@pytest.mark.parametrize("column, value, message", [
    ("gemeente", None, "Vul de gemeente in (CBS-code of naam)."),
    ("gemeente", "  ", "Vul de gemeente in (CBS-code of naam)."),
    ("gemeente", "Maastricht", "Onbekende gemeente 'Maastricht' in deze regio."),
    ("segment", None, "Vul het segment in, bijvoorbeeld 'jeugd.S4'."),
    ("segment", "jeugd.S9", "Onbekend segment 'jeugd.S9'."),
    ("periode", None, "Vul de periode in, bijvoorbeeld 2026-03 of 2026-K1."),
    ("periode", "maart", "'maart' is geen periode; schrijf 2026-03 (maand) of 2026-K1 (kwartaal)."),
    ("traject", "", "Vul de trajectcode in."),
    ("traject", "XX-1", "Traject 'XX-1' staat niet in uw contract voor Segment jeugd.S4 in 2026."),
])
def test_each_text_column_has_its_own_message(column, value, message):
    assert only_error(good_row(**{column: value})) == (column, message)


@pytest.mark.parametrize("column, label", [
    ("gestart", "Het aantal gestarte trajecten"), ("lopend", "Het aantal lopende trajecten"),
    ("beeindigd", "Het aantal beëindigde trajecten"), ("clienten", "Het aantal cliënten"),
])
def test_each_count_column_refuses_text_fractions_and_negatives(column, label):
    base = good_row(gestart="0", lopend="5", beeindigd="0", clienten="0")
    assert only_error({**base, column: "veel"}) == (column, f"{label} is geen getal: 'veel'.")
    assert only_error({**base, column: "1,5"}) == (column, f"{label} moet een heel getal zijn, niet '1,5'.")
    assert only_error({**base, column: "-1"}) == (column, f"{label} kan niet negatief zijn.")
    assert only_error({**base, column: "2000000"}) == (column, f"{label} is te groot (ten hoogste 1000000).")
    assert only_error({**base, column: "1e3"})[0] == column
    assert only_error({**base, column: "9" * 40}) == (column, f"{label} is geen getal.")


def test_units_column_allows_two_decimals_only():
    lookups = FakeLookups()
    base = good_row(segment="proef.uren", traject="P-UUR")
    assert errors_of({**base, "eenheden": "12,25"}, lookups) == []
    assert only_error({**base, "eenheden": "12,255"}, lookups) == (
        "eenheden", "Het aantal eenheden heeft ten hoogste twee decimalen.")
    assert only_error({**base, "eenheden": "-3"}, lookups) == ("eenheden", "Het aantal eenheden kan niet negatief zijn.")
    assert only_error({**base, "eenheden": "tien"}, lookups) == (
        "eenheden", "Het aantal eenheden is geen getal: 'tien'.")


def test_place_days_are_whole_and_not_negative():
    lookups = FakeLookups(places={("0983", "jeugd.S4"): Decimal(3)})
    assert only_error(good_row(plekdagen="1,5"), lookups) == (
        "plekdagen", "Het aantal plekdagen moet een heel getal zijn, niet '1,5'.")
    assert only_error(good_row(plekdagen="-1"), lookups) == ("plekdagen", "Het aantal plekdagen kan niet negatief zijn.")


def test_count_relations():
    assert only_error(good_row(gestart="6", lopend="5", beeindigd="0", clienten="0")) == (
        "gestart", "Er zijn meer gestarte dan lopende trajecten; lopende trajecten tellen de gestarte mee.")
    assert only_error(good_row(gestart="0", lopend="5", beeindigd="6", clienten="0")) == (
        "beeindigd", "Er zijn meer beëindigde dan lopende trajecten.")
    assert only_error(good_row(gestart="0", lopend="5", beeindigd="0", clienten="6")) == (
        "clienten", "Er zijn meer cliënten dan lopende trajecten.")
    # Equal is fine; started counts among running.
    assert errors_of(good_row(gestart="5", lopend="5", beeindigd="5", clienten="5")) == []
    # Started without running: both relations broken at once.
    assert [c for c, _ in errors_of(good_row(gestart="1", lopend=None, beeindigd="1", clienten=None))] == [
        "gestart", "beeindigd"]


def test_a_wrong_count_is_not_compared_with_the_others():
    """Running "-1" is one error, not also "more started than running"."""
    assert only_error(good_row(gestart="2", lopend="-1", beeindigd="1", clienten="2")) == (
        "lopend", "Het aantal lopende trajecten kan niet negatief zijn.")
    assert only_error(good_row(gestart="veel", lopend="1", beeindigd="0", clienten="0"))[0] == "gestart"


def test_several_errors_in_one_row_are_reported_together():
    found = errors_of({"gemeente": "Maastricht", "segment": "jeugd.S4", "periode": "2026-13", "traject": "",
                       "gestart": "twee", "lopend": "-1", "beeindigd": "1,5", "clienten": "x"})
    columns = [column for column, _ in found]
    assert columns == ["gemeente", "periode", "traject", "gestart", "lopend", "beeindigd", "clienten"]
    assert all(message.endswith(".") for _, message in found)


def test_errors_carry_the_row_number():
    _valued, errors = check_row(41, good_row(gemeente="Nergens"), FakeLookups())
    assert [(e.row, e.column) for e in errors] == [(41, "gemeente")]


# --- Unsafe cells --------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["gemeente", "traject", "gestart", "opmerking"])
def test_formula_cells_are_refused(column):
    assert only_error(good_row(**{column: "=SUM(1,2)"})) == (
        column, "Een formule wordt niet ingelezen: zet de waarde zelf in de cel.")


def test_a_huge_cell_is_refused_without_further_checks():
    found = errors_of(good_row(traject="X" * (MAX_CELL + 1), gemeente="Nergens"))
    assert found == [("traject", f"De cel is te lang ({MAX_CELL + 1} tekens; ten hoogste {MAX_CELL}).")]
    assert errors_of(good_row(opmerking="y" * MAX_CELL)) == []


# --- Basis: units and places -----------------------------------------------------------------------


def test_units_basis_requires_units_and_values_them():
    lookups = FakeLookups()
    base = good_row(segment="proef.uren", traject="P-UUR")
    assert only_error(base, lookups) == (
        "eenheden", "Vul het aantal eenheden (uur) in: in dit segment betaalt de regio per eenheid.")
    valued, errors = check_row(2, {**base, "eenheden": "10,5"}, lookups)
    assert errors == []
    assert valued.context.basis == "units"
    assert (valued.quantity, valued.unit_price) == (Decimal("10.5"), Decimal("59.99"))
    assert valued.value == Decimal("629.90")  # 10.5 × 59.99 = 629.895 → half up


def test_places_basis_requires_place_days_and_values_them():
    lookups = FakeLookups(places={("0983", "jeugd.S4"): Decimal(2)})
    assert only_error(good_row(), lookups) == (
        "plekdagen", "Vul het aantal bezette plekdagen in: Venlo koopt plekken in dit segment.")
    valued, errors = check_row(2, good_row(plekdagen="45"), lookups)
    assert errors == []
    assert valued.context.basis == "places" and valued.context.places == 2
    # Independent: place-year = price × 12 / 6 rounded to the cent; a day in 2026 = ÷ 365, half up.
    place_year = (Decimal("1234.57") * 12 / 6).quantize(Decimal("0.01"), ROUND_HALF_UP)
    day = (place_year / 365).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert day == Decimal("6.76")
    assert valued.unit_price == day and valued.quantity == 45
    assert valued.value == Decimal("304.20")
    assert valued.warnings == ()


def test_place_days_beyond_the_places_bought_give_a_warning_not_an_error():
    lookups = FakeLookups(places={("0983", "jeugd.S4"): Decimal(1)})
    valued, errors = check_row(2, good_row(plekdagen="32"), lookups)  # March: 31 days
    assert errors == []
    assert valued.warnings == ("Meer plekdagen (32) dan 1 plekken × 31 dagen; bij de jaarafrekening wordt "
                               "overbezetting niet extra betaald.",)


def test_place_day_price_in_a_leap_year_divides_by_366():
    assert PRICE.place_day_price(2024) == Decimal("6.75")  # 2469.14 / 366 = 6.7463
    assert PRICE.place_day_price(2026) == Decimal("6.76")  # 2469.14 / 365 = 6.7647


# --- Period against agreement, rule, lock and clock ------------------------------------------------


def test_reporting_period_kind_must_match_the_rule():
    lookups = FakeLookups(kinds={("0983", "jeugd.S4"): "quarter"})
    assert only_error(good_row(), lookups) == (
        "periode", "Venlo wil realisatie voor Segment jeugd.S4 per kwartaal, bijvoorbeeld 2026-K1.")
    assert errors_of(good_row(periode="2026-K1"), lookups) == []
    assert only_error(good_row(periode="2026-K1")) == (
        "periode", "Venlo wil realisatie voor Segment jeugd.S4 per maand, bijvoorbeeld 2026-03.")


def test_locked_period_is_refused():
    lookups = FakeLookups(locked_periods={("0983", "jeugd.S4", "2026-03")})
    assert only_error(good_row(), lookups) == (
        "periode", "De realisatie van Venlo, Segment jeugd.S4, maart 2026 is al goedgekeurd en staat vast.")
    assert errors_of(good_row(periode="2026-04"), lookups) == []
    assert errors_of(good_row(gemeente="0889"), lookups) == []


def test_future_period_is_refused_and_the_current_one_accepted():
    assert only_error(good_row(periode="2026-12")) == ("periode", "De periode december 2026 is nog niet begonnen.")
    assert errors_of(good_row(periode="2026-11")) == []


def test_period_outside_the_agreement():
    assert only_error(good_row(periode="2021-12")) == (
        "periode", "De periode december 2021 valt buiten uw raamovereenkomst voor Segment jeugd.S4 "
                   "(1 januari 2022 t/m 31 december 2029).")
    lookups = FakeLookups(terms={"jeugd.S4": [(date(2022, 1, 1), date(2023, 12, 31)),
                                              (date(2025, 1, 1), None)]})
    assert only_error(good_row(periode="2024-05"), lookups) == (
        "periode", "De periode mei 2024 valt buiten uw raamovereenkomst voor Segment jeugd.S4 "
                   "(1 januari 2022 t/m 31 december 2023; 1 januari 2025 t/m onbepaald).")
    assert errors_of(good_row(periode="2023-12"), lookups) == []
    assert errors_of(good_row(periode="2025-01"), lookups) == []


def test_segment_without_agreement():
    lookups = FakeLookups(terms={})
    assert only_error(good_row(), lookups) == ("segment", "U heeft geen raamovereenkomst voor Segment jeugd.S4.")


# --- Plugin fields and checks --------------------------------------------------------------------


def test_plugin_fields_are_checked_and_kept():
    lookups = FakeLookups()
    base = good_row(segment="proef.extra")
    assert only_error(base, lookups) == ("resultaat", "Vul behaald resultaat in.")
    assert only_error({**base, "resultaat": "11"}, lookups) == (
        "resultaat", "Behaald resultaat is te groot (ten hoogste 10).")
    assert only_error({**base, "resultaat": "1", "uren_extra": "1,234"}, lookups) == (
        "uren_extra", "Extra uren heeft ten hoogste twee decimalen.")
    valued, errors = check_row(2, {**base, "resultaat": "1", "uren_extra": "2,5"}, lookups)
    assert errors == []
    assert valued.line.extra == {"resultaat": Decimal(1), "uren_extra": Decimal("2.5")}


def test_region_checks_add_their_messages():
    def no_venlo(line, context):
        assert context.provider == "Zorggroep Proef" and context.price is PRICE
        return [("gemeente", "Proef: niet in Venlo.")] if line.municipality.code == "0983" else []

    lookups = FakeLookups(extra_checks=[no_venlo])
    assert only_error(good_row(), lookups) == ("gemeente", "Proef: niet in Venlo.")
    assert errors_of(good_row(gemeente="0889"), lookups) == []


# --- Value ----------------------------------------------------------------------------------------


def _context(price, basis, places=None):
    return LineContext(region="r", provider="p", spec=RealisationSpec("x.Y", basis=basis), price=price,
                       basis=basis, places=places)


def test_value_adds_the_plugins_extra_value_rounded():
    spec = RealisationSpec("x.Y", extra_value=lambda line, context: Decimal("10.005"))
    context = LineContext(region="r", provider="p", spec=spec, price=PRICE, basis="trajectory")
    line = Line(row=2, municipality=VENLO, segment_key="x.Y", period=Period(2026, "month", 3),
                trajectory_code="S4-BEG-6", started=1, running=1)
    valued = value_line(line, context)
    assert valued.extra_value == Decimal("10.01")
    assert valued.value == Decimal("1244.58")


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@settings(max_examples=150, deadline=None)
@given(started=st.integers(0, 100_000), units=st.decimals(min_value=0, max_value=Decimal(100_000), places=2),
       place_days=st.integers(0, 100_000), price=prices, unit_price=prices,
       duration=st.integers(1, 36), year=st.integers(2020, 2030), basis=st.sampled_from(["trajectory", "units",
                                                                                             "places"]))
def test_value_is_whole_cents_of_quantity_times_price(started, units, place_days, price, unit_price, duration,
                                                      year, basis):
    trajectory = TrajectoryPrice(code="C", name="C", price=price, unit_price=unit_price, unit="uur",
                                 duration_months=duration)
    line = Line(row=2, municipality=VENLO, segment_key="x.Y", period=Period(year, "month", 1),
                trajectory_code="C", started=started, running=started, units=units, place_days=place_days)
    valued = value_line(line, _context(trajectory, basis))
    assert valued.value.as_tuple().exponent >= -2
    assert valued.value == to_cents(valued.quantity * valued.unit_price)
    days = 366 if year % 4 == 0 else 365
    expected_quantity, expected_price = {
        "trajectory": (Decimal(started), price),
        "units": (units, unit_price),
        "places": (Decimal(place_days),
                   ((price * 12 / duration).quantize(Decimal("0.01"), ROUND_HALF_UP) / days)
                   .quantize(Decimal("0.01"), ROUND_HALF_UP)),
    }[basis]
    assert (valued.quantity, valued.unit_price) == (expected_quantity, expected_price)
    assert valued.value == (expected_quantity * expected_price).quantize(Decimal("0.01"), ROUND_HALF_UP)
