"""Deciding without the trace (``decide(..., trace=False)``, the simulator's way) decides as with it."""

import itertools
from datetime import date, timedelta

from strategy_helpers import MINI, facts

from overdue.sim.run import default_strategy_text
from overdue.strategy import AccountFacts, Decision, Strategy, decide, parse_strategy

ON = date(2026, 6, 1)
TWO_EXPERIMENTS = (
    default_strategy_text()
    + """  - name: call_cadence
    variants:
      - {name: every2, share: 30}
      - {name: every3, share: 70, parameters: {call_every_days: 3}}
"""
)
NO_EXPERIMENT = default_strategy_text()[: default_strategy_text().index("\nexperiments:")] + "\n"


def _grid() -> list[AccountFacts]:
    """Accounts across every stage, pause and schedule of the huabei ladder."""
    done_sets = [
        {},
        {"early_ai_voice": ON - timedelta(days=1), "call_human": ON - timedelta(days=2)},
        {"queue_letter": ON - timedelta(days=9), "field_visit": ON - timedelta(days=3)},
        {"lawyer_letter": ON - timedelta(days=31), "write_off": ON - timedelta(days=20)},
        {"lawyer_letter": ON - timedelta(days=5), "recovery_call": ON - timedelta(days=7)},
    ]
    grid = []
    for n, (dpd, promise, contactability, large, agency, escalation, done) in enumerate(
        itertools.product(
            (0, 1, 2, 3, 4, 7, 16, 17, 31, 45, 61, 90, 91, 120, 180, 181, 212, 720),
            ("none", "pending", "kept", "broken"),
            ("reachable", "lost_contact"),
            (False, True),
            (None, "unassigned"),
            (0, 1, 2),
            range(len(done_sets)),
        )
    ):
        grid.append(
            facts(
                dpd,
                account_id=f"A{n % 97}",
                on=ON,
                days_to_due=(3, 1, 0, 5, None)[n % 5] if dpd == 0 else -dpd,
                promise=promise,
                contactability=contactability,
                overdue_balance=2_000_000 if large else 50_000,
                agency=agency,
                days_placed=None if agency is None else (n % 120),
                escalation=escalation,
                plan=("none", "active")[n % 7 == 0],
                dispute=n % 11 == 0,
                litigation_hold=n % 13 == 0,
                last_done=done_sets[done],
            )
        )
    return grid


def _untraced_equals_traced(strategy: Strategy) -> int:
    grid = _grid()
    for account in grid:
        traced = decide(strategy, account)
        untraced = decide(strategy, account, trace=False)
        assert untraced == Decision(traced.stage, traced.actions, traced.paused_by, ())
        assert untraced == decide(strategy, account, trace=False)  # and again, from what it remembered
    return len(grid)


def test_the_huabei_ladder_decides_alike_without_the_trace() -> None:
    strategy = parse_strategy(default_strategy_text(), name="huabei")
    assert _untraced_equals_traced(strategy) > 5_000


def test_two_experiments_and_none_decide_alike_without_the_trace() -> None:
    two = parse_strategy(TWO_EXPERIMENTS, name="two experiments")
    assert len(two.experiments) == 2
    _untraced_equals_traced(two)
    none = parse_strategy(NO_EXPERIMENT, name="no experiment")
    assert not none.experiments
    _untraced_equals_traced(none)


def test_a_strategy_with_other_parameters_is_not_decided_with_the_first_ones() -> None:
    # Untraced deciding keeps what depends on a strategy alone; a second strategy that shares its stages but
    # not its parameters must not be decided with the first one's.
    first = parse_strategy(MINI, name="mini")
    second = parse_strategy(MINI.replace("voice_from: 4", "voice_from: 9"), name="mini 9")
    account = facts(5)
    assert [a.treatment for a in decide(first, account, trace=False).actions] == ["early_voice"]
    assert decide(second, account, trace=False).actions == ()
    assert decide(first, account, trace=False) == Decision(
        decide(first, account).stage, decide(first, account).actions, None, ()
    )
