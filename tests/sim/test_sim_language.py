"""English-speaking borrowers in the simulator: a share drawn from its own stream, carried by the accounts,
and nothing else about the portfolio moved by it; the demo storing them is tested with the demo's CLI."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from overdue.sim import SimulationConfig, simulate
from overdue.sim.borrowers import make_borrowers
from overdue.sim.limits import book_borrowers

START = date(2026, 1, 1)


def test_a_share_of_english_speakers_changes_only_the_language() -> None:
    chinese = make_borrowers(400, 7, START)
    mixed = make_borrowers(400, 7, START, english_share=0.3)
    assert {b.language for b in chinese} == {"zh-CN"}
    english = sum(b.language == "en" for b in mixed)
    assert 80 <= english <= 160  # about 120 of 400
    assert [dataclasses.replace(b, language="zh-CN") for b in mixed] == chinese
    assert {b.language for b in make_borrowers(50, 7, START, english_share=1.0)} == {"en"}
    # The same borrowers read English whatever else is asked of the portfolio.
    assert [b.language for b in make_borrowers(400, 7, START, english_share=0.3)] == [
        b.language for b in mixed
    ]


def test_booking_by_score_keeps_the_languages_drawn() -> None:
    booked = book_borrowers(60, 5, START, english_share=0.5).borrowers
    plain = book_borrowers(60, 5, START).borrowers
    assert 10 <= sum(b.language == "en" for b in booked) <= 50
    assert [dataclasses.replace(b, language="zh-CN") for b in booked] == plain


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_share_outside_0_to_1_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="English-speaking"):
        make_borrowers(10, 7, START, english_share=share)
    with pytest.raises(ValueError, match="English-speaking"):
        simulate(SimulationConfig(accounts=10, months=1, english_share=share, workers=1))


def test_simulated_accounts_carry_their_borrowers_language() -> None:
    config = SimulationConfig(accounts=120, months=2, seed=3, keep_records=True, workers=1)
    mixed = simulate(dataclasses.replace(config, english_share=0.4))
    chinese = simulate(config)
    drawn = {b.account_id: b.language for b in make_borrowers(120, 3, config.start, english_share=0.4)}
    assert {s.id: s.language for s in mixed.states} == drawn
    assert set(drawn.values()) == {"zh-CN", "en"}
    # The share moves nothing else: the same ledger, actions and tallies.
    assert mixed.ledger == chinese.ledger
    assert mixed.actions == chinese.actions
    assert mixed.tallies == chinese.tallies
    assert [dataclasses.replace(s, language="zh-CN") for s in mixed.states] == list(chinese.states)
