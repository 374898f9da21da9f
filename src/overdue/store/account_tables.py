"""Tables of account state: the current state of every credit line, and one row per account and day.

These mirror :mod:`overdue.domain.state`. Only what the next day's rules need is loaded (open statements,
the latest statement, unfinished installment plans, the current bucket spell, the last 24 bureau months), so
loading an account costs the same whatever its age. ``account_days`` keeps each day's end-of-day figures for
reports and inspection; it is written, never read by the nightly rules.

Invariants are also checks in the database: amounts are whole fen and never negative where they cannot be.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from overdue.domain.state import LANGUAGES
from overdue.store.schema import in_list, metadata

ACCOUNT_STATUSES = ("active", "frozen", "closed", "written_off")
BUREAU_STATUSES = ("N", "1", "2", "3", "4", "5", "6", "7", "C", "G", "B")
PLAN_ORIGINS = ("statement", "purchase")

UPDATED_DAILY_FILLFACTOR = 50
"""PostgreSQL: how full (%) a page of ``accounts`` and ``statements`` is filled on insert. Every end-of-day
updates every account's row and each owing statement's; with room left on its page the new version goes
there and no index is touched (a *HOT* update), and the old one is pruned in place on a later visit, so the
table does not grow with the days. Measured in docs/PERFORMANCE.md (a PostgreSQL store)."""


def _fen(name: str) -> tuple[Column[int], CheckConstraint]:
    """A non-negative amount in fen and the table check that keeps it so (spread it into the table)."""
    return Column(name, BigInteger, nullable=False), CheckConstraint(
        f"{name} >= 0", name=f"{name}_not_negative"
    )


accounts = Table(
    "accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("product", String(32), nullable=False),
    Column("terms_json", Text, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("language", String(8), nullable=False, server_default="zh-CN"),
    Column("credit_limit_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("last_eod", Date, nullable=True),
    Column("days_past_due", Integer, nullable=False),
    Column("bucket", String(8), nullable=False),
    Column("written_off_on", Date, nullable=True),
    Column("negative_notice_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
    CheckConstraint("credit_limit_fen > 0", name="credit_limit_positive"),
    CheckConstraint("days_past_due >= 0", name="dpd_not_negative"),
    CheckConstraint(in_list("status", ACCOUNT_STATUSES), name="status"),
    CheckConstraint(in_list("language", LANGUAGES), name="language"),
    postgresql_with={"fillfactor": UPDATED_DAILY_FILLFACTOR},
)
"""One row per credit line; ``version`` guards against two writers saving the same account."""

unbilled_cycles = Table(
    "unbilled_cycles",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("statement_date", Date, nullable=False),
    *_fen("principal_fen"),
    PrimaryKeyConstraint("account_id", "statement_date"),
)

statements = Table(
    "statements",
    metadata,
    Column("id", String(96), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("statement_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    *_fen("amount_fen"),
    *_fen("minimum_fen"),
    *_fen("new_principal_fen"),
    *_fen("carried_principal_fen"),
    *_fen("installment_principal_fen"),
    *_fen("interest_fen"),
    *_fen("overdue_interest_fen"),
    *_fen("fees_fen"),
    *_fen("paid_fen"),
    *_fen("late_charges_fen"),
    Column("interest_carry", Numeric(30, 12), nullable=False),
    Column("installed", Boolean, nullable=False),
    Column("closed_on", Date, nullable=True),
    Column("original_due_date", Date, nullable=True),
    UniqueConstraint("account_id", "statement_date", name="uq_statements_account_date"),
    CheckConstraint("due_date > statement_date", name="due_after_statement"),
    postgresql_with={"fillfactor": UPDATED_DAILY_FILLFACTOR},
)

installment_plans = Table(
    "installment_plans",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("statement_id", String(96), ForeignKey("statements.id"), nullable=True),
    Column("created_on", Date, nullable=False),
    Column("fee_rate", Numeric(12, 6), nullable=False),
    *_fen("principal_fen"),
    *_fen("fee_total_fen"),
    Column("finished", Boolean, nullable=False),
    Column("origin", String(16), nullable=False, server_default="statement"),
    CheckConstraint(in_list("origin", PLAN_ORIGINS), name="origin"),
    CheckConstraint(
        "(origin = 'statement') = (statement_id IS NOT NULL)", name="statement_when_from_statement"
    ),
)
"""Bill installments (``origin`` statement, made from ``statement_id``) and purchase installments (``origin``
purchase, no statement)."""

installment_periods = Table(
    "installment_periods",
    metadata,
    Column("plan_id", String(128), ForeignKey("installment_plans.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("due_date", Date, nullable=False),
    *_fen("principal_fen"),
    *_fen("fee_fen"),
    Column("billed", Boolean, nullable=False),
    PrimaryKeyConstraint("plan_id", "number"),
)

bucket_history = Table(
    "bucket_history",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("bucket", String(8), nullable=False),
    Column("entered", Date, nullable=False),
    Column("left_on", Date, nullable=True),
    PrimaryKeyConstraint("account_id", "entered", "bucket"),
)

bureau_months = Table(
    "bureau_months",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("month", String(7), nullable=False),
    Column("status", String(1), nullable=False),
    PrimaryKeyConstraint("account_id", "month"),
    CheckConstraint(in_list("status", BUREAU_STATUSES), name="status"),
)

account_days = Table(
    "account_days",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("days_past_due", Integer, nullable=False),
    Column("bucket", String(8), nullable=False),
    *_fen("principal_fen"),
    *_fen("overdue_principal_fen"),
    *_fen("interest_fen"),
    *_fen("fees_fen"),
    *_fen("total_due_fen"),
    *_fen("available_credit_fen"),
    PrimaryKeyConstraint("account_id", "business_date"),
)
"""Each account's figures after each end-of-day: the daily state snapshot."""

eod_runs = Table(
    "eod_runs",
    metadata,
    Column("business_date", Date, primary_key=True),
    Column("accounts", Integer, nullable=False),
    Column("finished", Boolean, nullable=False),
)
"""Which business dates the end-of-day finished; a date is closed once its run finished."""
