"""The limit review on the store path (``overdue eod --engine … --store``) against the reference, over months.

Two stores are built alike by the reference (the borrowers of ``setbased_limit_helpers``, the review on)
through late April; from then on the borrowers act alike on both, one store is run by the reference and the
other by the set-based store path date after date, through raises, cuts (applied after their notice
period, one held at what is owed), freezes and a close at 91 DPD. The stores must then hold the same
accounts (limits, statuses, versions), statements, ledger, bucket history, ``limit_changes``, limit notices
(actions and outbox messages) and end-of-day audit rows — on SQLite with DuckDB, and on PostgreSQL inside
its own database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from setbased_limit_helpers import OPENED, act, habits_of, open_accounts, run_through, store_changes
from setbased_store_helpers import twin_stores
from sqlalchemy import Engine
from test_setbased_store_write import assert_same_stores

from overdue.domain.calendar import iter_days
from overdue.engine.reference import run_eod
from overdue.setbased.nightly import connect
from overdue.setbased.store_run import run_on_store
from overdue.store import audit_trail

HANDOVER = date(2026, 4, 25)
END = date(2026, 8, 10)


@pytest.fixture
def twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    def build(first: Engine) -> None:
        habits = open_accounts(first, extra=2, seed=9)
        run_through(first, habits, OPENED, HANDOVER - timedelta(days=1))

    yield from twin_stores(db_url, tmp_path, build)


def test_reviews_on_the_store_path_equal_the_reference(twins: tuple[Engine, Engine, str]) -> None:
    reference, set_based, url = twins
    habits = habits_of(extra=2, seed=9)
    name = "postgres" if url.startswith("postgresql") else "duckdb"
    backend = connect(name, url)
    recorded: dict[str, int] = {}
    try:
        for day in iter_days(HANDOVER, END):
            act(reference, habits, day)
            act(set_based, habits, day)
            run_eod(reference, day)
            summary = run_on_store(set_based, day, backend, engine_name=name)
            assert summary.dates == [day]
            for action, count in summary.limit_changes.items():
                recorded[action] = recorded.get(action, 0) + count
    finally:
        backend.disconnect()
    assert {"raise", "cut", "freeze", "close"} <= set(recorded), recorded
    changes = store_changes(reference)
    assert any(c[3] == "cut" and c[8] is not None and c[8] > c[1] >= HANDOVER for c in changes)
    assert_same_stores(set_based, reference)
    with set_based.connect() as conn:
        assert audit_trail.verify(conn).ok
