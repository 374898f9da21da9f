"""Relief arrangements (negotiated plans and settlements) in the set-based day: one that is not active
(pending approval, completed, broken, lapsed) goes to tables and back exactly, is carried unchanged day after
day while the set-based day equals the reference's, and gives the strategy's ``plan`` fact (``broken`` after
a broken plan) as the reference does; an active one goes to tables and back too."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import ibis
from ibis.backends import BaseBackend
from setbased_collect_helpers import assert_same_plans
from setbased_helpers import HUABEI, assert_same_day
from setbased_relief_helpers import agree, pay

from overdue.compliance import NoRulebook
from overdue.domain import account as rules
from overdue.domain import relief_arrangements
from overdue.domain.calendar import iter_days
from overdue.domain.state import AccountState
from overdue.setbased import Portfolio, states_from_tables, tables_from_states
from overdue.setbased.snapshots import ARRANGEMENT_TABLES, MANIFEST, read_state, state_partition, write_state
from overdue.strategy import parse_strategy

OPENED = date(2026, 1, 5)
AGREED = date(2026, 3, 20)
KINDS = (
    "none",
    "plan_broken",
    "plan_completed",
    "settlement_lapsed",
    "settlement_paid",
    "pending",
    "down_missed",
)
"""What each account of the portfolio does with relief, in turn."""
PLAN_SEGMENT = """
strategy: plans
description: a segment for broken plans
templates:
  note: {zh-CN: "{amount}", en: "{amount}"}
stages:
  - name: broken_plan
    when: {days_past_due: {min: 1}, plan: broken}
    treatments:
      - {id: broken_sms, type: sms, template: note, priority: 5}
  - name: late
    when: {days_past_due: {min: 1}, plan: {in: [none, active]}}
    treatments:
      - {id: late_sms, type: sms, template: note, priority: 5, when: {plan: none}}
      - {id: kept_sms, type: sms, template: note, priority: 6, when: {plan: active}}
"""


def _borrow(state: AccountState, on: date, kind: str) -> AccountState:
    """The borrower's day: a purchase in January, the relief agreed on :data:`AGREED`, then what it pays."""
    if on == date(2026, 1, 10):
        return rules.purchase(state, on, 100_000 + 7_777 * KINDS.index(kind)).state
    if on == AGREED and kind != "none":
        return agree(state, on, kind)
    arrangement = state.arrangement
    if arrangement is None or not arrangement.is_active:
        return state
    return pay(state, on, kind, AGREED)


def _portfolio() -> list[AccountState]:
    return [rules.open_account(f"R{n}", "huabei", HUABEI, OPENED, 500_000) for n in range(len(KINDS))]


def test_arrangements_that_are_not_active_round_trip() -> None:
    states = _portfolio()
    for on in iter_days(OPENED, date(2026, 5, 3)):
        states = [rules.end_of_day(_borrow(s, on, k), on).state for s, k in zip(states, KINDS, strict=True)]
    statuses = {s.arrangement.status for s in states if s.arrangement is not None}
    assert statuses == {"completed", "broken", "lapsed", "pending_approval"}
    assert any(s.arrangement is not None and s.arrangement.set_aside for s in states)
    tables = tables_from_states(states, HUABEI)
    assert tables.arrangements.num_rows == len(KINDS) - 1
    assert states_from_tables(tables, HUABEI) == states


def test_the_state_folder_keeps_them_and_reads_an_older_folder_as_without(tmp_path: Path) -> None:
    states = _portfolio()
    for on in iter_days(OPENED, date(2026, 5, 3)):
        states = [rules.end_of_day(_borrow(s, on, k), on).state for s, k in zip(states, KINDS, strict=True)]
    on = date(2026, 5, 3)
    write_state(tmp_path, on, tables_from_states(states, HUABEI), HUABEI)
    assert states_from_tables(read_state(tmp_path, on).tables, HUABEI) == states
    folder = state_partition(tmp_path, on)
    manifest = json.loads((folder / MANIFEST).read_text())
    for name in ARRANGEMENT_TABLES:
        (folder / f"{name}.parquet").unlink()
        del manifest["rows"][name]
    (folder / MANIFEST).write_text(json.dumps(manifest))
    without = [dataclasses.replace(s, arrangement=None) for s in states]
    assert states_from_tables(read_state(tmp_path, on).tables, HUABEI) == without


def test_not_active_arrangements_day_by_day_equal_the_reference() -> None:
    """From the agreement on, each day the accounts whose arrangement is not active run set-based and equal
    the reference: pending ones accruing as if nothing were agreed, completed ones closed, a lapsed
    settlement and broken plans delinquent again, through a month end and a statement day."""
    states = _portfolio()
    seen: set[str] = set()
    for on in iter_days(OPENED, date(2026, 6, 5)):
        states = [_borrow(s, on, k) for s, k in zip(states, KINDS, strict=True)]
        if on < AGREED:
            states = [rules.end_of_day(s, on).state for s in states]
            continue
        kept = [n for n, s in enumerate(states) if s.arrangement is None or not s.arrangement.is_active]
        after = assert_same_day([states[n] for n in kept], on)
        for n, state in zip(kept, after, strict=True):
            states[n] = state
            seen |= {state.arrangement.status} if state.arrangement is not None else set()
        for n, state in enumerate(states):
            if n not in kept:
                states[n] = rules.end_of_day(state, on).state
    assert seen == {"completed", "broken", "lapsed", "pending_approval"}
    broken = [s for s in states if s.arrangement is not None and s.arrangement.status == "broken"]
    assert len(broken) == 2 and all(s.days_past_due > 0 for s in broken)


def test_every_backend_carries_them_through_a_month_end_and_a_statement_day(backend: BaseBackend) -> None:
    """On DuckDB, PostgreSQL and Spark (slow): the settled account reports ``G``, the broken plans age."""
    states = _portfolio()
    for on in iter_days(OPENED, date(2026, 5, 29)):
        states = [rules.end_of_day(_borrow(s, on, k), on).state for s, k in zip(states, KINDS, strict=True)]
    for on in iter_days(date(2026, 5, 30), date(2026, 6, 1)):
        states = assert_same_day(states, on, con=backend)
    assert [s.bureau[-1].status for s in states].count("G") == 1


def test_an_active_arrangement_goes_to_tables_and_back() -> None:
    """Active ones are no longer refused by the conversion (the day reviews them:
    ``test_setbased_active_arrangements.py``)."""
    states = _portfolio()
    for on in iter_days(OPENED, AGREED):
        states = [rules.end_of_day(_borrow(s, on, k), on).state for s, k in zip(states, KINDS, strict=True)]
    assert any(s.arrangement is not None and s.arrangement.is_active for s in states)
    tables = tables_from_states(states, HUABEI)
    assert "active" in tables.arrangements["status"].to_pylist()
    assert states_from_tables(tables, HUABEI) == states
    Portfolio.load(tables, HUABEI, ibis.duckdb.connect())


def test_a_segment_on_a_broken_plan_decides_as_the_reference() -> None:
    states = _portfolio()
    for on in iter_days(OPENED, date(2026, 5, 3)):
        states = [rules.end_of_day(_borrow(s, on, k), on).state for s, k in zip(states, KINDS, strict=True)]
    assert [relief_arrangements.plan_fact(s) for s in states].count("broken") == 2
    strategy = parse_strategy(PLAN_SEGMENT)
    plans = assert_same_plans(
        states, date(2026, 5, 4), HUABEI, strategy, NoRulebook(), ibis.duckdb.connect(), seed=11, days=3
    )
    stages = {stage for stage, _ in plans.decisions.values()}
    assert "broken_plan" in stages and "late" in stages
