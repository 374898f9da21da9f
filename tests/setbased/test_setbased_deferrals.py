"""Deferred statements (relief moved a due date, ``original_due_date`` kept) in the set-based day: they go to
tables and back exactly, and day by day they accrue revolving interest from the original due date, fall past
due only after the new one, and bill, age and roll exactly as the reference does."""

from __future__ import annotations

from datetime import date, timedelta

from setbased_helpers import assert_same_day

from overdue.domain import account as rules
from overdue.domain import relief
from overdue.domain.calendar import iter_days
from overdue.domain.relief_common import fingerprint
from overdue.domain.relief_terms import relief_terms
from overdue.domain.state import AccountState
from overdue.domain.terms import PRESETS
from overdue.setbased import states_from_tables, tables_from_states

HUABEI = PRESETS["huabei"]
RELIEF = relief_terms("huabei")
OPENED = date(2026, 1, 5)


def _defer(state: AccountState, on: date, days: int) -> AccountState:
    latest = state.latest_statement()
    assert latest is not None and latest.outstanding > 0
    return relief.defer(state, on, RELIEF, latest.id, days, fingerprint(state))[0]


def test_a_deferred_statement_round_trips() -> None:
    state = rules.open_account("D1", "huabei", HUABEI, OPENED, 500_000)
    for on in iter_days(OPENED, date(2026, 2, 3)):
        if on == date(2026, 1, 10):
            state = rules.purchase(state, on, 80_000).state
        state = rules.end_of_day(state, on).state
    state = _defer(state, date(2026, 2, 4), 10)
    assert any(s.original_due_date == date(2026, 2, 9) for s in state.statements)
    assert states_from_tables(tables_from_states([state], HUABEI), HUABEI) == [state]


def test_deferrals_day_by_day_equal_the_reference() -> None:
    """Four accounts defer their first statement by 3, 10 and 30 days (one does not), then pay it on the new
    due date, pay half, pay nothing or pay on time; every day the set-based day equals the reference."""
    plans = ((3, "all"), (10, "half"), (30, "none"), (None, "all"))
    states = [rules.open_account(f"D{n}", "huabei", HUABEI, OPENED, 1_000_000) for n in range(len(plans))]
    due = date(2026, 2, 9)
    new_due = {n: None if days is None else due + timedelta(days=days) for n, (days, _) in enumerate(plans)}
    seen_deferred_interest = False
    for on in iter_days(OPENED, date(2026, 4, 15)):
        for n, (days, habit) in enumerate(plans):
            state = states[n]
            if on == date(2026, 1, 10):
                state = rules.purchase(state, on, 120_000 + 9_999 * n).state
            if on == date(2026, 2, 5) and days is not None:
                state = _defer(state, on, days)
            if on == date(2026, 2, 20):
                state = rules.purchase(state, on, 33_333).state if state.status.value == "active" else state
            pay_on = new_due[n] or due
            latest = state.statements[0] if state.statements else None
            if on == pay_on and latest is not None and habit != "none":
                owed = latest.outstanding if habit == "all" else latest.outstanding // 2
                state = rules.repay(state, on, owed).state
            states[n] = state
        before = [sum(s.interest for s in x.statements) for x in states]
        states = assert_same_day(states, on)
        after = [sum(s.interest for s in x.statements) for x in states]
        seen_deferred_interest |= any(
            a > b and any(s.original_due_date is not None for s in x.statements)
            for a, b, x in zip(after, before, states, strict=True)
        )
    assert seen_deferred_interest  # revolving interest from the original due date was posted
    assert any(x.days_past_due > 0 for x in states)  # the one that paid nothing went past due later
