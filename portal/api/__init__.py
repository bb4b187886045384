"""The JSON API under ``/api/v1``: catalogue, framework and budget agreements and proposals to read,
and custom trajectory proposals and realisation to submit; described by the OpenAPI document at
``/api/v1/openapi.json``.

Callers authenticate with a bearer token (:mod:`portal.accounts.api_tokens`); the token's user and
membership become ``current_user``, so every query is scoped exactly as on the screens. The API is
cookie-less: requests under ``/api/`` get no cookie session at all (nothing is read from or written
to a session cookie), which is also why it needs no CSRF protection. Every answer is JSON, errors
included.
"""
from __future__ import annotations

import logging

from flask import Blueprint, request
from flask.sessions import SessionInterface
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from portal.accounts.api_tokens import API_PATH_PREFIX
from portal.api.errors import ApiError, error_response, from_exception

log = logging.getLogger("portal")

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


class _CookielessApi(SessionInterface):
    """Wraps the app's session interface: API requests get a null session (reads find nothing,
    a write fails loudly) and never a ``Set-Cookie``; every other request is left alone."""

    def __init__(self, inner: SessionInterface):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def open_session(self, app, request):
        if request.path.startswith(API_PATH_PREFIX):
            return self.make_null_session(app)
        return self.inner.open_session(app, request)

    def save_session(self, app, session, response):
        return self.inner.save_session(app, session, response)


@bp.record_once
def _set_up(state) -> None:
    app = state.app
    if not isinstance(app.session_interface, _CookielessApi):
        app.session_interface = _CookielessApi(app.session_interface)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)  # cookie-less (bearer tokens only): there is no session for a forged request to ride on


@bp.before_request
def _require_token():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        return None
    sent = request.headers.get("Authorization")
    if not sent:
        return error_response(401)
    if not sent.strip().lower().startswith("bearer "):
        return error_response(401, "Gebruik het schema Bearer: 'Authorization: Bearer <sleutel>'.")
    return error_response(401, "Deze API-sleutel is onbekend of ingetrokken.", invalid_token=True)


@bp.after_request
def _api_headers(response):
    response.headers["Cache-Control"] = "no-store"  # answers hold an organisation's own data
    response.vary.add("Authorization")
    return response


@bp.errorhandler(Exception)
def _api_error(error):
    if not isinstance(error, (HTTPException, ApiError)):
        log.exception("Unhandled error on %s", request.path)
    return from_exception(error)


from portal.api import views  # noqa: E402,F401  (registers the routes on bp)
