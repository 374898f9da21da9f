"""Champion/challenger assignment: deterministic, sticky, independent per experiment, shares respected."""

import hashlib
from collections import Counter

import pytest

from overdue.strategy import Variant, assign_variant


def test_deterministic_and_sticky() -> None:
    variants = [("champion", 50), ("challenger", 50)]
    first = [assign_variant(f"A{n}", "early_voice", variants) for n in range(200)]
    again = [assign_variant(f"A{n}", "early_voice", variants) for n in range(200)]
    assert first == again


def test_known_assignment() -> None:
    # the slot of an account is fixed forever, so that reports over months stay comparable
    slot = int.from_bytes(hashlib.sha256(b"early_voice:A1").digest()[:8], "big") % 10_000
    expected = "champion" if slot < 5_000 else "challenger"
    assert assign_variant("A1", "early_voice", [("champion", 50), ("challenger", 50)]) == expected


@pytest.mark.parametrize("shares", [(50, 50), (90, 10), (20, 30, 50)])
def test_shares_within_two_percent_on_10000_ids(shares: tuple[int, ...]) -> None:
    variants = [Variant(f"v{i}", share) for i, share in enumerate(shares)]
    counts = Counter(assign_variant(f"ACC{n:06d}", "exp", variants) for n in range(10_000))
    for i, share in enumerate(shares):
        assert abs(counts[f"v{i}"] / 10_000 - share / 100) <= 0.02


def test_experiments_split_independently() -> None:
    variants = [("a", 50), ("b", 50)]
    pairs = Counter(
        (assign_variant(f"A{n}", "one", variants), assign_variant(f"A{n}", "two", variants))
        for n in range(4_000)
    )
    assert all(900 <= count <= 1_100 for count in pairs.values())


def test_adding_a_zero_share_variant_moves_nobody() -> None:
    before = [assign_variant(f"A{n}", "e", [("a", 50), ("b", 50)]) for n in range(500)]
    after = [assign_variant(f"A{n}", "e", [("a", 50), ("b", 50), ("c", 0)]) for n in range(500)]
    assert before == after


def test_shares_must_add_up_to_100() -> None:
    with pytest.raises(ValueError, match="add up to 100"):
        assign_variant("A1", "e", [("a", 50), ("b", 40)])
