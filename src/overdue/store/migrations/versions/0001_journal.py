"""Journal: ledger transactions and postings, idempotency keys.

On PostgreSQL a deferred constraint trigger also checks, at commit, that the postings of every ledger
transaction touched sum to zero; SQLite has no deferred triggers, so there the domain code is the only guard.

Revision ID: 0001_journal
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_journal"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of overdue.store.schema.TRANSACTION_KINDS as of this revision: a migration never imports the
# live schema, whose later edits would rewrite history.
TRANSACTION_KINDS = (
    "purchase",
    "repayment",
    "overdue_interest",
    "revolving_interest",
    "installment_fee",
    "fee",
    "waiver",
    "write_off",
    "recovery",
)

BALANCE_CHECK_FUNCTION = """
CREATE FUNCTION ledger_postings_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    checked_id integer;
    total bigint;
BEGIN
    -- A deferred row trigger fires at commit for every posting written; it checks the transaction(s) that
    -- row belongs to (before and after an update), so a posting moved between transactions is caught too.
    FOREACH checked_id IN ARRAY
        CASE TG_OP
            WHEN 'INSERT' THEN ARRAY[NEW.transaction_id]
            WHEN 'DELETE' THEN ARRAY[OLD.transaction_id]
            ELSE ARRAY[OLD.transaction_id, NEW.transaction_id]
        END
    LOOP
        SELECT COALESCE(SUM(amount_fen), 0) INTO total
        FROM ledger_postings WHERE transaction_id = checked_id;
        IF total <> 0 THEN
            RAISE EXCEPTION 'ledger transaction % is unbalanced: its postings sum to % fen, not 0',
                checked_id, total
                USING ERRCODE = '23514';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$
"""

BALANCE_CHECK_TRIGGER = """
CREATE CONSTRAINT TRIGGER ledger_postings_balanced
AFTER INSERT OR UPDATE OR DELETE ON ledger_postings
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION ledger_postings_balanced()
"""


def upgrade() -> None:
    kinds = ", ".join(f"'{kind}'" for kind in TRANSACTION_KINDS)
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("statement_id", sa.String(length=96), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(f"kind IN ({kinds})", name=op.f("ck_ledger_transactions_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
    )
    op.create_index(
        op.f("ix_ledger_transactions_account_id"), "ledger_transactions", ["account_id"], unique=False
    )

    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("ledger_account", sa.String(length=48), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_ledger_postings_amount_fen_nonzero")),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_postings_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
    )
    op.create_index(
        op.f("ix_ledger_postings_transaction_id"), "ledger_postings", ["transaction_id"], unique=False
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(BALANCE_CHECK_FUNCTION)
        op.execute(BALANCE_CHECK_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_postings_balanced ON ledger_postings")
        op.execute("DROP FUNCTION ledger_postings_balanced()")
    op.drop_table("idempotency_keys")
    op.drop_index(op.f("ix_ledger_postings_transaction_id"), table_name="ledger_postings")
    op.drop_table("ledger_postings")
    op.drop_index(op.f("ix_ledger_transactions_account_id"), table_name="ledger_transactions")
    op.drop_table("ledger_transactions")
