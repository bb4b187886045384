"""Realisation lines: reading one row, checking it and valuing it. Pure functions; everything
they need from the database comes in through a :class:`Lookups` object (see
:mod:`portal.realisation.lookups` for the real one).

A row is a dict of column name → text, as a CSV or XLSX file, the web form or the API gives it.
Columns (names are case- and accent-insensitive, so "Cliënten" is "clienten"):

=============  =================================================================================
gemeente       CBS code (``0983``) or name of a municipality of the region
segment        segment key (``domain.S4``) or domain name and code (``Domain S4``)
periode        ``2026-03`` (month) or ``2026-K1`` (quarter), as the region's rule
               ``reporting_period`` asks for the municipality and segment
traject        code of a standard trajectory of the period's catalogue year, or of one of the
               provider's custom trajectories valid in the period
gestart        trajectories started in the period
lopend         trajectories running in the period (started ones included)
beeindigd      trajectories ended in the period
clienten       distinct clients in the period
eenheden       units delivered (hours, days), for segments funded by the unit
plekdagen      occupied place-days, where the municipality buys places
=============  =================================================================================

plus the columns a domain plugin adds for its segments (``portal_realisation_fields``).

Value (never typed): trajectories started × trajectory price, or units × unit price, or
place-days × place-day price (place-year price ÷ days in the year, to the cent); the line's value is
rounded half-up to the cent, plus what the segment's plugin adds (a reward, say). See
docs/rounding.md.
"""
from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Callable, NamedTuple, Protocol, Sequence

from portal.catalogue.pricing import price_per_place_year
from portal.money import parse_amount, to_cents
from portal.registry import CORE_REALISATION_COLUMNS, INFORMATION_COLUMNS, RealisationSpec

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")
REQUIRED_COLUMNS = ("gemeente", "segment", "periode", "traject")
COUNT_COLUMNS = ("gestart", "lopend", "beeindigd", "clienten")
MAX_CELL = 200
MAX_COUNT = 1_000_000


class Period(NamedTuple):
    """A reporting period: a month (``number`` 1–12) or a quarter (1–4) of a year. A named tuple:
    it is part of the key of every report a large file touches, and a tuple hashes and compares
    in C (ordered by year, kind, number)."""

    year: int
    kind: str  # month | quarter
    number: int

    @property
    def start(self) -> date:
        month = self.number if self.kind == "month" else 3 * (self.number - 1) + 1
        return date(self.year, month, 1)

    @property
    def end(self) -> date:
        month = self.number if self.kind == "month" else 3 * self.number
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def code(self) -> str:
        return f"{self.year}-{self.number:02d}" if self.kind == "month" else f"{self.year}-K{self.number}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{MONTHS[self.number - 1]} {self.year}"
        return f"{self.number}e kwartaal {self.year}"

    @property
    def months(self) -> tuple[int, ...]:
        return (self.number,) if self.kind == "month" else tuple(range(3 * self.number - 2, 3 * self.number + 1))


_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER_RE = re.compile(r"^(\d{4})-[KQ]([1-4])$", re.IGNORECASE)


def parse_period(text: str) -> Period:
    """``2026-03`` → March 2026, ``2026-K1`` (or ``Q1``) → first quarter. ValueError otherwise."""
    text = (text or "").strip()
    if match := _MONTH_RE.match(text):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            return Period(year, "month", month)
    elif match := _QUARTER_RE.match(text):
        year = int(match[1])
        if 2000 <= year <= 2100:
            return Period(year, "quarter", int(match[2]))
    raise ValueError(text)


@functools.lru_cache(maxsize=4096)
def _known_period(text: str) -> Period | None:
    """:func:`parse_period`, remembered (a large file names the same few periods again and again);
    None for text that is no period."""
    try:
        return parse_period(text)
    except ValueError:
        return None


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def column_key(name: Any) -> str:
    """A header as a column name: lower case, no accents, no spaces around it ("Cliënten" →
    "clienten", "Beëindigd" → "beeindigd")."""
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", "_", text.strip().lower())


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class Municipality:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class TrajectoryPrice:
    """The agreed prices of a (custom) trajectory for one provider and year."""

    code: str
    name: str
    price: Decimal  # the trajectory's price
    unit_price: Decimal  # one unit (hour, day) with the provider's surcharges
    unit: str
    duration_months: int
    custom: bool = False
    # The trajectory's extra pricing values (a plugin's fields, e.g. a success reward), as text or numbers.
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def place_day_price(self, year: int) -> Decimal:
        """A place-year holds 12 / duration trajectories (its price rounded to the cent, as the
        catalogue shows it); a place-day is that price ÷ days in the year, half-up to the cent."""
        place_year = price_per_place_year(self.price, self.duration_months)
        return to_cents(place_year / Decimal(days_in_year(year)))


@dataclass(frozen=True)
class Line:
    """One checked row: what was reported."""

    row: int
    municipality: Municipality
    segment_key: str
    period: Period
    trajectory_code: str
    started: int = 0
    running: int = 0
    ended: int = 0
    clients: int = 0
    units: Decimal | None = None
    place_days: int | None = None
    extra: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class LineColumns:
    """Many checked lines of one municipality × segment × period, figure by figure, for a plugin's
    ``check_lines`` (:class:`portal.registry.RealisationSpec`): line ``i`` is ``rows[i]``,
    ``trajectory_codes[i]``, ``started[i]`` and so on, as a :class:`Line` would hold it; ``prices[i]``
    is its :class:`TrajectoryPrice`; the rest is what the :class:`LineContext` of each line holds."""

    municipality: Municipality
    segment_key: str
    period: Period
    region: str
    provider: str
    spec: RealisationSpec
    basis: str
    places: Decimal | None
    rows: Sequence[int]
    trajectory_codes: Sequence[str]
    prices: Sequence[TrajectoryPrice]
    started: Sequence[int]
    running: Sequence[int]
    ended: Sequence[int]
    clients: Sequence[int]
    units: Sequence[Decimal | None]
    place_days: Sequence[int | None]
    extra: Sequence[dict[str, Decimal]]


@dataclass(frozen=True)
class LineContext:
    """What a check may know about a line besides the line itself."""

    region: str
    provider: str
    spec: RealisationSpec
    price: TrajectoryPrice
    basis: str  # trajectory | units | places
    places: Decimal | None = None  # places the municipality agreed, where it buys places


@dataclass(frozen=True)
class ValuedLine:
    line: Line
    context: LineContext
    quantity: Decimal
    unit_price: Decimal
    extra_value: Decimal
    value: Decimal
    warnings: tuple[str, ...] = ()

    @property
    def group(self) -> tuple:
        """The report this line belongs to."""
        line = self.line
        return (line.municipality.id, line.segment_key, line.period)


class Lookups(Protocol):
    """What checking a row needs from the outside world (the database, the clock, the plugins)."""

    region: str
    provider: str
    today: date

    def municipality(self, text: str) -> Municipality | None: ...
    def segment(self, text: str) -> str | None: ...
    def segment_label(self, segment_key: str) -> str: ...
    def contract_terms(self, segment_key: str) -> list[tuple[date, date | None]]: ...
    def reporting_kind(self, municipality: Municipality, segment_key: str) -> str: ...
    def price(self, segment_key: str, period: Period, code: str) -> TrajectoryPrice | None: ...
    def buys_places(self, municipality: Municipality, segment_key: str, on: date) -> tuple[bool, Decimal | None]: ...
    def locked(self, municipality: Municipality, segment_key: str, period: Period) -> bool: ...
    def spec(self, segment_key: str) -> RealisationSpec: ...
    def checks(self) -> list[Callable]: ...
    # Optional, for the batch checker: has_custom(segment_key) -> bool, whether a segment has custom
    # trajectories (whose prices depend on the period); without it every period is priced apart.


def allowed_columns(specs: list[RealisationSpec]) -> set[str]:
    return set(CORE_REALISATION_COLUMNS) | INFORMATION_COLUMNS | {f.name for spec in specs for f in spec.fields}


FIGURE_COLUMNS = COUNT_COLUMNS + ("eenheden", "plekdagen")


def figure_columns(specs: list[RealisationSpec]) -> tuple[str, ...]:
    """The columns that hold figures: the counts, units, place-days and the plugins' columns."""
    return FIGURE_COLUMNS + tuple(f.name for spec in specs for f in spec.fields)


def left_empty(raw: dict[str, Any], specs: list[RealisationSpec], names: tuple[str, ...] | None = None) -> bool:
    """A row of a pre-filled template that the provider left as it was: its codes, but not one
    figure (no count, units, place-days or plugin column). It reports nothing, so a file skips it.
    ``names``: :func:`figure_columns` of ``specs``, when the caller worked them out once."""
    for name in names if names is not None else figure_columns(specs):
        value = raw.get(name)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return False
    return True


def check_header(columns: list[str], specs: list[RealisationSpec]) -> list[RowError]:
    """The header row: every required column present, no unknown or repeated column."""
    errors = []
    keys = [column_key(c) for c in columns]
    for required in REQUIRED_COLUMNS:
        if required not in keys:
            errors.append(RowError(1, required, f"De kolom '{required}' ontbreekt in de kopregel."))
    allowed = allowed_columns(specs)
    seen = set()
    for original, key in zip(columns, keys):
        if not key:
            continue
        if key in seen:
            errors.append(RowError(1, key, f"De kolom '{original}' staat twee keer in de kopregel."))
        elif key not in allowed:
            errors.append(RowError(1, key, f"Onbekende kolom '{str(original)[:50]}'. Gebruik het sjabloon."))
        seen.add(key)
    return errors


def _text(raw: dict[str, Any], column: str) -> str:
    value = raw.get(column)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        # A number from a spreadsheet: exact text of the number, never its binary float digits.
        return format(Decimal(str(value)).normalize(), "f").replace(".", ",")
    return str(value).strip()


def _number(raw, column, label, errors, row, *, integer: bool, required: bool,
            minimum: Decimal = Decimal(0), maximum: Decimal | None = None):
    text = _text(raw, column)
    if not text:
        if required:
            errors.append(RowError(row, column, f"Vul {label} in."))
        return None
    if len(text) > 30:
        errors.append(RowError(row, column, f"{label.capitalize()} is geen getal."))
        return None
    try:
        number = parse_amount(text)
    except ValueError:
        errors.append(RowError(row, column, f"{label.capitalize()} is geen getal: '{text[:30]}'."))
        return None
    if integer and number != number.to_integral_value():
        errors.append(RowError(row, column, f"{label.capitalize()} moet een heel getal zijn, niet '{text}'."))
        return None
    if not integer and number != to_cents(number):
        errors.append(RowError(row, column, f"{label.capitalize()} heeft ten hoogste twee decimalen."))
        return None
    if number < minimum:
        message = (f"{label.capitalize()} kan niet negatief zijn." if minimum == 0
                   else f"{label.capitalize()} is ten minste {minimum}.")
        errors.append(RowError(row, column, message))
        return None
    ceiling = maximum if maximum is not None else Decimal(MAX_COUNT)
    if number > ceiling:
        errors.append(RowError(row, column, f"{label.capitalize()} is te groot (ten hoogste {ceiling})."))
        return None
    return int(number) if integer else number


def check_row(row: int, raw: dict[str, Any], lookups: Lookups) -> tuple[ValuedLine | None, list[RowError]]:
    """Check one row completely (every column, so the report names every fault at once) and value
    it. Returns the valued line, or None with the errors."""
    errors: list[RowError] = []
    for column, value in raw.items():
        if isinstance(value, str) and len(value) > MAX_CELL:
            errors.append(RowError(row, column, f"De cel is te lang ({len(value)} tekens; ten hoogste {MAX_CELL})."))
            return None, errors
        if isinstance(value, str) and value.startswith("="):
            errors.append(RowError(row, column, "Een formule wordt niet ingelezen: zet de waarde zelf in de cel."))
    if errors:
        return None, errors

    municipality = segment_key = period = None
    text = _text(raw, "gemeente")
    if not text:
        errors.append(RowError(row, "gemeente", "Vul de gemeente in (CBS-code of naam)."))
    elif (municipality := lookups.municipality(text)) is None:
        errors.append(RowError(row, "gemeente", f"Onbekende gemeente '{text[:50]}' in deze regio."))
    text = _text(raw, "segment")
    if not text:
        errors.append(RowError(row, "segment", "Vul het segment in, bijvoorbeeld 'jeugd.S4'."))
    elif (segment_key := lookups.segment(text)) is None:
        errors.append(RowError(row, "segment", f"Onbekend segment '{text[:50]}'."))
    text = _text(raw, "periode")
    if not text:
        errors.append(RowError(row, "periode", "Vul de periode in, bijvoorbeeld 2026-03 of 2026-K1."))
    else:
        try:
            period = parse_period(text)
        except ValueError:
            errors.append(RowError(row, "periode", f"'{text[:30]}' is geen periode; schrijf 2026-03 (maand) "
                                                   f"of 2026-K1 (kwartaal)."))
    code = _text(raw, "traject")
    if not code:
        errors.append(RowError(row, "traject", "Vul de trajectcode in."))

    counts = {}
    for column, label in (("gestart", "het aantal gestarte trajecten"), ("lopend", "het aantal lopende trajecten"),
                          ("beeindigd", "het aantal beëindigde trajecten"), ("clienten", "het aantal cliënten")):
        before = len(errors)
        counts[column] = _number(raw, column, label, errors, row, integer=True, required=False) or 0
        if len(errors) > before:
            counts[column] = None  # wrong: compared with nothing below
    units = _number(raw, "eenheden", "het aantal eenheden", errors, row, integer=False, required=False)
    place_days = _number(raw, "plekdagen", "het aantal plekdagen", errors, row, integer=True, required=False)

    spec = lookups.spec(segment_key) if segment_key else None
    extra: dict[str, Decimal] = {}
    if spec is not None:
        for extra_field in spec.fields:
            value = _number(raw, extra_field.name, extra_field.label.lower(), errors, row,
                            integer=extra_field.kind == "integer", required=extra_field.required,
                            minimum=extra_field.minimum, maximum=extra_field.maximum)
            if value is not None:
                extra[extra_field.name] = Decimal(value)

    def more(column: str) -> bool:
        return counts[column] is not None and counts["lopend"] is not None and counts[column] > counts["lopend"]

    if more("gestart"):
        errors.append(RowError(row, "gestart", "Er zijn meer gestarte dan lopende trajecten; lopende trajecten "
                                               "tellen de gestarte mee."))
    if more("beeindigd"):
        errors.append(RowError(row, "beeindigd", "Er zijn meer beëindigde dan lopende trajecten."))
    if more("clienten") and counts["lopend"] > 0:
        errors.append(RowError(row, "clienten", "Er zijn meer cliënten dan lopende trajecten."))

    price = None
    if segment_key and period:
        terms = lookups.contract_terms(segment_key)
        label = lookups.segment_label(segment_key)
        contracted = False
        if not terms:
            errors.append(RowError(row, "segment", f"U heeft geen raamovereenkomst voor {label}."))
        elif not any(start <= period.start and (end is None or period.start <= end) for start, end in terms):
            spans = "; ".join(f"{_nl_date(start)} t/m {_nl_date(end) if end else 'onbepaald'}" for start, end in terms)
            errors.append(RowError(row, "periode", f"De periode {period.label} valt buiten uw raamovereenkomst "
                                                   f"voor {label} ({spans})."))
        else:
            contracted = True
        if period.start > lookups.today:
            errors.append(RowError(row, "periode", f"De periode {period.label} is nog niet begonnen."))
        if municipality is not None:
            kind = lookups.reporting_kind(municipality, segment_key)
            if kind != period.kind:
                example = f"{period.year}-03" if kind == "month" else f"{period.year}-K1"
                errors.append(RowError(row, "periode", f"{municipality.name} wil realisatie voor {label} "
                                                       f"{'per maand' if kind == 'month' else 'per kwartaal'}, "
                                                       f"bijvoorbeeld {example}."))
            elif lookups.locked(municipality, segment_key, period):
                errors.append(RowError(row, "periode", f"De realisatie van {municipality.name}, {label}, "
                                                       f"{period.label} is al goedgekeurd en staat vast."))
        if code and contracted:  # outside the agreement the trajectory question does not arise
            price = lookups.price(segment_key, period, code)
            if price is None:
                errors.append(RowError(row, "traject", f"Traject '{code[:40]}' staat niet in uw contract voor "
                                                       f"{label} in {period.year}."))
    if errors:
        return None, errors

    buys_places, places = lookups.buys_places(municipality, segment_key, period.start)
    basis = "places" if buys_places else spec.basis
    line = Line(row=row, municipality=municipality, segment_key=segment_key, period=period, trajectory_code=price.code,
                started=counts["gestart"], running=counts["lopend"], ended=counts["beeindigd"],
                clients=counts["clienten"], units=units, place_days=place_days, extra=extra)
    context = LineContext(region=lookups.region, provider=lookups.provider, spec=spec, price=price, basis=basis,
                          places=places)
    if basis == "units" and units is None:
        errors.append(RowError(row, "eenheden", f"Vul het aantal eenheden ({price.unit}) in: in dit segment "
                                                f"betaalt de regio per eenheid."))
    if basis == "places" and place_days is None:
        errors.append(RowError(row, "plekdagen", f"Vul het aantal bezette plekdagen in: {municipality.name} "
                                                 f"koopt plekken in dit segment."))
    for check in ([spec.check] if spec.check else []) + list(lookups.checks()):
        for column, message in check(line, context) or ():
            errors.append(RowError(row, column, message))
    if errors:
        return None, errors
    return value_line(line, context), []


@dataclass
class TrioFacts:
    """What :func:`check_row` works out from a row's municipality, segment and period, all of it
    found to be in order (contracted, begun, the right kind of period, not locked)."""

    municipality: Municipality
    segment_key: str
    period: Period
    spec: RealisationSpec
    basis: str
    places: Decimal | None


def trio_facts(lookups: Lookups, key: tuple) -> TrioFacts | None:
    """The checks of :func:`check_row` that depend only on a row's municipality, segment and period
    (its raw cells ``key``), for making them once per distinct trio of a large file
    (:mod:`portal.realisation.batch_check`): the facts when all of them pass, None when any does
    not (then check_row says what)."""
    municipality_text, segment_text, period_text = (text.strip() if isinstance(text, str) else "" for text in key)
    if not (municipality_text and segment_text and period_text):
        return None
    municipality = lookups.municipality(municipality_text)
    segment_key = lookups.segment(segment_text)
    if municipality is None or segment_key is None:
        return None
    period = _known_period(period_text)
    if period is None:
        return None
    spec = lookups.spec(segment_key)
    terms = lookups.contract_terms(segment_key)
    if not any(start <= period.start and (end is None or period.start <= end) for start, end in terms):
        return None
    if period.start > lookups.today or lookups.reporting_kind(municipality, segment_key) != period.kind:
        return None
    if lookups.locked(municipality, segment_key, period):
        return None
    buys_places, places = lookups.buys_places(municipality, segment_key, period.start)
    return TrioFacts(municipality, segment_key, period, spec, "places" if buys_places else spec.basis, places)


def value_line(line: Line, context: LineContext) -> ValuedLine:
    """The value of a checked line from the agreed prices (rounded half-up to the cent)."""
    warnings = []
    if context.basis == "places":
        quantity, unit_price = Decimal(line.place_days), context.price.place_day_price(line.period.year)
        if context.places is not None and line.place_days > context.places * line.period.days:
            warnings.append(f"Meer plekdagen ({line.place_days}) dan {context.places} plekken × "
                            f"{line.period.days} dagen; bij de jaarafrekening wordt overbezetting niet extra "
                            f"betaald.")
    elif context.basis == "units":
        quantity, unit_price = line.units, context.price.unit_price
    else:
        quantity, unit_price = Decimal(line.started), context.price.price
    extra_value = to_cents(context.spec.extra_value(line, context)) if context.spec.extra_value else Decimal("0.00")
    value = to_cents(quantity * unit_price) + extra_value
    return ValuedLine(line, context, quantity, unit_price, extra_value, value, tuple(warnings))


def _nl_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
