"""Deferred statements on the operational store: a deferral accepted through the services (the due date
moved, ``original_due_date`` kept) is read in bulk as the repository loads it, and the set-based days on the
store equal the reference's over the original due date, the new one and the next statement day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from setbased_store_helpers import build_store, run_set_based, twin_stores
from sqlalchemy import Engine, text
from test_setbased_store_read import assert_same_tables, through_states
from test_setbased_store_write import assert_same_stores

from overdue.domain.errors import NotFound, ReliefRefused
from overdue.engine.reference import run_eod
from overdue.services import relief
from overdue.setbased.store_io import read_store

BUILT = date(2026, 2, 3)
DEFERRED_ON = date(2026, 2, 4)
THROUGH = date(2026, 3, 12)


def _defer(engine: Engine, account_id: str, days: int) -> bool:
    """Defer the account's latest statement by ``days`` on :data:`DEFERRED_ON`; False when refused."""
    request = relief.ReliefRequest("deferral", statement=date(2026, 2, 1), days=days)
    try:
        offer = relief.quote(engine, account_id, request, on=DEFERRED_ON)
        relief.accept(engine, account_id, request, offer["fingerprint"], maker="borrower", on=DEFERRED_ON)
    except (ReliefRefused, NotFound):  # paid already, or no statement yet: nothing to defer
        return False
    return True


@pytest.fixture
def twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    def build(first: Engine) -> None:
        ids = build_store(first, 21, BUILT)
        deferred = [a for a, days in zip(ids, (5, 12, 30, 20, 9, 15), strict=False) if _defer(first, a, days)]
        assert len(deferred) >= 2

    yield from twin_stores(db_url, tmp_path, build)


def test_deferred_statements_on_the_store_equal_the_reference(twins: tuple[Engine, Engine, str]) -> None:
    reference, set_based, url = twins
    with set_based.connect() as conn:
        assert_same_tables(read_store(conn).tables, through_states(conn))
        moved = conn.execute(text("SELECT count(*) FROM statements WHERE original_due_date IS NOT NULL"))
        assert moved.scalar_one() >= 2
    run_eod(reference, THROUGH)
    run_set_based(set_based, url, THROUGH)
    assert_same_stores(set_based, reference)
    with reference.connect() as conn:
        interest_while_deferred = conn.execute(
            text(
                "SELECT count(*) FROM ledger_transactions t JOIN statements s ON s.id = t.statement_id "
                "WHERE s.original_due_date IS NOT NULL AND t.kind = 'revolving_interest' "
                "AND t.business_date > s.original_due_date AND t.business_date <= s.due_date"
            )
        )
        assert interest_while_deferred.scalar_one() > 0
