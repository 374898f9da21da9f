"""Tables the compliance rulebook reads besides the contact log: holds, validation notices and agencies.

- ``account_holds``: every period in which collection contact is stopped for an account, by kind: an open
  ``dispute``, a kept negotiated ``plan``, a ``cease`` request (US), the account ``sold``, a ``litigation``
  hold. ``ended_at`` is None while the hold lasts. The audit replays a contact against the holds open at
  its time, so a hold is never deleted or rewritten, only ended.
- ``validation_notices``: US validation notices sent (Reg F §1006.34), with the end of the validation period.
- ``agencies`` and ``agency_reviews``: the whitelist of outside collection agencies; an agency may contact
  debtors only on days covered by a review (``reviewed_on`` … ``valid_until``). Reviews are kept, so the
  audit can tell whether an agency was cleared on the day of a past contact.

The contact log itself (``contacts``) is in :mod:`overdue.store.collection_tables`. On both databases a
trigger refuses to delete a contact, a hold or a notice younger than :data:`RETENTION_YEARS` years
(migration ``0004_compliance``).
"""

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from overdue.store.schema import in_list, metadata

HOLD_KINDS = ("dispute", "plan", "cease", "sold", "litigation")
RETENTION_YEARS = 5
"""Contacts, holds and notices cannot be deleted before they are this many years old."""

account_holds = Table(
    "account_holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("source", String(32), nullable=False),
    Column("note", Text, nullable=True),
    CheckConstraint(in_list("kind", HOLD_KINDS), name="kind"),
    CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
)

validation_notices = Table(
    "validation_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("period_ends_on", Date, nullable=False),
    Column("channel", String(16), nullable=False),
)

agencies = Table(
    "agencies",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

agency_reviews = Table(
    "agency_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("reviewed_on", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("reviewer", String(64), nullable=False),
    CheckConstraint("valid_until >= reviewed_on", name="valid_after_review"),
)
