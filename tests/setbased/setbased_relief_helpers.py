"""Relief agreed through the domain's own functions, for the set-based arrangement tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from overdue.domain import account as rules
from overdue.domain import relief_arrangements
from overdue.domain.relief_common import ReliefQuote
from overdue.domain.relief_state import Arrangement
from overdue.domain.relief_terms import relief_terms
from overdue.domain.state import AccountState

RELIEF = relief_terms("huabei")


def take(
    state: AccountState, on: date, quote: ReliefQuote, draft: Arrangement, *, approved: bool = True
) -> AccountState:
    """Accept the offer ``draft`` (quoted by ``quote``) and, when it waits for approval and ``approved``,
    approve it."""
    arrangement_id = f"{state.id}/{draft.kind}/{on}/1"
    state, _ = relief_arrangements.accept(state, on, draft, arrangement_id, "agent1", quote.fingerprint)
    assert state.arrangement is not None
    if state.arrangement.status == "pending_approval" and approved:
        state, _ = relief_arrangements.approve(state, on, RELIEF, arrangement_id, "lead1", "supervisor")
    return state


def agree(state: AccountState, on: date, kind: str) -> AccountState:
    """Offer and take the account's relief of ``kind``: ``plan_kept`` (3 months at 0.5 %), ``plan_broken``
    and ``pending`` (6 months, interest set aside; ``pending`` left waiting for approval),
    ``plan_completed`` (2 months, interest set aside), ``down_missed`` (3 months after a fifth down),
    else a settlement of six tenths of what is owed within 11 days."""
    owed = state.outstanding
    if kind == "plan_kept":
        quote, draft = relief_arrangements.offer_plan(state, on, RELIEF, 3, monthly_rate=Decimal("0.005"))
    elif kind in ("plan_broken", "pending"):
        quote, draft = relief_arrangements.offer_plan(state, on, RELIEF, 6, waive_interest=True)
    elif kind == "plan_completed":
        quote, draft = relief_arrangements.offer_plan(state, on, RELIEF, 2, waive_interest=True)
    elif kind == "down_missed":
        quote, draft = relief_arrangements.offer_plan(
            state, on, RELIEF, 3, owed // 5, monthly_rate=Decimal("0.005")
        )
    else:
        quote, draft = relief_arrangements.offer_settlement(
            state, on, RELIEF, owed * 6 // 10, on + timedelta(11)
        )
    return take(state, on, quote, draft, approved=kind != "pending")


def pay(state: AccountState, on: date, kind: str, agreed: date) -> AccountState:
    """What the borrower of ``kind``, whose relief was agreed on ``agreed`` and is active, pays on ``on``: a
    completed plan all it owes three days after, a paid settlement its amount five days after, a lapsed one
    a third of it then."""
    arrangement = state.arrangement
    assert arrangement is not None
    if kind == "plan_completed" and on == agreed + timedelta(days=3):
        return rules.repay(state, on, state.outstanding).state
    if kind == "settlement_paid" and on == agreed + timedelta(days=5):
        return rules.repay(state, on, arrangement.amount).state
    if kind == "settlement_lapsed" and on == agreed + timedelta(days=5):
        return rules.repay(state, on, arrangement.amount // 3).state
    return state
