"""The collection score's inputs derived from an account's state and collection state."""

import dataclasses
from datetime import date

from overdue.domain import account as rules
from overdue.domain.collections import CollectionState
from overdue.domain.state import AccountState, BucketSpell
from overdue.domain.terms import product_terms
from overdue.risk.collection import collection_facts, score_fact

ON = date(2026, 6, 30)


def _state(dpd: int, spells: tuple[BucketSpell, ...]) -> AccountState:
    opened = rules.open_account(
        "R1", "huabei", product_terms("huabei"), date(2025, 1, 5), 300_000, "Asia/Shanghai"
    )
    return dataclasses.replace(opened, days_past_due=dpd, bucket_history=spells)


def test_earlier_episodes_count_m0_to_m1_moves_in_the_year_before_this_episode() -> None:
    spells = (
        BucketSpell("M0", date(2025, 1, 5), date(2025, 3, 12)),
        BucketSpell("M1", date(2025, 3, 12), date(2025, 3, 20)),  # more than 12 months ago: not counted
        BucketSpell("M0", date(2025, 3, 20), date(2025, 9, 11)),
        BucketSpell("M1", date(2025, 9, 11), date(2025, 10, 11)),
        BucketSpell("M2", date(2025, 10, 11), date(2025, 10, 20)),
        BucketSpell("M0", date(2025, 10, 20), date(2026, 6, 11)),
        BucketSpell("M1", date(2026, 6, 11)),  # the current episode
    )
    collection = dataclasses.replace(
        CollectionState("R1"), episode_started_on=date(2026, 6, 11), attempts=4, connects=1
    )
    facts = collection_facts(_state(20, spells), collection, ON)
    assert facts is not None
    assert (facts.days_past_due, facts.earlier_episodes_12m, facts.attempts, facts.connects) == (20, 1, 4, 1)
    assert facts.reachable == 1 and facts.promises_kept == facts.promises_broken == 0
    lost = dataclasses.replace(collection, contactability="lost_contact")
    assert collection_facts(_state(20, spells), lost, ON).reachable == 0  # type: ignore[union-attr]
    score = score_fact(_state(20, spells), collection, ON)
    assert score is not None and 0 <= score <= 100
    assert score_fact(_state(0, spells), collection, ON) is None
