"""behaviour_scores: each account's behaviour score at each month end (points, P(bad) in ppm, the model's
version and reason codes), once per account and month end.

A new table only: no existing table is rebuilt, so SQLite keeps every existing row as it is.

Revision ID: 0011_behaviour_scores
Revises: 0010_limit_changes
Create Date: 2026-11-29 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_behaviour_scores"
down_revision: str | None = "0010_limit_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "behaviour_scores",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("month_end", sa.Date(), nullable=False),
        sa.Column("score_points", sa.Integer(), nullable=False),
        sa.Column("probability_bad_ppm", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "probability_bad_ppm BETWEEN 0 AND 1000000", name=op.f("ck_behaviour_scores_probability_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_behaviour_scores_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "month_end", name=op.f("pk_behaviour_scores")),
    )


def downgrade() -> None:
    op.drop_table("behaviour_scores")
