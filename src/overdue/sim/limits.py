"""Credit limits in the simulator: assigned by application score when accounts are booked, and reviewed on
the same schedule and by the same functions as the end-of-day.

**Booking** (:func:`book_borrowers`): applicants are drawn with :func:`overdue.sim.borrowers.make_borrowers`;
each one's application form is drawn from its latent traits (:func:`overdue.risk.data.application_form`,
the process the shipped ``application-sim-v1.json`` scorecard was trained on), scored, and given a limit by
the band table (:func:`overdue.risk.limits.assign_limit`: score band, thin-file floor, income cap).
Declined applicants are not booked: the portfolio is the first ``count`` approved ones, renumbered in order.

**Review** (:class:`LimitBook`): on each review day (:class:`~overdue.risk.changes.ReviewSchedule`, default
the statement day, after billing) every account is reviewed by the end-of-day's own rule,
:func:`overdue.risk.changes.change_to_record` (a line not closed, with a finished cycle; the decision kept
when it is a change); changes are applied on their effective date (:func:`~overdue.risk.changes.
apply_change`). Each change recorded is told to the borrower as the end-of-day tells it: a ``limit_notice``
action (an SMS of stage ``limit_review``, counted and costed with the other actions, with no variant).
Tallies: ``("limit_changes", action, month)`` and ``("limit_band", band)``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from overdue.domain.state import AccountState, Statement
from overdue.domain.terms import ProductTerms
from overdue.risk.changes import (
    PastChange,
    ReviewSchedule,
    apply_change,
    change_to_record,
    limit_to_apply,
    parameters_for,
)
from overdue.risk.data import APPLICATION_STREAM, application_form
from overdue.risk.limits import assign_limit, load_limit_table
from overdue.risk.modelfiles import shipped_scorecard
from overdue.risk.review import ReviewDecision, ReviewParameters
from overdue.sim.borrowers import Borrower, make_borrowers

DRAW_MARGIN = 1.25
"""Applicants drawn per account booked (about 8 % are declined); more are drawn if too few pass."""


@dataclass(frozen=True)
class Booking:
    """The portfolio booked: borrowers with their assigned limits, and each one's score and band."""

    borrowers: list[Borrower]
    scores: list[float]
    bands: list[str]
    applicants: int
    """Applicants scored to book them (the declined ones included)."""


def book_borrowers(
    count: int, seed: int, start: date, english_share: float = 0.0, fraud_share: float = 0.0
) -> Booking:
    """The first ``count`` approved applicants drawn from ``seed``, with limits by application score
    (``english_share``, ``fraud_share``: as :func:`~overdue.sim.borrowers.make_borrowers` takes them)."""
    drawn = int(count * DRAW_MARGIN) + 50
    while True:
        applicants = make_borrowers(drawn, seed, start, english_share, fraud_share)
        form = application_form(applicants, np.random.default_rng([seed, APPLICATION_STREAM]))
        model = shipped_scorecard("sim")
        table = load_limit_table()
        booked: list[Borrower] = []
        scores: list[float] = []
        bands: list[str] = []
        for i, applicant in enumerate(applicants):
            fields = {name: _value(values[i]) for name, values in form.items()}
            score = model.score(fields, reasons=0).score
            decision = assign_limit(
                score,
                table,
                credit_history_months=int(form["credit_history_months"][i]),
                monthly_income_fen=int(form["monthly_income_yuan"][i]) * 100,
            )
            if not decision.approved:
                continue
            k = len(booked)
            booked.append(
                dataclasses.replace(
                    applicant, index=k, account_id=f"SIM{k:07d}", credit_limit=decision.limit_fen
                )
            )
            scores.append(score)
            bands.append(decision.band)
            if len(booked) == count:
                return Booking(booked, scores, bands, i + 1)
        drawn *= 2


def _value(value: object) -> object:
    """A form value as the scorecard reads it: NumPy scalars as Python numbers, NaN as missing."""
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


class LimitBook:
    """The limit review of one shard's accounts: past changes, pending ones, and the tallies."""

    def __init__(self, size: int, terms: ProductTerms, counts: Counter[tuple[str, ...]]) -> None:
        self.terms = terms
        self.params = parameters_for(ReviewParameters(), terms)
        self.schedule = ReviewSchedule()
        self.changes: list[list[PastChange]] = [[] for _ in range(size)]
        self.pending: dict[int, list[int]] = {}
        """Account → positions in its ``changes`` still to apply (a cut in its notice period)."""
        self.counts = counts

    def due(self, on: date) -> bool:
        return self.schedule.due(self.terms, on)

    def review(
        self, i: int, state: AccountState, statements: Sequence[Statement], on: date
    ) -> tuple[AccountState, ReviewDecision | None]:
        """Review account ``i`` (``statements``: all it has had) as the end-of-day does
        (:func:`~overdue.risk.changes.change_to_record`); returns its state with a change applied when the
        change takes effect today, and the change recorded today (None when none: the borrower is told of
        it, :data:`~overdue.risk.changes.NOTICE_ACTIONS`)."""
        changes = self.changes[i]
        decision = change_to_record(state, statements, state.bucket_history, on, changes, self.params)
        if decision is None:
            return state, None
        if not self.record(
            i, on, decision.action, decision.current_limit, decision.new_limit, decision.effective_on
        ):
            return state, decision
        return self._apply(i, len(changes) - 1, state, on), decision

    def record(self, i: int, on: date, action: str, old: int, new: int, effective_on: date) -> bool:
        """Record a change decided on ``on``; returns whether it takes effect today (the caller applies it),
        else it waits (:meth:`due_today`)."""
        self.counts[("limit_changes", action, f"{on.year:04d}-{on.month:02d}")] += 1
        changes = self.changes[i]
        changes.append(PastChange(on, effective_on, action, old, new, None))
        if effective_on > on:
            self.pending.setdefault(i, []).append(len(changes) - 1)
            return False
        return True

    def applied(self, i: int, limit: int, on: date) -> None:
        """Account ``i``'s latest change took effect today with ``limit`` (a raise, freeze or close, whose
        limit is never held up: :func:`~overdue.risk.changes.limit_to_apply`)."""
        self.changes[i][-1] = dataclasses.replace(self.changes[i][-1], new_limit=limit, applied_on=on)

    def due_today(self, on: date) -> list[int]:
        """Accounts with a pending change whose effective date has come, in account order."""
        return sorted(
            i for i, positions in self.pending.items() if any(self._ready(i, p, on) for p in positions)
        )

    def apply_pending(self, i: int, state: AccountState, on: date) -> AccountState:
        """``state`` with account ``i``'s changes that take effect by ``on`` applied."""
        positions = self.pending.pop(i, [])
        for position in positions:
            if self._ready(i, position, on):
                state = self._apply(i, position, state, on)
        waiting = [p for p in positions if self.changes[i][p].applied_on is None]
        if waiting:
            self.pending[i] = waiting
        return state

    def _ready(self, i: int, position: int, on: date) -> bool:
        return self.changes[i][position].effective_on <= on

    def _apply(self, i: int, position: int, state: AccountState, on: date) -> AccountState:
        change = self.changes[i][position]
        limit, _ = limit_to_apply(state, change.new_limit, self.params)
        self.changes[i][position] = dataclasses.replace(change, new_limit=limit, applied_on=on)
        return apply_change(state, change.action, limit)
