"""Quiet accounts: an account at DPD 0 with settled records is decided only on the days a strategy can act on
it (docs/strategy.md, "Which accounts the end-of-day decides for")."""

from datetime import date, timedelta

from sqlalchemy import Engine, select

from overdue.domain import account as rules
from overdue.domain.collections import CollectionState, make_promise
from overdue.domain.state import AccountState
from overdue.domain.terms import product_terms
from overdue.engine.collect import needs_decision, settled
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.store import collections_repository
from overdue.store.collection_tables import collection_actions
from overdue.strategy import default_strategy, parse_strategy
from overdue.strategy.quiet import quiet_day_filter, quiet_days_of

HUABEI_QUIET = frozenset({0, 1, 3})
"""The shipped ladder's pre-due reminders: 3 and 1 days before the due date, and on it."""

DAILY = """\
strategy: daily
templates:
  nudge:
    zh-CN: "【{lender}】{name}您好，请按时还款。回TD退订"
    en: "{lender}: Hello {name}, please repay on time. Reply STOP to opt out."
stages:
  - name: pre_due
    when: {days_past_due: 0}
    next: late
    treatments:
      - {id: daily_push, type: push, template: nudge, every_days: 1}
  - name: late
    when: {days_past_due: {min: 1}}
    treatments:
      - {id: late_sms, type: sms, template: nudge, on_dpd: [1]}
"""


def _billed() -> AccountState:
    """An account that bought 1,000.00 on 10 January and was billed on 1 February, due on the 9th."""
    state = rules.open_account("Q1", "huabei", product_terms("huabei"), date(2026, 1, 5), 300_000)
    on = date(2026, 1, 5)
    while on <= date(2026, 2, 1):
        if on == date(2026, 1, 10):
            state = rules.purchase(state, on, 100_000).state
        state = rules.end_of_day(state, on).state
        on += timedelta(days=1)
    return state


def test_the_shipped_ladder_acts_at_dpd_0_only_on_its_reminder_days() -> None:
    assert quiet_day_filter(default_strategy()) == HUABEI_QUIET
    assert quiet_days_of(default_strategy()) == HUABEI_QUIET


def test_a_strategy_acting_at_dpd_0_on_any_day_has_no_quiet_days() -> None:
    assert quiet_day_filter(parse_strategy(DAILY)) is None


def test_a_settled_account_at_dpd_0_is_decided_only_on_its_reminder_days() -> None:
    state = _billed()
    records = CollectionState("Q1")
    assert settled(records)
    decided = [
        on.day
        for on in (date(2026, 2, d) for d in range(2, 10))
        if needs_decision(state, on, records, HUABEI_QUIET)
    ]
    assert decided == [6, 8, 9]  # due on the 9th: 3 and 1 days before, and the day itself
    # Without the strategy's filter, or without the records, every day as before.
    assert all(needs_decision(state, date(2026, 2, d)) for d in range(2, 10))
    assert all(needs_decision(state, date(2026, 2, d), records, None) for d in range(2, 10))


def test_an_account_whose_records_are_not_settled_is_decided_every_day() -> None:
    state, quiet_day = _billed(), date(2026, 2, 4)
    unsettled = {
        "episode open": CollectionState("Q1", episode_started_on=date(2026, 1, 12)),
        "escalated": CollectionState("Q1", escalation=1, escalated_from="pre_due"),
        "promise pending": make_promise(
            CollectionState("Q1"), "P1", date(2026, 2, 3), 10_000, date(2026, 2, 8)
        ),
    }
    for why, records in unsettled.items():
        assert not settled(records), why
        assert needs_decision(state, quiet_day, records, HUABEI_QUIET), why


def test_overdue_or_nothing_unpaid_is_decided_as_before() -> None:
    state = _billed()
    paid = rules.repay(state, date(2026, 2, 2), sum(s.outstanding for s in state.statements)).state
    assert not needs_decision(paid, date(2026, 2, 6), CollectionState("Q1"), HUABEI_QUIET)
    overdue = state
    for day in range(2, 13):  # nothing paid by the 9th: DPD 3 on the 12th, a quiet day for DPD 0
        overdue = rules.end_of_day(overdue, date(2026, 2, day)).state
    assert overdue.days_past_due == 3
    assert needs_decision(overdue, date(2026, 2, 12), CollectionState("Q1"), HUABEI_QUIET)


def test_the_end_of_day_leaves_a_quiet_account_undecided(engine: Engine) -> None:
    accounts.open_account(engine, "Q1", date(2026, 1, 5), 300_000)
    run_eod(engine, date(2026, 1, 9))
    accounts.purchase(engine, "Q1", 100_000, on=date(2026, 1, 10))
    run_eod(engine, date(2026, 2, 5))  # billed on the 1st, due on the 9th: no reminder day yet
    with engine.connect() as conn:
        records, _, _ = collections_repository.load_collection_state(conn, "Q1")
        assert records.stage is None  # never decided
        assert conn.execute(select(collection_actions.c.id)).first() is None
    run_eod(engine, date(2026, 2, 7))
    with engine.connect() as conn:
        records, _, _ = collections_repository.load_collection_state(conn, "Q1")
        assert records.stage == "pre_due"  # decided on the 6th, three days before the due date
        days = conn.execute(select(collection_actions.c.business_date).distinct()).scalars().all()
    assert days == [date(2026, 2, 6)]
