"""Sign-in throttling: slow down guessing without locking other users out.

Failures are counted per e-mail address *and* client address together, so an attacker guessing a
colleague's password from elsewhere does not block the colleague; a second, higher limit per
client address catches one client trying many addresses.

Where the counts live is chosen once per app (``init_app``): with ``REDIS_URL`` set, in Redis as
moving windows of the ``limits`` library, so every app process on every machine sees one count;
without it, in the table ``login_failure`` (shared by the processes of one database, and the
simplest choice for development and small installations).
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func
from sqlmodel import select

from portal import db
from portal.models import LoginFailure, utcnow


def email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class DatabaseCounts:
    """Failures as rows of ``login_failure``; old rows simply fall out of the window."""

    def is_throttled(self, email: str, client: str) -> bool:
        config = current_app.config
        since = utcnow() - timedelta(seconds=config["LOGIN_FAILURE_WINDOW"])
        session = db.session()
        pair = session.exec(
            select(func.count()).select_from(LoginFailure).where(
                LoginFailure.email_key == email_key(email),
                LoginFailure.client == client,
                LoginFailure.at >= since,
            )
        ).one()
        if pair >= config["LOGIN_MAX_FAILURES"]:
            return True
        per_client = session.exec(
            select(func.count()).select_from(LoginFailure).where(
                LoginFailure.client == client, LoginFailure.at >= since
            )
        ).one()
        return per_client >= config["LOGIN_MAX_FAILURES_PER_CLIENT"]

    def record_failure(self, email: str, client: str) -> None:
        # Committed with the request's audit event, in the same transaction.
        db.session().add(LoginFailure(email_key=email_key(email), client=client))

    def clear_failures(self, email: str, client: str) -> None:
        db.session().exec(
            delete(LoginFailure).where(
                LoginFailure.email_key == email_key(email), LoginFailure.client == client
            )
        )


class RedisCounts:
    """Failures as moving windows in Redis (``limits``: a Lua script per hit, atomic across processes).

    A success clears the pair's window but not the client's: the per-client limit is there for one
    address trying many accounts, and one right password should not wipe that record.
    """

    def __init__(self, url: str, max_failures: int, max_per_client: int, window_seconds: int,
                 key_prefix: str):
        from limits import RateLimitItemPerSecond
        from limits.storage import RedisStorage
        from limits.strategies import MovingWindowRateLimiter

        # Short timeouts: a Redis that hangs should fail a sign-in quickly, not hold a worker.
        self.storage = RedisStorage(url, key_prefix=key_prefix, socket_connect_timeout=2, socket_timeout=2)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.pair_limit = RateLimitItemPerSecond(max_failures, window_seconds, namespace="pair")
        self.client_limit = RateLimitItemPerSecond(max_per_client, window_seconds, namespace="client")

    def is_throttled(self, email: str, client: str) -> bool:
        return (not self.limiter.test(self.pair_limit, email_key(email), client)
                or not self.limiter.test(self.client_limit, client))

    def record_failure(self, email: str, client: str) -> None:
        self.limiter.hit(self.pair_limit, email_key(email), client)
        self.limiter.hit(self.client_limit, client)

    def clear_failures(self, email: str, client: str) -> None:
        self.limiter.clear(self.pair_limit, email_key(email), client)


def init_app(app) -> None:
    config = app.config
    if config.get("REDIS_URL"):
        counts = RedisCounts(config["REDIS_URL"], int(config["LOGIN_MAX_FAILURES"]),
                             int(config["LOGIN_MAX_FAILURES_PER_CLIENT"]),
                             int(config["LOGIN_FAILURE_WINDOW"]),
                             key_prefix=f"{config['REDIS_KEY_PREFIX']}:throttle")
    else:
        counts = DatabaseCounts()
    app.extensions["portal.throttle"] = counts


def _counts() -> DatabaseCounts | RedisCounts:
    return current_app.extensions["portal.throttle"]


def _with_fallback(action: str, email: str, client: str):
    """Call ``action`` on the app's counts; when Redis does not answer, on the database's instead
    (logged as a warning), so a Redis outage neither breaks sign-in nor switches the throttle off.
    ``/gereed`` reports the outage to the load balancer meanwhile."""
    counts = _counts()
    try:
        return getattr(counts, action)(email, client)
    except Exception as error:  # redis-py's and limits' connection errors share no base class
        if isinstance(counts, DatabaseCounts):
            raise
        current_app.logger.warning("Redis onbereikbaar voor de aanmeldteller (%s: %s); de database telt",
                                   type(error).__name__, error)
        return getattr(DatabaseCounts(), action)(email, client)


def is_throttled(email: str, client: str) -> bool:
    return _with_fallback("is_throttled", email, client)


def record_failure(email: str, client: str) -> None:
    _with_fallback("record_failure", email, client)


def clear_failures(email: str, client: str) -> None:
    _with_fallback("clear_failures", email, client)
