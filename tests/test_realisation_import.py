"""The realisation pipeline on the demo region (provider Zorggroep Maasland): files through
``receive_file`` + ``process_upload``/``start``, rows through ``submit_rows``. Bad input is refused
with row-level Dutch errors and nothing stored; good input becomes one report per municipality ×
segment × period whose total is the sum of its lines; duplicates, corrections, local rules, places,
failures halfway and the background thread.

The demo is loaded once for this module (it takes seconds); each test removes the uploads,
reports and lines it added (audit events are append-only and stay: tests count from a baseline).
"""
from __future__ import annotations

import io
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import delete, func
from sqlmodel import Session, select

from portal import db, hookimpl
from portal.catalogue import service as catalogue
from portal.models import AuditEvent, Organisation, StandardTrajectory
from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload
from portal.realisation import importing as realisation_import
from portal.realisation.importing import process_upload, receive_file, start, submit_rows
from portal.registry import LocalRule
from tests.conftest import DEMO_PASSWORD, _empty_tables, make_app
from tests.dates import FIRST_YEAR, RUN_DATE, YEAR

PROVIDER = "Zorggroep Maasland"
HEADER = ("gemeente", "segment", "periode", "traject", "gestart", "lopend", "beeindigd", "clienten", "eenheden",
          "plekdagen")
CENT = Decimal("0.01")
# Realisation of last year, which has ended (all its months have begun) and lies within the first
# Jeugd contracts of the demo; the year before the demo's first lies outside every agreement; the
# month after the run's date has not begun yet.
LAST_YEAR = YEAR - 1
BEFORE_DEMO = FIRST_YEAR - 1
NEXT_MONTH = f"{YEAR + 1}-01" if RUN_DATE.month == 12 else f"{YEAR}-{RUN_DATE.month + 1:02d}"


@pytest.fixture(scope="module")
def app_config(tmp_path_factory):
    return {"REALISATION_IN_BACKGROUND": False, "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads"))}


@pytest.fixture(scope="module")
def app(database_url, app_config):
    from portal.demo import load_demo

    application = make_app(database_url, **app_config)
    with application.app_context():
        load_demo(DEMO_PASSWORD, realisation=False)
    yield application
    engine = application.extensions["portal.engine"]
    _empty_tables(engine)
    engine.dispose()


def _max_id(model) -> int:
    return db.session().exec(select(func.coalesce(func.max(model.id), 0))).one()


@pytest.fixture(autouse=True)
def context(app):
    """An app context per test; what the test stored is removed afterwards."""
    with app.app_context():
        baseline = {model: _max_id(model) for model in (RealisationLine, RealisationReport, RealisationUpload,
                                                        StandardTrajectory)}
        states = dict(db.session().exec(select(RealisationReport.id, RealisationReport.state)).all())
        yield baseline
        session = db.session()
        session.rollback()
        for model in (RealisationLine, RealisationReport, RealisationUpload, StandardTrajectory):
            session.execute(delete(model).where(model.id > baseline[model]))
        for report in session.exec(select(RealisationReport)):
            if states.get(report.id, report.state) != report.state:
                report.state = states[report.id]
        session.commit()


@pytest.fixture
def provider(app) -> Organisation:
    return db.session().exec(select(Organisation).where(Organisation.name == PROVIDER)).one()


def row(gemeente="0983", segment="jeugd.S4", periode=f"{LAST_YEAR}-03", traject="S4-BEG-6", gestart="2", lopend="5",
        beeindigd="1", clienten="4", eenheden="", plekdagen="") -> tuple:
    return (gemeente, segment, periode, traject, gestart, lopend, beeindigd, clienten, eenheden, plekdagen)


def csv_bytes(rows, header=HEADER, delimiter=";") -> bytes:
    lines = [delimiter.join(header)] + [delimiter.join(str(c) for c in r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def upload(provider, content: bytes, name="realisatie.csv") -> RealisationUpload:
    received = receive_file(provider, None, io.BytesIO(content), name)
    if received.state == "queued":
        return process_upload(received.id)
    return received


def counts(provider) -> tuple[int, int]:
    session = db.session()
    reports = session.exec(select(func.count()).select_from(RealisationReport)
                           .where(RealisationReport.organisation_id == provider.id)).one()
    lines = session.exec(select(func.count()).select_from(RealisationLine).join(
        RealisationReport, RealisationReport.id == RealisationLine.report_id)
        .where(RealisationReport.organisation_id == provider.id)).one()
    return reports, lines


def errors_of(item: RealisationUpload) -> list[tuple[int, str]]:
    return [(error["row"], error["column"]) for error in item.errors or []]


def catalogue_price(provider, segment_key, code, year) -> Decimal:
    standard = db.session().exec(select(StandardTrajectory).where(
        StandardTrajectory.segment_key == segment_key, StandardTrajectory.code == code,
        StandardTrajectory.year == year)).one()
    return catalogue.trajectory_price(standard, provider.id).total


def reports_of(item: RealisationUpload) -> list[RealisationReport]:
    return list(db.session().exec(select(RealisationReport).where(RealisationReport.upload_id == item.id)
                                  .order_by(RealisationReport.id)))


def lines_of(report: RealisationReport) -> list[RealisationLine]:
    return list(db.session().exec(select(RealisationLine).where(RealisationLine.report_id == report.id)
                                  .order_by(RealisationLine.source_row)))


# --- Bad input: refused per row and column, nothing stored ------------------------------------------

BAD_ROWS = {
    "unknown municipality": (row(gemeente="Maastricht"), "gemeente", "Onbekende gemeente 'Maastricht'"),
    "unknown segment": (row(segment="jeugd.S9"), "segment", "Onbekend segment 'jeugd.S9'"),
    "segment not contracted": (row(segment="wmo.S3b", traject="S3B-LOG-1"), "segment",
                               "U heeft geen raamovereenkomst voor"),
    "period outside agreement": (row(periode=f"{BEFORE_DEMO}-06"), "periode", "valt buiten uw raamovereenkomst"),
    "future period": (row(periode=NEXT_MONTH), "periode", "is nog niet begonnen"),
    "negative volume": (row(gestart="-1"), "gestart", "kan niet negatief zijn"),
    "text in a number column": (row(lopend="veel"), "lopend", "is geen getal: 'veel'"),
    "fraction of a count": (row(clienten="2,5"), "clienten", "moet een heel getal zijn"),
    "trajectory not contracted": (row(traject="S1A-BEG-9"), "traject", "staat niet in uw contract"),
    "formula": (row(gestart="=1+1"), "gestart", "Een formule wordt niet ingelezen"),
    "bad period": (row(periode="maart"), "periode", "is geen periode"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_a_bad_row_refuses_the_whole_file(provider, case):
    bad, column, message = BAD_ROWS[case]
    before = counts(provider)
    good = [row(traject=code) for code in ("S4-BEH-4", "S4-SGGZ-9")]
    result = upload(provider, csv_bytes([good[0], bad, good[1]]))
    assert result.state == "refused"
    assert (3, column) in errors_of(result), result.errors
    assert any(message in e["message"] for e in result.errors if e["row"] == 3 and e["column"] == column)
    assert all(e["row"] == 3 for e in result.errors)  # the good rows carry no error
    assert result.message.endswith("niets is opgeslagen. Verbeter het bestand en lever het opnieuw aan.")
    assert counts(provider) == before


def test_several_bad_rows_are_all_reported(provider):
    before = counts(provider)
    rows = [row(traject="S4-BEH-4"), row(gemeente="Nergens", gestart="x"), row(traject="S4-SGGZ-9"),
            row(periode=f"{BEFORE_DEMO}-01", lopend="-3", traject="S4-BEH-4")]
    result = upload(provider, csv_bytes(rows))
    assert result.state == "refused"
    # Row 5 lies outside the agreement: that is its fault, not (also) its trajectory.
    assert errors_of(result) == [(3, "gemeente"), (3, "gestart"), (5, "lopend"), (5, "periode")]
    assert result.error_count == 4
    assert result.message.startswith("4 fouten gevonden in 4 regels")
    assert counts(provider) == before


def test_one_bad_row_among_many_good_stores_nothing(provider):
    before = counts(provider)
    rows = [row(periode=f"{LAST_YEAR}-{month:02d}", gemeente=code, traject=traject)
            for month in range(1, 13) for code in ("0983", "0889", "0984")
            for traject in ("S4-BEG-6", "S4-BEH-4", "S4-SGGZ-9")]
    rows.insert(77, row(periode=f"{LAST_YEAR}-05", traject="S4-ONBEKEND"))
    result = upload(provider, csv_bytes(rows))
    assert result.state == "refused"
    assert errors_of(result) == [(79, "traject")]
    assert result.error_count == 1 and result.rows_done == len(rows)
    assert counts(provider) == before


@pytest.mark.parametrize("content, name, message", [
    (b"", "leeg.csv", "Het bestand is leeg."),
    (b"   \r\n  \r\n", "spaties.csv", "Het bestand is leeg."),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "realisatie.csv",
     "Dit bestand heet .csv maar is geen tekstbestand met kolommen."),
    (b"gemeente;segment\nVenlo;jeugd.S4\n", "realisatie.xlsx", "Dit bestand heet .xlsx maar is geen Excel-werkmap"),
    (b"gemeente;segment\n", "realisatie.pdf", "Kies een CSV- of XLSX-bestand"),
])
def test_a_file_that_is_not_what_it_says_or_empty_is_refused_at_once(provider, content, name, message):
    before = counts(provider)
    received = receive_file(provider, None, io.BytesIO(content), name)
    assert received.state == "refused" and received.message.startswith(message)
    assert received.stored_name is None and received.finished_at is not None
    assert process_upload(received.id).state == "refused"
    assert counts(provider) == before


def test_header_only_file_is_refused(provider):
    before = counts(provider)
    result = upload(provider, csv_bytes([]))
    assert result.state == "refused"
    assert [(e["row"], e["message"]) for e in result.errors] == [
        (2, "Het bestand heeft geen regels met realisatie onder de kopregel.")]
    assert counts(provider) == before


def test_wrong_header_is_refused(provider):
    before = counts(provider)
    header = ("gemeente", "segment", "traject", "gestart", "hoeveelheid")
    result = upload(provider, csv_bytes([("0983", "jeugd.S4", "S4-BEG-6", "1", "1")], header=header))
    assert result.state == "refused"
    assert errors_of(result) == [(1, "periode"), (1, "hoeveelheid")]
    assert result.message == "De kopregel klopt niet; niets is opgeslagen."
    assert counts(provider) == before


def test_rows_twice_in_one_file_are_refused(provider):
    before = counts(provider)
    rows = [row(), row(traject="S4-BEH-4"), row(traject="s4-beg-6", gestart="1")]
    result = upload(provider, csv_bytes(rows))
    assert result.state == "refused"
    assert errors_of(result) == [(4, "traject")]
    assert "Deze regel staat er al (regel 2)" in result.errors[0]["message"]
    assert counts(provider) == before


# --- Good input -------------------------------------------------------------------------------------


def test_a_good_file_becomes_reports_whose_totals_are_their_lines(provider):
    before_reports, before_lines = counts(provider)
    rows = [row(gemeente="0983", periode=f"{LAST_YEAR}-03", traject="S4-BEG-6", gestart="2"),
            row(gemeente="Venlo", periode=f"{LAST_YEAR}-03", traject="S4-BEH-4", gestart="3", lopend="3", clienten="3"),
            row(gemeente="0889", periode=f"{LAST_YEAR}-03", traject="S4-BEG-6", gestart="1"),
            row(gemeente="0889", periode=f"{LAST_YEAR}-04", traject="S4-SGGZ-9", gestart="0"),
            row(gemeente="0983", segment="Wmo S1a", periode=f"{LAST_YEAR}-03", traject="S1A-BEG-9", gestart="4",
                lopend="9", clienten="9")]
    result = upload(provider, csv_bytes(rows))
    assert result.state == "stored", result.errors
    assert result.message == "5 regels ingelezen in 4 rapportages."
    assert result.report_count == 4 and result.rows_done == 5
    reports = reports_of(result)
    keys = sorted((r.municipality_id, r.segment_key, r.year, r.period_kind, r.period) for r in reports)
    municipalities = {o.municipality_code: o.id for o in db.session().exec(select(Organisation).where(
        Organisation.municipality_code.is_not(None)))}
    assert keys == sorted([(municipalities["0983"], "jeugd.S4", LAST_YEAR, "month", 3),
                           (municipalities["0889"], "jeugd.S4", LAST_YEAR, "month", 3),
                           (municipalities["0889"], "jeugd.S4", LAST_YEAR, "month", 4),
                           (municipalities["0983"], "wmo.S1a", LAST_YEAR, "month", 3)])
    for report in reports:
        lines = lines_of(report)
        assert report.state == "submitted" and report.version == 1
        assert report.line_count == len(lines)
        assert report.total_value == sum((line.value for line in lines), Decimal("0.00"))
        for line in lines:
            segment = report.segment_key
            price = catalogue_price(provider, segment, line.trajectory_code, LAST_YEAR)
            assert line.unit_price == price
            assert line.value == (line.started * price).quantize(CENT, ROUND_HALF_UP)
    venlo = next(r for r in reports if r.municipality_id == municipalities["0983"] and r.segment_key == "jeugd.S4")
    assert [(line.source_row, line.trajectory_code, line.started, line.running, line.ended, line.clients)
            for line in lines_of(venlo)] == [(2, "S4-BEG-6", 2, 5, 1, 4), (3, "S4-BEH-4", 3, 3, 1, 3)]
    assert counts(provider) == (before_reports + 4, before_lines + 5)


def test_audit_entries_are_written(provider):
    start_id = _max_id(AuditEvent)
    result = upload(provider, csv_bytes([row(), row(gemeente="0889")]))
    assert result.state == "stored"
    events = list(db.session().exec(select(AuditEvent).where(AuditEvent.id > start_id).order_by(AuditEvent.id)))
    actions = [event.action for event in events]
    assert actions.count("realisation.upload_received") == 1
    assert actions.count("realisation.submitted") == 2
    assert actions.count("realisation.upload_stored") == 1
    submitted = [e for e in events if e.action == "realisation.submitted"]
    assert {str(e.object_id) for e in submitted} == {str(r.id) for r in reports_of(result)}
    assert all(e.organisation_id == provider.id for e in events)
    refused_start = _max_id(AuditEvent)
    refused = upload(provider, csv_bytes([row(gemeente="Nergens")], ) + b"\r\n")
    assert refused.state == "refused"
    actions = [e.action for e in db.session().exec(select(AuditEvent).where(AuditEvent.id > refused_start))]
    assert sorted(actions) == ["realisation.upload_received", "realisation.upload_refused"]


def test_the_same_file_twice_is_not_counted_twice(provider):
    content = csv_bytes([row(), row(traject="S4-BEH-4")])
    first = upload(provider, content)
    assert first.state == "stored"
    after_first = counts(provider)
    second = receive_file(provider, None, io.BytesIO(content), "nogmaals.csv")
    assert second.state == "refused"
    assert "Dit bestand is al ingelezen op" in second.message and "'realisatie.csv'" in second.message
    assert "het telt niet twee keer mee" in second.message
    assert process_upload(second.id).state == "refused"
    assert counts(provider) == after_first
    # A refused file may be sent again after all: only a stored one counts.
    bad = csv_bytes([row(gemeente="Nergens")])
    assert upload(provider, bad).state == "refused"
    again = receive_file(provider, None, io.BytesIO(bad), "r.csv")
    assert again.state == "queued"


def test_the_same_file_queued_twice_is_stored_once(provider):
    """Two uploads of one file received before either was processed: the second is refused when
    it is processed, not stored as a second version."""
    content = csv_bytes([row(), row(traject="S4-BEH-4")])
    first = receive_file(provider, None, io.BytesIO(content), "a.csv")
    second = receive_file(provider, None, io.BytesIO(content), "b.csv")
    assert (first.state, second.state) == ("queued", "queued")
    before = counts(provider)
    assert process_upload(first.id).state == "stored"
    after_first = counts(provider)
    assert after_first == (before[0] + 1, before[1] + 2)
    second = process_upload(second.id)
    assert second.state == "refused" and "al ingelezen" in second.message
    assert counts(provider) == after_first


def test_a_correction_is_a_new_version_and_the_old_one_stays_readable(provider):
    original = upload(provider, csv_bytes([row(gestart="2"), row(traject="S4-BEH-4", gestart="1")]))
    assert original.state == "stored"
    [version_1] = reports_of(original)
    old_total, old_lines = version_1.total_value, [(l.trajectory_code, l.started) for l in lines_of(version_1)]
    correction = upload(provider, csv_bytes([row(gestart="3")]), name="correctie.csv")
    assert correction.state == "stored", correction.errors
    [version_2] = reports_of(correction)
    db.session().refresh(version_1)
    assert (version_1.state, version_1.version) == ("superseded", 1)
    assert (version_2.state, version_2.version) == ("submitted", 2)
    assert version_1.total_value == old_total
    assert [(l.trajectory_code, l.started) for l in lines_of(version_1)] == old_lines == [
        ("S4-BEG-6", 2), ("S4-BEH-4", 1)]
    assert [(l.trajectory_code, l.started) for l in lines_of(version_2)] == [("S4-BEG-6", 3)]
    price = catalogue_price(provider, "jeugd.S4", "S4-BEG-6", LAST_YEAR)
    assert version_2.total_value == (3 * price).quantize(CENT, ROUND_HALF_UP)
    current = db.session().exec(realisation_import.latest_reports_query(provider.id).where(
        RealisationReport.segment_key == "jeugd.S4", RealisationReport.year == LAST_YEAR,
        RealisationReport.municipality_id == version_1.municipality_id)).all()
    assert [r.id for r in current] == [version_2.id]
    # A third version supersedes the second, the first stays superseded.
    third = upload(provider, csv_bytes([row(gestart="4")]), name="correctie2.csv")
    [version_3] = reports_of(third)
    db.session().refresh(version_2)
    assert (version_2.state, version_3.version) == ("superseded", 3)


def test_a_correction_of_an_approved_report_is_refused(provider):
    first = upload(provider, csv_bytes([row()]))
    [report] = reports_of(first)
    report.state = "approved"
    db.session().commit()
    before = counts(provider)
    correction = upload(provider, csv_bytes([row(gestart="1"), row(gemeente="0889")]))
    assert correction.state == "refused"
    assert errors_of(correction) == [(2, "periode")]
    assert "is al goedgekeurd en staat vast" in correction.errors[0]["message"]
    assert counts(provider) == before
    # Through the API path as well.
    upload_row = dict(zip(HEADER, row(gestart="1")))
    api_upload, result = submit_rows(provider, None, [upload_row], "api")
    assert api_upload.state == "refused" and [e.column for e in result.errors] == ["periode"]
    assert counts(provider) == before


def test_approved_between_check_and_store_is_refused(provider, monkeypatch):
    first = upload(provider, csv_bytes([row()]))
    [report] = reports_of(first)
    before = counts(provider)
    original = realisation_import.store_source

    def approve_then_store(*args, **kwargs):
        db.session().execute(realisation_import.update(RealisationReport).where(
            RealisationReport.id == report.id).values(state="approved"))
        return original(*args, **kwargs)

    monkeypatch.setattr(realisation_import, "store_source", approve_then_store)
    result = upload(provider, csv_bytes([row(gestart="1")]))
    assert result.state == "refused"
    assert "is intussen goedgekeurd en staat vast" in result.message
    assert counts(provider) == before


# --- Rules of the region and of municipalities --------------------------------------------------


def test_places_in_venlo_jeugd_s3_need_place_days_and_are_valued_by_them(provider):
    before = counts(provider)
    without = upload(provider, csv_bytes([row(segment="jeugd.S3", traject="S3-DAGB-6", gestart="1", lopend="4",
                                              beeindigd="0", clienten="4")]))
    assert without.state == "refused"
    assert errors_of(without) == [(2, "plekdagen")]
    assert without.errors[0]["message"] == ("Vul het aantal bezette plekdagen in: Venlo koopt plekken in dit "
                                            "segment.")
    assert counts(provider) == before
    stored = upload(provider, csv_bytes([row(segment="jeugd.S3", traject="S3-DAGB-6", gestart="1", lopend="4",
                                             beeindigd="0", clienten="4", plekdagen="93")]))
    assert stored.state == "stored", stored.errors
    [report] = reports_of(stored)
    [line] = lines_of(report)
    price = catalogue_price(provider, "jeugd.S3", "S3-DAGB-6", LAST_YEAR)
    place_year = (price * 12 / 6).quantize(CENT, ROUND_HALF_UP)
    place_day = (place_year / 365).quantize(CENT, ROUND_HALF_UP)
    assert (line.place_days, line.unit_price) == (93, place_day)
    assert line.value == report.total_value == (93 * place_day).quantize(CENT, ROUND_HALF_UP)
    # Beesel buys trajectories in S3: place-days are not asked there, started trajectories count.
    beesel = upload(provider, csv_bytes([row(gemeente="0889", segment="jeugd.S3", traject="S3-DAGB-6",
                                             gestart="1", lopend="4", beeindigd="0", clienten="4")]))
    assert beesel.state == "stored", beesel.errors
    [line] = lines_of(reports_of(beesel)[0])
    assert line.value == price


class QuarterlyBeesel:
    """A throwaway plugin: Beesel wants realisation per quarter."""

    @hookimpl
    def portal_local_rules(self):
        return [LocalRule("reporting_period", "quarter", region="noord-limburg", municipality="0889",
                          reason="Beesel rapporteert per kwartaal")]


def test_quarter_reporting_where_a_local_rule_says_quarter(app, app_config, database_url):
    quarterly = make_app(database_url, EXTRA_PLUGINS=[QuarterlyBeesel()], **app_config)
    with quarterly.app_context():
        organisation = db.session().exec(select(Organisation).where(Organisation.name == PROVIDER)).one()
        before = counts(organisation)
        months = upload(organisation, csv_bytes([row(gemeente="0889", periode=f"{LAST_YEAR}-04"),
                                                 row(gemeente="0983", periode=f"{LAST_YEAR}-04")]))
        assert months.state == "refused"
        assert errors_of(months) == [(2, "periode")]
        assert months.errors[0]["message"].startswith("Beesel wil realisatie voor ")
        assert months.errors[0]["message"].endswith(f" per kwartaal, bijvoorbeeld {LAST_YEAR}-K1.")
        assert counts(organisation) == before
        quarters = upload(organisation, csv_bytes([row(gemeente="0889", periode=f"{LAST_YEAR}-K2"),
                                                   row(gemeente="0889", periode=f"{LAST_YEAR}-q3", traject="S4-BEH-4"),
                                                   row(gemeente="0983", periode=f"{LAST_YEAR}-04")]))
        assert quarters.state == "stored", quarters.errors
        kinds = sorted((r.period_kind, r.period) for r in reports_of(quarters))
        assert kinds == [("month", 4), ("quarter", 2), ("quarter", 3)]
        # Venlo keeps the region's default: a quarter is refused there.
        venlo = upload(organisation, csv_bytes([row(gemeente="0983", periode=f"{LAST_YEAR}-K2")]))
        assert venlo.state == "refused" and "per maand" in venlo.errors[0]["message"]
    quarterly.extensions["portal.engine"].dispose()


# --- Failure halfway, background, size ------------------------------------------------------------


def test_a_failure_while_storing_stores_nothing(provider, monkeypatch):
    before = counts(provider)
    monkeypatch.setattr(realisation_import, "BATCH", 5)
    monkeypatch.setattr(realisation_import, "WRITE_BATCH", 5)
    real_write = realisation_import.LineWriter._write_lines
    calls = []

    def failing_write(writer, rows):  # the second batch of lines (reports and lines were written before)
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database weg")
        return real_write(writer, rows)

    monkeypatch.setattr(realisation_import.LineWriter, "_write_lines", failing_write)
    rows = [row(periode=f"{LAST_YEAR}-{month:02d}", traject=traject) for month in range(1, 5)
            for traject in ("S4-BEG-6", "S4-BEH-4", "S4-SGGZ-9")]
    result = upload(provider, csv_bytes(rows))
    assert len(calls) >= 2  # the second batch failed (a third may have been handed over already)
    assert result.state == "failed"
    assert result.message == "Er ging iets mis bij het inlezen; niets is opgeslagen."
    assert counts(provider) == before
    assert reports_of(result) == []
    # Nothing half-done is left behind: the same file goes through afterwards.
    monkeypatch.setattr(realisation_import.LineWriter, "_write_lines", real_write)
    again = upload(provider, csv_bytes(rows))
    assert again.state == "stored", again.errors
    assert counts(provider) == (before[0] + 4, before[1] + 12)


def test_a_failure_while_storing_rows_from_the_api_stores_nothing(provider, monkeypatch):
    before = counts(provider)
    monkeypatch.setattr(realisation_import, "BATCH", 1)
    monkeypatch.setattr(realisation_import, "WRITE_BATCH", 1)
    real_write = realisation_import.LineWriter._write_lines
    calls = []

    def failing_write(writer, rows):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database weg")
        return real_write(writer, rows)

    monkeypatch.setattr(realisation_import.LineWriter, "_write_lines", failing_write)
    rows = [dict(zip(HEADER, row(traject=code))) for code in ("S4-BEG-6", "S4-BEH-4")]
    with pytest.raises(RuntimeError):
        submit_rows(provider, None, rows, "api")
    db.session().rollback()
    assert counts(provider) == before


def test_in_the_background_start_returns_at_once_and_the_upload_is_stored(app, provider, monkeypatch):
    monkeypatch.setitem(app.config, "REALISATION_IN_BACKGROUND", True)
    rows = [row(periode=f"{LAST_YEAR}-{month:02d}", gemeente=code, traject=traject) for month in range(1, 13)
            for code in ("0983", "0889", "0984", "0893") for traject in ("S4-BEG-6", "S4-BEH-4", "S4-SGGZ-9")]
    received = receive_file(provider, None, io.BytesIO(csv_bytes(rows)), "achtergrond.csv")
    began = time.monotonic()
    start(received)
    assert time.monotonic() - began < 0.5
    deadline = time.monotonic() + 30
    state = "queued"
    while time.monotonic() < deadline:
        with Session(db.engine()) as own:
            state = own.get(RealisationUpload, received.id).state
        if state in ("stored", "refused", "failed"):
            break
        time.sleep(0.05)
    assert state == "stored"
    with Session(db.engine()) as own:
        stored = own.get(RealisationUpload, received.id)
        assert stored.report_count == 48 and stored.rows_done == len(rows)
    assert realisation_import.progress.get(received.id) is None


def _copies_of_s4_beg_6(prefix: str, count: int) -> None:
    """``count`` trajectories in last year's catalogue, copies of S4-BEG-6 coded ``prefix000`` and on
    (removed after the test with the rest)."""
    session = db.session()
    template = session.exec(select(StandardTrajectory).where(
        StandardTrajectory.segment_key == "jeugd.S4", StandardTrajectory.code == "S4-BEG-6",
        StandardTrajectory.year == LAST_YEAR)).one()
    fields = template.model_dump(exclude={"id", "created_at"})
    for index in range(count):
        session.add(StandardTrajectory(**{**fields, "code": f"{prefix}{index:03d}", "name": f"Proef {index}"}))
    session.commit()


def test_twenty_thousand_rows_import(provider):
    """20,160 distinct lines: 6 municipalities × 12 months × 280 trajectories (added to last
    year's catalogue as copies of S4-BEG-6)."""
    _copies_of_s4_beg_6("S4-X", 280)
    municipalities = ("0889", "0893", "0907", "1894", "0983", "0984")  # Horst buys places in S4 (demo year 3 on)
    rows = [row(gemeente=code, periode=f"{LAST_YEAR}-{month:02d}", traject=f"S4-X{index:03d}", gestart="1",
                lopend="2", beeindigd="0", clienten="2")
            for code in municipalities for month in range(1, 13) for index in range(280)]
    before = counts(provider)
    began = time.monotonic()
    result = upload(provider, csv_bytes(rows))
    elapsed = time.monotonic() - began
    assert result.state == "stored", (result.message, result.errors[:3] if result.errors else None)
    assert result.rows_done == 20_160 and result.report_count == 72
    assert counts(provider) == (before[0] + 72, before[1] + 20_160)
    price = catalogue_price(provider, "jeugd.S4", "S4-BEG-6", LAST_YEAR)
    totals = {r.total_value for r in reports_of(result)}
    assert totals == {280 * price}
    assert elapsed < 60, elapsed


def test_submit_rows_normalises_column_names_and_refuses_unknown_ones(provider):
    before = counts(provider)
    good = {"Gemeente": "0983", "Segment": "jeugd.S4", "Periode": f"{LAST_YEAR}-03", "Traject": "S4-BEG-6",
            "Gestart": 1, "Lopend": 2, "Beëindigd": 1, "Cliënten": 2}
    item, result = submit_rows(provider, None, [good], "api")
    assert item.state == "stored", result.errors
    [line] = lines_of(reports_of(item)[0])
    assert (line.started, line.running, line.ended, line.clients) == (1, 2, 1, 2)
    typo = {**dict(zip(HEADER, row(periode=f"{LAST_YEAR}-04"))), "gestard": "3"}
    item, result = submit_rows(provider, None, [typo], "api")
    assert item.state == "refused"
    assert [(e.row, e.column) for e in result.errors] == [(1, "gestard")]
    assert counts(provider) == (before[0] + 1, before[1] + 1)


def test_submit_rows_refuses_nothing_to_submit(provider):
    item, result = submit_rows(provider, None, [], "form")
    assert item.state == "refused" and result.error_count == 1


def test_stored_trajectory_code_is_the_catalogue_code(provider):
    item = upload(provider, csv_bytes([row(traject="s4-beg-6")]))
    assert item.state == "stored"
    assert [line.trajectory_code for line in lines_of(reports_of(item)[0])] == ["S4-BEG-6"]


def test_batches_read_column_by_column_keep_rows_left_empty_out_and_find_duplicates_across_batches(provider,
                                                                                                 monkeypatch):
    """4,800 rows (batches of 700, written 1,500 at a time, report ids 8 at a time) of 6 municipalities
    × 4 months × 200 trajectories, each report's rows split over the file, with template rows left empty among
    them: a duplicate in the last batch of a line of the first is found and named; without it
    every report's total is the sum of its lines (also of the reports whose rows were written with
    the sums of their first half) and the empty rows are not stored."""
    monkeypatch.setattr(realisation_import, "BATCH", 700)
    monkeypatch.setattr(realisation_import, "WRITE_BATCH", 1500)
    monkeypatch.setattr(realisation_import.LineWriter, "IDS_AT_A_TIME", 8)  # PostgreSQL: ids taken ahead, often
    rewritten = []  # per import: the reports whose sums the finish writes (their rows were written earlier)
    real_prepare = realisation_import.prepare_finish

    def prepare(writer, result):
        rewritten.append(len(writer.dirty))
        return real_prepare(writer, result)

    monkeypatch.setattr(realisation_import, "prepare_finish", prepare)
    _copies_of_s4_beg_6("S4-Y", 200)
    municipalities = ("0889", "0893", "0907", "0983", "0984", "1894")
    rows = []
    for half in (range(0, 100), range(100, 200)):  # each report met twice, far apart
        for code in municipalities:
            for month in range(1, 5):
                for index in half:
                    rows.append(row(gemeente=code, periode=f"{LAST_YEAR}-{month:02d}", traject=f"S4-Y{index:03d}",
                                    gestart=str(index % 3), lopend="3", beeindigd=str(index % 2), clienten="3"))
                rows.append(row(gemeente=code, periode=f"{LAST_YEAR}-{month:02d}", traject="S4-BEG-6", gestart="",
                                lopend="", beeindigd="", clienten=""))  # left empty: skipped
    twice = rows + [row(gemeente="0889", periode=f"{LAST_YEAR}-01", traject="s4-y007", gestart="1", lopend="3",
                        beeindigd="0", clienten="3")]
    before = counts(provider)
    refused = upload(provider, csv_bytes(twice), name="twee-keer.csv")
    assert refused.state == "refused"
    assert refused.error_count == 1 and errors_of(refused) == [(len(twice) + 1, "traject")]
    assert "Deze regel staat er al (regel 9)" in refused.errors[0]["message"]
    assert counts(provider) == before
    stored = upload(provider, csv_bytes(rows))
    assert stored.state == "stored", (stored.message, stored.errors[:3] if stored.errors else None)
    assert stored.rows_done == 4_800 and stored.report_count == 24
    assert 0 < rewritten[-1] <= 24  # PostgreSQL: the reports met in two batches; SQLite: all
    assert counts(provider) == (before[0] + 24, before[1] + 4_800)
    for report in reports_of(stored):
        lines = lines_of(report)
        assert len(lines) == 200 and report.line_count == 200
        assert report.total_value == sum(line.value for line in lines)
        assert report.ended_total == sum(line.ended for line in lines) == 100
        assert report.warnings is None and report.figures is None
        for line in lines:
            quantity = line.started if line.place_days is None else line.place_days
            assert line.value == (line.unit_price * quantity).quantize(CENT, ROUND_HALF_UP)
