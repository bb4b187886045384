"""Long exports as jobs (issue 14): a file that grows with the data (the audit log, the budget
dashboard as XLSX) is built by a worker when the job queue is on, and fetched from the export
folder once it is ready; without the queue it is built within the request, as before.

An export is a function registered with :func:`export` under a name. It builds the file for the
signed-in user from ``request.args``, the same code in both cases: within the request itself, or in
the worker inside a request to the same URL with the same query string, acting for the same user
and organisation (``portal.web.exports`` runs the job and serves the pages). So the file holds
exactly the rows of the inline export.

Files: ``EXPORT_FOLDER`` (default ``<UPLOAD_FOLDER>/exports``: one folder every process reaches),
named by the job's unguessable id. A ready file can be downloaded, as often as needed, by the user
and organisation that asked for it, for ``EXPORT_TTL`` seconds; then it is gone. The clock of that
TTL is Redis's (a key per file that expires), so processes whose clocks differ agree on it; the
files whose key has expired are removed whenever an export is queued or started.

The small per-document files (a proposal or agreement summary PDF, a settlement statement as PDF
or XLSX, the upload templates, the CSV exports that stream) stay within the request: their size
does not grow with the region's history.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from portal import db, jobs

JOB = "export"  # the job that builds every export (portal.web.exports)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Progress = Callable[[str, int, "int | None"], None]  # (phase, done, total)


@dataclass(frozen=True)
class ExportFile:
    """A built export: the name the browser saves it under, its bytes and their type."""

    filename: str
    content: bytes
    mimetype: str = XLSX_MIMETYPE


@dataclass(frozen=True)
class Export:
    """An export that may run as a job: ``build(progress)`` makes the file for the signed-in user
    from ``request.args``; ``title`` names it on its pages (Dutch)."""

    name: str
    title: str
    build: Callable[[Progress], ExportFile]


EXPORTS: dict[str, Export] = {}


def export(name: str, title: str):
    """Register ``build`` as the export ``name`` (refused twice: two owners of one name)."""
    def register(build):
        if name in EXPORTS and EXPORTS[name].build is not build:
            raise ValueError(f"Export {name!r} is already registered by {EXPORTS[name].build.__module__}.")
        EXPORTS[name] = Export(name, title, build)
        return build

    return register


def no_progress(_phase: str, _done: int, _total: int | None) -> None:
    """The progress of an export built within the request: nobody watches it."""


def queued() -> bool:
    """Long exports go through the job queue (``REDIS_URL`` is set)."""
    return jobs.uses_queue()


# --- The files -----------------------------------------------------------------------------------


def folder() -> Path:
    return Path(current_app.config["EXPORT_FOLDER"])


def _file_key(job_id: str) -> str:
    return f"portal:export-file:{job_id}"


def path_of(job_id: str, filename: str) -> Path:
    """Where the job's file lies: its id (unguessable) and the extension of its download name."""
    return folder() / f"{job_id}{Path(filename).suffix}"


def keep(job_id: str, seconds: int) -> None:
    """The job's file may be fetched for ``seconds`` more (Redis forgets the key then)."""
    jobs.redis_client().set(_file_key(job_id), "1", ex=max(int(seconds), 1))


def available(job_id: str) -> bool:
    """The job's file is still within its TTL."""
    from redis.exceptions import RedisError

    try:
        return bool(jobs.redis_client().exists(_file_key(job_id)))
    except RedisError:
        return False


def sweep() -> int:
    """Remove the files whose TTL has run out (their key is gone), half-written ones of a killed
    worker included; returns how many. Nothing when Redis does not answer."""
    from redis.exceptions import RedisError

    client = jobs.redis_client()
    if client is None or not folder().is_dir():
        return 0
    removed = 0
    try:
        for path in folder().iterdir():
            job_id = path.name.split(".", 1)[0]
            if path.is_file() and job_id.startswith(f"{JOB}-") and not client.exists(_file_key(job_id)):
                path.unlink(missing_ok=True)
                removed += 1
    except RedisError:
        return removed
    return removed


# --- The export's own URL ------------------------------------------------------------------------


def _download(file: ExportFile):
    response = current_app.response_class(file.content, mimetype=file.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def respond(name: str, *, summary: list[str], back_url: str, back_label: str,
            before: Callable[[], None] | None = None):
    """The answer of an export's URL. Without the queue: ``before()`` (an audit event, say) and the
    file itself, built here and now. With the queue: a GET shows what will be exported and a
    button "Export maken"; that POST runs ``before()`` and queues the job, and leads to the job's
    page (``summary``: the filter in words; ``back_url`` and ``back_label``: the page the export
    belongs to).

    Redis not answering: the offer again, with :data:`portal.jobs.NOT_QUEUED` (503), and nothing
    written."""
    item = EXPORTS[name]
    if not queued():
        if before is not None:
            before()
        return _download(item.build(no_progress))
    if request.method != "POST":
        return _offer(item, summary, back_url, back_label)
    try:
        jobs.ensure_reachable()
        sweep()
        if before is not None:
            before()
        db.session().commit()
        job_id = f"{JOB}-{secrets.token_hex(16)}"  # 128 bits: the file's name and the page's address
        jobs.enqueue(JOB, job_id, name, request.path, request.query_string.decode(), current_user.user.id,
                     current_user.membership.id, job_id=job_id, owner=current_user.user.id,
                     record={"export": name, "title": item.title, "organisation": current_user.organisation.id,
                             "again": request.full_path.rstrip("?"), "back": back_url, "back_label": back_label})
    except jobs.JobNotQueued as refused:
        db.session().rollback()
        return _offer(item, summary, back_url, back_label, refused.message, 503)
    return redirect(url_for("exports.status", job_id=job_id), 303)


def _offer(item: Export, summary: list[str], back_url: str, back_label: str, error: str | None = None,
           status: int = 200):
    return render_template("exports/offer.html", title=item.title, summary=summary, back_url=back_url,
                           back_label=back_label, action=request.full_path.rstrip("?"), error=error), status


# --- A job of the signed-in user ----------------------------------------------------------------


def job_record_or_404(job_id: str) -> dict[str, str]:
    """The export job's record when the signed-in user asked for it for this organisation; any
    other id (another user's, another organisation's, unknown or expired) is a 404."""
    found = jobs.record(job_id) if job_id.startswith(f"{JOB}-") else None
    if (not found or found.get("name") != JOB or found.get("owner") != str(current_user.user.id)
            or current_user.organisation is None or found.get("organisation") != str(current_user.organisation.id)):
        abort(404)
    return found


__all__ = ["EXPORTS", "Export", "ExportFile", "XLSX_MIMETYPE", "available", "export", "folder", "job_record_or_404",
           "keep", "no_progress", "path_of", "queued", "respond", "sweep"]
