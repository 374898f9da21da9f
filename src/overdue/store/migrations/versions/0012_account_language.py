"""accounts.language: the borrower's language (``zh-CN`` or ``en``), in which every notice and message to
them is rendered. Existing rows become ``zh-CN``, the language every notice was sent in before.

The column is added in place on SQLite and PostgreSQL alike; every row is kept.

Revision ID: 0012_account_language
Revises: 0011_behaviour_scores
Create Date: 2026-11-30 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_account_language"
down_revision: str | None = "0011_behaviour_scores"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CHECK = "language IN ('zh-CN', 'en')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its own check in place; a batch rebuild would drop a table that other
        # tables' foreign keys point to.
        op.execute(
            "ALTER TABLE accounts ADD COLUMN language VARCHAR(8) DEFAULT 'zh-CN' NOT NULL "
            f"CONSTRAINT ck_accounts_language CHECK ({CHECK})"
        )
        return
    op.add_column(
        "accounts", sa.Column("language", sa.String(length=8), server_default="zh-CN", nullable=False)
    )
    op.create_check_constraint(op.f("ck_accounts_language"), "accounts", CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE accounts DROP COLUMN language")
        return
    op.drop_constraint(op.f("ck_accounts_language"), "accounts", type_="check")
    op.drop_column("accounts", "language")
