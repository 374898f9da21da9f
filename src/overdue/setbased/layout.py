"""The end-of-day state as columnar tables: one Arrow schema per table, every column documented.

The tables hold what :class:`overdue.domain.state.AccountState` holds, column by column, so that the whole
portfolio's day can be computed as a few set operations. Conventions:

- every amount is an ``int64`` number of fen (never a float); the interest carry is an ``int64`` number of
  *carry units*, ``10 ** -carry_scale`` fen each (:attr:`PortfolioTables.carry_scale`), so that the exact
  carry of :mod:`overdue.domain.interest` stays an integer;
- rows of every table name their account by ``account_key``, a dense ``int64`` key given when the tables are
  built (joins on integers are cheaper than on strings); only ``accounts`` holds the ``account_id`` string;
- statement ids are not stored: a statement is ``(account_key, statement_date)``, its id
  ``"{account_id}/{statement_date}"`` (:func:`overdue.domain.billing.statement_id`), and an installment
  plan's id ``"{statement id}/installments"``;
- the bureau's months are one string per account (``bureau_grid``, oldest first, one character a month),
  the way the bureau file reports them, so a month end touches one row per account, not 24;
- the bucket history is split: the open spell lives on the account row (``bucket``, ``bucket_entered``), the
  closed spells in ``bucket_spells``, which a day only appends to and never reads;
- an account's relief arrangement (a negotiated plan or settlement,
  :class:`overdue.domain.relief_state.Arrangement`) is one row of ``arrangements``, its schedule rows of
  ``arrangement_payments`` and what a plan set aside rows of ``arrangement_set_asides``; an account without
  an arrangement has no rows there.

:data:`TABLES` lists every table with its columns and what each column is; ``docs/setbased.md`` shows the
same list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.domain import state as domain_state

Column = tuple[str, pa.DataType, str]
"""A column: name, Arrow type, what it holds."""

FEN = pa.int64()
DAY = pa.date32()
PLAN_FEE_RATE = pa.decimal128(12, 6)
"""An installment plan's fee rate, as exact as the store keeps it (``Numeric(12, 6)``)."""

ACCOUNT_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "dense key of the account, used by every other table"),
    ("account_id", pa.string(), "the account's id (AccountState.id)"),
    ("product", pa.string(), "product name; the run's ProductTerms apply to every row"),
    ("opened_on", DAY, "opening date: the first end-of-day is that of this date"),
    ("timezone", pa.string(), "the debtor's IANA time zone (carried, not used by the day's rules)"),
    ("credit_limit", FEN, "credit limit, fen"),
    ("status", pa.string(), "active | frozen | closed | written_off (frozen: the line refuses purchases)"),
    ("last_eod", DAY, "last business date whose end-of-day ran on the account (null: none yet)"),
    ("days_past_due", pa.int64(), "DPD after the last end-of-day"),
    ("bucket", pa.string(), "delinquency bucket after the last end-of-day: M0, M1 … M7+"),
    ("bucket_entered", DAY, "when the account entered ``bucket`` (the open spell; null: no open spell)"),
    ("written_off_on", DAY, "date of the write-off (null: not written off)"),
    ("negative_notice_on", DAY, "when the borrower was first told of a negative bureau report"),
    ("bureau_grid", pa.string(), "bureau statuses of the last months, oldest first, one character each"),
    ("bureau_last_month", pa.string(), "the month (YYYY-MM) of the grid's last character (null: empty grid)"),
    (
        "last_deferral_on",
        DAY,
        "when a statement of the account was last deferred (carried, not used by the day)",
    ),
    (
        "language",
        pa.string(),
        "the borrower's language, zh-CN | en: the locale of every notice and message (a folder written "
        "before it was kept reads as zh-CN)",
    ),
)

STATEMENT_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "the account"),
    ("statement_date", DAY, "statement date; with the account, the statement's key"),
    ("due_date", DAY, "repayment day: DPD 0"),
    ("amount", FEN, "what was billed, fen"),
    ("minimum", FEN, "minimum payment billed, fen"),
    ("new_principal", FEN, "unpaid purchases of the cycle (interest-free until the due date), fen"),
    ("carried_principal", FEN, "unpaid principal rolled over from earlier statements, fen"),
    ("installment_principal", FEN, "unpaid installment principal billed on it, fen"),
    ("interest", FEN, "unpaid revolving (and carried) interest, fen"),
    ("overdue_interest", FEN, "unpaid overdue interest, fen"),
    ("fees", FEN, "unpaid fees, fen"),
    ("paid", FEN, "every fen repayments allocated to it, fen"),
    ("late_charges", FEN, "overdue interest posted on it after its due date, fen"),
    ("interest_carry", pa.int64(), "interest accrued but not yet posted, in carry units (see carry_scale)"),
    ("installed", pa.bool_(), "its principal was put into bill installments"),
    ("closed_on", DAY, "when it was paid off or rolled into a later statement (null: open)"),
    (
        "original_due_date",
        DAY,
        "the due date before a deferral moved it (null: not moved); interest runs from it",
    ),
)

UNBILLED_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "the account"),
    ("statement_date", DAY, "the statement that will bill these purchases"),
    ("principal", FEN, "unpaid purchases of the cycle, fen"),
)

PLAN_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "the account"),
    ("plan_number", pa.int64(), "its place in the account's plans, 0 first; with the account, the key"),
    ("plan_id", pa.string(), "the plan's id"),
    ("origin", pa.string(), "statement (bill installments, 账单分期) or purchase (消费分期)"),
    ("statement_date", DAY, "the statement put into installments (null: a purchase plan)"),
    ("created_on", DAY, "when the borrower chose the installments"),
    ("fee_rate", PLAN_FEE_RATE, "total fee as a share of the principal (0.088 for 12 periods)"),
    ("principal", FEN, "principal put into installments, fen"),
    ("fee_total", FEN, "total fee of the plan, fen"),
)

PERIOD_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "the account"),
    ("plan_number", pa.int64(), "the plan (its plan_number)"),
    ("number", pa.int64(), "period number, 1 first"),
    ("due_date", DAY, "due date of the period; the statement whose due date it is bills it"),
    ("principal", FEN, "principal of the period still to bill (less prepayments), fen"),
    ("fee", FEN, "fee of the period, fen"),
    ("billed", pa.bool_(), "billed on a statement already"),
)

SPELL_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "the account"),
    ("bucket", pa.string(), "the bucket"),
    ("entered", DAY, "first day in the bucket"),
    ("left", DAY, "the day it left the bucket (null in a day's output: the spell it entered that day)"),
)

POSTING_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "the account"),
    ("business_date", DAY, "the end-of-day's date"),
    (
        "kind",
        pa.string(),
        "transaction kind: overdue_interest | revolving_interest | write_off | installment_fee",
    ),
    ("statement_date", DAY, "the statement the transaction is about (null for a write-off)"),
    ("memo", pa.string(), "the transaction's memo (null: none)"),
    ("posting_order", pa.int64(), "order of the posting within its transaction"),
    ("ledger_account", pa.string(), "ledger account (LedgerAccount value)"),
    ("amount", FEN, "debit positive, credit negative, fen; never zero"),
)
"""One row per posting. A transaction is the postings of one (account, kind, statement_date)."""

BUREAU_MONTH_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "the account"),
    ("month", pa.string(), "the month reported, YYYY-MM"),
    ("status", pa.string(), "N, 1–7, C or B"),
)

ARRANGEMENT_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "the account (one row per account with an arrangement)"),
    ("arrangement_id", pa.string(), "the arrangement's id"),
    ("kind", pa.string(), "plan (协商还款) | settlement"),
    ("status", pa.string(), "pending_approval | active | completed | broken | lapsed"),
    ("agreed_on", DAY, "the business date the borrower agreed"),
    ("started_on", DAY, "when it became active (null: not approved yet)"),
    ("ended_on", DAY, "when it was completed, broken or lapsed (null: not ended)"),
    ("waived", FEN, "what it forgives (a plan's set-aside interest and fees; a settlement's rest), fen"),
    ("waived_interest", FEN, "of ``waived``, the interest (the rest is fees), fen"),
    ("paid", FEN, "repaid since it became active, fen"),
    ("monthly_rate", PLAN_FEE_RATE, "a plan's monthly interest rate on what is left to repay (0: stopped)"),
    ("breach_days", pa.int64(), "a plan payment more than this many days late breaks the plan"),
    ("closes_line", pa.bool_(), "whether the line is closed for good once it is completed"),
    ("maker", pa.string(), "who made the request"),
    ("approver", pa.string(), "who approved it (null: nobody needed to)"),
    ("approver_role", pa.string(), "the approver's role (null: nobody needed to)"),
    ("fingerprint", pa.string(), "fingerprint of the balance it was quoted on"),
)

ARRANGEMENT_PAYMENT_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "the account (its arrangement)"),
    ("number", pa.int64(), "payment number: 0 a plan's down payment, then 1, 2, … monthly"),
    ("due_date", DAY, "when the payment is due"),
    ("principal", FEN, "what it repays of the amount restructured (a settlement: the agreed amount), fen"),
    ("interest", FEN, "the plan's own interest of the period, fen"),
)

ARRANGEMENT_SET_ASIDE_COLUMNS: tuple[Column, ...] = (
    ("account_key", pa.int64(), "the account (its arrangement)"),
    ("position", pa.int64(), "its place in what the plan set aside, 0 first"),
    ("statement_date", DAY, "the statement the interest and fees were taken off"),
    ("interest", FEN, "interest set aside, fen"),
    ("overdue_interest", FEN, "overdue interest set aside, fen"),
    ("fees", FEN, "fees set aside, fen"),
    ("late_charges", FEN, "late charges no longer needed to cure the statement, fen"),
    ("minimum", FEN, "how much the statement's minimum went down, fen"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "accounts": ACCOUNT_COLUMNS,
    "statements": STATEMENT_COLUMNS,
    "unbilled": UNBILLED_COLUMNS,
    "plans": PLAN_COLUMNS,
    "periods": PERIOD_COLUMNS,
    "bucket_spells": SPELL_COLUMNS,
    "arrangements": ARRANGEMENT_COLUMNS,
    "arrangement_payments": ARRANGEMENT_PAYMENT_COLUMNS,
    "arrangement_set_asides": ARRANGEMENT_SET_ASIDE_COLUMNS,
    "postings": POSTING_COLUMNS,
    "bureau_months": BUREAU_MONTH_COLUMNS,
}
"""Every table: the state tables first, then the day's outputs (postings, bucket spells, bureau months)."""


def schema(columns: tuple[Column, ...]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind, _ in columns])


ACCOUNTS = schema(ACCOUNT_COLUMNS)
STATEMENTS = schema(STATEMENT_COLUMNS)
UNBILLED = schema(UNBILLED_COLUMNS)
PLANS = schema(PLAN_COLUMNS)
PERIODS = schema(PERIOD_COLUMNS)
SPELLS = schema(SPELL_COLUMNS)
POSTINGS = schema(POSTING_COLUMNS)
BUREAU_MONTHS = schema(BUREAU_MONTH_COLUMNS)
ARRANGEMENTS = schema(ARRANGEMENT_COLUMNS)
ARRANGEMENT_PAYMENTS = schema(ARRANGEMENT_PAYMENT_COLUMNS)
ARRANGEMENT_SET_ASIDES = schema(ARRANGEMENT_SET_ASIDE_COLUMNS)


DEFAULT_LANGUAGE = domain_state.DEFAULT_LANGUAGE
"""The language of an account whose rows hold none (a folder written before the column was kept)."""


def with_language(accounts: pa.Table) -> pa.Table:
    """``accounts`` with a missing or null ``language`` read as :data:`DEFAULT_LANGUAGE`."""
    if "language" not in accounts.column_names:
        return accounts.append_column("language", pa.repeat(pa.scalar(DEFAULT_LANGUAGE), accounts.num_rows))
    column = accounts["language"]
    if column.null_count == 0:
        return accounts
    filled = pc.fill_null(column, pa.scalar(DEFAULT_LANGUAGE, column.type))
    return accounts.set_column(accounts.schema.get_field_index("language"), "language", filled)


@dataclass(frozen=True)
class PortfolioTables:
    """The state of a portfolio between two end-of-days, as Arrow tables (one product's terms)."""

    accounts: pa.Table
    statements: pa.Table
    unbilled: pa.Table
    plans: pa.Table
    periods: pa.Table
    bucket_spells: pa.Table
    """Closed bucket spells (history): a day appends, never reads."""
    carry_scale: int
    """``interest_carry`` is in units of ``10 ** -carry_scale`` fen."""
    arrangements: pa.Table = field(default_factory=ARRANGEMENTS.empty_table)
    """Each account's relief arrangement (none: no row)."""
    arrangement_payments: pa.Table = field(default_factory=ARRANGEMENT_PAYMENTS.empty_table)
    arrangement_set_asides: pa.Table = field(default_factory=ARRANGEMENT_SET_ASIDES.empty_table)

    def conform(self) -> PortfolioTables:
        """The same tables cast to the layout's schemas (columns in order, exact types); accounts without a
        ``language`` (built before it was kept) are zh-CN."""
        return PortfolioTables(
            accounts=with_language(self.accounts).select(ACCOUNTS.names).cast(ACCOUNTS),
            statements=self.statements.select(STATEMENTS.names).cast(STATEMENTS),
            unbilled=self.unbilled.select(UNBILLED.names).cast(UNBILLED),
            plans=self.plans.select(PLANS.names).cast(PLANS),
            periods=self.periods.select(PERIODS.names).cast(PERIODS),
            bucket_spells=self.bucket_spells.select(SPELLS.names).cast(SPELLS),
            carry_scale=self.carry_scale,
            arrangements=self.arrangements.select(ARRANGEMENTS.names).cast(ARRANGEMENTS),
            arrangement_payments=self.arrangement_payments.select(ARRANGEMENT_PAYMENTS.names).cast(
                ARRANGEMENT_PAYMENTS
            ),
            arrangement_set_asides=self.arrangement_set_asides.select(ARRANGEMENT_SET_ASIDES.names).cast(
                ARRANGEMENT_SET_ASIDES
            ),
        )


@dataclass(frozen=True)
class DayResult:
    """One end-of-day over tables: the state after it and what it produced."""

    tables: PortfolioTables
    postings: pa.Table
    """The day's ledger postings (:data:`POSTINGS`)."""
    bucket_spells: pa.Table
    """The day's bucket changes: each closed spell (``left`` = the date) and each new one (``left`` null)."""
    bureau_months: pa.Table
    """The statuses reported at a month end, one per account run (empty on other days)."""
    accounts_run: int
    """Accounts whose end-of-day ran (others were not open yet or had run this date already)."""
