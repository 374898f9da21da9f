"""collections

Revision ID: 0003_collections
Revises: 0002_accounts
Create Date: 2026-11-28 15:29:18.054297
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_collections"
down_revision: str | None = "0002_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collection_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("treatment", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("experiment", sa.String(length=64), nullable=True),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refused_rule", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('sent', 'queued', 'recorded', 'refused')", name=op.f("ck_collection_actions_status")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_collection_actions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_actions")),
        sa.UniqueConstraint("account_id", "business_date", "treatment", name="uq_collection_actions_once"),
    )
    op.create_table(
        "collection_states",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("episode_started_on", sa.Date(), nullable=True),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column("escalation", sa.Integer(), nullable=False),
        sa.Column("escalated_from", sa.String(length=64), nullable=True),
        sa.Column("contactability", sa.String(length=16), nullable=False),
        sa.Column("dispute_open", sa.Boolean(), nullable=False),
        sa.Column("litigation_hold", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("connects", sa.Integer(), nullable=False),
        sa.Column("last_contact_on", sa.Date(), nullable=True),
        sa.Column("agency", sa.String(length=64), nullable=True),
        sa.Column("placed_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "contactability IN ('reachable', 'lost_contact')",
            name=op.f("ck_collection_states_contactability"),
        ),
        sa.CheckConstraint(
            "escalation >= 0 AND attempts >= 0 AND connects >= 0",
            name=op.f("ck_collection_states_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_collection_states_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_collection_states")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('sms', 'push', 'ai_voice', 'voice', 'email', 'letter', 'field')",
            name=op.f("ck_contacts_channel"),
        ),
        sa.CheckConstraint(
            "outcome IN ('connected', 'no_answer', 'busy', 'wrong_number', 'refused', 'promise', 'dispute', "
            "'hardship', 'lost_contact', 'deceased')",
            name=op.f("ck_contacts_outcome"),
        ),
        sa.CheckConstraint("party IN ('debtor', 'contact', 'guarantor')", name=op.f("ck_contacts_party")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_contacts_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_account_id"), ["account_id"], unique=False)

    op.create_table(
        "promises",
        sa.Column("id", sa.String(length=96), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'kept', 'broken')", name=op.f("ck_promises_status")),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_promises_amount_positive")),
        sa.CheckConstraint("due_on >= made_on", name=op.f("ck_promises_due_after_made")),
        sa.CheckConstraint("paid_fen >= 0", name=op.f("ck_promises_paid_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_promises_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promises")),
    )
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promises_account_id"), ["account_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f("ck_outbox_status")),
        sa.ForeignKeyConstraint(
            ["action_id"], ["collection_actions.id"], name=op.f("fk_outbox_action_id_collection_actions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("action_id", name=op.f("uq_outbox_action_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_account_id"), ["account_id"], unique=False)

    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "queue IN ('call', 'field', 'agency', 'legal', 'back_office')", name=op.f("ck_work_items_queue")
        ),
        sa.CheckConstraint("status IN ('open', 'done', 'cancelled')", name=op.f("ck_work_items_status")),
        sa.ForeignKeyConstraint(
            ["action_id"], ["collection_actions.id"], name=op.f("fk_work_items_action_id_collection_actions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
        sa.UniqueConstraint("action_id", name=op.f("uq_work_items_action_id")),
    )
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_items_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_items_account_id"))

    op.drop_table("work_items")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_account_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promises_account_id"))

    op.drop_table("promises")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_account_id"))

    op.drop_table("contacts")
    op.drop_table("collection_states")
    op.drop_table("collection_actions")
