"""A line the limit review closed while something is still owed, day by day, set-based against the reference.

The domain keeps such a line running — interest accrues, it ages, it is billed and written off at 180 DPD,
the bureau is told its delinquency (``C`` only once nothing is owed) — and never freezes or unfreezes it
again. Three lines closed at DPD 112 (never repaid, partly repaid, repaid in full) are run through month
ends, statement days and the write-off, one set-based day at a time, and must equal the reference.
"""

from __future__ import annotations

from datetime import date

import ibis
from setbased_helpers import HUABEI, assert_same_day

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
