"""The binary COPY fields of realisation lines (portal/realisation/copy_binary.py): a numeric is
encoded as PostgreSQL reads it (checked here against a decoder written from the format's
description, and on PostgreSQL by every import test, whose stored values are compared with what
was checked), and a row carries its twelve fields."""
from __future__ import annotations

import struct
from decimal import Decimal

import pytest

from portal.realisation.copy_binary import HEADER, NULL, TRAILER, LineFields, numeric


def _decode(data: bytes) -> Decimal:
    """PostgreSQL's numeric_recv, in short: ndigits, weight, sign, dscale, then base-10000 digits."""
    ndigits, weight, sign, scale = struct.unpack(">hhHH", data[:8])
    digits = struct.unpack(f">{ndigits}H", data[8:])
    assert len(data) == 8 + 2 * ndigits and all(0 <= digit < 10000 for digit in digits)
    assert not digits or (digits[0] != 0 and digits[-1] != 0)  # no leading or trailing zero groups
    value = sum((Decimal(digit) * Decimal(10000) ** (weight - index) for index, digit in enumerate(digits)), Decimal(0))
    value = -value if sign == 0x4000 else value
    assert sign in (0, 0x4000)
    return value.quantize(Decimal(1).scaleb(-scale))


VALUES = ["0", "0.00", "1", "5", "12.50", "-12.50", "0.01", "0.10", "9999", "10000", "10000.01", "123456789.12",
          "0.0001", "0.00001", "1E+5", "1.5E+3", "-0.05", "999999999999.99", "20000000", "7.3", "100.000"]


@pytest.mark.parametrize("text", VALUES)
def test_a_numeric_decodes_to_the_same_value_and_scale(text):
    value = Decimal(text)
    decoded = _decode(numeric(value))
    assert decoded == value
    assert decoded.as_tuple().exponent == min(0, value.as_tuple().exponent)  # the display scale kept


def test_every_cent_amount_up_to_a_million_round_trips():
    for cents in range(0, 100_000_000, 9_973):
        value = Decimal(cents).scaleb(-2)
        assert _decode(numeric(value)) == value


def test_a_row_has_twelve_fields_in_order_and_null_for_none():
    fields = LineFields()
    data = fields.rows(2, [7, 7], ["S4-BEG-6", "Café"], [1, 0], [3, 2], [0, 1], [2, 2], [None, Decimal("12")],
                       [None, 40], [Decimal("12.50"), Decimal("1.05")], [Decimal("12.50"), Decimal("42.00")],
                       ["null", '{"uitgestroomd": "1"}'], [2, 3])
    rows, offset = [], 0
    for _ in range(2):
        (count,) = struct.unpack_from(">h", data, offset)
        offset += 2
        assert count == 12
        row = []
        for _field in range(count):
            (length,) = struct.unpack_from(">i", data, offset)
            offset += 4
            row.append(None if length == -1 else data[offset:offset + length])
            offset += max(length, 0)
        rows.append(row)
    assert offset == len(data)
    first, second = rows
    assert struct.unpack(">i", first[0])[0] == 7 and first[1] == b"S4-BEG-6" and second[1] == "Café".encode()
    assert [struct.unpack(">i", first[i])[0] for i in (2, 3, 4, 5)] == [1, 3, 0, 2]
    assert first[6] is None and first[7] is None and _decode(second[6]) == 12 and struct.unpack(">i", second[7])[0] == 40
    assert _decode(first[8]) == Decimal("12.50") and _decode(second[9]) == Decimal("42.00")
    assert first[10] == b"null" and second[10] == b'{"uitgestroomd": "1"}'
    assert struct.unpack(">i", second[11])[0] == 3
    assert NULL == struct.pack(">i", -1) and HEADER.startswith(b"PGCOPY\n\xff\r\n\x00") and TRAILER == b"\xff\xff"
