"""Column types: exact decimals on every database."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.types import TypeDecorator


class ExactDecimal(TypeDecorator):
    """A ``Decimal`` stored exactly: NUMERIC(precision, scale) on PostgreSQL, and text on SQLite,
    which would otherwise pass numbers through binary floating point. Values are quantized to the
    column's scale on the way in; a value that needs rounding to fit is refused, never rounded
    silently (money is rounded by the rules in :mod:`portal.money`, not by the database)."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int):
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        quantized = value.quantize(Decimal(1).scaleb(-self.scale))
        if quantized != value:
            raise ValueError(f"{value} has more than {self.scale} decimals")
        if len(quantized.as_tuple().digits) > self.precision:
            raise ValueError(f"{value} has more than {self.precision} digits")
        return str(quantized) if dialect.name == "sqlite" else quantized

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)

    @property
    def python_type(self):
        return Decimal
