"""Agreement test data built in the tests themselves, through the services of
:mod:`portal.contracts.service`. Plugins load demo agreements too, so helpers here pick periods that do
not overlap them (a provider has one framework agreement per segment at a time)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import select

from portal import db
from portal.contracts import service as agreements
from portal.models import (
    BudgetAgreement,
    FrameworkAgreement,
    FrameworkSegment,
    Organisation,
    OrganisationKind,
    Region,
)
from tests.dates import YEAR

D = Decimal


def region_id() -> int:
    return db.session().exec(select(Region.id).where(Region.code == "noord-limburg")).one()


def organisation(name: str) -> Organisation:
    return db.session().exec(select(Organisation).where(Organisation.name == name)).one()


def new_provider(name: str) -> Organisation:
    """A provider of the demo region without any agreements (no clash with demo data)."""
    session = db.session()
    provider = Organisation(region_id=region_id(), kind=OrganisationKind.PROVIDER, name=name,
                            kvk_number="99887766", agb_code="99887766")
    session.add(provider)
    session.flush()
    return provider


def free_start(organisation_id: int, segment_keys: list[str], earliest: int | None = None) -> date:
    """1 January of the first year from ``earliest`` (default: the run's year) after every framework agreement the
    provider already has for these segments, even with all its extensions used."""
    year = earliest or YEAR
    for agreement in db.session().exec(
            select(FrameworkAgreement).join(FrameworkSegment, FrameworkSegment.framework_agreement_id == FrameworkAgreement.id)
            .where(FrameworkAgreement.organisation_id == organisation_id,
                   FrameworkSegment.segment_key.in_(segment_keys))).all():
        year = max(year, agreements.term_of(agreement).latest_end.year + 1)
    return date(year, 1, 1)


def framework(provider: Organisation, reference: str, segments=("jeugd.S3", "jeugd.S4"), lot: str = "regional",
              contract_form: str | None = None, start: date | None = None, **values) -> FrameworkAgreement:
    domain = segments[0].split(".")[0]
    return agreements.create_framework_agreement(
        provider.region_id, organisation_id=provider.id, reference=reference, domain=domain,
        segments=list(segments), lot=lot, contract_form=contract_form or ("d" if lot == "regional" else "a"),
        start_date=start or free_start(provider.id, list(segments)), **values)


def budget(provider: Organisation, municipality: str, year: int, amount: str = "120000.00",
           segment_key: str = "jeugd.S3", kind: str = "budget", **values) -> BudgetAgreement:
    if kind == "budget":
        values.setdefault("advance_installments", 12)
        values.setdefault("bandwidth_percentage", D("5"))
    return agreements.create_budget_agreement(
        provider.region_id, organisation_id=provider.id, municipality_id=organisation(municipality).id,
        segment_key=segment_key, year=year, kind=kind, amount=D(amount), **values)


def sample_agreements() -> dict:
    """For the URL-map walk: a framework agreement of Zorggroep Maasland and one of its budget
    agreements with Venlo (the demo's own when the plugins loaded them, else new ones)."""
    session = db.session()
    maasland, venlo = organisation("Zorggroep Maasland"), organisation("Venlo")
    budget_row = session.exec(select(BudgetAgreement).where(
        BudgetAgreement.organisation_id == maasland.id, BudgetAgreement.municipality_id == venlo.id)).first()
    if budget_row is None:
        agreement = framework(maasland, "T-URLMAP-1")
        budget_row = budget(maasland, "Venlo", agreement.start_date.year)
    session.commit()
    return {"agreement_id": budget_row.framework_agreement_id, "budget_id": budget_row.id}
