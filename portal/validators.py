"""Format checks for Dutch identifiers and what each kind of organisation must carry."""
from __future__ import annotations

from portal.models import OrganisationKind

KVK_PATTERN = r"^\d{8}$"
AGB_PATTERN = r"^\d{8}$"
MUNICIPALITY_CODE_PATTERN = r"^\d{4}$"


def kind_requirements(kind: str, values: dict) -> list[tuple[str, str]]:
    """(field, Dutch message) for every value the kind requires but lacks, or may not have."""
    problems = []
    if kind == OrganisationKind.PROVIDER:
        if not values.get("kvk_number"):
            problems.append(("kvk_number", "Een zorgaanbieder heeft een KvK-nummer."))
        if not values.get("agb_code"):
            problems.append(("agb_code", "Een zorgaanbieder heeft een AGB-code."))
    elif values.get("kvk_number") or values.get("agb_code"):
        for field in ("kvk_number", "agb_code"):
            if values.get(field):
                problems.append((field, "Alleen zorgaanbieders hebben een KvK-nummer en AGB-code hier."))
    if kind == OrganisationKind.MUNICIPALITY:
        if not values.get("residents"):
            problems.append(("residents", "Een gemeente heeft een aantal inwoners."))
        if not values.get("municipality_code"):
            problems.append(("municipality_code", "Een gemeente heeft een CBS-gemeentecode."))
    else:
        for field in ("residents", "municipality_code"):
            if values.get(field):
                problems.append((field, "Alleen gemeenten hebben inwoners en een gemeentecode."))
    return problems


class RuleViolation(ValueError):
    """A business rule refuses the input; ``field`` names the form field, ``message`` is Dutch.

    Services raise it before anything is written; views put the message on the field.
    """

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


MIN_REASON = 10
MAX_REASON = 10_000


def clean_reason(reason, too_short: str, minimum: int = MIN_REASON, maximum: int = MAX_REASON,
                 field: str = "reason") -> str:
    """A reason as typed, stripped; :class:`RuleViolation` on ``field`` with the caller's Dutch
    ``too_short`` message below ``minimum`` characters, and a standard one above ``maximum``."""
    reason = (reason or "").strip()
    if len(reason) < minimum:
        raise RuleViolation(field, too_short)
    if len(reason) > maximum:
        raise RuleViolation(field, f"De reden is hoogstens {maximum} tekens.")
    return reason
