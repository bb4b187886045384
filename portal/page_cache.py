"""Whole overview pages kept in Redis, shared by every app process (issue 14 point 4).

An overview such as the budget dashboard costs tens to hundreds of milliseconds to build at region
size, and is asked for far more often than the data under it changes. A view marked :func:`cached`
is answered from Redis when the same signed-in session asked for the same page (path, query, htmx
target) today, and nothing in the database has changed since: every commit that wrote anything
gives the data a new *version* (a random token under one Redis key), and a page is only served
when it was built at the version that holds now.

What makes a page the same page (the key):
- the session (its server-side id: user, chosen membership, and the CSRF token in its forms),
- the method, path and query string, and the htmx headers (a partial is another answer),
- the portal's date (:func:`portal.clock.today`: deadlines and "overdue" move with the day),
- the code serving it (the installed plugins and their versions: a deployment starts afresh).

What is never cached: anything but a 200 ``text/html`` GET, a response that changes the cookie
session (a flash message, a first CSRF token), a request that carries a flash message to show.

Who may see it: a kept page is answered before the signed-in user is even loaded
(:func:`serve_before_sign_in_check`), because nothing that decides access can have changed without
a commit, and every commit moves the version; the one thing that changes without a commit is time,
so each kept page carries the moment its session must be checked in the database again (a timeout
due, or the session's idle timer due to be written: every 30 seconds of use). After that the
request takes the whole way (sign-in check, access decorators), and the kept page, when still
current, is served and kept with the new moment.

How the version moves: the engine's ``before_cursor_execute`` marks a connection that ran any
statement other than a ``SELECT`` (the session timestamp of :mod:`portal.accounts.sessions` aside),
:func:`portal.db.copy_rows` marks it too, and the connection's ``commit`` then sets a new version.
That covers web requests, jobs in ``flask worker`` and commands alike, on every machine that shares
the Redis server. A page lives at most ``PAGE_CACHE_SECONDS`` (default 300) in any case.

Without ``REDIS_URL`` (the SQLite demo), or with ``PAGE_CACHE_SECONDS = 0``, nothing is cached.
When Redis does not answer, the page is built as if there were no cache (and a warning logged).
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata

from flask import current_app, g, request, session
from flask_login import current_user
from sqlalchemy import event

from portal import clock
from portal.models.core import utcnow

log = logging.getLogger(__name__)

WROTE = "portal.wrote"
# The one write no page shows: a session's idle timer (portal.accounts.sessions), exactly as the
# ORM writes it, with nothing else in the statement.
_IDLE_TIMER = re.compile(r"UPDATE user_session SET last_seen_at=[^,]+ WHERE user_session\.id = [^,]+")


class PageCache:
    """The cache of one app: its Redis client, key prefix and lifetime."""

    def __init__(self, client, prefix: str, seconds: int, code: str):
        self.client = client
        self.version_key = f"{prefix}:data-version"
        self.page_prefix = f"{prefix}:page:"
        self.seconds = seconds
        self.code = code

    def bump(self) -> None:
        """The data changed: every page built before now is out of date."""
        try:
            self.client.set(self.version_key, secrets.token_hex(8))
        except Exception as error:  # noqa: BLE001 — Redis down: pages expire by their lifetime
            log.warning("Paginacache: nieuwe dataversie niet gezet (%s)", error)

    def lookup(self, key: str) -> tuple[str, Entry | None]:
        """The data version that holds now, and the page under ``key`` if it was built at it."""
        version, stored = self.client.mget(self.version_key, self.page_prefix + key)
        version = version.decode() if version else ""
        if not stored:
            return version, None
        stored_version, recheck_at, vary, body = stored.split(b"\n", 3)
        if stored_version.decode() != version:
            return version, None
        return version, Entry(datetime.fromisoformat(recheck_at.decode()), vary.decode(), body)

    def store(self, key: str, version: str, entry: Entry) -> None:
        head = f"{version}\n{entry.recheck_at.isoformat()}\n{entry.vary}\n".encode()
        self.client.set(self.page_prefix + key, head + entry.body, ex=self.seconds)


@dataclass(frozen=True)
class Entry:
    """A kept page: when its session must be checked in the database again (a timeout, or the
    session's idle timer due to be written), its ``Vary`` header and its body."""
    recheck_at: datetime
    vary: str
    body: bytes

    def response(self):
        response = current_app.response_class(self.body, content_type="text/html; charset=utf-8")
        if self.vary:
            response.headers["Vary"] = self.vary
        return response


def _code_marker() -> str:
    """The installed distributions that make up the portal (name and version), hashed."""
    names = sorted(f"{dist.metadata['Name']}=={dist.version}" for dist in metadata.distributions()
                   if (dist.metadata["Name"] or "").lower().startswith("portal"))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def init_app(app) -> None:
    """Switch the cache on when the app has Redis and ``PAGE_CACHE_SECONDS`` > 0, and let every
    commit that wrote something move the data version."""
    client = app.extensions.get("portal.redis")
    seconds = int(app.config.get("PAGE_CACHE_SECONDS") or 0)
    if client is None or seconds <= 0:
        app.extensions["portal.page_cache"] = None
        return
    cache = PageCache(client, app.config["REDIS_KEY_PREFIX"], seconds, _code_marker())
    app.extensions["portal.page_cache"] = cache
    app.before_request(serve_before_sign_in_check)
    engine = app.extensions["portal.engine"]

    @event.listens_for(engine, "before_cursor_execute")
    def _mark_writes(conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip()[:6].upper() != "SELECT" and not _IDLE_TIMER.fullmatch(statement):
            conn.info[WROTE] = True

    @event.listens_for(engine, "commit")
    def _bump_on_commit(conn):
        if conn.info.pop(WROTE, False):
            cache.bump()

    @event.listens_for(engine, "rollback")
    def _forget_on_rollback(conn):
        conn.info.pop(WROTE, None)


def mark_written(connection) -> None:
    """For writes that pass SQLAlchemy's cursor (``COPY`` on the raw connection)."""
    connection.info[WROTE] = True


def _key() -> str | None:
    """The page's key, or None when the request has no server-side session to tie it to."""
    token = session.get("_user_id")
    if not token:
        return None
    parts = [
        current_app.extensions["portal.page_cache"].code,
        hashlib.sha256(token.encode()).hexdigest(),
        str(session.get("csrf_token", "")),
        clock.today().isoformat(),
        request.method, request.full_path,
        request.headers.get("HX-Request", ""), request.headers.get("HX-Target", ""),
        request.headers.get("HX-Boosted", ""),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _lookup(key: str):
    """``(version, entry)`` for ``key``, looked up once per request; None when Redis is down."""
    if "page_cache" not in g:
        try:
            g.page_cache = current_app.extensions["portal.page_cache"].lookup(key)
        except Exception as error:  # noqa: BLE001 — Redis down: build the page as without a cache
            log.warning("Paginacache niet bereikbaar (%s)", error)
            g.page_cache = None
    return g.page_cache


def _cacheable_request() -> str | None:
    """The key of this request when its page may come from the cache, else None."""
    if (current_app.extensions.get("portal.page_cache") is None or request.method != "GET"
            or "_flashes" in session):
        return None
    return _key()


def serve_before_sign_in_check():
    """A ``before_request`` hook, ahead of loading the signed-in user: answer a kept page at once
    when the data has not changed since it was built for this very session and the session needs
    no check in the database yet (:attr:`Entry.recheck_at`). Nothing that decides who may see the
    page can have changed: signing out, a deactivated account, another membership or role are all
    commits, and every commit moves the data version."""
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "page_cached", False):
        return None
    key = _cacheable_request()
    found = _lookup(key) if key else None
    if not found or found[1] is None or found[1].recheck_at <= utcnow():
        return None
    return found[1].response()


def cached(view):
    """Serve this view's page from the shared cache when it is still current (see the module).

    Put it below the access decorators: a page is only built, and kept, for whoever may see it."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = _cacheable_request()
        found = _lookup(key) if key else None
        if not found:
            return view(*args, **kwargs)
        version, entry = found
        recheck_at = _recheck_at()
        if entry is not None:  # built at this version; the session has just been checked again
            _store(key, version, Entry(recheck_at, entry.vary, entry.body))
            return entry.response()
        response = current_app.make_response(view(*args, **kwargs))
        if (response.status_code == 200 and response.mimetype == "text/html" and not session.modified
                and not response.direct_passthrough
                and set(response.headers.keys()) <= {"Content-Type", "Content-Length", "Vary"}):
            _store(key, version, Entry(recheck_at, response.headers.get("Vary", ""), response.get_data()))
        return response

    wrapper.page_cached = True
    return wrapper


def _recheck_at() -> datetime:
    """The signed-in session's own answer (``SignedIn.recheck_at`` of portal.accounts.sessions)."""
    return current_user.recheck_at()


def _store(key: str, version: str, entry: Entry) -> None:
    try:
        current_app.extensions["portal.page_cache"].store(key, version, entry)
    except Exception as error:  # noqa: BLE001
        log.warning("Paginacache: pagina niet bewaard (%s)", error)


__all__ = ["Entry", "PageCache", "cached", "init_app", "mark_written", "serve_before_sign_in_check"]

