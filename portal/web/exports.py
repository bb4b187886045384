"""Exports on the job queue (:mod:`portal.exports`): the job that builds an export in the worker,
acting for the user who asked, and the pages that follow it: the waiting page with the htmx
progress bar, the download once it is ready, "Mislukt" with the reason and "Opnieuw proberen"."""
from __future__ import annotations

import os

from flask import (
    Blueprint,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from portal import exports, jobs
from portal.accounts import roles, sessions
from portal.accounts.roles import roles_required

bp = Blueprint("exports", __name__, url_prefix="/export")

RUNNING = ("queued", "started")
PHASES = {"queued": "In de wachtrij", "reading": "Gegevens verzamelen", "writing": "Bestand schrijven"}


class ExportRefused(RuntimeError):
    """The export cannot be made for this user any more; ``message`` says why (Dutch)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@jobs.job(exports.JOB)
def export_job(job_id: str, name: str, path: str, query: str, user_id: int, membership_id: int) -> str:
    """Build the export ``name`` as the request ``path?query`` of the user's membership would,
    into the export folder; returns the file's name there. Progress goes to the job's record."""
    item = exports.EXPORTS.get(name)
    if item is None:
        raise ExportRefused(f"Deze export bestaat niet (meer): {name}.")
    config = current_app.config
    with current_app.test_request_context(path, query_string=query):
        user = sessions.acting_for(user_id, membership_id)
        if user is None:
            raise ExportRefused("Uw account of organisatie is niet meer actief; de export is niet gemaakt.")
        g._login_user = user  # flask-login's current_user for this request: scoped() as in the original
        exports.sweep()
        exports.keep(job_id, config["JOB_TIMEOUT"] + config["EXPORT_TTL"])  # a half-written file is swept later
        jobs.set_progress(job_id, "reading", 0, None)
        file = item.build(lambda phase, done, total: jobs.set_progress(job_id, phase, done, total))
    target = exports.path_of(job_id, file.filename)
    part = target.with_name(target.name + ".deel")
    part.write_bytes(file.content)
    os.replace(part, target)  # whole or not at all: a download never sees half a file
    exports.keep(job_id, config["EXPORT_TTL"])
    jobs.set_record(job_id, filename=file.filename, mimetype=file.mimetype, size=len(file.content),
                    stored=target.name)
    return target.name


def duration(seconds: int) -> str:
    """How long a ready export is kept, in words: "1 uur", "30 minuten", "1 minuut"."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} uur"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} {'minuut' if minutes == 1 else 'minuten'}"


def _ready_path(found: dict[str, str]):
    """The finished job's file while its TTL runs, else None (expired or removed)."""
    if found.get("state") != "finished" or not found.get("stored"):
        return None
    path = exports.folder() / found["stored"]
    job_id = path.name.split(".", 1)[0]
    return path if exports.available(job_id) and path.is_file() else None


@bp.route("/<job_id>")
@roles_required(*roles.ALL_ROLES)
def status(job_id: str):
    """An export on the job queue: waiting (htmx polls each second) until the worker is done, then the
    download link; a failed job "Mislukt" with the reason and "Opnieuw proberen". Only the user and
    organisation that asked see it; any other id answers 404."""
    found = exports.job_record_or_404(job_id)
    state, message = found.get("state", "queued"), found.get("message", "")
    if state in RUNNING:
        reason = jobs.why_not_running(job_id)
        if reason:
            state, message = "failed", reason
    elif state in jobs.FAILED_STATES:
        state = "failed"
    if state == "finished":
        state = "ready" if _ready_path(found) else "expired"
    progress = jobs.progress(job_id) if state in RUNNING else None
    percentage = (min(100, int(progress.done * 100 / progress.total))
                  if progress and progress.phase == "writing" and progress.total else None)
    context = dict(job_id=job_id, job=found, state=state, message=message, progress=progress,
                   percentage=percentage, phases=PHASES, size_kb=-(-int(found.get("size") or 0) // 1024),
                   kept_for=duration(current_app.config["EXPORT_TTL"]))
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    response = make_response(render_template("exports/_status.html" if partial else "exports/job.html", **context))
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("HX-Request")
    return response


@bp.route("/<job_id>/bestand")
@roles_required(*roles.ALL_ROLES)
def download(job_id: str):
    """The ready file, as often as needed while its TTL runs; after that the job's page says so."""
    found = exports.job_record_or_404(job_id)
    path = _ready_path(found)
    if path is None:
        return redirect(url_for("exports.status", job_id=job_id), 303)
    response = send_file(path, mimetype=found.get("mimetype") or exports.XLSX_MIMETYPE, max_age=0, conditional=False)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.get("filename") or path.name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
