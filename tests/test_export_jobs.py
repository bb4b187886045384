"""Long exports as jobs (issue 14, point 2): the audit log and the budget dashboard as XLSX go
through the job queue on a real Redis (a database of its own, ``PORTAL_TEST_QUEUE_REDIS_URL``) and a
real ``flask worker``; the file holds exactly the rows of the inline export, only its own user and
organisation fetch it, it is gone after its TTL. Bad input: Redis down (the page says so and nothing
is written), a job that fails (Mislukt, the reason, Opnieuw proberen), an export folder that is not
writable. Without Redis the exports answer the file itself, as before.

The demo is loaded once for this module; audit events are append-only and stay.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from portal import exports, jobs
from portal.config import ConfigurationError
from portal.models import AuditEvent, Organisation
from tests.conftest import DEMO_PASSWORD, _empty_tables, csrf_token, make_app
from tests.dates import YEAR
from tests.test_jobs import _wait_for, _worker, client_of, files_in

ADMIN = "beheer@zorggroep-maasland.example"
OTHER_PROVIDER = "beheer@thuishulp-venray.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
AUDITOR = "auditor@accountant-noord-limburg.example"
AUDIT_URL = "/logboek/export.xlsx?actie=auth."
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JOB_PAGE = re.compile(r"/export/(export-[0-9a-f]{32})$")


@pytest.fixture(scope="module")
def upload_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gedeelde-map")


@pytest.fixture(scope="module")
def base_app(database_url, upload_folder):
    """The portal without Redis (exports within the request), with the demo loaded once."""
    from portal.demo import load_demo

    application = make_app(database_url, UPLOAD_FOLDER=str(upload_folder))
    with application.app_context():
        load_demo(DEMO_PASSWORD)
    yield application
    engine = application.extensions["portal.engine"]
    _empty_tables(engine)
    engine.dispose()


@pytest.fixture
def queue_app(base_app, database_url, upload_folder, queue_redis_url):
    """The same portal with the job queue on."""
    application = make_app(database_url, UPLOAD_FOLDER=str(upload_folder), REDIS_URL=queue_redis_url)
    yield application
    application.extensions["portal.engine"].dispose()


@pytest.fixture
def export_folder(upload_folder) -> Path:
    """The default export folder (in the upload folder, which the worker reaches too); emptied after."""
    folder = upload_folder / "exports"
    yield folder
    for leftover in files_in(upload_folder):
        leftover.unlink()


def workbook_rows(content: bytes) -> dict[str, list[tuple]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets}


def queue_export(client, url: str) -> str:
    """Open the export's page, press "Maak export"; returns the job's id."""
    offer = client.get(url)
    assert offer.status_code == 200 and "Maak export" in offer.get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 303, response.get_data(as_text=True)
    return JOB_PAGE.search(response.headers["Location"]).group(1)


def run_worker(database_url, queue_redis_url, upload_folder, tmp_path):
    """A real ``flask worker --burst`` until the queue is empty."""
    worker = _worker(database_url, queue_redis_url, upload_folder, tmp_path)
    output = worker.communicate(timeout=300)[0].decode()
    assert worker.returncode == 0, output[-3000:]
    return output


def export_events(app) -> int:
    with Session(app.extensions["portal.engine"]) as session:
        return session.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "audit_log.exported")).one()


# --- Without Redis: the file itself, as before --------------------------------------------------


def test_without_redis_the_export_is_the_file_itself_and_nothing_is_stored(base_app, export_folder):
    client = client_of(base_app, MANAGER)
    assert "Downloaden als Excel (XLSX)" in client.get("/logboek/").get_data(as_text=True)
    response = client.get(AUDIT_URL)
    assert response.status_code == 200 and response.mimetype == XLSX
    assert response.headers["Cache-Control"] == "no-store"
    assert files_in(export_folder) == []


def test_an_export_folder_that_is_not_writable_stops_the_start_up(database_url, upload_folder, tmp_path):
    blocker = tmp_path / "een-bestand"
    blocker.write_text("geen map")
    with pytest.raises(ConfigurationError, match="PORTAL_EXPORT_FOLDER") as raised:
        make_app(database_url, UPLOAD_FOLDER=str(upload_folder), EXPORT_FOLDER=str(blocker / "exports"))
    assert "niet schrijfbaar" in str(raised.value) and str(blocker / "exports") in str(raised.value)


# --- With Redis and a real worker -----------------------------------------------------------------


def test_the_audit_log_export_is_a_job_with_the_rows_of_the_inline_export(
        base_app, queue_app, database_url, queue_redis_url, upload_folder, export_folder, tmp_path):
    inline_client, client = client_of(base_app, MANAGER), client_of(queue_app, MANAGER)
    others = [client_of(queue_app, AUDITOR), client_of(queue_app, ADMIN)]  # the region's auditor, a provider
    inline = workbook_rows(inline_client.get(AUDIT_URL).get_data())
    events = export_events(queue_app)

    listing = client.get("/logboek/?actie=auth.").get_data(as_text=True)
    assert "Excel-export maken (XLSX)" in listing and 'href="/logboek/export.xlsx?actie=auth."' in listing
    assert "Gebeurtenissen die beginnen met &#39;auth.&#39;" in client.get(AUDIT_URL).get_data(as_text=True)
    job_id = queue_export(client, AUDIT_URL)
    assert export_events(queue_app) == events + 1  # recorded when asked for, as the inline export does

    waiting = client.get(f"/export/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "In de wachtrij" in waiting and 'hx-trigger="every 1s"' in waiting and "<progress" in waiting
    assert "<html" not in waiting  # htmx gets the section only
    for other in others:
        assert other.get(f"/export/{job_id}").status_code == 404
    with queue_app.app_context():  # what the bar shows while the worker writes
        jobs.set_progress(job_id, "writing", 50, 200)
    writing = client.get(f"/export/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Bestand schrijven" in writing and 'value="25"' in writing and "50 van 200 regels geschreven" in writing

    run_worker(database_url, queue_redis_url, upload_folder, tmp_path)

    ready = client.get(f"/export/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Klaar" in ready and f'href="/export/{job_id}/bestand"' in ready and "every 1s" not in ready
    assert "Het bestand blijft 1 uur voor u klaarstaan" in ready
    assert [path.name for path in files_in(export_folder)] == [f"{job_id}.xlsx"]
    with queue_app.app_context():
        found = jobs.record(job_id)
    assert found["state"] == "finished" and found["phase"] == "writing"
    assert int(found["done"]) == int(found["total"]) == len(inline["Logboek"]) - 1

    download = client.get(f"/export/{job_id}/bestand")
    assert download.status_code == 200 and download.mimetype == XLSX
    assert download.headers["Cache-Control"] == "no-store"
    assert 'filename="logboek-noord-limburg-' in download.headers["Content-Disposition"]
    assert workbook_rows(download.get_data()) == inline
    assert client.get(f"/export/{job_id}/bestand").status_code == 200  # again, while its TTL runs
    for other in others:
        assert other.get(f"/export/{job_id}/bestand").status_code == 404


def test_the_dashboard_export_is_a_job_with_the_rows_of_the_inline_export(
        base_app, queue_app, database_url, queue_redis_url, upload_folder, export_folder, tmp_path):
    with Session(queue_app.extensions["portal.engine"]) as session:
        venlo = session.exec(select(Organisation.id).where(Organisation.name == "Venlo")).one()
    url = f"/realisatie/dashboard/export.xlsx?jaar={YEAR - 1}&gemeente={venlo}&indeling=gemeente"
    inline = workbook_rows(client_of(base_app, ADMIN).get(url).get_data())
    assert len(inline["Overzicht"]) > 2, "the provider has agreements with Venlo that year"
    client = client_of(queue_app, ADMIN)
    dashboard = client.get(f"/realisatie/dashboard/?jaar={YEAR - 1}&gemeente={venlo}").get_data(as_text=True)
    assert "Excel (XLSX) maken" in dashboard
    offer = client.get(url).get_data(as_text=True)
    assert f"Jaar {YEAR - 1}, ingedeeld per gemeente" in offer and "Gemeente: Venlo" in offer
    job_id = queue_export(client, url)
    others = [client_of(queue_app, OTHER_PROVIDER), client_of(queue_app, MANAGER)]

    run_worker(database_url, queue_redis_url, upload_folder, tmp_path)

    page = client.get(f"/export/{job_id}").get_data(as_text=True)
    assert "Klaar" in page and "Budgetdashboard als Excel (XLSX)" in page and "Downloaden" in page
    download = client.get(f"/export/{job_id}/bestand")
    assert download.status_code == 200
    assert f'filename="budgetdashboard-{YEAR - 1}.xlsx"' in download.headers["Content-Disposition"]
    assert workbook_rows(download.get_data()) == inline
    for other in others:
        assert other.get(f"/export/{job_id}").status_code == 404
        assert other.get(f"/export/{job_id}/bestand").status_code == 404


def test_a_filter_the_viewer_may_not_use_is_refused_before_anything_is_queued(queue_app, export_folder):
    with Session(queue_app.extensions["portal.engine"]) as session:
        other = session.exec(select(Organisation.id).where(Organisation.name == "Thuishulp Venray")).one()
    client = client_of(queue_app, ADMIN)
    url = f"/realisatie/dashboard/export.xlsx?jaar={YEAR}&aanbieder={other}"
    assert client.get(url).status_code == 404
    token = csrf_token(client, f"/realisatie/dashboard/export.xlsx?jaar={YEAR}")
    assert client.post(url, data={"csrf_token": token}).status_code == 404
    assert client.post(f"/realisatie/dashboard/export.xlsx?jaar={YEAR}").status_code == 400  # no CSRF token
    assert files_in(export_folder) == []


def test_redis_down_the_page_says_the_job_could_not_be_queued_and_nothing_is_written(
        base_app, database_url, upload_folder, export_folder):
    down = make_app(database_url, UPLOAD_FOLDER=str(upload_folder), REDIS_URL="redis://127.0.0.1:1/0")
    try:
        client = client_of(down, MANAGER)
        events = export_events(down)
        response = client.post(AUDIT_URL, data={"csrf_token": csrf_token(client, AUDIT_URL)})
        body = response.get_data(as_text=True)
        assert response.status_code == 503 and jobs.NOT_QUEUED in body and "Maak export" in body
        assert export_events(down) == events  # not even the audit event of an export that never came
        assert files_in(export_folder) == []
    finally:
        down.extensions["portal.engine"].dispose()


def test_a_failed_export_says_why_and_the_retry_makes_it(queue_app, export_folder, monkeypatch):
    client = client_of(queue_app, MANAGER)
    job_id = queue_export(client, AUDIT_URL)

    def broken(progress):
        raise RuntimeError("schijf vol")

    monkeypatch.setitem(exports.EXPORTS, "audit_log.xlsx", exports.Export("audit_log.xlsx", "Logboek", broken))
    jobs.work(queue_app, burst=True, simple=True)  # RQ's own worker, in this process
    monkeypatch.undo()

    page = client.get(f"/export/{job_id}").get_data(as_text=True)
    assert "Mislukt" in page and "Er ging iets mis bij het uitvoeren van de taak." in page
    assert "Opnieuw proberen" in page and f'action="{AUDIT_URL}"' in page and "every 1s" not in page
    assert client.get(f"/export/{job_id}/bestand").status_code == 303  # no file: back to its page
    assert files_in(export_folder) == []

    response = client.post(AUDIT_URL, data={"csrf_token": csrf_token(client, f"/export/{job_id}")})
    assert response.status_code == 303
    retried = JOB_PAGE.search(response.headers["Location"]).group(1)
    assert retried != job_id
    jobs.work(queue_app, burst=True, simple=True)
    assert "Klaar" in client.get(f"/export/{retried}").get_data(as_text=True)
    assert client.get(f"/export/{retried}/bestand").status_code == 200


def test_a_ready_export_is_removed_after_its_ttl(base_app, database_url, upload_folder, queue_redis_url,
                                                 export_folder):
    short = make_app(database_url, UPLOAD_FOLDER=str(upload_folder), REDIS_URL=queue_redis_url, EXPORT_TTL=1)
    try:
        client = client_of(short, MANAGER)
        job_id = queue_export(client, AUDIT_URL)
        jobs.work(short, burst=True, simple=True)
        assert [path.name for path in files_in(export_folder)] == [f"{job_id}.xlsx"]
        _wait_for(lambda: not file_kept(short, job_id), 10, "the file's TTL to run out")
        page = client.get(f"/export/{job_id}").get_data(as_text=True)
        assert "Verlopen" in page and "Opnieuw maken" in page
        assert client.get(f"/export/{job_id}/bestand").status_code == 303
        with short.app_context():
            assert exports.sweep() == 1
        assert files_in(export_folder) == []
    finally:
        short.extensions["portal.engine"].dispose()


def file_kept(app, job_id: str) -> bool:
    with app.app_context():
        return exports.available(job_id)


def test_an_unknown_job_id_is_a_404_and_a_job_page_is_never_cached(queue_app, export_folder):
    client = client_of(queue_app, MANAGER)
    assert client.get("/export/export-0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/export/settlement-run-0123").status_code == 404
    job_id = queue_export(client, AUDIT_URL)
    page = client.get(f"/export/{job_id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
