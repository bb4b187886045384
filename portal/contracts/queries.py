"""What the agreement screens show, read within what the signed-in organisation may see: framework
agreements with their term, budget agreements and ceilings filtered, sorted and paged with their
total, extra capacity with its share of the contracted value, and the choices of their filters.

The screens (:mod:`portal.contracts.views`) parse the request and call one function here; every
statement goes through :func:`portal.accounts.scoping.scoped`."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import select

from portal import db
from portal.accounts.scoping import scoped
from portal.contracts import obligations, rules, service, terms
from portal.models import BudgetAgreement, ExtraCapacity, FrameworkAgreement, Organisation
from portal.models.proposals import CustomTrajectory
from portal.pagination import Page, page_of_list, paginate, sort_by
from portal.registry import current_registry

PER_PAGE = 25

Provider = aliased(Organisation, name="provider")
Municipality = aliased(Organisation, name="municipality")


# --- Choices of the filters and forms ---------------------------------------------------------------


def active_organisations(kind: str) -> list[Organisation]:
    """The active organisations of a kind that the signed-in organisation sees, by name."""
    return list(db.session().exec(scoped(select(Organisation), Organisation).where(
        Organisation.kind == kind, Organisation.is_active == True)  # noqa: E712
        .order_by(Organisation.name)).all())


def counterparts(column) -> list[Organisation]:
    """The organisations on the other side of the signed-in organisation's own budget agreements
    (for the filter; their names are in its own rows anyway)."""
    return list(db.session().exec(select(Organisation).where(Organisation.id.in_(
        scoped(select(column).distinct(), BudgetAgreement))).order_by(Organisation.name)).all())


def segment_choices() -> dict[str, dict[str, str]]:
    """Segments grouped by domain name (optgroups): {domain name: {segment key: label}}."""
    registry = current_registry()
    return {d.name: {s.key: f"{d.name} {s.code} — {s.name}" for s in d.segments}
            for d in registry.domains.values()}


# --- Framework agreements -------------------------------------------------------------------------

# Sorts on columns page in SQL; the end date and status follow from the evaluations
# (:func:`portal.contracts.service.term_of`), so sorting or filtering on them reads the whole
# selection (a region holds tens to hundreds of framework agreements). Ties keep the id order.
FRAMEWORK_COLUMN_SORTS = {
    "kenmerk": func.lower(FrameworkAgreement.reference),
    "aanbieder": func.lower(Organisation.name),
    "domein": FrameworkAgreement.domain,
    "perceel": FrameworkAgreement.lot,
    "ingang": FrameworkAgreement.start_date,
}
FRAMEWORK_SORTS: dict[str, Callable] = {
    "kenmerk": lambda row: row["agreement"].reference.lower(),
    "aanbieder": lambda row: row["provider"].lower(),
    "domein": lambda row: row["agreement"].domain,
    "perceel": lambda row: row["agreement"].lot,
    "ingang": lambda row: row["agreement"].start_date,
    "einde": lambda row: row["term"].end,
    "status": lambda row: row["term"].status_label,
}


def _terms(found) -> tuple[dict[int, list], dict[int, terms.Term]]:
    """The evaluations and the term of each (agreement, provider name)."""
    evaluations = service.evaluations_by_agreement([agreement.id for agreement, _name in found])
    return evaluations, {agreement.id: service.term_of(agreement, evaluations[agreement.id])
                         for agreement, _name in found}


def _framework_rows(found, evaluations: dict[int, list] | None = None,
                    terms_by_id: dict[int, terms.Term] | None = None) -> list[dict]:
    """Rows of (agreement, provider name) with segments, evaluations, term, contract value and
    obligations (the evaluations and terms when already known)."""
    if evaluations is None or terms_by_id is None:
        evaluations, terms_by_id = _terms(found)
    segments = service.segments_by_agreement([agreement.id for agreement, _name in found])
    return [{"agreement": agreement, "provider": name, "segments": segments[agreement.id],
             "evaluations": evaluations[agreement.id], "term": terms_by_id[agreement.id],
             "contract_value": service.contract_value(agreement),
             "obligations": obligations.in_force(agreement, segments[agreement.id])}
            for agreement, name in found]


def framework_rows(statement) -> list[dict]:
    """Agreements with provider name, segments and term (the end date depends on the evaluations,
    so it is computed here)."""
    return _framework_rows(db.session().exec(statement).all())


def _frameworks_with_provider():
    return (scoped(select(FrameworkAgreement, Organisation.name), FrameworkAgreement)
            .join(Organisation, Organisation.id == FrameworkAgreement.organisation_id))


def framework_list(provider_id: int | None, domain: str, status: str, sort: str,
                   page: int) -> tuple[Page, str]:
    """One page of the region's framework agreements, filtered and sorted (an unknown sort falls
    back to the reference), and the sort used. Filtered and sorted on columns, the database counts
    and pages; a sort or filter on the term reads the selection's terms and pages in Python. Only
    the rows of the page get their segments and obligations."""
    sort = sort if sort.lstrip("-") in FRAMEWORK_SORTS else "kenmerk"
    key, descending = sort.lstrip("-"), sort.startswith("-")
    statement = _frameworks_with_provider()
    if provider_id:
        statement = statement.where(FrameworkAgreement.organisation_id == provider_id)
    if domain in current_registry().domains:
        statement = statement.where(FrameworkAgreement.domain == domain)
    if key in FRAMEWORK_COLUMN_SORTS and status not in terms.STATUS_LABELS:
        column = FRAMEWORK_COLUMN_SORTS[key]
        found = paginate(statement.order_by(column.desc() if descending else column.asc(),
                                            FrameworkAgreement.id), page, PER_PAGE)
        found.items = _framework_rows(found.items)
        return found, sort
    selection = db.session().exec(statement.order_by(FrameworkAgreement.id)).all()
    evaluations, terms_by_id = _terms(selection)
    rows = [{"agreement": agreement, "provider": name, "term": terms_by_id[agreement.id]}
            for agreement, name in selection]
    if status in terms.STATUS_LABELS:
        rows = [row for row in rows if row["term"].status == status]
    rows.sort(key=FRAMEWORK_SORTS[key], reverse=descending)
    found = page_of_list(rows, page, PER_PAGE)
    found.items = _framework_rows([(row["agreement"], row["provider"]) for row in found.items],
                                  evaluations, terms_by_id)
    return found, sort


def own_frameworks(provider_id: int) -> list[dict]:
    """A provider's own framework agreements, newest first ("Mijn contracten")."""
    return framework_rows(_frameworks_with_provider()
                          .where(FrameworkAgreement.organisation_id == provider_id)
                          .order_by(FrameworkAgreement.start_date.desc(), FrameworkAgreement.reference))


def own_custom_trajectories(provider_id: int) -> list[CustomTrajectory]:
    """A provider's custom trajectories (approved proposals), newest first."""
    return list(db.session().exec(
        scoped(select(CustomTrajectory), CustomTrajectory)
        .where(CustomTrajectory.organisation_id == provider_id)
        .order_by(CustomTrajectory.valid_from.desc(), CustomTrajectory.code)).all())


@dataclass(frozen=True)
class FrameworkDetail:
    """What the page of one framework agreement shows."""

    provider: Organisation
    evaluations: list
    term: terms.Term
    segments: list
    budgets: list[dict]  # per year, newest first: year, count, budget, ceiling
    obligations: list  # obligations.ObligationInForce, one per obligation that covers the agreement


def framework_detail(agreement: FrameworkAgreement) -> FrameworkDetail:
    """The provider, term, evaluations, segments and the budget agreements per year of one
    framework agreement (the caller fetched it within scope)."""
    session = db.session()
    evaluations = service.evaluations_of(agreement)
    years: dict[int, dict] = {}
    for budget in session.exec(scoped(select(BudgetAgreement), BudgetAgreement)
                               .where(BudgetAgreement.framework_agreement_id == agreement.id)).all():
        year = years.setdefault(budget.year, {"year": budget.year, "count": 0, "budget": Decimal("0.00"),
                                              "ceiling": Decimal("0.00")})
        year["count"] += 1
        year[budget.kind] += budget.amount
    segments = service.segments_of(agreement)
    return FrameworkDetail(
        provider=session.get(Organisation, agreement.organisation_id), evaluations=evaluations,
        term=service.term_of(agreement, evaluations), segments=segments,
        budgets=sorted(years.values(), key=lambda row: row["year"], reverse=True),
        obligations=obligations.in_force(agreement, segments))


# --- Budget agreements and ceilings --------------------------------------------------------------

BUDGET_SORTS = {
    "jaar": BudgetAgreement.year,
    "aanbieder": Provider.name,
    "gemeente": Municipality.name,
    "segment": BudgetAgreement.segment_key,
    "soort": BudgetAgreement.kind,
    "bedrag": BudgetAgreement.amount,
}


def budget_statement(columns, filters: dict):
    """Budget agreements with provider and municipality names, scoped and filtered (``jaar``,
    ``aanbieder``, ``gemeente``, ``segment``, ``soort``; an empty value filters nothing)."""
    statement = (scoped(select(*columns), BudgetAgreement)
                 .join(Provider, Provider.id == BudgetAgreement.organisation_id)
                 .join(Municipality, Municipality.id == BudgetAgreement.municipality_id))
    if filters.get("jaar"):
        statement = statement.where(BudgetAgreement.year == filters["jaar"])
    if filters.get("aanbieder"):
        statement = statement.where(BudgetAgreement.organisation_id == filters["aanbieder"])
    if filters.get("gemeente"):
        statement = statement.where(BudgetAgreement.municipality_id == filters["gemeente"])
    if filters.get("segment"):
        statement = statement.where(BudgetAgreement.segment_key == filters["segment"])
    if filters.get("soort") in rules.KINDS:
        statement = statement.where(BudgetAgreement.kind == filters["soort"])
    return statement


def budget_years() -> list[int]:
    """The years with budget agreements the signed-in organisation sees, newest first."""
    return list(db.session().exec(scoped(select(BudgetAgreement.year).distinct(), BudgetAgreement)
                                  .order_by(BudgetAgreement.year.desc())).all())


def budget_page(filters: dict, sort: str | None, page: int, default_sort: str = "-jaar"):
    """One page of budget agreements (with provider and municipality name) for the filters and the
    requested sort, the sort used, and the selection's total."""
    statement = budget_statement((BudgetAgreement, Provider.name, Municipality.name), filters)
    statement, sort = sort_by(statement, sort, BUDGET_SORTS, default_sort)
    statement = statement.order_by(Provider.name, Municipality.name, BudgetAgreement.segment_key)
    found = paginate(statement, page, PER_PAGE)
    total = service.sum_amounts(budget_statement((BudgetAgreement.amount,), filters))
    return found, sort, total


def budget_row(budget_id: int):
    """One budget agreement with its provider's and municipality's names, or None out of scope."""
    return db.session().exec(budget_statement((BudgetAgreement, Provider.name, Municipality.name), {})
                             .where(BudgetAgreement.id == budget_id)).first()


# --- Extra capacity ---------------------------------------------------------------------------------


def extra_capacity_page(year: int | None, segment: str, sort: str | None, page: int) -> tuple[Page, str]:
    """One page of extra capacity (with provider and municipality name), filtered and sorted."""
    provider = aliased(Organisation)
    municipality = aliased(Organisation)
    statement = (scoped(select(ExtraCapacity, provider.name, municipality.name), ExtraCapacity)
                 .join(provider, provider.id == ExtraCapacity.organisation_id)
                 .outerjoin(municipality, municipality.id == ExtraCapacity.municipality_id))
    if year:
        statement = statement.where(ExtraCapacity.year == year)
    if segment:
        statement = statement.where(ExtraCapacity.segment_key == segment)
    statement, sort = sort_by(statement, sort,
                              {"jaar": ExtraCapacity.year, "segment": ExtraCapacity.segment_key,
                               "aanbieder": provider.name, "bedrag": ExtraCapacity.amount,
                               "vastgelegd": ExtraCapacity.created_at}, "-vastgelegd")
    return paginate(statement.order_by(ExtraCapacity.id.desc()), page, PER_PAGE), sort


def extra_capacity_years() -> list[int]:
    """The years with extra capacity, newest first."""
    return list(db.session().exec(scoped(select(ExtraCapacity.year).distinct(), ExtraCapacity)
                                  .order_by(ExtraCapacity.year.desc())).all())


def extra_capacity_usage(region_id: int, year: int | None, segment: str) -> list[dict]:
    """Per segment and year with extra capacity: contracted value, extra capacity and its share."""
    statement = (scoped(select(ExtraCapacity.year, ExtraCapacity.segment_key), ExtraCapacity).distinct()
                 .order_by(ExtraCapacity.year.desc(), ExtraCapacity.segment_key))
    if year:
        statement = statement.where(ExtraCapacity.year == year)
    if segment:
        statement = statement.where(ExtraCapacity.segment_key == segment)
    usage = []
    for row_year, key in db.session().exec(statement).all():
        contracted = service.contracted_value(region_id, key, row_year)
        extra = service.extra_capacity_total(region_id, key, row_year)
        usage.append({"year": row_year, "segment_key": key, "contracted": contracted, "extra": extra,
                      "share": (extra / contracted * 100).quantize(Decimal("0.1")) if contracted else None,
                      "room": rules.extra_capacity_room(contracted, extra)})
    return usage
