"""Tables of collections: per-account collection state, promises, contacts, decided actions and their effects.

``collection_actions`` holds what each end-of-day decided for each account, after compliance, with the
compliance rule that refused it when it did. Its unique key (account, business date, treatment) makes acting
exactly-once: a repeated or resumed run inserts nothing twice. An allowed message action gets one ``outbox``
row (what a channel adapter will send); a human or back-office action gets one ``work_items`` row (a queue).
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from overdue.domain.collections import CONTACT_CHANNELS, CONTACT_OUTCOMES, CONTACT_PARTIES
from overdue.store.schema import in_list, metadata

ACTION_STATUSES = ("sent", "queued", "recorded", "refused")
QUEUES = ("call", "field", "agency", "legal", "back_office")

collection_states = Table(
    "collection_states",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.id"), primary_key=True),
    Column("episode_started_on", Date, nullable=True),
    Column("stage", String(64), nullable=True),
    Column("escalation", Integer, nullable=False),
    Column("escalated_from", String(64), nullable=True),
    Column("contactability", String(16), nullable=False),
    Column("dispute_open", Boolean, nullable=False),
    Column("litigation_hold", Boolean, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("connects", Integer, nullable=False),
    Column("last_contact_on", Date, nullable=True),
    Column("agency", String(64), nullable=True),
    Column("placed_on", Date, nullable=True),
    CheckConstraint("escalation >= 0 AND attempts >= 0 AND connects >= 0", name="counts_not_negative"),
    CheckConstraint(in_list("contactability", ("reachable", "lost_contact")), name="contactability"),
)

promises = Table(
    "promises",
    metadata,
    Column("id", String(96), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("made_on", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
    Column("resolved_on", Date, nullable=True),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    CheckConstraint("paid_fen >= 0", name="paid_not_negative"),
    CheckConstraint("due_on >= made_on", name="due_after_made"),
    CheckConstraint(in_list("status", ("pending", "kept", "broken")), name="status"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("business_date", Date, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("party", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("collectors", Integer, nullable=True),
    Column("recording_ref", String(200), nullable=True),
    Column("agency", String(64), nullable=True),
    CheckConstraint(in_list("channel", CONTACT_CHANNELS), name="channel"),
    CheckConstraint(in_list("party", CONTACT_PARTIES), name="party"),
    CheckConstraint(in_list("outcome", CONTACT_OUTCOMES), name="outcome"),
)
"""Every contact attempt made (a refused attempt is never made, so never recorded here).

``collectors`` and ``recording_ref``: for field visits, the size of the team and the recording made;
``agency``: the outside agency that made the contact (None: the lender itself)."""

collection_actions = Table(
    "collection_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("treatment", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("template", String(64), nullable=True),
    Column("party", String(16), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("experiment", String(64), nullable=True),
    Column("variant", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("refused_rule", String(64), nullable=True),
    Column("reason", Text, nullable=False),
    UniqueConstraint("account_id", "business_date", "treatment", name="uq_collection_actions_once"),
    CheckConstraint(in_list("status", ACTION_STATUSES), name="status"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action_id", Integer, ForeignKey("collection_actions.id"), nullable=False, unique=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("template", String(64), nullable=True),
    Column("locale", String(8), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    CheckConstraint(in_list("status", ("pending", "sent", "failed")), name="status"),
)
"""Messages waiting for a channel adapter (SMS, push, letters)."""

work_items = Table(
    "work_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action_id", Integer, ForeignKey("collection_actions.id"), nullable=False, unique=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("queue", String(16), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    CheckConstraint(in_list("queue", QUEUES), name="queue"),
    CheckConstraint(in_list("status", ("open", "done", "cancelled")), name="status"),
)
"""Work for people: human calls, field visits, agency placements and recalls, legal steps."""
