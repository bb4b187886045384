"""What a provider and a municipality see of the agreements: the provider's "Mijn contracten"
(framework agreements, horizon and extensions, budget agreements with advances, the PDF summary)
and a municipality's own budget agreements and ceilings. Read-only; scoped to the organisation."""
from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from portal.accounts import roles
from portal.accounts.roles import roles_required
from portal.contracts import queries
from portal.contracts.views.agreements import budget_filters, budget_page
from portal.models import BudgetAgreement
from portal.web.common import render_page_or_partial

bp = Blueprint("my_agreements", __name__)


@bp.route("/mijn-contracten/")
@roles_required(*roles.PROVIDER_ROLES)
def overview():
    frameworks = queries.own_frameworks(current_user.organisation.id)
    filters = budget_filters()
    filters["aanbieder"] = ""  # always the provider's own
    page, sort, total = budget_page(filters, default_sort="-jaar")

    custom_trajectories = queries.own_custom_trajectories(current_user.organisation.id)
    return render_page_or_partial(
        "my_agreements/overview.html", "my_agreements/_budgets.html", frameworks=frameworks, page=page,
        custom_trajectories=custom_trajectories,
        sort=sort, total=total, filters=filters, years=queries.budget_years(),
        municipalities=queries.counterparts(BudgetAgreement.municipality_id), segment_groups=queries.segment_choices(),
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
        filters=filters_shown, years=queries.budget_years(), providers=queries.counterparts(BudgetAgreement.organisation_id),
        segment_groups=queries.segment_choices(), endpoint="my_agreements.municipality_budgets", counterpart="provider")
