"""Deciding over columns (overdue.sim.decide) against the reference decide, account by account, on
random facts: the shipped huabei ladder and a strategy using every construct of the language."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from overdue.sim.decide import ArrayStrategy
from overdue.strategy import AccountFacts, decide
from overdue.strategy.facts import BUCKETS, CONTACTABILITY, PLAN_STATES, PROMISE_STATES, STATUSES
from overdue.strategy.loader import load_strategy, shipped_strategy
from overdue.strategy.model import Strategy

ON = date(2026, 6, 1)
SINK = Path(__file__).parent.parent / "setbased" / "setbased_sink_strategy.yaml"


def random_facts(strategy: Strategy, rng: random.Random, k: int) -> AccountFacts:
    """Facts spread over every stage, pause and schedule of ``strategy``, with ties and edges hit often."""
    dpd = rng.choice([0, 0, 0, 1, 2, 3, 4, 5, 8, 13, 15, 16, 20, 21, 30, 31, 45, 60, 61, 90, 91, 120, 150])
    dpd = rng.choice([dpd, rng.randint(0, 800), 179, 180, 181, 211, 720, 721])
    maybe = rng.random

    def some(values: tuple[str, ...]) -> str:
        return rng.choice(values)

    def optional(value: int) -> int | None:
        return None if maybe() < 0.3 else value

    treatments = [t.id for t in strategy.treatments]
    last_done = {t: ON - timedelta(days=rng.randint(0, 40)) for t in treatments if maybe() < 0.35}
    return AccountFacts(
        account_id=rng.choice(["B001", f"A{k:05d}"]),
        product=rng.choice(["huabei", "huabei", "other"]),
        on=ON,
        days_past_due=dpd,
        bucket=some(BUCKETS),
        overdue_balance=rng.choice([0, 49_999, 50_000, 50_001, 999_999, 1_000_000, 1_000_001, 5_000_000]),
        total_due=rng.choice([0, 49_999, 50_000, 2_000_000]),
        days_to_due=optional(rng.randint(-10, 8)),
        minimum_remaining=rng.choice([0, 1, 5_000]),
        status=some(STATUSES),
        contactability=some(CONTACTABILITY),
        promise=some(PROMISE_STATES),
        plan=some(PLAN_STATES),
        dispute=maybe() < 0.15,
        litigation_hold=maybe() < 0.15,
        cease=maybe() < 0.1,
        sold=maybe() < 0.1,
        validation_notice_on=None if maybe() < 0.7 else ON - timedelta(days=rng.randint(0, 30)),
        attempts=rng.randint(0, 8),
        connects=rng.randint(0, 3),
        days_since_last_contact=optional(rng.randint(0, 12)),
        score=optional(rng.randint(0, 100)),
        behaviour_score=optional(rng.randint(300, 800)),
        escalation=rng.choice([0, 0, 0, 1, 2, 3]),
        agency=rng.choice([None, None, "unassigned", "A1"]),
        days_placed=optional(rng.choice([0, 9, 10, 29, 30, 89, 90, 91])),
        last_done=last_done,
    )


@pytest.mark.parametrize("source", ["huabei", "sink"])
def test_decisions_match_the_reference(source: str) -> None:
    strategy = shipped_strategy("huabei") if source == "huabei" else load_strategy(SINK)
    rng = random.Random(7)
    facts = [random_facts(strategy, rng, k) for k in range(4_000)]
    arrays = ArrayStrategy(strategy)
    columns = arrays.columns(facts)
    decided = arrays.decide(columns)
    planned: dict[int, list[object]] = {}
    for row, treatment in zip(decided.rows.tolist(), decided.treatments.tolist(), strict=True):
        planned.setdefault(row, []).append(arrays.action(treatment, int(columns.combination[row])))
    stages, pauses, actions = set(), set(), 0
    for row, f in enumerate(facts):
        expected = decide(strategy, f, trace=False)
        stage = int(decided.stage[row])
        pause = int(decided.pause[row])
        assert (strategy.stages[stage].name if stage >= 0 else None) == expected.stage, (row, f)
        assert (strategy.pauses[pause].name if pause >= 0 else None) == expected.paused_by, (row, f)
        assert tuple(planned.get(row, [])) == expected.actions, (row, f)
        stages.add(expected.stage)
        pauses.add(expected.paused_by)
        actions += len(expected.actions)
    # The facts reach every stage and pause, and plenty of actions: the comparison covers them.
    assert stages >= {s.name for s in strategy.stages}
    assert pauses >= {p.name for p in strategy.pauses}
    assert actions > 1_000


def test_columns_follow_the_variants_hash() -> None:
    strategy = load_strategy(SINK)
    arrays = ArrayStrategy(strategy)
    ids = [f"A{k:05d}" for k in range(300)]
    combinations = arrays.combinations_of(ids)
    seen = {arrays.combinations[c] for c in combinations.tolist()}
    assert len(seen) == len(arrays.combinations) == 6  # 2 × 3 variants, each combination drawn
