"""Small helpers shared by the core's views."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

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
