"""Differential tests: one set-based day over a portfolio's tables equals the reference runner's day.

Hypothesis draws small portfolios — accounts opened on different days with purchases, repayments, bill
installments and due-date habits — and advances them day by day with the reference rules. On drawn days (a
statement day, a month end, a due date, any day) and on the day an account reaches its write-off, the state
is converted to tables, that one day runs set-based, and every field of every account, every posting (as
multisets), the bucket spells and the bureau months must equal the reference's: on DuckDB on fifteen
portfolios, on PostgreSQL and Spark on four each.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import ibis
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend
from setbased_helpers import (
    HABITS,
    HUABEI,
    KINDS,
    SHARE_SCALE,
    SPARK_MARKS,
    Borrower,
    Event,
    assert_same_day,
    before_end_of_day,
    open_portfolio,
)

from overdue.domain import account as rules
from overdue.domain.calendar import add_months, is_month_end, iter_days
from overdue.domain.state import AccountState, AccountStatus

CON = ibis.duckdb.connect()
"""One in-process DuckDB for the whole module: connecting is cheap, but not free."""

events = st.builds(
    Event,
    day=st.one_of(st.integers(0, 70), st.integers(0, 300)),
    kind=st.sampled_from(KINDS),
    share=st.one_of(st.integers(1, SHARE_SCALE), st.sampled_from([1, SHARE_SCALE // 10, SHARE_SCALE])),
    periods=st.sampled_from([3, 6, 9, 12]),
)
borrowers = st.builds(
    Borrower,
    opened=st.integers(0, 40),
    limit=st.one_of(st.sampled_from([50_000, 500_000, 5_000_000]), st.integers(50_000, 5_000_000)),
    habit=st.sampled_from(HABITS),
    events=st.lists(events, min_size=2, max_size=25).map(tuple),
)
CHECKS = ("statement_day", "month_end", "due_date", "day_after_due", "any_day")


def check_day(start: date, kind: str, month: int, offset: int) -> date:
    """A day of the given kind in the ``month``-th month after ``start``."""
    first = add_months(date(start.year, start.month, 1), month)
    if kind == "statement_day":
        return first
    if kind == "month_end":
        return add_months(first, 1) - timedelta(days=1)
    if kind == "due_date":
        return first.replace(day=HUABEI.due_day)
    if kind == "day_after_due":
        return first.replace(day=HUABEI.due_day + 1)
    return first + timedelta(days=offset % 28)


portfolios = st.lists(borrowers, min_size=1, max_size=5)
check_days = st.lists(
    st.tuples(st.sampled_from(CHECKS), st.integers(0, 9), st.integers(0, 27)), min_size=1, max_size=2
)
starts = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


def run_and_check(
    start: date, portfolio: list[Borrower], checks: list[tuple[str, int, int]], con: BaseBackend
) -> None:
    """Advance the portfolio with the reference rules and compare one set-based day on ``con`` with it on
    each drawn day and on the first day an account reaches its write-off."""
    states = open_portfolio(start, portfolio)
    days = {check_day(start, *check) for check in checks}
    last = max(days)
    write_off_checked = False
    for on in iter_days(start, last):
        before_end_of_day(states, portfolio, start, on)
        writes_off = any(
            s.status is not AccountStatus.WRITTEN_OFF and s.days_past_due == HUABEI.write_off_at_dpd - 1
            for s in states
        )
        if on in days or (writes_off and not write_off_checked):
            write_off_checked = write_off_checked or writes_off
            states = assert_same_day(states, on, con=con)
            event(
                f"checked a {'statement day' if on.day == 1 else 'month end' if is_month_end(on) else 'day'}"
            )
        else:
            states = [rules.end_of_day(s, on).state for s in states]
    event(f"statuses: {sorted({str(s.status) for s in states})}")
    event(f"write-off day checked: {write_off_checked}")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=starts, portfolio=portfolios, checks=check_days)
def test_one_set_based_day_equals_the_reference(
    start: date, portfolio: list[Borrower], checks: list[tuple[str, int, int]]
) -> None:
    run_and_check(start, portfolio, checks, CON)


@pytest.mark.parametrize(
    "engine",
    [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("spark", marks=SPARK_MARKS)],
)
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(start=starts, portfolio=portfolios, checks=check_days)
def test_postgres_and_spark_equal_the_reference_too(
    request: pytest.FixtureRequest,
    engine: str,
    start: date,
    portfolio: list[Borrower],
    checks: list[tuple[str, int, int]],
) -> None:
    """The same differential check on the other backends, on fewer portfolios (a day there costs more)."""
    run_and_check(start, portfolio, checks, request.getfixturevalue(engine))


def _carrying_below_half_a_fen() -> list[AccountState]:
    """One account owing 1.00 past its due date (0.05 fen of overdue interest a day) whose statement
    carries -0.6 fen: the sum of earlier statements' carries, which can be below -0.5 fen."""
    state = rules.open_account("A1", "huabei", HUABEI, date(2026, 1, 5), 500_000)
    for day in iter_days(date(2026, 1, 5), date(2026, 1, 9)):
        state = rules.end_of_day(state, day).state
    state = rules.purchase(state, date(2026, 1, 10), 100).state
    for day in iter_days(date(2026, 1, 10), date(2026, 2, 9)):
        state = rules.end_of_day(state, day).state
    (statement,) = state.statements
    return [
        dataclasses.replace(
            state, statements=(dataclasses.replace(statement, interest_carry=Decimal("-0.6")),)
        )
    ]


def test_a_carry_below_minus_half_a_fen_is_kept_as_the_reference_keeps_it() -> None:
    states = _carrying_below_half_a_fen()
    for day in iter_days(date(2026, 2, 10), date(2026, 3, 5)):
        states = assert_same_day(states, day, con=CON)
    assert states[0].statements[0].interest_carry == Decimal("-0.6") + Decimal("0.05") * 24 - 1


@pytest.mark.parametrize(
    "engine",
    [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("spark", marks=SPARK_MARKS)],
)
def test_a_carry_below_minus_half_a_fen_on_postgres_and_spark(
    request: pytest.FixtureRequest, engine: str
) -> None:
    states = _carrying_below_half_a_fen()
    for day in iter_days(date(2026, 2, 10), date(2026, 2, 11)):
        states = assert_same_day(states, day, con=request.getfixturevalue(engine))
    assert states[0].statements[0].interest_carry == Decimal("-0.5")
