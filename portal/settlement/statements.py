"""What a settlement statement and the settlement overviews show: the lines of a run as rows with
names and labels, grouped per provider, segment or municipality with their totals, the municipalities'
shares of the region's costs, and the rows of the yearly overviews of contract managers, providers
and municipalities. Plain dataclasses: the screens, the PDF and the XLSX statements read the same
rows from here.

The caller has checked that the signed-in user may see the run (and the organisation) asked for;
the ids here come from that run."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import select

from portal import db
from portal.accounts.scoping import organisation_names
from portal.models import User
from portal.models.settlement import SettlementCostShare, SettlementLine, SettlementResponse, SettlementRun
from portal.registry import current_registry
from portal.settlement import engine
from portal.settlement import runs as runs_service
from portal.settlement.runs import Change, Totals

ZERO = Decimal("0.00")
KIND_LABELS = engine.KIND_LABELS
STATE_EXPLANATIONS = {
    "draft": "Concept: alleen contractmanagers en de accountant zien deze versie. Publiceer haar om de "
             "zorgaanbieders en gemeenten hun afrekening te laten zien.",
    "published": "Gepubliceerd: de zorgaanbieders en gemeenten zien hun afrekening; aanbieders kunnen haar "
                 "accepteren of er bezwaar tegen maken. Na afloop van het jaar kan zij definitief worden.",
    "final": "Definitief: deze afrekening staat vast en verandert niet meer.",
    "superseded": "Vervangen: er is een nieuwere versie van deze afrekening. Deze versie blijft ter inzage "
                  "bewaard, maar er kan niets meer aan gebeuren.",
}


def user_names(ids) -> dict[int, str]:
    """The names (else e-mail addresses) of the accounts by id, for the people behind a run's steps."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: (u.name or u.email) for u in db.session().exec(select(User).where(User.id.in_(ids))).all()}


# --- Lines and their groups ----------------------------------------------------------------------


@dataclass
class LineRow:
    """One line of a run with the names and labels a statement shows."""

    line: SettlementLine
    provider: str
    municipality: str
    segment: str
    kind: str
    direction: str


def line_rows(lines: list[SettlementLine]) -> list[LineRow]:
    """The lines as rows, sorted by provider, segment and municipality."""
    names = organisation_names({l.organisation_id for l in lines} | {l.municipality_id for l in lines})
    registry = current_registry()
    rows = [LineRow(l, names.get(l.organisation_id, ""), names.get(l.municipality_id, ""),
                    registry.segment_short_label(l.segment_key), KIND_LABELS.get(l.kind, l.kind),
                    engine.direction_label(l.due))
            for l in lines]
    rows.sort(key=lambda r: (r.provider, r.segment, r.municipality))
    return rows


@dataclass
class Subgroup:
    """One table of rows within a group (``name`` None when the group is not split)."""

    name: str | None
    rows: list[LineRow]


@dataclass
class Group:
    """Rows under one name (a provider, a segment), in one or more tables, with their totals."""

    name: str
    subgroups: list[Subgroup]
    totals: Totals

    @property
    def lines(self) -> list[SettlementLine]:
        return [row.line for subgroup in self.subgroups for row in subgroup.rows]


def grouped(rows: list[LineRow], first: str, second: str | None = None) -> list[Group]:
    """Rows grouped once or twice (e.g. provider → segment; each subgroup is one table), each group
    with its totals. Without ``second`` a group is one table. The rows come sorted (:func:`line_rows`)."""
    found: list[tuple[str, list[Subgroup]]] = []
    for row in rows:
        if not found or found[-1][0] != getattr(row, first):
            found.append((getattr(row, first), []))
        subgroups = found[-1][1]
        name = getattr(row, second) if second else None
        if not subgroups or subgroups[-1].name != name:
            subgroups.append(Subgroup(name, []))
        subgroups[-1].rows.append(row)
    return [Group(name, subgroups, runs_service.totals([row.line for sub in subgroups for row in sub.rows]))
            for name, subgroups in found]


# --- Cost shares ---------------------------------------------------------------------------------


@dataclass
class ShareRow:
    """A municipality's share of the region's shared and program costs in a run."""

    share: SettlementCostShare
    municipality: str

    @property
    def total(self) -> Decimal:
        return self.share.shared_costs + self.share.program_costs


def share_rows(run: SettlementRun, municipality_id: int | None = None) -> list[ShareRow]:
    """The cost shares of a run (of one municipality when given), sorted by municipality."""
    shares = runs_service.cost_shares(run)
    if municipality_id is not None:
        shares = [s for s in shares if s.municipality_id == municipality_id]
    names = organisation_names(s.municipality_id for s in shares)
    rows = [ShareRow(s, names.get(s.municipality_id, "")) for s in shares]
    return sorted(rows, key=lambda r: r.municipality)


@dataclass(frozen=True)
class ShareTotals:
    """The sums of the cost shares' columns."""

    residents: int
    realisation: Decimal
    shared_costs: Decimal
    program_costs: Decimal
    total: Decimal


def share_totals(rows: list[ShareRow]) -> ShareTotals:
    """The totals row of the cost shares."""
    return ShareTotals(residents=sum((r.share.residents or 0 for r in rows), 0),
                       realisation=sum((r.share.realisation for r in rows), ZERO),
                       shared_costs=sum((r.share.shared_costs for r in rows), ZERO),
                       program_costs=sum((r.share.program_costs for r in rows), ZERO),
                       total=sum((r.total for r in rows), ZERO))


# --- One party's statement -----------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """The lines of one party in a run as rows, with their totals."""

    rows: list[LineRow]
    totals: Totals

    @property
    def realisation(self) -> Decimal:
        return sum((row.line.realisation for row in self.rows), ZERO)


@dataclass(frozen=True)
class ProviderStatement(Statement):
    """What a provider settles in a run, and its answer; on screen one table per segment."""

    answer: SettlementResponse | None

    @property
    def groups(self) -> list[Group]:
        return grouped(self.rows, "segment")


@dataclass(frozen=True)
class MunicipalityStatement(Statement):
    """What a municipality settles in a run: its lines with all providers, its cost share, the sum;
    on screen one table per provider."""

    share: ShareRow | None
    to_pay: Decimal

    @property
    def groups(self) -> list[Group]:
        return grouped(self.rows, "provider")


def provider_statement(run: SettlementRun, provider_id: int) -> ProviderStatement | None:
    """The provider's statement, or None when the run has no lines of it."""
    lines = runs_service.lines_of(run, organisation_id=provider_id)
    if not lines:
        return None
    answer = runs_service.responses(run).get(provider_id)
    return ProviderStatement(line_rows(lines), runs_service.totals(lines), answer)


def _municipality_figures(run: SettlementRun,
                          municipality_id: int) -> tuple[list[SettlementLine], ShareRow | None]:
    lines = runs_service.lines_of(run, municipality_id=municipality_id)
    shares = share_rows(run, municipality_id)
    return lines, (shares[0] if shares else None)


def municipality_statement(run: SettlementRun, municipality_id: int) -> MunicipalityStatement | None:
    """The municipality's statement, or None when the run has neither lines nor a cost share of it."""
    lines, share = _municipality_figures(run, municipality_id)
    if not lines and share is None:
        return None
    summed = runs_service.totals(lines)
    costs = share.total if share else ZERO
    return MunicipalityStatement(line_rows(lines), summed, share, summed.due + costs)


# --- The yearly overviews ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """A version of the year in the contract manager's overview: its totals and number of lines."""

    run: SettlementRun
    totals: Totals
    lines: int


@dataclass(frozen=True)
class YearOverview:
    """The region's years with agreements, the year shown, its versions (newest first) and whether
    that year has ended."""

    years: list[int]
    year: int | None
    rows: list[RunSummary]
    year_ended: bool


def year_overview(region_id: int, asked: tuple[int | None, ...] = ()) -> YearOverview:
    """The contract manager's overview of a year: the first year ``asked`` that has agreements, else
    the year :func:`portal.settlement.runs.year_to_show` picks."""
    years = runs_service.years_with_agreements(region_id)
    year = runs_service.year_to_show(years, asked)
    versions = runs_service.runs(region_id, year) if year else []
    sums = runs_service.sums_per_run(run.id for run in versions)
    rows = [RunSummary(run, sums[run.id].totals, sums[run.id].lines) if run.id in sums
            else RunSummary(run, runs_service.totals([]), 0) for run in versions]
    return YearOverview(years, year, rows, runs_service.year_has_ended(year) if year else True)


@dataclass(frozen=True)
class ProviderRunSummary:
    """A run in a provider's overview: its totals, number of lines and the provider's answer."""

    run: SettlementRun
    totals: Totals
    lines: int
    answer: SettlementResponse | None


def provider_overview(region_id: int, provider_id: int) -> list[ProviderRunSummary]:
    """The runs shown to the provider that hold lines of it, newest first."""
    shown = runs_service.runs_shown_to_organisations(region_id)
    sums = runs_service.sums_per_run((run.id for run in shown), organisation_id=provider_id)
    return [ProviderRunSummary(run, sums[run.id].totals, sums[run.id].lines,
                               runs_service.responses(run).get(provider_id))
            for run in shown if run.id in sums]


@dataclass(frozen=True)
class MunicipalityRunSummary:
    """A run in a municipality's overview: the balance with the providers, its share of the costs,
    what it pays in total and the number of lines."""

    run: SettlementRun
    totals: Totals
    costs: Decimal
    to_pay: Decimal
    lines: int


def municipality_overview(region_id: int, municipality_id: int) -> list[MunicipalityRunSummary]:
    """The runs shown to the municipality that hold lines or a cost share of it, newest first."""
    shown = runs_service.runs_shown_to_organisations(region_id)
    sums = runs_service.sums_per_run((run.id for run in shown), municipality_id=municipality_id)
    rows = []
    for run in shown:
        shares = share_rows(run, municipality_id)
        if run.id not in sums and not shares:
            continue
        summed = sums[run.id].totals if run.id in sums else runs_service.totals([])
        costs = shares[0].total if shares else ZERO
        rows.append(MunicipalityRunSummary(run, summed, costs, summed.due + costs,
                                           sums[run.id].lines if run.id in sums else 0))
    return rows


# --- One run as the region's readers see it --------------------------------------------------------


@dataclass(frozen=True)
class ProviderAnswer:
    """A provider in a run, with its answer (None: not yet)."""

    id: int
    name: str
    answer: SettlementResponse | None


@dataclass(frozen=True)
class ChangeRow:
    """An agreement settled differently than in the version before, with its names."""

    change: Change
    provider: str
    municipality: str
    segment: str


def change_rows(run: SettlementRun) -> list[ChangeRow] | None:
    """What changed against the previous version (None for a first version)."""
    found = runs_service.changes(run)
    if found is None:
        return None
    lines = [c.before or c.after for c in found]
    names = organisation_names({l.organisation_id for l in lines} | {l.municipality_id for l in lines})
    registry = current_registry()
    return [ChangeRow(c, names.get(line.organisation_id, ""), names.get(line.municipality_id, ""),
                      registry.segment_short_label(line.segment_key)) for c, line in zip(found, lines)]


@dataclass(frozen=True)
class RunOverview:
    """The settlement overview of a run for contract managers and auditors: every line grouped per
    provider and segment, the providers' answers, the cost shares, the changes against the version
    before, and who took its steps."""

    totals: Totals
    groups: list[Group]
    providers: list[ProviderAnswer]
    shares: list[ShareRow]
    share_totals: ShareTotals
    changes: list[ChangeRow] | None
    previous: SettlementRun | None
    all_accepted: bool
    people: dict[int, str]
    explanation: str


def run_overview(run: SettlementRun) -> RunOverview:
    """The whole run as the region's readers see it."""
    lines = runs_service.lines_of(run)
    answers = runs_service.responses(run)
    provider_ids = runs_service.provider_ids(run)
    names = organisation_names(provider_ids)
    providers = sorted((ProviderAnswer(pid, names.get(pid, ""), answers.get(pid)) for pid in provider_ids),
                       key=lambda p: p.name)
    shares = share_rows(run)
    previous = db.session().get(SettlementRun, run.previous_id) if run.previous_id else None
    return RunOverview(
        totals=runs_service.totals(lines), groups=grouped(line_rows(lines), "provider", "segment"),
        providers=providers, shares=shares, share_totals=share_totals(shares), changes=change_rows(run),
        previous=previous,
        all_accepted=all(getattr(answers.get(pid), "state", None) == "accepted" for pid in provider_ids),
        people=user_names([run.created_by, run.published_by, run.finalised_by]),
        explanation=STATE_EXPLANATIONS[run.state])
