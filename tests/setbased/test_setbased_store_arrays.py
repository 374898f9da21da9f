"""What the bulk reader computes by array operations, against a plain reading of the same values one at a
time.

The bureau grids (``store_io.bureau_grids``) from the rows in order of account and month: the grid is the
run of statuses, the last month the run's last; an account without rows gets an empty grid and no month;
months with a gap or a status of more than one character are refused, naming the first such row's account.
The interest carries (``store_io.carry_units``): the scale the finest carry needs and each carry in units of
it, exactly; carries finer than ``MAX_CARRY_SCALE`` places refused."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overdue.setbased.convert import month_after
from overdue.setbased.params import MAX_CARRY, MAX_CARRY_SCALE, Unsupported, decimal_places, to_units
from overdue.setbased.store_io import BUREAU_ROWS, bureau_grids, carry_units

STATUSES = "N1234567CGB"


def read_one_by_one(rows: list[tuple[str, str, str]], ids: list[str]) -> tuple[list[str], list[str | None]]:
    """The grids and last months as a loop over the rows: the reading the arrays must give."""
    grids: dict[str, str] = {}
    last: dict[str, str] = {}
    for account_id, month, status in rows:
        before = last.get(account_id)
        if before is not None and month != month_after(before):
            raise Unsupported(f"account {account_id}: bureau months with gaps ({before}, {month})")
        if len(status) != 1:
            raise Unsupported(f"account {account_id}: bureau statuses longer than one character")
        grids[account_id] = grids.get(account_id, "") + status
        last[account_id] = month
    return [grids.get(a, "") for a in ids], [last.get(a) for a in ids]


def months_from(start: int, count: int, skip: int | None) -> list[str]:
    """``count`` months from month number ``start`` (year × 12 + month - 1), one skipped after ``skip``."""
    numbers = [start + n + (1 if skip is not None and n > skip else 0) for n in range(count)]
    return [f"{n // 12:04d}-{n % 12 + 1:02d}" for n in numbers]


@st.composite
def bureau_rows(draw: st.DrawFn) -> tuple[list[tuple[str, str, str]], list[str]]:
    accounts = draw(st.integers(0, 8))
    rows: list[tuple[str, str, str]] = []
    for n in range(accounts):
        count = draw(st.integers(1, 24))
        skip = draw(st.none() | st.integers(0, 30)) if draw(st.integers(0, 9)) == 0 else None
        start = draw(st.integers(2015 * 12, 2030 * 12))
        for month in months_from(start, count, skip):
            wide = draw(st.integers(0, 99)) == 0
            status = "NN" if wide else draw(st.sampled_from(STATUSES))
            rows.append((f"HB{n:04d}", month, status))
    ids = [f"HB{n:04d}" for n in range(accounts + draw(st.integers(0, 3)))]
    return rows, draw(st.permutations(ids))


def as_table(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.Table.from_pylist(
        [dict(zip(BUREAU_ROWS.names, r, strict=True)) for r in rows], schema=BUREAU_ROWS
    )


@settings(max_examples=300, deadline=None)
@given(bureau_rows())
def test_the_grids_are_the_rows_read_one_by_one(case: tuple[list[tuple[str, str, str]], list[str]]) -> None:
    rows, ids = case
    try:
        expected = read_one_by_one(rows, ids)
    except Unsupported as refusal:
        with pytest.raises(Unsupported) as got:
            bureau_grids(as_table(rows), pa.array(ids, pa.string()))
        assert str(got.value) == str(refusal)
        return
    grids, last = bureau_grids(as_table(rows), pa.array(ids, pa.string()))
    assert (grids.type, last.type) == (pa.string(), pa.string())
    assert (grids.to_pylist(), last.to_pylist()) == expected


def test_rows_sliced_out_of_a_larger_table() -> None:
    """Rows that start inside their arrays' buffers (a slice) give the same grids."""
    rows = [("A", "2025-11", "N"), ("A", "2025-12", "1"), ("B", "2026-01", "C"), ("B", "2026-02", "G")]
    table = as_table([("Z", "2020-01", "7"), *rows]).slice(1)
    grids, last = bureau_grids(table, pa.array(["B", "A", "C"], pa.string()))
    assert grids.to_pylist() == ["CG", "N1", ""]
    assert last.to_pylist() == ["2026-02", "2025-12", None]


@st.composite
def carries(draw: st.DrawFn) -> list[Decimal]:
    """Carries as the store keeps them (twelve places), within ±MAX_CARRY fen, of up to ten places."""
    places = draw(st.integers(0, 10))
    bound = MAX_CARRY * 10**places
    units = st.integers(-bound, bound)
    return [Decimal(n).scaleb(-places) for n in draw(st.lists(units, min_size=1, max_size=30))]


@settings(max_examples=300, deadline=None)
@given(carries(), st.integers(0, MAX_CARRY_SCALE))
def test_carry_units_are_each_carry_in_units_of_the_scale_it_needs(values: list[Decimal], least: int) -> None:
    column = pa.chunked_array([pa.array(values, pa.decimal128(30, 12))])
    scale = max([least, *(decimal_places(v) for v in values)])
    if scale > MAX_CARRY_SCALE:
        with pytest.raises(Unsupported, match="finer than"):
            carry_units(column, least)
        return
    got_scale, units = carry_units(column, least)
    assert got_scale == scale
    assert units.type == pa.int64()
    assert units.to_pylist() == [to_units(v, scale) for v in values]
