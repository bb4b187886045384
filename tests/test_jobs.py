"""The job queue (issue 14, point 2): realisation uploads and settlement runs as RQ jobs on a real
Redis (a database of its own, see ``queue_redis_url``), run by a real worker; without Redis the same jobs
run in the web process. Bad input: Redis down, a worker killed mid-import (nothing stored, the
upload "mislukt" with the reason, the retry stores it), an upload folder that is not writable.

The demo is loaded once for this module; each test removes the uploads, reports, lines and
trajectories it added (audit events are append-only and stay).
"""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import delete, func
from sqlmodel import Session, select

from portal import PROJECT_ROOT, db, jobs
from portal.config import ConfigurationError
from portal.models import Organisation, StandardTrajectory
from portal.models.realisation import RealisationLine, RealisationReport, RealisationUpload
from portal.models.settlement import SettlementCostShare, SettlementLine, SettlementResponse, SettlementRun
from portal.realisation import importing
from portal.realisation import progress as realisation_progress
from tests.conftest import DEMO_PASSWORD, _empty_tables, csrf_token, make_app, sign_in
from tests.dates import RUN_DATE, YEAR

ADMIN = "beheer@zorggroep-maasland.example"
OTHER_PROVIDER = "beheer@thuishulp-venray.example"
MANAGER = "contractmanager@mgr-noord-limburg.example"
LAST_YEAR = YEAR - 1
HEADER = "gemeente;segment;periode;traject;gestart;lopend;beeindigd;clienten"
GOOD_CSV = (f"{HEADER}\n0889;jeugd.S4;{LAST_YEAR}-03;S4-BEG-6;2;5;1;5\n"
            f"0983;wmo.S1a;{LAST_YEAR}-03;S1A-BEG-9;1;3;0;3\n").encode()
BAD_CSV = f"{HEADER}\n9999;jeugd.S4;{LAST_YEAR}-03;S4-BEG-6;2;5;1;5\n".encode()


@pytest.fixture(scope="module")
def upload_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gedeelde-uploads")


@pytest.fixture(scope="module")
def base_app(database_url, upload_folder):
    """The portal without Redis (jobs run in the request), with the demo loaded once."""
    from portal.demo import load_demo

    application = make_app(database_url, UPLOAD_FOLDER=str(upload_folder), REALISATION_IN_BACKGROUND=False)
    with application.app_context():
        load_demo(DEMO_PASSWORD, realisation=False)
    yield application
    engine = application.extensions["portal.engine"]
    _empty_tables(engine)
    engine.dispose()


@pytest.fixture
def queue_app(base_app, database_url, upload_folder, queue_redis_url):
    """The same portal with the job queue on (a started job silent for 2 s counts as dead)."""
    application = make_app(database_url, UPLOAD_FOLDER=str(upload_folder), REDIS_URL=queue_redis_url, JOB_STALE_AFTER=2)
    yield application
    application.extensions["portal.engine"].dispose()


@pytest.fixture(autouse=True)
def cleanup(base_app, upload_folder):
    """What a test stored is removed afterwards (uploads, reports, lines, trajectories, files)."""
    models = (RealisationLine, RealisationReport, RealisationUpload, StandardTrajectory, SettlementLine,
              SettlementCostShare, SettlementResponse, SettlementRun)
    with base_app.app_context():
        session = db.session()
        baseline = {model: session.exec(select(func.coalesce(func.max(model.id), 0))).one() for model in models}
    yield
    with base_app.app_context():
        session = db.session()
        for model in models:
            session.execute(delete(model).where(model.id > baseline[model]))
        session.commit()
    for leftover in upload_folder.rglob("*"):
        if leftover.is_file():
            leftover.unlink()


def client_of(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def post_upload(client, content: bytes, name: str = "realisatie.csv"):
    token = csrf_token(client, "/realisatie/uploaden")
    return client.post("/realisatie/uploaden", data={"csrf_token": token, "bestand": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def state_of(app, upload_id: int) -> RealisationUpload:
    with Session(app.extensions["portal.engine"]) as session:
        found = session.get(RealisationUpload, upload_id)
        session.expunge(found)
        return found


def stored_counts(app) -> tuple[int, int]:
    """Reports and lines of Zorggroep Maasland."""
    with Session(app.extensions["portal.engine"]) as session:
        provider_id = session.exec(select(Organisation.id).where(Organisation.name == "Zorggroep Maasland")).one()
        reports = session.exec(select(func.count()).select_from(RealisationReport).where(
            RealisationReport.organisation_id == provider_id)).one()
        lines = session.exec(select(func.count()).select_from(RealisationLine).join(
            RealisationReport, RealisationReport.id == RealisationLine.report_id).where(
            RealisationReport.organisation_id == provider_id)).one()
        return reports, lines


def files_in(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def upload_id_of(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


# --- Without Redis: the same jobs, here and now -------------------------------------------------


def test_without_redis_a_job_runs_here_and_now(base_app):
    jobs.JOBS["test.twice"] = lambda number: 2 * number
    try:
        with base_app.test_request_context():
            assert not jobs.uses_queue()
            ticket = jobs.enqueue("test.twice", 21)
            assert (ticket.queued, ticket.result) == (False, 42)
            with pytest.raises(KeyError):
                jobs.enqueue("test.unknown")
    finally:
        del jobs.JOBS["test.twice"]


def test_files_are_removed_once_stored_or_refused_and_kept_for_a_retry_when_failed(base_app, upload_folder,
                                                                                    monkeypatch):
    client = client_of(base_app, ADMIN)
    stored = upload_id_of(post_upload(client, GOOD_CSV, "goed.csv"))
    assert state_of(base_app, stored).state == "stored" and state_of(base_app, stored).stored_name is None
    refused = upload_id_of(post_upload(client, BAD_CSV, "fout.csv"))
    assert state_of(base_app, refused).state == "refused" and files_in(upload_folder) == []

    def broken(*args, **kwargs):
        raise RuntimeError("schijf vol")

    monkeypatch.setattr(importing, "store_source", broken)
    failed = upload_id_of(post_upload(client, GOOD_CSV.replace(b";2;5;1;5", b";3;5;1;5"), "mislukt.csv"))
    row = state_of(base_app, failed)
    assert row.state == "failed" and "niets is opgeslagen" in row.message
    assert [path.name for path in files_in(upload_folder)] == [row.stored_name]
    page = client.get(f"/realisatie/uploads/{failed}").get_data(as_text=True)
    assert "Mislukt" in page and "Opnieuw proberen" in page

    monkeypatch.undo()
    token = csrf_token(client, f"/realisatie/uploads/{failed}")
    response = client.post(f"/realisatie/uploads/{failed}/opnieuw", data={"csrf_token": token})
    assert response.status_code == 303
    assert state_of(base_app, failed).state == "stored" and files_in(upload_folder) == []


def test_a_storage_path_that_is_not_writable_stops_the_start_up(database_url, tmp_path):
    blocker = tmp_path / "een-bestand"
    blocker.write_text("geen map")
    with pytest.raises(ConfigurationError, match=str(blocker / "uploads")) as raised:
        make_app(database_url, UPLOAD_FOLDER=str(blocker / "uploads"))
    assert "niet schrijfbaar" in str(raised.value) and "PORTAL_UPLOAD_FOLDER" in str(raised.value)


def test_a_redis_url_that_is_no_url_stops_the_start_up(database_url, upload_folder):
    with pytest.raises(ConfigurationError, match="PORTAL_REDIS_URL"):
        make_app(database_url, UPLOAD_FOLDER=str(upload_folder), REDIS_URL="localhost:6379")


# --- With Redis --------------------------------------------------------------------------------


def test_progress_is_a_redis_hash_with_a_ttl(queue_app, queue_redis_url):
    with queue_app.app_context():
        jobs.set_progress("proef", "storing", 5, 10)
        found = jobs.progress("proef")
    assert (found.phase, found.done, found.total, found.percentage) == ("storing", 5, 10, 75)
    client = Redis.from_url(queue_redis_url)
    assert client.hget("portal:job:proef", "phase") == b"storing"
    assert 0 < client.ttl("portal:job:proef") <= jobs.RECORD_TTL


def test_an_upload_is_a_job_on_the_queue_that_a_worker_runs(queue_app, upload_folder):
    client = client_of(queue_app, ADMIN)
    before = stored_counts(queue_app)
    upload_id = upload_id_of(post_upload(client, GOOD_CSV))
    page = client.get(f"/realisatie/uploads/{upload_id}").get_data(as_text=True)
    assert "In de wachtrij" in page and 'hx-trigger="every 1s"' in page
    assert state_of(queue_app, upload_id).state == "queued" and len(files_in(upload_folder)) == 1

    jobs.work(queue_app, burst=True, simple=True)  # RQ's own worker, in this process

    partial = client.get(f"/realisatie/uploads/{upload_id}/voortgang", headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert "Ingelezen" in body and "2 regels ingelezen in 2 rapportages" in body and "every 1s" not in body
    assert stored_counts(queue_app) == (before[0] + 2, before[1] + 2)
    assert files_in(upload_folder) == []


def test_redis_down_the_page_says_the_job_could_not_be_queued_and_nothing_is_stored(
        base_app, database_url, upload_folder):
    down = make_app(database_url, UPLOAD_FOLDER=str(upload_folder), REDIS_URL="redis://127.0.0.1:1/0")
    client = client_of(down, ADMIN)
    with down.app_context():
        uploads_before = db.session().exec(select(func.count()).select_from(RealisationUpload)).one()
    response = post_upload(client, GOOD_CSV)
    assert response.status_code == 503
    assert jobs.NOT_QUEUED in response.get_data(as_text=True)
    with down.app_context():
        assert db.session().exec(select(func.count()).select_from(RealisationUpload)).one() == uploads_before
    assert files_in(upload_folder) == []
    down.extensions["portal.engine"].dispose()


def test_retry_is_a_post_of_the_own_organisation_with_a_csrf_token(base_app, monkeypatch):
    client = client_of(base_app, ADMIN)
    monkeypatch.setattr(importing, "store_source", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("weg")))
    failed = upload_id_of(post_upload(client, GOOD_CSV))
    monkeypatch.undo()
    assert state_of(base_app, failed).state == "failed"
    assert client.post(f"/realisatie/uploads/{failed}/opnieuw").status_code == 400  # no CSRF token
    other = client_of(base_app, OTHER_PROVIDER)
    token = csrf_token(other, "/realisatie/uploaden")
    assert other.post(f"/realisatie/uploads/{failed}/opnieuw", data={"csrf_token": token}).status_code == 404
    assert other.get(f"/realisatie/uploads/{failed}").status_code == 404
    assert state_of(base_app, failed).state == "failed"


# --- A worker killed mid-import -------------------------------------------------------------------


def _big_file(app) -> tuple[bytes, int]:
    """50,400 lines: 6 municipalities × 12 months of last year × 700 trajectories (copies of
    S4-BEG-6 added to last year's catalogue): long enough to kill a worker while it writes (the
    import writes each checked batch of lines at once, inside its one transaction)."""
    with app.app_context():
        session = db.session()
        template = session.exec(select(StandardTrajectory).where(
            StandardTrajectory.segment_key == "jeugd.S4", StandardTrajectory.code == "S4-BEG-6",
            StandardTrajectory.year == LAST_YEAR)).one()
        fields = template.model_dump(exclude={"id", "created_at"})
        for index in range(700):
            session.add(StandardTrajectory(**{**fields, "code": f"S4-K{index:03d}", "name": f"Proef {index}"}))
        session.commit()
    rows = [f"{code};jeugd.S4;{LAST_YEAR}-{month:02d};S4-K{index:03d};1;2;0;2"
            for code in ("0889", "0893", "0907", "1894", "0983", "0984") for month in range(1, 13)
            for index in range(700)]
    return ("\n".join([HEADER, *rows]) + "\n").encode(), len(rows)


def _worker(database_url: str, queue_redis_url: str, upload_folder: Path, instance: Path) -> subprocess.Popen:
    """``flask worker --burst`` in a process (group) of its own, on the test's database and Redis."""
    env = {**os.environ, "PORTAL_ENV": "testing", "PORTAL_DATABASE_URL": database_url,
           "PORTAL_REDIS_URL": queue_redis_url, "PORTAL_UPLOAD_FOLDER": str(upload_folder),
           "PORTAL_INSTANCE_PATH": str(instance), "PORTAL_TODAY": RUN_DATE.isoformat(),
           "PORTAL_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789", "PORTAL_MAIL_ECHO": "false"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"], cwd=PROJECT_ROOT,
                            env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for(condition, seconds: float, what: str, worker: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker ended before {what}: {worker.stdout.read().decode()[-3000:]}")
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def test_a_worker_killed_mid_import_stores_nothing_and_the_retry_stores_it(
        queue_app, database_url, queue_redis_url, upload_folder, tmp_path):
    content, line_count = _big_file(queue_app)
    client = client_of(queue_app, ADMIN)
    before = stored_counts(queue_app)
    upload_id = upload_id_of(post_upload(client, content, "groot.csv"))

    def storing():
        with queue_app.app_context():
            found = realisation_progress.get(upload_id)
        # Two batches checked: the first one's lines are written, uncommitted.
        return found is not None and found.phase in ("checking", "storing") and found.done >= 2 * importing.BATCH

    worker = _worker(database_url, queue_redis_url, upload_folder, tmp_path)
    try:
        _wait_for(storing, 240, "the worker to write the first lines", worker)
        with queue_app.app_context():  # RQ's work-horse runs the job in a session of its own
            horse = int(jobs.record(realisation_progress.job_id(upload_id))["pid"])
        # The whole worker, mid-transaction: first itself (so it cannot report the horse's end),
        # then its work-horse.
        os.killpg(worker.pid, signal.SIGKILL)
        os.kill(horse, signal.SIGKILL)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)

    assert stored_counts(queue_app) == before, "a killed worker must leave nothing half-written"
    time.sleep(2.5)  # JOB_STALE_AFTER: the job gave no sign of life since the kill
    page = client.get(f"/realisatie/uploads/{upload_id}").get_data(as_text=True)
    assert "Mislukt" in page, page[page.find("uploadstatus"):][:1500]
    assert "geen teken van leven" in page and "Niets is opgeslagen" in page
    assert "Opnieuw proberen" in page and "every 1s" not in page
    failed = state_of(queue_app, upload_id)
    assert failed.state == "failed" and (upload_folder / "realisation" / failed.stored_name).exists()
    assert stored_counts(queue_app) == before

    token = csrf_token(client, f"/realisatie/uploads/{upload_id}")
    response = client.post(f"/realisatie/uploads/{upload_id}/opnieuw", data={"csrf_token": token})
    assert response.status_code == 303
    assert state_of(queue_app, upload_id).state == "queued"
    fresh = _worker(database_url, queue_redis_url, upload_folder, tmp_path)
    output = fresh.communicate(timeout=300)[0].decode()
    assert fresh.returncode == 0, output[-3000:]

    done = state_of(queue_app, upload_id)
    assert done.state == "stored", (done.message, output[-3000:])
    assert done.rows_done == line_count and done.report_count == 72 and done.stored_name is None
    assert stored_counts(queue_app) == (before[0] + 72, before[1] + line_count)
    assert files_in(upload_folder) == []
    page = client.get(f"/realisatie/uploads/{upload_id}").get_data(as_text=True)
    assert "Ingelezen" in page and f"{line_count:,}".replace(",", "") in page.replace(".", "")


def test_a_work_horse_killed_mid_import_is_marked_failed_by_rq_and_the_page_says_so(
        queue_app, database_url, queue_redis_url, upload_folder, tmp_path):
    """The out-of-memory killer takes the work-horse, not the worker: RQ marks the job failed, and
    the upload shows "mislukt" with that reason at once (no waiting for JOB_STALE_AFTER)."""
    content, _line_count = _big_file(queue_app)
    client = client_of(queue_app, ADMIN)
    before = stored_counts(queue_app)
    upload_id = upload_id_of(post_upload(client, content, "groot.csv"))
    worker = _worker(database_url, queue_redis_url, upload_folder, tmp_path)
    try:
        def checking():
            with queue_app.app_context():
                found = jobs.record(realisation_progress.job_id(upload_id)) or {}
            return found.get("phase") in ("checking", "storing") and int(found.get("done") or 0) > 0 and found

        horse = int(_wait_for(checking, 240, "the worker to check the first rows", worker)["pid"])
        os.kill(horse, signal.SIGKILL)
        try:
            output = worker.communicate(timeout=120)[0].decode()  # --burst: it ends once the queue is empty
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            pytest.fail(f"the worker did not end after its work-horse {horse} was killed: "
                        f"{worker.communicate()[0].decode()[-3000:]}")
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    page = client.get(f"/realisatie/uploads/{upload_id}").get_data(as_text=True)
    assert "Mislukt" in page and "De achtergrondtaak is afgebroken" in page, output[-2000:]
    assert "Opnieuw proberen" in page
    assert stored_counts(queue_app) == before


# --- A settlement run as a job --------------------------------------------------------------------


def test_a_settlement_run_is_a_job_and_the_page_follows_it_to_the_new_version(queue_app):
    client = client_of(queue_app, MANAGER)
    token = csrf_token(client, "/afrekening/")
    response = client.post("/afrekening/berekenen", data={"csrf_token": token, "year": str(YEAR),
                                                          "shared_costs": "", "program_costs": "", "note": ""})
    assert response.status_code == 303
    job_page = response.headers["Location"]
    assert "/afrekening/taken/" in job_page
    waiting = client.get(job_page, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "In de wachtrij" in waiting and 'hx-trigger="every 1s"' in waiting
    assert client_of(queue_app, ADMIN).get(job_page).status_code in (403, 404)  # not the provider's

    jobs.work(queue_app, burst=True, simple=True)

    done = client.get(job_page, headers={"HX-Request": "true"})
    assert done.status_code == 204 and "/afrekening/" in done.headers["HX-Redirect"]
    run_page = client.get(done.headers["HX-Redirect"]).get_data(as_text=True)
    assert f"Afrekening {YEAR}, versie 1" in run_page and "is berekend als concept" in run_page


def test_a_settlement_run_the_queue_does_not_take_says_so(base_app, database_url, upload_folder):
    down = make_app(database_url, UPLOAD_FOLDER=str(upload_folder), REDIS_URL="redis://127.0.0.1:1/0")
    client = client_of(down, MANAGER)
    token = csrf_token(client, "/afrekening/")
    response = client.post("/afrekening/berekenen", data={"csrf_token": token, "year": str(YEAR),
                                                          "shared_costs": "", "program_costs": "", "note": ""})
    assert response.status_code == 503 and jobs.NOT_QUEUED in response.get_data(as_text=True)
    with down.app_context():
        assert db.session().exec(select(func.count()).select_from(SettlementRun)).one() == 0
    down.extensions["portal.engine"].dispose()
