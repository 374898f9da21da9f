"""Purchase installments (消费分期) in the set-based day: a plan made from no statement keeps its id and its
place among the account's plans (``plan_number``), goes to tables and back exactly, and its periods are
billed, paid, prepaid and left unpaid over the months exactly as the reference bills them."""

from __future__ import annotations

from datetime import date

from setbased_helpers import assert_same_day

from overdue.domain import account as rules
from overdue.domain import allocation
from overdue.domain.calendar import iter_days
from overdue.domain.state import AccountState, PlanOrigin
from overdue.domain.terms import PRESETS
from overdue.setbased import states_from_tables, tables_from_states

HUABEI = PRESETS["huabei"]
OPENED = date(2026, 1, 5)


def _run(state: AccountState, first: date, last: date) -> AccountState:
    for day in iter_days(first, last):
        state = rules.end_of_day(state, day).state
    return state


def test_purchase_and_bill_plans_round_trip_with_their_ids_and_order() -> None:
    state = _run(rules.open_account("A1", "huabei", HUABEI, OPENED, 500_000), OPENED, date(2026, 1, 9))
    state = rules.purchase(state, date(2026, 1, 10), 50_000).state
    state = rules.purchase(state, date(2026, 1, 10), 30_000, periods=3).state
    state = rules.purchase(state, date(2026, 1, 10), 40_000, periods=6).state
    state = _run(state, date(2026, 1, 10), date(2026, 2, 1))
    latest = state.latest_statement()
    assert latest is not None
    state = rules.request_installments(state, date(2026, 2, 2), latest.id, 6).state
    state = rules.purchase(state, date(2026, 2, 2), 20_000, periods=12).state
    assert [p.origin for p in state.plans] == [
        PlanOrigin.PURCHASE,
        PlanOrigin.PURCHASE,
        PlanOrigin.STATEMENT,
        PlanOrigin.PURCHASE,
    ]
    tables = tables_from_states([state], HUABEI)
    assert tables.plans["plan_number"].to_pylist() == [0, 1, 2, 3]
    assert tables.plans["statement_date"].to_pylist()[:2] == [None, None]
    assert states_from_tables(tables, HUABEI) == [state]


def _habit(state: AccountState, on: date, habit: str) -> AccountState:
    """On a due date: pay everything, the minimum, a third, or more than is billed (prepaying plans)."""
    if not any(s.due_date == on and s.outstanding > 0 for s in state.statements) or habit == "none":
        return state
    billed = sum(s.outstanding for s in state.statements)
    amount = {
        "all": billed,
        "minimum": sum(s.minimum_remaining for s in state.statements),
        "third": max(1, billed // 3),
        "prepay": billed + 15_000,
    }[habit]
    amount = min(amount, allocation.repayable(state))
    return rules.repay(state, on, amount).state if amount > 0 else state


def test_purchase_plans_day_by_day_equal_the_reference() -> None:
    """Five accounts with purchase plans (and one bill plan), paying by different habits, run day by day for
    four months; every day the set-based day over their tables equals the reference field by field."""
    habits = ("all", "minimum", "third", "prepay", "none")
    states = [rules.open_account(f"P{n}", "huabei", HUABEI, OPENED, 1_000_000) for n in range(len(habits))]
    seen_billed = seen_delinquent = False
    for on in iter_days(OPENED, date(2026, 5, 12)):
        for n, state in enumerate(states):
            if on == date(2026, 1, 12):
                state = rules.purchase(state, on, 36_000 + 7_001 * n, periods=(3, 6, 9, 12, 6)[n]).state
                state = rules.purchase(state, on, 12_345).state
            if on == date(2026, 2, 20) and habits[n] in ("all", "prepay"):
                state = rules.purchase(state, on, 60_000, periods=3).state
            if on == date(2026, 2, 3) and n == 3:
                latest = state.latest_statement()
                assert latest is not None
                state = rules.request_installments(state, on, latest.id, 3).state
            states[n] = _habit(state, on, habits[n])
        states = assert_same_day(states, on)
        seen_billed |= any(p.billed for s in states for plan in s.plans for p in plan.periods)
        seen_delinquent |= any(s.days_past_due > 0 for s in states)
    assert seen_billed and seen_delinquent
    assert any(plan.origin is PlanOrigin.PURCHASE and plan.is_finished for s in states for plan in s.plans)
