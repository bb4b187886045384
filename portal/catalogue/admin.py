"""Keeping the regional catalogue: care forms, tariffs and their dated versions, surcharges and
the providers that qualify for them, and standard trajectories.

Every function checks all its rules first and raises :class:`CatalogueViolation` (a
:class:`~portal.validators.RuleViolation` carrying every refused field) before it writes anything;
then it writes and records the change with its before and after in the audit trail, in the same
transaction. The caller commits (or rolls back).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import func, select

from portal import audit, db
from portal.accounts.scoping import scoped
from portal.catalogue import pricing
from portal.catalogue.service import below_floor, price_date, surcharges_allowed, surcharges_for, unit_rate
from portal.formatting import nl_date
from portal.models import (
    CareForm,
    Organisation,
    OrganisationKind,
    Region,
    StandardTrajectory,
    Surcharge,
    SurchargeQualification,
    Tariff,
    TariffVersion,
)
from portal.registry import current_registry
from portal.validators import RuleViolation

CARE_FORM_FIELDS = ("segment_key", "code", "name")
TARIFF_FIELDS = ("code", "name", "unit")
VERSION_FIELDS = ("tariff_id", "valid_from", "valid_until", "unit_rate")
SURCHARGE_FIELDS = ("code", "name", "percentage", "segment_key", "valid_from", "valid_until")
TRAJECTORY_FIELDS = ("year", "segment_key", "care_form_id", "code", "name", "expertise", "intensity",
                     "intensity_period", "duration_months", "tariff_id", "extra")

UNIT_LABELS = {"hour": "Per uur", "contact": "Per contact", "day": "Per dag"}
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_INTENSITY = Decimal(1000)
MAX_UNIT_RATE = Decimal("99999999.99")  # the column holds 12 digits, 2 of them decimals
MAX_PERCENTAGE = Decimal(100)


class CatalogueViolation(RuleViolation):
    """The catalogue refuses the input; ``problems`` lists every (field, Dutch message).

    ``field`` and ``message`` are those of the first problem, so code that knows only
    :class:`RuleViolation` still shows a sensible error."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(*problems[0])
        self.problems = list(problems)


def _refuse_if(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise CatalogueViolation(problems)


def segment_label(segment_key: str | None) -> str:
    """The segment's label as the plugins registered it; "Alle segmenten" for none."""
    return current_registry().segment_label(segment_key) if segment_key else "Alle segmenten"


def segment_short(segment_key: str | None) -> str:
    """"Domain S3" for a segment key, for tight places such as table cells and choices."""
    return current_registry().segment_short_label(segment_key) if segment_key else "Alle segmenten"


def snapshot(obj, fields) -> dict[str, Any]:
    """The audited values of an object: decimals and dates as strings."""
    values = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, dict):
            value = dict(value)
        values[name] = value
    return values


def _write(obj, values: dict, fields) -> None:
    for name in fields:
        if name in values:
            setattr(obj, name, values[name])


def _save_new(obj, fields, action: str, summary: str):
    """Insert ``obj`` and record it in the audit trail (the caller commits)."""
    session = db.session()
    session.add(obj)
    session.flush()
    audit.record(action, summary, object_type=obj.__tablename__, object_id=obj.id, region_id=obj.region_id,
                 details={"before": None, "after": snapshot(obj, fields)})
    return obj


def _save_changes(obj, values: dict, fields, action: str, describe):
    """Write ``values`` into ``obj`` and record before and after (the caller commits)."""
    before = snapshot(obj, fields)
    _write(obj, values, fields)
    session = db.session()
    session.add(obj)
    session.flush()
    audit.record(action, f"{describe(obj)} gewijzigd", object_type=obj.__tablename__, object_id=obj.id,
                 region_id=obj.region_id, details={"before": before, "after": snapshot(obj, fields)})
    return obj


def _text(values: dict, name: str, label: str, max_length: int, problems: list) -> None:
    values[name] = (values.get(name) or "").strip()
    if not values[name]:
        problems.append((name, f"Vul {label} in."))
    elif len(values[name]) > max_length:
        problems.append((name, f"{label[0].upper()}{label[1:]} mag hoogstens {max_length} tekens hebben."))


def period_text(valid_from: date, valid_until: date | None) -> str:
    if valid_until is None:
        return f"vanaf {nl_date(valid_from)}"
    return f"{nl_date(valid_from)} tot en met {nl_date(valid_until)}"


def _check_period(values: dict, problems: list) -> None:
    if values.get("valid_from") is None:
        problems.append(("valid_from", "Vul de datum in vanaf wanneer dit geldt."))
    elif values.get("valid_until") is not None and values["valid_until"] < values["valid_from"]:
        problems.append(("valid_until", "De einddatum ligt vóór de begindatum."))


def _trajectories_using(column, object_id) -> int:
    return db.session().exec(select(func.count()).select_from(StandardTrajectory)
                             .where(column == object_id)).one()


# --- Care forms --------------------------------------------------------------------------------


def _check_care_form(region_id: int, values: dict, existing: CareForm | None) -> None:
    problems = []
    if values.get("segment_key") not in current_registry().segments:
        problems.append(("segment_key", "Kies een segment."))
    _text(values, "code", "een code", 32, problems)
    _text(values, "name", "een naam", 200, problems)
    if not problems:
        clash = db.session().exec(select(CareForm).where(
            CareForm.region_id == region_id, CareForm.segment_key == values["segment_key"],
            CareForm.code == values["code"])).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            problems.append(("code", f"Er is al een zorgvorm met code {values['code']} in dit segment."))
    if existing is not None and values.get("segment_key") != existing.segment_key:
        used = _trajectories_using(StandardTrajectory.care_form_id, existing.id)
        if used:
            problems.append(("segment_key", f"Deze zorgvorm hoort bij {used} standaardtraject(en); "
                                            "het segment kan daarom niet meer veranderen."))
    _refuse_if(problems)


def create_care_form(region_id: int, **values) -> CareForm:
    _check_care_form(region_id, values, None)
    care_form = CareForm(region_id=region_id, **{name: values[name] for name in CARE_FORM_FIELDS})
    return _save_new(care_form, CARE_FORM_FIELDS, "catalogue.care_form_created",
                     f"Zorgvorm {care_form.code} {care_form.name} toegevoegd")


def update_care_form(care_form: CareForm, **values) -> CareForm:
    _check_care_form(care_form.region_id, values, care_form)
    return _save_changes(care_form, values, CARE_FORM_FIELDS, "catalogue.care_form_changed",
                         lambda obj: f"Zorgvorm {obj.code} {obj.name}")


# --- Tariffs and their versions ----------------------------------------------------------------


def _check_tariff(region_id: int, values: dict, existing: Tariff | None) -> None:
    problems = []
    _text(values, "code", "een code", 32, problems)
    _text(values, "name", "een naam", 200, problems)
    if values.get("unit") not in UNIT_LABELS:
        problems.append(("unit", "Kies de eenheid van het tarief: uur, contact of dag."))
    if values.get("code"):
        clash = db.session().exec(select(Tariff).where(
            Tariff.region_id == region_id, Tariff.code == values["code"])).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            problems.append(("code", f"Er is al een tarief met code {values['code']}."))
    if existing is not None and values.get("unit") != existing.unit:
        used = _trajectories_using(StandardTrajectory.tariff_id, existing.id)
        if used:
            problems.append(("unit", f"{used} standaardtraject(en) rekenen met dit tarief; de eenheid "
                                     "kan daarom niet meer veranderen."))
    _refuse_if(problems)


def create_tariff(region_id: int, **values) -> Tariff:
    _check_tariff(region_id, values, None)
    tariff = Tariff(region_id=region_id, **{name: values[name] for name in TARIFF_FIELDS})
    return _save_new(tariff, TARIFF_FIELDS, "catalogue.tariff_created",
                     f"Tarief {tariff.code} {tariff.name} toegevoegd")


def update_tariff(tariff: Tariff, **values) -> Tariff:
    _check_tariff(tariff.region_id, values, tariff)
    return _save_changes(tariff, values, TARIFF_FIELDS, "catalogue.tariff_changed",
                         lambda obj: f"Tarief {obj.code} {obj.name}")


def _check_version(tariff: Tariff, values: dict, existing: TariffVersion | None) -> None:
    problems = []
    rate = values.get("unit_rate")
    if rate is None:
        problems.append(("unit_rate", "Vul het tarief per eenheid in."))
    elif rate < 0:
        problems.append(("unit_rate", "Het tarief mag niet negatief zijn."))
    elif rate > MAX_UNIT_RATE or rate != rate.quantize(Decimal("0.01")):
        problems.append(("unit_rate", "Vul een tarief in hele centen in, kleiner dan 100 miljoen euro."))
    _check_period(values, problems)
    if not any(name in ("valid_from", "valid_until") for name, _ in problems):
        new = pricing.Period(values["valid_from"], values.get("valid_until"))
        others = [v for v in _versions(tariff.id) if existing is None or v.id != existing.id]
        for other in others:
            period = pricing.Period(other.valid_from, other.valid_until)
            if new.overlaps(period):
                # Name the date that lies inside the other version's period.
                inside = period.valid_from <= new.valid_from <= (period.valid_until or date.max)
                problems.append(("valid_from" if inside else "valid_until",
                                 f"Deze periode overlapt met de tariefversie die geldt "
                                 f"{period_text(other.valid_from, other.valid_until)}. Versies van één "
                                 f"tarief mogen elkaar niet overlappen."))
                break
        else:
            if existing is not None:
                problems.extend(_years_left_without_rate(tariff, others, new))
    if not problems:
        problems.extend(_below_floors(tariff, rate))
    _refuse_if(problems)


def _below_floors(tariff: Tariff, rate: Decimal) -> list[tuple[str, str]]:
    """A version may not lie below the region's minimum tariff of a segment (and care form) whose
    trajectories price with the tariff, in any catalogue year: the tariff belongs to them. A tariff
    no trajectory uses yet is checked when a trajectory first takes it."""
    uses = db.session().exec(
        select(StandardTrajectory.segment_key, CareForm.code)
        .join(CareForm, CareForm.id == StandardTrajectory.care_form_id)
        .where(StandardTrajectory.tariff_id == tariff.id).distinct()).all()
    for segment_key, care_form in sorted(uses):
        message = below_floor(segment_key, tariff.unit, care_form, rate)
        if message:
            return [("unit_rate", message)]
    return []


def _versions(tariff_id: int) -> list[TariffVersion]:
    return list(db.session().exec(select(TariffVersion).where(TariffVersion.tariff_id == tariff_id)
                                  .order_by(TariffVersion.valid_from)))


def _years_left_without_rate(tariff: Tariff, others: list[TariffVersion], new: pricing.Period) -> list:
    """A changed version may not leave a catalogue year that prices with this tariff without a rate."""
    years = db.session().exec(select(StandardTrajectory.year).where(
        StandardTrajectory.tariff_id == tariff.id).distinct()).all()
    periods = [(pricing.Period(v.valid_from, v.valid_until), v.unit_rate) for v in others]
    periods.append((new, Decimal(0)))
    for year in sorted(years):
        if pricing.rate_on(periods, price_date(year)) is None:
            field_name = "valid_from" if new.valid_from > price_date(year) else "valid_until"
            return [(field_name, f"Standaardtrajecten van {year} rekenen met dit tarief; na deze wijziging "
                                 f"is er geen tarief geldig op 1 januari {year}.")]
    return []


def add_tariff_version(tariff: Tariff, **values) -> TariffVersion:
    _check_version(tariff, values, None)
    values["unit_rate"] = values["unit_rate"].quantize(Decimal("0.01"))
    version = TariffVersion(tariff_id=tariff.id, valid_from=values["valid_from"],
                            valid_until=values.get("valid_until"), unit_rate=values["unit_rate"])
    session = db.session()
    session.add(version)
    session.flush()
    audit.record("catalogue.tariff_version_added",
                 f"Tariefversie van {tariff.code} ({period_text(version.valid_from, version.valid_until)}) toegevoegd",
                 object_type="tariff_version", object_id=version.id, region_id=tariff.region_id,
                 details={"before": None, "after": snapshot(version, VERSION_FIELDS)})
    return version


def change_tariff_version(version: TariffVersion, **values) -> TariffVersion:
    session = db.session()
    tariff = session.get(Tariff, version.tariff_id)
    values = {name: values.get(name, getattr(version, name)) for name in ("valid_from", "valid_until", "unit_rate")}
    _check_version(tariff, values, version)
    values["unit_rate"] = values["unit_rate"].quantize(Decimal("0.01"))
    before = snapshot(version, VERSION_FIELDS)
    _write(version, values, VERSION_FIELDS)
    session.add(version)
    session.flush()
    audit.record("catalogue.tariff_version_changed",
                 f"Tariefversie van {tariff.code} ({period_text(version.valid_from, version.valid_until)}) gewijzigd",
                 object_type="tariff_version", object_id=version.id, region_id=tariff.region_id,
                 details={"before": before, "after": snapshot(version, VERSION_FIELDS)})
    return version


# --- Surcharges and who qualifies --------------------------------------------------------------


def _check_surcharge(region_id: int, values: dict, existing: Surcharge | None) -> None:
    problems = []
    _text(values, "code", "een code", 32, problems)
    _text(values, "name", "een naam", 200, problems)
    percentage = values.get("percentage")
    if percentage is None:
        problems.append(("percentage", "Vul het percentage van de opslag in."))
    elif percentage <= 0:
        problems.append(("percentage", "Het percentage moet groter zijn dan 0."))
    elif percentage > MAX_PERCENTAGE:
        problems.append(("percentage", "Het percentage mag hoogstens 100 zijn."))
    values["segment_key"] = values.get("segment_key") or None
    if values["segment_key"] is not None and values["segment_key"] not in current_registry().segments:
        problems.append(("segment_key", "Kies een segment, of alle segmenten."))
    _check_period(values, problems)
    if percentage is not None and percentage != percentage.quantize(Decimal("0.001")):
        problems.append(("percentage", "Gebruik hoogstens 3 cijfers achter de komma."))
    if values.get("code"):
        clash = db.session().exec(select(Surcharge).where(
            Surcharge.region_id == region_id, Surcharge.code == values["code"])).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            problems.append(("code", f"Er is al een opslag met code {values['code']}."))
    _refuse_if(problems)
    values["percentage"] = percentage.quantize(Decimal("0.001"))


NO_SURCHARGES = ("In deze regio gelden geen opslagen: de prijs van een traject volgt alleen uit het tarief. "
                 "Een opslag toevoegen of toekennen kan hier niet.")


def _refuse_in_region_without_surcharges(region_id: int, segment_key: str | None, field_name: str) -> None:
    region = db.session().get(Region, region_id)
    if region is not None and not surcharges_allowed(region.code, segment_key or None):
        raise CatalogueViolation([(field_name, NO_SURCHARGES)])


def create_surcharge(region_id: int, **values) -> Surcharge:
    _refuse_in_region_without_surcharges(region_id, values.get("segment_key"), "code")
    _check_surcharge(region_id, values, None)
    surcharge = Surcharge(region_id=region_id, **{name: values.get(name) for name in SURCHARGE_FIELDS})
    return _save_new(surcharge, SURCHARGE_FIELDS, "catalogue.surcharge_created",
                     f"Opslag {surcharge.code} {surcharge.name} toegevoegd")


def update_surcharge(surcharge: Surcharge, **values) -> Surcharge:
    _check_surcharge(surcharge.region_id, values, surcharge)
    return _save_changes(surcharge, values, SURCHARGE_FIELDS, "catalogue.surcharge_changed",
                         lambda obj: f"Opslag {obj.code} {obj.name}")


def _qualification(surcharge: Surcharge, organisation: Organisation) -> SurchargeQualification | None:
    return db.session().exec(select(SurchargeQualification).where(
        SurchargeQualification.surcharge_id == surcharge.id,
        SurchargeQualification.organisation_id == organisation.id)).first()


def grant_qualification(surcharge: Surcharge, organisation: Organisation) -> SurchargeQualification:
    """The provider qualifies for the surcharge from now on (the same surcharge as every other)."""
    _refuse_in_region_without_surcharges(surcharge.region_id, surcharge.segment_key, "organisation_id")
    if organisation.kind != OrganisationKind.PROVIDER or organisation.region_id != surcharge.region_id:
        raise CatalogueViolation([("organisation_id", "Kies een zorgaanbieder uit de regio.")])
    if _qualification(surcharge, organisation) is not None:
        raise CatalogueViolation([("organisation_id",
                                   f"{organisation.name} komt al in aanmerking voor deze opslag.")])
    qualification = SurchargeQualification(surcharge_id=surcharge.id, organisation_id=organisation.id)
    session = db.session()
    session.add(qualification)
    session.flush()
    audit.record("catalogue.surcharge_granted",
                 f"{organisation.name} komt in aanmerking voor opslag {surcharge.code} {surcharge.name}",
                 object_type="surcharge", object_id=surcharge.id, organisation_id=organisation.id,
                 region_id=surcharge.region_id,
                 details={"before": {"qualifies": False}, "after": {"qualifies": True},
                          "surcharge": surcharge.code, "organisation": organisation.name})
    return qualification


def grant_qualification_to(surcharge: Surcharge, organisation_id: int | None) -> Organisation:
    """The provider with this id, if the signed-in organisation may see it, qualifies for the
    surcharge from now on; returns the provider."""
    organisation = db.session().exec(scoped(select(Organisation), Organisation)
                                     .where(Organisation.id == organisation_id)).first()
    if organisation is None:
        raise CatalogueViolation([("organisation_id", "Kies een zorgaanbieder uit de regio.")])
    grant_qualification(surcharge, organisation)
    return organisation


def withdraw_qualification(surcharge: Surcharge, organisation: Organisation) -> None:
    qualification = _qualification(surcharge, organisation)
    if qualification is None:
        raise CatalogueViolation([("organisation_id",
                                   f"{organisation.name} komt niet in aanmerking voor deze opslag.")])
    session = db.session()
    session.delete(qualification)
    session.flush()
    audit.record("catalogue.surcharge_withdrawn",
                 f"{organisation.name} komt niet meer in aanmerking voor opslag {surcharge.code} {surcharge.name}",
                 object_type="surcharge", object_id=surcharge.id, organisation_id=organisation.id,
                 region_id=surcharge.region_id,
                 details={"before": {"qualifies": True}, "after": {"qualifies": False},
                          "surcharge": surcharge.code, "organisation": organisation.name})


# --- Standard trajectories ---------------------------------------------------------------------


@dataclass
class CheckedTrajectory:
    """A trajectory's values after every rule passed, with the price they give."""

    values: dict[str, Any]
    care_form: CareForm
    tariff: Tariff
    price: pricing.PriceBreakdown
    extra_fields: tuple[pricing.ExtraField, ...] = field(default_factory=tuple)


def extra_fields_for(segment_key: str | None) -> tuple[pricing.ExtraField, ...]:
    """The fields the segment's plugin adds to its trajectories (none for most segments)."""
    segment_pricing = current_registry().pricing.get(segment_key) if segment_key else None
    return segment_pricing.fields if segment_pricing is not None else ()


def _extra_values(fields: tuple[pricing.ExtraField, ...], given: dict | None) -> dict[str, str]:
    """The plugin fields' values as strings (how StandardTrajectory.extra stores them)."""
    values = {}
    for extra in fields:
        value = (given or {}).get(extra.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        values[extra.name] = str(value).strip()
    return values


def check_trajectory(region_id: int, values: dict, existing: StandardTrajectory | None = None,
                     provider_id: int | None = None) -> CheckedTrajectory:
    """Check a standard trajectory's values and compute its price; raises
    :class:`CatalogueViolation` with every refused field. Writes nothing (also used for the
    live price preview)."""
    session = db.session()
    values = dict(values)
    problems: list[tuple[str, str]] = []
    year = values.get("year")
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        problems.append(("year", f"Vul een jaar tussen {FIRST_YEAR} en {LAST_YEAR} in."))
    care_form = session.get(CareForm, values["care_form_id"]) if values.get("care_form_id") else None
    if care_form is None or care_form.region_id != region_id:
        care_form = None
        problems.append(("care_form_id", "Kies een zorgvorm uit de catalogus."))
    tariff = session.get(Tariff, values["tariff_id"]) if values.get("tariff_id") else None
    if tariff is None or tariff.region_id != region_id:
        tariff = None
        problems.append(("tariff_id", "Kies een tarief uit de catalogus."))
    _text(values, "code", "een code", 32, problems)
    _text(values, "name", "een naam", 200, problems)
    _text(values, "expertise", "de gevraagde deskundigheid", 64, problems)
    segment_key = care_form.segment_key if care_form else (existing.segment_key if existing else None)
    values["segment_key"] = segment_key
    if existing is not None and care_form is not None and segment_key != existing.segment_key:
        problems.append(("care_form_id", "Kies een zorgvorm uit hetzelfde segment; een traject wisselt "
                                         "niet van segment. Maak anders een nieuw traject."))
    if care_form is not None and values.get("code") and year is not None:
        clash = session.exec(select(StandardTrajectory).where(
            StandardTrajectory.region_id == region_id, StandardTrajectory.year == year,
            StandardTrajectory.segment_key == segment_key, StandardTrajectory.code == values["code"])).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            problems.append(("code", f"Er is al een standaardtraject met code {values['code']} in dit "
                                      f"segment in {year}."))
    intensity = values.get("intensity")
    if intensity is not None and intensity > MAX_INTENSITY:
        problems.append(("intensity", "De intensiteit mag hoogstens 1.000 zijn."))
    if intensity is not None and intensity != intensity.quantize(Decimal("0.01")):
        problems.append(("intensity", "Gebruik hoogstens 2 cijfers achter de komma."))

    extra_fields = extra_fields_for(segment_key)
    values["extra"] = _extra_values(extra_fields, values.get("extra")) or None
    rate = None
    if tariff is not None and year is not None and not any(name == "year" for name, _ in problems):
        try:
            rate = unit_rate(tariff, year)
        except RuleViolation as violation:
            problems.append((violation.field, violation.message))
    terms = pricing.TrajectoryTerms(
        unit_rate=rate if rate is not None else Decimal(0),
        unit=tariff.unit if tariff else "hour",
        intensity=intensity,
        intensity_period=values.get("intensity_period"),
        duration_months=values.get("duration_months"),
        surcharges=surcharges_for(region_id, segment_key, provider_id, price_date(year))
        if provider_id is not None and year is not None and segment_key else (),
        extra=dict(values["extra"] or {}),
    )
    if rate is not None and tariff is not None and care_form is not None:
        message = below_floor(segment_key, tariff.unit, care_form.code, rate)
        if message:
            problems.append(("tariff_id", message))
    segment_pricing = current_registry().pricing.get(segment_key) if segment_key else None
    checks = segment_pricing
    if segment_pricing is not None and rate is None:
        # Without a unit rate the plugin's own checks (on the tariff's unit, say) say nothing useful.
        checks = replace(segment_pricing, check=None)
    problems.extend(pricing.validate_terms(terms, checks))
    _refuse_if(_unique(problems))
    values["intensity"] = intensity.quantize(Decimal("0.01"))  # as the column keeps it
    breakdown = pricing.price_trajectory(terms, segment_pricing)
    return CheckedTrajectory(values, care_form, tariff, breakdown, extra_fields)


def preview_price(region_id: int, values: dict, existing: StandardTrajectory | None = None) -> pricing.PriceBreakdown:
    """The price a trajectory's values would give, without saving: raises
    :class:`CatalogueViolation` like :func:`check_trajectory`, and leaves the session as it was
    (a preview never writes)."""
    try:
        return check_trajectory(region_id, values, existing).price
    finally:
        db.session().rollback()


def _unique(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen, result = set(), []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            result.append(problem)
    return result


def _trajectory_summary(trajectory: StandardTrajectory) -> str:
    return f"standaardtraject {trajectory.code} {trajectory.name} ({trajectory.year})"


def create_trajectory(region_id: int, **values) -> StandardTrajectory:
    checked = check_trajectory(region_id, values)
    trajectory = StandardTrajectory(region_id=region_id,
                                    **{name: checked.values.get(name) for name in TRAJECTORY_FIELDS})
    session = db.session()
    session.add(trajectory)
    session.flush()
    audit.record("catalogue.trajectory_created", f"{_trajectory_summary(trajectory).capitalize()} toegevoegd",
                 object_type="standard_trajectory", object_id=trajectory.id, region_id=region_id,
                 details={"before": None, "after": snapshot(trajectory, TRAJECTORY_FIELDS),
                          "price": str(checked.price.total)})
    return trajectory


def update_trajectory(trajectory: StandardTrajectory, **values) -> StandardTrajectory:
    """Change a trajectory; values not given keep their current value (so the inline edit of
    intensity and duration passes only those)."""
    current = snapshot(trajectory, TRAJECTORY_FIELDS)
    current.update(intensity=trajectory.intensity, extra=dict(trajectory.extra or {}))
    current.update(values)
    checked = check_trajectory(trajectory.region_id, current, trajectory)
    before = snapshot(trajectory, TRAJECTORY_FIELDS)
    _write(trajectory, checked.values, TRAJECTORY_FIELDS)
    session = db.session()
    session.add(trajectory)
    session.flush()
    after = snapshot(trajectory, TRAJECTORY_FIELDS)
    audit.record("catalogue.trajectory_changed", f"{_trajectory_summary(trajectory).capitalize()} gewijzigd",
                 object_type="standard_trajectory", object_id=trajectory.id, region_id=trajectory.region_id,
                 details={"before": before, "after": after,
                          "changed": sorted(name for name in TRAJECTORY_FIELDS if before[name] != after[name]),
                          "price": str(checked.price.total)})
    return trajectory
