"""The JSON API under /api/v1: scoped exactly like the screens (a provider's token sees its own
agreements only, a municipality's the agreements with that municipality, a contract manager's the
region), amounts as decimal strings, JSON errors, paging, and an OpenAPI document that covers
every route and matches the real answers.

The test data is made here with the models, in a small region of its own (the demo region is not
loaded), so the assertions are exact.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from sqlmodel import select

from portal import db
from portal.accounts import api_tokens
from portal.api.errors import from_exception
from portal.models import (
    BowWaveEvaluation,
    BudgetAgreement,
    CareForm,
    FrameworkAgreement,
    FrameworkSegment,
    Membership,
    Organisation,
    Region,
    StandardTrajectory,
    Surcharge,
    SurchargeQualification,
    Tariff,
    TariffVersion,
    User,
)

YEAR = 2031
MAASLAND_ADMIN = "beheer@zorggroep-maasland.example"
THUISHULP_ADMIN = "beheer@thuishulp-venray.example"
PEEL_EN_MAAS_ADMIN = "beheer@jeugdhulp-peelenmaas.example"
VENLO = "medewerker@venlo.example"
CONTRACT_MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"


def small_region(session) -> dict[str, Organisation]:
    """A small region of our own (no passwords: tokens need none), quicker than the demo."""
    region = Region(code="test-noord", name="Testregio Noord")
    session.add(region)
    session.flush()
    org = {}
    for name, kind, extra in (
            ("Zorggroep Maasland", "provider", {"kvk_number": "61234567", "agb_code": "73730101"}),
            ("Stichting Jeugdhulp Peel en Maas", "provider", {"kvk_number": "62345678", "agb_code": "75750202"}),
            ("Thuishulp Venray", "provider", {"kvk_number": "64567890", "agb_code": "73730404"}),
            ("Venlo", "municipality", {"municipality_code": "0983", "residents": 101_797}),
            ("Beesel", "municipality", {"municipality_code": "0889", "residents": 13_483}),
            ("MGR", "purchasing_office", {}),
            ("Accountantsdienst", "auditor", {})):
        org[name] = Organisation(region_id=region.id, name=name, kind=kind, **extra)
        session.add(org[name])
    session.flush()
    for email, organisation, role in (
            (MAASLAND_ADMIN, "Zorggroep Maasland", "provider_admin"),
            (PEEL_EN_MAAS_ADMIN, "Stichting Jeugdhulp Peel en Maas", "provider_admin"),
            (THUISHULP_ADMIN, "Thuishulp Venray", "provider_admin"),
            (VENLO, "Venlo", "municipality_user"),
            (CONTRACT_MANAGER, "MGR", "contract_manager"),
            (AUDITOR, "Accountantsdienst", "auditor")):
        user = User(email=email, name=email.split("@")[0])
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, organisation_id=org[organisation].id, role=role))
    session.flush()
    return org


@pytest.fixture
def data(app):
    """Agreements of three providers and another region, and a small catalogue; returns ids."""
    with app.app_context():
        session = db.session()
        org = small_region(session)
        region_id = org["Zorggroep Maasland"].region_id
        maasland, peel, thuishulp = (org["Zorggroep Maasland"], org["Stichting Jeugdhulp Peel en Maas"],
                                     org["Thuishulp Venray"])
        venlo, beesel = org["Venlo"], org["Beesel"]

        def framework(provider, reference, domain, lot, segments, **terms):
            agreement = FrameworkAgreement(
                region_id=provider.region_id, organisation_id=provider.id, reference=reference,
                domain=domain, lot=lot, contract_form=terms.pop("contract_form", "d"),
                start_date=terms.pop("start_date", date(2022, 1, 1)), initial_years=terms.pop("initial_years", 3),
                extension_options=terms.pop("extension_options", [1, 1]), **terms)
            session.add(agreement)
            session.flush()
            for key in segments:
                session.add(FrameworkSegment(framework_agreement_id=agreement.id, segment_key=key))
            return agreement

        fa_maasland = framework(maasland, "TEST-RO-MAASLAND", "jeugd", "regional", ["jeugd.S3", "jeugd.S4"],
                                extensions_used=1)
        fa_maasland_bow = framework(maasland, "TEST-RO-MAASLAND-PW", "participatie", "regional",
                                    ["participatie.S3"], extension_options=[3, 3], bow_wave=True)
        fa_peel = framework(peel, "TEST-RO-PEEL", "jeugd", "regional", ["jeugd.S4"])
        fa_thuishulp = framework(thuishulp, "TEST-RO-THUISHULP", "wmo", "local", ["wmo.S3a"],
                                 terminated_on=date(2023, 6, 30))
        for year, good in ((2022, True), (2023, False), (2024, True)):
            session.add(BowWaveEvaluation(framework_agreement_id=fa_maasland_bow.id, year=year, satisfactory=good,
                                          end_before=date(2024, 12, 31), end_after=date(2025, 12, 31)))

        def budget(provider, municipality, framework_agreement, segment, year, kind, amount, **extra):
            agreement = BudgetAgreement(
                region_id=provider.region_id, organisation_id=provider.id, municipality_id=municipality.id,
                framework_agreement_id=framework_agreement.id, segment_key=segment, year=year, kind=kind,
                amount=Decimal(amount), **extra)
            session.add(agreement)
            session.flush()
            return agreement

        ba_maasland_venlo = budget(maasland, venlo, fa_maasland, "jeugd.S3", YEAR, "budget", "1000000.01",
                                   bandwidth_percentage=Decimal("5.00"), advance_installments=12)
        ba_maasland_beesel = budget(maasland, beesel, fa_maasland, "jeugd.S3", YEAR, "ceiling", "250000.00")
        ba_peel_venlo = budget(peel, venlo, fa_peel, "jeugd.S4", YEAR, "budget", "500000.00",
                               bandwidth_percentage=Decimal("0.00"), advance_installments=4)
        ba_peel_beesel = budget(peel, beesel, fa_peel, "jeugd.S4", YEAR + 1, "budget", "120000.00",
                                advance_installments=1)

        other_region = Region(code="test-elders", name="Elders")
        session.add(other_region)
        session.flush()
        stranger = Organisation(region_id=other_region.id, kind="provider", name="Zorg Elders",
                                kvk_number="79999999", agb_code="79999999")
        session.add(stranger)
        session.flush()
        fa_stranger = framework(stranger, "TEST-RO-ELDERS", "jeugd", "regional", ["jeugd.S4"])

        care_form = CareForm(region_id=region_id, segment_key="wmo.S1a", code="TST-BG", name="Begeleiding test")
        tariff = Tariff(region_id=region_id, code="TST-UUR", name="Begeleiding per uur (test)", unit="hour")
        tariff_without_rate = Tariff(region_id=region_id, code="TST-GEEN", name="Tarief zonder versie", unit="hour")
        session.add_all([care_form, tariff, tariff_without_rate])
        session.flush()
        session.add(TariffVersion(tariff_id=tariff.id, valid_from=date(YEAR, 1, 1), unit_rate=Decimal("65.00")))
        surcharge = Surcharge(region_id=region_id, code="TST-ZW", name="Zwaarte (test)", percentage=Decimal("10.000"),
                              valid_from=date(YEAR, 1, 1))
        session.add(surcharge)
        session.flush()
        session.add(SurchargeQualification(surcharge_id=surcharge.id, organisation_id=maasland.id))
        priced = StandardTrajectory(region_id=region_id, year=YEAR, segment_key="wmo.S1a", care_form_id=care_form.id,
                                    code="TST-1", name="Begeleiding licht", expertise="hbo",
                                    intensity=Decimal("2.00"), intensity_period="week", duration_months=6,
                                    tariff_id=tariff.id)
        unpriced = StandardTrajectory(region_id=region_id, year=YEAR, segment_key="wmo.S1a",
                                      care_form_id=care_form.id, code="TST-2", name="Zonder tarief",
                                      expertise="mbo", intensity=Decimal("1.00"), intensity_period="month",
                                      duration_months=12, tariff_id=tariff_without_rate.id)
        session.add_all([priced, unpriced])
        session.commit()
        return {
            "fa_maasland": fa_maasland.id, "fa_maasland_bow": fa_maasland_bow.id, "fa_peel": fa_peel.id,
            "fa_thuishulp": fa_thuishulp.id, "fa_stranger": fa_stranger.id,
            "ba_maasland_venlo": ba_maasland_venlo.id, "ba_maasland_beesel": ba_maasland_beesel.id,
            "ba_peel_venlo": ba_peel_venlo.id, "ba_peel_beesel": ba_peel_beesel.id,
            "priced": priced.id, "unpriced": unpriced.id,
            "maasland": maasland.id, "venlo": venlo.id,
        }


class Api:
    """A test client that sends one token as a bearer header."""

    def __init__(self, app, email: str):
        with app.app_context():
            session = db.session()
            user = session.exec(select(User).where(User.email == email)).one()
            _row, self.token = api_tokens.create_token(user, api_tokens.membership_for(user), "test")
            session.commit()
        self.client = app.test_client()

    def get(self, path: str, status: int = 200, **params):
        response = self.client.get(f"/api/v1{path}", query_string=params,
                                   headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.mimetype == "application/json"
        return response.json

    def ids(self, path: str, **params) -> set[int]:
        return {item["id"] for item in self.get(path, per_page=100, **params)["data"]}


def test_a_providers_token_sees_only_its_own_agreements(app, data):
    api = Api(app, MAASLAND_ADMIN)
    frameworks = api.get("/framework-agreements", per_page=100)["data"]
    assert {f["provider"]["id"] for f in frameworks} == {data["maasland"]}
    assert {f["id"] for f in frameworks} == {data["fa_maasland"], data["fa_maasland_bow"]}
    budgets = api.get("/budget-agreements", per_page=100)["data"]
    assert {b["provider"]["id"] for b in budgets} == {data["maasland"]}
    assert {b["id"] for b in budgets} == {data["ba_maasland_venlo"], data["ba_maasland_beesel"]}
    assert api.get(f"/framework-agreements/{data['fa_maasland']}")["reference"] == "TEST-RO-MAASLAND"
    assert api.get(f"/budget-agreements/{data['ba_maasland_venlo']}")["amount"] == "1000000.01"
    for path in (f"/framework-agreements/{data['fa_peel']}", f"/framework-agreements/{data['fa_stranger']}",
                 f"/budget-agreements/{data['ba_peel_venlo']}", "/budget-agreements/999999"):
        assert api.get(path, status=404)["error"]["code"] == "not_found", path


def test_a_municipalitys_token_sees_the_agreements_with_its_municipality_only(app, data):
    api = Api(app, VENLO)
    budgets = api.get("/budget-agreements", per_page=100)["data"]
    assert {b["municipality"]["id"] for b in budgets} == {data["venlo"]}
    assert {b["id"] for b in budgets} == {data["ba_maasland_venlo"], data["ba_peel_venlo"]}
    assert api.get(f"/budget-agreements/{data['ba_peel_venlo']}")["municipality"]["municipality_code"] == "0983"
    assert api.get(f"/budget-agreements/{data['ba_maasland_beesel']}", status=404)["error"]["code"] == "not_found"
    # As on the screens, framework agreements are not for municipalities.
    for path in ("/framework-agreements", f"/framework-agreements/{data['fa_maasland']}"):
        error = api.get(path, status=403)["error"]
        assert error["code"] == "forbidden" and "medewerker gemeente" in error["message"]


@pytest.mark.parametrize("email", [CONTRACT_MANAGER, AUDITOR])
def test_region_readers_tokens_see_the_whole_region_and_nothing_else(app, data, email):
    api = Api(app, email)
    frameworks = api.ids("/framework-agreements")
    assert frameworks == {data["fa_maasland"], data["fa_maasland_bow"], data["fa_peel"], data["fa_thuishulp"]}
    api.get(f"/framework-agreements/{data['fa_stranger']}", status=404)
    assert api.ids("/budget-agreements", year=YEAR) == {
        data["ba_maasland_venlo"], data["ba_maasland_beesel"], data["ba_peel_venlo"]}


def test_budget_agreement_filters(app, data):
    api = Api(app, CONTRACT_MANAGER)
    assert api.ids("/budget-agreements", year=YEAR + 1) == {data["ba_peel_beesel"]}
    assert api.ids("/budget-agreements", year=YEAR, municipality="0983") == {
        data["ba_maasland_venlo"], data["ba_peel_venlo"]}
    assert api.ids("/budget-agreements", year=YEAR, segment="jeugd.S4") == {data["ba_peel_venlo"]}
    assert api.ids("/budget-agreements", year=YEAR, segment="jeugd.S4", municipality="0889") == set()
    for params, parameter in (({"municipality": "Venlo"}, "municipality"), ({"segment": "jeugd.S99"}, "segment"),
                              ({"year": "twintig"}, "year"), ({"jaar": "2031"}, "jaar")):
        error = api.get("/budget-agreements", status=400, **params)["error"]
        assert error["code"] == "bad_request" and error["parameter"] == parameter and error["message"]


def test_amounts_are_decimal_strings_and_dates_iso(app, data):
    api = Api(app, CONTRACT_MANAGER)
    budget = api.get(f"/budget-agreements/{data['ba_maasland_venlo']}")
    assert budget["amount"] == "1000000.01" and budget["bandwidth_percentage"] == "5.00"
    assert budget["kind"] == "budget" and budget["year"] == YEAR and budget["segment"] == "jeugd.S3"
    advances = [Decimal(a["amount"]) for a in budget["advances"]]
    assert len(advances) == 12 and sum(advances) == Decimal("1000000.01")
    assert budget["advances"][0] == {"number": 1, "amount": "83333.34"}
    assert datetime.fromisoformat(budget["created_at"]).tzinfo is not None
    ceiling = api.get(f"/budget-agreements/{data['ba_maasland_beesel']}")
    assert ceiling["advances"] == [] and ceiling["bandwidth_percentage"] is None

    framework = api.get(f"/framework-agreements/{data['fa_maasland']}")
    # 3 years from 1-1-2022 plus one extension year of 1
    assert framework["start_date"] == "2022-01-01" and framework["end_date"] == "2025-12-31"
    assert framework["extension_options"] == [1, 1] and framework["extensions_used"] == 1
    assert [s["key"] for s in framework["segments"]] == ["jeugd.S3", "jeugd.S4"]
    assert framework["provider"] == {"id": data["maasland"], "name": "Zorggroep Maasland", "agb_code": "73730101"}
    terminated = api.get(f"/framework-agreements/{data['fa_thuishulp']}")
    assert terminated["status"] == "terminated" and terminated["terminated_on"] == "2023-06-30"


def test_bow_wave_years_count_the_satisfactory_evaluations(app, data):
    api = Api(app, MAASLAND_ADMIN)
    framework = api.get(f"/framework-agreements/{data['fa_maasland_bow']}")
    assert framework["bow_wave"] is True and framework["bow_wave_years_earned"] == 2
    assert framework["end_date"] == "2026-12-31"  # 1-1-2022 + 3 years + 2 earned − 1 day
    assert [(e["year"], e["satisfactory"]) for e in framework["bow_wave_evaluations"]] == [
        (2022, True), (2023, False), (2024, True)]


def test_catalogue_prices_include_the_providers_own_surcharges(app, data):
    def trajectory(email, code):
        items = Api(app, email).get("/catalogue", year=YEAR, segment="wmo.S1a", per_page=100)["data"]
        return next(item for item in items if item["code"] == code)

    plain = trajectory(CONTRACT_MANAGER, "TST-1")
    # € 65 per hour × 2 hours a week × 6 months × 52/12 weeks a month
    assert plain["price"]["total"] == "3380.00" and len(plain["price"]["lines"]) == 1
    assert plain["surcharges_included"] is False
    assert plain["care_form"]["code"] == "TST-BG" and plain["intensity"] == "2.00"
    assert plain["duration_months"] == 6 and plain["intensity_period"] == "week"
    assert plain["tariff"] == {"code": "TST-UUR", "name": "Begeleiding per uur (test)", "unit": "hour",
                               "unit_rate": "65.00"}
    with_surcharge = trajectory(MAASLAND_ADMIN, "TST-1")
    assert with_surcharge["surcharges_included"] is True
    assert with_surcharge["price"]["total"] == "3718.00"
    assert [(line["label"], line["amount"]) for line in with_surcharge["price"]["lines"][1:]] == [
        ("Opslag Zwaarte (test) (10%)", "338.00")]
    assert trajectory(THUISHULP_ADMIN, "TST-1")["price"]["total"] == "3380.00"  # does not qualify

    unpriced = trajectory(CONTRACT_MANAGER, "TST-2")
    assert unpriced["price"] is None and str(YEAR) in unpriced["price_note"]
    assert Api(app, VENLO).get("/catalogue", year=YEAR, segment="wmo.S1a")["total"] == 2
    Api(app, VENLO).get("/catalogue", status=400, year="1800")


def test_paging_never_moves_past_the_end(app, data):
    api = Api(app, CONTRACT_MANAGER)
    first = api.get("/budget-agreements", year=YEAR, per_page=2)
    assert first["total"] == 3 and first["pages"] == 2 and len(first["data"]) == 2
    assert first["links"]["previous"] is None
    assert first["links"]["next"].startswith("/api/v1/budget-agreements?")
    second = api.client.get(first["links"]["next"], headers={"Authorization": f"Bearer {api.token}"}).json
    assert second["page"] == 2 and len(second["data"]) == 1 and second["links"]["next"] is None
    assert {b["id"] for b in first["data"] + second["data"]} == api.ids("/budget-agreements", year=YEAR)
    beyond = api.get("/budget-agreements", year=YEAR, per_page=2, page=9)
    assert beyond["data"] == [] and beyond["page"] == 9 and beyond["total"] == 3
    for params in ({"per_page": 101}, {"per_page": 0}, {"page": 0}, {"page": "een"}):
        assert api.get("/budget-agreements", status=400, **params)["error"]["code"] == "bad_request"


def test_errors_are_json_never_html(app, data):
    api = Api(app, CONTRACT_MANAGER)
    headers = {"Authorization": f"Bearer {api.token}"}
    for path, status in (("/api/v1/bestaat-niet", 404), ("/api/v1/framework-agreements/abc", 404),
                         ("/api/v1/catalogue/", 404)):
        response = api.client.get(path, headers=headers)
        assert response.status_code == status and response.json["error"]["code"] == "not_found", path
    refused = api.client.post("/api/v1/catalogue", headers=headers)
    assert refused.status_code == 405 and refused.json["error"]["code"] == "method_not_allowed"
    assert "GET" in refused.headers["Allow"]
    anonymous = app.test_client().get("/api/v1/bestaat-niet")
    assert anonymous.mimetype == "application/json" and "<html" not in anonymous.get_data(as_text=True)
    with app.test_request_context("/api/v1/catalogue"):
        crash = from_exception(RuntimeError("boom"))
        assert crash.status_code == 500 and "boom" not in crash.get_data(as_text=True)


def test_no_float_anywhere_in_the_answers(app, data):
    api = Api(app, CONTRACT_MANAGER)

    def floats(value):
        if isinstance(value, float):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from floats(item)
        elif isinstance(value, list):
            for item in value:
                yield from floats(item)

    for path, params in (("/catalogue", {"year": YEAR}), ("/framework-agreements", {}),
                         ("/budget-agreements", {}), (f"/budget-agreements/{data['ba_peel_venlo']}", {})):
        raw = api.client.get(f"/api/v1{path}", query_string=params,
                             headers={"Authorization": f"Bearer {api.token}"}).get_data(as_text=True)
        assert list(floats(json.loads(raw))) == [], path


# --- OpenAPI -----------------------------------------------------------------------------------


def _openapi(app) -> dict:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def test_openapi_document_is_valid_and_describes_every_api_route(app):
    spec = _openapi(app)
    validate_openapi(spec)
    assert spec["openapi"].startswith("3.1") and spec["servers"] == [{"url": "/api/v1"}]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"]}
    assert spec["security"] == [{"bearerAuth": []}]
    api_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]
    assert len(api_rules) >= 6
    documented = set()
    for rule in api_rules:
        path = rule.rule.removeprefix("/api/v1")
        for argument in rule.arguments:
            path = path.replace(f"<int:{argument}>", f"{{{argument}}}").replace(f"<{argument}>", f"{{{argument}}}")
        assert path in spec["paths"], f"{rule.rule} is not in the OpenAPI document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = spec["paths"][path].get(method.lower())
            assert operation is not None, f"{method} {path} is not in the OpenAPI document"
            documented_parameters = {p["$ref"].rsplit("/", 1)[1] if "$ref" in p else p["name"]
                                     for p in operation.get("parameters", [])}
            path_parameters = {spec["components"]["parameters"][name]["name"] for name in documented_parameters
                               if spec["components"]["parameters"][name]["in"] == "path"}
            assert path_parameters == set(rule.arguments), path
            documented.add(path)
    assert documented == set(spec["paths"]), "the document names paths the app does not have"


def _validator(spec: dict, schema_name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]},
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_real_answers_match_the_openapi_schemas(app, data):
    spec = _openapi(app)
    provider, manager = Api(app, MAASLAND_ADMIN), Api(app, CONTRACT_MANAGER)
    answers = [
        ("CatalogueItemList", provider.get("/catalogue", year=YEAR)),
        ("CatalogueItemList", manager.get("/catalogue", year=YEAR)),
        ("FrameworkAgreementList", manager.get("/framework-agreements", per_page=100)),
        ("FrameworkAgreementDetail", manager.get(f"/framework-agreements/{data['fa_maasland_bow']}")),
        ("FrameworkAgreementDetail", manager.get(f"/framework-agreements/{data['fa_thuishulp']}")),
        ("BudgetAgreementList", manager.get("/budget-agreements", per_page=100)),
        ("BudgetAgreement", manager.get(f"/budget-agreements/{data['ba_maasland_beesel']}")),
        ("Error", provider.get(f"/budget-agreements/{data['ba_peel_venlo']}", status=404)),
        ("Error", provider.get("/budget-agreements", status=400, per_page=500)),
        ("Error", app.test_client().get("/api/v1/catalogue").json),
        ("Error", Api(app, VENLO).get("/framework-agreements", status=403)),
    ]
    for schema_name, answer in answers:
        errors = sorted(_validator(spec, schema_name).iter_errors(answer), key=str)
        assert not errors, f"{schema_name}: {errors[0].message} at {list(errors[0].absolute_path)}"
    # and the schemas are strict enough to notice a float or an unknown field
    budget = manager.get(f"/budget-agreements/{data['ba_maasland_venlo']}")
    assert list(_validator(spec, "BudgetAgreement").iter_errors({**budget, "amount": 1000000.01}))
    assert list(_validator(spec, "BudgetAgreement").iter_errors({**budget, "surprise": 1}))


def test_every_api_answer_is_uncacheable_and_cookie_free(app, data):
    api = Api(app, MAASLAND_ADMIN)
    response = api.client.get("/api/v1/budget-agreements", headers={"Authorization": f"Bearer {api.token}"})
    assert response.headers["Cache-Control"] == "no-store"
    assert "Authorization" in response.headers["Vary"]
    assert "Set-Cookie" not in response.headers
