"""The set-based layout keys an installment plan by the statement it was made from: a purchase plan (made from
none) is refused, whole, before any table is built; bill installments still go to tables and back exactly."""

from __future__ import annotations

from datetime import date

import pytest

from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.domain.state import AccountState
from overdue.domain.terms import PRESETS
from overdue.setbased import Unsupported, states_from_tables, tables_from_states

HUABEI = PRESETS["huabei"]
OPENED = date(2026, 1, 5)


def _run(state: AccountState, first: date, last: date) -> AccountState:
    for day in iter_days(first, last):
        state = rules.end_of_day(state, day).state
    return state


def test_an_account_with_a_purchase_plan_is_refused() -> None:
    state = _run(rules.open_account("A1", "huabei", HUABEI, OPENED, 500_000), OPENED, date(2026, 1, 9))
    plain = rules.purchase(state, date(2026, 1, 10), 50_000).state
    assert states_from_tables(tables_from_states([plain], HUABEI), HUABEI) == [plain]
    in_installments = rules.purchase(plain, date(2026, 1, 10), 30_000, periods=3).state
    with pytest.raises(Unsupported, match="purchase installment plans"):
        tables_from_states([plain, in_installments], HUABEI)


def test_bill_installments_still_round_trip() -> None:
    state = _run(rules.open_account("A1", "huabei", HUABEI, OPENED, 500_000), OPENED, date(2026, 1, 9))
    state = _run(rules.purchase(state, date(2026, 1, 10), 50_000).state, date(2026, 1, 10), date(2026, 2, 1))
    latest = state.latest_statement()
    assert latest is not None
    state = rules.request_installments(state, date(2026, 2, 2), latest.id, 6).state
    assert states_from_tables(tables_from_states([state], HUABEI), HUABEI) == [state]
