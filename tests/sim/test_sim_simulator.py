"""The simulator: reproducible, balanced ledgers, states that match their postings, and the quiet-day skip."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from sim_helpers import small_portfolio

from overdue.domain.state import AccountStatus
from overdue.engine.collect import Collections
from overdue.sim import SimulationConfig, simulate
from overdue.sim.borrowers import make_borrowers
from overdue.strategy import default_strategy
from overdue.strategy.quiet import quiet_day_filter


def test_same_seed_gives_the_same_summary_whatever_the_workers() -> None:
    one = simulate(SimulationConfig(accounts=300, months=2, seed=11, workers=1))
    two = simulate(SimulationConfig(accounts=300, months=2, seed=11, workers=2))
    assert one.summary() == two.summary()
    assert one.tallies == two.tallies
    other = simulate(SimulationConfig(accounts=300, months=2, seed=12, workers=1))
    assert other.summary() != one.summary()


def test_borrowers_are_plausible() -> None:
    borrowers = make_borrowers(500, seed=3, start=__import__("datetime").date(2026, 1, 1))
    assert all(50_000 <= b.credit_limit <= 5_000_000 and b.credit_limit % 10_000 == 0 for b in borrowers)
    assert all(isinstance(b.credit_limit, int) for b in borrowers)
    assert {b.timezone for b in borrowers} == {"Asia/Shanghai", "Asia/Urumqi"}
    assert all(b.opened_on.month == 1 for b in borrowers)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in borrowers[0].name)  # a Chinese name
    assert len({b.account_id for b in borrowers}) == 500


def test_every_transaction_balances_and_states_match_their_postings() -> None:
    result = small_portfolio()
    assert result.ledger, "a simulated portfolio posts transactions"
    balances: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for account_id, _on, _kind, _statement, _memo, postings in result.ledger:
        assert sum(fen for _, fen in postings) == 0
        for name, fen in postings:
            assert isinstance(fen, int)
            balances[account_id][name] += fen
    for state in result.states:
        ledger = balances[state.id]
        principal = ledger["principal"] + ledger["written_off:principal"]
        interest = ledger["interest"] + ledger["written_off:interest"]
        fees = ledger["fees"] + ledger["written_off:fees"]
        assert (principal, interest, fees) == (state.principal, state.interest, state.fees), state.id
        if state.status is not AccountStatus.WRITTEN_OFF:
            assert ledger["written_off:principal"] == 0


def test_portfolio_has_spending_delinquency_collection_and_recovery() -> None:
    result = small_portfolio()
    summary = result.summary()
    assert summary["purchases"] > 1000 and summary["repayments"] > 300
    assert summary["episodes"] > 10 and 0 < summary["cured"] <= summary["episodes"]
    assert summary["promises"]["made"] > 0
    types = {key[1] for key in result.tallies if key[0] == "actions"}
    assert {"sms", "push", "ai_voice", "call"} <= types


def test_skipping_quiet_days_changes_no_action_no_posting_and_no_state() -> None:
    assert quiet_day_filter(default_strategy()) == frozenset({0, 1, 3})
    fast = simulate(SimulationConfig(accounts=150, months=3, seed=5, keep_records=True, workers=1))
    slow = simulate(
        SimulationConfig(accounts=150, months=3, seed=5, keep_records=True, workers=1, skip_quiet_days=False)
    )
    assert fast.actions == slow.actions
    assert fast.contacts == slow.contacts and fast.contacts
    assert fast.tallies == slow.tallies
    assert fast.ledger == slow.ledger
    assert fast.states == slow.states
    # Outside an episode the collection state's stage is inert (nothing reads it; escalation is reset with
    # the episode) and is that of the account's last planned day, which a skipped day does not change.
    assert [_inert_stage_dropped(c) for c in fast.collections] == [
        _inert_stage_dropped(c) for c in slow.collections
    ]
    assert fast.days == slow.days
    assert (fast.behaviour_score == slow.behaviour_score).all()
    assert fast.scores == slow.scores and fast.scores


def _inert_stage_dropped(collection: Collections) -> Collections:
    if collection.state.episode_started_on is not None:
        return collection
    return dataclasses.replace(collection, state=dataclasses.replace(collection.state, stage=None))
