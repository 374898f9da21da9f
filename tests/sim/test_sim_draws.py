"""Common random numbers: a borrower's draws never depend on what was done to other accounts, so two runs of
one portfolio differ only where the strategy (or the call order) made them differ."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from overdue.sim import SimulationConfig, SimulationResult, simulate
from overdue.sim.calls import CallPolicy
from overdue.sim.draws import ROW, BlockKeyedDraws, KeyedDraws

DAY = 739_000


def test_an_accounts_draws_are_its_own_whatever_the_others_draw() -> None:
    quiet, busy = KeyedDraws(5, 3, 0, 10), KeyedDraws(5, 3, 0, 10)
    for other in range(10):
        if other != 4:
            busy.take(other, DAY, 3 * ROW)  # past the block: the others' own streams too
    mine = busy.take(4, DAY, ROW + 5)
    assert mine == quiet.take(4, DAY, ROW + 5)
    assert all(0.0 <= u < 1.0 for u in mine) and len(set(mine)) == len(mine)


def test_draws_are_keyed_by_seed_stream_shard_and_day() -> None:
    first = KeyedDraws(5, 3, 0, 4).take(1, DAY, 2)
    assert KeyedDraws(5, 3, 0, 4).take(1, DAY, 2) == first
    for other in (KeyedDraws(6, 3, 0, 4), KeyedDraws(5, 2, 0, 4), KeyedDraws(5, 3, 1, 4)):
        assert other.take(1, DAY, 2) != first
    draws = KeyedDraws(5, 3, 0, 4)
    draws.take(1, DAY - 1, 2)  # a draw on an earlier day changes nothing on a later one
    assert draws.take(1, DAY, 2) == first
    assert draws.take(1, DAY + 1, 2) != first


def _ledgers(result: SimulationResult) -> dict[str, list[object]]:
    by_account: dict[str, list[object]] = defaultdict(list)
    for row in result.ledger:
        by_account[row[0]].append(row)
    return by_account


def test_accounts_the_call_capacity_never_touched_live_the_same_life_in_both_runs() -> None:
    config = SimulationConfig(accounts=250, months=3, seed=11, workers=1, keep_records=True)
    free = simulate(config)
    no_calls = simulate(SimulationConfig(**{**config.__dict__, "calls": CallPolicy(0)}))
    called = {row[0] for result in (free, no_calls) for row in result.actions if row[3] == "call"}
    untouched = [b.account_id for b in free.borrowers if b.account_id not in called]
    assert called and len(untouched) > 150
    free_ledger, no_calls_ledger = _ledgers(free), _ledgers(no_calls)
    assert all(free_ledger[a] == no_calls_ledger[a] for a in untouched)
    # The called accounts' lives differ: no calls, less pressure, other repayments.
    assert any(free_ledger[a] != no_calls_ledger[a] for a in called)


def test_a_batch_of_next_draws_is_each_accounts_own_next_draw() -> None:
    """KeyedDraws.next_many gives each account what one() would, past the block's row too."""
    one, many = KeyedDraws(5, 9, 0, 50), KeyedDraws(5, 9, 0, 50)
    rng = np.random.default_rng(1)
    for day in (700_000, 700_001):
        for _ in range(12):  # more rounds than a block row holds
            rows = np.sort(rng.choice(50, size=20, replace=False)).astype(np.int64)
            expected = [one.one(int(i), day) for i in rows]
            assert many.next_many(rows, day).tolist() == expected


def test_the_draws_of_shards_side_by_side_are_each_shards_own() -> None:
    """BlockKeyedDraws over three shards gives each account what its own shard's KeyedDraws gives."""
    blocks = [(4, 30), (5, 30), (6, 17)]
    together = BlockKeyedDraws(9, 2, blocks)
    apart = [KeyedDraws(9, 2, index, size) for index, size in blocks]
    starts = [0, 30, 60]
    rng = np.random.default_rng(2)
    for day in (700_000, 700_001):
        for _ in range(11):
            rows = np.sort(rng.choice(77, size=25, replace=False)).astype(np.int64)
            expected = []
            for i in rows.tolist():
                k = 0 if i < 30 else 1 if i < 60 else 2
                expected.append(apart[k].one(i - starts[k], day))
            assert together.next_many(rows, day).tolist() == expected
        assert together.take(70, day, 12) == apart[2].take(10, day, 12)
