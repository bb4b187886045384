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
from typing import Any

from portal.money import CENT
from portal.realisation.rules import (
    MAX_CELL,
    MAX_COUNT,
    Line,
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

    __slots__ = ("facts", "group", "spec", "fields", "basis", "places", "prices", "plugin", "days")

    def __init__(self, facts, prices: dict, plugin: bool):
        self.facts = facts
        self.group = (facts.municipality.id, facts.segment_key, facts.period)
        self.spec = facts.spec
        self.fields = tuple((f.name, f.required, f.kind == "integer", f.minimum, f.maximum) for f in facts.spec.fields)
        self.basis = facts.basis
        self.places = facts.places
        self.prices = prices  # code (stripped, in capitals) → (price, unit price, capitals) or None
        self.plugin = plugin  # a plugin's check or extra value applies to every line
        self.days = facts.period.days


class BatchChecker:
    """Checks batches of rows of one import (see the module)."""

    def __init__(self, lookups):
        self.lookups = lookups
        self._trios: dict[tuple, _Trio | None] = {}
        self._prices: dict[tuple, dict] = {}
        self._plugin_checks = list(lookups.checks())
        self._contexts: dict[tuple, LineContext] = {}

    def _trio(self, key: tuple) -> _Trio | None:
        facts = trio_facts(self.lookups, key)
        if facts is None:
            return None
        spec = facts.spec
        prices = self._prices.setdefault((facts.segment_key, facts.period.code), {})
        plugin = bool(spec.check or spec.extra_value or self._plugin_checks)
        return _Trio(facts, prices, plugin)

    def _price(self, trio: _Trio, code: str):
        found = self.lookups.price(trio.facts.segment_key, trio.facts.period, code)
        if found is None:
            entry = None
        elif trio.basis == "places":
            entry = (found, found.place_day_price(trio.facts.period.year), found.code.upper())
        elif trio.basis == "units":
            entry = (found, found.unit_price, found.code.upper())
        else:
            entry = (found, found.price, found.code.upper())
        trio.prices[(trio.basis, code.upper())] = entry
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
            price = trio.prices.get((basis, code.upper()), _MISSING)
            if price is _MISSING:
                price = self._price(trio, code)
            if price is None:
                continue
            found, unit_price, capitals = price
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


__all__ = ["LINE", "BatchChecker", "checked_line"]
