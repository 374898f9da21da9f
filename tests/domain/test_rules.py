"""The product rules of DESIGN §4 at their boundaries, on the pure domain (no database)."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from overdue.domain import account as rules
from overdue.domain import allocation, installments, ledger
from overdue.domain.billing import minimum_payment
from overdue.domain.calendar import add_months, due_date_for, iter_days, next_statement_date
from overdue.domain.delinquency import bucket_for, bureau_status
from overdue.domain.errors import InstallmentsRefused, InvalidAmount, InvalidTerms, RepaymentTooLarge
from overdue.domain.ledger import LedgerAccount, Transaction, TransactionKind
from overdue.domain.state import AccountState, AccountStatus, Statement
from overdue.domain.terms import PRESETS, ProductTerms, product_terms, terms_from_json, with_overrides

HUABEI = PRESETS["huabei"]
OPENED = date(2026, 1, 5)
STATEMENT = date(2026, 2, 1)
DUE = date(2026, 2, 9)


def run_days(state: AccountState, first: date, last: date, journal: list[Transaction]) -> AccountState:
    """Run the end-of-day of every date from ``first`` to ``last``; transactions go to ``journal``."""
    for day in iter_days(first, last):
        outcome = rules.end_of_day(state, day)
        journal.extend(outcome.transactions)
        state = outcome.state
    return state


def billed_account(
    journal: list[Transaction], amount: int = 100_000, through: date = STATEMENT
) -> AccountState:
    """Account A1 opened 5 January (limit 5,000.00), ``amount`` bought on 10 January, run to ``through``."""
    state = rules.open_account("A1", "huabei", HUABEI, OPENED, 500_000)
    state = run_days(state, OPENED, date(2026, 1, 9), journal)
    outcome = rules.purchase(state, date(2026, 1, 10), amount)
    journal.extend(outcome.transactions)
    return run_days(outcome.state, date(2026, 1, 10), through, journal)


# --- buckets ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        (-3, "M0"),
        (0, "M0"),
        (1, "M1"),
        (30, "M1"),
        (31, "M2"),
        (60, "M2"),
        (61, "M3"),
        (90, "M3"),
        (91, "M4"),
        (120, "M4"),
        (121, "M5"),
        (150, "M5"),
        (151, "M6"),
        (180, "M6"),
        (181, "M7+"),
        (1000, "M7+"),
    ],
)
def test_bucket_for(dpd: int, bucket: str) -> None:
    assert bucket_for(dpd, HUABEI) == bucket


def test_bucket_width_and_last_bucket_are_product_terms() -> None:
    terms = with_overrides(HUABEI, {"bucket_days": 10, "last_bucket": 3})
    assert [bucket_for(d, terms) for d in (10, 11, 20, 21, 500)] == ["M1", "M2", "M2", "M3+", "M3+"]


@pytest.mark.parametrize(
    ("status", "bucket", "expected"),
    [
        (AccountStatus.ACTIVE, "M0", "N"),
        (AccountStatus.FROZEN, "M1", "1"),
        (AccountStatus.FROZEN, "M6", "6"),
        (AccountStatus.FROZEN, "M7+", "7"),
        (AccountStatus.CLOSED, "M0", "C"),
        (AccountStatus.WRITTEN_OFF, "M6", "B"),
    ],
)
def test_bureau_status(status: AccountStatus, bucket: str, expected: str) -> None:
    state = replace(rules.open_account("A1", "huabei", HUABEI, OPENED, 500_000), status=status, bucket=bucket)
    assert bureau_status(state) == expected


# --- calendar ---------------------------------------------------------------------------------------------


def test_statement_and_due_dates() -> None:
    assert next_statement_date(date(2026, 1, 10), 1) == STATEMENT
    assert next_statement_date(date(2026, 1, 31), 1) == STATEMENT
    assert next_statement_date(STATEMENT, 1) == date(2026, 3, 1)  # a purchase on the 1st is in the new cycle
    assert next_statement_date(date(2026, 12, 5), 1) == date(2027, 1, 1)
    assert due_date_for(STATEMENT, 9) == DUE
    assert due_date_for(date(2026, 2, 20), 9) == date(2026, 3, 9)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 9), 2) == date(2027, 1, 9)


# --- installments -----------------------------------------------------------------------------------------


def test_twelve_installments_at_8_8_percent() -> None:
    state = billed_account([])
    quote = installments.quote(state, "A1/2026-02-01", 12, date(2026, 2, 5))
    assert quote.principal == 100_000
    assert quote.fee_rate == Decimal("0.088")
    assert quote.fee_total == 8_800
    assert [p.fee for p in quote.schedule] == [737] + [733] * 11
    assert [p.principal for p in quote.schedule] == [8_337] + [8_333] * 11
    assert [p.number for p in quote.schedule] == list(range(1, 13))
    assert quote.schedule[0].due_date == DUE
    assert quote.schedule[-1].due_date == date(2027, 1, 9)
    assert sum(p.principal for p in quote.schedule) == 100_000
    assert Decimal("0.15") < quote.annual_rate < Decimal("0.165")
    assert abs(quote.annual_rate - Decimal("0.159")) <= Decimal("0.001")  # "about 15.9 %"
    assert quote.annual_rate == quote.annual_rate.quantize(Decimal("0.0001"))


@pytest.mark.parametrize(
    ("periods", "fee_total", "low", "high"),
    [
        (3, 2_500, "0.14", "0.16"),
        (6, 4_500, "0.14", "0.16"),
        (9, 6_500, "0.14", "0.16"),
        (12, 8_800, "0.15", "0.165"),
    ],
)
def test_every_offered_plan_shows_a_plausible_annual_rate(
    periods: int, fee_total: int, low: str, high: str
) -> None:
    quote = installments.quote(billed_account([]), "A1/2026-02-01", periods, date(2026, 2, 1))
    assert quote.fee_total == fee_total
    assert sum(p.fee for p in quote.schedule) == fee_total
    assert len(quote.schedule) == periods
    assert Decimal(low) < quote.annual_rate < Decimal(high)


def test_installment_fee_is_rounded_half_up() -> None:
    # 1,234.57 × 2.5 % = 30.86425 → 30.86; 1,234.50 × 8.8 % = 108.636 → 108.64
    assert installments.quote(billed_account([], 123_457), "A1/2026-02-01", 3, DUE).fee_total == 3_086
    assert installments.quote(billed_account([], 123_450), "A1/2026-02-01", 12, DUE).fee_total == 10_864


def test_installments_refused_outside_the_rules() -> None:
    state = billed_account([])
    with pytest.raises(InstallmentsRefused, match="not offered"):
        installments.quote(state, "A1/2026-02-01", 24, DUE)
    with pytest.raises(InstallmentsRefused, match="on or before the due date"):
        installments.quote(state, "A1/2026-02-01", 3, DUE + timedelta(days=1))
    outcome = rules.request_installments(state, date(2026, 2, 2), "A1/2026-02-01", 3)
    with pytest.raises(InstallmentsRefused, match="already in installments"):
        installments.quote(outcome.state, "A1/2026-02-01", 3, date(2026, 2, 3))


@pytest.mark.parametrize(("principal", "allowed"), [(9_999, False), (10_000, True)])
def test_installments_need_a_minimum_principal(principal: int, allowed: bool) -> None:
    state = billed_account([], principal)
    if allowed:
        assert installments.quote(state, "A1/2026-02-01", 3, DUE).principal == principal
    else:
        with pytest.raises(InstallmentsRefused, match=r"at least 100\.00"):
            installments.quote(state, "A1/2026-02-01", 3, DUE)


def test_converting_bills_period_one_and_keeps_using_the_limit() -> None:
    journal: list[Transaction] = []
    state = billed_account(journal)
    outcome = rules.request_installments(state, date(2026, 2, 2), "A1/2026-02-01", 12)
    state = outcome.state
    (statement,) = state.statements
    assert statement.installment_principal == 8_337
    assert statement.fees == 737
    assert statement.new_principal == statement.carried_principal == 0
    assert statement.minimum == statement.amount == 8_337 + 737
    assert state.principal == 100_000
    assert state.available_credit == 400_000
    assert state.plan_principal == 100_000 - 8_337
    (fee,) = outcome.transactions
    assert fee.kind is TransactionKind.INSTALLMENT_FEE
    assert ledger.balances([fee])[LedgerAccount.FEES] == 737
    # The next statement bills period 2 with its fee.
    state = run_days(state, date(2026, 2, 2), date(2026, 3, 1), journal)
    march = state.latest_statement()
    assert march is not None
    assert march.installment_principal == 8_333
    assert march.fees == 733


@pytest.mark.parametrize(
    ("principal", "payments", "expected"),
    [(100, [110], "0.1"), (1_200, [100] * 12, "0"), (1_000, [0, 1_210], "0.1"), (1_000, [1_000], "0")],
)
def test_monthly_irr(principal: int, payments: list[int], expected: str) -> None:
    assert abs(installments.monthly_irr(principal, payments) - Decimal(expected)) < Decimal("1e-12")


def test_monthly_irr_of_an_annuity() -> None:
    # An annuity at 1 % a month: each payment is P × r / (1 - (1 + r)^-n).
    r = Decimal("0.01")
    payment = Decimal(1_000_000) * r / (1 - (1 + r) ** -12)
    payments = [int(payment.to_integral_value())] * 12
    assert abs(installments.monthly_irr(1_000_000, payments) - r) < Decimal("0.00001")
    assert installments.annual_rate(1_000_000, payments) == Decimal("0.1200")


@pytest.mark.parametrize(("principal", "payments"), [(0, [1]), (-5, [10]), (100, [50, 49])])
def test_monthly_irr_needs_a_loan_repaid_in_full(principal: int, payments: list[int]) -> None:
    with pytest.raises(ValueError, match="IRR"):
        installments.monthly_irr(principal, payments)


# --- terms ------------------------------------------------------------------------------------------------


def test_huabei_preset_is_design_4() -> None:
    terms = product_terms("huabei")
    assert terms == ProductTerms()
    assert (terms.min_limit, terms.max_limit) == (50_000, 5_000_000)
    assert (terms.statement_day, terms.due_day, terms.allowed_due_days) == (1, 9, (8, 9, 10))
    assert terms.overdue_daily_rate == terms.revolving_daily_rate == Decimal("0.0005")
    assert terms.minimum_principal_share == Decimal("0.10")
    assert dict(terms.installment_fee_rates) == {
        3: Decimal("0.025"),
        6: Decimal("0.045"),
        9: Decimal("0.065"),
        12: Decimal("0.088"),
    }
    assert (terms.principal_first_after_dpd, terms.freeze_at_dpd, terms.write_off_at_dpd) == (90, 1, 180)
    assert terms.grace_days == 0


@pytest.mark.parametrize("due_day", [8, 9, 10])
def test_due_day_override_accepted(due_day: int) -> None:
    assert product_terms("huabei", {"due_day": due_day}).due_day == due_day


@pytest.mark.parametrize("due_day", [7, 11, 1, 0, 29])
def test_due_day_override_refused(due_day: int) -> None:
    with pytest.raises(InvalidTerms, match="due_day"):
        product_terms("huabei", {"due_day": due_day})


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"interest_rate": "0.001"}, "unknown product term 'interest_rate'"),
        ({"due_day": "9"}, "whole number"),
        ({"due_day": True}, "whole number"),
        ({"overdue_daily_rate": 0.0005}, "decimal string"),
        ({"overdue_daily_rate": "lots"}, "decimal string"),
        ({"overdue_daily_rate": "2"}, "between 0 and 1"),
        ({"min_limit": "60000.00"}, "min_limit must be positive and at most max_limit"),
        ({"installment_fee_rates": {1: "0.01"}}, "2 or more periods"),
        ({"installment_fee_rates": [3]}, "must map periods"),
        ({"grace_days": -1}, "grace_days must not be negative"),
        ({"freeze_at_dpd": 0}, "at least 1"),
    ],
)
def test_bad_overrides_refused(overrides: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidTerms, match=match):
        product_terms("huabei", overrides)


def test_sub_fen_limit_override_refused() -> None:
    with pytest.raises(InvalidAmount, match="min_limit"):
        product_terms("huabei", {"min_limit": "0.001"})


def test_overrides_and_json_round_trip() -> None:
    terms = product_terms(
        "huabei",
        {
            "due_day": 10,
            "grace_days": 3,
            "overdue_daily_rate": "0.0004",
            "max_limit": "20000.00",
            "installment_fee_rates": {"3": "0.02", 6: "0.04"},
        },
    )
    assert terms.due_day == 10
    assert terms.overdue_daily_rate == Decimal("0.0004")
    assert terms.max_limit == 2_000_000
    assert terms.installment_fee_rates == ((3, Decimal("0.02")), (6, Decimal("0.04")))
    assert terms_from_json(terms.to_json()) == terms


def test_unknown_product_refused() -> None:
    with pytest.raises(InvalidTerms, match="unknown product"):
        product_terms("jiebei")


@pytest.mark.parametrize(
    ("limit", "ok"), [(49_999, False), (50_000, True), (5_000_000, True), (5_000_001, False)]
)
def test_credit_limit_range(limit: int, ok: bool) -> None:
    if ok:
        HUABEI.check_limit(limit)
    else:
        with pytest.raises(InvalidTerms, match=r"outside 500\.00–50000\.00"):
            HUABEI.check_limit(limit)


# --- minimum payment, DPD, overdue interest ----------------------------------------------------------------


def test_minimum_payment() -> None:
    assert minimum_payment(100_000, 0, 0, 0, HUABEI) == 10_000
    assert minimum_payment(1_225, 0, 0, 0, HUABEI) == 123  # 1.225 → 1.23, half up
    assert minimum_payment(110_000, 8_337, 900, 737, HUABEI) == 11_000 + 8_337 + 900 + 737


def test_due_date_is_day_zero_and_overdue_interest_starts_on_day_one() -> None:
    journal: list[Transaction] = []
    state = billed_account(journal, through=DUE)
    assert (state.days_past_due, state.bucket, state.status) == (0, "M0", AccountStatus.ACTIVE)
    assert state.interest == 0
    state = run_days(state, DUE + timedelta(days=1), DUE + timedelta(days=1), journal)
    assert (state.days_past_due, state.bucket, state.status) == (1, "M1", AccountStatus.FROZEN)
    assert state.interest == 50


def test_overdue_interest_1000_yuan_for_10_days_is_5_yuan() -> None:
    journal: list[Transaction] = []
    state = billed_account(journal, through=DUE + timedelta(days=10))
    assert state.days_past_due == 10
    (statement,) = state.statements
    assert statement.overdue_interest == 500
    assert statement.late_charges == 500
    assert statement.minimum_remaining == 10_500
    interest = [t for t in journal if t.kind is TransactionKind.OVERDUE_INTEREST]
    assert [t.business_date for t in interest] == list(
        iter_days(DUE + timedelta(days=1), DUE + timedelta(days=10))
    )
    assert ledger.balances(interest) == {
        LedgerAccount.INTEREST: 500,
        LedgerAccount.OVERDUE_INTEREST_INCOME: -500,
    }


def test_overdue_interest_is_simple() -> None:
    """No interest on interest: 90 days of 0.50 is exactly 45.00."""
    journal: list[Transaction] = []
    state = billed_account(journal, through=DUE + timedelta(days=90))
    assert state.interest == 4_500
    assert state.bucket == "M3"


def test_freeze_at_dpd_1_and_unfreeze_when_cured() -> None:
    journal: list[Transaction] = []
    state = billed_account(journal, through=DUE + timedelta(days=5))
    assert state.status is AccountStatus.FROZEN
    day = DUE + timedelta(days=6)
    underpaid = rules.repay(state, day, 10_249)  # one fen short of minimum + 2.50 of late charges
    assert underpaid.state.status is AccountStatus.FROZEN
    cured = rules.repay(state, day, 10_250)
    assert cured.state.status is AccountStatus.ACTIVE
    assert (cured.state.days_past_due, cured.state.bucket) == (0, "M0")


def test_line_stays_frozen_until_overdue_interest_is_paid() -> None:
    """Cured beyond 90 DPD (principal first), the line unfreezes once the overdue interest is paid too."""
    journal: list[Transaction] = []
    state = billed_account(journal, through=DUE + timedelta(days=94))
    assert state.interest == 94 * 50
    day = DUE + timedelta(days=95)
    cured = rules.repay(state, day, 15_000)  # all to principal: paid 150.00 ≥ minimum 100.00 + 47.00
    assert [(line.component, line.amount) for line in cured.allocation] == [("new_principal", 15_000)]
    assert cured.state.days_past_due == 0
    assert cured.state.status is AccountStatus.FROZEN
    # Across the next statement day the overdue interest stays overdue, and the line frozen.
    state = run_days(cured.state, day, date(2026, 6, 2), journal)
    assert state.days_past_due == 0
    assert state.status is AccountStatus.FROZEN
    assert sum(s.overdue_interest for s in state.statements) == 4_700
    paid = rules.repay(state, date(2026, 6, 3), 4_700)
    assert paid.state.status is AccountStatus.ACTIVE


def test_write_off_at_180_days_past_due() -> None:
    journal: list[Transaction] = []
    state = billed_account(journal, through=DUE + timedelta(days=179))
    assert (state.status, state.days_past_due, state.bucket) == (AccountStatus.FROZEN, 179, "M6")
    state = run_days(state, DUE + timedelta(days=180), DUE + timedelta(days=180), journal)
    assert (state.status, state.days_past_due, state.bucket) == (AccountStatus.WRITTEN_OFF, 180, "M6")
    assert state.written_off_on == DUE + timedelta(days=180)
    balances = ledger.balances(journal)
    assert balances[LedgerAccount.PRINCIPAL] == 0
    assert balances[LedgerAccount.INTEREST] == 0
    assert balances[LedgerAccount.WRITTEN_OFF_PRINCIPAL] == 100_000
    assert balances[LedgerAccount.WRITTEN_OFF_INTEREST] == 180 * 50
    # Interest stops; recovery goes on, to the written-off claim.
    state = run_days(state, DUE + timedelta(days=181), DUE + timedelta(days=200), journal)
    assert state.interest == 180 * 50
    assert state.bucket == "M7+"
    recovery = rules.repay(state, DUE + timedelta(days=201), 1_000)
    assert recovery.transactions[0].kind is TransactionKind.RECOVERY
    assert ledger.balances(recovery.transactions) == {
        LedgerAccount.REPAYMENT_CLEARING: 1_000,
        LedgerAccount.WRITTEN_OFF_PRINCIPAL: -1_000,  # beyond 90 DPD: principal first
    }


def test_partial_repayment_on_dpd_180_still_accrues_that_days_interest() -> None:
    journal: list[Transaction] = []
    state = billed_account(journal, through=DUE + timedelta(days=179))
    day = DUE + timedelta(days=180)
    outcome = rules.repay(state, day, 100)
    final = rules.end_of_day(outcome.state, day)
    kinds = [t.kind for t in (*outcome.transactions, *final.transactions)]
    assert TransactionKind.OVERDUE_INTEREST in kinds
    assert final.state.status is AccountStatus.WRITTEN_OFF


# --- allocation -------------------------------------------------------------------------------------------


def statement_with_everything(sid: str, statement_date: date, due_date: date) -> Statement:
    return Statement(
        id=sid,
        statement_date=statement_date,
        due_date=due_date,
        amount=2_100,
        minimum=2_100,
        fees=100,
        overdue_interest=200,
        interest=300,
        carried_principal=400,
        installment_principal=500,
        new_principal=600,
    )


def account_with(*statements: Statement) -> AccountState:
    state = rules.open_account("A1", "huabei", HUABEI, date(2025, 1, 5), 500_000)
    return replace(state, statements=statements, status=AccountStatus.FROZEN)


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (
            0,
            [
                ("fees", 100),
                ("overdue_interest", 200),
                ("interest", 300),
                ("carried_principal", 400),
                ("installment_principal", 200),
            ],
        ),
        (
            90,
            [
                ("fees", 100),
                ("overdue_interest", 200),
                ("interest", 300),
                ("carried_principal", 400),
                ("installment_principal", 200),
            ],
        ),
        (91, [("carried_principal", 400), ("installment_principal", 500), ("new_principal", 300)]),
        (200, [("carried_principal", 400), ("installment_principal", 500), ("new_principal", 300)]),
    ],
)
def test_allocation_order_around_90_days_past_due(dpd: int, expected: list[tuple[str, int]]) -> None:
    on = date(2026, 6, 1)
    due = on - timedelta(days=dpd)
    state = account_with(statement_with_everything("A1/s", due - timedelta(days=8), due))
    _, _, lines = allocation.apply_repayment(state, on, 1_200)
    assert [(line.component, line.amount) for line in lines] == expected
    assert all(line.target == "A1/s" for line in lines)


def test_beyond_90_days_principal_first_then_interest_then_fees() -> None:
    on = date(2026, 6, 1)
    due = on - timedelta(days=91)
    state = account_with(statement_with_everything("A1/s", due - timedelta(days=8), due))
    _, txn, lines = allocation.apply_repayment(state, on, 2_050)
    assert [(line.component, line.amount) for line in lines] == [
        ("carried_principal", 400),
        ("installment_principal", 500),
        ("new_principal", 600),
        ("overdue_interest", 200),
        ("interest", 300),
        ("fees", 50),
    ]
    assert ledger.balances([txn]) == {
        LedgerAccount.REPAYMENT_CLEARING: 2_050,
        LedgerAccount.PRINCIPAL: -1_500,
        LedgerAccount.INTEREST: -500,
        LedgerAccount.FEES: -50,
    }


def test_oldest_statement_first_then_unbilled() -> None:
    on = date(2026, 6, 1)
    older = statement_with_everything("A1/old", date(2026, 4, 1), date(2026, 4, 9))
    newer = statement_with_everything("A1/new", date(2026, 5, 1), date(2026, 5, 9))
    opened = rules.open_account("A1", "huabei", HUABEI, on, 500_000)
    state = rules.purchase(opened, on, 1_000).state
    # Not in date order: the allocation sorts them.
    state = replace(state, statements=(newer, older), status=AccountStatus.FROZEN)
    assert allocation.repayable(state) == 2 * 2_100 + 1_000
    new_state, _, lines = allocation.apply_repayment(state, on, 2_100 + 150)
    assert sum(line.amount for line in lines) == 2_250
    assert [line.target for line in lines][:6] == ["A1/old"] * 6
    assert [(line.target, line.component, line.amount) for line in lines][6:] == [
        ("A1/new", "fees", 100),
        ("A1/new", "overdue_interest", 50),
    ]
    by_id = {s.id: s for s in new_state.statements}
    assert by_id["A1/old"].outstanding == 0
    assert by_id["A1/old"].closed_on == on
    assert by_id["A1/new"].paid == 150
    # Everything billed, then the purchase not yet billed (a prepayment).
    _, _, lines = allocation.apply_repayment(state, on, 2 * 2_100 + 400)
    assert lines[-1] == allocation.AllocationLine("unbilled", "new_principal", 400)


def test_repayment_above_what_can_be_repaid_is_refused() -> None:
    on = date(2026, 6, 1)
    state = account_with(statement_with_everything("A1/s", date(2026, 5, 1), date(2026, 5, 9)))
    allocation.apply_repayment(state, on, 2_100)
    with pytest.raises(RepaymentTooLarge, match=r"21\.00"):
        allocation.apply_repayment(state, on, 2_101)


def test_a_carry_below_minus_half_a_fen_stays_and_no_fen_is_made_up() -> None:
    """A statement carrying earlier ones takes the sum of their carries, which can be below -0.5 fen. It is
    never rounded to a negative posting (nor to a fen added to the carry): what is posted plus the carry
    stays the exact interest, 1.00 at 0.05 % a day being 0.05 fen a day."""
    journal: list[Transaction] = []
    state = billed_account(journal, amount=100, through=DUE)
    (statement,) = state.statements
    state = replace(state, statements=(replace(statement, interest_carry=Decimal("-0.6")),))
    journal.clear()
    state = run_days(state, DUE + timedelta(days=1), DUE + timedelta(days=2), journal)
    assert state.statements[0].interest_carry == Decimal("-0.5")
    assert not [t for t in journal if t.kind is TransactionKind.OVERDUE_INTEREST]
    state = run_days(state, DUE + timedelta(days=3), DUE + timedelta(days=40), journal)
    interest = [t for t in journal if t.kind is TransactionKind.OVERDUE_INTEREST]
    posted = ledger.balances(interest)[LedgerAccount.INTEREST]
    assert posted + state.statements[0].interest_carry == Decimal("-0.6") + Decimal("0.05") * 40
    assert posted == 1  # the first fen once the carry reached half a fen (on day 22)
