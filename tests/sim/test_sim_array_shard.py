"""The array runner (overdue.sim.array_shard) against the reference shard: the same spec run both ways gives
the same tallies, panels, daily series, final states and collection records."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from overdue.sim.array_shard import run_array_shard
from overdue.sim.borrowers import make_borrowers
from overdue.sim.model import BehaviourModel
from overdue.sim.run import default_strategy_text
from overdue.sim.shard import ShardSpec, run_shard

START = date(2026, 1, 1)
SINK = Path(__file__).parent.parent / "setbased" / "setbased_sink_strategy.yaml"


def _spec(accounts: int, months: int, seed: int, strategy: str, model: BehaviourModel) -> ShardSpec:
    borrowers = make_borrowers(accounts, seed, START, 0.0, model.fraud_share)
    end = date(START.year + (START.month - 1 + months) // 12, (START.month - 1 + months) % 12 + 1, 1)
    return ShardSpec(
        index=0,
        seed=seed,
        borrowers=tuple(borrowers),
        start=START,
        end=date.fromordinal(end.toordinal() - 1),
        strategy_text=strategy,
        model=model,
        keep_records=False,
    )


def _compare(spec: ShardSpec) -> None:
    expected = run_shard(spec)
    actual = run_array_shard(spec)
    assert +actual.tallies == +expected.tallies, sorted(
        (k, actual.tallies.get(k), expected.tallies.get(k))
        for k in set(actual.tallies) | set(expected.tallies)
        if actual.tallies.get(k, 0) != expected.tallies.get(k, 0)
    )[:20]
    for name in (
        "bucket",
        "dpd",
        "overdue",
        "outstanding",
        "behaviour_score",
        "daily_buckets",
        "daily_past_due",
    ):
        assert np.array_equal(getattr(actual, name), getattr(expected, name)), name
    assert np.array_equal(actual.collection_score, expected.collection_score, equal_nan=True)
    for mine, theirs in zip(actual.states, expected.states, strict=True):
        assert mine == theirs, mine.id
    for mine_c, theirs_c in zip(actual.collections, expected.collections, strict=True):
        assert mine_c == theirs_c, mine_c.state.account_id


@pytest.mark.parametrize("seed", [11, 12])
def test_the_array_runner_gives_the_reference_shards_result(seed: int) -> None:
    _compare(_spec(150, 8, seed, default_strategy_text(), BehaviourModel(fraud_share=0.05)))


def test_the_array_runner_follows_a_strategy_with_experiments_and_third_parties() -> None:
    text = SINK.read_text(encoding="utf-8")
    _compare(_spec(120, 6, 5, text, BehaviourModel(fraud_share=0.05)))


def test_the_array_runner_refuses_what_it_does_not_run() -> None:
    spec = _spec(5, 1, 1, default_strategy_text(), BehaviourModel())
    with pytest.raises(ValueError, match="records"):
        run_array_shard(dataclasses.replace(spec, keep_records=True))
