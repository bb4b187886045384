"""The database behind realisation checks: one :class:`ProviderLookups` per import answers the
questions of :class:`portal.realisation.rules.Lookups` for one provider, loading each thing once
(municipalities, contract terms, prices per segment and year, choices, locked reports), so a file
of 100,000 rows costs a handful of queries, not one per row."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import select

from portal import clock, db
from portal.catalogue import pricing
from portal.catalogue import service as catalogue
from portal.contracts.service import term_of
from portal.models import (
    CustomTrajectory,
    FrameworkAgreement,
    FrameworkSegment,
    MunicipalChoice,
    Organisation,
    OrganisationKind,
    Region,
    StandardTrajectory,
    Tariff,
)
from portal.models.realisation import RealisationReport
from portal.money import to_cents
from portal.realisation.rules import Municipality, Period, TrajectoryPrice, column_key
from portal.registry import current_registry
from portal.validators import RuleViolation

_UNKNOWN = object()


class ProviderLookups:
    """Answers for checking realisation of ``provider`` (an :class:`Organisation`)."""

    def __init__(self, provider: Organisation, today: date | None = None):
        session = db.session()
        self.session = session
        self.provider_org = provider
        region = session.get(Region, provider.region_id)
        self.registry = current_registry(region.code)
        self.region_row = region
        self.region = region.code
        self.provider = provider.name
        self.today = today or clock.today()
        self._municipalities: dict[str, Municipality] = {}
        for org in session.exec(select(Organisation).where(Organisation.region_id == region.id,
                                                           Organisation.kind == OrganisationKind.MUNICIPALITY)):
            item = Municipality(org.id, org.municipality_code or "", org.name)
            if org.municipality_code:
                self._municipalities[org.municipality_code] = item
            self._municipalities[column_key(org.name)] = item
        self._segments: dict[str, str] = {}
        for key, segment in self.registry.segments.items():
            domain = self.registry.domains[segment.domain]
            for alias in (key, f"{domain.name} {segment.code}", f"{domain.code} {segment.code}"):
                self._segments[column_key(alias)] = key
        self._terms: dict[str, list[tuple[date, date | None]]] = {}
        for agreement, segment_key in session.exec(
                select(FrameworkAgreement, FrameworkSegment.segment_key)
                .join(FrameworkSegment, FrameworkSegment.framework_agreement_id == FrameworkAgreement.id)
                .where(FrameworkAgreement.organisation_id == provider.id)):
            end = term_of(agreement, today=self.today).end
            if agreement.terminated_on is not None:
                end = min(end, agreement.terminated_on)
            self._terms.setdefault(segment_key, []).append((agreement.start_date, end))
        self._prices: dict[tuple[str, int], dict[str, TrajectoryPrice]] = {}
        self._kinds: dict[tuple[str, str], str] = {}
        self._specs: dict = {}  # segment key → realisation spec (the registry builds a default each time)
        self._terms_memo: dict = {}  # tariff rates and surcharges, read once for all trajectories
        self._catalogue: dict[tuple[str, int], list[StandardTrajectory]] = {}  # read ahead (prefetch)
        self._texts: dict[tuple[str, str], object] = {}  # a municipality's or segment's text as found
        # The region's tariffs, held so that pricing finds them in the session's identity map.
        self._tariffs = list(session.exec(select(Tariff).where(Tariff.region_id == region.id)))
        self._customs = list(session.exec(select(CustomTrajectory).where(
            CustomTrajectory.organisation_id == provider.id)))
        self._choices: dict[tuple[int, str], list[MunicipalChoice]] = {}
        for choice in session.exec(select(MunicipalChoice).where(MunicipalChoice.region_id == region.id)
                                   .order_by(MunicipalChoice.effective_from)):
            self._choices.setdefault((choice.municipality_id, choice.segment_key), []).append(choice)
        self._locked: set[tuple] = set()
        for row in session.exec(select(RealisationReport.municipality_id, RealisationReport.segment_key,
                                       RealisationReport.year, RealisationReport.period_kind,
                                       RealisationReport.period)
                                .where(RealisationReport.organisation_id == provider.id,
                                       RealisationReport.state == "approved")):
            self._locked.add(tuple(row))

    # --- Lookups ---------------------------------------------------------------------------

    def municipality(self, text: str) -> Municipality | None:
        found = self._texts.get(("municipality", text), _UNKNOWN)
        if found is _UNKNOWN:
            found = self._texts[("municipality", text)] = self._municipality(text)
        return found

    def _municipality(self, text: str) -> Municipality | None:
        text = text.strip()
        if text.isdigit() and len(text) <= 4:
            text = text.zfill(4)
        return self._municipalities.get(text) or self._municipalities.get(column_key(text))

    def segment(self, text: str) -> str | None:
        found = self._texts.get(("segment", text), _UNKNOWN)
        if found is _UNKNOWN:
            found = self._texts[("segment", text)] = self._segment(text)
        return found

    def _segment(self, text: str) -> str | None:
        return self._segments.get(column_key(text.replace(".", " ")) ) or self._segments.get(column_key(text))

    def segment_label(self, segment_key: str) -> str:
        return self.registry.segment_short_label(segment_key)

    def contract_terms(self, segment_key: str) -> list[tuple[date, date | None]]:
        return self._terms.get(segment_key, [])

    def reporting_kind(self, municipality: Municipality, segment_key: str) -> str:
        key = (municipality.code, segment_key)
        kind = self._kinds.get(key)
        if kind is None:
            kind = self._kinds[key] = self.registry.rule("reporting_period", self.region, municipality.code or None,
                                                         segment_key).value
        return kind

    def price(self, segment_key: str, period: Period, code: str) -> TrajectoryPrice | None:
        prices = self._prices.get((segment_key, period.year))
        if prices is None:
            prices = self._prices[(segment_key, period.year)] = self._load_prices(segment_key, period.year)
        found = prices.get(code.strip().upper())
        if found is None or not found.custom:
            return found
        custom = next(c for c in self._customs if c.code.upper() == code.strip().upper())
        if custom.valid_from > period.end or (custom.valid_until is not None and custom.valid_until < period.start):
            return None
        return found

    def has_custom(self, segment_key: str) -> bool:
        """Whether the provider has custom trajectories in the segment (whose prices depend on the
        period, not only on the year)."""
        return any(custom.segment_key == segment_key for custom in self._customs)

    def municipalities(self) -> list[Municipality]:
        """The region's municipalities with a CBS code, by code."""
        return sorted({m for m in self._municipalities.values() if m.code}, key=lambda m: m.code)

    def trajectory_codes(self, segment_key: str, period: Period) -> list[TrajectoryPrice]:
        """The (custom) trajectories the provider may report in a segment and period, by code."""
        self.price(segment_key, period, "")  # loads the year's prices once
        codes = sorted(self._prices[(segment_key, period.year)])
        return [found for code in codes if (found := self.price(segment_key, period, code)) is not None]

    def buys_places(self, municipality: Municipality, segment_key: str, on: date) -> tuple[bool, Decimal | None]:
        current = None
        for choice in self._choices.get((municipality.id, segment_key), []):
            if choice.effective_from <= on:
                current = choice
        if current is None or current.volume_basis != "places":
            return False, None
        volume = (current.details or {}).get("volume")
        return True, (Decimal(str(volume)) if volume not in (None, "") else None)

    def locked(self, municipality: Municipality, segment_key: str, period: Period) -> bool:
        return (municipality.id, segment_key, period.year, period.kind, period.number) in self._locked

    def product_code(self, code: str) -> tuple[str, str] | None:
        """The (segment key, trajectory code) a 323 product code counts as, if a plugin maps it."""
        return self.registry.product_codes.get(code.strip().upper())

    def spec(self, segment_key: str):
        spec = self._specs.get(segment_key)
        if spec is None:
            spec = self._specs[segment_key] = self.registry.realisation_spec(segment_key)
        return spec

    def checks(self):
        return self.registry.realisation_checks

    def specs(self):
        return [self.registry.realisation_spec(key) for key in self.registry.segments]

    # --- Prices ----------------------------------------------------------------------------

    def prefetch(self) -> None:
        """Read ahead, in four queries, everything pricing can need for this provider: the region's
        tariff versions, the provider's surcharges, and the standard trajectories of every segment
        and year its framework agreements cover up to today (and those its custom trajectories
        build on). A large file's import calls this before its first line is written: a price list
        worked out later then reads nothing, so it never waits for lines being written on the same
        connection (:class:`portal.realisation.importing.LineWriter`)."""
        session = self.session
        catalogue.prefetch_terms(self._terms_memo, self.region_row.id, self.provider_org.id)
        years: dict[str, set[int]] = {}
        for segment_key, spans in self._terms.items():
            for start, end in spans:
                last = min(end, self.today) if end is not None else self.today
                years.setdefault(segment_key, set()).update(range(start.year, last.year + 1))
        wanted = {(segment_key, year) for segment_key, found in years.items() for year in found}
        if wanted:
            every_year = {year for _segment_key, year in wanted}
            for trajectory in session.exec(select(StandardTrajectory).where(
                    StandardTrajectory.region_id == self.region_row.id,
                    StandardTrajectory.segment_key.in_(sorted(years)),
                    StandardTrajectory.year >= min(every_year), StandardTrajectory.year <= max(every_year))):
                if (trajectory.segment_key, trajectory.year) in wanted:
                    self._catalogue.setdefault((trajectory.segment_key, trajectory.year), []).append(trajectory)
            for key in wanted:
                self._catalogue.setdefault(key, [])
        bases = {custom.standard_trajectory_id for custom in self._customs}
        if bases:  # in the session's identity map from here on
            list(session.exec(select(StandardTrajectory).where(StandardTrajectory.id.in_(sorted(bases)))))

    def _load_prices(self, segment_key: str, year: int) -> dict[str, TrajectoryPrice]:
        session = self.session
        prices: dict[str, TrajectoryPrice] = {}
        provider_id = self.provider_org.id
        if not self._terms_memo:  # the region's tariff versions and the provider's surcharges, at once
            catalogue.prefetch_terms(self._terms_memo, self.region_row.id, provider_id)
        trajectories = self._catalogue.get((segment_key, year))
        if trajectories is None:
            trajectories = session.exec(select(StandardTrajectory).where(
                StandardTrajectory.region_id == self.region_row.id, StandardTrajectory.year == year,
                StandardTrajectory.segment_key == segment_key))
        for trajectory in trajectories:
            found = self._priced(trajectory, trajectory.code, trajectory.name, provider_id, False)
            if found:
                prices[trajectory.code.upper()] = found
        for custom in self._customs:
            if custom.segment_key != segment_key:
                continue
            standard = session.get(StandardTrajectory, custom.standard_trajectory_id)
            found = self._priced(standard, custom.code, custom.name, provider_id, True, year=year,
                                 intensity=custom.intensity, intensity_period=custom.intensity_period,
                                 duration_months=custom.duration_months, extra=dict(custom.extra or {}))
            if found:
                prices[custom.code.upper()] = found
        return prices

    def _priced(self, trajectory, code, name, provider_id, custom, **changes) -> TrajectoryPrice | None:
        try:
            terms = catalogue.trajectory_terms(trajectory, provider_id, memo=self._terms_memo, **changes)
            breakdown = pricing.price_trajectory(terms, self.registry.pricing.get(trajectory.segment_key))
        except (RuleViolation, pricing.PricingError):
            return None  # no tariff for the year: not contractable, reported as "not in your contract"
        unit_price = catalogue_unit_price(terms)
        tariff = self.session.get(Tariff, trajectory.tariff_id)
        return TrajectoryPrice(code=code, name=name, price=breakdown.total, unit_price=unit_price,
                               unit=pricing.UNITS.get(tariff.unit, (tariff.unit,))[0],
                               duration_months=terms.duration_months, custom=custom,
                               extra=dict(terms.extra or {}))


def catalogue_unit_price(terms: pricing.TrajectoryTerms) -> Decimal:
    """One unit at the tariff's rate with the provider's surcharges, half-up to the cent."""
    return to_cents(terms.unit_rate * terms.surcharge_factor)
