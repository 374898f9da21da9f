"""The pure relief rules: schedules, eligibility and their rule names, stale quotes, maker-checker, and the
ledger effect of each option (every transaction balances; the journal always equals the state)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from overdue.domain import account as rules
from overdue.domain import relief, relief_arrangements, relief_waivers
from overdue.domain.errors import ReliefRefused, StaleQuote
from overdue.domain.ledger import LedgerAccount, Transaction, balances
from overdue.domain.relief_arrangements import plan_schedule
from overdue.domain.relief_terms import ReliefTerms
from overdue.domain.state import AccountState, AccountStatus
from overdue.domain.terms import PRESETS

TERMS = ReliefTerms()


class Book:
    """An account driven day by day, with its journal."""

    def __init__(self) -> None:
        self.state = rules.open_account("A1", "huabei", PRESETS["huabei"], date(2026, 1, 5), 500_000)
        self.journal: list[Transaction] = []

    def run_to(self, day: date) -> None:
        """Run the end-of-day of every date before ``day``: ``day`` becomes the business date."""
        current = rules.next_open_date(self.state)
        while current < day:
            outcome = rules.end_of_day(self.state, current)
            self.state = outcome.state
            self.journal += outcome.transactions
            current += timedelta(days=1)

    def post(self, state: AccountState, transactions: list[Transaction] | tuple[Transaction, ...]) -> None:
        self.state = state
        self.journal += transactions

    def purchase(self, day: date, amount: int) -> None:
        self.run_to(day)
        outcome = rules.purchase(self.state, day, amount)
        self.post(outcome.state, outcome.transactions)

    def repay(self, day: date, amount: int) -> None:
        self.run_to(day)
        outcome = rules.repay(self.state, day, amount)
        self.post(outcome.state, outcome.transactions)

    def check_ledger(self) -> None:
        """The journal's receivables are what the state says is owed; waivers net out against expense."""
        b = balances(self.journal)
        owed = self.state
        if owed.status is AccountStatus.WRITTEN_OFF:
            keys = (
                LedgerAccount.WRITTEN_OFF_PRINCIPAL,
                LedgerAccount.WRITTEN_OFF_INTEREST,
                LedgerAccount.WRITTEN_OFF_FEES,
            )
        else:
            keys = (LedgerAccount.PRINCIPAL, LedgerAccount.INTEREST, LedgerAccount.FEES)
        assert b.get(keys[0], 0) == owed.principal
        assert b.get(keys[1], 0) == owed.interest
        assert b.get(keys[2], 0) == owed.fees


def overdue_book(until: date) -> Book:
    """1,000.00 bought on 10 January, billed 1 February, due 9 February, unpaid; business date ``until``."""
    book = Book()
    book.purchase(date(2026, 1, 10), 100_000)
    book.run_to(until)
    return book


# --- plan schedules --------------------------------------------------------------------------------------


def test_plan_schedule_splits_evenly_with_the_remainder_first() -> None:
    schedule = plan_schedule(100_000, 3, Decimal(0), date(2026, 3, 17), 10_000, 7)
    assert [(p.number, p.due_date, p.amount) for p in schedule] == [
        (0, date(2026, 3, 24), 10_000),
        (1, date(2026, 4, 17), 33_334),
        (2, date(2026, 5, 17), 33_333),
        (3, date(2026, 6, 17), 33_333),
    ]


def test_a_reduced_rate_charges_interest_on_what_is_left() -> None:
    schedule = plan_schedule(90_000, 3, Decimal("0.01"), date(2026, 1, 31))
    assert [(p.principal, p.interest) for p in schedule] == [(30_000, 900), (30_000, 600), (30_000, 300)]
    assert [p.due_date for p in schedule] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


@given(
    amount=st.integers(0, 10_000_000),
    periods=st.integers(1, 60),
    rate=st.sampled_from([Decimal(0), Decimal("0.001"), Decimal("0.005"), Decimal("0.0125")]),
    down=st.integers(0, 1_000_000),
    day=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
)
def test_plan_schedules_sum_to_the_amount_and_never_go_negative(
    amount: int, periods: int, rate: Decimal, down: int, day: date
) -> None:
    schedule = plan_schedule(amount, periods, rate, day, down, 7)
    assert sum(p.principal for p in schedule) == amount + down
    assert all(p.principal >= 0 and p.interest >= 0 and p.amount >= 0 for p in schedule)
    assert len(schedule) == periods + (1 if down else 0)
    dates = [p.due_date for p in schedule]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    monthly = [p for p in schedule if p.number > 0]
    assert max(p.principal for p in monthly) - min(p.principal for p in monthly) <= periods - 1
    if rate == 0:
        assert all(p.interest == 0 for p in schedule)


@given(periods=st.integers(1, 60), down_share=st.integers(0, 90), waive_interest=st.booleans())
def test_a_plan_quote_covers_exactly_what_it_restructures(
    periods: int, down_share: int, waive_interest: bool
) -> None:
    book = OVERDUE_IN_MARCH
    owed = book.state.outstanding - (book.state.interest if waive_interest else 0)
    down = owed * down_share // 100
    quote, arrangement = relief_arrangements.offer_plan(
        book.state, date(2026, 3, 20), TERMS, periods, down, waive_interest=waive_interest
    )
    assert arrangement.amount == owed
    assert sum(p.amount for p in quote.payments) == owed
    assert quote.annual_rate == Decimal("0.0000")
    assert all(p.amount >= 0 for p in quote.payments)


OVERDUE_IN_MARCH = overdue_book(date(2026, 3, 20))


# --- eligibility and rule names ---------------------------------------------------------------------------


def refused(rule: str, call: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(ReliefRefused) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert info.value.rule == rule
    assert rule in str(info.value)


def test_plan_refusals_name_their_rules() -> None:
    state, on = OVERDUE_IN_MARCH.state, date(2026, 3, 20)
    refused("relief.plan.max_periods", relief_arrangements.offer_plan, state, on, TERMS, 61)
    refused("relief.plan.max_periods", relief_arrangements.offer_plan, state, on, TERMS, 0)
    refused(
        "relief.plan.down_payment", relief_arrangements.offer_plan, state, on, TERMS, 6, state.outstanding
    )
    refused("relief.plan.down_payment", relief_arrangements.offer_plan, state, on, TERMS, 6, -1)
    refused(
        "relief.plan.rate", relief_arrangements.offer_plan, state, on, TERMS, 6, monthly_rate=Decimal("0.02")
    )
    current = overdue_book(date(2026, 2, 5)).state
    refused("relief.plan.not_overdue", relief_arrangements.offer_plan, current, date(2026, 2, 5), TERMS, 6)


def test_settlement_refusals_name_their_rules() -> None:
    state, on = OVERDUE_IN_MARCH.state, date(2026, 3, 20)
    owed = state.outstanding
    refused("relief.settlement.not_less", relief_arrangements.offer_settlement, state, on, TERMS, owed, on)
    refused(
        "relief.settlement.min_share", relief_arrangements.offer_settlement, state, on, TERMS, owed // 4, on
    )
    late = on + timedelta(days=31)
    refused(
        "relief.settlement.pay_by", relief_arrangements.offer_settlement, state, on, TERMS, owed // 2, late
    )
    early = overdue_book(date(2026, 2, 20)).state
    refused(
        "relief.settlement.not_overdue",
        relief_arrangements.offer_settlement,
        early,
        date(2026, 2, 20),
        TERMS,
        50_000,
        on,
    )


def test_deferral_once_per_window_and_at_most_n_days() -> None:
    book = overdue_book(date(2026, 2, 5))
    on = date(2026, 2, 5)
    refused("relief.deferral.max_days", relief.quote_deferral, book.state, on, TERMS, "A1/2026-02-01", 31)
    quote = relief.quote_deferral(book.state, on, TERMS, "A1/2026-02-01", 30)
    state, _ = relief.defer(book.state, on, TERMS, "A1/2026-02-01", 30, quote.fingerprint)
    assert state.last_deferral_on == on
    moved = state.statements[-1]
    assert (moved.due_date, moved.original_due_date) == (date(2026, 3, 11), date(2026, 2, 9))
    later = dataclasses.replace(state, statements=(dataclasses.replace(moved, original_due_date=None),))
    refused("relief.deferral.once_per_window", relief.quote_deferral, later, on, TERMS, "A1/2026-02-01", 5)
    a_year_on = dataclasses.replace(later, last_deferral_on=date(2025, 2, 5))
    assert relief.quote_deferral(a_year_on, on, TERMS, "A1/2026-02-01", 5).kind == "deferral"
    refused(
        "relief.deferral.past_due",
        relief.quote_deferral,
        OVERDUE_IN_MARCH.state,
        date(2026, 3, 20),
        TERMS,
        "A1/2026-02-01",
        5,
    )


def test_a_deferred_statement_bears_revolving_interest_only_until_its_new_due_date() -> None:
    book = overdue_book(date(2026, 2, 5))
    quote = relief.quote_deferral(book.state, date(2026, 2, 5), TERMS, "A1/2026-02-01", 10)
    book.state, _ = relief.defer(book.state, date(2026, 2, 5), TERMS, "A1/2026-02-01", 10, quote.fingerprint)
    book.run_to(date(2026, 2, 21))  # new due date 19 February: 10 days of revolving interest, then 1 overdue
    statement = book.state.statements[-1]
    assert statement.interest == 10 * 50
    assert statement.overdue_interest == 50
    assert book.state.days_past_due == 1
    book.check_ledger()


# --- quotes, staleness and maker-checker -----------------------------------------------------------------


def test_a_quote_goes_stale_when_the_balance_moves() -> None:
    book = overdue_book(date(2026, 3, 20))
    quote, offer = relief_arrangements.offer_plan(book.state, date(2026, 3, 20), TERMS, 6)
    book.repay(date(2026, 3, 20), 1_000)
    with pytest.raises(StaleQuote) as info:
        relief_arrangements.accept(book.state, date(2026, 3, 20), offer, "p1", "a1", quote.fingerprint)
    assert info.value.rule == "relief.quote.stale"


def test_maker_checker_and_role_limits() -> None:
    refused("relief.approval.same_user", relief_waivers.check_approval, TERMS, "a1", "a1", "manager", 1)
    refused("relief.approval.unknown_role", relief_waivers.check_approval, TERMS, "a1", "b1", "intern", 1)
    refused(
        "relief.approval.over_authority", relief_waivers.check_approval, TERMS, "a1", "b1", "agent", 20_001
    )
    relief_waivers.check_approval(TERMS, "a1", "b1", "agent", 20_000)
    generous = ReliefTerms(role_limits=(("agent", 100_000),))
    relief_waivers.check_approval(generous, "a1", "b1", "agent", 20_001)


def test_a_waiver_is_whole_or_refused() -> None:
    book = overdue_book(date(2026, 3, 1))
    interest = book.state.interest
    refused(
        "relief.waiver.exceeds_interest",
        relief_waivers.apply,
        book.state,
        date(2026, 3, 1),
        interest + 1,
        0,
        "w",
    )
    refused("relief.waiver.amount", relief_waivers.quote, book.state, date(2026, 3, 1), 0, 0)
    state, txn = relief_waivers.apply(book.state, date(2026, 3, 1), interest, 0, "w")
    assert txn is not None
    book.post(state, [txn])
    assert book.state.interest == 0 and book.state.statements[-1].late_charges == 0
    assert balances(book.journal)[LedgerAccount.WAIVER_EXPENSE] == interest
    book.check_ledger()


# --- plans and settlements through their lives -----------------------------------------------------------


def agree(book: Book, on: date, offer: tuple[relief.ReliefQuote, object], approver: str = "t1") -> None:
    quote, draft = offer
    state, txns = relief_arrangements.accept(book.state, on, draft, f"A1/x/{on}", "a1", quote.fingerprint)  # type: ignore[arg-type]
    book.post(state, txns)
    if book.state.arrangement and book.state.arrangement.status == "pending_approval":
        state, txns = relief_arrangements.approve(book.state, on, TERMS, f"A1/x/{on}", approver, "team_lead")
        book.post(state, txns)


def test_a_kept_plan_at_a_reduced_rate_completes_and_closes_the_line() -> None:
    book = overdue_book(date(2026, 3, 20))
    on = date(2026, 3, 20)
    offer = relief_arrangements.offer_plan(book.state, on, TERMS, 3, monthly_rate=Decimal("0.005"))
    agree(book, on, offer)
    arrangement = book.state.arrangement
    assert arrangement is not None and arrangement.status == "active"
    dpd = book.state.days_past_due
    for payment in arrangement.schedule:
        book.repay(payment.due_date, payment.amount)
        assert book.state.days_past_due == dpd  # the clock stands still
        book.check_ledger()
    book.run_to(arrangement.schedule[-1].due_date + timedelta(days=1))
    assert book.state.arrangement is not None and book.state.arrangement.status == "completed"
    assert book.state.status is AccountStatus.CLOSED and book.state.outstanding == 0
    assert relief_arrangements.plan_fact(book.state) == "none"
    plan_interest = sum(p.interest for p in arrangement.schedule)
    assert plan_interest > 0
    assert -balances(book.journal)[LedgerAccount.REVOLVING_INTEREST_INCOME] == plan_interest
    book.check_ledger()


def test_a_broken_plan_restores_what_it_set_aside_and_resumes_dpd() -> None:
    book = overdue_book(date(2026, 3, 20))
    on = date(2026, 3, 20)
    set_aside = book.state.interest
    dpd = book.state.days_past_due
    agree(book, on, relief_arrangements.offer_plan(book.state, on, TERMS, 6, waive_interest=True))
    assert book.state.interest == 0
    first = book.state.arrangement.schedule[0]  # type: ignore[union-attr]
    book.run_to(first.due_date + timedelta(days=TERMS.plan_breach_days + 1))
    assert book.state.arrangement.status == "active"  # type: ignore[union-attr]
    book.run_to(first.due_date + timedelta(days=TERMS.plan_breach_days + 2))
    assert book.state.arrangement.status == "broken"  # type: ignore[union-attr]
    assert relief_arrangements.plan_fact(book.state) == "broken"
    assert book.state.days_past_due == dpd + 1
    assert book.state.interest == set_aside + 50  # restored, plus the day's overdue interest
    assert balances(book.journal)[LedgerAccount.WAIVER_EXPENSE] == 0
    book.check_ledger()


def test_a_settlement_of_a_written_off_account_waives_the_claim_and_reports_g() -> None:
    book = overdue_book(date(2026, 8, 10))
    assert book.state.status is AccountStatus.WRITTEN_OFF
    on = date(2026, 8, 10)
    offer = relief_arrangements.offer_settlement(book.state, on, TERMS, 50_000, date(2026, 8, 31))
    agree(book, on, offer)
    book.repay(date(2026, 8, 20), 50_000)
    book.run_to(date(2026, 9, 1))
    assert book.state.arrangement.status == "completed"  # type: ignore[union-attr]
    assert book.state.outstanding == 0
    assert book.state.bureau[-1].status == "G"
    b = balances(book.journal)
    assert b.get(LedgerAccount.WRITTEN_OFF_PRINCIPAL, 0) == 0
    assert b[LedgerAccount.WAIVER_EXPENSE] > 0
    book.check_ledger()


def test_a_lapsed_settlement_waives_nothing() -> None:
    book = overdue_book(date(2026, 3, 20))
    on = date(2026, 3, 20)
    owed = book.state.outstanding
    agree(book, on, relief_arrangements.offer_settlement(book.state, on, TERMS, 60_000, date(2026, 3, 31)))
    book.repay(date(2026, 3, 25), 30_000)
    book.run_to(date(2026, 4, 2))
    assert book.state.arrangement.status == "lapsed"  # type: ignore[union-attr]
    assert LedgerAccount.WAIVER_EXPENSE not in balances(book.journal)
    assert book.state.outstanding > owed - 30_000
    book.check_ledger()


def test_a_plan_over_bill_installments_completes_and_ends_them_without_their_later_fees() -> None:
    book = Book()
    book.purchase(date(2026, 1, 10), 120_000)
    book.run_to(date(2026, 2, 5))
    outcome = rules.request_installments(book.state, date(2026, 2, 5), "A1/2026-02-01", 12)
    book.post(outcome.state, outcome.transactions)
    book.run_to(date(2026, 2, 20))
    on = date(2026, 2, 20)
    agree(book, on, relief_arrangements.offer_plan(book.state, on, TERMS, 2, waive_interest=True))
    arrangement = book.state.arrangement
    assert arrangement is not None and arrangement.amount == book.state.outstanding
    assert book.state.plan_principal > 0
    for payment in arrangement.schedule:
        book.repay(payment.due_date, payment.amount)
    book.run_to(arrangement.schedule[-1].due_date + timedelta(days=1))
    assert book.state.arrangement.status == "completed"  # type: ignore[union-attr]
    assert book.state.outstanding == 0
    assert all(plan.is_finished for plan in book.state.plans)
    book.check_ledger()
