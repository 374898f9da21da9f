"""Fraudulent borrowers in the simulator (``BehaviourModel.fraud_share``): drawn from a stream of their own,
half of them unreachable from the start; they spend more, pay no statement and seldom repay once past due.
The default share is 1 % (``DEFAULT_FRAUD_SHARE``); with a share of 0 nobody is fraudulent."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest

from overdue.sim import SimulationConfig, simulate
from overdue.sim.borrowers import make_borrowers
from overdue.sim.limits import book_borrowers
from overdue.sim.model import DEFAULT_FRAUD_SHARE, BehaviourModel

START = date(2026, 1, 1)


def test_a_share_of_fraud_changes_only_those_borrowers() -> None:
    plain = make_borrowers(1000, 7, START)
    mixed = make_borrowers(1000, 7, START, fraud_share=0.1)
    assert not any(b.fraud for b in plain)
    fraud = [b for b in mixed if b.fraud]
    assert 60 <= len(fraud) <= 140  # about 100 of 1,000
    # Half of them (about) cannot be reached; every other borrower is the one drawn without fraud.
    assert 0.3 <= sum(b.unreachable for b in fraud) / len(fraud) <= 0.7
    for before, after in zip(plain, mixed, strict=True):
        if after.fraud:
            assert dataclasses.replace(after, fraud=False, unreachable=before.unreachable) == before
            assert after.unreachable >= before.unreachable
        else:
            assert after == before
    # The same borrowers are fraudulent whatever else is asked of the portfolio.
    english = make_borrowers(1000, 7, START, english_share=0.3, fraud_share=0.1)
    assert [b.fraud for b in english] == [b.fraud for b in mixed]
    # Booking by application score books the applicants drawn, fraudulent ones among them.
    booked = book_borrowers(60, 5, START, fraud_share=0.2).borrowers
    drawn = {(b.name, b.phone): b.fraud for b in make_borrowers(125, 5, START, fraud_share=0.2)}
    assert any(b.fraud for b in booked)
    assert all(b.fraud == drawn[(b.name, b.phone)] for b in booked)


def test_the_default_portfolio_holds_one_percent_fraud() -> None:
    assert BehaviourModel().fraud_share == DEFAULT_FRAUD_SHARE == 0.01
    default = make_borrowers(5_000, 7, START, fraud_share=DEFAULT_FRAUD_SHARE)
    assert 30 <= sum(b.fraud for b in default) <= 75  # about 50 of 5,000


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_fraud_share_outside_0_to_1_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="fraudulent borrowers must be within 0–1"):
        make_borrowers(10, 7, START, fraud_share=share)


def test_fraudulent_borrowers_pay_no_statement_and_stay_past_due() -> None:
    config = SimulationConfig(
        accounts=400, months=3, seed=11, workers=1, model=BehaviourModel(fraud_share=0.2)
    )
    result = simulate(config)
    fraud = np.array([b.fraud for b in result.borrowers])
    assert 50 <= fraud.sum() <= 110
    # Every fraudulent account that spent (nearly all: they spend three times as often) is past due at the
    # last month end; they paid no statement, so nothing was repaid before their first due date.
    spent = result.outstanding[:, -1] > 0
    past_due = result.dpd[:, -1] > 0
    assert (fraud & spent).sum() >= 0.9 * fraud.sum()
    assert past_due[fraud & spent].mean() >= 0.9
    assert past_due[~fraud & spent].mean() <= 0.3
    # They owe more: a fraudulent account's balance is on average well above the others'.
    assert result.outstanding[fraud & spent, -1].mean() > 2 * result.outstanding[~fraud & spent, -1].mean()
    # With a share of 0 nobody is fraudulent, and every other borrower lives the same life: their draws are
    # their own, whoever else is in the portfolio.
    plain = simulate(dataclasses.replace(config, model=BehaviourModel(fraud_share=0.0)))
    assert not any(b.fraud for b in plain.borrowers)
    honest = np.flatnonzero(~fraud)
    assert [plain.states[i] for i in honest] == [result.states[i] for i in honest]
