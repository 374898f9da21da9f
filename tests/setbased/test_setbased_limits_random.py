"""Random portfolios: the set-based limit review equals the review's rules applied account by account.

Hypothesis draws borrowers (purchases, repayments, bill installments, due-date habits) and runs them day by
day with the domain's rules and, after each day, the limit review as :func:`overdue.engine.limits.
review_account` makes it — the same pure functions (:func:`~overdue.risk.changes.limit_to_apply`,
:func:`~overdue.risk.changes.change_to_record`, :func:`~overdue.risk.changes.apply_change`), without a
store. From a hand-over date the set-based day and review run on DuckDB too (the tables loaded again after
the borrowers' events), and after every date the accounts, every limit change and the notices must be equal.
The store-backed tests (``test_setbased_limits.py``, ``test_setbased_limits_store.py``) compare with the
reference runner itself.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import ibis
import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from setbased_helpers import (
    HABITS,
    HUABEI,
    KINDS,
    SHARE_SCALE,
    Borrower,
    Event,
    before_end_of_day,
    open_portfolio,
)

from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.domain.state import AccountState, AccountStatus
from overdue.engine.limits import NOTICE_LOCALE, LimitReview
from overdue.risk.changes import (
    NOTICE_ACTIONS,
    ReviewSchedule,
    apply_change,
    change_to_record,
    limit_to_apply,
    parameters_for,
    past_changes,
)
from overdue.risk.notices import notice_text
from overdue.risk.review import ReviewParameters
from overdue.setbased import Portfolio, states_from_tables, tables_from_states
from overdue.setbased.backend import table_name
from overdue.setbased.limits import LIMIT_CHANGES
from overdue.setbased.limits_run import LimitReviewer

START = date(2026, 1, 3)
HANDOVER = date(2026, 3, 29)
END = date(2026, 4, 10)
CON = ibis.duckdb.connect()
RAW = ReviewParameters(
    raise_after_cycles=2, min_days_between_changes=20, near_full_cycles=2, minimum_only_cycles=1
)
"""A shorter history than the default (two on-time cycles for a raise) so that every kind of change can
happen within the months drawn."""
PARAMS = parameters_for(RAW, HUABEI)


@dataclasses.dataclass
class Book:
    """The review's record, kept as the store keeps ``limit_changes`` (rows by account) and the notices."""

    changes: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    notices: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)


def _apply(
    state: AccountState, row: dict[str, Any], on: date, params: ReviewParameters = PARAMS
) -> AccountState:
    limit, held = limit_to_apply(state, row["new_limit_fen"], params)
    if held and "LIMITED" not in row["reasons"]:
        row["reasons"] += " CUT_LIMITED_BY_BALANCE"
    row.update(applied_on=on, new_limit_fen=limit)
    return apply_change(state, row["action"], limit)


def review(state: AccountState, on: date, book: Book, params: ReviewParameters = PARAMS) -> AccountState:
    """What :func:`overdue.engine.limits.review_account` does to one account after its day of ``on``."""
    rows = book.changes.setdefault(state.id, [])
    current = state
    for row in sorted(rows, key=lambda r: r["effective_on"]):
        if row["applied_on"] is None and row["effective_on"] <= on:
            current = _apply(current, row, on, params)
    if not ReviewSchedule().due(state.terms, on):
        return current
    decision = change_to_record(
        current, current.statements, current.bucket_history, on, past_changes(rows), params
    )
    if decision is None:
        return current
    row = {
        "review_date": on,
        "effective_on": decision.effective_on,
        "action": decision.action,
        "old_limit_fen": decision.current_limit,
        "new_limit_fen": decision.new_limit,
        "reasons": " ".join(decision.reasons),
        "applied_on": None,
    }
    rows.append(row)
    if decision.action in NOTICE_ACTIONS:
        body = notice_text(
            decision.action,
            NOTICE_LOCALE,
            old_limit=decision.current_limit,
            new_limit=decision.new_limit,
            effective_on=decision.effective_on,
            reasons=decision.reasons,
        )
        book.notices.append((state.id, on, " ".join(decision.reasons), body))
    return _apply(current, row, on, params) if decision.effective_on <= on else current


def run_until(
    portfolio: list[Borrower], start: date, until: date, params: ReviewParameters = PARAMS
) -> tuple[list[AccountState], Book]:
    """The portfolio opened on ``start`` and run by the rules, each day reviewed, through the day before
    ``until``."""
    states = open_portfolio(start, portfolio)
    book = Book()
    for on in iter_days(start, until - timedelta(days=1)):
        before_end_of_day(states, portfolio, start, on)
        states = [review(rules.end_of_day(s, on).state, on, book, params) for s in states]
    return states, book


def changes_table(book: Book, states: list[AccountState]) -> pa.Table:
    keys = {s.id: n for n, s in enumerate(states)}
    rows = [
        {
            "account_key": keys[account_id],
            "review_date": r["review_date"],
            "effective_on": r["effective_on"],
            "action": r["action"],
            "old_limit": r["old_limit_fen"],
            "new_limit": r["new_limit_fen"],
            "reasons": r["reasons"],
            "model_version": PARAMS.model_version,
            "applied_on": r["applied_on"],
        }
        for account_id, changes in book.changes.items()
        for r in changes
    ]
    return pa.Table.from_pylist(rows, schema=LIMIT_CHANGES)


def assert_as_the_rules(
    set_based: Portfolio, reviewer: LimitReviewer, states: list[AccountState], book: Book, on: date
) -> None:
    """The set-based accounts and every limit change equal the rules' after the day of ``on``."""
    assert states_from_tables(set_based.tables(), HUABEI) == states, on
    assert (
        reviewer.changes().to_pylist()
        == changes_table(book, states)
        .sort_by([("account_key", "ascending"), ("review_date", "ascending")])
        .to_pylist()
    ), on


events = st.builds(
    Event,
    day=st.integers(0, 98),
    kind=st.sampled_from(KINDS),
    share=st.one_of(st.integers(1, SHARE_SCALE), st.sampled_from([SHARE_SCALE // 10, SHARE_SCALE])),
    periods=st.sampled_from([3, 6]),
)
borrowers = st.builds(
    Borrower,
    opened=st.integers(0, 30),
    limit=st.sampled_from([50_000, 300_000, 500_000, 2_000_000]),
    habit=st.sampled_from(HABITS),
    events=st.lists(events, min_size=3, max_size=14).map(tuple),
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolio=st.lists(borrowers, min_size=3, max_size=6))
def test_random_portfolios_review_as_the_rules(portfolio: list[Borrower]) -> None:
    states, book = run_until(portfolio, START, HANDOVER)
    loaded: tuple[Portfolio, LimitReviewer] | None = None
    told = len(book.notices)
    for on in iter_days(HANDOVER, END):
        before = list(states)
        before_end_of_day(states, portfolio, START, on)
        if loaded is None or states != before:
            tables = tables_from_states(states, HUABEI)
            loaded_portfolio = Portfolio.load(tables, HUABEI, CON)
            loaded = (
                loaded_portfolio,
                LimitReviewer.load(loaded_portfolio, changes_table(book, states), LimitReview(RAW)),
            )
        states = [review(rules.end_of_day(s, on).state, on, book) for s in states]
        set_based, reviewer = loaded
        set_based.run_day(on)
        reviewer.run_day(on)
        _, actions, messages = reviewer.outputs()
        assert_as_the_rules(set_based, reviewer, states, book, on)
        ids = [s.id for s in states]
        got = sorted(
            (ids[a["account_key"]], a["business_date"], a["reason"], m["body"])
            for a, m in zip(actions.to_pylist(), messages.to_pylist(), strict=True)
        )
        assert got == sorted(book.notices[told:]), on
        told = len(book.notices)
    for action in {r["action"] for rows in book.changes.values() for r in rows}:
        event(f"limit change: {action}")


def test_several_changes_due_on_one_date_are_applied_in_turn() -> None:
    """Changes recorded before the hand-over (on dates of their own, not review days) and still waiting,
    several due on its first date for one account (a cut then a freeze; a cut held at what is owed then a
    raise; three on one account): the set-based review applies them in turn by effective date, each on the
    limit and status the one before left, as the reference does, then reviews on the statement day — the
    accounts and every change equal to the rules'."""
    spend = (Event(2, "purchase", SHARE_SCALE, 3), Event(40, "purchase", SHARE_SCALE // 2, 3))
    portfolio = [
        Borrower(0, 500_000, "none", spend),
        Borrower(1, 2_000_000, "minimum", spend),
        Borrower(3, 300_000, "statement", spend),
    ]
    states, book = run_until(portfolio, START, HANDOVER)

    def waiting(review_date: date, days: int, action: str, old: int, new: int) -> dict[str, Any]:
        return {
            "review_date": review_date,
            "effective_on": HANDOVER - timedelta(days=days),
            "action": action,
            "old_limit_fen": old,
            "new_limit_fen": new,
            "reasons": "CUT_NEAR_FULL_UTILISATION" if action == "cut" else action.upper(),
            "applied_on": None,
        }

    first, second, third = states
    book.changes[first.id] = [
        *book.changes.get(first.id, []),
        waiting(date(2026, 2, 3), 3, "cut", first.credit_limit, first.credit_limit // 2),
        waiting(date(2026, 3, 3), 1, "freeze", first.credit_limit, first.credit_limit),
    ]
    book.changes[second.id] = [
        *book.changes.get(second.id, []),
        waiting(date(2026, 2, 3), 5, "cut", second.credit_limit, 50_000),
        waiting(date(2026, 3, 3), 2, "raise", second.credit_limit, second.credit_limit + 100_000),
    ]
    book.changes[third.id] = [
        *book.changes.get(third.id, []),
        waiting(date(2026, 1, 20), 9, "raise", third.credit_limit, third.credit_limit + 200_000),
        waiting(date(2026, 2, 3), 4, "cut", third.credit_limit, 100_000),
        waiting(date(2026, 3, 3), 0, "close", third.credit_limit, third.credit_limit),
    ]
    tables = tables_from_states(states, HUABEI)
    set_based = Portfolio.load(tables, HUABEI, ibis.duckdb.connect())
    reviewer = LimitReviewer.load(set_based, changes_table(book, states), LimitReview(RAW))
    for on in iter_days(HANDOVER, END):
        states = [review(rules.end_of_day(s, on).state, on, book) for s in states]
        set_based.run_day(on)
        run = reviewer.run_day(on)
        if on == HANDOVER:
            assert (
                run.applied == sum(r["applied_on"] == on for rows in book.changes.values() for r in rows) >= 7
            )
            assert {1, 2} <= set(reviewer.changed_accounts()) <= {0, 1, 2}
        assert_as_the_rules(set_based, reviewer, states, book, on)
    after = {s.id: (s.status, s.credit_limit) for s in states}
    assert after[first.id][0] is AccountStatus.FROZEN
    assert after[third.id][0] is AccountStatus.CLOSED
    held = [r for r in book.changes[second.id] if r["review_date"] == date(2026, 2, 3)]
    assert "CUT_LIMITED_BY_BALANCE" in held[0]["reasons"], held


@pytest.mark.parametrize("name", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_raise_window_with_four_limits_is_measured_as_the_reference(
    name: str, request: pytest.FixtureRequest
) -> None:
    """Six cycles measured against four different limits (three changes applied within the raise window): the
    common denominator holds three, so those accounts' mean utilisation is computed as the reference computes
    it; the review of 1 February records the same raises and keeps as the rules, for a line used within the
    healthy range, one used too little, and one whose mean (0.1012) is healthy only with the cycle measured
    against the fourth limit counted."""
    start, handover, end = date(2025, 7, 3), date(2026, 1, 25), date(2026, 2, 4)
    params = parameters_for(ReviewParameters(min_days_between_changes=20), HUABEI)
    monthly = tuple(Event(3 + 30 * k, "purchase", SHARE_SCALE // 3, 3) for k in range(7))
    little = tuple(Event(3 + 30 * k, "purchase", SHARE_SCALE // 40, 3) for k in range(7))
    edge = tuple(Event(3 + 30 * k, "purchase", SHARE_SCALE // 10, 3) for k in range(7))
    portfolio = [
        Borrower(0, 1_000_000, "statement", monthly),
        Borrower(0, 2_000_000, "statement", little),
        Borrower(0, 1_000_000, "statement", edge),
    ]
    states, book = run_until(portfolio, start, handover, params)
    for state in states:
        now = state.credit_limit
        limits = [now - 200_000, now + 50_000, now - 100_000, now]
        book.changes[state.id] = [
            {
                "review_date": applied - timedelta(days=7),
                "effective_on": applied,
                "action": "raise" if new > old else "cut",
                "old_limit_fen": old,
                "new_limit_fen": new,
                "reasons": "RAISE_GOOD_HISTORY" if new > old else "CUT_NEAR_FULL_UTILISATION",
                "applied_on": applied,
            }
            for applied, old, new in zip(
                (date(2025, 9, 15), date(2025, 10, 15), date(2025, 11, 15)),
                limits[:3],
                limits[1:],
                strict=True,
            )
        ]
    con = ibis.duckdb.connect() if name == "duckdb" else request.getfixturevalue(name)
    for on in iter_days(handover, end):
        before_end_of_day(states, portfolio, start, on)
        set_based = Portfolio.load(tables_from_states(states, HUABEI), HUABEI, con)
        reviewer = LimitReviewer.load(set_based, changes_table(book, states), LimitReview(params))
        states = [review(rules.end_of_day(s, on).state, on, book, params) for s in states]
        set_based.run_day(on)
        reviewer.run_day(on)
        if on == date(2026, 2, 1):
            most = set_based.db.fetch(
                f"SELECT max(limits) AS most FROM {table_name('review_facts')}",
                pa.schema([("most", pa.int64())]),
            )["most"][0].as_py()
            assert most == 4
        assert_as_the_rules(set_based, reviewer, states, book, on)
    recorded = {
        state.id: [r["action"] for r in book.changes[state.id] if r["review_date"] == date(2026, 2, 1)]
        for state in states
    }
    assert recorded[states[0].id] == ["raise"], recorded
    assert recorded[states[1].id] == [], recorded
    assert recorded[states[2].id] == ["raise"], recorded
