"""A line the limit review closed while something is still owed, day by day, set-based against the reference.

The domain keeps such a line running — interest accrues, it ages, it is billed and written off at 180 DPD,
the bureau is told its delinquency (``C`` only once nothing is owed) — and never freezes or unfreezes it
again. Three lines closed at DPD 112 (never repaid, partly repaid, repaid in full) are run through month
ends, statement days and the write-off, one set-based day at a time, and must equal the reference.
"""

from __future__ import annotations

from datetime import date

import ibis
from setbased_helpers import HUABEI, assert_same_day, pay_by_habit

from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.domain.state import AccountState, AccountStatus
from overdue.risk.changes import apply_change

CON = ibis.duckdb.connect()


def closed_at_dpd_112(account_id: str) -> AccountState:
    """1,000.00 bought on 10 January, never repaid; closed after the end-of-day of 1 June (DPD 112)."""
    state = rules.open_account(account_id, "huabei", HUABEI, date(2026, 1, 5), 500_000)
    for day in iter_days(date(2026, 1, 5), date(2026, 6, 1)):
        if day == date(2026, 1, 10):
            state = rules.purchase(state, day, 100_000).state
        state = rules.end_of_day(state, day).state
    assert (state.status, state.days_past_due) == (AccountStatus.FROZEN, 112)
    return apply_change(state, "close", state.credit_limit)


def test_closed_lines_with_debt_run_set_based_as_the_reference() -> None:
    never = closed_at_dpd_112("C1")
    partly = closed_at_dpd_112("C2")
    partly = rules.repay(partly, date(2026, 6, 2), partly.outstanding - 10_000).state
    repaid = closed_at_dpd_112("C3")
    repaid = rules.repay(repaid, date(2026, 6, 2), repaid.outstanding).state
    states = [never, partly, repaid]
    assert partly.outstanding == 10_000 and repaid.closed_with_nothing_owed
    for on in iter_days(date(2026, 6, 2), date(2026, 8, 10)):
        states = assert_same_day(states, on, HUABEI, CON)
    never, partly, repaid = states
    assert never.status is AccountStatus.WRITTEN_OFF and never.written_off_on == date(2026, 8, 8)
    latest = partly.latest_statement()
    assert partly.status is AccountStatus.CLOSED and latest is not None
    assert latest.statement_date == date(2026, 7, 1)  # billed after the close, and overdue since
    assert [m.status for m in partly.bureau[-2:]] == ["N", "1"]
    assert repaid.bureau[-1].status == "C" and repaid.outstanding == 0


def test_a_closed_line_owing_only_what_is_not_billed_yet_bills_it() -> None:
    """A line closed with nothing unpaid on its statements but a purchase waiting for the next statement
    and installment periods not billed yet still owes: it reports ``N``, not ``C``, at the month end, and
    each statement day bills what falls due (the closed lines' unbilled cycles and periods are read on
    statement days and month ends alone)."""
    state = rules.open_account("C4", "huabei", HUABEI, date(2026, 1, 5), 500_000)
    for day in iter_days(date(2026, 1, 5), date(2026, 2, 24)):
        if day == date(2026, 1, 10):
            state = rules.purchase(state, day, 120_000, periods=12).state
        if day == date(2026, 2, 20):
            state = rules.purchase(state, day, 30_000).state
        state = rules.end_of_day(pay_by_habit(state, day, "statement"), day).state
    state = apply_change(state, "close", state.credit_limit)
    assert state.status is AccountStatus.CLOSED and not any(s.outstanding for s in state.statements)
    assert state.unbilled and any(not p.billed for plan in state.plans for p in plan.periods)
    states = [state]
    for on in iter_days(date(2026, 2, 25), date(2026, 4, 2)):
        states = assert_same_day([pay_by_habit(s, on, "statement") for s in states], on, HUABEI, CON)
    (closed,) = states
    assert closed.status is AccountStatus.CLOSED
    assert [m.status for m in closed.bureau[-2:]] == ["N", "N"]  # February and March: something owed
    latest = closed.latest_statement()
    assert latest is not None and latest.statement_date == date(2026, 4, 1)
    assert latest.installment_principal == 10_000 and latest.new_principal == 0
    march = next(s for s in closed.statements if s.statement_date == date(2026, 3, 1))
    # the purchase waiting (10 % of it in the minimum), a period and its fee; paid in full on 9 March
    assert (march.amount, march.minimum, march.paid) == (40_880, 13_880, 40_880)
