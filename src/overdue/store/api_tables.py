"""Tables of the HTTP API: borrowers and their personal data, users with roles, API tokens, the audit log.

- ``borrowers``: who owes (name, phone, national id, address); ``borrower_accounts`` links a borrower to
  each of their credit lines. This personal data is what the API masks by role and audits on every read.
- ``users``: people and systems that use the API, each with one role; a password hash (argon2) when they
  may log in with a password; the agency an ``agency`` user works for; the borrower a ``borrower`` user is.
- ``api_tokens``: bearer tokens, stored only as the SHA-256 of the token (the token is shown once).
- ``audit_log``: append-only and hash-chained: row ``seq`` stores the hash of row ``seq - 1``
  (``prev_hash``) and its own hash over its content. ``seq`` as primary key and ``prev_hash`` as a unique
  key forbid a fork: two rows can never claim the same predecessor. The migration adds triggers refusing
  UPDATE and DELETE, and a walk over the chain (:mod:`overdue.store.audit_trail`) finds any row changed
  anyway.
"""

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from overdue.store.roles import ROLES
from overdue.store.schema import in_list, metadata

borrowers = Table(
    "borrowers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("national_id", String(18), nullable=False, unique=True),
    Column("address", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""One row per person who owes; ``national_id`` is unique (all of a person's lines share one borrower)."""

borrower_accounts = Table(
    "borrower_accounts",
    metadata,
    Column("borrower_id", String(64), ForeignKey("borrowers.id"), nullable=False),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, unique=True),
    PrimaryKeyConstraint("borrower_id", "account_id"),
)
"""Which borrower owes each account (an account has at most one borrower)."""

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("agency", String(64), nullable=True),
    Column("borrower_id", String(64), ForeignKey("borrowers.id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(in_list("role", ROLES), name="role"),
    CheckConstraint("role <> 'agency' OR agency IS NOT NULL", name="agency_user_has_agency"),
    CheckConstraint("role <> 'borrower' OR borrower_id IS NOT NULL", name="borrower_user_has_borrower"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
"""Bearer tokens by their SHA-256 (hex); the token itself is never stored."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("record", String(200), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False),
    CheckConstraint("seq > 0", name="seq_positive"),
)
"""Who (``actor``, ``role``) did what (``action`` on ``entity`` ``record``) and when (``at``, UTC)."""
