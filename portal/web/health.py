"""Probes for a load balancer or an orchestrator: ``/gezond`` (liveness: the process answers) and
``/gereed`` (readiness: the database answers, and Redis when it is configured).

Both are cheap, need no sign-in, load no user and set no cookie; they are GET-only, so CSRF
protection does not apply.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app
from sqlalchemy import text

from portal import db

bp = Blueprint("health", __name__)
log = logging.getLogger("portal.health")

# Endpoints that must answer without a signed-in user's context (see home._WITHOUT_MEMBERSHIP).
ENDPOINTS = frozenset({"health.live", "health.ready"})
# A probe that waits longer than this is no use to the orchestrator that asked.
REDIS_TIMEOUT_SECONDS = 2


@bp.route("/gezond")
def live():
    # Deliberately no database: a slow database must not get healthy processes restarted.
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.route("/gereed")
def ready():
    checks = {"database": _check(_ping_database)}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _check(_ping_redis)
    down = sorted(name for name, result in checks.items() if result != "ok")
    body = {"status": "ok" if not down else "unavailable", "checks": checks}
    if down:
        body["down"] = down
    return body, 503 if down else 200, {"Cache-Control": "no-store"}


def _check(ping) -> str:
    try:
        ping()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"; the log keeps the detail
        log.warning("readiness check %s failed: %s", ping.__name__, error)
        # Only the kind of error goes out: a message could name hosts or users.
        return f"down ({error.__class__.__name__})"
    return "ok"


def _ping_database() -> None:
    with db.engine().connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


def _ping_redis() -> None:
    import redis

    client = current_app.extensions.get("portal.redis")
    if client is None:
        client = redis.Redis.from_url(current_app.config["REDIS_URL"],
                                      socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                      socket_timeout=REDIS_TIMEOUT_SECONDS)
        current_app.extensions["portal.redis"] = client
    client.ping()
