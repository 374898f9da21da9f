"""The records of relief arrangements kept in an account's state: negotiated plans and settlements.

An :class:`Arrangement` is a negotiated repayment plan (协商还款 / 个性化分期) or a settlement (pay a part,
the rest waived). Both are a schedule of payments agreed on one business date; repayments made while the
arrangement is active count toward it (``paid``), and each end-of-day reviews it
(:mod:`overdue.domain.relief_arrangements`).

These records import nothing from :mod:`overdue.domain.state`, which holds the account's current arrangement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from overdue.domain.money import Fen

PLAN = "plan"
SETTLEMENT = "settlement"
ARRANGEMENT_KINDS = (PLAN, SETTLEMENT)

PENDING = "pending_approval"
ACTIVE = "active"
COMPLETED = "completed"
BROKEN = "broken"
LAPSED = "lapsed"
CANCELLED = "cancelled"
ARRANGEMENT_STATUSES = (PENDING, ACTIVE, COMPLETED, BROKEN, LAPSED, CANCELLED)
"""``pending_approval`` until a checker approves it; ``active`` while kept; then ``completed``, ``broken`` (a
plan payment missed by too long), ``lapsed`` (a settlement not paid by its date) or ``cancelled`` (replaced
before approval)."""


@dataclass(frozen=True)
class ScheduledPayment:
    """One payment of an arrangement: number 0 is a plan's down payment, then 1, 2, … monthly."""

    number: int
    due_date: date
    principal: Fen
    """What this payment repays of the amount restructured (for a settlement: the agreed amount)."""
    interest: Fen = 0
    """The plan's own interest for this period (0 when interest is stopped)."""

    @property
    def amount(self) -> Fen:
        return self.principal + self.interest


@dataclass(frozen=True)
class SetAside:
    """Interest and fees a plan took off one statement when it began, restored there if the plan breaks."""

    statement_id: str
    interest: Fen = 0
    overdue_interest: Fen = 0
    fees: Fen = 0
    late_charges: Fen = 0
    """Late charges (overdue interest) that no longer had to be paid to cure the statement."""
    minimum: Fen = 0
    """How much the statement's minimum went down (it never exceeds what can still be paid)."""

    @property
    def total(self) -> Fen:
        return self.interest + self.overdue_interest + self.fees


@dataclass(frozen=True)
class Arrangement:
    """A plan or a settlement agreed with the borrower, with its schedule and what has been paid toward it."""

    id: str
    kind: str
    """``plan`` | ``settlement``."""
    status: str
    agreed_on: date
    schedule: tuple[ScheduledPayment, ...]
    waived: Fen
    """What the arrangement forgives: a plan's set-aside interest and fees (waived for good only when the plan
    is completed); a settlement's balance beyond the agreed amount, as quoted."""
    maker: str
    fingerprint: str
    """The fingerprint of the balance it was quoted on (an approval on a changed balance is refused)."""
    waived_interest: Fen = 0
    """Of a plan's ``waived``, the interest (the rest is fees)."""
    set_aside: tuple[SetAside, ...] = ()
    paid: Fen = 0
    """Repaid since the arrangement became active."""
    monthly_rate: Decimal = Decimal(0)
    """A plan's monthly interest rate on the amount still to repay (0: interest stopped)."""
    breach_days: int = 0
    """A payment more than this many days late breaks a plan (a settlement lapses the day after its date)."""
    closes_line: bool = True
    """Whether the credit line is closed for good once the arrangement is completed."""
    approver: str | None = None
    approver_role: str | None = None
    started_on: date | None = None
    """The business date it became active (approved)."""
    ended_on: date | None = None

    @property
    def amount(self) -> Fen:
        """Everything the schedule asks for."""
        return sum(p.amount for p in self.schedule)

    @property
    def remaining(self) -> Fen:
        return max(0, self.amount - self.paid)

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    def first_unpaid(self) -> ScheduledPayment | None:
        """The earliest payment that repayments so far do not cover (payments are covered in order)."""
        covered = self.paid
        for payment in self.schedule:
            if covered < payment.amount:
                return payment
            covered -= payment.amount
        return None
