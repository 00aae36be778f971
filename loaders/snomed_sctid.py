"""SNOMED CT identifiers (SCTIDs): format and Verhoeff check digit, checked on whole columns at once.

An SCTID is 6 to 18 digits without a leading zero; its last digit is a Verhoeff dihedral check digit over the
others. ``invalid_sctids`` checks a whole polars column with vectorised table look-ups.
"""

from __future__ import annotations

import polars as pl

_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
"""Multiplication table of the dihedral group D5."""


def _permutations() -> tuple[tuple[int, ...], ...]:
    """The 8 position permutations: powers of (1 5 7 6 2 8 3 0 9 4)."""
    first = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
    rows = [tuple(range(10))]
    for _ in range(7):
        rows.append(tuple(first[x] for x in rows[-1]))
    return tuple(rows)


_P = _permutations()
_D_FLAT = pl.Series([v for row in _D for v in row], dtype=pl.UInt8)
_P_FLAT = pl.Series([v for row in _P for v in row], dtype=pl.UInt8)
SCTID_PATTERN = r"^[1-9][0-9]{5,17}$"
WIDTH = 18


def verhoeff_ok(sctid: str) -> bool:
    """True when the last digit of ``sctid`` is the Verhoeff check digit of the others."""
    check = 0
    for position, digit in enumerate(reversed(sctid)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


def invalid_sctids(values: pl.Series) -> pl.Series:
    """Boolean mask: values that are not well-formed SCTIDs (format or check digit). Nulls are not flagged."""
    text = values.cast(pl.String)
    well_formed = text.str.contains(SCTID_PATTERN).fill_null(True)
    numbers = text.cast(pl.UInt64, strict=False).fill_null(0)
    lengths = text.str.len_bytes().fill_null(0)
    check = pl.zeros(len(text), dtype=pl.UInt32, eager=True)
    for position in range(WIDTH):
        digit = ((numbers // 10**position) % 10).cast(pl.UInt32)
        step = _D_FLAT.gather(check * 10 + _P_FLAT.gather(digit + 10 * (position % 8)).cast(pl.UInt32))
        check = pl.select(pl.when(lengths > position).then(step).otherwise(check)).to_series().cast(pl.UInt32)
    return (~well_formed | ((check != 0) & text.is_not_null() & well_formed)).alias(values.name)


_INVERSE = pl.Series([0, 4, 3, 2, 1, 5, 6, 7, 8, 9], dtype=pl.UInt32)


def with_check_digits(payloads: pl.Series) -> pl.Series:
    """SCTIDs made of each payload (item identifier + partition, as digits) and its Verhoeff check digit."""
    text = payloads.cast(pl.String)
    numbers = text.cast(pl.UInt64)
    lengths = text.str.len_bytes()
    check = pl.zeros(len(text), dtype=pl.UInt32, eager=True)
    for position in range(WIDTH - 1):
        digit = ((numbers // 10**position) % 10).cast(pl.UInt32)
        step = _D_FLAT.gather(check * 10 + _P_FLAT.gather(digit + 10 * ((position + 1) % 8)).cast(pl.UInt32))
        check = pl.select(pl.when(lengths > position).then(step).otherwise(check)).to_series().cast(pl.UInt32)
    return text + _INVERSE.gather(check).cast(pl.String)
