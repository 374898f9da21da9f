"""A line closed for severe delinquency stays closed: the pure rules (no purchase, no unfreeze, still repaid,
accrued, aged and written off; ``C`` to the bureau only once nothing is owed), the set-based runner's day
of one, and the bureau file of the worked example ``limit-close-stays-closed.yaml`` on both databases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.domain.delinquency import bureau_status
from overdue.domain.errors import LineNotUsable, ReliefRefused
from overdue.domain.relief_common import check_open_account
from overdue.domain.state import AccountState, AccountStatus
from overdue.domain.terms import product_terms
from overdue.engine.reference import run_eod
from overdue.risk.changes import apply_change
from overdue.services import bureau
from overdue.services import scenario as scenarios
from overdue.setbased import run_day, states_from_tables, tables_from_states

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
LIMIT = 500_000


def run_days(state: AccountState, first: date, last: date) -> AccountState:
    for day in iter_days(first, last):
        state = rules.end_of_day(state, day).state
    return state


def closed_at_dpd_112() -> AccountState:
    """1,000.00 bought on 10 January, never repaid; closed after the end-of-day of 1 June (DPD 112)."""
    terms = product_terms("huabei")
    state = rules.open_account("A1", "huabei", terms, date(2026, 1, 5), LIMIT)
    state = run_days(state, date(2026, 1, 5), date(2026, 1, 9))
    state = rules.purchase(state, date(2026, 1, 10), 100_000).state
    state = run_days(state, date(2026, 1, 10), date(2026, 6, 1))
    assert (state.status, state.days_past_due) == (AccountStatus.FROZEN, 112)
    return apply_change(state, "close", LIMIT)


def test_a_closed_line_with_debt_is_repaid_accrues_and_ages_but_never_unfreezes() -> None:
    state = closed_at_dpd_112()
    assert state.status is AccountStatus.CLOSED and not state.closed_with_nothing_owed
    with pytest.raises(LineNotUsable, match="closed"):
        rules.purchase(state, date(2026, 6, 2), 1_000)
    check_open_account(state, "settlement", written_off_allowed=True)  # relief is still open to it
    state = run_days(state, date(2026, 6, 2), date(2026, 6, 30))
    assert (state.days_past_due, state.bucket, state.interest) == (141, "M5", 7_050)  # interest goes on
    assert bureau_status(state) == "5" and state.bureau[-1].status == "5"  # its delinquency, while owed

    repaid = rules.repay(state, date(2026, 7, 1), state.outstanding).state
    assert (repaid.status, repaid.days_past_due, repaid.outstanding) == (AccountStatus.CLOSED, 0, 0)
    assert repaid.closed_with_nothing_owed and bureau_status(repaid) == "C"
    with pytest.raises(LineNotUsable, match="closed"):
        rules.repay(repaid, date(2026, 7, 1), 100)
    with pytest.raises(ReliefRefused, match="closed"):
        check_open_account(repaid, "settlement", written_off_allowed=True)
    rested = run_days(repaid, date(2026, 7, 1), date(2026, 7, 31))
    assert rested.status is AccountStatus.CLOSED and rested.bureau_grid() == "N12345C"
    assert rested.outstanding == 0 and rested.last_eod == date(2026, 7, 31)


def test_a_partly_repaid_closed_line_reports_n_and_is_billed_while_owed() -> None:
    state = closed_at_dpd_112()
    # Beyond 90 DPD a repayment pays principal first: 956.00 of 1,056.00 covers the minimum and its late
    # charges, so nothing is overdue, yet 100.00 is still owed (44.00 principal, 56.00 interest).
    state = rules.repay(state, date(2026, 6, 2), state.outstanding - 10_000).state
    assert (state.status, state.days_past_due, state.outstanding) == (AccountStatus.CLOSED, 0, 10_000)
    state = run_days(state, date(2026, 6, 2), date(2026, 7, 1))
    assert state.bureau[-1].month == "2026-06" and state.bureau[-1].status == "N"  # current, not closed yet
    latest = state.latest_statement()
    assert latest is not None and latest.statement_date == date(2026, 7, 1)  # the rest is billed
    assert latest.amount >= 10_000 and state.status is AccountStatus.CLOSED


def test_a_closed_line_is_still_written_off_at_180() -> None:
    state = run_days(closed_at_dpd_112(), date(2026, 6, 2), date(2026, 8, 8))
    assert (state.status, state.days_past_due, state.written_off_on) == (
        AccountStatus.WRITTEN_OFF,
        180,
        date(2026, 8, 8),
    )
    assert bureau_status(state) == "B"


def test_the_set_based_runner_runs_a_closed_line_with_debt_as_the_domain() -> None:
    state = closed_at_dpd_112()
    on = date(2026, 6, 2)
    result = run_day(tables_from_states([state], state.terms), on, state.terms)
    assert states_from_tables(result.tables, state.terms) == [rules.end_of_day(state, on).state]


def test_the_bureau_file_of_a_closed_line(engine: Engine) -> None:
    result = scenarios.run(scenarios.parse(SCENARIOS / "limit-close-stays-closed.yaml"), engine)
    assert not result.unexpected_errors and not result.mismatches
    run_eod(engine, date(2026, 8, 31))
    june, july, august = (bureau.bureau_file(engine, m).records for m in ("2026-06", "2026-07", "2026-08"))
    assert [(r.status, r.balance, r.overdue_amount, r.days_past_due, r.status_grid) for r in june] == [
        ("5", "1070.50", "1070.50", 141, "N12345")
    ]
    assert [(r.status, r.balance, r.overdue_amount, r.days_past_due, r.status_grid) for r in july] == [
        ("C", "0.00", "0.00", 0, "N12345C")
    ]
    assert [r.credit_limit for r in july] == ["5000.00"]
    assert august == ()  # closed before August began: reported closed once
