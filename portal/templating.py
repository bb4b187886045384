"""Jinja set-up: nl-NL formatting filters and what every page needs (menu, user, role labels)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from flask_login import current_user

from portal import clock, roles
from portal.models import OrganisationKind
from portal.registry import current_registry

LOCALE = "nl_NL"
TIMEZONE = clock.TIMEZONE


def money(value) -> str:
    """€ 1.234,56 (nl-NL); None shows as an empty cell."""
    if value is None:
        return ""
    return format_currency(Decimal(value), "EUR", locale=LOCALE)


def number(value) -> str:
    if value is None:
        return ""
    return format_decimal(value, locale=LOCALE)


def nl_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(TIMEZONE).date()
    return format_date(value, "d MMMM y", locale=LOCALE)


def nl_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, "d MMMM y 'om' HH:mm", tzinfo=TIMEZONE, locale=LOCALE)



def init_app(app) -> None:
    app.jinja_env.filters.update(money=money, number=number, nl_date=nl_date, nl_datetime=nl_datetime)
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
