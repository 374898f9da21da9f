"""Relief arrangements on the operational store: plans and settlements agreed through the services and
ended by the reference end-of-day (completed, broken, lapsed; one left pending approval) are read in bulk as
the repository loads them, and the set-based days on the store equal the reference's, leaving the
arrangements as they were; active ones are reviewed day by day and their end written back as the reference
writes it, without collections and with them (the plan hold ended, a broken plan escalated)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from setbased_store_helpers import NO_REVIEW, OPENED, run_set_based, twin_stores
from sqlalchemy import Engine, text
from test_setbased_store_collect import COMPARED
from test_setbased_store_collect import _rows as collection_rows
from test_setbased_store_read import assert_same_tables, through_states
from test_setbased_store_write import assert_same_stores

from overdue.domain.calendar import iter_days
from overdue.engine.reference import run_eod
from overdue.services import accounts, relief
from overdue.setbased.store_io import read_store
from overdue.store import repository
from overdue.strategy import default_strategy

AGREED = date(2026, 3, 13)
"""Every account is 32 days past due by then (bought on 10 January, nothing repaid)."""
ENDED = date(2026, 3, 31)
"""By then every arrangement has ended, but the pending one (the plan missing its down payment breaks)."""
THROUGH = date(2026, 4, 3)
KINDS = ("plan_completed", "settlement_paid", "settlement_lapsed", "down_missed", "pending", "none")
ARRANGEMENTS = "SELECT * FROM relief_arrangements ORDER BY id"


def _request(kind: str, owed: int) -> relief.ReliefRequest:
    if kind in ("plan_completed", "pending"):
        return relief.ReliefRequest("plan", periods=2, waive_interest=True)
    if kind == "down_missed":
        return relief.ReliefRequest("plan", periods=3, down_payment=owed // 5, monthly_rate=Decimal("0.005"))
    return relief.ReliefRequest("settlement", amount=owed * 6 // 10, pay_by=AGREED + timedelta(days=5))


def _agree(engine: Engine, account_id: str, kind: str) -> None:
    with engine.connect() as conn:
        owed = repository.load_account(conn, account_id)[0].outstanding
    request = _request(kind, owed)
    offer = relief.quote(engine, account_id, request, on=AGREED)
    accepted = relief.accept(engine, account_id, request, offer["fingerprint"], maker="agent1", on=AGREED)
    if accepted["status"] == "pending_approval" and kind != "pending":
        relief.approve(engine, account_id, accepted["id"], "lead1", "supervisor", on=AGREED)


def _repay(engine: Engine, account_id: str, kind: str, on: date) -> None:
    with engine.connect() as conn:
        state = repository.load_account(conn, account_id)[0]
    arrangement = state.arrangement
    if arrangement is None or not arrangement.is_active or on != AGREED + timedelta(days=1):
        return
    amount = {
        "plan_completed": state.outstanding,
        "settlement_paid": arrangement.amount,
        "settlement_lapsed": arrangement.amount // 3,
    }.get(kind)
    if amount:
        accounts.repay(engine, account_id, amount, on=on)


def build_relief_store(engine: Engine, through: date) -> list[str]:
    """One account per :data:`KINDS`: bought on 10 January, unpaid, relief agreed on :data:`AGREED` and
    kept, paid or not, run by the reference through ``through``; the ids."""
    ids = [f"R{n}" for n in range(len(KINDS))]
    for a in ids:
        accounts.open_account(engine, a, OPENED, 500_000)
    day = OPENED
    while day <= through:
        for a, kind in zip(ids, KINDS, strict=True):
            if day == date(2026, 1, 10):
                accounts.purchase(engine, a, 100_000 + 9_999 * len(a + kind), on=day)
            if day == AGREED and kind != "none":
                _agree(engine, a, kind)
            if day > AGREED:
                _repay(engine, a, kind, day)
        run_eod(engine, day, collection=NO_REVIEW)
        day += timedelta(days=1)
    return ids


@pytest.fixture
def twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    yield from twin_stores(db_url, tmp_path, lambda first: build_relief_store(first, ENDED))


def test_ended_arrangements_on_the_store_equal_the_reference(twins: tuple[Engine, Engine, str]) -> None:
    reference, set_based, url = twins
    with set_based.connect() as conn:
        read = read_store(conn).tables
        assert_same_tables(read, through_states(conn))
        for name in ("arrangements", "arrangement_payments", "arrangement_set_asides"):
            assert getattr(read, name).to_pylist() == getattr(through_states(conn), name).to_pylist(), name
        before = [tuple(r) for r in conn.execute(text(ARRANGEMENTS))]
    assert sorted(read.arrangements["status"].to_pylist()) == [
        "broken",
        "completed",
        "completed",
        "lapsed",
        "pending_approval",
    ]
    assert read.arrangement_set_asides.num_rows > 0
    run_eod(reference, THROUGH)
    run_set_based(set_based, url, THROUGH)
    assert_same_stores(set_based, reference)
    with set_based.connect() as mine, reference.connect() as theirs:
        after = [tuple(r) for r in mine.execute(text(ARRANGEMENTS))]
        assert after == before == [tuple(r) for r in theirs.execute(text(ARRANGEMENTS))]


@pytest.fixture
def active_twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    yield from twin_stores(db_url, tmp_path, lambda first: build_relief_store(first, AGREED))


def test_active_arrangements_on_the_store_equal_the_reference(
    active_twins: tuple[Engine, Engine, str],
) -> None:
    """From the day after the agreement, day by day on both stores alike (the same repayments): the plan
    completed, the settlement paid and the one lapsed, the plan missing its down payment broken — each
    arrangement's status and end date, the statements, postings (waivers) and the ended holds written back
    as the reference writes them."""
    reference, set_based, url = active_twins
    with set_based.connect() as conn:
        assert "active" in read_store(conn).tables.arrangements["status"].to_pylist()
    day = AGREED + timedelta(days=1)
    while day <= THROUGH:
        for engine in (reference, set_based):
            for n, kind in enumerate(KINDS):
                _repay(engine, f"R{n}", kind, day)
        run_eod(reference, day)
        run_set_based(set_based, url, day)
        assert_same_stores(set_based, reference)
        day += timedelta(days=1)
    with set_based.connect() as mine, reference.connect() as theirs:
        after = [tuple(r) for r in mine.execute(text(ARRANGEMENTS))]
        assert after == [tuple(r) for r in theirs.execute(text(ARRANGEMENTS))]
        holds = "SELECT account_id, kind, started_at, ended_at FROM account_holds ORDER BY account_id, kind"
        assert [tuple(r) for r in mine.execute(text(holds))] == [
            tuple(r) for r in theirs.execute(text(holds))
        ]
    statuses = sorted(r[3] for r in after)
    assert statuses == ["broken", "completed", "completed", "lapsed", "pending_approval"]


@pytest.mark.slow  # about 40 s on SQLite, 60 s on PostgreSQL
def test_collections_over_active_arrangements_on_the_store_equal_the_reference(
    active_twins: tuple[Engine, Engine, str],
) -> None:
    """``overdue eod --store`` with the default strategy over the active arrangements, in one run from the
    day after the agreement (both stores repaid alike): the plan completed, the settlements paid and lapsed,
    the plan missing its down payment broken — the plan holds ended, the broken plan escalated — and the
    collections of every date (actions, messages, work, collection records, holds) equal the reference's."""
    reference, set_based, url = active_twins
    day = AGREED + timedelta(days=1)
    for engine in (reference, set_based):
        for n, kind in enumerate(KINDS):
            _repay(engine, f"R{n}", kind, day)
    run_eod(reference, THROUGH)
    summary = run_set_based(set_based, url, THROUGH, strategy=default_strategy())
    assert summary.dates == list(iter_days(day, THROUGH)) and summary.actions
    mine, theirs = collection_rows(set_based), collection_rows(reference)
    for table in COMPARED:
        assert len(mine[table]) == len(theirs[table]), table
        for a, b in zip(mine[table], theirs[table], strict=True):
            assert a == b, (table, a, b)
    assert_same_stores(set_based, reference)
    holds = "SELECT account_id, kind, started_at, ended_at FROM account_holds ORDER BY account_id, kind"
    with set_based.connect() as mine_conn, reference.connect() as theirs_conn:
        assert [tuple(r) for r in mine_conn.execute(text(holds))] == [
            tuple(r) for r in theirs_conn.execute(text(holds))
        ]
        assert [tuple(r) for r in mine_conn.execute(text(ARRANGEMENTS))] == [
            tuple(r) for r in theirs_conn.execute(text(ARRANGEMENTS))
        ]
        # what makes the comparison worth making: plan holds ended, a broken plan escalated
        ended = "SELECT count(*) FROM account_holds WHERE kind = 'plan' AND ended_at IS NOT NULL"
        assert theirs_conn.execute(text(ended)).scalar_one() == 4
        broken = text(
            "SELECT s.escalation FROM collection_states s JOIN relief_arrangements r "
            "ON r.account_id = s.account_id WHERE r.status = 'broken'"
        )
        assert theirs_conn.execute(broken).scalar_one() >= 1
