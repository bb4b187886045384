"""Small helpers shared by the core's views."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import make_response, render_template
from htmx_flask import request

from portal import audit


def refuse_unexpected_fields(form) -> bool:
    """True (and logged, with a form error) when the POST carries fields the form lacks."""
    extra = form.unexpected_fields()
    if not extra:
        return False
    audit.record_now("security.unexpected_fields",
                     f"Formulier met onverwachte velden geweigerd op {request.path}: {', '.join(extra)}",
                     details={"path": request.path, "fields": extra})
    form.form_errors.append(
        f"Het formulier bevatte velden die hier niet horen ({', '.join(extra)}). Er is niets opgeslagen."
    )
    return True


def rejected_status(form) -> int | None:
    """For a submitted form: 400 when it carries unexpected fields, 422 when it does not
    validate (the errors are on the form), None when it may be processed."""
    if refuse_unexpected_fields(form):
        return 400
    if not form.validate():
        return 422
    return None


def safe_next(target: str | None) -> str | None:
    """Only a path on this site may be a redirect target after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def page_number() -> int:
    try:
        return max(1, int(request.args.get("pagina", "1")))
    except ValueError:
        return 1


def render_page_or_partial(page_template: str, partial_template: str, **context):
    """The whole page for a normal request; only the part htmx swaps in for an htmx request.

    htmx restoring a page from history after a cache miss wants the whole page again.
    """
    partial = request.htmx and not request.headers.get("HX-History-Restore-Request")
    response = make_response(render_template(partial_template if partial else page_template, **context))
    response.vary.add("HX-Request")
    return response
