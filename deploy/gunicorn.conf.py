"""gunicorn settings for the portal in production: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``.

Every value can be changed from the environment (shown with its default) without editing this file;
see docs/deploy.md. The file sits in deploy/, not in the project root, so a plain ``gunicorn`` run
elsewhere (a benchmark, a quick try) does not pick it up by accident.

- ``PORTAL_BIND`` (``0.0.0.0:8000``): address and port to listen on.
- ``PORTAL_WEB_WORKERS`` (2 × cores + 1, at most 8): worker processes. Each builds its own app and
  its own database pool after the fork (no ``preload_app``), so pools are never shared.
- ``PORTAL_WEB_THREADS`` (4): threads per worker (the ``gthread`` worker); a request waiting on
  PostgreSQL or Redis then does not hold up the others.
- ``PORTAL_WEB_TIMEOUT`` (60): seconds a request may take before its worker is killed and replaced.
- ``PORTAL_GRACEFUL_TIMEOUT`` (30): seconds running requests get to finish on a restart or SIGTERM
  (``docker compose stop`` waits longer than this: see deploy/compose.yaml).
- ``PORTAL_FORWARDED_ALLOW_IPS`` (``127.0.0.1``): proxies whose X-Forwarded-Proto gunicorn trusts;
  ``*`` inside a container network where only the proxy can reach the app.
- ``PORTAL_GUNICORN_CONTROL_SOCKET`` (none: off): a path for gunicorn's control socket.
- ``PORTAL_LOG_FORMAT`` (``text``): ``json`` writes gunicorn's own messages as JSON lines too, and
  leaves the access log to the app's request lines (with request id, status and duration).
"""
from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("PORTAL_BIND", "0.0.0.0:8000")
workers = _int("PORTAL_WEB_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8))
threads = _int("PORTAL_WEB_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("PORTAL_WEB_TIMEOUT", 60)
graceful_timeout = _int("PORTAL_GRACEFUL_TIMEOUT", 30)
keepalive = 5  # behind a proxy that keeps connections open; longer than nginx's default of 4 s is not needed
# Replace a worker now and then, so a slow leak cannot grow without bound; the jitter keeps the
# workers from restarting all at once.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket (``gunicornc``, gunicorn 25.1 and later) defaults to one path per user
# ($HOME/.gunicorn/gunicorn.ctl): a second gunicorn of the same user on the machine would take it
# over. Off unless PORTAL_GUNICORN_CONTROL_SOCKET names a path of this server's own.
if os.environ.get("PORTAL_GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["PORTAL_GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
# Heartbeat files in memory rather than on a container's (possibly slow, overlay) disk.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

errorlog = "-"
if os.environ.get("PORTAL_LOG_FORMAT", "text") == "json":
    # One JSON object per line for everything: the app writes a line per request (portal.logs), so
    # gunicorn's access log would only repeat it.
    accesslog = None
    logconfig_dict = {
        "root": {"level": os.environ.get("PORTAL_LOG_LEVEL", "INFO"), "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            # gunicorn writes access lines whenever a logging config is given; the app's are enough
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            # seven lines per worker start about Alembic's autogenerate plugins: noise here
            "alembic.runtime.plugins": {"level": "WARNING", "handlers": [], "propagate": True},
        },
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        },
        "formatters": {"json": {"()": "portal.logs.JsonFormatter"}},
    }
else:
    accesslog = "-"
    # The common log format, then the time taken (ms) and the request id the app sent back.
    access_log_format = ('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
                         '%(M)sms rid=%({x-request-id}o)s')
