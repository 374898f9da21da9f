"""PostgreSQL: ``accounts`` and ``statements`` fill their pages to half on insert (``fillfactor`` 50,
:data:`overdue.store.account_tables.UPDATED_DAILY_FILLFACTOR`), so that the end-of-day's daily updates of
those rows find room on the same page and leave the indexes alone (HOT updates).

The setting applies to pages written from now on; the pages already written keep their rows until the table
is rewritten (``VACUUM FULL accounts, statements`` in a maintenance window, or as they are updated and
pruned). SQLite has no such setting: nothing changes there.

Revision ID: 0013_fillfactor
Revises: 0012_account_language
Create Date: 2026-12-03 06:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_fillfactor"
down_revision: str | None = "0012_account_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("accounts", "statements")
FILLFACTOR = 50  # as written in this revision; the schema's constant may change in a later one


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
