"""Long work as jobs (issue 14): ``enqueue(name, *args)`` hands a job to RQ on Redis when
``REDIS_URL`` is set (``flask worker`` runs it), else runs it in the web process (the SQLite demo,
most tests). A job's progress and outcome is one small record, a Redis hash with a TTL or a dict in
memory, behind one interface (:func:`set_record`, :func:`record`).

A job is a function registered with :func:`job` under a name; it receives plain values (ids,
strings), works inside an app context (and the region it was queued for) and commits its own work.
"""
from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app, has_app_context

from portal import clock
from portal.registry import current_registry, region_scope

QUEUE = "portal"
RECORD_TTL = 24 * 60 * 60  # a job's record outlives the job by a day, for the page that shows it
NOT_QUEUED = "De taak kon niet in de wachtrij worden gezet; probeer het later opnieuw."
FAILED_STATES = ("failed", "stopped", "canceled")

JOBS: dict[str, Callable[..., Any]] = {}


def job(name: str):
    """Register a function as the job ``name`` (refused twice: two owners of one name)."""
    def register(function):
        if name in JOBS and JOBS[name] is not function:
            raise ValueError(f"Job {name!r} is already registered by {JOBS[name].__module__}.")
        JOBS[name] = function
        return function

    return register


class JobNotQueued(RuntimeError):
    """Redis did not take the job (down, unreachable, refused): nothing was queued."""

    def __init__(self, detail: str = ""):
        super().__init__(NOT_QUEUED + (f" ({detail})" if detail else ""))
        self.message = NOT_QUEUED


# --- The connection ----------------------------------------------------------------------------


def init_app(app) -> None:
    """Keep one Redis client per app (None without ``REDIS_URL``). Connecting is lazy: the portal
    starts with Redis down, and a job queued then is refused with :data:`NOT_QUEUED`."""
    url = app.config.get("REDIS_URL")
    client = None
    if url:
        from redis import Redis

        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)
    app.extensions["portal.redis"] = client


def redis_client():
    """The app's Redis client, or None when jobs run in the web process."""
    return current_app.extensions.get("portal.redis") if has_app_context() else None


def uses_queue() -> bool:
    return redis_client() is not None


# --- Records: progress and outcome of a job -------------------------------------------------------


_memory_lock = threading.Lock()
_memory: dict[str, dict[str, str]] = {}


def _key(job_id: str) -> str:
    return f"portal:job:{job_id}"


def set_record(job_id: str, **fields) -> None:
    """Merge ``fields`` into the job's record and stamp it (``beat``: the job is alive)."""
    values = {name: "" if value is None else str(value) for name, value in fields.items()}
    values["beat"] = f"{clock.wall_seconds():.3f}"
    client = redis_client()
    if client is None:
        with _memory_lock:
            _memory.setdefault(job_id, {}).update(values)
        return
    with client.pipeline() as pipe:
        pipe.hset(_key(job_id), mapping=values)
        pipe.expire(_key(job_id), RECORD_TTL)
        pipe.execute()


def record(job_id: str) -> dict[str, str] | None:
    """The job's record, or None (never written, expired, or Redis unreachable)."""
    from redis.exceptions import RedisError

    client = redis_client()
    if client is None:
        with _memory_lock:
            found = _memory.get(job_id)
            return dict(found) if found is not None else None
    try:
        found = client.hgetall(_key(job_id))
    except RedisError:
        return None
    return {k.decode(): v.decode() for k, v in found.items()} or None


def clear_record(job_id: str) -> None:
    client = redis_client()
    if client is None:
        with _memory_lock:
            _memory.pop(job_id, None)
        return
    client.delete(_key(job_id))


@dataclass(frozen=True)
class Progress:
    """Where a job is: ``phase`` (its own words, e.g. checking/storing), ``done`` of ``total``."""

    phase: str
    done: int
    total: int | None
    beat: float = 0.0

    @property
    def percentage(self) -> int | None:
        """A job in two phases (checking, then storing) spends half its bar on each."""
        if not self.total:
            return None
        part = min(self.done / self.total, 1.0)
        offset = 50 if self.phase == "storing" else 0
        return int(offset + part * 50)


def set_progress(job_id: str, phase: str, done: int, total: int | None) -> None:
    set_record(job_id, phase=phase, done=done, total=total)


def progress(job_id: str) -> Progress | None:
    found = record(job_id)
    if not found or not found.get("phase"):
        return None
    total = found.get("total")
    return Progress(found["phase"], int(found.get("done") or 0), int(total) if total else None,
                    float(found.get("beat") or 0))


# --- Queueing and running -----------------------------------------------------------------------


def ensure_reachable() -> None:
    """Raise :class:`JobNotQueued` when there is a queue and Redis does not answer: a caller checks
    before it stores anything that only a job would finish (an uploaded file)."""
    client = redis_client()
    if client is None:
        return
    from redis.exceptions import RedisError

    try:
        client.ping()
    except RedisError as error:
        current_app.logger.warning("job queue unreachable: %s", error)
        raise JobNotQueued(error.__class__.__name__) from error


@dataclass(frozen=True)
class Ticket:
    """A queued job: ``queued`` when a worker (or a thread) runs it, else ``result`` is its result."""

    id: str
    queued: bool
    result: Any = None


def enqueue(name: str, *args, job_id: str | None = None, owner: int | None = None,
            in_thread: bool = False, record: dict[str, Any] | None = None) -> Ticket:
    """Run the job ``name`` with ``args``: on the queue when Redis is configured (raises
    :class:`JobNotQueued` when Redis does not take it), else here and now, or in a thread of this
    process with ``in_thread``. ``owner`` (a user id) and the fields of ``record`` are kept in the
    job's record for the page that shows the job."""
    if name not in JOBS:
        raise KeyError(f"Unknown job {name!r}; registered: {', '.join(sorted(JOBS))}.")
    job_id = job_id or f"{name.replace('.', '-')}-{secrets.token_hex(8)}"  # RQ: letters, digits, - and _
    region = current_registry().region  # a worker has no signed-in user: it works for this region
    client = redis_client()
    if client is not None:
        from redis.exceptions import RedisError
        from rq import Queue

        try:
            set_record(job_id, **(record or {}), name=name, state="queued", owner=owner, phase="queued")
            Queue(QUEUE, connection=client).enqueue(
                run_job, name, list(args), region, job_id=job_id, description=name,
                job_timeout=int(current_app.config["JOB_TIMEOUT"]), result_ttl=RECORD_TTL,
                failure_ttl=7 * RECORD_TTL)
        except RedisError as error:
            current_app.logger.warning("job %s not queued: %s", job_id, error)
            raise JobNotQueued(error.__class__.__name__) from error
        return Ticket(job_id, True)
    if in_thread:
        app = current_app._get_current_object()

        def work():
            with app.app_context(), region_scope(region):
                try:
                    JOBS[name](*args)
                except Exception:  # noqa: BLE001 - a thread has no one to raise to
                    current_app.logger.exception("job %s failed", job_id)

        threading.Thread(target=work, name=job_id, daemon=True).start()
        return Ticket(job_id, True)
    return Ticket(job_id, False, JOBS[name](*args))


_worker_app = None


def run_job(name: str, args: list, region: str | None):
    """What an RQ worker calls: the job inside the worker's app context and the job's region."""
    from rq import get_current_job

    app = _worker_app
    if app is None:
        raise RuntimeError("Portal jobs run in `flask --app wsgi worker` (it holds the app), not in `rq worker`.")
    if os.getpid() != _worker_pid:
        # A forked work-horse: the parent's pooled connections are not ours to use.
        app.extensions["portal.engine"].dispose(close=False)
    current = get_current_job()
    job_id = current.id if current is not None else f"{name}-direct"
    with app.app_context(), region_scope(region):
        set_record(job_id, state="started", pid=os.getpid())
        try:
            result = JOBS[name](*args)
        except Exception as error:
            set_record(job_id, state="failed", message=getattr(error, "message", None) or
                       "Er ging iets mis bij het uitvoeren van de taak.")
            raise
        set_record(job_id, state="finished", result="" if result is None else result)
        return result


_worker_pid = 0


def _set_worker_app(app):
    global _worker_app, _worker_pid
    _worker_app, _worker_pid = app, os.getpid()
    return app


def work(app, burst: bool = False, simple: bool = False) -> bool:
    """Run an RQ worker on the portal's queue with ``app`` (``flask worker``). ``simple`` runs each
    job in the worker process itself instead of a forked work-horse."""
    from rq import SimpleWorker, Worker

    client = app.extensions.get("portal.redis")
    if client is None:
        raise RuntimeError("PORTAL_REDIS_URL is niet gezet: zonder Redis draaien taken in het webproces zelf "
                           "en is er geen worker nodig.")
    _set_worker_app(app)
    worker_class = SimpleWorker if simple else Worker
    worker = worker_class([QUEUE], connection=client)
    return worker.work(burst=burst, with_scheduler=False)


# --- Is a job still alive? -----------------------------------------------------------------------


def forget(job_id: str) -> None:
    """Drop the queue's memory of a job (before it is queued again under the same id)."""
    client = redis_client()
    if client is None:
        clear_record(job_id)
        return
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        Job.fetch(job_id, connection=client).delete()
    except NoSuchJobError:
        pass
    clear_record(job_id)


def why_not_running(job_id: str) -> str | None:
    """For a job the database still thinks is running: why it is not (Dutch), or None while it is
    queued or alive (or cannot be told). Dead means: RQ marked it failed or stopped, the queue lost
    it, or it started and gave no sign of life (progress) for ``JOB_STALE_AFTER`` seconds, as when
    its worker was killed."""
    client = redis_client()
    if client is None:
        return None
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        queued = Job.fetch(job_id, connection=client)
        status = str(getattr(queued.get_status(), "value", queued.get_status()))
    except NoSuchJobError:
        return "De taak staat niet meer in de wachtrij (de wachtrij is leeggemaakt of verlopen)."
    except RedisError:
        return None
    if status in FAILED_STATES:
        return f"De achtergrondtaak is afgebroken ({_last_line(queued)})."
    if status == "finished":  # ended without finishing what the database waits for (run twice?)
        return "De achtergrondtaak is beëindigd zonder de verwerking af te ronden."
    if status != "started":
        return None
    found = record(job_id) or {}
    beat = float(found.get("beat") or 0) or (queued.started_at.timestamp() if queued.started_at else 0)
    silent = clock.wall_seconds() - beat
    if beat and silent > float(current_app.config["JOB_STALE_AFTER"]):
        return (f"De verwerking is onderbroken: de achtergrondtaak gaf {int(silent)} seconden geen teken van "
                f"leven (de worker is gestopt).")
    return None


def _last_line(queued) -> str:
    try:
        result = queued.latest_result()
        text = (result.exc_string if result is not None else None) or queued.exc_info or ""
    except Exception:  # noqa: BLE001 - an older record without results
        text = getattr(queued, "exc_info", "") or ""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "geen reden bekend"


__all__ = ["JOBS", "JobNotQueued", "NOT_QUEUED", "Progress", "Ticket", "enqueue", "ensure_reachable", "forget", "job", "progress",
           "record", "set_progress", "set_record", "uses_queue", "why_not_running", "work"]
