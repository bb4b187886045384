"""Column types: exact decimals on every database, and money columns as whole cents in SQL (so
totals can be summed by the database without passing through floating point)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Numeric, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
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


class cents(FunctionElement):
    """A money column (:class:`ExactDecimal`, scale 2) as a whole number of cents, per row: sum it
    with ``func.sum`` and turn the sum back with :func:`from_cents`. PostgreSQL multiplies the
    numeric exactly. SQLite keeps the amount as text and its SUM of text would be a float sum, so the
    text goes through REAL once per row and is rounded to the integer it stands for: exact while
    ``|amount| × 100 < 2**53``, far beyond NUMERIC(14, 2)."""

    type = BigInteger()
    inherit_cache = True
    name = "cents"


@compiles(cents)
def _cents_default(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)}) * 100 AS BIGINT)"


@compiles(cents, "sqlite")
def _cents_sqlite(element, compiler, **kw):
    return f"CAST(ROUND(CAST(({compiler.process(element.clauses, **kw)}) AS REAL) * 100) AS INTEGER)"


def from_cents(value) -> Decimal:
    """A sum of :class:`cents` (None for no rows: zero) as an amount with two decimals."""
    return Decimal(int(value or 0)).scaleb(-2)
