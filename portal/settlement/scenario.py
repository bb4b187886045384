"""A settlement scenario (JSON) read, checked and settled: the input of ``flask settle-preview`` and of
``POST /api/v1/settlement/preview``. The scenario is self-contained (nothing is looked up in the
database); the settling itself is :mod:`portal.settlement.engine`.

Shape::

    {"year": 2022, "rules": {"outside_band": "full", "band_scope": "municipality"},
     "agreements": [{"id": "A1", "provider": "…", "municipality": "…", "segment": "…", "kind": "budget",
                     "budget": "100000.00", "advances_paid": "100000.00", "bandwidth": "0.05",
                     "realisation": "90000.00"}]}

Reading rules (every refusal is a :class:`portal.settlement.engine.ScenarioError` naming the
agreement and the field):

* Amounts are strings: ``"1234.56"``, or as people type them in the Netherlands ``"1.234,56"``
  (:func:`portal.money.parse_amount`); at most two decimals, never negative; "10.005" (three digits
  after a dot, no comma) is refused as ambiguous. A JSON number is
  refused for an amount: a float cannot hold every cent exactly.
* ``bandwidth`` and ``threshold`` are fractions as strings, ``"0.05"``, or percentages ``"5%"``;
  between 0 and 1 (0% and 100%). ``"5"`` is refused with the hint to write ``"5%"`` or ``"0.05"``.
* ``places`` and ``occupied_place_days`` are counts: a JSON integer or a string (``"2.5"`` places
  is allowed).
* Per kind the fields it uses are required (``threshold`` of ``population`` defaults to 10%);
  fields a kind does not use may be left out, or be null or empty; given, they must still be
  readable numbers, but they do not count.
* Unknown fields are refused (a typo must not pass silently), at every level; so are duplicate keys
  in one JSON object (:func:`load_json`).
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from portal.money import CENT, parse_amount, to_cents
from portal.settlement import engine

MAX_AGREEMENTS = 10_000
TOP_FIELDS = ("year", "rules", "agreements")
RULE_FIELDS = ("outside_band", "band_scope")
NAME_FIELDS = ("id", "provider", "municipality", "segment", "kind")
AMOUNT_FIELDS = ("budget", "advances_paid", "realisation", "ceiling", "payments_made", "price_per_place_year")
FRACTION_FIELDS = ("bandwidth", "threshold")
COUNT_FIELDS = ("places", "occupied_place_days")
VALUE_FIELDS = AMOUNT_FIELDS + FRACTION_FIELDS + COUNT_FIELDS
REQUIRED = {
    "budget": ("budget", "advances_paid", "bandwidth", "realisation"),
    "population": ("budget", "advances_paid", "realisation"),
    "ceiling": ("ceiling", "payments_made", "realisation"),
    "places": ("places", "price_per_place_year", "occupied_place_days", "advances_paid"),
}
USED = {**REQUIRED, "population": (*REQUIRED["population"], "threshold")}


class ScenarioError(engine.ScenarioError):
    """The engine's error; ``agreement_id`` is None for a fault in the scenario outside the agreements."""

    def __init__(self, agreement_id: str | None, field_name: str, message: str):
        super().__init__(agreement_id, field_name, message)
        if agreement_id is None:
            self.args = (f"scenario, veld {field_name!r}: {message}",)


def _refuse_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"de sleutel {key!r} staat twee keer in één object")
        seen[key] = value
    return seen


def load_json(text: str | bytes):
    """Parse JSON exactly: numbers with a fraction become ``Decimal`` (never float, so they can be
    recognised and refused), a key twice in one object is an error. Raises ``ValueError``."""
    try:
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_refuse_duplicates)
    except RecursionError:
        raise ValueError("te diep genest") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"geen geldige JSON ({error.msg}, regel {error.lineno}, kolom {error.colno})") from None


# --- Values ------------------------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _amount(agreement_id: str, name: str, value) -> Decimal:
    if _is_number(value):
        raise ScenarioError(agreement_id, name, f"geef het bedrag als tekst, bijvoorbeeld \"{value}\" "
                                                "(geen JSON-getal: dat kan centen verliezen)")
    if not isinstance(value, str):
        raise ScenarioError(agreement_id, name, "geef het bedrag als tekst, bijvoorbeeld \"1234.56\"")
    text = value.strip()
    if "," not in text and "." in text and len(text.rsplit(".", 1)[1]) == 3:
        # "10.005" is ten thousand and five to a Dutch reader and ten euros to a machine: refuse
        raise ScenarioError(agreement_id, name, f"{value!r} is dubbelzinnig; schrijf \"10005.00\" of "
                                                "\"10.005,00\"")
    try:
        amount = parse_amount(value)
    except ValueError:
        raise ScenarioError(agreement_id, name, f"{value!r} is geen bedrag; schrijf bijvoorbeeld \"1234.56\" "
                                                "of \"1.234,56\"") from None
    if amount < 0:
        raise ScenarioError(agreement_id, name, "mag niet negatief zijn")
    if amount != amount.quantize(CENT):
        raise ScenarioError(agreement_id, name, "heeft hoogstens twee decimalen (hele centen)")
    return amount


def _fraction(agreement_id: str, name: str, value) -> Decimal:
    if _is_number(value):
        raise ScenarioError(agreement_id, name, "geef een fractie als tekst, bijvoorbeeld \"0.05\" of \"5%\"")
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(agreement_id, name, "geef een fractie als tekst, bijvoorbeeld \"0.05\" of \"5%\"")
    text = value.strip().replace(",", ".").replace(" ", "")
    percent = text.endswith("%")
    try:
        number = Decimal(text[:-1] if percent else text)
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise ScenarioError(agreement_id, name, f"{value!r} is geen fractie; schrijf bijvoorbeeld \"0.05\" "
                                                "of \"5%\"") from None
    fraction = number / 100 if percent else number
    if not Decimal(0) <= fraction <= Decimal(1):
        hint = (f"; bedoelt u \"{value.strip()}%\" ({number / 100})?" if not percent and 1 < number <= 100 else "")
        raise ScenarioError(agreement_id, name, f"is een fractie van 0 tot en met 1 (0.05 of 5%){hint}")
    return fraction


def _count(agreement_id: str, name: str, value) -> Decimal:
    if isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, str) and value.strip():
        try:
            number = parse_amount(value)
        except ValueError:
            raise ScenarioError(agreement_id, name, f"{value!r} is geen aantal") from None
    elif _is_number(value):
        raise ScenarioError(agreement_id, name, "geef een geheel getal, of een decimaal aantal als tekst (\"2.5\")")
    else:
        raise ScenarioError(agreement_id, name, "geef een aantal, bijvoorbeeld 12")
    if number < 0:
        raise ScenarioError(agreement_id, name, "mag niet negatief zijn")
    return number


READERS = {**{n: _amount for n in AMOUNT_FIELDS}, **{n: _fraction for n in FRACTION_FIELDS},
           **{n: _count for n in COUNT_FIELDS}}


# --- The scenario ------------------------------------------------------------------------------


def _unknown(agreement_id, data: dict, allowed) -> None:
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise ScenarioError(agreement_id, str(unknown[0]), f"onbekend veld; toegestaan: {', '.join(allowed)}")


def _year(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 2000 <= value <= 2100:
        raise ScenarioError(None, "year", "geef het jaar als geheel getal van 2000 tot en met 2100, bijvoorbeeld 2022")
    return value


def _rules(value) -> engine.Rules:
    if value is None:
        return engine.Rules()
    if not isinstance(value, dict):
        raise ScenarioError(None, "rules", "is een object met outside_band en band_scope")
    _unknown(None, value, RULE_FIELDS)
    outside_band = value.get("outside_band", "full")
    band_scope = value.get("band_scope", "municipality")
    if outside_band not in engine.OUTSIDE_BAND:
        raise ScenarioError(None, "outside_band", f"kies uit {', '.join(engine.OUTSIDE_BAND)}")
    if band_scope not in engine.BAND_SCOPES:
        raise ScenarioError(None, "band_scope", f"kies uit {', '.join(engine.BAND_SCOPES)}")
    return engine.Rules(outside_band=outside_band, band_scope=band_scope)


def _agreement(number: int, data) -> engine.Agreement:
    label = f"nr. {number}"  # until the id is known
    if not isinstance(data, dict):
        raise ScenarioError(label, "agreements", "elke overeenkomst is een object")
    raw_id = data.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise ScenarioError(label, "id", "verplicht: een niet-lege tekst")
    agreement_id = raw_id.strip()
    _unknown(agreement_id, data, (*NAME_FIELDS, *VALUE_FIELDS))
    names = {}
    for name in NAME_FIELDS[1:]:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(agreement_id, name, "verplicht: een niet-lege tekst")
        names[name] = value.strip()
    kind = names["kind"]
    if kind not in engine.KINDS:
        raise ScenarioError(agreement_id, "kind", f"onbekende soort {kind!r}; kies uit {', '.join(engine.KINDS)}")
    values = {}
    advances_on_ceiling = False
    for name in VALUE_FIELDS:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in REQUIRED[kind]:
                raise ScenarioError(agreement_id, name, f"verplicht bij soort {kind!r}")
            continue
        parsed = READERS[name](agreement_id, name, value)
        if name in USED[kind]:
            values[name] = parsed
        elif kind == "ceiling" and name == "advances_paid" and parsed:
            advances_on_ceiling = True
    if kind == "ceiling" and advances_on_ceiling:
        raise ScenarioError(agreement_id, "advances_paid", "een budgetplafond kent geen voorschotten; geef wat al "
                                                           "is betaald als payments_made")
    return engine.Agreement(id=agreement_id, **names, **values)


def parse(scenario) -> tuple[int, engine.Rules, list[engine.Agreement]]:
    """The year, rules and agreements of a scenario (a dict as read by :func:`load_json`)."""
    if not isinstance(scenario, dict):
        raise ScenarioError(None, "scenario", "het scenario is een JSON-object met year, rules en agreements")
    _unknown(None, scenario, TOP_FIELDS)
    if "year" not in scenario:
        raise ScenarioError(None, "year", "verplicht")
    year = _year(scenario["year"])
    rules = _rules(scenario.get("rules"))
    agreements = scenario.get("agreements")
    if not isinstance(agreements, list) or not agreements:
        raise ScenarioError(None, "agreements", "verplicht: een niet-lege lijst van overeenkomsten")
    if len(agreements) > MAX_AGREEMENTS:
        raise ScenarioError(None, "agreements", f"hoogstens {MAX_AGREEMENTS} overeenkomsten per scenario")
    return year, rules, [_agreement(number, data) for number, data in enumerate(agreements, start=1)]


def _money(value: Decimal) -> str:
    return f"{to_cents(value):.2f}"


def preview(scenario, adjustments=None) -> dict:
    """Settle a scenario; the answer of the CLI and the API, amounts as strings ("1234.56").
    The engine's own rules only, unless the caller passes ``adjustments`` (as for
    :func:`portal.settlement.engine.settle`): a scenario's names need not exist in the portal."""
    year, rules, agreements = parse(scenario)
    result = engine.settle(year, agreements, rules, adjustments)
    return {
        "year": year,
        "rules": {"outside_band": rules.outside_band, "band_scope": rules.band_scope},
        "agreements": [{"id": s.agreement.id, "provider": s.agreement.provider,
                        "municipality": s.agreement.municipality, "segment": s.agreement.segment,
                        "kind": s.agreement.kind, "settled_value": _money(s.settled_value),
                        "paid": _money(s.paid), "due": _money(s.due), "direction": s.direction,
                        "explanation": list(s.explanation)} for s in result.settlements],
        "totals": {name: _money(value) for name, value in result.totals.items()},
    }


__all__ = ["ScenarioError", "load_json", "parse", "preview", "MAX_AGREEMENTS"]
