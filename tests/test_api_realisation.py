"""The realisation endpoints of the JSON API: a provider's system posts rows (all or nothing, the
same checks as a file), everybody reads the reports its organisation may see, and the answers
match the OpenAPI document. On the demo region, for the month on the clock: it has begun and the
demo's realisation (up to last month) leaves it free."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal import db
from portal.models import Organisation
from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload
from tests.dates import RUN_DATE, month, this_year, today
from tests.test_api import Api, _openapi, _validator

PROVIDER = "beheer@zorggroep-maasland.example"
OTHER_PROVIDER = "beheer@thuishulp-venray.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
VENLO = "medewerker@venlo.example"


def this_month() -> str:
    """The month on the clock ("2026-12" on 6 December 2026)."""
    day = today()
    return month(day.month, day.year)


def next_month() -> str:
    """The first month that has not begun."""
    day = today()
    return month(1, day.year + 1) if day.month == 12 else month(day.month + 1, day.year)


def good_rows(period: str | None = None) -> list[dict]:
    """Three good rows for ``period`` (default: this month): two for Venlo, one for Beesel."""
    period = period or this_month()
    return [
        {"gemeente": "0983", "segment": "jeugd.S4", "periode": period, "traject": "S4-BEG-6", "gestart": 3,
         "lopend": 5, "beeindigd": 1, "clienten": 5},
        {"gemeente": "Venlo", "segment": "jeugd.S4", "periode": period, "traject": "S4-BEH-4", "gestart": "1",
         "lopend": "2"},
        {"Gemeente": "Beesel", "Segment": "Wmo S1a", "Periode": period, "Traject": "S1A-BEG-9", "Gestart": 2,
         "Lopend": 2, "Cliënten": 2, "eenheden": None},
    ]


@pytest.fixture
def api(app, demo_with_realisation, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    return {email: Api(app, email) for email in (PROVIDER, OTHER_PROVIDER, MANAGER, AUDITOR, VENLO)}


def post(api: Api, body, status: int, raw: bytes | None = None):
    response = api.client.post("/api/v1/realisation", json=None if raw is not None else body, data=raw,
                               headers={"Authorization": f"Bearer {api.token}"},
                               content_type="application/json")
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.json


def counts(app) -> tuple[int, int]:
    with app.app_context():
        session = db.session()
        return (session.exec(select(func.count()).select_from(RealisationReport)).one(),
                session.exec(select(func.count()).select_from(RealisationLine)).one())


@pytest.mark.date_sensitive
def test_a_provider_posts_good_rows_and_they_are_stored(app, api):
    before = counts(app)
    rows = good_rows()
    answer = post(api[PROVIDER], {"rows": rows}, 201)
    assert answer["rows"] == 3
    reports = {(r["municipality"]["municipality_code"], r["segment"]): r for r in answer["reports"]}
    assert set(reports) == {("0983", "jeugd.S4"), ("0889", "wmo.S1a")}
    venlo = reports[("0983", "jeugd.S4")]
    assert venlo["state"] == "submitted" and venlo["version"] == 1 and venlo["period"] == this_month()
    assert venlo["period_kind"] == "month" and venlo["line_count"] == 2
    assert venlo["provider"]["name"] == "Zorggroep Maasland"
    assert counts(app) == (before[0] + 2, before[1] + 3)
    with app.app_context():
        upload = db.session().get(RealisationUpload, answer["upload_id"])
        assert upload.source == "api" and upload.state == "stored"

    detail = api[PROVIDER].get(f"/realisation/{venlo['id']}")
    lines = {line["trajectory"]: line for line in detail["lines"]}
    assert set(lines) == {"S4-BEG-6", "S4-BEH-4"}
    assert (lines["S4-BEG-6"]["started"], lines["S4-BEG-6"]["running"], lines["S4-BEG-6"]["ended"],
            lines["S4-BEG-6"]["clients"]) == (3, 5, 1, 5)
    for amount in (detail["total_value"], lines["S4-BEG-6"]["value"], lines["S4-BEG-6"]["unit_price"]):
        assert isinstance(amount, str) and Decimal(amount) == Decimal(amount).quantize(Decimal("0.01"))
    assert sum(Decimal(line["value"]) for line in detail["lines"]) == Decimal(detail["total_value"])
    assert Decimal(lines["S4-BEG-6"]["value"]) == 3 * Decimal(lines["S4-BEG-6"]["unit_price"])

    # A correction is a new version; the old one no longer counts in the list.
    corrected = post(api[PROVIDER], {"rows": [dict(rows[0], gestart=4)]}, 201)["reports"][0]
    assert corrected["version"] == 2
    listed = {r["id"] for r in api[PROVIDER].get("/realisation", per_page=100, year=this_year(), segment="jeugd.S4",
                                                 state="submitted")["data"]}
    assert corrected["id"] in listed and venlo["id"] not in listed
    superseded = api[PROVIDER].get("/realisation", state="superseded", per_page=100)["data"]
    assert [r["id"] for r in superseded] == [venlo["id"]]


@pytest.mark.date_sensitive
def test_bad_rows_answer_422_with_row_errors_and_store_nothing(app, api):
    before = counts(app)
    good = good_rows()[0]
    rows = [good,
            {"gemeente": "Atlantis", "segment": "jeugd.S4", "periode": this_month(), "traject": "S4-BEG-6"},
            {"gemeente": "0983", "segment": "jeugd.S4", "periode": next_month(), "traject": "S4-BEG-6", "gestart": 1,
             "lopend": 1}]
    answer = post(api[PROVIDER], {"rows": rows}, 422)
    assert answer["error"]["code"] == "invalid" and answer["error_count"] == len(answer["errors"]) >= 2
    assert {(e["row"], e["column"]) for e in answer["errors"]} >= {(2, "gemeente"), (3, "periode")}
    assert "Atlantis" in next(e["message"] for e in answer["errors"] if e["row"] == 2)
    # cells the pipeline cannot read, and unknown columns
    typed = post(api[PROVIDER], {"rows": [dict(good, gestart=True), dict(good, lopend=[5]),
                                          dict(good, plekdag=3)]}, 422)
    assert [(e["row"], e["column"]) for e in typed["errors"]] == [(1, "gestart"), (2, "lopend"), (3, "plekdag")]
    assert counts(app) == before


GOOD_ROW = good_rows(month(RUN_DATE.month))[0]
BAD_BODIES = ([], {"rows": []}, {"rows": {}}, {"rows": "a"}, {"rows": [1]}, {"rows": [GOOD_ROW], "extra": 1},
              {"rows": [GOOD_ROW] * 10_001}, None)


def test_only_providers_post_and_the_body_must_be_a_non_empty_list_of_row_objects(app, api):
    before = counts(app)
    for body in BAD_BODIES:
        raw = b"{niet: json" if body is None else None
        error = post(api[PROVIDER], body, 400, raw=raw)["error"]
        assert error["code"] == "bad_request" and error["message"], body
    for email in (VENLO, MANAGER, AUDITOR):
        error = post(api[email], {"rows": good_rows()}, 403)["error"]
        assert error["code"] == "forbidden" and "zorgaanbieder" in error["message"]
    assert counts(app) == before


def test_reading_is_scoped_like_the_screens(app, api):
    reports = post(api[PROVIDER], {"rows": good_rows()}, 201)["reports"]
    venlo_report = next(r for r in reports if r["municipality"]["municipality_code"] == "0983")
    beesel_report = next(r for r in reports if r["municipality"]["municipality_code"] == "0889")
    with app.app_context():
        maasland = db.session().exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one().id

    def everything(email, **params):
        found, page = [], 1
        while True:
            answer = api[email].get("/realisation", per_page=100, page=page, **params)
            found += answer["data"]
            if answer["links"]["next"] is None:
                return found
            page += 1

    own = everything(PROVIDER, year=this_year())
    assert own and {r["provider"]["id"] for r in own} == {maasland}
    assert {venlo_report["id"], beesel_report["id"]} <= {r["id"] for r in own}
    assert all(r["state"] != "superseded" for r in own)
    other = everything(OTHER_PROVIDER)
    assert maasland not in {r["provider"]["id"] for r in other}
    api[OTHER_PROVIDER].get(f"/realisation/{venlo_report['id']}", status=404)
    api[PROVIDER].get("/realisation/999999", status=404)

    municipality = everything(VENLO, year=this_year(), segment="jeugd.S4")
    assert {r["municipality"]["municipality_code"] for r in municipality} == {"0983"}
    assert venlo_report["id"] in {r["id"] for r in municipality}
    api[VENLO].get(f"/realisation/{beesel_report['id']}", status=404)
    assert api[VENLO].get(f"/realisation/{venlo_report['id']}")["lines"]

    region = {r["id"] for r in everything(MANAGER, year=this_year(), state="submitted")}
    assert {venlo_report["id"], beesel_report["id"]} <= region
    # Last year has ended: the demo approved its months (all but the last two at least).
    assert {r["state"] for r in everything(AUDITOR, year=this_year() - 1, state="approved")} == {"approved"}
    for params, parameter in (({"state": "open"}, "state"), ({"segment": "jeugd.S99"}, "segment"),
                              ({"year": "dit"}, "year"), ({"jaar": str(this_year())}, "jaar")):
        error = api[MANAGER].get("/realisation", status=400, **params)["error"]
        assert error["parameter"] == parameter


def test_realisation_answers_match_the_openapi_document(app, api):
    spec = _openapi(app)
    rows = good_rows()
    created = post(api[PROVIDER], {"rows": rows}, 201)
    answers = [
        ("RealisationSubmitted", created),
        ("RealisationReportList", api[MANAGER].get("/realisation", per_page=100)),
        ("RealisationReportList", api[PROVIDER].get("/realisation", state="approved")),
        ("RealisationReportDetail", api[PROVIDER].get(f"/realisation/{created['reports'][0]['id']}")),
        ("RealisationRowErrors", post(api[PROVIDER], {"rows": [{"gemeente": "0983"}]}, 422)),
        ("Error", post(api[VENLO], {"rows": rows}, 403)),
        ("Error", post(api[PROVIDER], {"rows": []}, 400)),
    ]
    for schema_name, answer in answers:
        errors = sorted(_validator(spec, schema_name).iter_errors(answer), key=str)
        assert not errors, f"{schema_name}: {errors[0].message} at {list(errors[0].absolute_path)}"
    request_errors = list(_validator(spec, "RealisationRows").iter_errors({"rows": rows}))
    assert not request_errors
    assert list(_validator(spec, "RealisationRows").iter_errors({"rows": []}))
    report = created["reports"][0]
    assert list(_validator(spec, "RealisationReport").iter_errors({**report, "total_value": 12.5}))
