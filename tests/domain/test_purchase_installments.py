"""Purchase installments (消费分期) on the pure domain: the quote, the booking, the billing period by period,
the ledger, each refusal with its rule, and the split as a property."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overdue.domain import account as rules
from overdue.domain import purchase_installments
from overdue.domain.calendar import add_months, iter_days
from overdue.domain.errors import InvalidDate, PurchaseInstallmentsRefused
from overdue.domain.ledger import LedgerAccount, Transaction, TransactionKind, balances
from overdue.domain.money import round_half_up
from overdue.domain.state import AccountState, AccountStatus, PlanOrigin
from overdue.domain.terms import PRESETS

HUABEI = PRESETS["huabei"]
OPENED = date(2026, 1, 5)
BOUGHT = date(2026, 1, 10)


def run_days(state: AccountState, first: date, last: date, journal: list[Transaction]) -> AccountState:
    for day in iter_days(first, last):
        outcome = rules.end_of_day(state, day)
        journal.extend(outcome.transactions)
        state = outcome.state
    return state


def opened(journal: list[Transaction], through: date = date(2026, 1, 9)) -> AccountState:
    """Account A1, limit 5,000.00, opened 5 January, its end-of-day run up to ``through``."""
    state = rules.open_account("A1", "huabei", HUABEI, OPENED, 500_000)
    return run_days(state, OPENED, through, journal)


def test_the_quote_splits_evenly_with_the_remainder_first_and_changes_nothing() -> None:
    state = opened([])
    offer = purchase_installments.quote(state, BOUGHT, 125_000, 6)
    assert offer.fee_rate == Decimal("0.045") and offer.fee_total == 5_625
    assert [p.principal for p in offer.schedule] == [20_835] + [20_833] * 5
    assert [p.fee for p in offer.schedule] == [940] + [937] * 5
    assert [p.due_date for p in offer.schedule] == [date(2026, m, 9) for m in range(2, 8)]
    assert offer.first_statement == date(2026, 2, 1)
    assert offer.annual_rate == Decimal("0.1527")
    assert offer.available_credit_after == 375_000
    assert offer.plan_id is None
    assert not any(p.billed for p in offer.schedule)
    assert purchase_installments.quote(state, BOUGHT, 125_000, 6) == offer  # a quote keeps nothing


def test_twelve_periods_quote_the_same_rate_as_bill_installments() -> None:
    offer = purchase_installments.quote(opened([]), BOUGHT, 100_000, 12)
    assert offer.fee_total == 8_800 and offer.annual_rate == Decimal("0.1587")


def test_a_purchase_on_the_statement_day_starts_with_next_months_statement() -> None:
    state = opened([], through=date(2026, 1, 31))
    offer = purchase_installments.quote(state, date(2026, 2, 1), 30_000, 3)
    assert offer.first_statement == date(2026, 3, 1)
    assert [p.due_date for p in offer.schedule] == [date(2026, 3, 9), date(2026, 4, 9), date(2026, 5, 9)]


def test_booking_posts_the_whole_purchase_and_uses_the_limit_at_once() -> None:
    state = opened([])
    outcome = rules.purchase(state, BOUGHT, 125_000, periods=6)
    new = outcome.state
    (plan,) = new.plans
    assert plan.id == "A1/2026-01-10/purchase-1" and plan.origin is PlanOrigin.PURCHASE
    assert plan.statement_id is None and plan.created_on == BOUGHT
    assert plan.principal == 125_000 and plan.fee_total == 5_625 and plan.unbilled_principal == 125_000
    assert new.unbilled == () and new.principal == 125_000 and new.available_credit == 375_000
    (txn,) = outcome.transactions
    assert txn.kind is TransactionKind.PURCHASE and txn.statement_id is None
    assert balances([txn]) == {LedgerAccount.PRINCIPAL: 125_000, LedgerAccount.MERCHANT_PAYABLE: -125_000}
    assert txn.memo is not None and plan.id in txn.memo
    assert outcome.purchase_quote is not None and outcome.purchase_quote.plan_id == plan.id

    second = rules.purchase(new, BOUGHT, 20_000, periods=3).state
    assert [p.id for p in second.plans] == ["A1/2026-01-10/purchase-1", "A1/2026-01-10/purchase-2"]
    assert second.available_credit == 355_000


def test_each_statement_bills_one_period_and_each_repaid_period_frees_the_limit() -> None:
    journal: list[Transaction] = []
    state = opened(journal)
    outcome = rules.purchase(state, BOUGHT, 125_000, periods=6)
    journal.extend(outcome.transactions)
    state = outcome.state
    day = BOUGHT
    credits = []
    for k in range(6):
        statement_day = add_months(date(2026, 2, 1), k)
        due = add_months(date(2026, 2, 9), k)
        state = run_days(state, day, due - timedelta(days=1), journal)
        statement = state.latest_statement()
        assert statement is not None and statement.statement_date == statement_day
        period_principal, period_fee = (20_835, 940) if k == 0 else (20_833, 937)
        assert statement.installment_principal == period_principal and statement.fees == period_fee
        assert statement.new_principal == 0 and statement.minimum == statement.amount
        assert statement.amount == period_principal + period_fee
        paid = rules.repay(state, due, statement.amount)
        journal.extend(paid.transactions)
        state = paid.state
        credits.append(state.available_credit)
        day = due
    assert credits == [395_835, 416_668, 437_501, 458_334, 479_167, 500_000]
    state = run_days(state, day, date(2026, 7, 31), journal)
    assert state.outstanding == 0 and state.days_past_due == 0
    assert all(p.is_finished for p in state.plans)

    fees = [t for t in journal if t.kind is TransactionKind.INSTALLMENT_FEE]
    assert [t.statement_id for t in fees] == [f"A1/2026-0{m}-01" for m in range(2, 8)]
    assert balances(fees)[LedgerAccount.FEES] == 5_625
    totals = balances(journal)
    assert totals[LedgerAccount.INSTALLMENT_FEE_INCOME] == -5_625
    assert totals.get(LedgerAccount.PRINCIPAL, 0) == 0 and totals.get(LedgerAccount.FEES, 0) == 0
    assert totals[LedgerAccount.MERCHANT_PAYABLE] == -125_000
    assert LedgerAccount.INTEREST not in totals


def test_a_missed_period_is_overdue_on_its_own_principal_only() -> None:
    journal: list[Transaction] = []
    state = opened(journal)
    state = rules.purchase(state, BOUGHT, 100_000, periods=3).state
    state = run_days(state, BOUGHT, date(2026, 2, 10), journal)
    assert state.status is AccountStatus.FROZEN and state.days_past_due == 1
    (overdue,) = state.delinquent_statements(date(2026, 2, 10))
    assert overdue.principal == 33_334 and overdue.overdue_interest == 17  # 33,334 × 0.0005 = 16.667
    assert state.plan_principal == 66_666  # later periods: not due, bearing nothing


def test_prepaying_lowers_the_later_periods_principal_but_not_their_fees() -> None:
    state = opened([])
    state = rules.purchase(state, BOUGHT, 90_000, periods=3).state
    state = rules.repay(state, BOUGHT, 40_000).state
    (plan,) = state.plans
    assert [p.principal for p in plan.periods] == [0, 20_000, 30_000]
    assert [p.fee for p in plan.periods] == [750, 750, 750]
    assert state.available_credit == 450_000


@pytest.mark.parametrize(
    ("amount", "periods", "rule"),
    [
        (100_000, 5, purchase_installments.RULE_PERIODS),
        (100_000, 0, purchase_installments.RULE_PERIODS),
        (100_000, 24, purchase_installments.RULE_PERIODS),
        (9_999, 3, purchase_installments.RULE_MINIMUM),
        (500_001, 12, purchase_installments.RULE_CREDIT),
    ],
)
def test_each_refusal_names_its_rule(amount: int, periods: int, rule: str) -> None:
    state = opened([])
    for attempt in (
        lambda: purchase_installments.quote(state, BOUGHT, amount, periods),
        lambda: rules.purchase(state, BOUGHT, amount, periods=periods),
    ):
        with pytest.raises(PurchaseInstallmentsRefused) as refused:
            attempt()
        assert refused.value.rule == rule and str(refused.value).endswith(f"[{rule}]")
        assert refused.value.code == "installments-refused"


@pytest.mark.parametrize("status", [AccountStatus.FROZEN, AccountStatus.CLOSED, AccountStatus.WRITTEN_OFF])
def test_a_line_that_is_not_active_refuses_purchases_in_installments(status: AccountStatus) -> None:
    state = replace(opened([]), status=status)
    with pytest.raises(PurchaseInstallmentsRefused) as refused:
        rules.purchase(state, BOUGHT, 100_000, periods=3)
    assert refused.value.rule == purchase_installments.RULE_LINE and str(status) in str(refused.value)


def test_a_line_overdue_since_midnight_is_refused_before_the_freeze_is_recorded() -> None:
    state = opened([])
    state = rules.purchase(state, BOUGHT, 100_000).state
    state = run_days(state, BOUGHT, date(2026, 2, 9), [])
    assert state.status is AccountStatus.ACTIVE  # the freeze is recorded by the end-of-day of 10 February
    with pytest.raises(PurchaseInstallmentsRefused) as refused:
        rules.purchase(state, date(2026, 2, 10), 10_000, periods=3)
    assert refused.value.rule == purchase_installments.RULE_LINE


def test_a_purchase_in_installments_is_dated_on_the_open_business_date() -> None:
    with pytest.raises(InvalidDate):
        rules.purchase(opened([]), date(2026, 1, 12), 100_000, periods=3)


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(min_value=HUABEI.min_installment_principal, max_value=5_000_000),
    periods=st.sampled_from([p for p, _ in HUABEI.installment_fee_rates]),
)
def test_the_periods_sum_exactly_to_the_principal_and_the_fee(amount: int, periods: int) -> None:
    state = rules.open_account("P1", "huabei", HUABEI, OPENED, 5_000_000)
    offer = purchase_installments.quote(state, OPENED, amount, periods)
    rate = HUABEI.installment_fee_rate(periods)
    assert rate is not None
    assert offer.fee_total == round_half_up(Decimal(amount) * rate)
    principals = [p.principal for p in offer.schedule]
    fees = [p.fee for p in offer.schedule]
    assert len(offer.schedule) == periods
    assert sum(principals) == amount and sum(fees) == offer.fee_total
    for parts in (principals, fees):
        assert len(set(parts[1:])) <= 1 and 0 <= parts[0] - parts[-1] < periods
    assert [p.number for p in offer.schedule] == list(range(1, periods + 1))
    assert all(b.due_date == add_months(a.due_date, 1) for a, b in pairwise(offer.schedule))
    assert offer.annual_rate > 0
