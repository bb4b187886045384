"""Checking a batch of rows at once: the same answers as :func:`~portal.realisation.rules.check_row`,
at bulk-load speed (issue 14).

Most rows of a large file are in order and plainly written. :meth:`BatchChecker.check` takes a batch
of ``(row number, raw row)`` and answers per row either a **checked line** (a plain tuple, see
:data:`LINE`) or ``None``, which means "let check_row decide": it gives the errors with their exact
texts and order (and, for a row that is in order after all, the same line).

The batch path accepts a row only where check_row would, and only when it is written plainly:
text cells, whole numbers in digits (units too), no formula, nothing too long. Anything else, a
decimal comma, a date cell from a spreadsheet, goes to check_row. The checks that depend only on the
municipality × segment × period (known, contracted, begun, the right kind of period, not locked,
places bought) are made once per distinct trio, prices once per segment × period × code; what
remains per row is reading the figures, their relations, the value, and the plugins' own checks.

Plugins: a segment's ``check`` and ``extra_value`` and the region's ``portal_realisation_checks``
run on every line that needs them, exactly as in check_row, on a :class:`~portal.realisation.rules.Line`
built for that row.
"""
from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal
from itertools import compress, repeat
from operator import gt, itemgetter, mul, ne
from typing import Any, Iterator

from portal.money import CENT
from portal.realisation.blocks import Block
from portal.realisation.rules import (
    MAX_CELL,
    MAX_COUNT,
    Line,
    LineColumns,
    LineContext,
    trio_facts,
    value_line,
)

# A checked line: (report group, trajectory code, code in capitals (the duplicate key), started,
# running, ended, clients, units, place-days, unit price, value, extra figures or None, warnings).
LINE = ("group", "code", "key", "started", "running", "ended", "clients", "units", "place_days", "unit_price",
        "value", "extra", "warnings")

_EQUALS = itertools.repeat("=")
_MISSING = object()


class _Trio:
    """One municipality × segment × period found in order, with what its rows share."""

    __slots__ = ("facts", "group", "spec", "fields", "basis", "places", "prices", "plugin", "days", "columnar")

    def __init__(self, facts, prices: dict, plugin: bool, columnar: bool):
        self.facts = facts
        self.group = (facts.municipality.id, facts.segment_key, facts.period)
        self.spec = facts.spec
        self.fields = tuple((f.name, f.required, f.kind == "integer", f.minimum, f.maximum) for f in facts.spec.fields)
        self.basis = facts.basis
        self.places = facts.places
        self.prices = prices  # code (stripped, in capitals) → (price, unit price, capitals, code) or None
        self.plugin = plugin  # a plugin's check or extra value applies to every line
        self.days = facts.period.days
        self.columnar = columnar  # its lines can be checked column by column (BatchChecker.columns)


class BatchChecker:
    """Checks batches of rows of one import (see the module)."""

    def __init__(self, lookups):
        self.lookups = lookups
        self._trios: dict[tuple, _Trio | None] = {}
        self._prices: dict[tuple, dict] = {}
        self._year_prices: dict[tuple, dict] = {}  # segment × year × basis → code → entry (see _price)
        self._plugin_checks = list(lookups.checks())
        self._contexts: dict[tuple, LineContext] = {}

    def _trio(self, key: tuple) -> _Trio | None:
        facts = trio_facts(self.lookups, key)
        if facts is None:
            return None
        spec = facts.spec
        has_custom = getattr(self.lookups, "has_custom", None)  # optional (rules.Lookups)
        if has_custom is None or has_custom(facts.segment_key):  # a custom trajectory's validity depends on the period
            prices = self._prices.setdefault((facts.segment_key, facts.period.code, facts.basis), {})
        else:  # catalogue prices: the same in every period of the year
            prices = self._year_prices.setdefault((facts.segment_key, facts.period.year, facts.basis), {})
        plugin = bool(spec.check or spec.extra_value or self._plugin_checks)
        columnar = not (spec.extra_value or (spec.check and not spec.check_lines)
                        or any(getattr(check, "check_lines", None) is None for check in self._plugin_checks))
        return _Trio(facts, prices, plugin, columnar)

    def _price(self, trio: _Trio, code: str):
        capitals = code.upper()
        year_prices = self._year_prices.setdefault((trio.facts.segment_key, trio.facts.period.year, trio.basis), {})
        entry = year_prices.get(capitals)
        if entry is not None:  # a catalogue trajectory's price is the same in every period of its year
            trio.prices[capitals] = entry
            return entry
        found = self.lookups.price(trio.facts.segment_key, trio.facts.period, code)
        if found is None:
            entry = None
        elif trio.basis == "places":
            entry = (found, found.place_day_price(trio.facts.period.year), found.code.upper(), found.code)
        elif trio.basis == "units":
            entry = (found, found.unit_price, found.code.upper(), found.code)
        else:
            entry = (found, found.price, found.code.upper(), found.code)
        trio.prices[capitals] = entry
        if found is not None and not found.custom:  # a custom one's validity depends on the period
            year_prices[capitals] = entry
        return entry

    def check(self, batch: list[tuple[int, dict[str, Any]]]) -> list[tuple | None]:
        """Per row of ``batch``: its checked line (:data:`LINE`), or None for check_row."""
        answers: list[tuple | None] = [None] * len(batch)
        try:  # in C: every cell text, none too long, no formula (else row by row below)
            cells = [cell for _number, raw in batch for cell in raw.values()]
            plain = max(map(len, cells), default=0) <= MAX_CELL and not any(map(str.startswith, cells, _EQUALS))
        except TypeError:
            plain = False
        trios = self._trios
        for index, (number, raw) in enumerate(batch):
            if not plain:
                values = raw.values()
                try:
                    if max(map(len, values), default=0) > MAX_CELL or any(map(str.startswith, values, _EQUALS)):
                        continue
                except TypeError:
                    continue
            get = raw.get
            key = (get("gemeente"), get("segment"), get("periode"))
            trio = trios.get(key, _MISSING)
            if trio is _MISSING:
                trio = trios[key] = self._trio(key)
            if trio is None:
                continue
            code = get("traject")
            if not code or not (code := code.strip()):
                continue
            # The counts: empty is 0; plain digits only (anything else: check_row reads it).
            text = get("gestart")
            if text:
                if not (text.isdigit() and text.isascii()):
                    continue
                started = int(text)
            else:
                started = 0
            text = get("lopend")
            if text:
                if not (text.isdigit() and text.isascii()):
                    continue
                running = int(text)
            else:
                running = 0
            text = get("beeindigd")
            if text:
                if not (text.isdigit() and text.isascii()):
                    continue
                ended = int(text)
            else:
                ended = 0
            text = get("clienten")
            if text:
                if not (text.isdigit() and text.isascii()):
                    continue
                clients = int(text)
            else:
                clients = 0
            if (running > MAX_COUNT or started > running or ended > running
                    or (clients > running and running > 0) or clients > MAX_COUNT):
                continue
            text = get("eenheden")
            if text:
                if not (text.isdigit() and text.isascii()):
                    continue
                units = Decimal(text)
                if units > MAX_COUNT:
                    continue
            else:
                units = None
            text = get("plekdagen")
            if text:
                if not (text.isdigit() and text.isascii()):
                    continue
                place_days = int(text)
                if place_days > MAX_COUNT:
                    continue
            else:
                place_days = None
            extra = None
            if trio.fields:
                extra = _extra(get, trio.fields)
                if extra is False:
                    continue
            basis = trio.basis
            if basis == "units":
                if units is None:
                    continue
                quantity = units
            elif basis == "places":
                if place_days is None:
                    continue
                quantity = place_days
            else:
                quantity = started
            price = trio.prices.get(code.upper(), _MISSING)
            if price is _MISSING:
                price = self._price(trio, code)
            if price is None:
                continue
            found, unit_price, capitals, _code = price
            value = (unit_price * quantity).quantize(CENT, ROUND_HALF_UP)
            if trio.plugin:
                line = Line(number, trio.facts.municipality, trio.facts.segment_key, trio.facts.period, found.code,
                            started, running, ended, clients, units, place_days, extra or {})
                context = self._context(trio, found)
                if not self._plugins_agree(trio.spec, line, context):
                    continue
                if trio.spec.extra_value:
                    value += (Decimal(trio.spec.extra_value(line, context))).quantize(CENT, ROUND_HALF_UP)
            warnings = ()
            if basis == "places" and trio.places is not None and place_days > trio.places * trio.days:
                warnings = value_line(Line(number, trio.facts.municipality, trio.facts.segment_key, trio.facts.period,
                                           found.code, started, running, ended, clients, units, place_days, {}),
                                      self._context(trio, found)).warnings
            answers[index] = (trio.group, found.code, capitals, started, running, ended, clients, units, place_days,
                              unit_price, value, extra, warnings)
        return answers

    def columns(self, batch: Block | list[tuple[int, dict[str, Any]]]) -> CheckedColumns | None:
        """The whole of ``batch`` checked column by column, when every row of it is in order and
        plainly written, each report's rows together and no report twice; else None (then
        :meth:`check` goes row by row). The answers are those of :meth:`check`: every step below
        accepts only what :meth:`check` accepts, and anything else gives up on the batch.

        The work is done a column at a time, mostly inside C (``map``, ``zip``, ``max``, ``any``
        over a column), so a batch of 2,000 rows costs a few dozen Python steps per report
        instead of a few dozen per row. A segment's plugin check takes part through its
        ``check_lines`` (:class:`portal.registry.RealisationSpec`), a region's or municipality's
        check (``portal_realisation_checks``) through a ``check_lines`` attribute of the function;
        a segment that only checks line by line or adds an extra value, or a region check without
        ``check_lines``, keeps the batch on :meth:`check`."""
        if not isinstance(batch, Block):
            batch = Block.of_rows(batch)
        if not len(batch) or not batch.plain(MAX_CELL):  # every cell text, none too long, no formula
            return None
        numbers, column, count = batch.numbers, batch.column, len(batch)

        keys = list(zip(column("gemeente"), column("segment"), column("periode")))
        starts = [0, *compress(range(1, count), map(ne, keys[1:], keys))]
        spans = list(zip(starts, starts[1:] + [count]))
        trios = []
        for start, _end in spans:
            trio = self._trios.get(keys[start], _MISSING)
            if trio is _MISSING:
                trio = self._trios[keys[start]] = self._trio(keys[start])
            if trio is None or not trio.columnar:
                return None
            trios.append(trio)
        if len({trio.group for trio in trios}) != len(trios):
            return None  # a report's rows apart: row by row
        try:
            codes = list(map(str.strip, column("traject")))
        except TypeError:  # an empty cell
            return None
        if not all(codes):
            return None
        capitals = list(map(str.upper, codes))
        started, running, ended, clients = (_counts(column(name)) for name in ("gestart", "lopend", "beeindigd",
                                                                                  "clienten"))
        if started is None or running is None or ended is None or clients is None:
            return None
        if (max(running) > MAX_COUNT or max(clients) > MAX_COUNT or any(map(gt, started, running))
                or any(map(gt, ended, running))):
            return None
        if any(map(gt, clients, running)) and any(c > r > 0 for c, r in zip(clients, running)):
            return None
        units = _figures(column("eenheden"), Decimal)
        place_days = _figures(column("plekdagen"), int)
        if (units is None or place_days is None or max(filter(None, units), default=0) > MAX_COUNT
                or max(filter(None, place_days), default=0) > MAX_COUNT):
            return None
        runs, entries, unit_prices, values, extras = [], [], [], [], []
        for (start, end), trio in zip(spans, trios):
            found = list(map(trio.prices.get, capitals[start:end], repeat(_MISSING)))
            if _MISSING in found:
                for index, entry in enumerate(found):
                    if entry is _MISSING:
                        found[index] = self._price(trio, codes[start + index])
            if None in found:
                return None
            basis = trio.basis
            quantities = (units if basis == "units" else place_days if basis == "places" else started)[start:end]
            if basis != "trajectory" and None in quantities:
                return None
            if (basis == "places" and trio.places is not None
                    and max(quantities) > trio.places * trio.days):
                return None  # the warning: row by row
            if trio.fields:
                extra = [_extra(raw.get, trio.fields) for _number, raw in batch.rows()[start:end]]
                if False in extra:
                    return None
            else:
                extra = [None] * (end - start)
            prices = list(map(_UNIT_PRICE, found))
            spec = trio.spec
            if spec.check is not None or self._plugin_checks:
                facts, lookups = trio.facts, self.lookups
                lines = LineColumns(
                    municipality=facts.municipality, segment_key=facts.segment_key, period=facts.period,
                    region=lookups.region, provider=lookups.provider, spec=spec, basis=basis, places=trio.places,
                    rows=numbers[start:end], trajectory_codes=list(map(_CODE, found)),
                    prices=list(map(_FIRST, found)), started=started[start:end], running=running[start:end],
                    ended=ended[start:end], clients=clients[start:end], units=units[start:end],
                    place_days=place_days[start:end], extra=[figures or {} for figures in extra])
                if spec.check is not None and not spec.check_lines(lines):
                    return None
                if not all(check.check_lines(lines) for check in self._plugin_checks):
                    return None
            runs.append((trio.group, start, end))
            entries += found
            unit_prices += prices
            values += map(Decimal.quantize, map(mul, prices, quantities), _CENTS, _HALF_UP)  # _value, in C
            extras += extra
        return CheckedColumns(numbers, runs, list(map(_CODE, entries)), list(map(_CAPITALS, entries)), started,
                              running, ended, clients, units, place_days, unit_prices, values, extras)

    def _context(self, trio: _Trio, price) -> LineContext:
        """The context of a line: one per price, basis and places bought (prices are kept by the
        lookups for the whole import, so their identity is stable)."""
        key = (id(price), trio.basis, trio.places, id(trio.spec))
        context = self._contexts.get(key)
        if context is None:
            lookups = self.lookups
            context = self._contexts[key] = LineContext(
                region=lookups.region, provider=lookups.provider, spec=trio.spec, price=price, basis=trio.basis,
                places=trio.places)
        return context

    def _plugins_agree(self, spec, line: Line, context: LineContext) -> bool:
        """Whether the segment's plugin and the region's checks have nothing to say about a line
        (else check_row says what)."""
        if spec.check and spec.check(line, context):
            return False
        for check in self._plugin_checks:
            if check(line, context):
                return False
        return True


_FIRST, _UNIT_PRICE, _CAPITALS, _CODE = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(3)


def _counts(cells: list) -> list[int] | None:
    """A column of counts: empty is 0, else plain ASCII digits; None when any cell is otherwise."""
    filled = list(filter(None, cells))
    if not (all(map(str.isdigit, filled)) and all(map(str.isascii, filled))):
        return None
    if len(filled) == len(cells):
        return list(map(int, cells))
    return [int(cell) if cell else 0 for cell in cells]


def _figures(cells: list, kind) -> list | None:
    """A column of optional figures (units, place-days): empty is None, else plain ASCII digits as
    ``kind``; None when any cell is otherwise."""
    filled = list(filter(None, cells))
    if not filled:
        return [None] * len(cells)
    if not (all(map(str.isdigit, filled)) and all(map(str.isascii, filled))):
        return None
    if len(filled) == len(cells):
        return list(map(kind, cells))
    return [kind(cell) if cell else None for cell in cells]


def _value(unit_price: Decimal, quantity) -> Decimal:
    return (unit_price * quantity).quantize(CENT, ROUND_HALF_UP)


_CENTS, _HALF_UP = repeat(CENT), repeat(ROUND_HALF_UP)


class CheckedColumns:
    """A batch checked by :meth:`BatchChecker.columns`: every row in order, column by column (row
    ``i`` of the batch is ``numbers[i]``, ``codes[i]``, ``started[i]``, ...). ``runs`` are
    ``(report group, start, end)``: each report's rows, each report once; ``codes`` as the
    catalogue writes them, ``keys`` in capitals (the duplicate key)."""

    __slots__ = ("numbers", "runs", "codes", "keys", "started", "running", "ended", "clients", "units",
                 "place_days", "unit_prices", "values", "extra")

    def __init__(self, numbers, runs, codes, keys, started, running, ended, clients, units, place_days, unit_prices,
                 values, extra):
        self.numbers, self.runs, self.codes, self.keys = numbers, runs, codes, keys
        self.started, self.running, self.ended, self.clients = started, running, ended, clients
        self.units, self.place_days, self.unit_prices, self.values, self.extra = (units, place_days, unit_prices,
                                                                                  values, extra)

    def lines(self) -> Iterator[tuple]:
        """The rows as checked lines (:data:`LINE`), as :meth:`BatchChecker.check` gives them."""
        for group, start, end in self.runs:
            for i in range(start, end):
                yield (group, self.codes[i], self.keys[i], self.started[i], self.running[i], self.ended[i],
                       self.clients[i], self.units[i], self.place_days[i], self.unit_prices[i], self.values[i],
                       self.extra[i], ())


def _extra(get, fields) -> dict | None | bool:
    """A segment's plugin columns of a row as figures (None: none filled in), or False when one is
    not plainly in order (check_row reads it)."""
    extra = {}
    for name, required, _integer, minimum, maximum in fields:
        text = get(name)
        if not text:
            if required:
                return False
            continue
        if not (text.isdigit() and text.isascii()):
            return False
        number = int(text)
        if number < minimum or number > (maximum if maximum is not None else MAX_COUNT):
            return False
        extra[name] = Decimal(number)
    return extra or None


def checked_line(valued) -> tuple:
    """A :class:`~portal.realisation.rules.ValuedLine` (from check_row) as a checked line."""
    line = valued.line
    return (valued.group, line.trajectory_code, line.trajectory_code.upper(), line.started, line.running, line.ended,
            line.clients, line.units, line.place_days, valued.unit_price, valued.value, line.extra or None,
            valued.warnings)


__all__ = ["LINE", "BatchChecker", "CheckedColumns", "checked_line"]
