"""overdue: consumer-credit servicing and collections.

Design overview
---------------
overdue runs a revolving consumption credit line the way Alipay's Huabei does (a monthly statement, a
repayment day, overdue interest, a frozen line, a credit-bureau grid) and what follows when a statement is not
paid: an escalating, compliance-checked collection ladder.

Data flows one way through the day::

    events ─► services ─► store (journal + current state) ─► engine (end of day) ─► channels, reports

- ``domain/``: pure rules (money in integer fen, calendar, ledger postings, interest, delinquency), using
  the standard library only.
- ``engine/``: the end-of-day pipeline (accrue, age, bill, decide, comply, act).
- ``store/``: the database schema, Alembic migrations and engine set-up (SQLite by default, PostgreSQL in
  production); the database enforces the ledger's invariants too.
- ``services/``: use cases; each one validates, runs one database transaction and records an audit event.
- ``cli/``: the thin ``overdue`` command line over the services.

Money is never a ``float``: integer fen inside, decimal yuan strings (``"1000.00"``) at the edges.
"""

__version__ = "0.1.0"
