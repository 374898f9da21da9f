"""Tables of relief: negotiated plans and settlements with their schedules, deferrals and waivers.

- ``relief_arrangements``: every plan or settlement ever accepted, with its status (``pending_approval`` →
  ``active`` → ``completed`` | ``broken`` | ``lapsed``; ``cancelled`` when replaced before approval), who made
  and who approved it, what it forgives, what has been paid toward it, and what it set aside (JSON);
- ``relief_payments``: each arrangement's schedule (payment 0 is a plan's down payment);
- ``relief_deferrals``: each statement due date moved, from what to what;
- ``relief_waivers``: each waiver of interest and fees, requested (maker) and approved (checker).

An account's current arrangement is loaded with its state (:mod:`overdue.store.relief_repository`).
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
)

from overdue.domain.relief_state import ARRANGEMENT_KINDS, ARRANGEMENT_STATUSES
from overdue.store.schema import in_list, metadata

WAIVER_STATUSES = ("requested", "approved")


def _fen(name: str) -> tuple[Column[int], CheckConstraint]:
    return Column(name, BigInteger, nullable=False), CheckConstraint(
        f"{name} >= 0", name=f"{name}_not_negative"
    )


relief_arrangements = Table(
    "relief_arrangements",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("agreed_on", Date, nullable=False),
    Column("started_on", Date, nullable=True),
    Column("ended_on", Date, nullable=True),
    *_fen("waived_fen"),
    *_fen("waived_interest_fen"),
    *_fen("paid_fen"),
    Column("monthly_rate", Numeric(12, 6), nullable=False),
    Column("breach_days", Integer, nullable=False),
    Column("closes_line", Boolean, nullable=False),
    Column("maker", String(64), nullable=False),
    Column("approver", String(64), nullable=True),
    Column("approver_role", String(32), nullable=True),
    Column("fingerprint", String(32), nullable=False),
    Column("set_aside_json", Text, nullable=False),
    CheckConstraint(in_list("kind", ARRANGEMENT_KINDS), name="kind"),
    CheckConstraint(in_list("status", ARRANGEMENT_STATUSES), name="status"),
    CheckConstraint("approver IS NULL OR approver <> maker", name="maker_checker"),
)

relief_payments = Table(
    "relief_payments",
    metadata,
    Column("arrangement_id", String(128), ForeignKey("relief_arrangements.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("due_date", Date, nullable=False),
    *_fen("principal_fen"),
    *_fen("interest_fen"),
    PrimaryKeyConstraint("arrangement_id", "number"),
)

relief_deferrals = Table(
    "relief_deferrals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("statement_id", String(96), ForeignKey("statements.id"), nullable=False),
    Column("deferred_on", Date, nullable=False),
    Column("days", Integer, nullable=False),
    Column("original_due_date", Date, nullable=False),
    Column("new_due_date", Date, nullable=False),
    CheckConstraint("days > 0", name="days_positive"),
    CheckConstraint("new_due_date > original_due_date", name="moves_later"),
)

relief_waivers = Table(
    "relief_waivers",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("requested_on", Date, nullable=False),
    *_fen("interest_fen"),
    *_fen("fees_fen"),
    Column("reason", Text, nullable=True),
    Column("maker", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("approver", String(64), nullable=True),
    Column("approver_role", String(32), nullable=True),
    Column("approved_on", Date, nullable=True),
    Column("fingerprint", String(32), nullable=False),
    CheckConstraint(in_list("status", WAIVER_STATUSES), name="status"),
    CheckConstraint("interest_fen + fees_fen > 0", name="amount_positive"),
    CheckConstraint("approver IS NULL OR approver <> maker", name="maker_checker"),
)
