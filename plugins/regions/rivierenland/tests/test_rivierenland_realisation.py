"""A Rivierenland provider reports realisation on its own segments beside the Noord-Limburg demo:
through the pipeline (submit_rows) and through the upload screen signed in; stored, valued
units × unit price; a row naming a Noord-Limburg segment or municipality is refused."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from portal_rivierenland.demo import DE_LINGE, WAALWAARD
from portal_rivierenland.region import RIVIERENLAND
from sqlmodel import func, select

from portal import clock, db
from portal.accounts.passwords import hash_password
from portal.demo import load_pack_demo
from portal.models import Organisation
from portal.models.realisation import RealisationLine, RealisationReport
from portal.realisation.importing import submit_rows
from tests.conftest import DEMO_PASSWORD, csrf_token, sign_in


@pytest.fixture
def app_config(tmp_path):
    return {"REALISATION_IN_BACKGROUND": False, "UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.fixture
def rivierenland(app, demo):
    """The Noord-Limburg demo (``demo``) and the Rivierenland pack's demo beside it."""
    with app.app_context():
        load_pack_demo(RIVIERENLAND, "rivierenland", hash_password(DEMO_PASSWORD), clock.today())


def this_month() -> str:
    day = clock.today()
    return f"{day.year}-{day.month:02d}"


def provider(name: str) -> Organisation:
    return db.session().exec(select(Organisation).where(Organisation.name == name)).one()


def row(**values) -> dict:
    return {"gemeente": "0281", "segment": "wmo.BEG", "periode": this_month(), "traject": "BEG-6",
            "gestart": 2, "lopend": 12, "beeindigd": 1, "clienten": 12, "eenheden": "96", **values}


def stored_lines(organisation_id: int) -> list[tuple[str, str, Decimal | None, Decimal]]:
    return [(report.segment_key, line.trajectory_code, line.units, line.value)
            for report, line in db.session().exec(
                select(RealisationReport, RealisationLine).join(RealisationLine)
                .where(RealisationReport.organisation_id == organisation_id)
                .order_by(RealisationReport.segment_key, RealisationLine.trajectory_code))]


def test_a_rivierenland_provider_reports_on_its_own_segments(app, rivierenland):
    with app.app_context():
        linge = provider(DE_LINGE)
        upload, result = submit_rows(linge, None, [
            row(),
            row(gemeente="Culemborg", segment="Wmo DAG", traject="DAG-12", eenheden="40"),
            row(gemeente="0214", segment="jeugd.ABG", traject="ABG-6", eenheden="30.5"),
        ], "api")
        assert upload.state == "stored", result.errors
        lines = stored_lines(linge.id)
        assert [(segment, code, units) for segment, code, units, _value in lines] == [
            ("jeugd.ABG", "ABG-6", Decimal("30.5")), ("wmo.BEG", "BEG-6", Decimal("96")),
            ("wmo.DAG", "DAG-12", Decimal("40"))]
        # Valued units × the unit price of the year (€72.50 an hour in 2026, indexed 3% a year).
        hourly = lines[1][3] / 96
        assert Decimal("50") < hourly < Decimal("100") and lines[1][3] == (hourly * 96).quantize(Decimal("0.01"))


def test_noord_limburg_segments_and_municipalities_are_refused(app, rivierenland):
    with app.app_context():
        linge = provider(DE_LINGE)
        count = select(func.count()).select_from(RealisationReport)
        before = db.session().exec(count).one()
        upload, result = submit_rows(linge, None, [
            row(segment="wmo.S1a", traject="S1A-BEG-9"),
            row(gemeente="0983"),  # Venlo, Noord-Limburg
            row(segment="jeugd.ABH", traject="ABH-4"),  # Rivierenland's, but De Linge has no contract for it
        ], "api")
        assert upload.state == "refused"
        assert [(e.row, e.column, e.message) for e in result.errors] == [
            (1, "segment", "Onbekend segment 'wmo.S1a'."),
            (2, "gemeente", "Onbekende gemeente '0983' in deze regio."),
            (3, "segment", "U heeft geen raamovereenkomst voor Jeugd ABH."),
        ]
        assert db.session().exec(count).one() == before
        # A Noord-Limburg provider cannot report on Rivierenland's segments either.
        maasland = provider("Zorggroep Maasland")
        upload, result = submit_rows(maasland, None, [row(gemeente="0983")], "api")
        assert [(e.column, e.message) for e in result.errors] == [("segment", "Onbekend segment 'wmo.BEG'.")]


def test_etmalen_of_a_short_stay_are_whole_and_possible(app, rivierenland):
    with app.app_context():
        waalwaard = provider(WAALWAARD)
        stay = row(segment="wmo.KV", traject="KV-6", gestart=0, lopend=2, beeindigd=0, clienten=2)
        _upload, result = submit_rows(waalwaard, None, [{**stay, "eenheden": "2.5"}, {**stay, "eenheden": "70"}],
                                      "api")
        assert [(e.row, e.message) for e in result.errors][0] == (1, "Etmalen zijn hele etmalen, niet 2.5.")
        assert result.errors[1].message.startswith("Meer etmalen (70) dan mogelijk: 2 lopende trajecten × ")
        upload, result = submit_rows(waalwaard, None, [{**stay, "eenheden": "8"}], "api")
        assert upload.state == "stored", result.errors


def test_the_upload_screen_takes_a_rivierenland_file(app, rivierenland):
    client = app.test_client()
    assert sign_in(client, "beheer@delinge.example").status_code == 302
    page = client.get("/realisatie/uploaden").get_data(as_text=True)
    assert "Wmo BEG" in page and "Jeugd ABG" in page and "S1a" not in page and "Jeugd S4" not in page
    template = client.get("/realisatie/sjabloon/wmo.BEG.csv")
    assert template.status_code == 200
    assert client.get("/realisatie/sjabloon/wmo.S1a.csv").status_code == 404
    header = template.get_data(as_text=True).lstrip("\ufeff").splitlines()[0].split(";")
    assert header[:6] == ["gemeente", "gemeentenaam", "segment", "periode", "traject", "trajectnaam"]
    assert "eenheden" in header

    content = ("gemeente;segment;periode;traject;gestart;lopend;beeindigd;clienten;eenheden\n"
               f"0281;wmo.BEG;{this_month()};BEG-12;1;8;0;8;52\n"
               f"0668;wmo.DAG;{this_month()};DAG-INT-12;0;4;0;4;48\n").encode()
    token = csrf_token(client, "/realisatie/uploaden")
    response = client.post("/realisatie/uploaden", data={"csrf_token": token, "bestand": (io.BytesIO(content), "r.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    status = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 regels ingelezen in 2 rapportages" in status, status
    with app.app_context():
        stored = stored_lines(provider(DE_LINGE).id)
    assert [(segment, code, units) for segment, code, units, _value in stored] == [
        ("wmo.BEG", "BEG-12", Decimal("52")), ("wmo.DAG", "DAG-INT-12", Decimal("48"))]

    wrong = f"gemeente;segment;periode;traject;gestart;lopend;beeindigd;clienten;eenheden\n" \
            f"0281;wmo.S1a;{this_month()};S1A-BEG-9;1;3;0;3;10\n".encode()
    token = csrf_token(client, "/realisatie/uploaden")
    response = client.post("/realisatie/uploaden", data={"csrf_token": token, "bestand": (io.BytesIO(wrong), "f.csv")},
                           content_type="multipart/form-data")
    status = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Onbekend segment" in status and "wmo.S1a" in status


def test_the_api_takes_rows_from_a_rivierenland_providers_system(app, rivierenland):
    from tests.test_api import Api

    api = Api(app, "beheer@jeugdhulpbetuwe.example")
    headers = {"Authorization": f"Bearer {api.token}"}
    good = row(gemeente="0216", segment="jeugd.ABH", traject="ABH-GGZ-9", eenheden="14")
    response = api.client.post("/api/v1/realisation", json={"rows": [good]}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    response = api.client.post("/api/v1/realisation", json={"rows": [row(segment="jeugd.S4", traject="S4-BEG-6")]},
                               headers=headers)
    assert response.status_code == 422
    assert response.json["errors"][0]["message"] == "Onbekend segment 'jeugd.S4'."
    listed = api.get("/realisation")["data"]
    assert [(item["segment"], item["segment_name"]) for item in listed] == [
        ("jeugd.ABH", "Ambulante behandeling")]
