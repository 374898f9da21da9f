"""Tables of the store, as SQLAlchemy Core metadata.

Every table lives on :data:`metadata`, whose naming convention gives every index and constraint a stable,
predictable name, so migrations written by hand and by autogenerate agree. Add new tables below, grouped by
concern, and a migration revision that creates them.

Amounts are signed integer fen (``BigInteger``), never floating point.
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# --- Journal: double-entry ledger -------------------------------------------------------------------------

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
"""Every kind a ledger transaction may have; the ``kind`` CHECK constraint allows exactly these."""


def in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL text for ``column IN ('a', 'b', ...)``; ``values`` are fixed identifiers, never user input."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False, index=True),
    Column("business_date", Date, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("statement_id", String(96), nullable=True),
    Column("memo", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(in_list("kind", TRANSACTION_KINDS), name="kind"),
)
"""One business event that moves money; its postings sum to zero."""

ledger_postings = Table(
    "ledger_postings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "transaction_id",
        Integer,
        ForeignKey("ledger_transactions.id"),
        nullable=False,
        index=True,
    ),
    Column("account_id", String(64), nullable=False),
    Column("ledger_account", String(48), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    CheckConstraint("amount_fen <> 0", name="amount_fen_nonzero"),
)
"""One leg of a transaction: a signed amount in fen on one ledger account of one credit account."""

# --- Idempotency: replayed requests return the first response ---------------------------------------------

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("operation", String(32), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response_json", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
"""The first response to each idempotency key, and a hash of the request it answered."""
