"""Dynamic limit review: raise, cut, freeze or close a line from its recent history. Pure functions.

:func:`review_limit` reads a :class:`ReviewInput` (the account's limit, status, DPD and its last statement
cycles) and returns a :class:`ReviewDecision` with reason codes and an effective date. The first rule that
applies wins:

1. **close** when the line is closed or written off, or DPD reaches ``close_dpd``;
2. **freeze** when the line is frozen or DPD reaches ``freeze_dpd``;
3. **cut** by ``cut_share`` (down to the minimum limit) when the last ``near_full_cycles`` cycles were all at
   or above ``near_full_utilisation``, or at least ``minimum_only_cycles`` of the last ``minimum_only_window``
   cycles were paid only to their minimum; a cut takes effect ``cut_notice_days`` after the review, so that
   the borrower is told first. A cut never goes below what is owed (``owed``, rounded up to the limit step):
   it stops there (``CUT_LIMITED_BY_BALANCE``), or does not happen when that is not below the limit
   (``CUT_BELOW_BALANCE``);
4. **raise** by ``raise_share`` (at least one step, at most ``raise_step_max``, never above ``raise_cap``)
   when the last ``raise_after_cycles`` cycles were all paid on time, their mean utilisation lies within
   [``healthy_utilisation_min``, ``healthy_utilisation_max``], and the limit did not change in the last
   ``min_days_between_changes`` days;
5. otherwise **keep**.

A **cycle** is one statement whose due date (plus grace) has passed. It was paid **on time** when the account
was current (bucket M0) the day after its due date and grace; **minimum only** when it was paid on time but
not in full, so that its principal rolled into the next statement (something but less than its amount was
paid on it, and it was not converted into installments; or the next statement carries principal); its
**utilisation** is the billed amount over the credit limit. :func:`cycles_from_history` builds cycles from
the domain's statements and bucket history; :func:`overdue.risk.changes.review_input` fills a
:class:`ReviewInput` from an :class:`~overdue.domain.state.AccountState` (see ``docs/risk.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from overdue.domain.errors import InvalidInput
from overdue.domain.money import Fen, format_yuan
from overdue.domain.state import AccountStatus, BucketSpell, Statement
from overdue.risk.limits import PRODUCT_MAXIMUM_FEN, PRODUCT_MINIMUM_FEN

REVIEW_MODEL_VERSION = "limit-review-v1"
"""The version of the review policy below, recorded with every limit change it makes."""


@dataclass(frozen=True)
class ReviewParameters:
    """The review policy. Shares and utilisations are decimals (0.80 = 80 %); amounts are fen."""

    raise_after_cycles: int = 6
    """Consecutive on-time cycles (the latest ones) needed for a raise."""
    healthy_utilisation_min: Decimal = Decimal("0.10")
    """A line used less than this (mean over those cycles) is not raised: it is not needed."""
    healthy_utilisation_max: Decimal = Decimal("0.80")
    """A line used more than this on average is not raised: the borrower may be stretched."""
    raise_share: Decimal = Decimal("0.20")
    raise_step_max: Fen = 1_000_000
    """At most 10,000.00 more per raise."""
    raise_cap: Fen = PRODUCT_MAXIMUM_FEN
    """No raise above this (at most the product's 50,000.00)."""
    min_days_between_changes: int = 90
    near_full_utilisation: Decimal = Decimal("0.95")
    near_full_cycles: int = 3
    minimum_only_window: int = 6
    minimum_only_cycles: int = 3
    cut_share: Decimal = Decimal("0.30")
    cut_notice_days: int = 7
    freeze_dpd: int = 1
    close_dpd: int = 91
    limit_step: Fen = 10_000
    """Limits move in whole 100.00 yuan."""
    minimum_limit: Fen = PRODUCT_MINIMUM_FEN
    model_version: str = REVIEW_MODEL_VERSION
    """Recorded with each change; change it whenever a number above changes."""

    def __post_init__(self) -> None:
        if not 0 < self.raise_cap <= PRODUCT_MAXIMUM_FEN:
            raise InvalidInput("raise_cap must be positive and at most 50000.00")
        if not PRODUCT_MINIMUM_FEN <= self.minimum_limit < self.raise_cap:
            raise InvalidInput("minimum_limit must be at least 500.00 and below raise_cap")
        if not (Decimal(0) < self.raise_share and Decimal(0) < self.cut_share < Decimal(1)):
            raise InvalidInput("raise_share must be positive and cut_share between 0 and 1")
        if not Decimal(0) <= self.healthy_utilisation_min <= self.healthy_utilisation_max:
            raise InvalidInput("healthy utilisation needs 0 <= min <= max")
        if min(self.raise_after_cycles, self.near_full_cycles, self.minimum_only_window) < 1:
            raise InvalidInput("cycle counts must be at least 1")
        if not 1 <= self.freeze_dpd <= self.close_dpd or self.limit_step <= 0 or self.raise_step_max <= 0:
            raise InvalidInput("need 1 <= freeze_dpd <= close_dpd, and positive steps")


@dataclass(frozen=True)
class CycleRecord:
    """One completed statement cycle."""

    statement_date: date
    balance: Fen
    """The statement's billed amount."""
    credit_limit: Fen
    on_time: bool
    minimum_only: bool

    @property
    def utilisation(self) -> Decimal:
        return Decimal(self.balance) / Decimal(self.credit_limit)


@dataclass(frozen=True)
class ReviewInput:
    account_id: str
    as_of: date
    credit_limit: Fen
    status: str
    """An :class:`~overdue.domain.state.AccountStatus` value."""
    days_past_due: int
    cycles: tuple[CycleRecord, ...]
    """Completed cycles, oldest first."""
    last_limit_change: date | None = None
    owed: Fen = 0
    """Principal owed now (billed, unbilled and future installments): a cut never goes below it."""


@dataclass(frozen=True)
class ReviewDecision:
    account_id: str
    action: str
    """``raise``, ``cut``, ``freeze``, ``close`` or ``keep``."""
    current_limit: Fen
    new_limit: Fen
    effective_on: date
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "action": self.action,
            "current_limit": format_yuan(self.current_limit),
            "new_limit": format_yuan(self.new_limit),
            "effective_on": self.effective_on.isoformat(),
            "reasons": list(self.reasons),
        }


def _down_to_step(amount: Fen, step: Fen) -> Fen:
    return amount // step * step


def up_to_step(amount: Fen, step: Fen) -> Fen:
    """``amount`` rounded up to a whole ``step``."""
    return -(-amount // step) * step


def cut_floor(owed: Fen, minimum_limit: Fen, step: Fen) -> Fen:
    """The lowest limit a cut may reach: the minimum limit, and never below what is owed (rounded up)."""
    return max(minimum_limit, up_to_step(owed, step))


def _share(amount: Fen, share: Decimal) -> Fen:
    """``amount × share`` in whole fen, rounded down (a policy figure, not a posting)."""
    return int(Decimal(amount) * share)


def review_limit(facts: ReviewInput, params: ReviewParameters | None = None) -> ReviewDecision:
    """Decide what to do with the account's limit (see the module docstring for the rules)."""
    p = params or ReviewParameters()
    limit = facts.credit_limit

    def decide(action: str, new_limit: Fen, *reasons: str, delay: int = 0) -> ReviewDecision:
        return ReviewDecision(
            facts.account_id, action, limit, new_limit, facts.as_of + timedelta(days=delay), tuple(reasons)
        )

    if facts.status in (AccountStatus.CLOSED, AccountStatus.WRITTEN_OFF):
        return decide("close", limit, "CLOSE_STATUS")
    if facts.days_past_due >= p.close_dpd:
        return decide("close", limit, "CLOSE_SEVERE_DELINQUENCY")
    if facts.days_past_due >= p.freeze_dpd:
        return decide("freeze", limit, "FREEZE_DELINQUENT")
    if facts.status == AccountStatus.FROZEN:
        return decide("freeze", limit, "FREEZE_STATUS")

    cycles = facts.cycles
    cut_reasons = []
    recent_full = cycles[-p.near_full_cycles :]
    if len(recent_full) == p.near_full_cycles and all(
        c.utilisation >= p.near_full_utilisation for c in recent_full
    ):
        cut_reasons.append("CUT_NEAR_FULL_UTILISATION")
    if sum(c.minimum_only for c in cycles[-p.minimum_only_window :]) >= p.minimum_only_cycles:
        cut_reasons.append("CUT_MINIMUM_ONLY")
    if cut_reasons:
        cut_to = max(p.minimum_limit, _down_to_step(limit - _share(limit, p.cut_share), p.limit_step))
        if cut_to >= limit:
            return decide("keep", limit, *cut_reasons, "CUT_AT_MINIMUM")
        floor = cut_floor(facts.owed, p.minimum_limit, p.limit_step)
        if floor >= limit:
            return decide("keep", limit, *cut_reasons, "CUT_BELOW_BALANCE")
        if floor > cut_to:
            return decide("cut", floor, *cut_reasons, "CUT_LIMITED_BY_BALANCE", delay=p.cut_notice_days)
        return decide("cut", cut_to, *cut_reasons, delay=p.cut_notice_days)

    recent = cycles[-p.raise_after_cycles :]
    if len(recent) < p.raise_after_cycles or not all(c.on_time for c in recent):
        return decide("keep", limit, "KEEP" if len(cycles) >= p.raise_after_cycles else "NOT_ENOUGH_HISTORY")
    mean_use = sum((c.utilisation for c in recent), Decimal(0)) / len(recent)
    if not p.healthy_utilisation_min <= mean_use <= p.healthy_utilisation_max:
        return decide("keep", limit, "KEEP")
    if facts.last_limit_change is not None and (
        (facts.as_of - facts.last_limit_change).days < p.min_days_between_changes
    ):
        return decide("keep", limit, "RECENT_CHANGE")
    if limit >= p.raise_cap:
        return decide("keep", limit, "RAISE_AT_MAXIMUM")
    step = min(p.raise_step_max, max(p.limit_step, _down_to_step(_share(limit, p.raise_share), p.limit_step)))
    if limit + step > p.raise_cap:
        return decide("raise", p.raise_cap, "RAISE_ON_TIME", "RAISE_CAPPED")
    return decide("raise", limit + step, "RAISE_ON_TIME")


def bucket_on(spells: Sequence[BucketSpell], day: date) -> str:
    """The bucket the account was in on ``day`` by its bucket history (``M0`` where none covers it)."""
    for spell in spells:
        if spell.entered <= day and (spell.left is None or day < spell.left):
            return spell.bucket
    return "M0"


def cycles_from_history(
    statements: Sequence[Statement],
    spells: Sequence[BucketSpell],
    credit_limit: Fen,
    as_of: date,
    grace_days: int = 0,
) -> tuple[CycleRecord, ...]:
    """The completed cycles among ``statements`` (any order) on ``as_of``, oldest first.

    spells: the account's full bucket history; credit_limit: its limit (the limit of past cycles is not
    kept, so utilisation is measured against today's).
    """
    ordered = sorted(statements, key=lambda s: s.statement_date)
    cycles = []
    for index, statement in enumerate(ordered):
        checked_on = statement.due_date + timedelta(days=grace_days + 1)
        if checked_on > as_of:
            continue
        on_time = bucket_on(spells, checked_on) == "M0"
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        # A statement keeps what is unpaid *now*, so an older statement's rolled principal shows in what was
        # paid on it (some, less than billed) rather than in the next statement's carried principal, which
        # may have rolled on again since.
        partly_paid = 0 < statement.paid < statement.amount and not statement.installed
        rolled = partly_paid or (following is not None and following.carried_principal > 0)
        cycles.append(
            CycleRecord(
                statement_date=statement.statement_date,
                balance=statement.amount,
                credit_limit=credit_limit,
                on_time=on_time,
                minimum_only=on_time and rolled,
            )
        )
    return tuple(cycles)
