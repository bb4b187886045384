"""Idempotent building blocks for a plugin's demo data (``portal_demo_data``): catalogue rows,
framework agreements, budget agreements, municipal choices and extra capacity.

Every row is looked up by its natural key first and left alone when it exists, so loading the
demo twice changes nothing. Rows are written directly, with one audit event per plugin that says
what it added: the demo is loaded for many tests, and going through the services row by row (each
with its checks and audit event) would cost every one of them. End dates follow from the same
pure rules the services use (:mod:`portal.contracts.terms`); extra capacity, of which there is
little, does go through :func:`portal.contracts.service.add_extra_capacity` and its 10% rule. The
plugins' tests check the demo data against the rules.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import insert
from sqlmodel import select

from portal import audit
from portal.contracts import service as agreements
from portal.contracts import terms as contract_terms
from portal.models import (
    BowWaveEvaluation,
    BudgetAgreement,
    CareForm,
    ExtraCapacity,
    FrameworkAgreement,
    FrameworkSegment,
    MunicipalChoice,
    Organisation,
    OrganisationKind,
    StandardTrajectory,
    Surcharge,
    SurchargeQualification,
    Tariff,
    TariffVersion,
    utcnow,
)
from portal.money import split_by_weights, to_cents
from portal.registry import current_registry

INDEXATION = Decimal("0.03")  # yearly indexation of tariffs and budgets in the demo


@dataclass(frozen=True)
class TrajectorySpec:
    """A standard trajectory as a plugin describes it; it is added for every demo year."""

    code: str
    name: str
    care_form: str  # code of a care form of the same segment
    tariff: str  # code of a tariff
    expertise: str
    intensity: str  # a decimal as text, e.g. "1.5"
    intensity_period: str  # week | month
    duration_months: int
    extra: dict | None = None  # the plugin's extra fields, values as text


@dataclass(frozen=True)
class Evaluation:
    year: int
    satisfactory: bool
    note: str


class DemoLoader:
    """Adds one plugin's demo data to the demo region; call :meth:`finish` at the end."""

    def __init__(self, demo, plugin: str):
        self.demo = demo
        self.plugin = plugin
        self.region = demo.region
        self.session = demo.session
        self.years = demo.years  # five years up to and including the demo's today
        self.added: Counter = Counter()
        self._cache: dict[type, dict] = {}
        self._queued: dict[type, list[dict]] = {}
        self.now = utcnow()

    # --- lookups ---------------------------------------------------------------------------

    def organisation(self, name: str) -> Organisation:
        return self.demo.organisations[name]

    @property
    def municipalities(self) -> list[Organisation]:
        return sorted((o for o in self.demo.organisations.values() if o.kind == OrganisationKind.MUNICIPALITY),
                      key=lambda o: o.name)

    def _existing(self, model, key_of) -> dict:
        """All rows of ``model`` in the region, by natural key (loaded once per loader)."""
        if model not in self._cache:
            statement = select(model)
            if hasattr(model, "region_id"):
                statement = statement.where(model.region_id == self.region.id)
            self._cache[model] = {key_of(row): row for row in self.session.exec(statement).all()}
        return self._cache[model]

    def _queue(self, model, cache: dict, key, **values) -> None:
        """A row nothing refers to, written later in one bulk insert per table (constructing
        hundreds of model objects would cost every test that loads the demo)."""
        self._queued.setdefault(model, []).append(values)
        cache[key] = values
        self.added[model.__name__] += 1

    def _write_queued(self) -> None:
        for model, rows in self._queued.items():
            if rows:
                self.session.execute(insert(model), rows)
        self._queued = {}

    def _add(self, model, cache: dict, key, row, flush: bool = False):
        self.session.add(row)
        if flush:
            self.session.flush()
        cache[key] = row
        self.added[model.__name__] += 1
        return row

    # --- catalogue -------------------------------------------------------------------------

    def care_forms(self, forms: dict[str, list[tuple[str, str]]]) -> None:
        """Care forms per segment key, as (code, name) pairs."""
        cache = self._existing(CareForm, lambda r: (r.segment_key, r.code))
        for segment_key, pairs in forms.items():
            for code, name in pairs:
                if (segment_key, code) not in cache:
                    self._add(CareForm, cache, (segment_key, code), CareForm(
                        region_id=self.region.id, segment_key=segment_key, code=code, name=name))

    def tariffs(self, tariffs: list[tuple[str, str, str, str]]) -> None:
        """Tariffs as (code, name, unit, rate of the first year), each with a version per demo year
        (1 January to 31 December; the last year open-ended), indexed by 3% a year on the rounded
        rate of the year before."""
        cache = self._existing(Tariff, lambda r: r.code)
        for code, name, unit, _rate in tariffs:
            if code not in cache:
                self._add(Tariff, cache, code, Tariff(region_id=self.region.id, code=code, name=name, unit=unit))
        self.session.flush()
        versions = self._existing(TariffVersion, lambda r: (r.tariff_id, r.valid_from))
        for code, _name, _unit, first_rate in tariffs:
            tariff = cache[code]
            rate = Decimal(first_rate)
            for year in self.years:
                valid_from = date(year, 1, 1)
                if (tariff.id, valid_from) not in versions:
                    valid_until = None if year == self.years[-1] else date(year, 12, 31)
                    self._queue(TariffVersion, versions, (tariff.id, valid_from), tariff_id=tariff.id,
                                valid_from=valid_from, valid_until=valid_until, unit_rate=rate,
                                created_at=self.now)
                rate = to_cents(rate * (1 + INDEXATION))

    def surcharge(self, code: str, name: str, percentage: str, segment_key: str | None,
                  providers: list[str]) -> Surcharge:
        cache = self._existing(Surcharge, lambda r: r.code)
        surcharge = cache.get(code)
        if surcharge is None:
            surcharge = self._add(Surcharge, cache, code, Surcharge(
                region_id=self.region.id, code=code, name=name, percentage=Decimal(percentage),
                segment_key=segment_key, valid_from=date(self.years[0], 1, 1)), flush=True)
        qualified = self._existing(SurchargeQualification, lambda r: (r.surcharge_id, r.organisation_id))
        for provider in providers:
            organisation = self.organisation(provider)
            if (surcharge.id, organisation.id) not in qualified:
                self._queue(SurchargeQualification, qualified, (surcharge.id, organisation.id),
                            surcharge_id=surcharge.id, organisation_id=organisation.id)
        return surcharge

    def trajectories(self, segment_key: str, specs: list[TrajectorySpec]) -> None:
        """Each spec as a standard trajectory of every demo year."""
        self.session.flush()  # care forms and tariffs get their ids
        cache = self._existing(StandardTrajectory, lambda r: (r.year, r.segment_key, r.code))
        care_forms = self._existing(CareForm, lambda r: (r.segment_key, r.code))
        tariffs = self._existing(Tariff, lambda r: r.code)
        for spec in specs:
            for year in self.years:
                key = (year, segment_key, spec.code)
                if key in cache:
                    continue
                self._queue(StandardTrajectory, cache, key,
                            region_id=self.region.id, year=year, segment_key=segment_key,
                            care_form_id=care_forms[(segment_key, spec.care_form)].id, code=spec.code,
                            name=spec.name, expertise=spec.expertise, intensity=Decimal(spec.intensity),
                            intensity_period=spec.intensity_period, duration_months=spec.duration_months,
                            tariff_id=tariffs[spec.tariff].id, extra=dict(spec.extra) if spec.extra else None,
                            created_at=self.now)

    # --- agreements ------------------------------------------------------------------------

    def _frameworks(self) -> dict:
        """Framework agreements by reference, with their segments and bow-wave years earned."""
        if FrameworkAgreement not in self._cache:
            rows = self._existing(FrameworkAgreement, lambda r: r.reference)
            ids = [row.id for row in rows.values()]
            self._segments: dict[int, set[str]] = {agreement_id: set() for agreement_id in ids}
            self._earned: dict[int, int] = {agreement_id: 0 for agreement_id in ids}
            if ids:
                for row in self.session.exec(select(FrameworkSegment).where(
                        FrameworkSegment.framework_agreement_id.in_(ids))):
                    self._segments[row.framework_agreement_id].add(row.segment_key)
                for row in self.session.exec(select(BowWaveEvaluation).where(
                        BowWaveEvaluation.framework_agreement_id.in_(ids))):
                    self._earned[row.framework_agreement_id] += int(row.satisfactory)
        return self._cache[FrameworkAgreement]

    def _end(self, agreement: FrameworkAgreement) -> date:
        return contract_terms.end_date(agreement.start_date, agreement.initial_years,
                                       list(agreement.extension_options), agreement.extensions_used,
                                       self._earned[agreement.id])

    def framework(self, provider: str, reference: str, domain: str, lot: str, contract_form: str,
                  segments: list[str], extensions_used: int = 0, bow_wave: bool = False,
                  evaluations: tuple[Evaluation, ...] = (), start: date | None = None,
                  scheme: str | None = None) -> FrameworkAgreement:
        """A framework agreement, by default from 1 January of the first demo year on the
        segments' term (their ``contract_duration``, e.g. ``"3+1+1"``). Under the bow-wave
        principle the first number is the horizon and the evaluations, year by year, move the end
        date; the options stay only where the segments allow a bow wave with options (they cap it) (:mod:`portal.contracts.terms`, the rules the agreement services apply)."""
        frameworks = self._frameworks()
        found = frameworks.get(reference)
        if found is not None:
            return found
        if scheme is None:
            schemes = {current_registry().segments[key].contract_duration for key in segments}
            if len(schemes) != 1:
                raise ValueError(f"demo data: the segments of {reference} have different terms {sorted(schemes)}")
            scheme = schemes.pop()
        initial, options = contract_terms.parse_scheme(scheme)
        if bow_wave and not all(current_registry().segments[key].bow_wave_extensions for key in segments):
            options = []
        if extensions_used > len(options):
            raise ValueError(f"demo data: {reference} uses more extensions than {scheme} offers")
        agreement = self._add(FrameworkAgreement, frameworks, reference, FrameworkAgreement(
            region_id=self.region.id, organisation_id=self.organisation(provider).id, reference=reference,
            domain=domain, lot=lot, contract_form=contract_form, start_date=start or date(self.years[0], 1, 1),
            initial_years=initial, extension_options=options, extensions_used=extensions_used,
            bow_wave=bow_wave), flush=True)
        self._segments[agreement.id] = set(segments)
        self._earned[agreement.id] = 0
        for segment_key in segments:
            self._queued.setdefault(FrameworkSegment, []).append(
                {"framework_agreement_id": agreement.id, "segment_key": segment_key})
        end = self._end(agreement)
        for evaluation in evaluations:
            if not agreement.start_date.year <= evaluation.year <= min(end.year, self.demo.today.year):
                raise ValueError(f"demo data: {reference} cannot be evaluated for {evaluation.year}")
            end_after = contract_terms.bow_wave_end_after(end, evaluation.satisfactory, contract_terms.last_possible_end(
                agreement.start_date, agreement.initial_years, list(agreement.extension_options)))
            self._queued.setdefault(BowWaveEvaluation, []).append({
                "framework_agreement_id": agreement.id, "year": evaluation.year,
                "satisfactory": evaluation.satisfactory, "end_before": end, "end_after": end_after,
                "note": evaluation.note,
                "decided_at": min(datetime(evaluation.year + 1, 1, 20, 10, 0, tzinfo=timezone.utc), self.now)})
            self.added[BowWaveEvaluation.__name__] += 1
            self._earned[agreement.id] += int(evaluation.satisfactory)
            end = end_after
        return agreement

    def _covering(self, organisation_id: int, segment_key: str, year: int) -> FrameworkAgreement | None:
        for agreement in self._frameworks().values():
            if (agreement.organisation_id == organisation_id and segment_key in self._segments[agreement.id]
                    and agreement.start_date.year <= year <= self._end(agreement).year):
                return agreement
        return None

    def budget_agreements(self, provider: str, segment_key: str, kind: str, yearly_total: Decimal,
                          municipalities: list[Organisation], bandwidth: dict[int, str] | None = None,
                          installments: int | None = None) -> None:
        """A budget agreement (``kind="budget"``) or ceiling per municipality and demo year: the
        provider's yearly total (indexed by 3% a year, whole hundreds of euros) split by the
        municipalities' residents in whole euros that add up to the total. Each year hangs under
        the provider's regional framework agreement for the segment that runs in that year."""
        cache = self._existing(BudgetAgreement,
                               lambda r: (r.organisation_id, r.municipality_id, r.segment_key, r.year))
        organisation = self.organisation(provider)
        weights = [Decimal(m.residents) for m in municipalities]
        total = Decimal(yearly_total)
        for year in self.years:
            agreement = self._covering(organisation.id, segment_key, year)
            if agreement is None or agreement.lot != "regional":
                raise ValueError(f"demo data: {provider} has no regional framework agreement for "
                                 f"{segment_key} in {year}")
            rounded = (total / 100).quantize(Decimal(1)) * 100
            # split_by_weights splits whole cents; splitting "euros / 100" gives whole euros.
            shares = [part * 100 for part in split_by_weights(rounded / 100, weights)]
            for municipality, amount in zip(municipalities, shares):
                key = (organisation.id, municipality.id, segment_key, year)
                if key in cache:
                    continue
                self._queue(BudgetAgreement, cache, key,
                            region_id=self.region.id, organisation_id=organisation.id,
                            municipality_id=municipality.id, framework_agreement_id=agreement.id,
                            segment_key=segment_key, year=year, kind=kind, amount=to_cents(amount),
                            bandwidth_percentage=(Decimal((bandwidth or {}).get(year, "0"))
                                                  if kind == "budget" else None),
                            advance_installments=installments if kind == "budget" else None,
                            created_at=self.now, updated_at=self.now)
            total = total * (1 + INDEXATION)

    def extra_capacity(self, provider: str, municipality: str | None, segment_key: str, year: int,
                       amount: str, reason: str) -> None:
        """Extra capacity outside the framework, through the agreement service (10% rule)."""
        cache = self._existing(ExtraCapacity,
                               lambda r: (r.organisation_id, r.municipality_id, r.segment_key, r.year))
        organisation = self.organisation(provider)
        municipality_id = self.organisation(municipality).id if municipality else None
        key = (organisation.id, municipality_id, segment_key, year)
        if key in cache:
            return
        self._write_queued()  # the budget agreements count towards the contracted value
        row = agreements.add_extra_capacity(self.region.id, organisation_id=organisation.id,
                                            municipality_id=municipality_id, segment_key=segment_key, year=year,
                                            amount=Decimal(amount), reason=reason)
        row.created_at = datetime(year, 6, 15, 9, 0, tzinfo=timezone.utc)  # bought during that year
        self.session.add(row)
        cache[key] = row
        self.added[ExtraCapacity.__name__] += 1

    # --- municipal choices -----------------------------------------------------------------

    def choice(self, municipality: Organisation, segment_key: str, lots: list[str], volume_basis: str,
               funding_form: str, effective_from: date | None = None, note: str = "",
               volume: int | None = None) -> None:
        """``volume``: the number of places (or trajectories) the municipality buys, if known."""
        cache = self._existing(MunicipalChoice, lambda r: (r.municipality_id, r.segment_key, r.effective_from))
        effective_from = effective_from or date(self.years[0], 1, 1)
        key = (municipality.id, segment_key, effective_from)
        if key in cache:
            return
        self._queue(MunicipalChoice, cache, key,
                    region_id=self.region.id, municipality_id=municipality.id, segment_key=segment_key,
                    effective_from=effective_from, lots=list(lots), volume_basis=volume_basis,
                    funding_form=funding_form,
                    details={k: v for k, v in (("note", note), ("volume", None if volume is None else str(volume))) if v}
                    or None,
                    # recorded a month before it took effect, as a municipality would
                    created_at=datetime(effective_from.year - 1, 12, 1, 9, 0, tzinfo=timezone.utc))

    # --- the end ---------------------------------------------------------------------------

    def finish(self) -> None:
        """Write, and record one audit event for what this plugin added (none when nothing was)."""
        self._write_queued()
        self.session.flush()
        if not self.added:
            return
        counts = ", ".join(f"{count} × {name}" for name, count in sorted(self.added.items()))
        audit.record("demo.plugin_data_loaded", f"Demogegevens van plug-in {self.plugin} geladen ({counts})",
                     object_type="region", object_id=self.region.id, region_id=self.region.id,
                     details={"before": None, "after": {"plugin": self.plugin, "added": dict(self.added)}})
