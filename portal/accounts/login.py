"""Who is signed in on a request: Flask-Login wired to the two ways in, a browser session
(:mod:`portal.accounts.sessions`) and a bearer token of the JSON API (:mod:`portal.accounts.api_tokens`).

It sits above both, so neither imports the other back: api_tokens builds on sessions' SignedIn.
"""
from __future__ import annotations

from datetime import timedelta

from flask_login import LoginManager

from portal.accounts import api_tokens, throttle
from portal.accounts.sessions import SignedIn, load_signed_in


def _user_from_cookie(token: str) -> SignedIn | None:
    """The session cookie's user; the JSON API accepts bearer tokens only, never a cookie."""
    return None if api_tokens.is_api_request() else load_signed_in(token)


def _user_from_bearer_token(request) -> SignedIn | None:
    return api_tokens.user_from_request(request)


def init_app(app) -> None:
    manager = LoginManager()
    manager.login_view = "auth.sign_in"
    manager.login_message = "Log in om deze pagina te zien."
    manager.login_message_category = "info"
    manager.session_protection = None  # our own server-side record does this job
    manager.user_loader(_user_from_cookie)
    manager.request_loader(_user_from_bearer_token)
    manager.init_app(app)
    app.permanent_session_lifetime = timedelta(seconds=app.config["SESSION_ABSOLUTE_TIMEOUT"])
    throttle.init_app(app)  # where the sign-in failure counts live: Redis or the database
