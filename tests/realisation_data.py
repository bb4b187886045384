"""Helpers for realisation tests on the demo region: submit rows through the API path and read
what was stored, and the agreed prices straight from the catalogue (independently of the
realisation pipeline)."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import func, select

from portal import db
from portal.catalogue import service as catalogue
from portal.models import Organisation, StandardTrajectory
from portal.models.realisation import RealisationLine, RealisationReport
from portal.money import to_cents
from portal.realisation.importing import submit_rows
from tests.dates import this_year

COLUMNS = ("gemeente", "segment", "periode", "traject", "gestart", "lopend", "beeindigd", "clienten",
           "eenheden", "plekdagen")


def provider(name: str) -> Organisation:
    return db.session().exec(select(Organisation).where(Organisation.name == name)).one()


def report_count(organisation: Organisation) -> int:
    return db.session().exec(select(func.count()).select_from(RealisationReport)
                             .where(RealisationReport.organisation_id == organisation.id)).one()


def submit(organisation: Organisation, *rows: dict):
    """Submit rows as the API does; returns (upload, [(column, message), ...])."""
    upload, result = submit_rows(organisation, None, list(rows), "api")
    return upload, [(error.column, error.message) for error in result.errors]


def refused(organisation: Organisation, row: dict) -> list[tuple[str, str]]:
    """Submit one row that must be refused, check nothing was stored, return the errors."""
    before = report_count(organisation)
    upload, errors = submit(organisation, row)
    assert upload.state == "refused", upload.message
    assert report_count(organisation) == before
    return errors


def stored_line(organisation: Organisation, row: dict) -> RealisationLine:
    """Submit one row that must be stored; returns its stored line."""
    upload, errors = submit(organisation, row)
    assert upload.state == "stored", errors
    report = db.session().exec(select(RealisationReport).where(RealisationReport.upload_id == upload.id)).one()
    return db.session().exec(select(RealisationLine).where(RealisationLine.report_id == report.id)).one()


def standard(segment_key: str, code: str, year: int | None = None) -> StandardTrajectory:
    """The catalogue's standard trajectory of ``year`` (default: the year on the clock)."""
    return db.session().exec(select(StandardTrajectory).where(
        StandardTrajectory.segment_key == segment_key, StandardTrajectory.code == code,
        StandardTrajectory.year == (year or this_year()))).one()


def trajectory_price(organisation: Organisation, segment_key: str, code: str, year: int | None = None) -> Decimal:
    """The catalogue's price of a standard trajectory for this provider."""
    return catalogue.trajectory_price(standard(segment_key, code, year), organisation.id).total


def unit_price(organisation: Organisation, segment_key: str, code: str, year: int | None = None) -> Decimal:
    """One unit (hour, day) at the tariff's rate of the year with the provider's surcharges."""
    terms = catalogue.trajectory_terms(standard(segment_key, code, year), organisation.id)
    factor = Decimal(1)
    for surcharge in terms.surcharges:
        factor += Decimal(surcharge.percentage) / 100
    return to_cents(terms.unit_rate * factor)
