"""The state of one credit-line account, as immutable records.

An :class:`AccountState` is everything the daily rules need to know about an account — its open statements,
installment plans, purchases not yet billed, delinquency and bureau history — and nothing more, so that one
day's work on an account costs the same on day 1 and on day 700. Changes make copies
(:func:`overdue.domain.records.replace`); the store saves the copy and the day's ledger transactions together.

A :class:`Statement` keeps its own unpaid components until they are paid, rolled into a later statement
(when at least the minimum was paid) or written off, so "oldest statement first" is a plain sort.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from overdue.domain.money import Fen
from overdue.domain.relief_state import Arrangement
from overdue.domain.terms import ProductTerms


class AccountStatus(StrEnum):
    """The state of the credit line.

    ``closed`` is for good: no purchase and no unfreeze ever again. A line closed with something still owed
    (the limit review closes a severely delinquent line) keeps accruing, billing and ageing, and is repaid or
    written off like any other; once nothing is owed it is at rest
    (:attr:`AccountState.closed_with_nothing_owed`).
    """

    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"


@dataclass(frozen=True)
class Statement:
    """One monthly statement (账单) and what is still unpaid on it.

    The ``*_principal``, ``interest``, ``overdue_interest`` and ``fees`` fields are what is *unpaid now*;
    ``amount`` and ``minimum`` are what was billed. ``paid`` counts every fen a repayment allocated to this
    statement, ``late_charges`` every fen of overdue interest posted on it after its due date: the statement
    is paid "at least to its minimum" when ``paid >= minimum + late_charges``.
    """

    id: str
    statement_date: date
    due_date: date
    amount: Fen
    minimum: Fen
    new_principal: Fen = 0
    """Purchases of the cycle: interest-free until the due date."""
    carried_principal: Fen = 0
    """Principal rolled over from an earlier statement: bears revolving interest every day."""
    installment_principal: Fen = 0
    interest: Fen = 0
    """Revolving interest (and interest carried from earlier statements)."""
    overdue_interest: Fen = 0
    fees: Fen = 0
    paid: Fen = 0
    late_charges: Fen = 0
    interest_carry: Decimal = Decimal(0)
    """Interest accrued exactly but not yet posted, in fen: within half a fen of zero for each statement's
    carry it holds (its own, and those of the statements it carried over: :mod:`overdue.domain.interest`)."""
    installed: bool = False
    """Its principal was converted into bill installments (only once)."""
    closed_on: date | None = None
    original_due_date: date | None = None
    """The due date it was issued with, when relief moved ``due_date`` (a deferral, or the days a broken
    plan was kept); interest on its principal still starts the day after this date."""

    @property
    def principal(self) -> Fen:
        return self.new_principal + self.carried_principal + self.installment_principal

    @property
    def outstanding(self) -> Fen:
        return self.principal + self.interest + self.overdue_interest + self.fees

    @property
    def minimum_remaining(self) -> Fen:
        """What must still be paid for this statement not to be (or no longer be) overdue."""
        return max(0, self.minimum + self.late_charges - self.paid)

    def is_delinquent(self, on: date, grace_days: int) -> bool:
        """Past its due date (and grace) with less than the minimum paid."""
        return (on - self.due_date).days > grace_days and self.minimum_remaining > 0 and self.outstanding > 0

    def days_past_due(self, on: date, grace_days: int) -> int:
        """Days since the due date (the due date itself is day 0) while delinquent, else 0."""
        return (on - self.due_date).days if self.is_delinquent(on, grace_days) else 0


@dataclass(frozen=True)
class InstallmentPeriod:
    number: int
    due_date: date
    principal: Fen
    fee: Fen
    billed: bool = False


class PlanOrigin(StrEnum):
    """How an installment plan began: a statement put into installments, or a purchase made in them."""

    STATEMENT = "statement"
    """Bill installments (账单分期): chosen on a statement before its due date."""
    PURCHASE = "purchase"
    """Purchase installments (消费分期): chosen when buying, billed from the next statement on."""


@dataclass(frozen=True)
class InstallmentPlan:
    """Principal repaid in ``len(periods)`` monthly installments: a statement's (账单分期) or a purchase's
    (消费分期), as ``origin`` says."""

    id: str
    statement_id: str | None
    """The statement put into installments; None for a purchase plan (no statement billed it)."""
    created_on: date
    fee_rate: Decimal
    principal: Fen
    fee_total: Fen
    periods: tuple[InstallmentPeriod, ...]
    origin: PlanOrigin = PlanOrigin.STATEMENT

    @property
    def unbilled_principal(self) -> Fen:
        return sum(p.principal for p in self.periods if not p.billed)

    @property
    def is_finished(self) -> bool:
        return all(p.billed for p in self.periods)


@dataclass(frozen=True)
class UnbilledCycle:
    """Purchases made in one cycle, unpaid, waiting for the statement of ``statement_date``."""

    statement_date: date
    principal: Fen


@dataclass(frozen=True)
class BucketSpell:
    """The account was in ``bucket`` from ``entered`` until ``left`` (None: still there)."""

    bucket: str
    entered: date
    left: date | None = None


@dataclass(frozen=True)
class BureauMonth:
    """The status reported to the credit bureau for one month: N, 1–7, C, G or B."""

    month: str
    status: str


LANGUAGES = ("zh-CN", "en")
"""The languages a borrower may be written to in; the first is the default and every template's fallback."""
DEFAULT_LANGUAGE = LANGUAGES[0]
"""zh-CN: a borrower's language unless told otherwise, and the text every template has."""


@dataclass(frozen=True)
class AccountState:
    id: str
    product: str
    terms: ProductTerms
    opened_on: date
    timezone: str
    credit_limit: Fen
    status: AccountStatus = AccountStatus.ACTIVE
    last_eod: date | None = None
    """The last business date whose end-of-day ran on this account."""
    unbilled: tuple[UnbilledCycle, ...] = ()
    statements: tuple[Statement, ...] = ()
    """Open statements (something unpaid), oldest first, plus the latest statement even when paid."""
    plans: tuple[InstallmentPlan, ...] = ()
    """Installment plans with periods still to bill."""
    days_past_due: int = 0
    bucket: str = "M0"
    bucket_history: tuple[BucketSpell, ...] = ()
    bureau: tuple[BureauMonth, ...] = ()
    """The last months reported, oldest first (at most ``terms.bureau_grid_months``)."""
    written_off_on: date | None = None
    negative_notice_on: date | None = None
    """When the borrower was told that a negative bureau status will be reported."""
    arrangement: Arrangement | None = None
    """The latest negotiated plan or settlement (:mod:`overdue.domain.relief`), whatever its status."""
    last_deferral_on: date | None = None
    """When a statement of this account was last deferred."""
    language: str = "zh-CN"
    """The borrower's language: every notice and message to them is rendered in it (``zh-CN`` or ``en``,
    :data:`LANGUAGES`)."""

    @property
    def unbilled_principal(self) -> Fen:
        return sum(c.principal for c in self.unbilled)

    @property
    def plan_principal(self) -> Fen:
        """Installment principal of periods not yet billed."""
        return sum(p.unbilled_principal for p in self.plans)

    @property
    def principal(self) -> Fen:
        """All principal the borrower owes: billed, unbilled and future installments."""
        return self.unbilled_principal + self.plan_principal + sum(s.principal for s in self.statements)

    @property
    def interest(self) -> Fen:
        return sum(s.interest + s.overdue_interest for s in self.statements)

    @property
    def fees(self) -> Fen:
        return sum(s.fees for s in self.statements)

    @property
    def outstanding(self) -> Fen:
        return self.principal + self.interest + self.fees

    @property
    def closed_with_nothing_owed(self) -> bool:
        """A closed line with nothing left to pay: nothing accrues, bills or ages any more, a repayment is
        refused, and the bureau is told ``C``."""
        return self.status is AccountStatus.CLOSED and self.outstanding == 0

    @property
    def available_credit(self) -> Fen:
        """Limit less principal owed. A frozen line keeps this figure but refuses purchases."""
        return max(0, self.credit_limit - self.principal)

    def open_statements(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.outstanding > 0)

    def latest_statement(self) -> Statement | None:
        return max(self.statements, key=lambda s: s.statement_date, default=None)

    def delinquent_statements(self, on: date) -> tuple[Statement, ...]:
        """Statements overdue on ``on``. Once written off, the whole claim is due: any statement past its
        due date with anything unpaid stays overdue, whatever was paid toward its minimum."""
        grace = self.terms.grace_days
        if self.status is AccountStatus.WRITTEN_OFF:
            return tuple(s for s in self.statements if s.outstanding > 0 and (on - s.due_date).days > grace)
        return tuple(s for s in self.statements if s.is_delinquent(on, grace))

    def bureau_grid(self) -> str:
        """The 24-month status grid, oldest month first: ``NNN1``."""
        return "".join(m.status for m in self.bureau)
