"""The store: where overdue keeps its journal and current state.

Design overview
---------------
- ``schema.py`` declares every table once, as SQLAlchemy Core ``metadata``; Alembic migrations in
  ``migrations/versions/`` create them, and ``env.py`` points autogenerate at the same metadata.
- ``db.py`` builds engines (``make_engine``), applies migrations (``upgrade``) and makes sessions.
- SQLite (a file, WAL mode, foreign keys on) is the default; PostgreSQL (through psycopg 3) is production.

The journal is double-entry: a ``ledger_transactions`` row groups ``ledger_postings`` whose ``amount_fen``
(signed integer fen, never zero) sum to zero. The domain code guarantees that balance; the database guards it
as well: on PostgreSQL a deferred constraint trigger rejects an unbalanced transaction at commit, and CHECK
constraints reject zero amounts and unknown transaction kinds on both backends.
"""
