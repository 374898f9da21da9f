"""The tables as the engine holds them: integers in the hot path, strings and dates only at the edges.

The layout (:mod:`~overdue.setbased.layout`) is what callers see: dates as ``date32``, statuses and buckets
as their names. Inside the engine every date is an ``int32`` *day number* (days since 1970-01-01), a
status or a bucket a small integer, a bureau month an integer month number, and the strings that the day's
rules never read (account id, product, time zone) live in a table of their own that a day never touches:

- a day number makes DPD a subtraction, exact on every backend (date differences compile differently on
  DuckDB, PostgreSQL and Spark), and a comparison of dates a comparison of integers;
- a bucket's code is its number (``M0`` → 0, ``M3`` → 3, ``M7+`` → 7), so the bureau's status character
  is the code itself;
- the posting rows carry codes for their kind and ledger account, decoded when they are fetched.

:data:`ENGINE` gives the engine's schema of every table; :func:`encode` and :func:`decode` convert one
table between the layout and the engine with Arrow compute (vectorised, no Python per row).
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.domain.ledger import LedgerAccount, TransactionKind
from overdue.domain.relief_state import ACTIVE as ARRANGEMENT_ACTIVE
from overdue.domain.relief_state import ARRANGEMENT_KINDS
from overdue.domain.relief_state import BROKEN as ARRANGEMENT_BROKEN
from overdue.domain.relief_state import COMPLETED as ARRANGEMENT_COMPLETED
from overdue.domain.relief_state import LAPSED as ARRANGEMENT_LAPSED
from overdue.domain.relief_state import PENDING as ARRANGEMENT_PENDING
from overdue.domain.state import AccountStatus
from overdue.setbased import layout
from overdue.setbased.params import Unsupported

DAY = pa.int32()
"""A date as the engine holds it: days since 1970-01-01."""
CODE = pa.int16()
"""A status, bucket, posting kind or ledger account as the engine holds it."""
EPOCH = date(1970, 1, 1)

STATUSES = tuple(
    str(s)
    for s in (AccountStatus.ACTIVE, AccountStatus.FROZEN, AccountStatus.CLOSED, AccountStatus.WRITTEN_OFF)
)
"""Status names by code."""
ACTIVE, FROZEN, CLOSED, WRITTEN_OFF = range(4)
KINDS = tuple(
    str(k)
    for k in (
        TransactionKind.OVERDUE_INTEREST,
        TransactionKind.REVOLVING_INTEREST,
        TransactionKind.WRITE_OFF,
        TransactionKind.INSTALLMENT_FEE,
        TransactionKind.WAIVER,
    )
)
"""Posting kinds by code."""
OVERDUE_INTEREST, REVOLVING_INTEREST, WRITE_OFF, INSTALLMENT_FEE, WAIVER = range(5)
ARRANGEMENT_KIND_NAMES = ARRANGEMENT_KINDS
"""Relief arrangement kinds by code: ``plan`` 0, ``settlement`` 1."""
PLAN_KIND, SETTLEMENT_KIND = range(2)
ARRANGEMENT_STATUSES = (
    ARRANGEMENT_PENDING,
    ARRANGEMENT_ACTIVE,
    ARRANGEMENT_COMPLETED,
    ARRANGEMENT_BROKEN,
    ARRANGEMENT_LAPSED,
)
"""Relief arrangement statuses by code (a cancelled one is never an account's arrangement)."""
PENDING_ARRANGEMENT, ACTIVE_ARRANGEMENT, COMPLETED_ARRANGEMENT, BROKEN_ARRANGEMENT, LAPSED_ARRANGEMENT = (
    range(5)
)
LEDGER_ACCOUNTS = tuple(str(a) for a in LedgerAccount)
"""Ledger accounts by code (the enum's order)."""


def ledger_code(account: LedgerAccount | str) -> int:
    return LEDGER_ACCOUNTS.index(str(account))


def day_number(on: date) -> int:
    return (on - EPOCH).days


def day_of(number: int) -> date:
    """The date of a day number."""
    return EPOCH + timedelta(days=number)


def month_number(month: str) -> int:
    """``2026-03`` → 2026 × 12 + 2."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def numbers_within(keys: pa.Array | pa.ChunkedArray) -> pa.Array:
    """0, 1, 2 … along each run of equal ``keys`` (sorted, or at least grouped): a row's place within its
    account (``int64``)."""
    values = np.asarray(keys.to_numpy(zero_copy_only=False))
    if len(values) == 0:
        return pa.array([], pa.int64())
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    lengths = np.diff(np.r_[starts, len(values)])
    return pa.array(np.arange(len(values)) - np.repeat(starts, lengths), pa.int64())


def account_slices(rows: pa.Table, size: int) -> list[pa.Table]:
    """``rows`` (sorted by ``account_key``) cut into slices of about ``size`` rows (at least one; without
    copying), each ending where an account's rows end: every account's rows in one slice."""
    keys = np.asarray(rows["account_key"].to_numpy())
    n = len(keys)
    # After every ``size`` rows, the end of that row's account.
    ends = np.unique(np.searchsorted(keys, keys[size - 1 : n - 1 : size], side="right"))
    bounds = [0, *(int(end) for end in ends if end < n), n]
    return [rows.slice(start, end - start) for start, end in pairwise(bounds)]


def bucket_names(last_bucket: int) -> tuple[str, ...]:
    """Bucket names by code: ``M0`` … ``M{last-1}``, ``M{last}+``."""
    return (*(f"M{n}" for n in range(last_bucket)), f"M{last_bucket}+")


def _engine_type(name: str, kind: pa.DataType) -> pa.DataType:
    if kind == pa.date32():
        return DAY
    if name in ("status", "bucket", "kind", "ledger_account", "posting_order"):
        return CODE
    if name in ("days_past_due", "number"):
        return pa.int32()
    return kind


def _columns(schema: pa.Schema, names: tuple[str, ...]) -> pa.Schema:
    return pa.schema([schema.field(name) for name in names])


def _engine_schema(schema: pa.Schema, drop: tuple[str, ...] = (), **types: pa.DataType) -> pa.Schema:
    return pa.schema(
        [
            pa.field(f.name, types.get(f.name, _engine_type(f.name, f.type)))
            for f in schema
            if f.name not in drop
        ]
    )


ACCOUNT_FACTS = ("account_id", "product", "timezone", "credit_limit", "last_deferral_on", "language")
"""Account columns the day's rules never read: kept in ``facts``, which a day never touches."""
BUREAU_COLUMNS = ("bureau_grid", "bureau_last_month")
"""Account columns only a month end changes: kept in ``bureau``."""

ENGINE: dict[str, pa.Schema] = {
    "accounts": _engine_schema(layout.ACCOUNTS, drop=ACCOUNT_FACTS + BUREAU_COLUMNS),
    "facts": _engine_schema(_columns(layout.ACCOUNTS, ("account_key", *ACCOUNT_FACTS))),
    "bureau": _engine_schema(
        _columns(layout.ACCOUNTS, ("account_key", *BUREAU_COLUMNS)), bureau_last_month=pa.int32()
    ),
    "statements": _engine_schema(layout.STATEMENTS),
    "settled": _engine_schema(layout.STATEMENTS),
    "unbilled": _engine_schema(layout.UNBILLED),
    "plans": _engine_schema(layout.PLANS),
    "periods": _engine_schema(layout.PERIODS),
    "bucket_spells": _engine_schema(layout.SPELLS),
    "arrangements": _engine_schema(layout.ARRANGEMENTS),
    "arrangement_payments": _engine_schema(layout.ARRANGEMENT_PAYMENTS),
    "arrangement_set_asides": _engine_schema(layout.ARRANGEMENT_SET_ASIDES),
    "postings": _engine_schema(layout.POSTINGS),
    "bureau_months": _engine_schema(layout.BUREAU_MONTHS, month=pa.int32(), status=pa.string()),
}
"""The engine's schema of every table: the state tables (``accounts`` split into ``accounts``, ``facts``
and ``bureau``; ``statements`` into the statements with something unpaid and the ``settled`` ones, the
relief arrangements' ``kind`` and ``status`` as codes) and the day's outputs."""


def _codes(values: pa.ChunkedArray | pa.Array, names: tuple[str, ...], what: str) -> pa.Array:
    codes = pc.index_in(values, value_set=pa.array(names, pa.string()))
    unknown = pc.and_kleene(pc.is_valid(values), pc.is_null(codes))
    if pc.any(unknown).as_py():
        first = pc.filter(values, unknown)[0].as_py()
        raise Unsupported(f"{what} {first!r}: not one of {', '.join(names)}")
    return pc.cast(codes, CODE)


def _names(codes: pa.ChunkedArray | pa.Array, names: tuple[str, ...]) -> pa.Array:
    return pc.take(pa.array(names, pa.string()), pc.cast(codes, pa.int32()))


def _months(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    year = pc.cast(pc.utf8_slice_codeunits(values, 0, 4), pa.int32())
    month = pc.cast(pc.utf8_slice_codeunits(values, 5, 7), pa.int32())
    return pc.subtract(pc.add(pc.multiply(year, 12), month), 1)


def _month_names(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    year = pc.cast(pc.divide(values, 12), pa.string())
    month = pc.cast(pc.add(pc.subtract(values, pc.multiply(pc.divide(values, 12), 12)), 1), pa.string())
    return pc.binary_join_element_wise(year, pc.utf8_lpad(month, 2, "0"), "-")


def encode(table: pa.Table, name: str, last_bucket: int) -> pa.Table:
    """A layout table (or the layout's ``accounts`` for ``facts``, ``bureau``) in the engine's types."""
    target = ENGINE[name]
    columns = []
    for field in target:
        values = table[field.name]
        if name == "arrangements" and field.name == "status":
            values = _codes(values, ARRANGEMENT_STATUSES, "relief arrangement status")
        elif name == "arrangements" and field.name == "kind":
            values = _codes(values, ARRANGEMENT_KIND_NAMES, "relief arrangement kind")
        elif field.name == "status":
            values = _codes(values, STATUSES, "status")
        elif field.name == "bucket":
            values = _codes(values, bucket_names(last_bucket), "bucket")
        elif field.name == "bureau_last_month":
            values = _months(values)
        columns.append(pc.cast(values, field.type))
    return pa.table(columns, schema=target)


def decode(table: pa.Table, schema: pa.Schema, last_bucket: int) -> pa.Table:
    """An engine table back in the layout's ``schema`` (the columns of ``schema`` only)."""
    arrangements = schema.equals(layout.ARRANGEMENTS)
    columns = []
    for field in schema:
        values = table[field.name]
        if arrangements and field.name == "status":
            values = _names(values, ARRANGEMENT_STATUSES)
        elif arrangements and field.name == "kind":
            values = _names(values, ARRANGEMENT_KIND_NAMES)
        elif field.name == "status" and pa.types.is_integer(values.type):
            values = _names(values, STATUSES)
        elif field.name == "bucket":
            values = _names(values, bucket_names(last_bucket))
        elif field.name == "kind":
            values = _names(values, KINDS)
        elif field.name == "ledger_account":
            values = _names(values, LEDGER_ACCOUNTS)
        elif field.name in ("bureau_last_month", "month"):
            values = _month_names(values)
        columns.append(pc.cast(values, field.type))
    return pa.table(columns, schema=schema)
