"""A municipality's choices per segment (DOMAIN.md §8, 001 decision 5): which lots it joins,
whether it buys trajectories or places, and its one funding form; versioned by effective date.

A new choice is a new row that holds from its effective date until the next version. The place
conversion a municipality sees before it confirms comes from :func:`conversion_preview`.
Callers pass a municipality the signed-in user may see (views get it through
:func:`portal.accounts.scoping.get_scoped_or_404`); lists across municipalities are scoped in the view.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func
from sqlmodel import select

from portal import audit, clock, db
from portal.catalogue import pricing
from portal.catalogue import service as catalogue
from portal.contracts.rules import VOLUME_BASES, funding_form_refusal
from portal.formatting import nl_date
from portal.models import MunicipalChoice, Organisation, OrganisationKind, StandardTrajectory
from portal.money import to_cents
from portal.registry import LOTS, current_registry
from portal.validators import RuleViolation

MAX_VOLUME = Decimal(100_000)



# --- Reading ---------------------------------------------------------------------------------


def current_choice(municipality_id: int, segment_key: str, on: date | None = None) -> MunicipalChoice | None:
    """The version in force on ``on`` (default today): the latest one that started on or before it."""
    on = on or clock.today()
    return db.session().exec(
        select(MunicipalChoice)
        .where(MunicipalChoice.municipality_id == municipality_id,
               MunicipalChoice.segment_key == segment_key,
               MunicipalChoice.effective_from <= on)
        .order_by(MunicipalChoice.effective_from.desc())).first()


def history(municipality_id: int, segment_key: str) -> list[MunicipalChoice]:
    """Every version for the segment, newest effective date first."""
    return list(db.session().exec(
        select(MunicipalChoice)
        .where(MunicipalChoice.municipality_id == municipality_id,
               MunicipalChoice.segment_key == segment_key)
        .order_by(MunicipalChoice.effective_from.desc())))


def choices_in_force(municipality_id: int, on: date | None = None) -> dict[str, MunicipalChoice]:
    """Segment key -> the version in force on ``on`` (segments without a choice are absent)."""
    on = on or clock.today()
    rows = db.session().exec(
        select(MunicipalChoice)
        .where(MunicipalChoice.municipality_id == municipality_id, MunicipalChoice.effective_from <= on)
        .order_by(MunicipalChoice.segment_key, MunicipalChoice.effective_from)).all()
    return {row.segment_key: row for row in rows}  # later versions overwrite earlier ones


def version_counts(municipality_id: int) -> dict[str, int]:
    return dict(db.session().exec(
        select(MunicipalChoice.segment_key, func.count())
        .where(MunicipalChoice.municipality_id == municipality_id)
        .group_by(MunicipalChoice.segment_key)).all())


def in_force_statement(on: date | None = None):
    """A select of (MunicipalChoice, municipality name) for the versions in force on ``on``; the
    caller scopes, filters, sorts and pages it."""
    on = on or clock.today()
    latest = (select(MunicipalChoice.municipality_id.label("municipality_id"),
                     MunicipalChoice.segment_key.label("segment_key"),
                     func.max(MunicipalChoice.effective_from).label("effective_from"))
              .where(MunicipalChoice.effective_from <= on)
              .group_by(MunicipalChoice.municipality_id, MunicipalChoice.segment_key)
              .subquery())
    return (select(MunicipalChoice, Organisation.name)
            .join(latest, and_(latest.c.municipality_id == MunicipalChoice.municipality_id,
                               latest.c.segment_key == MunicipalChoice.segment_key,
                               latest.c.effective_from == MunicipalChoice.effective_from))
            .join(Organisation, Organisation.id == MunicipalChoice.municipality_id))


# --- Checking and recording --------------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceInput:
    """What a municipality chose, as typed; :func:`check_choice` refuses what breaks a rule."""

    segment_key: str
    effective_from: date | None
    lots: tuple[str, ...]
    volume_basis: str | None
    funding_forms: tuple[str, ...]
    volume: Decimal | None = None
    note: str = ""


def check_choice(municipality: Organisation, choice: ChoiceInput) -> None:
    """Raise :class:`RuleViolation` (field, Dutch message) for the first rule the choice breaks."""
    if municipality.kind != OrganisationKind.MUNICIPALITY:
        raise RuleViolation(None, "Alleen een gemeente maakt keuzes per segment.")
    segment = current_registry().segments.get(choice.segment_key)
    if segment is None:
        raise RuleViolation(None, "Dit segment bestaat niet (meer).")
    if choice.effective_from is None:
        raise RuleViolation("effective_from", "Vul de ingangsdatum in.")
    if not 2000 <= choice.effective_from.year <= 2100:
        raise RuleViolation("effective_from", "Vul een ingangsdatum tussen 2000 en 2100 in.")
    latest = next(iter(history(municipality.id, choice.segment_key)), None)
    if latest is not None and choice.effective_from == latest.effective_from:
        raise RuleViolation("effective_from", (
            f"Er is al een keuze die ingaat op {_nl_date(latest.effective_from)}. Kies een latere "
            "ingangsdatum; een vastgelegde keuze wordt niet overschreven."))
    if latest is not None and choice.effective_from < latest.effective_from:
        raise RuleViolation("effective_from", (
            f"De ingangsdatum ligt vóór de laatste keuze (ingang {_nl_date(latest.effective_from)}). "
            "Een nieuwe keuze gaat in na de laatste versie."))
    lots = tuple(dict.fromkeys(choice.lots))
    if not lots:
        raise RuleViolation("lots", "Kies minstens één perceel waaraan uw gemeente deelneemt.")
    unknown = [lot for lot in lots if lot not in segment.lots]
    if unknown:
        offered = ", ".join(LOTS[lot].lower() for lot in segment.lots)
        raise RuleViolation("lots", f"Dit segment kent alleen: {offered}.")
    if choice.volume_basis not in VOLUME_BASES:
        raise RuleViolation("volume_basis", "Kies of uw gemeente trajecten of plekken inkoopt.")
    refusal = funding_form_refusal(list(dict.fromkeys(choice.funding_forms)), segment.funding_forms,
                                   segment.funding_combinations)
    if refusal:
        raise RuleViolation("funding_forms", refusal)
    if choice.volume is not None and not Decimal(0) <= choice.volume <= MAX_VOLUME:
        raise RuleViolation("volume", "Vul een aantal van 0 tot 100.000 in.")
    if len(choice.note) > 500:
        raise RuleViolation("note", "De toelichting mag hoogstens 500 tekens zijn.")


def record_choice(municipality: Organisation, choice: ChoiceInput,
                  actor_user_id: int | None = None) -> MunicipalChoice:
    """Check the choice, add it as a new version and record it in the audit trail (the caller
    commits). Nothing is written when a rule refuses it."""
    check_choice(municipality, choice)
    session = db.session()
    before = next(iter(history(municipality.id, choice.segment_key)), None)
    preview = conversion_preview(municipality.region_id, choice.segment_key, choice.effective_from,
                                 choice.volume_basis, choice.volume)
    # In the segment's own order, so a combination reads (and is stored) the same however it was ticked.
    forms = [form for form in current_registry().segments[choice.segment_key].funding_forms
             if form in choice.funding_forms]
    row = MunicipalChoice(
        region_id=municipality.region_id,
        municipality_id=municipality.id,
        segment_key=choice.segment_key,
        effective_from=choice.effective_from,
        lots=list(dict.fromkeys(choice.lots)),
        volume_basis=choice.volume_basis,
        funding_form=forms[0],
        details=_details(choice, preview, forms),
        created_by=actor_user_id,
    )
    session.add(row)
    session.flush()
    audit.record("municipal_choice.recorded", describe(municipality, row),
                 object_type="municipal_choice", object_id=row.id, organisation_id=municipality.id,
                 region_id=municipality.region_id,
                 details={"before": snapshot(before) if before else None, "after": snapshot(row)})
    return row


def snapshot(row: MunicipalChoice) -> dict:
    result = {
        "segment_key": row.segment_key,
        "effective_from": row.effective_from.isoformat(),
        "lots": list(row.lots),
        "volume_basis": row.volume_basis,
        "funding_form": row.funding_form,
        "volume": (row.details or {}).get("volume"),
    }
    if len(funding_forms(row)) > 1:  # a combination the segment allows
        result["funding_forms"] = funding_forms(row)
    return result


def funding_forms(row: MunicipalChoice) -> list[str]:
    """The funding forms of a choice: the combination it was recorded with, else its one form."""
    return list((row.details or {}).get("funding_forms") or [row.funding_form])


def funding_label(row: MunicipalChoice) -> str:
    """The choice's funding in words, a combination joined with "plus"."""
    names = current_registry().funding_forms
    return " plus ".join(names.get(form, form) for form in funding_forms(row))


def describe(municipality: Organisation, row: MunicipalChoice) -> str:
    segment_label = current_registry().segment_short_label(row.segment_key)
    return (f"Gemeente {municipality.name} kiest voor {segment_label} vanaf {_nl_date(row.effective_from)}: "
            f"{VOLUME_BASES[row.volume_basis].lower()}, {funding_label(row)}, "
            f"{' en '.join(LOTS.get(lot, lot).lower() for lot in row.lots)}")


def _details(choice: ChoiceInput, preview: "ConversionPreview", forms: list[str]) -> dict:
    """What the municipality saw when it confirmed, as strings (exact decimals in JSON). A
    combination of funding forms the segment allows is kept here in full (the ``funding_form``
    column holds its first form)."""
    details: dict = {"volume": None if choice.volume is None else str(choice.volume),
                     "catalogue_year": preview.year}
    if len(forms) > 1:
        details["funding_forms"] = forms
    if choice.note.strip():
        details["note"] = choice.note.strip()
    details["conversion"] = [
        {"code": row.code, "duration_months": row.duration_months,
         "price": None if row.price is None else str(row.price),
         "trajectories_per_place_year": str(row.trajectories_per_place_year.quantize(Decimal("0.0001"))),
         "price_per_place_year": None if row.price_per_place_year is None else str(row.price_per_place_year)}
        for row in preview.rows
    ]
    return details


def _nl_date(day: date) -> str:
    return nl_date(day)


# --- The conversion a municipality sees before it confirms -------------------------------------


@dataclass(frozen=True)
class ConversionRow:
    code: str
    name: str
    duration_months: int
    price: Decimal | None  # None when the catalogue cannot price it (no tariff version)
    trajectories_per_place_year: Decimal
    price_per_place_year: Decimal | None
    converted_volume: Decimal | None  # places for N trajectories, or trajectories for P places
    value: Decimal | None  # what the volume costs a year at this trajectory's price
    problem: str = ""


@dataclass(frozen=True)
class ConversionPreview:
    segment_key: str
    year: int | None
    volume_basis: str | None
    volume: Decimal | None
    rows: tuple[ConversionRow, ...]


def catalogue_year(region_id: int, segment_key: str, on: date) -> int | None:
    """The catalogue year whose trajectories apply on ``on``: that year, or else the latest
    earlier year with trajectories for the segment, or else the first later one."""
    years = sorted(db.session().exec(
        select(StandardTrajectory.year).where(StandardTrajectory.region_id == region_id,
                                              StandardTrajectory.segment_key == segment_key)
        .distinct()).all())
    if not years:
        return None
    earlier = [year for year in years if year <= on.year]
    return earlier[-1] if earlier else years[0]


def conversion_preview(region_id: int, segment_key: str, on: date | None, volume_basis: str | None,
                       volume: Decimal | None) -> ConversionPreview:
    """For each standard trajectory of the segment in the catalogue year of ``on``: its price,
    how many fit in one place-year (12 / duration) and the price of a place-year; with a volume,
    what N trajectories are in places or P places in trajectories, and what that costs a year."""
    on = on or clock.today()
    year = catalogue_year(region_id, segment_key, on)
    if year is None:
        return ConversionPreview(segment_key, None, volume_basis, volume, ())
    trajectories = db.session().exec(
        select(StandardTrajectory).where(StandardTrajectory.region_id == region_id,
                                         StandardTrajectory.segment_key == segment_key,
                                         StandardTrajectory.year == year)
        .order_by(StandardTrajectory.code)).all()
    rows = []
    for trajectory in trajectories:
        per_place_year = pricing.trajectories_per_place_year(trajectory.duration_months)
        price = place_price = None
        problem = ""
        try:
            price = catalogue.trajectory_price(trajectory).total
            place_price = pricing.price_per_place_year(price, trajectory.duration_months)
        except (RuleViolation, pricing.PricingError) as error:
            problem = error.message
        converted = value = None
        if volume is not None and volume_basis == "trajectories":
            converted = pricing.places_for_trajectories(volume, trajectory.duration_months)
            value = None if price is None else to_cents(volume * price)
        elif volume is not None and volume_basis == "places":
            converted = pricing.trajectories_for_places(volume, trajectory.duration_months)
            value = None if place_price is None else to_cents(volume * place_price)
        rows.append(ConversionRow(trajectory.code, trajectory.name, trajectory.duration_months, price,
                                  per_place_year, place_price, converted, value, problem))
    return ConversionPreview(segment_key, year, volume_basis, volume, tuple(rows))
