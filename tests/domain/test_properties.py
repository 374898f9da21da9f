"""Property tests of the pure account rules: random months of purchases, repayments and installments.

Each example opens an account, then walks every day from its opening over 6–14 months: the day's events
(drawn as *intents* — "buy a share of what is available", "repay everything", … — and turned into amounts
against the state of that day) are applied in order, then the day's end-of-day runs. After every step the
invariants of the ledger and of the state are checked; nothing here touches a database.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from overdue.domain import account as rules
from overdue.domain import allocation, delinquency, interest
from overdue.domain.calendar import add_months, is_month_end, iter_days
from overdue.domain.errors import CreditLimitExceeded, InstallmentsRefused, LineNotUsable, RepaymentTooLarge
from overdue.domain.ledger import WRITTEN_OFF, LedgerAccount, Transaction, TransactionKind
from overdue.domain.money import parse_yuan
from overdue.domain.snapshot import snapshot
from overdue.domain.state import AccountState, AccountStatus
from overdue.domain.terms import PRESETS

HUABEI = PRESETS["huabei"]
SHARE_SCALE = 10_000
KINDS = (
    "purchase",
    "purchase",
    "purchase",
    "over_limit",
    "repay_part",
    "repay_part",
    "repay_all",
    "repay_minimum",
    "over_repay",
    "installments",
    "installments",
    "idle",
)
HABITS = ("none", "minimum", "statement")
"""What the borrower pays by itself on each due date: nothing extra, the minimum, or the whole statement."""


@dataclass(frozen=True)
class Intent:
    """One event of a history, before it meets the account: when, what, how much."""

    gap: int
    """Days after the previous event (0: the same day)."""
    kind: str
    share: int
    """How much, in 1/10,000 of the most that makes sense (available credit, what can be repaid)."""
    periods: int


intents = st.builds(
    Intent,
    gap=st.one_of(st.integers(0, 3), st.integers(0, 35), st.integers(40, 120)),
    kind=st.sampled_from(KINDS),
    share=st.one_of(st.integers(1, SHARE_SCALE), st.sampled_from([1, SHARE_SCALE // 10, SHARE_SCALE])),
    periods=st.sampled_from([3, 6, 9, 12]),
)


@dataclass
class Book:
    """The account as it evolves, with every transaction posted so far and their running balances."""

    state: AccountState
    journal: list[Transaction]
    balances: dict[LedgerAccount, int]
    purchased: int = 0
    repaid: int = 0
    installments: int = 0
    reached_write_off: bool = False
    accrued: Decimal = Decimal(0)
    """The exact interest of every day run so far (principal × daily rate, unrounded)."""

    def accrue_exactly(self, on: date) -> None:
        """Add ``on``'s exact interest, from the statements as they stand before its end-of-day."""
        state = self.state
        if state.status is AccountStatus.WRITTEN_OFF or state.closed_with_nothing_owed:
            return
        terms = state.terms
        for statement in state.statements:
            base = interest.interest_bearing_principal(statement, on, terms.grace_days)
            delinquent = statement.is_delinquent(on, terms.grace_days)
            self.accrued += base * (terms.overdue_daily_rate if delinquent else terms.revolving_daily_rate)

    def interest_posted(self) -> int:
        """The interest income posted so far, revolving and overdue."""
        return -(
            self.owed(LedgerAccount.REVOLVING_INTEREST_INCOME)
            + self.owed(LedgerAccount.OVERDUE_INTEREST_INCOME)
        )

    def post(self, transactions: tuple[Transaction, ...]) -> None:
        for txn in transactions:
            assert txn.postings, txn
            assert sum(p.amount for p in txn.postings) == 0, txn
            assert all(p.amount != 0 for p in txn.postings), txn
            for posting in txn.postings:
                self.balances[posting.ledger_account] = (
                    self.balances.get(posting.ledger_account, 0) + posting.amount
                )
            self.journal.append(txn)

    def owed(self, account: LedgerAccount) -> int:
        return self.balances.get(account, 0)


def assert_no_floats(value: Any, path: str = "") -> None:
    """Walk dataclasses, tuples, lists and dicts: no float anywhere."""
    assert not isinstance(value, float), f"float at {path or 'top'}: {value!r}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            assert_no_floats(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            assert_no_floats(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_no_floats(key, f"{path}{{key}}")
            assert_no_floats(item, f"{path}[{key!r}]")


def check_state(book: Book, deep: bool = False) -> None:
    """Invariants that hold after every operation and every end-of-day."""
    state = book.state
    written_off = state.status is AccountStatus.WRITTEN_OFF
    for receivable, figure in (
        (LedgerAccount.PRINCIPAL, state.principal),
        (LedgerAccount.INTEREST, state.interest),
        (LedgerAccount.FEES, state.fees),
    ):
        on_book, claim = book.owed(receivable), book.owed(WRITTEN_OFF[receivable])
        assert on_book + claim == figure, (receivable, on_book, claim, figure)
        if written_off:
            assert on_book == 0, (receivable, on_book)
        else:
            assert claim == 0, (receivable, claim)
    assert book.owed(LedgerAccount.MERCHANT_PAYABLE) == -book.purchased
    assert book.owed(LedgerAccount.REPAYMENT_CLEARING) == book.repaid
    assert sum(book.balances.values()) == 0
    assert state.available_credit == max(0, state.credit_limit - state.principal)
    for statement in state.statements:
        for name in (
            "amount",
            "minimum",
            "new_principal",
            "carried_principal",
            "installment_principal",
            "interest",
            "overdue_interest",
            "fees",
            "paid",
            "late_charges",
        ):
            value = getattr(statement, name)
            assert type(value) is int and value >= 0, (statement.id, name, value)
        # Half a fen for each statement's carry summed into this one (overdue.domain.interest).
        assert abs(statement.interest_carry) <= Decimal("0.5") * len(state.statements), statement
        assert statement.minimum <= statement.amount, statement
    for cycle in state.unbilled:
        assert cycle.principal >= 0
    for plan in state.plans:
        assert sum(p.principal for p in plan.periods) <= plan.principal
        assert sum(p.fee for p in plan.periods) == plan.fee_total
        assert all(p.principal >= 0 and p.fee >= 0 for p in plan.periods)
    if deep:
        assert_no_floats(state)
        assert_no_floats(book.journal)


def run_end_of_day(book: Book, day: date) -> None:
    """``day``'s end-of-day on the book; its interest is exact: what was posted plus what the statements
    carry is every day's exact interest so far (``overdue.domain.interest``)."""
    book.accrue_exactly(day)
    outcome = rules.end_of_day(book.state, day)
    assert all(t.business_date == day for t in outcome.transactions)
    book.post(outcome.transactions)
    book.state = outcome.state
    carried = sum((s.interest_carry for s in book.state.statements), Decimal(0))
    assert book.interest_posted() + carried == book.accrued, (day, book.interest_posted(), carried)


def check_after_end_of_day(book: Book, day: date) -> None:
    state = book.state
    assert state.last_eod == day
    dpd = delinquency.days_past_due(state, day)
    assert state.days_past_due == dpd
    assert state.bucket == delinquency.bucket_for(dpd, state.terms)
    if dpd >= state.terms.write_off_at_dpd:
        book.reached_write_off = True
    if book.reached_write_off:
        assert state.status is AccountStatus.WRITTEN_OFF
    elif dpd >= state.terms.freeze_at_dpd:
        assert state.status is AccountStatus.FROZEN
    elif any(s.overdue_interest for s in state.statements):
        # Cured, but the line unfreezes only when everything overdue is repaid, overdue interest included.
        assert state.status is AccountStatus.FROZEN
    else:
        assert state.status is AccountStatus.ACTIVE
    history = state.bucket_history
    assert history[0].entered == state.opened_on
    assert history[-1].left is None and history[-1].bucket == state.bucket
    for before, after in itertools.pairwise(history):
        assert before.left == after.entered and before.bucket != after.bucket
    # A date already run is a no-op: the very same state, nothing posted.
    again = rules.end_of_day(state, day)
    assert again.state == state and again.transactions == ()
    earlier = rules.end_of_day(state, max(state.opened_on, day - timedelta(days=17)))
    assert earlier.state == state and earlier.transactions == ()


def installments_window_day(day: date, share: int) -> date:
    """``day`` if it is between the statement day and the due day of its month, else such a day next month."""
    if HUABEI.statement_day <= day.day <= HUABEI.due_day:
        return day
    first = add_months(date(day.year, day.month, HUABEI.statement_day), 1)
    return first + timedelta(days=share % (HUABEI.due_day - HUABEI.statement_day + 1))


def schedule(opened: date, plan: list[Intent]) -> dict[date, list[Intent]]:
    by_day: dict[date, list[Intent]] = {}
    day = opened
    for intent in plan:
        day = day + timedelta(days=intent.gap)
        when = installments_window_day(day, intent.share) if intent.kind == "installments" else day
        by_day.setdefault(when, []).append(intent)
    return by_day


def pay_by_habit(book: Book, day: date, habit: str) -> None:
    """On a statement's due date, pay its minimum (or all of it) as the borrower's habit says."""
    if habit == "none":
        return
    due_today = [s for s in book.state.statements if s.due_date == day and s.outstanding > 0]
    if not due_today:
        return
    amount = sum(s.minimum_remaining if habit == "minimum" else s.outstanding for s in book.state.statements)
    amount = min(amount, allocation.repayable(book.state))
    if amount > 0:
        apply(book, day, Intent(0, "repay_exact", amount, 3))


def share_of(total: int, share: int) -> int:
    return max(1, total * share // SHARE_SCALE)


def apply(book: Book, day: date, intent: Intent) -> None:
    """Turn ``intent`` into an operation on ``day``; refusals must be the documented ones."""
    state = book.state
    kind = intent.kind
    outcome: rules.Outcome | None = None
    if kind in ("purchase", "over_limit"):
        available = state.available_credit
        amount = (
            available + share_of(available + 1, intent.share)
            if kind == "over_limit"
            else share_of(available, intent.share)
        )
        try:
            outcome = rules.purchase(state, day, amount)
        except LineNotUsable:
            assert state.status is not AccountStatus.ACTIVE or delinquency.days_past_due(state, day) > 0
        except CreditLimitExceeded:
            assert amount > available
        else:
            assert state.status is AccountStatus.ACTIVE and amount <= available
            book.purchased += amount
            assert outcome.state.available_credit == available - amount
    elif kind in ("repay_part", "repay_all", "repay_minimum", "over_repay", "repay_exact"):
        most = allocation.repayable(state)
        if kind == "repay_exact":
            amount = intent.share
        elif kind == "repay_part":
            amount = share_of(most, intent.share)
        elif kind == "repay_all":
            amount = max(most, 1)
        elif kind == "over_repay":
            amount = most + share_of(most + 1, intent.share)
        else:
            owed = [s.minimum_remaining for s in state.statements if s.outstanding > 0]
            amount = min(sum(owed), most)
            if amount == 0:
                return
        try:
            outcome = rules.repay(state, day, amount)
        except RepaymentTooLarge:
            assert amount > most
        else:
            assert amount <= most
            assert sum(line.amount for line in outcome.allocation) == amount
            assert all(line.amount > 0 for line in outcome.allocation)
            (payment, *rest) = outcome.transactions
            assert payment.kind in (TransactionKind.REPAYMENT, TransactionKind.RECOVERY)
            assert payment.postings[0] == dataclasses.replace(payment.postings[0], amount=amount)
            assert all(t.kind is TransactionKind.WRITE_OFF for t in rest)
            book.repaid += amount
            assert allocation.repayable(outcome.state) == most - amount
    elif kind == "installments":
        latest = state.latest_statement()
        if latest is None:
            return
        eligible = (
            state.status is AccountStatus.ACTIVE
            and day <= latest.due_date
            and not latest.installed
            and latest.new_principal + latest.carried_principal
            >= max(1, state.terms.min_installment_principal)
            and HUABEI.installment_fee_rate(intent.periods) is not None
        )
        try:
            outcome = rules.request_installments(state, day, latest.id, intent.periods)
        except InstallmentsRefused:
            assert not eligible, (day, latest)
        else:
            assert eligible, (day, latest)
            book.installments += 1
            quote = outcome.quote
            assert quote is not None
            assert sum(p.principal for p in quote.schedule) == quote.principal
            assert sum(p.fee for p in quote.schedule) == quote.fee_total
            assert Decimal("0.10") < quote.annual_rate < Decimal("0.20")
            assert outcome.state.principal == state.principal
    if outcome is None:
        return
    book.post(outcome.transactions)
    book.state = outcome.state
    check_state(book, deep=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    opened=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
    limit=st.one_of(st.sampled_from([50_000, 500_000, 5_000_000]), st.integers(50_000, 5_000_000)),
    months=st.integers(6, 14),
    plan=st.lists(intents, max_size=45),
    habit=st.sampled_from(HABITS),
)
def test_random_histories_keep_the_books_straight(
    opened: date, limit: int, months: int, plan: list[Intent], habit: str
) -> None:
    book = Book(rules.open_account("P1", "huabei", HUABEI, opened, limit), [], {})
    check_state(book, deep=True)
    events = schedule(opened, plan)
    last = add_months(opened, months)
    for day in iter_days(opened, last):
        for intent in events.get(day, []):
            apply(book, day, intent)
        pay_by_habit(book, day, habit)
        run_end_of_day(book, day)
        check_state(book, deep=is_month_end(day))
        check_after_end_of_day(book, day)
        if is_month_end(day):
            shot = snapshot(book.state, day)
            assert_no_floats(shot)
            assert parse_yuan(shot["balances"]["principal"]) == book.state.principal
            assert parse_yuan(shot["available_credit"]) == book.state.available_credit
    check_state(book, deep=True)
    assert all(t.account_id == "P1" for t in book.journal)
    event(f"installments: {min(book.installments, 2)}")
    event(f"status at the end: {book.state.status}")
    event(f"worst bucket: {max((s.bucket for s in book.state.bucket_history), key=lambda b: (len(b), b))}")


@settings(max_examples=60, deadline=None)
@given(
    amount=st.integers(1, 5_000_000),
    paid_share=st.integers(0, SHARE_SCALE),
    days_late=st.integers(0, 200),
)
def test_one_statement_paid_late_or_in_part(amount: int, paid_share: int, days_late: int) -> None:
    """One purchase, one statement, one repayment some days after the due date: the books still balance."""
    opened = date(2026, 1, 5)
    book = Book(rules.open_account("P2", "huabei", HUABEI, opened, 5_000_000), [], {})
    due = date(2026, 2, 9)
    pay_day = due + timedelta(days=days_late)
    for day in iter_days(opened, pay_day + timedelta(days=3)):
        if day == date(2026, 1, 10):
            buy = rules.purchase(book.state, day, amount)
            book.post(buy.transactions)
            book.purchased = amount
            book.state = buy.state
        if day == pay_day:
            most = allocation.repayable(book.state)
            paid = most * paid_share // SHARE_SCALE
            if paid:
                outcome = rules.repay(book.state, day, paid)
                book.post(outcome.transactions)
                book.repaid += paid
                book.state = outcome.state
                check_state(book)
        outcome = rules.end_of_day(book.state, day)
        book.post(outcome.transactions)
        book.state = outcome.state
        check_state(book)
        check_after_end_of_day(book, day)
    if days_late == 0 and paid_share == SHARE_SCALE:
        assert book.state.outstanding == 0
        assert book.owed(LedgerAccount.INTEREST) == 0


@dataclass(frozen=True)
class Month:
    """What the borrower does in one month of an installment history."""

    purchase_share: int
    """Share (of 10,000) of the available credit bought on the 15th; 0: nothing."""
    periods: int | None
    """Put this month's statement into that many installments (None: no)."""
    on_day: int
    """Day of the month (statement day to due day) the installments are asked for."""
    habit: str
    """What is paid on the due date: none, minimum or statement."""


months_strategy = st.builds(
    Month,
    purchase_share=st.one_of(st.just(0), st.integers(1, SHARE_SCALE)),
    periods=st.one_of(st.none(), st.sampled_from([3, 6, 9, 12])),
    on_day=st.integers(HUABEI.statement_day, HUABEI.due_day),
    habit=st.sampled_from(HABITS),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    limit=st.integers(50_000, 5_000_000),
    months=st.lists(months_strategy, min_size=6, max_size=14),
    idle_days=st.integers(0, 240),
)
def test_installment_histories_keep_the_books_straight(
    limit: int, months: list[Month], idle_days: int
) -> None:
    """Months of purchases, bill installments and due-date habits, then a long stretch of nothing."""
    opened = date(2026, 1, 5)
    book = Book(rules.open_account("P3", "huabei", HUABEI, opened, limit), [], {})
    by_month = {
        (add_months(date(2026, 1, 1), i).year, add_months(date(2026, 1, 1), i).month): m
        for i, m in enumerate(months)
    }
    last = add_months(date(2026, 1, 1), len(months)) + timedelta(days=idle_days)
    for day in iter_days(opened, last):
        month = by_month.get((day.year, day.month))
        if month is not None:
            if day.day == 15 and month.purchase_share:
                apply(book, day, Intent(0, "purchase", month.purchase_share, 3))
            if day.day == month.on_day and month.periods is not None:
                apply(book, day, Intent(0, "installments", 0, month.periods))
            pay_by_habit(book, day, month.habit)
        run_end_of_day(book, day)
        check_state(book, deep=is_month_end(day))
        check_after_end_of_day(book, day)
    fees = [t for t in book.journal if t.kind is TransactionKind.INSTALLMENT_FEE]
    assert all(t.statement_id is not None for t in fees)
    event(f"installments: {min(book.installments, 3)}")
    event(f"status at the end: {book.state.status}")
