"""What the catalogue screens show: the priced standard trajectories of a year (a provider's with the
surcharges it qualifies for, and its own custom trajectories), the lists of care forms, tariffs and
surcharges with their counts, a tariff's versions and use, who qualifies for a surcharge, and the
choices of the catalogue's forms.

Every query runs within what the signed-in organisation may see (:func:`scoped`); writes and their
rules live in :mod:`portal.catalogue.admin`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import abort
from sqlalchemy import Numeric, cast, or_
from sqlmodel import func, select

from portal import clock, db
from portal.accounts.scoping import scoped
from portal.catalogue import pricing
from portal.catalogue import service as catalogue
from portal.catalogue.admin import UNIT_LABELS, extra_fields_for, segment_label, segment_short
from portal.models import (
    CareForm,
    CustomTrajectory,
    Organisation,
    OrganisationKind,
    StandardTrajectory,
    Surcharge,
    SurchargeQualification,
    Tariff,
    TariffVersion,
)
from portal.pagination import Page, paginate, sort_by
from portal.registry import current_registry
from portal.validators import RuleViolation

# --- Standard trajectories ---------------------------------------------------------------------


@dataclass
class TrajectoryRow:
    """A standard trajectory as the overview shows it: its care form and tariff, the unit rate and
    the computed price, or why there is no price."""

    trajectory: StandardTrajectory
    care_form: CareForm
    tariff: Tariff
    unit_rate: Decimal | None = None
    price: pricing.PriceBreakdown | None = None
    error: str | None = None

    @property
    def segment(self) -> str:
        return segment_label(self.trajectory.segment_key)

    @property
    def segment_short(self) -> str:
        return segment_short(self.trajectory.segment_key)

    @property
    def unit_plural(self) -> str:
        return pricing.UNITS.get(self.tariff.unit, (self.tariff.unit, self.tariff.unit))[1]

    @property
    def intensity_unit(self) -> str:
        """"uur" for an intensity of exactly 1, else "uren" (and so on)."""
        return self.unit_singular if self.trajectory.intensity == 1 else self.unit_plural

    @property
    def unit_singular(self) -> str:
        return pricing.UNITS.get(self.tariff.unit, (self.tariff.unit, self.tariff.unit))[0]


def priced_row(trajectory: StandardTrajectory, care_form: CareForm, tariff: Tariff,
               provider_id: int | None) -> TrajectoryRow:
    """The trajectory with its price (for a provider: with the surcharges it qualifies for); a
    trajectory that cannot be priced carries the reason instead."""
    row = TrajectoryRow(trajectory, care_form, tariff)
    try:
        terms = catalogue.trajectory_terms(trajectory, provider_id)
        row.unit_rate = terms.unit_rate
        row.price = pricing.price_trajectory(terms, current_registry().pricing.get(trajectory.segment_key))
    except (RuleViolation, pricing.PricingError) as problem:
        row.error = problem.message
    return row


def trajectory_row(trajectory: StandardTrajectory, provider_id: int | None) -> TrajectoryRow:
    """One trajectory's row, its care form and tariff looked up."""
    session = db.session()
    return priced_row(trajectory, session.get(CareForm, trajectory.care_form_id),
                      session.get(Tariff, trajectory.tariff_id), provider_id)


TRAJECTORY_SORTS = {
    "segment": StandardTrajectory.segment_key,
    "code": StandardTrajectory.code,
    "naam": StandardTrajectory.name,
    "zorgvorm": CareForm.name,
    "deskundigheid": StandardTrajectory.expertise,
    # SQLite keeps exact decimals as text: compare them as numbers.
    "intensiteit": cast(StandardTrajectory.intensity, Numeric(8, 2)),
    "doorlooptijd": StandardTrajectory.duration_months,
    "tarief": Tariff.name,
}


@dataclass
class TrajectoryOverview:
    """One page of a year's standard trajectories, priced, with what the overview offers around it."""

    page: Page
    rows: list[TrajectoryRow]
    sort: str
    years: list[int]
    custom_rows: list[tuple]


def trajectory_overview(year: int, *, domain: str, segment: str, query: str, sort: str | None,
                        page_number: int, provider_id: int | None) -> TrajectoryOverview:
    """The standard trajectories of ``year`` in a domain or segment (empty: all), whose name,
    code or care form matches ``query``, sorted by one of :data:`TRAJECTORY_SORTS`; for a provider
    also its custom trajectories of that year."""
    statement = scoped(
        select(StandardTrajectory, CareForm, Tariff)
        .join(CareForm, CareForm.id == StandardTrajectory.care_form_id)
        .join(Tariff, Tariff.id == StandardTrajectory.tariff_id), StandardTrajectory,
    ).where(StandardTrajectory.year == year)
    if domain:
        statement = statement.where(StandardTrajectory.segment_key.startswith(f"{domain}."))
    if segment:
        statement = statement.where(StandardTrajectory.segment_key == segment)
    if query:
        pattern = f"%{query}%"
        statement = statement.where(or_(StandardTrajectory.name.ilike(pattern), StandardTrajectory.code.ilike(pattern),
                                        CareForm.name.ilike(pattern)))
    statement, sort = sort_by(statement, sort, TRAJECTORY_SORTS, "segment")
    statement = statement.order_by(StandardTrajectory.code, StandardTrajectory.id)
    page = paginate(statement, page_number)
    rows = [priced_row(t, c, tf, provider_id) for t, c, tf in page.items]
    custom = custom_rows(provider_id, year) if provider_id is not None else []
    return TrajectoryOverview(page, rows, sort, years_on_offer(year), custom)


def years_on_offer(year: int) -> list[int]:
    """The catalogue years to choose from, newest first: those with trajectories, this year and
    the one shown."""
    years = set(db.session().exec(scoped(select(StandardTrajectory.year), StandardTrajectory).distinct()).all())
    years |= {clock.today().year, year}
    return sorted(years, reverse=True)


def custom_rows(provider_id: int, year: int) -> list[tuple]:
    """The provider's approved custom trajectories valid in ``year``, priced from the same tariffs
    as the standard trajectories: (custom trajectory, price or None, why no price)."""
    session = db.session()
    rows = []
    for custom in session.exec(scoped(select(CustomTrajectory), CustomTrajectory).where(
            CustomTrajectory.valid_from <= date(year, 12, 31),
            or_(CustomTrajectory.valid_until == None, CustomTrajectory.valid_until >= date(year, 1, 1)))  # noqa: E711
            .order_by(CustomTrajectory.code)):
        standard = session.get(StandardTrajectory, custom.standard_trajectory_id)
        try:
            price = catalogue.trajectory_price(
                standard, provider_id, year=year, intensity=custom.intensity,
                intensity_period=custom.intensity_period, duration_months=custom.duration_months,
                extra=dict(custom.extra or {}))
            rows.append((custom, price.total, None))
        except (RuleViolation, pricing.PricingError) as problem:
            rows.append((custom, None, problem.message))
    return rows


def extra_values(trajectory: StandardTrajectory) -> list[tuple[pricing.ExtraField, Decimal | None]]:
    """The fields the trajectory's segment adds, each with its stored value (None when empty)."""
    stored = trajectory.extra or {}
    return [(extra, Decimal(str(stored[extra.name])) if stored.get(extra.name) not in (None, "") else None)
            for extra in extra_fields_for(trajectory.segment_key)]


@dataclass
class TrajectoryDetail:
    """A trajectory's page: its priced row, the price per place per year and its segment's fields."""

    row: TrajectoryRow
    place_year: tuple[Decimal, Decimal] | None
    extra_values: list[tuple[str, Decimal | None]]


def trajectory_detail(trajectory: StandardTrajectory, provider_id: int | None) -> TrajectoryDetail:
    """The trajectory priced, with (trajectories per place-year, price per place-year) when it has
    a price, and its segment's fields as (label, value)."""
    row = trajectory_row(trajectory, provider_id)
    place_year = None
    if row.price is not None:
        place_year = (pricing.trajectories_per_place_year(trajectory.duration_months),
                      pricing.price_per_place_year(row.price.total, trajectory.duration_months))
    return TrajectoryDetail(row, place_year, [(extra.label, value) for extra, value in extra_values(trajectory)])


# --- Choices of the catalogue's forms ----------------------------------------------------------


def segment_choices(blank: str | None = None) -> list[tuple[str, str]]:
    """Every registered segment as (key, label), after a (``""``, ``blank``) choice when given."""
    registry = current_registry()
    choices = [("", blank)] if blank is not None else []
    for domain in registry.domains.values():
        for segment in domain.segments:
            choices.append((segment.key, segment_label(segment.key)))
    return choices


def care_form_choices() -> list[tuple[str, str]]:
    """The region's care forms by segment and code, for a trajectory's care form."""
    care_forms = db.session().exec(scoped(select(CareForm), CareForm)
                                   .order_by(CareForm.segment_key, CareForm.code)).all()
    return [("", "Kies een zorgvorm")] + [
        (str(c.id), f"{segment_short(c.segment_key)} · {c.code} {c.name}") for c in care_forms]


def tariff_choices() -> list[tuple[str, str]]:
    """The region's tariffs by code, with their unit, for a trajectory's tariff."""
    tariffs = db.session().exec(scoped(select(Tariff), Tariff).order_by(Tariff.code)).all()
    return [("", "Kies een tarief")] + [
        (str(t.id), f"{t.code} {t.name} ({UNIT_LABELS.get(t.unit, t.unit).lower()})") for t in tariffs]


def unit_choices() -> list[tuple[str, str]]:
    """The units a tariff may count in."""
    return [("", "Kies een eenheid")] + list(UNIT_LABELS.items())


def segment_of_care_form(care_form_id: int) -> str | None:
    """The segment of a care form the signed-in organisation may see; None for any other id."""
    care_form = db.session().exec(scoped(select(CareForm), CareForm).where(CareForm.id == care_form_id)).first()
    return care_form.segment_key if care_form is not None else None


# --- Care forms --------------------------------------------------------------------------------


CARE_FORM_SORTS = {"segment": CareForm.segment_key, "code": CareForm.code, "naam": CareForm.name}


def care_form_list(*, segment: str, query: str, sort: str | None, page_number: int) -> tuple[Page, str]:
    """One page of the region's care forms in a segment (empty: all) whose name or code matches
    ``query``, and the sort key used."""
    statement = scoped(select(CareForm), CareForm)
    if segment:
        statement = statement.where(CareForm.segment_key == segment)
    if query:
        statement = statement.where(or_(CareForm.name.ilike(f"%{query}%"), CareForm.code.ilike(f"%{query}%")))
    statement, sort = sort_by(statement, sort, CARE_FORM_SORTS, "segment")
    return paginate(statement.order_by(CareForm.code, CareForm.id), page_number), sort


# --- Tariffs and their versions ----------------------------------------------------------------


TARIFF_SORTS = {"code": Tariff.code, "naam": Tariff.name, "eenheid": Tariff.unit}


def rate_today(tariff_id: int) -> Decimal | None:
    """The tariff's unit rate valid today, None when no version covers today."""
    versions = [(pricing.Period(v.valid_from, v.valid_until), v.unit_rate) for v in catalogue.versions_of(tariff_id)]
    return pricing.rate_on(versions, clock.today())


def tariff_list(*, unit: str, query: str, sort: str | None, page_number: int) -> tuple[Page, list[tuple], str]:
    """One page of the region's tariffs in a unit (empty: all) whose name or code matches
    ``query``; the rows are (tariff, number of versions, rate today); and the sort key used."""
    statement = scoped(select(Tariff), Tariff)
    if unit:
        statement = statement.where(Tariff.unit == unit)
    if query:
        statement = statement.where(or_(Tariff.name.ilike(f"%{query}%"), Tariff.code.ilike(f"%{query}%")))
    statement, sort = sort_by(statement, sort, TARIFF_SORTS, "code")
    page = paginate(statement.order_by(Tariff.id), page_number)
    counts = dict(db.session().exec(
        select(TariffVersion.tariff_id, func.count()).where(TariffVersion.tariff_id.in_([t.id for t in page.items]))
        .group_by(TariffVersion.tariff_id)).all()) if page.items else {}
    rows = [(t, counts.get(t.id, 0), rate_today(t.id)) for t in page.items]
    return page, rows, sort


@dataclass
class TariffDetail:
    """A tariff's page: its versions by start date, and (year, number of standard trajectories)
    for every year whose trajectories price with it."""

    versions: list[TariffVersion]
    used: list[tuple[int, int]]


def tariff_detail(tariff: Tariff) -> TariffDetail:
    """The tariff's versions and where it is used."""
    used = db.session().exec(select(StandardTrajectory.year, func.count()).where(
        StandardTrajectory.tariff_id == tariff.id).group_by(StandardTrajectory.year)
        .order_by(StandardTrajectory.year)).all()
    return TariffDetail(catalogue.versions_of(tariff.id), list(used))


def version_or_404(version_id: int) -> tuple[TariffVersion, Tariff]:
    """A tariff version of a tariff the signed-in organisation may see, with its tariff, else 404."""
    found = db.session().exec(scoped(
        select(TariffVersion, Tariff).join(Tariff, Tariff.id == TariffVersion.tariff_id), Tariff)
        .where(TariffVersion.id == version_id)).first()
    if found is None:
        abort(404)
    return found


# --- Surcharges and the providers that qualify -------------------------------------------------


SURCHARGE_SORTS = {"code": Surcharge.code, "naam": Surcharge.name, "segment": Surcharge.segment_key,
                   "percentage": cast(Surcharge.percentage, Numeric(6, 3)), "vanaf": Surcharge.valid_from}


@dataclass
class SurchargeList:
    """One page of surcharges with the number of qualifying providers per surcharge id, and the
    ids of those the provider viewing them qualifies for."""

    page: Page
    sort: str
    counts: dict[int, int]
    own: set[int]


def surcharge_list(*, query: str, sort: str | None, page_number: int, provider_id: int | None) -> SurchargeList:
    """One page of the region's surcharges whose name or code matches ``query``; ``own`` is
    filled for a provider only."""
    statement = scoped(select(Surcharge), Surcharge)
    if query:
        statement = statement.where(or_(Surcharge.name.ilike(f"%{query}%"), Surcharge.code.ilike(f"%{query}%")))
    statement, sort = sort_by(statement, sort, SURCHARGE_SORTS, "code")
    page = paginate(statement.order_by(Surcharge.id), page_number)
    ids = [s.id for s in page.items]
    session = db.session()
    counts = dict(session.exec(
        select(SurchargeQualification.surcharge_id, func.count()).where(SurchargeQualification.surcharge_id.in_(ids))
        .group_by(SurchargeQualification.surcharge_id)).all()) if ids else {}
    own = set()
    if provider_id is not None and ids:
        own = set(session.exec(select(SurchargeQualification.surcharge_id).where(
            SurchargeQualification.surcharge_id.in_(ids),
            SurchargeQualification.organisation_id == provider_id)).all())
    return SurchargeList(page, sort, counts, own)


def qualified_providers(surcharge: Surcharge) -> list[Organisation]:
    """The providers that qualify for the surcharge, by name."""
    return list(db.session().exec(
        select(Organisation).join(SurchargeQualification, SurchargeQualification.organisation_id == Organisation.id)
        .where(SurchargeQualification.surcharge_id == surcharge.id).order_by(Organisation.name)))


def qualification_choices(qualified: list[Organisation]) -> list[tuple[str, str]]:
    """The region's active providers that do not qualify yet, by name, to grant the surcharge to."""
    taken = {o.id for o in qualified}
    providers = db.session().exec(scoped(select(Organisation), Organisation).where(
        Organisation.kind == OrganisationKind.PROVIDER, Organisation.is_active == True)  # noqa: E712
        .order_by(Organisation.name)).all()
    return [("", "Kies een zorgaanbieder")] + [(str(o.id), o.name) for o in providers if o.id not in taken]


def qualifies(surcharge: Surcharge, provider_id: int) -> bool:
    """Whether the provider qualifies for the surcharge."""
    return db.session().exec(select(SurchargeQualification).where(
        SurchargeQualification.surcharge_id == surcharge.id,
        SurchargeQualification.organisation_id == provider_id)).first() is not None
