"""Cases, stages, queues and priority.

A case groups a borrower's accounts. Its **stage** comes from the worst DPD among them:

======== ==================================================================
pre_due  nothing past due yet, but a statement is unpaid (reminders only)
S1       DPD 1–15: early, automated (SMS, AI voice) — the self-cure stage
M1       DPD 16–30: human calls begin
M2       DPD 31–60
M3+      DPD 61 and more
======== ==================================================================

(bounds in :class:`StageBounds`). Its **queue** is the stage, unless open work puts it elsewhere, in this
order: an open legal case, a litigation hold or an open ``legal`` work item → ``legal``; a placement with an
agency or an open ``agency`` work item → ``agency``; an open ``field`` work item → ``field``. A case with
nothing due has no stage and no queue (``current``).

**Priority** (0–1000, higher first) adds three parts: the overdue balance (up to
:attr:`PriorityWeights.balance` points, full at :attr:`PriorityWeights.large_balance`), DPD (up to
:attr:`PriorityWeights.dpd` points, full at :attr:`PriorityWeights.full_dpd`) and the collection score's
propensity to pay (up to :attr:`PriorityWeights.score` points; half of them when there is no score).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from overdue.domain.money import Fen

STAGES = ("pre_due", "S1", "M1", "M2", "M3+")
QUEUES = (*STAGES, "field", "agency", "legal")
CALL_QUEUES = ("M1", "M2", "M3+")
"""Queues whose cases the morning allocation gives to collectors (S1 is worked by automated channels)."""
CURRENT = "current"
"""Stage and queue of a case with nothing due."""


@dataclass(frozen=True)
class StageBounds:
    """The first DPD of each stage after ``pre_due``."""

    s1: int = 1
    m1: int = 16
    m2: int = 31
    m3_plus: int = 61


@dataclass(frozen=True)
class PriorityWeights:
    balance: int = 400
    large_balance: Fen = 1_000_000
    """An overdue balance of this much (10,000 CNY, DESIGN §5's "large") or more gets every balance point."""
    dpd: int = 300
    full_dpd: int = 180
    score: int = 300


@dataclass(frozen=True)
class AccountPosition:
    """What a case needs to know of one of its accounts."""

    account_id: str
    days_past_due: int
    overdue: Fen
    """Outstanding on statements past due."""
    total_due: Fen
    """Outstanding on every billed statement."""
    open_queues: frozenset[str] = frozenset()
    """Queues of the account's open work items (``call``, ``field``, ``agency``, ``legal``,
    ``back_office``)."""
    agency: str | None = None
    """The agency the account is placed with, if any."""
    litigation: bool = False
    """A litigation hold or an open legal case."""


@dataclass(frozen=True)
class Case:
    id: str
    borrower_id: str | None
    accounts: tuple[AccountPosition, ...]
    stage: str
    queue: str
    days_past_due: int
    overdue: Fen
    total_due: Fen
    score: float | None
    priority: int


def stage_of(days_past_due: int, total_due: Fen, bounds: StageBounds = StageBounds()) -> str:
    """The stage of a case whose worst DPD is ``days_past_due`` and whose billed outstanding is
    ``total_due``."""
    if days_past_due >= bounds.m3_plus:
        return "M3+"
    if days_past_due >= bounds.m2:
        return "M2"
    if days_past_due >= bounds.m1:
        return "M1"
    if days_past_due >= bounds.s1:
        return "S1"
    return "pre_due" if total_due > 0 else CURRENT


def queue_of(stage: str, positions: Iterable[AccountPosition]) -> str:
    """The queue a case is worked in: its stage unless open legal, agency or field work says otherwise."""
    positions = tuple(positions)
    if any(p.litigation or "legal" in p.open_queues for p in positions):
        return "legal"
    if any(p.agency is not None or "agency" in p.open_queues for p in positions):
        return "agency"
    if any("field" in p.open_queues for p in positions):
        return "field"
    return stage


def priority_of(
    overdue: Fen, days_past_due: int, score: float | None, weights: PriorityWeights = PriorityWeights()
) -> int:
    """Priority from 0 to the sum of the weights; integer arithmetic except the score, rounded once.

    score: the collection score's propensity to pay within 30 days (0–1), None when not scored.
    """
    balance = weights.balance * min(max(overdue, 0), weights.large_balance) // weights.large_balance
    dpd = weights.dpd * min(max(days_past_due, 0), weights.full_dpd) // weights.full_dpd
    scored = weights.score // 2 if score is None else round(weights.score * min(max(score, 0.0), 1.0))
    return balance + dpd + scored


def build_case(
    case_id: str,
    borrower_id: str | None,
    positions: Iterable[AccountPosition],
    score: float | None = None,
    bounds: StageBounds = StageBounds(),
    weights: PriorityWeights = PriorityWeights(),
) -> Case:
    """A case from its accounts' positions (in account order). score: the case's collection score."""
    accounts = tuple(sorted(positions, key=lambda p: p.account_id))
    dpd = max((p.days_past_due for p in accounts), default=0)
    overdue = sum(p.overdue for p in accounts)
    total_due = sum(p.total_due for p in accounts)
    stage = stage_of(dpd, total_due, bounds)
    queue = queue_of(stage, accounts) if stage != CURRENT or _has_open_work(accounts) else CURRENT
    return Case(
        id=case_id,
        borrower_id=borrower_id,
        accounts=accounts,
        stage=stage,
        queue=queue,
        days_past_due=dpd,
        overdue=overdue,
        total_due=total_due,
        score=score,
        priority=priority_of(overdue, dpd, score, weights) if stage != CURRENT else 0,
    )


def _has_open_work(positions: tuple[AccountPosition, ...]) -> bool:
    return any(p.litigation or p.agency is not None or p.open_queues for p in positions)


def case_id_for(borrower_id: str | None, account_id: str) -> str:
    """A case's id: its borrower's id, or ``account:ID`` for an account without a known borrower."""
    return borrower_id if borrower_id is not None else f"account:{account_id}"
