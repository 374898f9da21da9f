"""The array runner (overdue.sim.array_shard) against the reference shard: the same spec run both ways gives
the same tallies, panels, daily series, final states and collection records."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from overdue.risk.changes import change_to_record
from overdue.sim import array_shard
from overdue.sim.array_shard import run_array_shard
from overdue.sim.borrowers import make_borrowers
from overdue.sim.calls import CallPolicy
from overdue.sim.model import BehaviourModel
from overdue.sim.run import SimulationConfig, array_runner_refuses, default_strategy_text, simulate
from overdue.sim.shard import ShardSpec, run_shard
from overdue.sim.uplift import experiment_strategy_text

START = date(2026, 1, 1)
PANELS = ("bucket", "dpd", "overdue", "outstanding", "behaviour_score", "daily_buckets", "daily_past_due")
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


def test_the_reviews_left_out_record_no_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every account whose reference review records a change is among the review's candidates (the others
    are not reviewed by the reference at all), on every review day of a portfolio with raises, cuts, freezes
    and closes."""
    shards: list[array_shard.ArrayShard] = []
    original = array_shard.review_candidates
    recorded: Counter[str] = Counter()

    class Watched(array_shard.ArrayShard):
        def __init__(self, spec: ShardSpec) -> None:
            super().__init__(spec)
            shards.append(self)

    def checked(book, rows, on, params, *rest):  # type: ignore[no-untyped-def]
        reviewed = original(book, rows, on, params, *rest)
        picked = {i: (action, new, doubtful) for i, action, new, doubtful in reviewed.items()}
        shard = shards[-1]
        for i in rows.tolist():
            state = shard.state(i)
            spells = state.bucket_history
            change = change_to_record(state, state.statements, spells, on, shard.limits.changes[i], params)
            if change is not None:
                recorded[change.action] += 1
                assert i in picked, (on, state.id, change)
                action, new, doubtful = picked[i]
                assert doubtful or (action, new) == (change.action, change.new_limit), (on, state.id, change)
        return reviewed

    monkeypatch.setattr(array_shard, "ArrayShard", Watched)
    monkeypatch.setattr(array_shard, "review_candidates", checked)
    run_array_shard(_spec(200, 10, 21, default_strategy_text(), BehaviourModel(fraud_share=0.1)))
    assert set(recorded) == {"raise", "cut", "freeze", "close"}


CROWDED = """
strategy: crowded
description: more calls and visits a day than China's rulebook lets through, for the checks at contact time
templates:
  note:
    zh-CN: "【{lender}】您有{amount}元待还，请通过{repay_channel}还款。回TD退订"
    en: "{lender}: {amount} CNY to repay through {repay_channel}. Reply STOP to opt out."
stages:
  - name: current
    when: {days_past_due: 0}
    treatments:
      - {id: remind, type: sms, template: note, on_days_to_due: [1]}
  - name: late
    when: {days_past_due: {min: 1}}
    treatments:
      - {id: robo1, type: ai_voice, template: note, priority: 1}
      - {id: robo2, type: ai_voice, template: note, priority: 2}
      - {id: call1, type: call, priority: 3}
      - {id: robo3, type: ai_voice, template: note, priority: 4}
      - {id: call2, type: call, priority: 5}
      - {id: robo4, type: ai_voice, template: note, priority: 6}
      - {id: robo5, type: ai_voice, template: note, priority: 7}
      - {id: call3, type: call, priority: 8}
      - {id: visit1, type: field_visit, priority: 9, from_dpd: 20}
      - {id: visit2, type: field_visit, priority: 10, from_dpd: 20}
      - {id: friend, type: contact_call, template: note, party: contact, priority: 11,
         when: {contactability: lost_contact}}
"""


def test_the_contacts_over_the_days_caps_are_refused_at_their_time_alike() -> None:
    spec = _spec(100, 4, 8, CROWDED, BehaviourModel(fraud_share=0.1))
    expected = run_shard(spec)
    refused = {k[1] for k, v in expected.tallies.items() if k[0] == "contacts_refused" and v}
    assert {
        "cn.connected_voice_per_day",
        "cn.unanswered_per_number_per_day",
        "cn.field_visit_per_day",
    } <= refused
    _compare(spec)


def test_both_engines_simulate_the_same_portfolio() -> None:
    """simulate() over arrays (shards grouped) and with the reference runner: the same result."""
    config = SimulationConfig(accounts=1_100, months=3, seed=44, workers=1, engine="reference")
    expected = simulate(config)
    actual = simulate(dataclasses.replace(config, engine="arrays"))
    assert actual.summary() == expected.summary()
    assert +actual.tallies == +expected.tallies
    assert np.array_equal(actual.collection_score, expected.collection_score, equal_nan=True)
    for name in PANELS:
        assert np.array_equal(getattr(actual, name), getattr(expected, name)), name
    assert list(actual.states) == list(expected.states)
    assert actual.states.count_status("written_off") == sum(  # type: ignore[attr-defined]
        str(s.status) == "written_off" for s in expected.states
    )
    assert actual.collections == expected.collections


def test_the_array_engine_refuses_what_it_does_not_run() -> None:
    config = SimulationConfig(accounts=10, months=1, engine="arrays", keep_records=True)
    with pytest.raises(ValueError, match="keeps no records"):
        simulate(config)
    assert array_runner_refuses(dataclasses.replace(config, keep_records=False)) is None


@pytest.mark.slow
@pytest.mark.parametrize(
    "changes",
    [
        {"book_by_score": True, "english_share": 0.3},  # the demo's booking, borrowers writing English
        {"model": BehaviourModel(fraud_share=0.0), "seed": 7},
        {"strategy_text": SINK.read_text(encoding="utf-8"), "seed": 8},
    ],
)
def test_both_engines_agree_over_a_year(changes: dict[str, object]) -> None:
    """A year of 1,500 accounts, both engines, with the demo's booking, no fraud, or an experiment."""
    config = dataclasses.replace(
        SimulationConfig(accounts=1_500, months=12, workers=2, engine="reference"),
        **changes,  # type: ignore[arg-type]
    )
    expected = simulate(config)
    actual = simulate(dataclasses.replace(config, engine="arrays"))
    assert actual.summary() == expected.summary()
    assert +actual.tallies == +expected.tallies
    for name in PANELS:
        assert np.array_equal(getattr(actual, name), getattr(expected, name)), name
    assert list(actual.states) == list(expected.states)
    assert actual.collections == expected.collections


@pytest.mark.parametrize("priority", ["balance", "expected", "random", "oracle"])
def test_a_call_capacity_gives_the_reference_result(priority: str) -> None:
    """Human calls wait and are made in priority order up to the shard's capacity, the rest refused by it:
    the same calls made and left over, the same tallies (uplift follow-up included), as the reference."""
    spec = dataclasses.replace(
        _spec(250, 5, 13, experiment_strategy_text(), BehaviourModel(fraud_share=0.05)),
        calls=CallPolicy(6, priority),
    )
    expected = run_shard(spec)
    assert expected.tallies[("call_queue", "over")] > 0 and expected.tallies[("call_queue", "made")] > 0
    _compare(spec)
