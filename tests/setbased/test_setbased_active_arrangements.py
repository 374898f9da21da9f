"""Active relief arrangements in the set-based day: each day's review (plan interest posted as a month of the
plan begins, a plan completed or broken, a settlement paid or lapsed) and the pause of interest, ageing and
billing while one is kept equal the reference's, field by field and posting by posting, day after day (more
on a settlement paid or a plan completed with installments left, and on a set-aside whose statement is gone:
test_setbased_review_cases.py)."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend
from setbased_collect_helpers import (
    Records,
    assert_same,
    draw_collections,
    load_collector,
    reference_day,
    set_based_day,
)
from setbased_helpers import HUABEI, assert_same_day
from setbased_relief_helpers import RELIEF, agree, pay, take

from overdue.compliance import rulebook
from overdue.domain import account as rules
from overdue.domain import allocation, relief_arrangements
from overdue.domain.calendar import iter_days
from overdue.domain.collections import CollectionState, plan_broken
from overdue.domain.errors import ReliefRefused
from overdue.domain.state import AccountState
from overdue.engine.collect import Collections
from overdue.setbased import Portfolio, tables_from_states
from overdue.strategy import default_strategy

OPENED = date(2026, 1, 5)
AGREED = date(2026, 3, 20)
KINDS = ("plan_kept", "plan_broken", "plan_completed", "settlement_paid", "settlement_lapsed", "down_missed")
"""What each account does with its relief, in turn."""


def _borrow(state: AccountState, on: date, kind: str) -> AccountState:
    """A purchase in January, the relief agreed on :data:`AGREED`, then what the borrower pays."""
    if on == date(2026, 1, 10):
        return rules.purchase(state, on, 100_000 + 7_777 * KINDS.index(kind)).state
    if on == AGREED:
        return agree(state, on, kind)
    arrangement = state.arrangement
    if arrangement is None or not arrangement.is_active:
        return state
    if kind == "plan_kept":
        due = next((p for p in arrangement.schedule if p.due_date == on), None)
        return rules.repay(state, on, due.amount).state if due is not None else state
    return pay(state, on, kind, AGREED)


def _portfolio() -> list[AccountState]:
    return [rules.open_account(f"A{n}", "huabei", HUABEI, OPENED, 500_000) for n in range(len(KINDS))]


def _until(last: date) -> list[AccountState]:
    """The portfolio run by the reference through ``last``."""
    states = _portfolio()
    for on in iter_days(OPENED, last):
        states = [rules.end_of_day(_borrow(s, on, k), on).state for s, k in zip(states, KINDS, strict=True)]
    return states


def test_active_arrangements_day_by_day_equal_the_reference() -> None:
    """From the agreement on, every day on DuckDB: the kept plan's interest posted on the 20th of April and
    May and the plan completed by its last payment; a plan broken (its set-aside interest restored, due dates
    moved, DPD resuming); a plan completed by repayment (closing the line); a settlement paid (everything
    forgiven, closed, reported ``G``) and one lapsed; a plan whose down payment is missed — through month
    ends and statement days."""
    states = _until(AGREED)
    seen: dict[str, set[str]] = {s.id: set() for s in states}
    plan_interest = 0
    for on in iter_days(AGREED + timedelta(days=1), date(2026, 6, 23)):
        before = [_borrow(s, on, k) for s, k in zip(states, KINDS, strict=True)]
        states = assert_same_day(before, on)
        plan_interest += sum(
            1
            for t in (rules.end_of_day(s, on).transactions for s in before)
            for x in t
            if x.memo and x.memo.startswith("plan interest")
        )
        for s in states:
            assert s.arrangement is not None
            seen[s.id].add(s.arrangement.status)
    assert plan_interest == 2
    ends = {s.id: s.arrangement.status for s in states if s.arrangement is not None}
    assert ends == {
        "A0": "completed",
        "A1": "broken",
        "A2": "completed",
        "A3": "completed",
        "A4": "lapsed",
        "A5": "broken",
    }
    assert all("active" in statuses for statuses in seen.values())
    broken = states[1]
    assert broken.days_past_due > 0 and any(s.original_due_date is not None for s in broken.statements)
    assert states[3].status == "closed" and states[3].outstanding == 0


def test_every_backend_reviews_and_pauses_them(backend: BaseBackend) -> None:
    """On DuckDB, PostgreSQL and Spark (slow): a month end with accounts paused (30 April), the day the
    plan breaks (1 May) and the statement day after it (2 May is no statement day: 1 June is)."""
    states = _until(date(2026, 3, 24))
    for on in (date(2026, 3, 25), date(2026, 3, 26)):
        states = assert_same_day(
            [_borrow(s, on, k) for s, k in zip(states, KINDS, strict=True)], on, con=backend
        )
    states = _until(date(2026, 4, 19))
    for on in (date(2026, 4, 20), date(2026, 4, 21)):
        states = assert_same_day(
            [_borrow(s, on, k) for s, k in zip(states, KINDS, strict=True)], on, con=backend
        )
    states = _until(date(2026, 4, 29))
    for on in (date(2026, 4, 30), date(2026, 5, 1)):
        states = assert_same_day(
            [_borrow(s, on, k) for s, k in zip(states, KINDS, strict=True)], on, con=backend
        )


def _followed(before: AccountState, after: AccountState, on: date, record: Collections) -> Collections:
    """The reference's records once ``after``'s end-of-day of ``on`` ended its arrangement, as
    :func:`overdue.store.relief_repository.save_arrangement` leaves them: the ``plan`` hold ended at the start
    of the day, a broken plan escalated."""
    was, now = before.arrangement, after.arrangement
    if was is None or now is None or not was.is_active or now.is_active or now.ended_on != on:
        return record
    state = plan_broken(record.state) if now.kind == "plan" and now.status == "broken" else record.state
    return dataclasses.replace(record, state=state, holds=record.holds - {"plan"})


def _collect_window(first: date, last: date, con: BaseBackend, seed: int) -> set[str]:
    """From :func:`_until` the day before ``first`` (the day's repayments made), each day through ``last``
    (no event after ``first``) decide → comply → act with the reference and with a
    :class:`~overdue.setbased.collect.Collector` over tables, from the same random records (a ``plan`` hold
    in force on each active arrangement; the down-missed plan's account without records): decisions,
    actions, messages, work and records after each day equal. Returns the statuses the arrangements ended
    with in the window."""
    strategy, book = default_strategy(), rulebook("cn")
    states = [_borrow(s, first, k) for s, k in zip(_until(first - timedelta(days=1)), KINDS, strict=True)]
    rng = random.Random(seed)
    records: Records = {}
    for s in states:
        record, done, history = draw_collections(rng, s.id, first, strategy)
        holds = record.holds | ({"plan"} if s.arrangement is not None and s.arrangement.is_active else set())
        records[s.id] = (dataclasses.replace(record, holds=frozenset(holds)), done, history)
    newcomer = states[KINDS.index("down_missed")].id
    records[newcomer] = (Collections(CollectionState(newcomer), None, None), {}, [])
    tables = tables_from_states(states, HUABEI)
    ids = tables.accounts["account_id"].to_pylist()
    portfolio = Portfolio.load(tables, HUABEI, con)
    loaded = {i: r for i, r in records.items() if i != newcomer}
    collector = load_collector(portfolio, ids, loaded, strategy, book)
    ended: set[str] = set()
    for on in iter_days(first, last):
        if on > first:
            assert all(_borrow(s, on, k) is s for s, k in zip(states, KINDS, strict=True))
        after = [rules.end_of_day(s, on).state for s in states]
        records = {
            s.id: (_followed(s, a, on, records[s.id][0]), *records[s.id][1:])
            for s, a in zip(states, after, strict=True)
        }
        ended |= {
            f"{a.arrangement.kind} {a.arrangement.status}"
            for a in after
            if a.arrangement and a.arrangement.ended_on == on
        }
        want, records = reference_day(after, on, records, strategy, book)
        portfolio.run_day(on)
        got = set_based_day(collector, on, ids, {s.id for s in after if s.last_eod == on})
        assert_same(got, want, on)
        states = after
    return ended


@pytest.mark.parametrize(
    ("first", "last", "ends"),
    [
        (date(2026, 3, 23), date(2026, 3, 24), {"plan completed"}),
        (date(2026, 3, 25), date(2026, 3, 27), {"settlement completed"}),
        (date(2026, 3, 31), date(2026, 4, 2), {"settlement lapsed"}),
        (date(2026, 4, 6), date(2026, 4, 8), {"plan broken"}),
    ],
)
def test_collections_follow_an_arrangement_ending_as_the_reference(
    first: date, last: date, ends: set[str]
) -> None:
    """Collections over tables with active arrangements, under the default strategy on DuckDB: the day a
    plan is completed, a settlement paid, a settlement lapses, a plan (of an account without collection
    records) breaks — the plan hold ended, the broken plan escalated — and the days after, equal the
    reference's."""
    assert _collect_window(first, last, ibis.duckdb.connect(), seed=1) == ends


def test_collections_follow_a_broken_plan_on_every_backend(backend: BaseBackend) -> None:
    """On DuckDB, PostgreSQL and Spark (slow): the plan broken on 1 May, the day before and the day after."""
    assert _collect_window(date(2026, 4, 30), date(2026, 5, 2), backend, seed=11) == {"plan broken"}


def test_a_settlement_paid_with_installments_left_equals_the_reference() -> None:
    """Future installment principal forgiven as the reference forgives it: the waiver, the periods ended."""
    state = rules.open_account("S1", "huabei", HUABEI, OPENED, 500_000)
    for on in iter_days(OPENED, AGREED):
        if on == date(2026, 1, 10):
            state = rules.purchase(state, on, 60_000).state
            state = rules.purchase(state, on, 120_000, periods=6).state
        state = rules.end_of_day(state, on).state
    assert any(not p.billed for plan in state.plans for p in plan.periods)
    state = agree(state, AGREED + timedelta(days=1), "settlement_paid")
    on = AGREED + timedelta(days=1)
    state = rules.end_of_day(state, on).state
    assert state.arrangement is not None
    state = rules.repay(state, on + timedelta(days=1), state.arrangement.amount).state
    (state,) = assert_same_day([state], on + timedelta(days=1))
    assert state.status == "closed" and all(p.billed for plan in state.plans for p in plan.periods)


@dataclass(frozen=True)
class Relief:
    """One account's random relief: a purchase, the arrangement agreed ``agreed`` days after opening, and a
    repayment of ``share`` / 10,000 of what the arrangement asks, ``pays`` days after the agreement."""

    purchase: int
    kind: str
    agreed: int
    periods: int
    rate: Decimal
    down: bool
    waive_interest: bool
    share: int
    pays: int


reliefs = st.builds(
    Relief,
    purchase=st.integers(20_000, 300_000),
    kind=st.sampled_from(("plan", "settlement")),
    agreed=st.integers(40, 110),
    periods=st.integers(1, 4),
    rate=st.sampled_from((Decimal(0), Decimal("0.005"), Decimal("0.01"))),
    down=st.booleans(),
    waive_interest=st.booleans(),
    share=st.sampled_from((0, 3_000, 10_000)),
    pays=st.integers(1, 40),
)


def _random_agree(state: AccountState, on: date, r: Relief) -> AccountState:
    """Agree ``r``'s relief (approved when it forgives anything); a refused offer changes nothing."""
    owed = state.outstanding
    try:
        if r.kind == "plan":
            down = owed // 5 if r.down else 0
            quote, draft = relief_arrangements.offer_plan(
                state, on, RELIEF, r.periods, down, waive_interest=r.waive_interest, monthly_rate=r.rate
            )
        else:
            quote, draft = relief_arrangements.offer_settlement(
                state, on, RELIEF, owed // 2, on + timedelta(days=r.periods * 7)
            )
    except ReliefRefused:
        return state
    return take(state, on, quote, draft)


def _agreed(r: Relief) -> int:
    """The day of the agreement, counted from the opening (a settlement 30 days later: it needs 31 DPD)."""
    return r.agreed + (30 if r.kind == "settlement" else 0)


def _random_day(state: AccountState, on: date, r: Relief) -> AccountState:
    offset = (on - OPENED).days
    if offset == 5:
        return rules.purchase(state, on, r.purchase).state
    if offset == _agreed(r):
        return _random_agree(state, on, r)
    arrangement = state.arrangement
    if arrangement is None or not arrangement.is_active or offset != _agreed(r) + r.pays or not r.share:
        return state
    amount = min(arrangement.remaining * r.share // 10_000, allocation.repayable(state))
    return rules.repay(state, on, amount).state if amount > 0 else state


def _check_days(states: list[AccountState], last: date) -> set[date]:
    """The days around each arrangement's events: its start, each payment's due date and the day after, the
    day a payment becomes more than ``breach_days`` late."""
    days: set[date] = set()
    for s in states:
        a = s.arrangement
        if a is None or a.started_on is None:
            continue
        days |= {a.started_on + timedelta(days=1)}
        for p in a.schedule:
            days |= {
                p.due_date,
                p.due_date + timedelta(days=1),
                p.due_date + timedelta(days=a.breach_days + 1),
            }
    return {d for d in days if d <= last}


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolio=st.lists(reliefs, min_size=3, max_size=3))
def test_random_relief_on_the_days_of_its_events_equals_the_reference(portfolio: list[Relief]) -> None:
    """Random plans and settlements (rates, down payments, set-asides, partial or full repayment or none):
    on the days around their events the set-based day equals the reference on DuckDB."""
    states = [rules.open_account(f"H{n}", "huabei", HUABEI, OPENED, 500_000) for n in range(len(portfolio))]
    last = OPENED + timedelta(days=170)
    history: dict[date, list[AccountState]] = {}
    for on in iter_days(OPENED, last):
        states = [_random_day(s, on, r) for s, r in zip(states, portfolio, strict=True)]
        history[on] = states
        states = [rules.end_of_day(s, on).state for s in states]
    paid = {OPENED + timedelta(days=_agreed(r) + r.pays + n) for r in portfolio for n in (0, 1)}
    for on in sorted(_check_days(states, last) | {d for d in paid if d <= last}):
        assert_same_day(history[on], on)
