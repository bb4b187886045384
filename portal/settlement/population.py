"""The residents of a region's municipalities (the population key's input, from the Organisation
table) and the cost allocation as JSON, for the CLI ``allocate-costs`` and the API."""
from __future__ import annotations

from sqlmodel import select

from portal import db
from portal.models import Organisation, OrganisationKind, Region
from portal.settlement.cost_allocation import Allocation


class PopulationMissing(ValueError):
    """The region cannot be keyed: unknown, no municipalities, or one without a residents count."""


def region_by_code(code: str) -> Region:
    region = db.session().exec(select(Region).where(Region.code == (code or "").strip())).first()
    if region is None:
        known = ", ".join(db.session().exec(select(Region.code).order_by(Region.code)).all()) or "geen"
        raise PopulationMissing(f"Er is geen regio met de code {code!r}. Bekende regio's: {known}.")
    return region


def municipalities(region_id: int) -> list[Organisation]:
    """The region's active municipalities, sorted by name (the order of the key and its ties)."""
    found = db.session().exec(select(Organisation).where(
        Organisation.region_id == region_id, Organisation.kind == OrganisationKind.MUNICIPALITY,
        Organisation.is_active.is_(True))).all()
    return sorted(found, key=lambda m: (m.name.casefold(), m.id))


def residents_of(region_id: int) -> tuple[list[Organisation], dict[str, int]]:
    found = municipalities(region_id)
    if not found:
        raise PopulationMissing("Deze regio heeft geen (actieve) gemeenten om de kosten over te verdelen.")
    missing = [m.name for m in found if m.residents is None]
    if missing:
        raise PopulationMissing(f"Het inwonertal ontbreekt bij {', '.join(missing)}; vul het in bij de organisatie.")
    return found, {m.name: m.residents for m in found}


def _euros(value) -> str:
    return f"{value:.2f}"


def allocation_json(region: Region, found: list[Organisation], allocation: Allocation) -> dict:
    """The answer of the CLI (``--json``) and the API: amounts as strings with two decimals."""
    codes = {m.name: m.municipality_code for m in found}
    return {
        "region": {"code": region.code, "name": region.name},
        "amount": _euros(allocation.amount),
        "method": allocation.method,
        "residents_total": allocation.residents_total,
        "municipalities": [{"name": part.name, "municipality_code": codes.get(part.name),
                            "residents": part.residents, "share_percentage": _euros(part.share),
                            "amount": _euros(part.amount)} for part in allocation.parts],
        "shares_total": _euros(allocation.shares_total),
        "total": _euros(allocation.total),
        "rounding_difference": _euros(allocation.rounding_difference),
    }
