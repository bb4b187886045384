"""Jinja set-up: the nl-NL filters of :mod:`portal.formatting` and what every page needs (menu,
user, role labels)."""
from __future__ import annotations

from flask_login import current_user

from portal import clock
from portal.accounts import roles
from portal.audit_labels import action_label
from portal.formatting import balance, money, nl_date, nl_datetime, number
from portal.models import OrganisationKind
from portal.registry import current_registry


def init_app(app) -> None:
    app.jinja_env.filters.update(money=money, number=number, nl_date=nl_date, nl_datetime=nl_datetime,
                                 action_label=action_label, balance=balance)
    app.jinja_env.globals.update(
        role_labels=roles.LABELS,
        kind_labels=OrganisationKind.LABELS,
        today=clock.today,
    )

    @app.context_processor
    def _menu():
        role = current_user.role if current_user.is_authenticated else None
        return {"menu_items": current_registry().menu_for(role, "menu") if role else [],
                "account_items": current_registry().menu_for(role, "account") if role else [],
                "registry": current_registry()}
