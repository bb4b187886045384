"""Progress of realisation uploads being processed, for the page that polls it: the upload's job
record (:mod:`portal.jobs`), in Redis when there is a job queue (every web process sees it), else
in this process's memory. Each upload's state itself is in the database."""
from __future__ import annotations

from portal import jobs
from portal.jobs import Progress

__all__ = ["Progress", "job_id", "update", "get", "finish"]


def job_id(upload_id: int) -> str:
    """The one job (and record) of an upload; a retry queues it again under the same id."""
    return f"realisation-upload-{upload_id}"


def update(upload_id: int, phase: str, done: int, total: int | None) -> None:
    jobs.set_progress(job_id(upload_id), phase, done, total)


def get(upload_id: int) -> Progress | None:
    return jobs.progress(job_id(upload_id))


def finish(upload_id: int) -> None:
    jobs.clear_record(job_id(upload_id))
