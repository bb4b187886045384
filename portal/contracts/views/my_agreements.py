"""What a provider and a municipality see of the agreements: the provider's "Mijn contracten"
(framework agreements, horizon and extensions, budget agreements with advances, the PDF summary)
and a municipality's own budget agreements and ceilings. Read-only; scoped to the organisation."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from sqlmodel import select

from portal import db
from portal.accounts import roles
from portal.accounts.roles import roles_required
from portal.accounts.scoping import scoped
from portal.contracts.views.agreements import (
    _framework_rows,
    budget_filters,
    budget_page,
    budget_years,
    segment_choices,
)
from portal.models import BudgetAgreement, FrameworkAgreement, Organisation
from portal.models.proposals import CustomTrajectory
from portal.web.common import render_page_or_partial

bp = Blueprint("my_agreements", __name__)


def _counterparts(column) -> list[Organisation]:
    """The organisations on the other side of the signed-in organisation's own budget agreements
    (for the filter; their names are in its own rows anyway)."""
    return list(db.session().exec(select(Organisation).where(Organisation.id.in_(
        scoped(select(column).distinct(), BudgetAgreement))).order_by(Organisation.name)).all())


@bp.route("/mijn-contracten/")
@roles_required(*roles.PROVIDER_ROLES)
def overview():
    frameworks = _framework_rows(
        scoped(select(FrameworkAgreement, Organisation.name), FrameworkAgreement)
        .join(Organisation, Organisation.id == FrameworkAgreement.organisation_id)
        .where(FrameworkAgreement.organisation_id == current_user.organisation.id)
        .order_by(FrameworkAgreement.start_date.desc(), FrameworkAgreement.reference))
    filters = budget_filters()
    filters["aanbieder"] = ""  # always the provider's own
    page, sort, total = budget_page(filters, default_sort="-jaar")

    custom_trajectories = db.session().exec(
        scoped(select(CustomTrajectory), CustomTrajectory)
        .where(CustomTrajectory.organisation_id == current_user.organisation.id)
        .order_by(CustomTrajectory.valid_from.desc(), CustomTrajectory.code)).all()
    return render_page_or_partial(
        "my_agreements/overview.html", "my_agreements/_budgets.html", frameworks=frameworks, page=page,
        custom_trajectories=custom_trajectories,
        sort=sort, total=total, filters=filters, years=budget_years(),
        municipalities=_counterparts(BudgetAgreement.municipality_id), segment_groups=segment_choices(),
        endpoint="my_agreements.overview", counterpart="municipality")


@bp.route("/budgetafspraken/")
@roles_required(roles.MUNICIPALITY_USER)
def municipality_budgets():
    filters = budget_filters()
    filters["gemeente"] = current_user.organisation.id  # only the municipality's own agreements
    page, sort, total = budget_page(filters, default_sort="-jaar")
    filters_shown = {**filters, "gemeente": ""}
    return render_page_or_partial(
        "my_agreements/municipality.html", "my_agreements/_budgets.html", page=page, sort=sort, total=total,
        filters=filters_shown, years=budget_years(), providers=_counterparts(BudgetAgreement.organisation_id),
        segment_groups=segment_choices(), endpoint="my_agreements.municipality_budgets", counterpart="provider")
