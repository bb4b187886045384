"""The provider's realisation screens: overview and report pages, uploading files (good, bad,
twice, corrected), the progress polled by htmx, the error report, templates per segment (round
trip through the importer) and the web form with its row-by-row check."""
from __future__ import annotations

import csv
import html as html_lib
import io
import re
import time
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import func, select

from portal.formatting import money
from tests.conftest import csrf_token
from tests.dates import FIRST_YEAR, RUN_DATE, month, this_year, today

ADMIN = "beheer@zorggroep-maasland.example"
COLLEAGUE = "medewerker@zorggroep-maasland.example"
# The month of the run's date: it has begun, and the demo's own realisation ends the month before.
PERIOD = month(RUN_DATE.month, RUN_DATE.year)
MONTH_NAMES = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
               "oktober", "november", "december")
GOOD_CSV = ("gemeente;segment;periode;traject;gestart;lopend;beeindigd;clienten\n"
            f"0889;jeugd.S4;{PERIOD};S4-BEG-6;2;5;1;5\n"
            f"0983;wmo.S1a;{PERIOD};S1A-BEG-9;1;3;0;3\n")


def month_label(period: str) -> str:
    """ "2026-11" → "november 2026", as the screens name a month."""
    year, number = period.split("-")
    return f"{MONTH_NAMES[int(number) - 1]} {year}"


def current_month() -> str:
    """The month that holds the portal's date now (follows the date matrix)."""
    return month(today().month, this_year())


def next_month() -> str:
    day = today()
    return month(1, day.year + 1) if day.month == 12 else month(day.month + 1, day.year)


def previous_month() -> str:
    day = today()
    return month(12, day.year - 1) if day.month == 1 else month(day.month - 1, day.year)


@pytest.fixture
def app_config(tmp_path):
    return {"REALISATION_IN_BACKGROUND": False, "UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.fixture
def provider(signed_in):
    return signed_in(ADMIN)


def upload(client, name: str, content: bytes):
    token = csrf_token(client, "/realisatie/uploaden")
    return client.post("/realisatie/uploaden", data={"csrf_token": token, "bestand": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def counts(app, period: str = PERIOD) -> tuple[int, int, int]:
    """Reports and lines of month ``period``, and uploads."""
    from portal import db
    from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload

    year, number = (int(part) for part in period.split("-"))
    with app.app_context():
        session = db.session()
        of_period = select(RealisationReport.id).where(RealisationReport.year == year,
                                                       RealisationReport.period == number)
        return (session.exec(select(func.count()).select_from(of_period.subquery())).one(),
                session.exec(select(func.count()).select_from(RealisationLine)
                             .where(RealisationLine.report_id.in_(of_period))).one(),
                session.exec(select(func.count()).select_from(RealisationUpload)).one())


def reports(app, period: str = PERIOD, **where):
    from portal import db
    from portal.models.realisation import RealisationReport

    year, number = (int(part) for part in period.split("-"))
    with app.app_context():
        statement = select(RealisationReport).where(RealisationReport.year == year, RealisationReport.period == number
                                                    ).order_by(RealisationReport.segment_key, RealisationReport.version)
        for name, value in where.items():
            statement = statement.where(getattr(RealisationReport, name) == value)
        found = db.session().exec(statement).all()
        for report in found:
            db.session().expunge(report)
        return found


def reject(app, report_id: int, reason: str) -> None:
    """As the region's review would (that screen is not under test here)."""
    from portal import db
    from portal.models.realisation import RealisationReport

    with app.app_context():
        report = db.session().get(RealisationReport, report_id)
        report.state, report.rejection_reason = "rejected", reason
        db.session().commit()


def lines_of(app, report_id: int):
    from portal import db
    from portal.models.realisation import RealisationLine

    with app.app_context():
        found = db.session().exec(select(RealisationLine).where(RealisationLine.report_id == report_id)
                                  .order_by(RealisationLine.trajectory_code)).all()
        return [(line.trajectory_code, line.started, line.running, line.units, line.value) for line in found]


def price(app, segment_key: str, code: str, period: str = PERIOD) -> Decimal:
    from portal import db
    from portal.models import Organisation
    from portal.realisation.lookups import ProviderLookups
    from portal.realisation.rules import parse_period

    with app.test_request_context():
        provider = db.session().exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
        return ProviderLookups(provider).price(segment_key, parse_period(period), code).price


def status_page(client, response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert re.match(r"^/realisatie/uploads/\d+$", response.headers["Location"])
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def error_rows(html: str) -> list[tuple[str, str, str]]:
    body = html.split('<table class="table table-errors">', 1)[1].split("</table>", 1)[0]
    return [tuple(html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                  for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S))
            for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)]


# --- Uploading files -----------------------------------------------------------------------------


def test_good_csv_is_stored_with_its_values_and_shown(app, provider):
    html = status_page(provider, upload(provider, "oktober.csv", GOOD_CSV.encode("utf-8")))
    assert "Ingelezen" in html and "2 regels ingelezen in 2 rapportages" in html
    assert 'hx-trigger="every 1s"' not in html  # finished: nothing polls
    found = reports(app)
    assert [(r.segment_key, r.version, r.state) for r in found] == [("jeugd.S4", 1, "submitted"),
                                                                     ("wmo.S1a", 1, "submitted")]
    s4, s1a = found
    assert s4.total_value == 2 * price(app, "jeugd.S4", "S4-BEG-6")
    assert s1a.total_value == price(app, "wmo.S1a", "S1A-BEG-9")
    assert lines_of(app, s4.id) == [("S4-BEG-6", 2, 5, None, s4.total_value)]
    assert f"/realisatie/rapportages/{s4.id}" in html

    overview = provider.get("/realisatie/").get_data(as_text=True)
    assert month_label(PERIOD).capitalize() in overview and "Ingediend" in overview and "oktober.csv" in overview
    assert money(s4.total_value) in overview
    detail = provider.get(f"/realisatie/rapportages/{s4.id}").get_data(as_text=True)
    assert "S4-BEG-6" in detail and "Beesel" in detail and "Versies" in detail
    reject(app, s1a.id, "De aantallen sluiten niet aan op die van oktober.")
    rejected_page = provider.get("/realisatie/?status=rejected").get_data(as_text=True)
    assert "Afgewezen" in rejected_page and "Reden: De aantallen sluiten niet aan op die van oktober." in rejected_page
    assert f"/realisatie/rapportages/{s1a.id}" in rejected_page and f"/realisatie/rapportages/{s4.id}" not in rejected_page
    detail = provider.get(f"/realisatie/rapportages/{s1a.id}").get_data(as_text=True)
    assert "Afgewezen door de regio" in detail and "De aantallen sluiten niet aan" in detail


def test_windows_1252_csv_with_commas_and_an_xlsx_made_with_openpyxl(app, provider):
    text = ("Gemeente,Segment,Periode,Traject,Gestart,Lopend,Beëindigd,Cliënten,Eenheden\r\n"
            f'Bergen (L),Jeugd S4,{PERIOD},S4-BEH-4,1,2,0,2,"12,5"\r\n')
    html = status_page(provider, upload(provider, "export.csv", text.encode("cp1252")))
    assert "Ingelezen" in html, html
    (report,) = reports(app)
    assert report.segment_key == "jeugd.S4"
    assert lines_of(app, report.id) == [("S4-BEH-4", 1, 2, Decimal("12.50"), price(app, "jeugd.S4", "S4-BEH-4"))]

    book = Workbook()
    sheet = book.active
    sheet.append(["gemeente", "segment", "periode", "traject", "gestart", "lopend", "beeindigd", "clienten"])
    sheet.append(["0907", "jeugd.S4", PERIOD, "S4-SGGZ-9", 3, 4, 0, 4])
    buffer = io.BytesIO()
    book.save(buffer)
    html = status_page(provider, upload(provider, "november.xlsx", buffer.getvalue()))
    assert "Ingelezen" in html
    (gennep,) = [r for r in reports(app) if r.id != report.id]
    assert (gennep.year, gennep.period_kind, gennep.period) == (RUN_DATE.year, "month", RUN_DATE.month)
    assert lines_of(app, gennep.id) == [("S4-SGGZ-9", 3, 4, None, 3 * price(app, "jeugd.S4", "S4-SGGZ-9"))]


def test_each_bad_row_is_reported_and_nothing_is_stored(app, provider):
    before = month(5, FIRST_YEAR - 3)  # before the demo's first framework agreements
    text = ("gemeente;segment;periode;traject;gestart;lopend;beeindigd;clienten\n"
            f"9999;jeugd.S4;{PERIOD};S4-BEG-6;1;1;0;1\n"          # 2 unknown municipality
            f"0889;jeugd.S9;{PERIOD};S4-BEG-6;1;1;0;1\n"          # 3 unknown segment
            f"0889;jeugd.S4;{before};S4-BEG-6;1;1;0;1\n"          # 4 outside the agreement
            f"0889;jeugd.S4;{PERIOD};S4-BEH-4;-1;1;0;1\n"         # 5 negative volume
            f"0889;jeugd.S4;{PERIOD};S4-SGGZ-9;1;veel;0;1\n"      # 6 text in a number column
            f"0889;jeugd.S4;{PERIOD};XX-999;1;1;0;1\n"            # 7 trajectory not contracted
            f"0889;wmo.S1a;{PERIOD};S1A-BEG-9;1;1;0;1\n")         # 8 good, but nothing is stored
    html = status_page(provider, upload(provider, "fout.csv", text.encode()))
    assert "Niet ingelezen" in html and "niets is opgeslagen" in html
    rows = error_rows(html)
    by_row: dict[str, list] = {}
    for row, column, message in rows:
        by_row.setdefault(row, []).append((column, message))
    assert ("gemeente", "Onbekende gemeente '9999' in deze regio.") in by_row["2"]
    assert ("segment", "Onbekend segment 'jeugd.S9'.") in by_row["3"]
    assert any(column == "periode" and "valt buiten uw raamovereenkomst" in message for column, message in by_row["4"])
    assert ("gestart", "Het aantal gestarte trajecten kan niet negatief zijn.") in by_row["5"]
    assert ("lopend", "Het aantal lopende trajecten is geen getal: 'veel'.") in by_row["6"]
    assert any(column == "traject" and "'XX-999' staat niet in uw contract" in message
               for column, message in by_row["7"])
    assert "8" not in by_row
    assert counts(app)[:2] == (0, 0)

    upload_id = re.search(r"/realisatie/uploads/(\d+)/fouten\.csv", html)[1]
    report = provider.get(f"/realisatie/uploads/{upload_id}/fouten.csv")
    assert report.headers["Content-Type"].startswith("text/csv")
    text = report.get_data().decode("utf-8")
    assert text.startswith("\ufeffRegel;Kolom;Melding")
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert ["2", "gemeente", "Onbekende gemeente '9999' in deze regio."] in parsed

    # formulas in the report are neutralised; a capped report says how many errors there were
    from portal import db
    from portal.models.realisation import RealisationUpload

    with app.app_context():
        found = db.session().get(RealisationUpload, int(upload_id))
        found.errors = [{"row": 2, "column": "gemeente", "message": "=HYPERLINK(\"x\")"}]
        found.error_count = 1500
        db.session().commit()
    text = provider.get(f"/realisatie/uploads/{upload_id}/fouten.csv").get_data().decode("utf-8")
    assert "'=HYPERLINK" in text
    html = provider.get(f"/realisatie/uploads/{upload_id}").get_data(as_text=True)
    assert "eerste 1 van 1.500 fouten" in html


def test_files_that_are_not_what_they_say_are_refused(app, provider):
    for name, content, message in [
            ("realisatie.xlsx", b"%PDF-1.4\n%%EOF\n", "Dit bestand heet .xlsx maar is geen Excel-werkmap"),
            ("tekst.xlsx", b"gemeente;segment\n", "Dit bestand heet .xlsx maar is geen Excel-werkmap"),
            ("leeg.csv", b"", "Het bestand is leeg.")]:
        html = status_page(provider, upload(provider, name, content))
        assert "Niet ingelezen" in html and message in html, name
    assert counts(app)[:2] == (0, 0)


def test_bad_uploads_are_refused_on_the_form(app, provider):
    before = counts(app)
    token = csrf_token(provider, "/realisatie/uploaden")
    response = provider.post("/realisatie/uploaden", data={"csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Kies een bestand om te uploaden." in response.get_data(as_text=True)
    response = upload(provider, "realisatie.pdf", b"%PDF-1.4\n")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Kies een CSV-bestand (.csv) of een Excel-werkmap (.xlsx)" in body and 'aria-invalid="true"' in body
    app.config["MAX_REALISATION_BYTES"] = 1024 * 1024
    response = upload(provider, "groot.csv", GOOD_CSV.encode() + f"0889;jeugd.S4;{PERIOD};S4-BEG-6;1;1;0;1\n".encode() * 40000)
    assert response.status_code == 422
    assert "Het bestand is groter dan 1 MB." in response.get_data(as_text=True)
    response = provider.post("/realisatie/uploaden", data={"bestand": (io.BytesIO(b"x"), "a.csv")},
                             content_type="multipart/form-data")
    assert response.status_code == 400  # no CSRF token
    assert counts(app) == before


def test_same_file_twice_counts_once_and_a_correction_makes_version_2(app, provider):
    status_page(provider, upload(provider, "oktober.csv", GOOD_CSV.encode()))
    html = status_page(provider, upload(provider, "oktober-nogmaals.csv", GOOD_CSV.encode()))
    assert "Dit bestand is al ingelezen op" in html and "het telt niet twee keer mee" in html
    assert counts(app)[:2] == (2, 2)

    corrected = GOOD_CSV.replace("S4-BEG-6;2;5;1;5", "S4-BEG-6;3;5;1;5")
    html = status_page(provider, upload(provider, "oktober-correctie.csv", corrected.encode()))
    assert "Ingelezen" in html
    first, second = reports(app, segment_key="jeugd.S4")
    assert (first.version, first.state, second.version, second.state) == (1, "superseded", 2, "submitted")
    assert second.total_value == 3 * price(app, "jeugd.S4", "S4-BEG-6")
    detail = provider.get(f"/realisatie/rapportages/{second.id}").get_data(as_text=True)
    assert "Vervangen door versie 2" in detail and f"/realisatie/rapportages/{first.id}" in detail
    old = provider.get(f"/realisatie/rapportages/{first.id}").get_data(as_text=True)
    assert "Deze versie is vervangen door versie 2" in old
    overview = provider.get("/realisatie/?status=superseded").get_data(as_text=True)
    table = overview.split("<tbody>", 1)[1].split("</table>")[0]
    assert "Vervangen door versie 2" in table and "Ingediend" not in table


def test_progress_is_polled_while_running_and_stops_when_done(app, provider):
    from portal import db
    from portal.models import Organisation, User
    from portal.realisation import importing as realisation_import
    from portal.realisation import progress as realisation_progress

    with app.test_request_context():
        session = db.session()
        organisation = session.exec(select(Organisation).where(Organisation.name == "Zorggroep Maasland")).one()
        user = session.exec(select(User).where(User.email == ADMIN)).one()
        queued = realisation_import.receive_file(organisation, user, io.BytesIO(GOOD_CSV.encode()), "wacht.csv")
        upload_id = queued.id
    realisation_progress.update(upload_id, "checking", 500, 1000)
    try:
        page = provider.get(f"/realisatie/uploads/{upload_id}").get_data(as_text=True)
        partial = provider.get(f"/realisatie/uploads/{upload_id}/voortgang", headers={"HX-Request": "true"})
    finally:
        realisation_progress.finish(upload_id)
    body = partial.get_data(as_text=True)
    for html in (page, body):
        assert 'hx-trigger="every 1s"' in html and f'hx-get="/realisatie/uploads/{upload_id}/voortgang"' in html
        assert '<progress id="voortgang" max="100" value="25"' in html
        assert "500 van 1.000 regels gecontroleerd" in html
    assert "<html" not in body


def test_upload_in_the_background_is_polled_until_done(app, provider):
    app.config["REALISATION_IN_BACKGROUND"] = True
    response = upload(provider, "achtergrond.csv", GOOD_CSV.encode())
    assert response.status_code == 303
    progress_url = response.headers["Location"] + "/voortgang"
    deadline = time.monotonic() + 20
    while True:
        body = provider.get(progress_url, headers={"HX-Request": "true"}).get_data(as_text=True)
        if 'hx-trigger="every 1s"' not in body:
            break
        assert "regels gecontroleerd" in body
        assert time.monotonic() < deadline, "the upload never finished"
        time.sleep(0.05)
    assert "Ingelezen" in body and "2 regels ingelezen in 2 rapportages" in body
    assert counts(app)[:2] == (2, 2)


# --- Templates -----------------------------------------------------------------------------------


@pytest.mark.date_sensitive
def test_templates_parse_back_through_the_importer(app, provider):
    for segment_key in ("jeugd.S4", "wmo.S1a"):
        _round_trip(app, provider, segment_key)
    page = provider.get("/realisatie/uploaden").get_data(as_text=True)
    assert 'accept=".csv,.xlsx' in page
    assert "/realisatie/sjabloon/jeugd.S4.xlsx" in page and "/realisatie/sjabloon/wmo.S1a.csv" in page
    assert "/realisatie/sjabloon/jeugd.S1.csv" not in page  # not contracted
    assert provider.get("/realisatie/sjabloon/jeugd.S1.csv").status_code == 404
    assert provider.get("/realisatie/sjabloon/bestaat.niet.csv").status_code == 404


def _round_trip(app, provider, segment_key):
    csv_response = provider.get(f"/realisatie/sjabloon/{segment_key}.csv")
    assert csv_response.status_code == 200
    raw = csv_response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    # issue 15: the names beside the codes, one pre-filled row per municipality and trajectory, figures blank
    assert header[:6] == ["gemeente", "gemeentenaam", "segment", "periode", "traject", "trajectnaam"]
    assert len(rows) > 1 and all(row[2] == segment_key and row[4] and row[5] for row in rows)
    assert all(not value for row in rows for value in row[6:])
    example = next(row for row in rows if row[0] == "0889")
    assert example[1] == "Beesel"
    assert example[3] == current_month()  # Beesel reports these segments per month: the month that holds today
    untouched = status_page(provider, upload(provider, f"sjabloon-leeg-{segment_key}.csv", raw))
    assert "geen regels met realisatie" in untouched  # every row left empty: nothing to store
    filled = [header] + [row[:6] + ["1", "2", "0", "2"] + row[10:] if row is example else row for row in rows]
    raw = ("\ufeff" + "".join(";".join(row) + "\r\n" for row in filled)).encode("utf-8")
    assert "Ingelezen" in status_page(provider, upload(provider, f"sjabloon-{segment_key}.csv", raw))

    xlsx = provider.get(f"/realisatie/sjabloon/{segment_key}.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.get_data()))
    assert book.sheetnames == ["Realisatie", "Toelichting", "Codes"]
    notes = {row[0]: row[1] for row in book["Toelichting"].iter_rows(min_row=3, values_only=True)}
    assert set(notes) == set(header) and all(notes.values())
    legend = {row[0]: row[1] for row in book["Codes"].iter_rows(min_row=2, values_only=True)}
    assert legend["0889"] == "Gemeente Beesel" and legend[example[4]] == f"Traject: {example[5]}"
    sheet = book["Realisatie"]
    for line in sheet.iter_rows(min_row=2):
        if line[0].value == "0889" and line[4].value == example[4]:
            for cell, value in zip(line[6:10], (1, 2, 0, 2)):
                cell.value = value
    buffer = io.BytesIO()
    book.save(buffer)
    assert "Ingelezen" in status_page(provider, upload(provider, f"sjabloon-{segment_key}.xlsx", buffer.getvalue()))
    first, second = reports(app, example[3], segment_key=segment_key)
    assert (first.version, first.state, second.version) == (1, "superseded", 2)


def test_template_with_plugin_fields(app):
    registry = app.extensions["portal.registry"]
    with app.test_request_context():
        from portal.realisation import upload_templates as realisation_templates

        class Fake:  # a provider contracted for jeugd.S1, whose plugin adds a required column
            today = __import__("datetime").date(2026, 11, 23)

            def spec(self, key):
                return registry.realisation_spec(key)

            def segment_label(self, key):
                return key

            def municipalities(self):
                from portal.realisation.rules import Municipality
                return [Municipality(1, "0889", "Beesel")]

            def reporting_kind(self, municipality, key):
                return "quarter"

            def trajectory_codes(self, key, period):
                return []

            def buys_places(self, municipality, key, on):
                return False, None

        template = realisation_templates.build_template(Fake(), "jeugd.S1")
    assert template.columns[-1] == "resultaat_behaald" and template.example["resultaat_behaald"] == 0
    assert template.example["periode"] == "2026-K4"


# --- The web form --------------------------------------------------------------------------------


def form_url(period: str = PERIOD) -> str:
    return f"/realisatie/invoeren?gemeente=0889&segment=jeugd.S4&periode={period}"


FORM = form_url()


def form_post(client, path, data, period: str = PERIOD):
    token = csrf_token(client, form_url(period))
    return client.post(path, data={"csrf_token": token, "gemeente": "0889", "segment": "jeugd.S4",
                                   "periode": period, **data})


@pytest.mark.date_sensitive
def test_form_offers_periods_and_one_row_per_contracted_trajectory(app, provider):
    period = current_month()
    page = provider.get("/realisatie/invoeren?gemeente=0889&segment=jeugd.S4").get_data(as_text=True)
    assert f'<option value="{period}">{month_label(period).capitalize()}</option>' in page
    previous = previous_month()  # last year's December in January
    assert f'<option value="{previous}">{month_label(previous).capitalize()}</option>' in page
    assert f'value="{next_month()}"' not in page  # not begun
    assert 'name="regel-0-gestart"' not in page  # no period chosen yet
    page = provider.get(form_url(period)).get_data(as_text=True)
    for code in ("S4-BEG-6", "S4-BEH-4", "S4-SGGZ-9"):
        assert code in page
    assert '<label class="visually-hidden" for="regel-0-gestart">Gestart, traject S4-BEG-6' in page
    assert 'hx-post="/realisatie/invoeren/regel"' in page and 'hx-trigger="change"' in page
    assert 'name="regel-0-plekdagen"' not in page
    venlo = provider.get(f"/realisatie/invoeren?gemeente=0983&segment=jeugd.S3&periode={period}").get_data(as_text=True)
    assert 'name="regel-0-plekdagen"' in venlo  # Venlo buys places in jeugd.S3

    # the row check (htmx)
    response = form_post(provider, "/realisatie/invoeren/regel",
                         {"rij": "0", "regel-0-gestart": "5", "regel-0-lopend": "2"}, period)
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert row.startswith('<tr id="regel-0"') and "<html" not in row
    assert "Er zijn meer gestarte dan lopende trajecten" in row
    assert 'aria-describedby="regel-0-gestart-fout"' in row and 'aria-invalid="true"' in row
    assert 'value="5"' in row
    response = form_post(provider, "/realisatie/invoeren/regel",
                         {"rij": "0", "regel-0-gestart": "2", "regel-0-lopend": "2"}, period)
    value = 2 * price(app, "jeugd.S4", "S4-BEG-6", period)
    assert f"{value:.2f}".replace(".", ",")[-6:] in response.get_data(as_text=True)
    assert "aria-invalid" not in response.get_data(as_text=True)
    assert counts(app, period)[:2] == (0, 0)
    assert form_post(provider, "/realisatie/invoeren/regel", {"rij": "0", "stiekem": "1"}, period).status_code == 400


def test_form_submit_with_an_error_keeps_every_value(app, provider):
    response = form_post(provider, "/realisatie/invoeren", {
        "regel-0-gestart": "abc", "regel-0-lopend": "3",
        "regel-1-gestart": "1", "regel-1-lopend": "1", "regel-1-clienten": "1"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Er is niets ingediend" in body
    assert "Het aantal gestarte trajecten is geen getal: &#39;abc&#39;." in body
    assert 'id="regel-0-gestart" name="regel-0-gestart" value="abc"' in body
    assert 'id="regel-0-lopend" name="regel-0-lopend" value="3"' in body
    assert 'id="regel-1-clienten" name="regel-1-clienten" value="1"' in body
    assert counts(app)[:2] == (0, 0)

    # and a good submission: only the filled rows are stored
    response = form_post(provider, "/realisatie/invoeren", {
        "regel-1-gestart": "2", "regel-1-lopend": "4", "regel-1-beeindigd": "1", "regel-1-clienten": "4"})
    assert response.status_code == 303
    (report,) = reports(app)
    assert response.headers["Location"] == f"/realisatie/rapportages/{report.id}"
    assert lines_of(app, report.id) == [("S4-BEH-4", 2, 4, None, 2 * price(app, "jeugd.S4", "S4-BEH-4"))]
    page = provider.get(response.headers["Location"]).get_data(as_text=True)
    assert "is ingediend (versie 1)" in page
    empty = form_post(provider, "/realisatie/invoeren", {})
    assert empty.status_code == 422 and "Vul ten minste één regel in" in empty.get_data(as_text=True)


# --- Scoping -------------------------------------------------------------------------------------


def test_another_providers_report_and_upload_are_404(app, provider, signed_in):
    from portal import db
    from portal.models import Organisation
    from portal.models.realisation import RealisationReport, RealisationUpload

    with app.app_context():
        session = db.session()
        other = session.exec(select(Organisation).where(Organisation.name == "Thuishulp Venray")).one()
        venlo = session.exec(select(Organisation).where(Organisation.name == "Venlo")).one()
        foreign_upload = RealisationUpload(region_id=other.region_id, organisation_id=other.id, source="csv",
                                           sha256="0" * 64, state="refused", errors=[])
        session.add(foreign_upload)
        session.flush()
        foreign = RealisationReport(region_id=other.region_id, organisation_id=other.id,
                                    municipality_id=venlo.id, segment_key="wmo.S3a", year=2026,
                                    period_kind="month", period=10, total_value=Decimal("10.00"),
                                    upload_id=foreign_upload.id)
        session.add(foreign)
        session.commit()
        report_id, upload_id = foreign.id, foreign_upload.id
    for client in (provider, signed_in(COLLEAGUE)):
        assert client.get(f"/realisatie/rapportages/{report_id}").status_code == 404
        assert client.get(f"/realisatie/uploads/{upload_id}").status_code == 404
        assert client.get(f"/realisatie/uploads/{upload_id}/voortgang").status_code == 404
        assert client.get(f"/realisatie/uploads/{upload_id}/fouten.csv").status_code == 404
        assert "Thuishulp" not in client.get("/realisatie/").get_data(as_text=True)


# --- In a browser ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_form_in_a_browser_checks_rows_without_losing_keystrokes(live_server, page):
    from portal.demo import load_demo
    from tests.conftest import DEMO_PASSWORD
    from tests.test_browser import sign_in as browser_sign_in

    with live_server.app_context():
        load_demo(DEMO_PASSWORD)
    base = live_server.base_url
    page.set_default_timeout(10_000)
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    browser_sign_in(page, base, ADMIN)
    page.goto(f"{base}{FORM}")
    page.focus("#regel-0-gestart")
    for key in "5213":  # type and tab on at once: a late swap of the row must not undo anything
        page.keyboard.type(key)
        page.wait_for_timeout(15)
        page.keyboard.press("Tab")
    page.wait_for_selector("#regel-0-clienten-fout")  # the check of the whole row has come back
    assert [page.input_value(f"#regel-0-{column}") for column in ("gestart", "lopend", "beeindigd", "clienten")] \
        == ["5", "2", "1", "3"]
    assert page.evaluate("document.activeElement.id") == "regel-1-gestart"
    assert page.get_attribute("#regel-0-gestart", "aria-invalid") == "true"
    assert "meer gestarte dan lopende" in page.inner_text("#regel-0-gestart-fout")
    assert "meer cliënten dan lopende" in page.inner_text("#regel-0-clienten-fout")
    page.fill("#regel-0-gestart", "1")
    page.fill("#regel-0-clienten", "2")
    page.keyboard.press("Tab")
    page.wait_for_selector("#regel-0-gestart-fout", state="detached")
    page.wait_for_selector("#regel-0 .row-value:has-text('€')")
    assert page.get_attribute("#regel-0-clienten", "aria-invalid") is None
    assert not violations
