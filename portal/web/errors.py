"""Dutch error pages; no stack trace ever reaches a user."""
from __future__ import annotations

import logging

from flask import render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal import audit
from portal.accounts.api_tokens import is_api_request
from portal.api import errors as api_errors

log = logging.getLogger("portal")

MESSAGES = {
    400: ("Ongeldig verzoek", "Het verzoek kon niet worden verwerkt. Probeer het opnieuw."),
    403: ("Geen toegang", "U hebt geen toegang tot deze pagina."),
    404: ("Pagina niet gevonden", "Deze pagina bestaat niet, of u hebt er geen toegang toe."),
    405: ("Niet toegestaan", "Deze handeling is op deze pagina niet toegestaan."),
    413: ("Bestand te groot", "Het verstuurde bestand is te groot."),
    429: ("Te veel pogingen", "U hebt het te vaak geprobeerd. Wacht een kwartier en probeer het dan opnieuw."),
    500: ("Er ging iets mis", "Er ging aan onze kant iets mis. Probeer het later opnieuw; het probleem is vastgelegd."),
}


def _render(status: int, message: str | None = None):
    title, text = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    return render_template("error.html", status=status, title=title, text=message or text), status


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        audit.record_now("security.csrf_refused", f"Formulier zonder geldig CSRF-token geweigerd: {request.path}",
                         details={"reason": error.description, "path": request.path})
        return _render(400, "Uw formulier is verlopen of ongeldig (beveiligingstoken ontbreekt). "
                            "Laad de pagina opnieuw en probeer het nog eens; er is niets opgeslagen.")

    @app.errorhandler(HTTPException)
    def _http_error(error):
        if error.code in (301, 302, 303, 307, 308):
            return error
        if is_api_request():  # e.g. an unknown path under /api/: the API answers JSON, never HTML
            return api_errors.from_exception(error)
        return _render(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error):
        if isinstance(error, HTTPException):
            return _http_error(error)
        log.exception("Unhandled error on %s", request.path)
        if is_api_request():
            return api_errors.from_exception(error)
        return _render(InternalServerError.code)
