"""The JSON API of issue 6: ``POST /api/v1/settlement/preview`` settles a self-contained scenario
(422 names the agreement and the field), ``GET /api/v1/cost-allocation`` splits an amount over the
token's region by the population key (providers 403); both in the OpenAPI document."""
from __future__ import annotations

import copy
import json

import pytest
from openapi_spec_validator import validate as validate_openapi

from tests.test_api import AUDITOR, CONTRACT_MANAGER, MAASLAND_ADMIN, VENLO, Api, _openapi, _validator
from tests.test_settlement_cli import EXPECTED, GOOD, SHARES, TABLE_2020, TABLE_2021

PREVIEW = "/api/v1/settlement/preview"


def post(api: Api, body, status: int):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    response = api.client.post(PREVIEW, data=data, content_type="application/json",
                               headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.json


@pytest.fixture
def spec(app):
    return _openapi(app)


@pytest.mark.parametrize("email", [MAASLAND_ADMIN, VENLO, CONTRACT_MANAGER, AUDITOR])
def test_every_token_may_preview_a_settlement(app, demo, spec, email):
    answer = post(Api(app, email), GOOD, 200)
    assert {a["id"]: (a["settled_value"], a["due"], a["direction"]) for a in answer["agreements"]} == EXPECTED
    assert answer["totals"]["due"] == "-13200.50"
    assert not list(_validator(spec, "SettlementPreview").iter_errors(answer))


def test_the_preview_needs_a_token(app):
    response = app.test_client().post(PREVIEW, json=GOOD)
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("change, agreement, field", [
    ({"budget": 100000.5}, "B-in", "budget"),
    ({"bandwidth": "5"}, "B-in", "bandwidth"),
    ({"surprise": "1"}, "B-in", "surprise"),
    ({"kind": "ceiling"}, "B-in", "ceiling"),  # a ceiling needs its ceiling
])
def test_an_invalid_agreement_answers_422_naming_agreement_and_field(app, demo, spec, change, agreement, field):
    scenario = copy.deepcopy(GOOD)
    scenario["agreements"][0].update(change)
    answer = post(Api(app, CONTRACT_MANAGER), scenario, 422)
    assert answer["error"]["code"] == "invalid"
    assert answer["error"]["agreement"] == agreement and answer["error"]["field"] == field
    assert agreement in answer["error"]["message"]
    assert not list(_validator(spec, "Error").iter_errors(answer))


def test_a_fault_outside_the_agreements_answers_422_without_an_agreement(app, demo, spec):
    answer = post(Api(app, CONTRACT_MANAGER), {**GOOD, "year": 1999}, 422)
    assert answer["error"]["field"] == "year" and "agreement" not in answer["error"]
    assert not list(_validator(spec, "Error").iter_errors(answer))


@pytest.mark.parametrize("body", ["{not json", "", '{"year": 2022, "year": 2022}'])
def test_a_body_that_is_no_json_answers_400(app, demo, body):
    answer = post(Api(app, CONTRACT_MANAGER), body, 400)
    assert "JSON" in answer["error"]["message"]


def test_a_json_array_is_no_scenario(app, demo):
    answer = post(Api(app, CONTRACT_MANAGER), [GOOD], 422)
    assert answer["error"]["field"] == "scenario"


def test_a_query_parameter_on_the_preview_is_refused(app, demo):
    api = Api(app, CONTRACT_MANAGER)
    response = api.client.post(PREVIEW + "?dry=1", json=GOOD, headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 400 and response.json["error"]["parameter"] == "dry"


# --- Cost allocation -------------------------------------------------------------------------


@pytest.mark.parametrize("email", [VENLO, CONTRACT_MANAGER, AUDITOR])
def test_municipalities_contract_managers_and_auditors_get_the_table(app, demo, spec, email):
    api = Api(app, email)
    answer = api.get("/cost-allocation", amount="215000")
    assert answer["method"] == "table" and answer["region"]["code"] == "noord-limburg"
    assert {m["name"]: m["amount"] for m in answer["municipalities"]} == TABLE_2021
    assert {m["name"]: m["share_percentage"] for m in answer["municipalities"]} == SHARES
    assert answer["total"] == "215002.00" and answer["rounding_difference"] == "2.00"
    assert not list(_validator(spec, "CostAllocation").iter_errors(answer))
    answer = api.get("/cost-allocation", amount="220550.00")
    assert {m["name"]: m["amount"] for m in answer["municipalities"]} == TABLE_2020


def test_the_exact_method_adds_up(app, demo, spec):
    answer = Api(app, VENLO).get("/cost-allocation", amount="215000", method="exact")
    assert answer["method"] == "exact" and answer["rounding_difference"] == "0.00"
    assert answer["total"] == "215000.00"
    assert not list(_validator(spec, "CostAllocation").iter_errors(answer))


@pytest.mark.parametrize("email", [MAASLAND_ADMIN, "medewerker@zorggroep-maasland.example"])
def test_providers_get_403(app, demo, email):
    answer = Api(app, email).get("/cost-allocation", status=403, amount="215000")
    assert answer["error"]["code"] == "forbidden"


@pytest.mark.parametrize("params, parameter", [
    ({}, "amount"),
    ({"amount": "veel"}, "amount"),
    ({"amount": "-5"}, "amount"),
    ({"amount": "1.001"}, "amount"),
    ({"amount": "100.000"}, "amount"),  # no guessing at Dutch thousands in the API
    ({"amount": "100\n"}, "amount"),
    ({"amount": "100", "method": "fair"}, "method"),
    ({"amount": "100", "region": "elders"}, "region"),
])
def test_bad_parameters_answer_400(app, demo, spec, params, parameter):
    answer = Api(app, CONTRACT_MANAGER).get("/cost-allocation", status=400, **params)
    assert answer["error"]["parameter"] == parameter
    assert not list(_validator(spec, "Error").iter_errors(answer))


def test_a_municipality_without_residents_answers_422(app, demo, spec):
    from sqlmodel import select

    from portal import db
    from portal.models import Organisation

    with app.app_context():
        session = db.session()
        gennep = session.exec(select(Organisation).where(Organisation.name == "Gennep")).one()
        gennep.residents = None
        session.commit()
    answer = Api(app, CONTRACT_MANAGER).get("/cost-allocation", status=422, amount="100")
    assert "Gennep" in answer["error"]["message"]
    assert not list(_validator(spec, "Error").iter_errors(answer))


# --- OpenAPI -----------------------------------------------------------------------------------


def test_the_openapi_document_describes_both_operations(app, spec):
    validate_openapi(spec)
    preview = spec["paths"]["/settlement/preview"]["post"]
    assert set(preview["responses"]) >= {"200", "400", "401", "422"}
    allocation = spec["paths"]["/cost-allocation"]["get"]
    assert set(allocation["responses"]) >= {"200", "400", "401", "403"}
    names = {spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"] for p in allocation["parameters"]}
    assert names == {"amount", "method"}
    scenario = _validator(spec, "SettlementScenario")
    assert not list(scenario.iter_errors(GOOD))
    bad = copy.deepcopy(GOOD)
    bad["agreements"][0]["budget"] = 100000.5  # the schema, like the API, refuses a float amount
    assert list(scenario.iter_errors(bad))
    bad["agreements"][0] = {**GOOD["agreements"][0], "surprise": "1"}
    assert list(scenario.iter_errors(bad))
