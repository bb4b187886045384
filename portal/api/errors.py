"""JSON answers of the API, errors included: ``{"error": {"code": …, "message": …}}`` with a
Dutch message, never an HTML page."""
from __future__ import annotations

import json

from flask import Response
from werkzeug.exceptions import HTTPException

# HTTP status -> (machine-readable code, Dutch message)
ERRORS = {
    400: ("bad_request", "Het verzoek is ongeldig."),
    401: ("unauthorized", "Geef een geldige API-sleutel mee in de kop 'Authorization: Bearer <sleutel>'."),
    403: ("forbidden", "U hebt met deze API-sleutel geen toegang tot dit onderdeel."),
    404: ("not_found", "Dit bestaat niet, of u hebt er geen toegang toe."),
    405: ("method_not_allowed", "Deze methode is hier niet toegestaan; zie /api/v1/openapi.json."),
    406: ("not_acceptable", "Deze API antwoordt alleen in JSON."),
    409: ("conflict", "Dit is intussen gewijzigd; haal de nieuwe stand op en probeer het opnieuw."),
    422: ("invalid", "De meegestuurde gegevens zijn niet geldig."),
    429: ("too_many_requests", "Te veel verzoeken; probeer het later opnieuw."),
    500: ("internal_error", "Er ging aan onze kant iets mis; het probleem is vastgelegd."),
}

REALM = 'Bearer realm="aanbiedersportaal"'


class ApiError(Exception):
    """An error answer with a specific message; ``parameter`` names the query parameter at fault."""

    def __init__(self, status: int, message: str, parameter: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameter = parameter


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON response. Serialised with the standard library and no fallback, so an amount that
    slipped through as a ``Decimal`` fails loudly instead of turning into a float somewhere."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, mimetype="application/json", headers=headers)


def error_response(status: int, message: str | None = None, *, parameter: str | None = None,
                   invalid_token: bool = False) -> Response:
    code, default = ERRORS.get(status, ERRORS[500] if status >= 500 else ERRORS[400])
    error = {"code": code, "message": message or default}
    if parameter:
        error["parameter"] = parameter
    headers = {}
    if status == 401:
        # RFC 6750 §3: tell the client which scheme, and whether the token it sent was bad.
        headers["WWW-Authenticate"] = REALM + (', error="invalid_token"' if invalid_token else "")
    return json_response({"error": error}, status, headers)


def from_exception(error: Exception) -> Response:
    """The JSON answer for an exception raised while serving an API request."""
    if isinstance(error, ApiError):
        return error_response(error.status, error.message, parameter=error.parameter)
    if isinstance(error, HTTPException):
        response = error_response(error.code or 500)
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response
    return error_response(500)
