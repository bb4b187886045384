"""nl-NL formatting of money, numbers, dates and moments, for screens, PDFs, files and messages
alike (services import this module; the Jinja filters of :mod:`portal.web.templating` are these
functions)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from portal import clock

LOCALE = "nl_NL"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
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


def percent(fraction) -> str:
    """A fraction as a Dutch percentage to at most two decimals: 0.05 → "5%", 0.125 → "12,5%"."""
    value = Decimal(fraction) * 100
    if not value.is_finite():
        return format_decimal(value, format="#,##0.##", locale=LOCALE) + "%"
    whole, _point, hundredths = format(value.quantize(Decimal("0.01")), ",f").partition(".")
    hundredths = hundredths.rstrip("0")
    return whole.replace(",", ".") + ("," + hundredths if hundredths else "") + "%"


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


def neutralise(value: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would take for a formula (CSV injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def balance(value) -> str:
    """A balance in words, never a minus sign: "na te betalen € 1.234,56" (the provider receives),
    "terug te betalen € 2.051.897,25" (the provider pays back), or "€ 0,00"."""
    if value is None:
        return ""
    amount = Decimal(value)
    if amount > 0:
        return f"na te betalen {money(amount)}"
    if amount < 0:
        return f"terug te betalen {money(-amount)}"
    return money(Decimal("0.00"))
