"""Portfolios for the differential tests: accounts driven day by day by the reference rules, and the check
that one set-based day over their tables equals the reference's day field by field."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import pytest
from ibis.backends import BaseBackend

from overdue.domain import account as rules
from overdue.domain import allocation
from overdue.domain.errors import CreditLimitExceeded, InstallmentsRefused, LineNotUsable, RepaymentTooLarge
from overdue.domain.state import AccountState, BucketSpell, BureauMonth
from overdue.domain.terms import PRESETS, ProductTerms
from overdue.setbased import run_day, states_from_tables, tables_from_states, transactions_from_postings
from overdue.setbased.convert import spells_of

HUABEI = PRESETS["huabei"]
SPARK_MARKS = (
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
)
"""Marks of every test that runs on Spark (PySpark's gateway leaves sockets to the garbage collector)."""
SHARE_SCALE = 10_000
KINDS = (
    "purchase",
    "purchase",
    "purchase_installments",
    "repay_part",
    "repay_all",
    "repay_minimum",
    "installments",
    "idle",
)
HABITS = ("none", "none", "minimum", "statement")
"""What a borrower pays by itself on each due date."""


@dataclass(frozen=True)
class Event:
    """Something a borrower does on day ``day`` (counted from the portfolio's start)."""

    day: int
    kind: str
    share: int
    """How much, in 1/10,000 of the most that makes sense."""
    periods: int


@dataclass(frozen=True)
class Borrower:
    opened: int
    """Opening day, counted from the portfolio's start."""
    limit: int
    habit: str
    events: tuple[Event, ...]


def share_of(total: int, share: int) -> int:
    return max(1, total * share // SHARE_SCALE)


def apply(state: AccountState, on: date, event: Event) -> AccountState:
    """Apply ``event``; the documented refusals leave the state as it was."""
    try:
        if event.kind == "purchase":
            return rules.purchase(state, on, share_of(state.available_credit, event.share)).state
        if event.kind == "purchase_installments":
            amount = share_of(state.available_credit, event.share)
            return rules.purchase(state, on, amount, periods=event.periods).state
        if event.kind in ("repay_part", "repay_all", "repay_minimum"):
            most = allocation.repayable(state)
            if event.kind == "repay_all":
                amount = most
            elif event.kind == "repay_part":
                amount = share_of(most, event.share)
            else:
                amount = min(most, sum(s.minimum_remaining for s in state.statements if s.outstanding > 0))
            return rules.repay(state, on, amount).state if amount > 0 else state
        if event.kind == "installments":
            latest = state.latest_statement()
            if latest is not None:
                return rules.request_installments(state, on, latest.id, event.periods).state
    except (CreditLimitExceeded, LineNotUsable, RepaymentTooLarge, InstallmentsRefused):  # purchase plans too
        pass
    return state


def pay_by_habit(state: AccountState, on: date, habit: str) -> AccountState:
    """On a statement's due date, pay the minimum or the whole of what is billed, as the habit says."""
    if habit == "none" or not any(s.due_date == on and s.outstanding > 0 for s in state.statements):
        return state
    owed = sum(s.minimum_remaining if habit == "minimum" else s.outstanding for s in state.statements)
    amount = min(owed, allocation.repayable(state))
    return rules.repay(state, on, amount).state if amount > 0 else state


def open_portfolio(
    start: date, borrowers: list[Borrower], terms: ProductTerms = HUABEI
) -> list[AccountState]:
    return [
        rules.open_account(f"B{n:03d}", terms.name, terms, start + timedelta(days=b.opened), b.limit)
        for n, b in enumerate(borrowers)
    ]


def before_end_of_day(states: list[AccountState], borrowers: list[Borrower], start: date, on: date) -> None:
    """The day's events and due-date habits, applied in place (accounts not open yet do nothing)."""
    offset = (on - start).days
    for i, (state, borrower) in enumerate(zip(states, borrowers, strict=True)):
        if on < state.opened_on:
            continue
        for event in borrower.events:
            if event.day == offset:
                state = apply(state, on, event)
        states[i] = pay_by_habit(state, on, borrower.habit)


def field_differences(got: AccountState, want: AccountState) -> list[str]:
    return [
        f"{f.name}: set-based {getattr(got, f.name)!r} != reference {getattr(want, f.name)!r}"
        for f in dataclasses.fields(want)
        if getattr(got, f.name) != getattr(want, f.name)
    ]


def new_spells(before: AccountState, after: AccountState) -> list[tuple[str, BucketSpell]]:
    """The spells the reference closed or opened in one day."""
    old = set(before.bucket_history)
    return [(after.id, s) for s in after.bucket_history if s not in old]


def new_bureau(before: AccountState, after: AccountState) -> list[tuple[str, BureauMonth]]:
    return [(after.id, m) for m in after.bureau if m not in before.bureau]


def assert_same_day(
    states: list[AccountState], on: date, terms: ProductTerms = HUABEI, con: BaseBackend | None = None
) -> list[AccountState]:
    """Run ``on`` with the reference and set-based; every field of every account, every posting (as
    multisets), the bucket spells and the bureau months must be equal. Returns the reference's states."""
    outcomes = [rules.end_of_day(state, on) for state in states]
    tables = tables_from_states(states, terms)
    assert states_from_tables(tables, terms) == states, "the tables do not round-trip"
    result = run_day(tables, on, terms, con or ibis.duckdb.connect())
    got = states_from_tables(result.tables, terms)
    want = [o.state for o in outcomes]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g == w, f"{w.id} on {on}: " + "; ".join(field_differences(g, w))
    expected = Counter(t for o in outcomes for t in o.transactions)
    assert Counter(transactions_from_postings(result.postings, result.tables.accounts)) == expected, on
    spells = sorted(
        (pair for b, a in zip(states, want, strict=True) for pair in new_spells(b, a)),
        key=lambda pair: (pair[0], pair[1].entered, pair[1].left or date.max),
    )
    assert spells_of(result.bucket_spells, result.tables.accounts) == spells
    ids = dict(
        zip(
            result.tables.accounts["account_key"].to_pylist(),
            result.tables.accounts["account_id"].to_pylist(),
            strict=True,
        )
    )
    reported = sorted(
        (ids[r["account_key"]], BureauMonth(r["month"], r["status"]))
        for r in result.bureau_months.to_pylist()
    )
    assert reported == sorted(pair for b, a in zip(states, want, strict=True) for pair in new_bureau(b, a))
    assert result.accounts_run == sum(
        1 for b, a in zip(states, want, strict=True) if a.last_eod != b.last_eod
    )
    return want
