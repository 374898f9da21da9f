"""Limit changes: when a review runs, which decisions become changes, how a change applies to an account,
and the limit in force on a day. Pure functions, shared by the end-of-day (:mod:`overdue.engine.limits`)
and the simulator, so both follow one rule.

- **Schedule** (:class:`ReviewSchedule`): by default every account is reviewed on its statement day, after
  billing (the end-of-day's *bill* step), once it has at least one finished cycle.
- **The review of one account** (:func:`change_to_record`): a line that is not closed and has a finished
  cycle is reviewed (:func:`overdue.risk.review.review_limit`), and its decision kept when it is a change.
- **Which decisions are changes** (:func:`is_change`): a raise or a cut always; a freeze or a close once per
  delinquency episode (not again while the last recorded change is the same action and the account has not
  been current since); a keep never.
- **Applying** (:func:`apply_change`): a raise or a cut sets the limit on its effective date (a cut at most
  down to what is owed then, :func:`limit_to_apply`); a freeze freezes an active line — the line unfreezes by
  the product's own rule once everything overdue is repaid. A close closes the line for good (status
  ``closed``): no purchase and no unfreeze ever again, while what is owed is still repaid, accrues, ages and
  can be written off (:class:`~overdue.domain.state.AccountStatus`); the bureau is told ``C`` once nothing is
  owed.
- **The limit in force on a day** (:func:`limit_in_force`): what the credit bureau is told at a month end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from overdue.domain.errors import InvalidInput
from overdue.domain.money import Fen
from overdue.domain.state import AccountState, AccountStatus, BucketSpell, Statement
from overdue.domain.terms import ProductTerms
from overdue.risk.review import (
    ReviewDecision,
    ReviewInput,
    ReviewParameters,
    cut_floor,
    cycles_from_history,
    review_limit,
)

CHANGE_ACTIONS = ("raise", "cut", "freeze", "close")
"""Decisions that are recorded as limit changes (``keep`` is not)."""
NOTICE_ACTIONS = CHANGE_ACTIONS
"""Changes the borrower is sent a notice of: every one (:mod:`overdue.risk.notices`)."""


@dataclass(frozen=True)
class ReviewSchedule:
    """When the end-of-day reviews limits.

    enabled: False turns the review off. day_of_month: review on this day of each month (1–28); None: on
    each account's statement day (after billing).
    """

    enabled: bool = True
    day_of_month: int | None = None

    def __post_init__(self) -> None:
        if self.day_of_month is not None and not 1 <= self.day_of_month <= 28:
            raise InvalidInput("the review's day_of_month must be 1–28")

    def due(self, terms: ProductTerms, on: date) -> bool:
        """Whether accounts of a product with ``terms`` are reviewed on ``on``."""
        if not self.enabled:
            return False
        return on.day == (self.day_of_month if self.day_of_month is not None else terms.statement_day)


@dataclass(frozen=True)
class PastChange:
    """A limit change already recorded for the account."""

    review_date: date
    effective_on: date
    action: str
    old_limit: Fen
    new_limit: Fen
    applied_on: date | None


def past_changes(rows: Sequence[dict[str, Any]]) -> list[PastChange]:
    """Stored ``limit_changes`` rows as the review reads them."""
    return [
        PastChange(
            r["review_date"],
            r["effective_on"],
            r["action"],
            r["old_limit_fen"],
            r["new_limit_fen"],
            r["applied_on"],
        )
        for r in rows
    ]


def parameters_for(params: ReviewParameters, terms: ProductTerms) -> ReviewParameters:
    """``params`` within the product: limits inside its range, no freeze before the product freezes."""
    return dataclasses.replace(
        params,
        minimum_limit=max(params.minimum_limit, terms.min_limit),
        raise_cap=min(params.raise_cap, terms.max_limit),
        freeze_dpd=max(params.freeze_dpd, terms.freeze_at_dpd),
        close_dpd=max(params.close_dpd, terms.freeze_at_dpd),
    )


def has_finished_cycle(statements: Sequence[Statement], on: date, grace_days: int) -> bool:
    """Whether any statement's due date (plus grace) has passed by ``on``."""
    return any(s.due_date + timedelta(days=grace_days + 1) <= on for s in statements)


def limit_in_force(changes: Sequence[PastChange], current_limit: Fen, day: date) -> Fen:
    """The account's limit at the end of ``day``, from its applied changes and its limit now.

    A change applied after ``day`` had not happened yet then: the limit was that change's old limit.
    """
    applied = sorted(
        (c for c in changes if c.applied_on is not None and c.new_limit != c.old_limit),
        key=lambda c: (c.applied_on, c.review_date),
    )
    for change in applied:
        assert change.applied_on is not None
        if change.applied_on > day:
            return change.old_limit
    return current_limit


def review_input(
    state: AccountState,
    statements: Sequence[Statement],
    spells: Sequence[BucketSpell],
    on: date,
    changes: Sequence[PastChange] = (),
) -> ReviewInput:
    """The review's input for ``state`` after the end-of-day of ``on``.

    statements: every statement of the account (any order); spells: its full bucket history; changes: its
    recorded limit changes (the last raise or cut blocks a raise for a while; each cycle's utilisation is
    measured against the limit in force on its statement date).
    """
    moves = [c for c in changes if c.action in ("raise", "cut")]
    last = max((c.effective_on for c in moves), default=None)
    cycles = cycles_from_history(statements, spells, state.credit_limit, on, state.terms.grace_days)
    if changes:
        cycles = tuple(
            dataclasses.replace(c, credit_limit=limit_in_force(changes, state.credit_limit, c.statement_date))
            for c in cycles
        )
    return ReviewInput(
        account_id=state.id,
        as_of=on,
        credit_limit=state.credit_limit,
        status=str(state.status),
        days_past_due=state.days_past_due,
        cycles=cycles,
        last_limit_change=last,
        owed=state.principal,
    )


def delinquent_since(spells: Sequence[BucketSpell]) -> date | None:
    """When the current run of delinquent buckets began (None: the account is current)."""
    started = None
    for spell in sorted(spells, key=lambda s: s.entered, reverse=True):
        if spell.bucket == "M0":
            break
        started = spell.entered
    return started


def is_change(decision: ReviewDecision, last: PastChange | None, episode_start: date | None) -> bool:
    """Whether ``decision`` is recorded as a change (see the module docstring).

    last: the account's latest recorded change; episode_start: :func:`delinquent_since`.
    """
    if decision.action in ("raise", "cut"):
        return decision.new_limit != decision.current_limit
    if decision.action not in ("freeze", "close"):
        return False
    if last is None or last.action != decision.action:
        return True
    return episode_start is not None and last.review_date < episode_start


def change_to_record(
    state: AccountState,
    statements: Sequence[Statement],
    spells: Sequence[BucketSpell],
    on: date,
    changes: Sequence[PastChange],
    params: ReviewParameters,
) -> ReviewDecision | None:
    """The review's decision for ``state`` after its end-of-day of ``on`` when it is a change to record, else
    None: a closed line is not reviewed (it stays closed), nor an account without a finished cycle.

    statements: every statement the account has had; spells: its full bucket history; changes: its recorded
    limit changes, oldest first."""
    if state.status is AccountStatus.CLOSED:
        return None
    if not has_finished_cycle(statements, on, state.terms.grace_days):
        return None
    decision = review_limit(review_input(state, statements, spells, on, changes), params)
    last = changes[-1] if changes else None
    return decision if is_change(decision, last, delinquent_since(spells)) else None


def limit_to_apply(state: AccountState, decided: Fen, params: ReviewParameters) -> tuple[Fen, bool]:
    """The limit a decided change to ``decided`` sets on ``state`` now, and whether it was held up.

    A cut stops at what is owed on the day it takes effect (it may have grown since the review), and never
    raises the limit.
    """
    if decided >= state.credit_limit:
        return decided, False
    floor = min(state.credit_limit, cut_floor(state.principal, params.minimum_limit, params.limit_step))
    return (floor, True) if floor > decided else (decided, False)


def apply_change(state: AccountState, action: str, new_limit: Fen) -> AccountState:
    """``state`` with a change applied: its new limit; for a freeze an active line frozen, for a close an
    active or frozen line closed."""
    status = state.status
    if action == "freeze" and status is AccountStatus.ACTIVE:
        status = AccountStatus.FROZEN
    if action == "close" and status in (AccountStatus.ACTIVE, AccountStatus.FROZEN):
        status = AccountStatus.CLOSED
    state.terms.check_limit(new_limit)
    return dataclasses.replace(state, credit_limit=new_limit, status=status)
