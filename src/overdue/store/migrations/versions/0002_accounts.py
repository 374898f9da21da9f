"""account state

Revision ID: 0002_accounts
Revises: 0001_journal
Create Date: 2026-11-28 14:56:07.227562
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_accounts"
down_revision: str | None = "0001_journal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=32), nullable=False),
        sa.Column("terms_json", sa.Text(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("credit_limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_eod", sa.Date(), nullable=True),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.Column("written_off_on", sa.Date(), nullable=True),
        sa.Column("negative_notice_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'frozen', 'closed', 'written_off')", name=op.f("ck_accounts_status")
        ),
        sa.CheckConstraint("credit_limit_fen > 0", name=op.f("ck_accounts_credit_limit_positive")),
        sa.CheckConstraint("days_past_due >= 0", name=op.f("ck_accounts_dpd_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "eod_runs",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", name=op.f("pk_eod_runs")),
    )
    op.create_table(
        "account_days",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("overdue_principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("fees_fen", sa.BigInteger(), nullable=False),
        sa.Column("total_due_fen", sa.BigInteger(), nullable=False),
        sa.Column("available_credit_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "available_credit_fen >= 0", name=op.f("ck_account_days_available_credit_fen_not_negative")
        ),
        sa.CheckConstraint("fees_fen >= 0", name=op.f("ck_account_days_fees_fen_not_negative")),
        sa.CheckConstraint("interest_fen >= 0", name=op.f("ck_account_days_interest_fen_not_negative")),
        sa.CheckConstraint(
            "overdue_principal_fen >= 0", name=op.f("ck_account_days_overdue_principal_fen_not_negative")
        ),
        sa.CheckConstraint("principal_fen >= 0", name=op.f("ck_account_days_principal_fen_not_negative")),
        sa.CheckConstraint("total_due_fen >= 0", name=op.f("ck_account_days_total_due_fen_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_days_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "business_date", name=op.f("pk_account_days")),
    )
    op.create_table(
        "bucket_history",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.Column("entered", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_bucket_history_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "entered", "bucket", name=op.f("pk_bucket_history")),
    )
    op.create_table(
        "bureau_months",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.CheckConstraint(
            "status IN ('N', '1', '2', '3', '4', '5', '6', '7', 'C', 'G', 'B')",
            name=op.f("ck_bureau_months_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_bureau_months_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "month", name=op.f("pk_bureau_months")),
    )
    op.create_table(
        "statements",
        sa.Column("id", sa.String(length=96), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("statement_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("minimum_fen", sa.BigInteger(), nullable=False),
        sa.Column("new_principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("carried_principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("installment_principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("overdue_interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("fees_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("late_charges_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_carry", sa.Numeric(precision=30, scale=12), nullable=False),
        sa.Column("installed", sa.Boolean(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_statements_amount_fen_not_negative")),
        sa.CheckConstraint(
            "carried_principal_fen >= 0", name=op.f("ck_statements_carried_principal_fen_not_negative")
        ),
        sa.CheckConstraint("due_date > statement_date", name=op.f("ck_statements_due_after_statement")),
        sa.CheckConstraint("fees_fen >= 0", name=op.f("ck_statements_fees_fen_not_negative")),
        sa.CheckConstraint(
            "installment_principal_fen >= 0",
            name=op.f("ck_statements_installment_principal_fen_not_negative"),
        ),
        sa.CheckConstraint("interest_fen >= 0", name=op.f("ck_statements_interest_fen_not_negative")),
        sa.CheckConstraint("late_charges_fen >= 0", name=op.f("ck_statements_late_charges_fen_not_negative")),
        sa.CheckConstraint("minimum_fen >= 0", name=op.f("ck_statements_minimum_fen_not_negative")),
        sa.CheckConstraint(
            "new_principal_fen >= 0", name=op.f("ck_statements_new_principal_fen_not_negative")
        ),
        sa.CheckConstraint(
            "overdue_interest_fen >= 0", name=op.f("ck_statements_overdue_interest_fen_not_negative")
        ),
        sa.CheckConstraint("paid_fen >= 0", name=op.f("ck_statements_paid_fen_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_statements_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements")),
        sa.UniqueConstraint("account_id", "statement_date", name="uq_statements_account_date"),
    )
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statements_account_id"), ["account_id"], unique=False)

    op.create_table(
        "unbilled_cycles",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("statement_date", sa.Date(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("principal_fen >= 0", name=op.f("ck_unbilled_cycles_principal_fen_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_unbilled_cycles_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "statement_date", name=op.f("pk_unbilled_cycles")),
    )
    op.create_table(
        "installment_plans",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("statement_id", sa.String(length=96), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("fee_rate", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "fee_total_fen >= 0", name=op.f("ck_installment_plans_fee_total_fen_not_negative")
        ),
        sa.CheckConstraint(
            "principal_fen >= 0", name=op.f("ck_installment_plans_principal_fen_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_installment_plans_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"], ["statements.id"], name=op.f("fk_installment_plans_statement_id_statements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installment_plans")),
    )
    with op.batch_alter_table("installment_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_installment_plans_account_id"), ["account_id"], unique=False)

    op.create_table(
        "installment_periods",
        sa.Column("plan_id", sa.String(length=128), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("billed", sa.Boolean(), nullable=False),
        sa.CheckConstraint("fee_fen >= 0", name=op.f("ck_installment_periods_fee_fen_not_negative")),
        sa.CheckConstraint(
            "principal_fen >= 0", name=op.f("ck_installment_periods_principal_fen_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["installment_plans.id"],
            name=op.f("fk_installment_periods_plan_id_installment_plans"),
        ),
        sa.PrimaryKeyConstraint("plan_id", "number", name=op.f("pk_installment_periods")),
    )


def downgrade() -> None:

    op.drop_table("installment_periods")
    with op.batch_alter_table("installment_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_installment_plans_account_id"))

    op.drop_table("installment_plans")
    op.drop_table("unbilled_cycles")
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statements_account_id"))

    op.drop_table("statements")
    op.drop_table("bureau_months")
    op.drop_table("bucket_history")
    op.drop_table("account_days")
    op.drop_table("eod_runs")
    op.drop_table("accounts")
