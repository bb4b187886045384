"""Settings of the portal: defaults, the PORTAL_* environment, and the production safety checks."""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from portal.clock import parse_today

DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"

DEFAULTS: dict = {
    # "development", "testing" or "production"
    "ENV": "development",
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    "DATABASE_URL": None,  # filled in from the instance folder when not set
    # Which entry points of the group "portal.plugins" load; "*" means every one installed.
    "ENABLED_PLUGINS": "*",
    # Session lifetime in seconds: idle time between requests, and absolute since sign-in.
    "SESSION_IDLE_TIMEOUT": 30 * 60,
    "SESSION_ABSOLUTE_TIMEOUT": 10 * 60 * 60,
    # One-time links, in seconds.
    "INVITATION_MAX_AGE": 7 * 24 * 60 * 60,
    "PASSWORD_RESET_MAX_AGE": 60 * 60,
    # Sign-in throttling: failures of one e-mail address from one client within the window.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_FAILURE_WINDOW": 15 * 60,
    # Failures from one client address over all e-mail addresses (password spraying).
    "LOGIN_MAX_FAILURES_PER_CLIENT": 50,
    # Redis (redis://host:6379/0): when set, the sign-in throttle counts there, shared by every app
    # process, and the readiness check (/gereed) pings it; None keeps the counts in the database.
    # The job queue reads the same setting.
    "REDIS_URL": None,
    # Starts every Redis key the portal writes, so several portals can share one Redis server.
    "REDIS_KEY_PREFIX": "portal",
    # With REDIS_URL: seconds an overview page (portal/page_cache.py) may be served from Redis to the
    # same session while no commit changed the data; 0 switches the page cache off.
    "PAGE_CACHE_SECONDS": 300,
    # Logs: "text" (readable, development) or "json" (one JSON object per line, for a log collector).
    "LOG_FORMAT": "text",
    "LOG_LEVEL": "INFO",
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (0: none, trust no
    # such header). The throttle counts per client address, which behind a proxy is only right with this.
    "TRUSTED_PROXIES": 0,
    "MAIL_BACKEND": "outbox",
    "MAIL_SENDER": "noreply@portaal.example",
    "MAIL_ECHO": None,  # echo mail to the console; defaults to True in development
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 25,
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "SESSION_COOKIE_NAME": "portal_session",
    # The cookie lives as long as the absolute timeout from sign-in (the server-side session keeps the
    # idle timer), so it needs no new signature on every request: one less HMAC and zlib per page.
    "SESSION_REFRESH_EACH_REQUEST": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "PASSWORD_MIN_LENGTH": 12,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # Custom trajectory proposals: above this expected yearly value (euros, a Decimal string) an
    # approval needs two different contract managers.
    "FOUR_EYES_THRESHOLD": "250000.00",
    # Uploaded files (proposal attachments, realisation files waiting for their job): stored here
    # (outside the web root) under generated names. With a job queue every web process and worker
    # must reach it (a shared volume). None means the folder "uploads" in the instance folder
    # (instance/uploads). Checked writable at start-up.
    "UPLOAD_FOLDER": None,
    "MAX_ATTACHMENT_BYTES": 10 * 1024 * 1024,
    # Exports made by a job (portal/exports.py, with REDIS_URL): written here under the job's
    # unguessable id, for every web process and worker to reach. None means the folder "exports" in
    # UPLOAD_FOLDER (a volume that is shared already). Checked writable at start-up. A ready export
    # can be downloaded for EXPORT_TTL seconds, then it is removed.
    "EXPORT_FOLDER": None,
    "EXPORT_TTL": 60 * 60,
    # Realisation files: largest upload, and (without REDIS_URL) whether a file is checked and stored
    # in a thread of the web process (the page shows progress) or within the request (tests).
    "MAX_REALISATION_BYTES": 16 * 1024 * 1024,
    "REALISATION_IN_BACKGROUND": True,
    # The job queue (portal/jobs.py): with REDIS_URL (above) long work (realisation uploads,
    # settlement runs) runs as RQ jobs in `flask worker`; without it, in the web process.
    # Seconds a job may run before RQ stops it; seconds without a sign of life (progress) after
    # which a started job counts as dead (its worker was killed) and its upload as failed.
    "JOB_TIMEOUT": 60 * 60,
    "JOB_STALE_AFTER": 5 * 60,
    # Move the portal's calendar to this date (YYYY-MM-DD; the time of day still runs), for a demo
    # or an acceptance run "on" another day; empty means the real date (portal/clock.py).
    "TODAY": None,
}

PRODUCTION_OVERRIDES: dict = {
    "SESSION_COOKIE_SECURE": True,
    "PREFERRED_URL_SCHEME": "https",
}


class ConfigurationError(RuntimeError):
    """The portal refuses to start with this configuration."""


def check_writable_folder(folder: str, setting: str = "UPLOAD_FOLDER", dutch: str = "uploadmap",
                          english: str = "upload folder") -> None:
    """Create ``folder`` when missing and prove it writable (a file written and removed), else stop
    the start-up with a message naming the path and the ``setting``: uploads (or exports) would
    otherwise fail one by one later."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".schrijftest-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ConfigurationError(
            f"De {dutch} {path} is niet schrijfbaar ({error.strerror or error}); zet PORTAL_{setting} op een "
            f"map die het portaal (elk webproces en elke worker) mag beschrijven. / The {english} {path} is "
            f"not writable: set PORTAL_{setting} to a directory every process can write to."
        ) from None


def load_settings(app, overrides: dict | None) -> None:
    """Fill app.config from the defaults, then the PORTAL_* environment, then ``overrides``."""
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("PORTAL")
    if overrides:
        app.config.update(overrides)
    env = app.config["ENV"]
    if env not in ("development", "testing", "production"):
        raise ConfigurationError(
            f"PORTAL_ENV={env!r} is onbekend; kies development, testing of production."
        )
    if env == "production":
        for key, value in PRODUCTION_OVERRIDES.items():
            app.config[key] = value
        if app.config["SECRET_KEY"] in (DEFAULT_SECRET_KEY, "", None):
            raise ConfigurationError(
                "Production refuses to start with the default secret key: set PORTAL_SECRET_KEY "
                "to a long random value (python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        if len(str(app.config["SECRET_KEY"])) < 32:
            raise ConfigurationError("PORTAL_SECRET_KEY must be at least 32 characters in production.")
    if app.config["MAIL_ECHO"] is None:
        app.config["MAIL_ECHO"] = env == "development"
    if not app.config["DATABASE_URL"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "portal.db")
    try:
        app.config["TODAY"] = parse_today(app.config["TODAY"])
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    app.config["FOUR_EYES_THRESHOLD"] = Decimal(str(app.config["FOUR_EYES_THRESHOLD"]))
    app.config["MAX_ATTACHMENT_BYTES"] = int(app.config["MAX_ATTACHMENT_BYTES"])
    app.config["MAX_REALISATION_BYTES"] = int(app.config["MAX_REALISATION_BYTES"])
    if isinstance(app.config["REALISATION_IN_BACKGROUND"], str):
        app.config["REALISATION_IN_BACKGROUND"] = app.config["REALISATION_IN_BACKGROUND"].lower() in ("1", "true", "yes")
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")
    app.config["TRUSTED_PROXIES"] = int(app.config["TRUSTED_PROXIES"])
    if app.config["LOG_FORMAT"] not in ("text", "json"):
        raise ConfigurationError(
            f"PORTAL_LOG_FORMAT={app.config['LOG_FORMAT']!r} is onbekend; kies text of json.")
    check_writable_folder(app.config["UPLOAD_FOLDER"])
    if not app.config["EXPORT_FOLDER"]:
        app.config["EXPORT_FOLDER"] = os.path.join(app.config["UPLOAD_FOLDER"], "exports")
    check_writable_folder(app.config["EXPORT_FOLDER"], "EXPORT_FOLDER", "exportmap", "export folder")
    app.config["REDIS_URL"] = (app.config["REDIS_URL"] or "").strip() or None
    if app.config["REDIS_URL"] and not app.config["REDIS_URL"].startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(
            f"PORTAL_REDIS_URL={app.config['REDIS_URL']!r} is geen Redis-URL; gebruik redis://host:6379/0 "
            "(or leave it empty to run jobs in the web process)."
        )
    for key in ("JOB_TIMEOUT", "JOB_STALE_AFTER", "EXPORT_TTL", "PAGE_CACHE_SECONDS"):
        try:
            app.config[key] = int(app.config[key])
        except (TypeError, ValueError):
            raise ConfigurationError(f"PORTAL_{key} moet een aantal seconden zijn, niet {app.config[key]!r}.") from None
    enabled = app.config["ENABLED_PLUGINS"]
    if isinstance(enabled, str):
        app.config["ENABLED_PLUGINS"] = (
            "*" if enabled.strip() == "*" else [p.strip() for p in enabled.split(",") if p.strip()]
        )
