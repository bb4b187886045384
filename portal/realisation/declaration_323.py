"""Realisation from iJw / iWmo 323 declaration messages (DOMAIN.md §10).

A 323 message (JW323 or WMO323, version 3.x) declares per client the "Prestaties" of one provider
(AGB code in ``Afzender``) to one municipality (CBS code in ``Ontvanger``). This module reads one
as realisation: each Prestatie's ``ProductCode`` is mapped to a catalogue trajectory by the domain
plugins (``RealisationSpec.product_codes``), and the Prestaties are added up per municipality,
segment, period and trajectory into the rows every other way in produces, which then go through the
same checks and storage (:mod:`portal.realisation.importing`).

How a Prestatie counts:

* ``GeleverdVolume`` counts by how the segment is paid: where the region pays per trajectory,
  ``Eenheid`` 82/84 (pieces) adds to ``gestart``; where it pays by the unit, 01 (minutes, as hours
  ÷ 60), 04 (hours) or 16 (day parts of four hours) add to ``eenheden`` for an hour tariff and 14
  (etmaal) for a day tariff; where the municipality buys places, 14 adds to ``plekdagen``. Any other
  unit (83, euros, say) is refused for that Prestatie.
* A credit Prestatie (``DebetCredit`` C) subtracts its volume.
* ``lopend`` is the number of distinct allocations (``ToewijzingNummer``), and never less than
  ``gestart``; ``clienten`` the number of distinct clients.
* The product period must lie within one month; for a municipality that reports per quarter the
  month is counted in its quarter.

Citizen service numbers (BSN) are personal data: each is checked with the eleven-test and only a
keyed hash of it is kept in memory, to count distinct clients; it is never stored, logged or shown
(an error names the client by its position in the message). The XML is parsed with defusedxml
(no entities, no external references) as a stream, clearing each client once it is read.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from defusedxml.ElementTree import iterparse

from portal.realisation.files import FileRefused
from portal.realisation.rules import Period, RowError

ROOT = re.compile(r"^\{http://www\.istandaarden\.nl/(ijw|iwmo)/(\d+)_(\d+)/(jw|wmo)323/schema\}Bericht$")
HOURS = {"01": Decimal(1) / Decimal(60), "04": Decimal(1), "16": Decimal(4)}
DAYS = {"14": Decimal(1)}
PIECES = {"82", "84"}
MAX_PRESTATIES = 500_000


def eleven_test(bsn: str) -> bool:
    """The BSN eleven-test: 9 digits, Σ digit × (9, 8, …, 2, −1) divisible by 11, not all zeros."""
    if not (len(bsn) == 9 and bsn.isdigit()) or bsn == "000000000":
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(bsn, weights)) % 11 == 0


@dataclass
class _Key:
    first: int  # the first Prestatie counted in it (its row number in reports)
    started: Decimal = Decimal(0)
    units: Decimal = Decimal(0)
    has_units: bool = False
    place_days: Decimal = Decimal(0)
    has_place_days: bool = False
    allocations: set = field(default_factory=set)
    clients: set = field(default_factory=set)


@dataclass
class Parsed323:
    rows: list[tuple[int, dict]]
    errors: list[RowError]
    prestaties: int


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element, name: str):
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text(element, *path: str) -> str:
    node = element
    for name in path:
        node = _child(node, name) if node is not None else None
    return (node.text or "").strip() if node is not None and node.text else ""


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_323(path: Path, lookups, provider_agb: str | None) -> Parsed323:
    """Read a 323 message into realisation rows (see the module docstring); errors per Prestatie."""
    salt = secrets.token_bytes(16)  # the client hashes are useless outside this one reading
    errors: list[RowError] = []
    keys: dict[tuple, _Key] = {}
    municipality_code = ""
    number = 0
    client_number = 0
    root_seen = False
    try:
        for event, element in iterparse(str(path), events=("start", "end")):
            name = _local(element.tag)
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if not ROOT.match(element.tag):
                        raise FileRefused("Dit XML-bestand is geen iJw- of iWmo-declaratiebericht (323).")
                continue
            if name == "Header":
                sender = _text(element, "Afzender")
                municipality_code = _text(element, "Ontvanger")
                if provider_agb and sender and sender != provider_agb:
                    raise FileRefused(f"Dit bericht komt van AGB-code {sender}, niet van uw organisatie "
                                      f"({provider_agb}).")
                element.clear()
            elif name == "Client":
                client_number += 1
                bsn = _text(element, "Bsn")
                client_ok = eleven_test(bsn)
                client_hash = hashlib.blake2b(bsn.encode(), key=salt, digest_size=16).digest()
                bsn = ""  # not kept beyond this point
                prestaties = _child(element, "Prestaties")
                for prestatie in (prestaties if prestaties is not None else ()):
                    if _local(prestatie.tag) != "Prestatie":
                        continue
                    number += 1
                    if number > MAX_PRESTATIES:
                        raise FileRefused(f"Het bericht heeft meer dan {MAX_PRESTATIES:,} prestaties; "
                                          f"splits het.".replace(",", "."))
                    if not client_ok:
                        errors.append(RowError(number, "Bsn", f"Het BSN van cliënt {client_number} in het "
                                                              f"bericht voldoet niet aan de elfproef."))
                        continue
                    _add(prestatie, number, client_hash, municipality_code, lookups, keys, errors)
                element.clear()
    except FileRefused:
        raise
    except Exception as problem:  # ParseError, defusedxml's EntitiesForbidden / DTDForbidden, ...
        raise FileRefused(f"Het XML-bericht kan niet worden gelezen ({type(problem).__name__}).") from None
    if not root_seen:
        raise FileRefused("Het bestand is leeg.")
    if number == 0 and not errors:
        raise FileRefused("Het bericht bevat geen prestaties.")
    rows = []
    for (gemeente, segment, period, code), key in keys.items():
        row = {"gemeente": gemeente, "segment": segment, "periode": period.code, "traject": code,
               "gestart": str(key.started), "lopend": str(max(Decimal(len(key.allocations)), key.started)),
               "beeindigd": "0", "clienten": str(len(key.clients))}
        if key.has_units:
            row["eenheden"] = str(key.units.quantize(Decimal("0.01")))
        if key.has_place_days:
            row["plekdagen"] = str(key.place_days)
        rows.append((key.first, row))
    rows.sort(key=lambda item: item[0])
    return Parsed323(rows=rows, errors=errors, prestaties=number)


def _add(prestatie, number: int, client_hash: bytes, municipality_code: str, lookups, keys, errors) -> None:
    product = _text(prestatie, "ProductCode").upper()
    mapped = lookups.product_code(product)
    if mapped is None:
        errors.append(RowError(number, "ProductCode", f"Productcode '{product[:10]}' hoort bij geen traject "
                                                      f"in de catalogus van de regio."))
        return
    segment_key, code = mapped
    begin = _date(_text(prestatie, "ProductPeriode", "Begindatum"))
    end = _date(_text(prestatie, "ProductPeriode", "Einddatum")) or begin
    if begin is None or end is None or end < begin:
        errors.append(RowError(number, "ProductPeriode", "De productperiode heeft geen geldige begin- en "
                                                         "einddatum."))
        return
    if (begin.year, begin.month) != (end.year, end.month):
        errors.append(RowError(number, "ProductPeriode", "Een prestatie moet binnen één kalendermaand vallen."))
        return
    municipality = lookups.municipality(municipality_code) if municipality_code else None
    if municipality is None:
        errors.append(RowError(number, "Ontvanger", f"Gemeentecode '{municipality_code[:8]}' is geen gemeente "
                                                    f"van deze regio."))
        return
    period = Period(begin.year, "month", begin.month)
    if lookups.reporting_kind(municipality, segment_key) == "quarter":
        period = Period(begin.year, "quarter", (begin.month - 1) // 3 + 1)
    try:
        volume = Decimal(_text(prestatie, "GeleverdVolume"))
    except InvalidOperation:
        errors.append(RowError(number, "GeleverdVolume", "Het geleverde volume is geen geheel getal."))
        return
    if volume != volume.to_integral_value() or volume < 0:
        errors.append(RowError(number, "GeleverdVolume", "Het geleverde volume is geen geheel getal van 0 of meer."))
        return
    if _text(prestatie, "IngediendBedrag", "DebetCredit").upper() == "C":
        volume = -volume
    unit = _text(prestatie, "Eenheid")
    buys_places, _places = lookups.buys_places(municipality, segment_key, period.start)
    basis = "places" if buys_places else lookups.spec(segment_key).basis
    price = lookups.price(segment_key, period, code)
    tariff_unit = price.unit if price is not None else None
    column = None
    if basis == "trajectory" and unit in PIECES:
        column, amount = "started", volume
    elif basis == "places" and unit in DAYS:
        column, amount = "place_days", volume
    elif basis == "units" and unit in HOURS and tariff_unit in (None, "uur"):
        column, amount = "units", volume * HOURS[unit]
    elif basis == "units" and unit in DAYS and tariff_unit in (None, "dag"):
        column, amount = "units", volume
    if column is None:
        expected = {"trajectory": "stuks (82 of 84): hier betaalt de regio per traject",
                    "places": "etmalen (14): de gemeente koopt hier plekken",
                    "units": f"de eenheid van het tarief ({tariff_unit or 'onbekend'})"}[basis]
        errors.append(RowError(number, "Eenheid", f"Eenheid '{unit[:4]}' past niet bij traject {code}; "
                                                  f"verwacht: {expected}."))
        return
    key = keys.setdefault((municipality.code or municipality.name, segment_key, period, code), _Key(first=number))
    if column == "started":
        key.started += amount
    elif column == "place_days":
        key.place_days += amount
        key.has_place_days = True
    else:
        key.units += amount
        key.has_units = True
    key.allocations.add(_text(prestatie, "ToewijzingNummer"))
    key.clients.add(client_hash)
