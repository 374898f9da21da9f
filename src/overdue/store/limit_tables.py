"""The record of credit-limit changes made by the limit review (:mod:`overdue.risk.review`).

One row per account and review date: what the review decided (``raise``, ``cut``, ``freeze``, ``close``),
the limit before and after in fen, the reason codes (space-separated, :mod:`overdue.risk.reasons`), the
review policy's version, the date the change takes effect, and the date it was applied (None while a cut
waits out its notice period). The unique (account, review date) key makes the review exactly-once: a
repeated or resumed end-of-day records and applies nothing twice.
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from overdue.store.schema import in_list, metadata

LIMIT_ACTIONS = ("raise", "cut", "freeze", "close")

limit_changes = Table(
    "limit_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("review_date", Date, nullable=False),
    Column("effective_on", Date, nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("old_limit_fen", BigInteger, nullable=False),
    Column("new_limit_fen", BigInteger, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("applied_on", Date, nullable=True),
    UniqueConstraint("account_id", "review_date", name="uq_limit_changes_once"),
    CheckConstraint(in_list("action", LIMIT_ACTIONS), name="action"),
    CheckConstraint("old_limit_fen > 0 AND new_limit_fen > 0", name="limits_positive"),
    CheckConstraint("effective_on >= review_date", name="effective_after_review"),
    CheckConstraint("applied_on IS NULL OR applied_on >= effective_on", name="applied_when_effective"),
    CheckConstraint(
        "(action = 'raise' AND new_limit_fen >= old_limit_fen) "
        "OR (action = 'cut' AND new_limit_fen <= old_limit_fen) "
        "OR (action IN ('freeze', 'close') AND new_limit_fen = old_limit_fen)",
        name="direction",
    ),
)
"""Every limit change, with its reasons and effective date; the account's limit is the latest applied."""
