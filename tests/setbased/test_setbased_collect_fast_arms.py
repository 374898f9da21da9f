"""The experiment arms computed over the whole id column (:func:`overdue.setbased.collect_tables.arms`)
equal the reference's per-account sticky hash (:func:`overdue.strategy.assign_variant`), id by id: ASCII,
non-ASCII, long, empty and odd ids, experiment names with quotes, colons and Chinese, uneven shares,
several experiments at once."""

from __future__ import annotations

import dataclasses
import random

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overdue.setbased import Unsupported
from overdue.setbased.collect_tables import arms, combinations, variant_slots
from overdue.strategy import default_strategy
from overdue.strategy.decide import HASH_BUCKETS, assign_variant
from overdue.strategy.model import Experiment, Strategy, Variant

ODD = [
    "",
    " ",
    "A1",
    "账户-000123",
    "客户🙂👍",
    "Ünïcödé-ñ",
    "O'Brien",
    'quote"d',
    "semi;colon -- comment",
    "back\\slash",
    "tab\tnew\nline",
    "nul\x00inside",
    "0x41",
    "x" * 5_000,
    "长" * 3_000,
]


def ids(count: int, seed: int) -> list[str]:
    """``count`` ids: the odd ones above, numbered ones as a portfolio has, and random Unicode."""
    rng = random.Random(seed)
    alphabet = "abcXYZ019-_:'\"中文花呗逾期éß€🙂\x01 "
    drawn = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(count // 4)]
    numbered = [f"A{n:08d}" for n in range(count - len(drawn) - len(ODD))]
    return [*ODD, *drawn, *numbered]


def accounts_of(account_ids: list[str]) -> pa.Table:
    keys = list(range(len(account_ids)))
    random.Random(1).shuffle(keys)  # keys need not follow the ids' order
    return pa.table({"account_key": pa.array(keys, pa.int64()), "account_id": pa.array(account_ids)})


def with_experiments(*experiments: Experiment) -> Strategy:
    return dataclasses.replace(default_strategy(), experiments=tuple(experiments))


def experiment(name: str, *shares: int) -> Experiment:
    return Experiment(name, tuple(Variant(f"v{n}", share) for n, share in enumerate(shares)))


def reference_combos(strategy: Strategy, account_ids: list[str]) -> list[int]:
    index = {combo: n for n, combo in enumerate(combinations(strategy))}
    return [
        index[tuple(assign_variant(i, e.name, e.variants) for e in strategy.experiments)] for i in account_ids
    ]


def by_key(table: pa.Table) -> dict[int, int]:
    return dict(zip(table["account_key"].to_pylist(), table["combo"].to_pylist(), strict=True))


STRATEGIES = {
    "huabei": default_strategy(),
    "uneven": with_experiments(experiment("early_voice", 1, 9, 90)),
    "three": with_experiments(
        experiment("cadence", 30, 70),
        experiment('它\'s:实验 "名"', 25, 25, 25, 25),
        experiment("", 99, 1),
    ),
    "none": with_experiments(),
}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_the_arms_are_the_reference_sticky_hash_id_by_id(name: str) -> None:
    strategy = STRATEGIES[name]
    account_ids = ids(20_000, seed=len(name))
    accounts = accounts_of(account_ids)
    got = by_key(arms(strategy, accounts))
    want = dict(
        zip(accounts["account_key"].to_pylist(), reference_combos(strategy, account_ids), strict=True)
    )
    assert got == want
    if strategy.experiments:
        assert len(set(got.values())) == len(combinations(strategy))  # every arm has accounts


def test_the_slots_are_the_first_eight_bytes_of_the_hash() -> None:
    import hashlib

    account_ids = ids(2_000, seed=3)
    slots = variant_slots(accounts_of(account_ids), ["early_voice", "o'k"])
    keys = slots["account_key"].to_pylist()
    order = accounts_of(account_ids)["account_key"].to_pylist()
    for experiment_name, column in (("early_voice", "slot_0"), ("o'k", "slot_1")):
        got = dict(zip(keys, slots[column].to_pylist(), strict=True))
        for key, account_id in zip(order, account_ids, strict=True):
            digest = hashlib.sha256(f"{experiment_name}:{account_id}".encode()).digest()
            assert got[key] == int.from_bytes(digest[:8], "big") % HASH_BUCKETS


@settings(max_examples=60, deadline=None)
@given(
    account_ids=st.lists(st.text(min_size=0, max_size=300), min_size=1, max_size=40, unique=True),
    name=st.text(min_size=0, max_size=40),
    shares=st.sampled_from([(50, 50), (1, 99), (10, 20, 30, 40), (100,)]),
)
def test_any_text_is_split_as_the_reference_splits_it(
    account_ids: list[str], name: str, shares: tuple[int, ...]
) -> None:
    strategy = with_experiments(experiment(name, *shares))
    accounts = accounts_of(account_ids)
    want = dict(
        zip(accounts["account_key"].to_pylist(), reference_combos(strategy, account_ids), strict=True)
    )
    assert by_key(arms(strategy, accounts)) == want


def test_too_many_combinations_are_refused() -> None:
    many = with_experiments(*(experiment(f"e{n}", 50, 50) for n in range(9)))
    with pytest.raises(Unsupported, match="combinations"):
        arms(many, accounts_of(["A1"]))
