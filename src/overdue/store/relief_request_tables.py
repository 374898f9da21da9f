"""The table of relief requests and their answers (:mod:`overdue.domain.relief_requests`).

``relief_requests``: one row per request a borrower or collector made, with the date by which it must be
answered (7 working days on China's calendar, computed when it was recorded, so a later calendar update
never moves a deadline already given) and, once answered, the answer. The database checks that a refusal
has a reason and that a request has an answer date exactly when it is answered.
"""

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, String, Table, Text

from overdue.domain.relief_common import KINDS
from overdue.domain.relief_requests import CHANNELS, PARTIES, REQUEST_STATUSES
from overdue.store.schema import in_list, metadata

relief_requests = Table(
    "relief_requests",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("party", String(16), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("requested_on", Date, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("note", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("answered_on", Date, nullable=True),
    Column("answered_by", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    CheckConstraint(in_list("kind", KINDS), name="kind"),
    CheckConstraint(in_list("party", PARTIES), name="party"),
    CheckConstraint(in_list("channel", CHANNELS), name="channel"),
    CheckConstraint(in_list("status", REQUEST_STATUSES), name="status"),
    CheckConstraint("deadline > requested_on", name="deadline_after_request"),
    CheckConstraint("(status = 'open') = (answered_on IS NULL)", name="answered_on_when_answered"),
    CheckConstraint("answered_on IS NULL OR answered_on >= requested_on", name="answered_after_request"),
    CheckConstraint("status <> 'refused' OR reason IS NOT NULL", name="refusal_has_reason"),
    Index("ix_relief_requests_status_deadline", "status", "deadline"),
)
