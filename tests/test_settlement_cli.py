"""The CLI for finance staff: ``settle-preview FILE.json`` prints the settlement of a scenario as JSON
(refusals on stderr, exit code 2, nothing on stdout) and ``allocate-costs`` splits an amount over a
region's municipalities by the population key, reproducing 000 §9 on the demo region."""
from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from portal import db
from portal.models import Organisation, Region

GOOD = {
    "year": 2022,
    "rules": {"outside_band": "full", "band_scope": "municipality"},
    "agreements": [
        # inside the 5% band: the budget is settled; advances were the budget
        {"id": "B-in", "provider": "Zorggroep Maasland", "municipality": "Venlo", "segment": "s1", "kind": "budget",
         "budget": "100000.00", "advances_paid": "100000.00", "bandwidth": "0.05", "realisation": "97000.00"},
        # below the band, Dutch notation and a percentage: the realisation is settled, a repayment
        {"id": "B-out", "provider": "Zorggroep Maasland", "municipality": "Beesel", "segment": "s1", "kind": "budget",
         "budget": "1.000,00", "advances_paid": "1.000,00", "bandwidth": "5%", "realisation": "800,00",
         "ceiling": None, "places": ""},
        # a ceiling reached: the ceiling minus the payments made is an additional payment
        {"id": "C", "provider": "Thuishulp Venray", "municipality": "Venray", "segment": "s2", "kind": "ceiling",
         "ceiling": "5000", "payments_made": "4000.50", "realisation": "6000"},
        # population funding, default threshold 10%: 89.000 is below 90% of 100.000
        {"id": "P", "provider": "Thuishulp Venray", "municipality": "Venray", "segment": "s3", "kind": "population",
         "budget": "100000", "advances_paid": "100000", "realisation": "89000"},
        # 2 places in 2022 (365 days) at 36.500 per place-year; 30 empty place-days repaid at 100 a day
        {"id": "PL", "provider": "Zorggroep Maasland", "municipality": "Venlo", "segment": "s4", "kind": "places",
         "places": 2, "price_per_place_year": "36500.00", "occupied_place_days": "700", "advances_paid": "73000"},
    ],
}

EXPECTED = {  # id: (settled value, due, direction)
    "B-in": ("100000.00", "0.00", "none"),
    "B-out": ("800.00", "-200.00", "repayment"),
    "C": ("5000.00", "999.50", "additional_payment"),
    "P": ("89000.00", "-11000.00", "repayment"),
    "PL": ("70000.00", "-3000.00", "repayment"),
}


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def write(tmp_path, scenario, name="scenario.json") -> str:
    path = tmp_path / name
    path.write_text(scenario if isinstance(scenario, str) else json.dumps(scenario), encoding="utf-8")
    return str(path)


def test_a_good_scenario_prints_the_settlement_as_json(runner, tmp_path):
    result = runner.invoke(args=["settle-preview", write(tmp_path, GOOD)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    answer = json.loads(result.stdout)
    assert [a["id"] for a in answer["agreements"]] == list(EXPECTED)
    for agreement in answer["agreements"]:
        assert (agreement["settled_value"], agreement["due"], agreement["direction"]) == EXPECTED[agreement["id"]]
        assert agreement["explanation"] and all(isinstance(line, str) for line in agreement["explanation"])
    assert answer["totals"] == {"settled_value": "264800.00", "paid": "278000.50", "due": "-13200.50",
                                "additional_payments": "999.50", "repayments": "14200.00"}
    places = next(a for a in answer["agreements"] if a["id"] == "PL")
    assert any("365 dagen in 2022" in line for line in places["explanation"])


def test_the_rules_change_the_settlement(runner, tmp_path):
    scenario = copy.deepcopy(GOOD)
    scenario["rules"]["outside_band"] = "excess"  # only what lies beyond the band's edge: 800 + 5% of 1000
    answer = json.loads(runner.invoke(args=["settle-preview", write(tmp_path, scenario)]).stdout)
    assert next(a for a in answer["agreements"] if a["id"] == "B-out")["settled_value"] == "850.00"
    scenario["rules"] = {"band_scope": "region"}  # Maasland's s1 together: 97.800 of 101.000 lies in the band
    answer = json.loads(runner.invoke(args=["settle-preview", write(tmp_path, scenario)]).stdout)
    regional = {a["id"]: a["settled_value"] for a in answer["agreements"] if a["id"].startswith("B-")}
    assert sum(map(Decimal, regional.values())) == Decimal("101000.00")
    assert regional["B-out"] == "826.18"  # 101.000 × 800 ÷ 97.800, by share of realisation


def test_a_leap_year_has_366_days_for_places(runner, tmp_path):
    scenario = {"year": 2024, "agreements": [
        {"id": "PL", "provider": "P", "municipality": "M", "segment": "s", "kind": "places", "places": "1",
         "price_per_place_year": "36600", "occupied_place_days": 365, "advances_paid": "0"}]}
    answer = json.loads(runner.invoke(args=["settle-preview", write(tmp_path, scenario)]).stdout)
    assert answer["agreements"][0]["settled_value"] == "36500.00"  # one empty day of 366 at 100


def agreement_with(**changes) -> dict:
    scenario = copy.deepcopy(GOOD)
    target = scenario["agreements"][0]
    for name, value in changes.items():
        if value is ...:
            target.pop(name)
        else:
            target[name] = value
    return scenario


INVALID = [
    ("budget as a float", agreement_with(budget=100000.5), "B-in", "budget", "als tekst"),
    ("budget as a JSON integer", agreement_with(budget=100000), "B-in", "budget", "als tekst"),
    ("amount not a number", agreement_with(realisation="veel"), "B-in", "realisation", "geen bedrag"),
    ("negative amount", agreement_with(advances_paid="-5"), "B-in", "advances_paid", "negatief"),
    ("sub-cent amount", agreement_with(budget="10,005"), "B-in", "budget", "twee decimalen"),
    ("bandwidth as whole percent", agreement_with(bandwidth="5"), "B-in", "bandwidth", "5%"),
    ("bandwidth not a fraction", agreement_with(bandwidth="vijf"), "B-in", "bandwidth", "geen fractie"),
    ("missing required field", agreement_with(bandwidth=...), "B-in", "bandwidth", "verplicht"),
    ("unknown field", agreement_with(budgett="1"), "B-in", "budgett", "onbekend veld"),
    ("unknown kind", agreement_with(kind="lump_sum"), "B-in", "kind", "onbekende soort"),
    ("missing provider", agreement_with(provider=...), "B-in", "provider", "verplicht"),
    ("unused field not a number", agreement_with(ceiling="x"), "B-in", "ceiling", "geen bedrag"),
    ("duplicate id", agreement_with(id="C"), "C", "id", "twee keer"),
    ("missing id", agreement_with(id=...), "nr. 1", "id", "verplicht"),
    ("places as a float", {**GOOD, "agreements": [{**GOOD["agreements"][4], "places": 2.5}]}, "PL", "places",
     "geheel getal"),
    ("ambiguous thousands", agreement_with(realisation="10.005"), "B-in", "realisation", "dubbelzinnig"),
    ("advances on a ceiling", {**GOOD, "agreements": [{**GOOD["agreements"][2], "advances_paid": "100.00"}]}, "C",
     "advances_paid", "geen voorschotten"),
]


@pytest.mark.parametrize("scenario, agreement, field, words", [case[1:] for case in INVALID],
                         ids=[case[0] for case in INVALID])
def test_an_invalid_agreement_is_refused_naming_agreement_and_field(runner, tmp_path, scenario, agreement, field,
                                                                    words):
    result = runner.invoke(args=["settle-preview", write(tmp_path, scenario)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"overeenkomst '{agreement}'" in result.stderr and f"veld '{field}'" in result.stderr, result.stderr
    assert words in result.stderr


@pytest.mark.parametrize("scenario, field", [
    ({**GOOD, "year": "2022"}, "year"),
    ({key: value for key, value in GOOD.items() if key != "year"}, "year"),
    ({**GOOD, "rules": {"outside_band": "half"}}, "outside_band"),
    ({**GOOD, "rules": {"scope": "region"}}, "scope"),
    ({**GOOD, "agreements": []}, "agreements"),
    ({**GOOD, "extra": 1}, "extra"),
    ([GOOD], "scenario"),
])
def test_an_invalid_scenario_is_refused_naming_the_field(runner, tmp_path, scenario, field):
    result = runner.invoke(args=["settle-preview", write(tmp_path, scenario)])
    assert result.exit_code == 2 and result.stdout == ""
    assert f"veld '{field}'" in result.stderr, result.stderr


@pytest.mark.parametrize("content, words", [
    ('{"year": 2022, "agreements": [', "geen geldige JSON"),
    ('{"year": 2022, "year": 2023, "agreements": []}', "twee keer"),
    ("", "geen geldige JSON"),
])
def test_invalid_json_is_refused(runner, tmp_path, content, words):
    result = runner.invoke(args=["settle-preview", write(tmp_path, content)])
    assert result.exit_code == 2 and result.stdout == ""
    assert words in result.stderr


def test_an_unreadable_file_is_refused(runner, tmp_path):
    result = runner.invoke(args=["settle-preview", str(tmp_path / "bestaat-niet.json")])
    assert result.exit_code == 2 and result.stdout == ""
    assert "niet lezen: het bestand bestaat niet" in result.stderr
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    result = runner.invoke(args=["settle-preview", str(tmp_path / "binary.json")])
    assert result.exit_code == 2 and result.stdout == ""
    assert "geen tekst in UTF-8" in result.stderr
    result = runner.invoke(args=["settle-preview", str(tmp_path)])
    assert result.exit_code == 2 and result.stdout == "" and "een map" in result.stderr


def test_the_scenario_may_come_from_stdin(runner):
    result = runner.invoke(args=["settle-preview", "-"], input=json.dumps(GOOD))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["due"] == "-13200.50"


# --- allocate-costs ----------------------------------------------------------------------------

TABLE_2021 = {"Beesel": "10557.00", "Bergen (L)": "10234.00", "Gennep": "13244.00", "Horst aan de Maas": "33196.00",
              "Peel en Maas": "33992.00", "Venray": "34121.00", "Venlo": "79658.00"}
TABLE_2020 = {"Beesel": "10829.00", "Bergen (L)": "10498.00", "Gennep": "13586.00", "Horst aan de Maas": "34053.00",
              "Peel en Maas": "34869.00", "Venray": "35001.00", "Venlo": "81714.00"}
SHARES = {"Beesel": "4.91", "Bergen (L)": "4.76", "Gennep": "6.16", "Horst aan de Maas": "15.44",
          "Peel en Maas": "15.81", "Venray": "15.87", "Venlo": "37.05"}


def test_allocate_costs_on_the_demo_region_reproduces_the_table(runner, demo):
    from portal.demo import REGION_CODE

    result = runner.invoke(args=["allocate-costs", "215000", "--region", REGION_CODE, "--json"])
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {m["name"]: m["amount"] for m in answer["municipalities"]} == TABLE_2021
    assert {m["name"]: m["share_percentage"] for m in answer["municipalities"]} == SHARES
    assert answer["total"] == "215002.00" and answer["rounding_difference"] == "2.00"
    assert answer["residents_total"] == 274_733 and answer["shares_total"] == "100.00"
    assert {m["name"]: m["municipality_code"] for m in answer["municipalities"]}["Venlo"] == "0983"

    result = runner.invoke(args=["allocate-costs", "220.550", "--region", REGION_CODE, "--json"])
    answer = json.loads(result.stdout)
    assert {m["name"]: m["amount"] for m in answer["municipalities"]} == TABLE_2020
    assert answer["rounding_difference"] == "0.00"

    result = runner.invoke(args=["allocate-costs", "215.000,00", "--region", REGION_CODE, "--json",
                                 "--method", "exact"])
    answer = json.loads(result.stdout)
    assert answer["method"] == "exact" and answer["total"] == "215000.00" and answer["rounding_difference"] == "0.00"
    assert sum(Decimal(m["amount"]) for m in answer["municipalities"]) == 215_000

    # without --json: a table in Dutch, the rounding difference said out loud
    result = runner.invoke(args=["allocate-costs", "215000", "--region", REGION_CODE])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any(line.startswith("Venlo") and "101.797" in line and "37,05%" in line and "€ 79.658,00" in line
               for line in lines), result.stdout
    assert any(line.startswith("Totaal") and "€ 215.002,00" in line for line in lines)
    assert "Afrondingsverschil: € 2,00" in result.stdout


@pytest.fixture
def small_region(app):
    with app.app_context():
        session = db.session()
        region = Region(code="klein", name="Kleine regio")
        session.add(region)
        session.flush()
        session.add(Organisation(region_id=region.id, name="Aadorp", kind="municipality", residents=1,
                                 municipality_code="0001"))
        session.add(Organisation(region_id=region.id, name="Beedorp", kind="municipality", residents=2,
                                 municipality_code="0002"))
        session.add(Organisation(region_id=region.id, name="Oud", kind="municipality", residents=1000,
                                 is_active=False))
        session.add(Organisation(region_id=region.id, name="Aanbieder", kind="provider"))
        session.commit()
        return region.id


def test_allocate_costs_uses_active_municipalities_only(runner, small_region):
    result = runner.invoke(args=["allocate-costs", "100", "--region", "klein", "--json", "--method", "exact"])
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert [(m["name"], m["share_percentage"], m["amount"]) for m in answer["municipalities"]] == [
        ("Aadorp", "33.33", "33.00"), ("Beedorp", "66.67", "67.00")]


@pytest.mark.parametrize("arguments, words", [
    (["allocate-costs", "100", "--region", "nergens"], "geen regio met de code 'nergens'"),
    (["allocate-costs", "honderd", "--region", "klein"], "geen bedrag"),
    (["allocate-costs", "100,005", "--region", "klein"], "twee decimalen"),
])
def test_allocate_costs_refusals(runner, small_region, arguments, words):
    result = runner.invoke(args=arguments)
    assert result.exit_code == 2 and result.stdout == ""
    assert words in result.stderr


def test_allocate_costs_refuses_a_municipality_without_residents(app, runner, small_region):
    with app.app_context():
        session = db.session()
        session.add(Organisation(region_id=small_region, name="Cedorp", kind="municipality"))
        session.commit()
    result = runner.invoke(args=["allocate-costs", "100", "--region", "klein"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "inwonertal ontbreekt bij Cedorp" in result.stderr
