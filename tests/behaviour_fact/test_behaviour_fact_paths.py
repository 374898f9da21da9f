"""One account, run once through the database (the reference end-of-day) and once in memory (the domain
rules, as the simulator runs them): the behaviour facts and every month-end score are the same."""

from __future__ import annotations

from datetime import date

from behaviour_fact_helpers import OPENED
from sqlalchemy import Engine

from overdue.domain import account as rules
from overdue.domain.calendar import is_month_end, iter_days
from overdue.domain.state import AccountState
from overdue.domain.terms import product_terms
from overdue.engine.limits import LimitReview
from overdue.engine.reference import Collection, run_eod
from overdue.risk.accounts import account_facts
from overdue.risk.behaviour import behaviour_facts, month_end_score
from overdue.risk.changes import ReviewSchedule
from overdue.services import accounts
from overdue.sim.skips import paid_statements
from overdue.store import behaviour_repository
from overdue.strategy import default_strategy

END = date(2026, 6, 30)
LIMIT = 500_000
EVENTS = {
    date(2026, 1, 10): ("purchase", 300_000),
    date(2026, 3, 20): ("repay", "everything"),  # after 39 days past due: M1 → M2 once
    date(2026, 4, 5): ("purchase", 100_000),
    date(2026, 5, 8): ("repay", "minimum"),  # the May statement paid only to its minimum
    date(2026, 6, 5): ("purchase", 50_000),
}
NO_REVIEW = Collection(default_strategy(), limits=LimitReview(schedule=ReviewSchedule(enabled=False)))
"""The limit review off: the in-memory run has none, and a new limit would move utilisation."""


def _amount(state: AccountState, what: str | int) -> int:
    if isinstance(what, int):
        return what
    if what == "everything":
        return sum(s.outstanding for s in state.statements)
    latest = state.latest_statement()
    assert latest is not None
    return latest.minimum_remaining


def _in_memory() -> tuple[AccountState, dict[date, int]]:
    """The account run day by day through the domain rules; its month-end scores computed as the simulator
    does (paid statements set aside, then passed back in)."""
    state = rules.open_account("P1", "huabei", product_terms("huabei"), OPENED, LIMIT, "Asia/Shanghai")
    scores = {}
    for on in iter_days(OPENED, END):
        if on in EVENTS:
            kind, what = EVENTS[on]
            amount = _amount(state, what)
            state = (rules.purchase if kind == "purchase" else rules.repay)(state, on, amount).state
        state = rules.end_of_day(state, on).state
        if is_month_end(on):
            aside = paid_statements(state)
            kept = tuple(s for s in state.statements if s not in aside)
            scores[on] = month_end_score(state, (*aside, *kept), on).points
    return state, scores


def test_the_database_and_the_memory_derive_the_same_facts_and_scores(sqlite_engine: Engine) -> None:
    memory, memory_scores = _in_memory()
    engine = sqlite_engine
    accounts.open_account(engine, "P1", OPENED, LIMIT)
    for on, (kind, what) in sorted(EVENTS.items()):
        run_eod(engine, date.fromordinal(on.toordinal() - 1), collection=NO_REVIEW)
        with engine.connect() as conn:
            state = accounts.load(conn, "P1")
        if kind == "purchase":
            accounts.purchase(engine, "P1", _amount(state, what), on=on)
        else:
            accounts.repay(engine, "P1", _amount(state, what), on=on)
    run_eod(engine, END, collection=NO_REVIEW)

    with engine.connect() as conn:
        stored = account_facts(conn, "P1", END)
        recorded = {r["month_end"]: r["score_points"] for r in behaviour_repository.scores_of(conn, "P1")}
    assert stored.state.credit_limit == memory.credit_limit and stored.state.principal == memory.principal
    facts = behaviour_facts(memory, memory.statements, END)
    assert stored.behaviour == facts
    assert facts.worst_dpd_12m > 30 and facts.times_30_plus_12m == 1 and facts.minimum_only_6m >= 1
    assert recorded == memory_scores
    assert len(recorded) == 6 and len(set(recorded.values())) > 1
