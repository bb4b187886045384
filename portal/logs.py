"""Logs: a request id on every request, and with ``LOG_FORMAT = "json"`` one JSON object per line
(stdlib logging) with the request's id, path, status and duration, for a log collector.

The request id comes from the ``X-Request-ID`` header when a proxy or caller sends a sane one, is
made up otherwise, and goes back in the response's ``X-Request-ID``: a user's complaint, the
proxy's log and the app's log meet on it.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is taken only when it is short and plain: it ends up in every log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged too.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

request_log = logging.getLogger("portal.request")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the request's id
    and path when there is a request, ``extra=`` fields, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = current_request_id()
            entry["path"] = request.path
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def init_app(app) -> None:
    json_logs = app.config["LOG_FORMAT"] == "json"
    if json_logs:
        use_json_logs(app.config["LOG_LEVEL"])
        from flask.logging import default_handler

        # The app's logger ("portal") propagates to the root's JSON handler; Flask's own text
        # handler would write every record a second time.
        app.logger.removeHandler(default_handler)

    @app.before_request
    def _start_request():
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = sent if _SANE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish_request(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        # In text mode the server (flask run, gunicorn's access log) writes the request line itself.
        if json_logs and started is not None:
            request_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "method": request.method, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            })
        return response


def use_json_logs(level: str | int = "INFO") -> None:
    """Send every logger's records through one JSON handler on the root logger (once per process:
    gunicorn's config may have put it there already)."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
