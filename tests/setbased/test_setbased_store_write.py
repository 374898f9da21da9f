"""The set-based end-of-day on the operational store (read in bulk → run in the engine → written back)
against the reference end-of-day: two stores built alike, one run by each over days with a month end, a
statement day and a due date, then compared field by field (a SQLite store run on DuckDB, a PostgreSQL store
run inside its own database)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import pytest
from setbased_store_helpers import build_store, run_set_based, twin_stores
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.domain.errors import Conflict, OverdueError
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.setbased.store_run import run_on_store
from overdue.store import audit_trail, repository

BUILT = date(2026, 2, 24)
THROUGH = date(2026, 3, 12)
"""From the store's date through a month end (2026-02-28), a statement day (03-01) and a due date (03-09)."""

COMPARED = {
    "accounts": "SELECT id, product, terms_json, opened_on, timezone, credit_limit_fen, status, last_eod, "
    "days_past_due, bucket, written_off_on, negative_notice_on, version FROM accounts ORDER BY id",
    "statements": "SELECT * FROM statements ORDER BY id",
    "unbilled_cycles": "SELECT * FROM unbilled_cycles ORDER BY account_id, statement_date",
    "installment_plans": "SELECT * FROM installment_plans ORDER BY id",
    "installment_periods": "SELECT * FROM installment_periods ORDER BY plan_id, number",
    "bucket_history": "SELECT * FROM bucket_history ORDER BY account_id, entered, bucket",
    "bureau_months": "SELECT * FROM bureau_months ORDER BY account_id, month",
    "account_days": "SELECT * FROM account_days ORDER BY account_id, business_date",
    "eod_runs": "SELECT * FROM eod_runs ORDER BY business_date",
    "ledger_balances": "SELECT account_id, ledger_account, sum(amount_fen) FROM ledger_postings "
    "GROUP BY account_id, ledger_account ORDER BY account_id, ledger_account",
    "ledger_postings": "SELECT t.account_id, t.business_date, t.kind, t.statement_id, t.memo, "
    "p.ledger_account, p.amount_fen FROM ledger_transactions t "
    "JOIN ledger_postings p ON p.transaction_id = t.id "
    "ORDER BY t.account_id, t.business_date, t.kind, t.statement_id, p.ledger_account, p.amount_fen",
    "transactions_per_day": "SELECT business_date, kind, count(*) FROM ledger_transactions "
    "GROUP BY business_date, kind ORDER BY business_date, kind",
    "end_of_day_audit": "SELECT action, record FROM audit_log WHERE entity = 'end_of_day' ORDER BY seq",
    "limit_changes": "SELECT account_id, review_date, effective_on, action, old_limit_fen, new_limit_fen, "
    "reasons, model_version, applied_on FROM limit_changes ORDER BY account_id, review_date",
    "limit_notices": "SELECT a.account_id, a.business_date, a.type, a.stage, a.template, a.status, a.reason, "
    "o.channel, o.locale, o.body, o.status FROM collection_actions a JOIN outbox o ON o.action_id = a.id "
    "WHERE a.treatment = 'limit_notice' ORDER BY a.account_id, a.business_date",
}


@pytest.fixture
def twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    """Two stores built alike through :data:`BUILT`: (the reference's, the set-based run's, its URL)."""

    def build(first: Engine) -> None:
        ids = build_store(first, 11, BUILT)
        # purchase installments (消费分期) on the next day: billed by the statement of 03-01, due 03-09
        for account_id, periods in zip(ids[:3], (3, 6, 12), strict=True):
            with contextlib.suppress(OverdueError):  # a frozen line refuses them
                accounts.purchase(first, account_id, 24_000, periods=periods, on=BUILT + timedelta(days=1))

    yield from twin_stores(db_url, tmp_path, build)


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(query))] for name, query in COMPARED.items()}


def assert_same_stores(got: Engine, want: Engine) -> None:
    mine, theirs = _rows(got), _rows(want)
    for name in COMPARED:
        assert len(mine[name]) == len(theirs[name]), name
        for a, b in zip(mine[name], theirs[name], strict=True):
            assert a == b, (name, a, b)


def test_days_on_the_store_equal_the_reference(twins: tuple[Engine, Engine, str]) -> None:
    reference, set_based, url = twins
    run_eod(reference, THROUGH)  # with the limit review (the statement day of 03-01 reviews)
    # SQLite's store runs on DuckDB; PostgreSQL's inside its own database (--engine postgres --store)
    summary = run_set_based(set_based, url, THROUGH)
    assert summary.dates[0] == date(2026, 2, 25) and summary.dates[-1] == THROUGH
    assert summary.transactions > 0
    with reference.connect() as conn:
        # what makes the comparison worth making: statements billed, interest posted, delinquent accounts
        kinds = {k for (k,) in conn.execute(text("SELECT DISTINCT kind FROM ledger_transactions"))}
        buckets = {b for (b,) in conn.execute(text("SELECT DISTINCT bucket FROM accounts"))}
        billed = conn.execute(text("SELECT count(*) FROM statements WHERE statement_date = '2026-03-01'"))
        assert billed.scalar_one() > 0
    assert {"overdue_interest", "installment_fee"} <= kinds
    assert buckets - {"M0"}
    assert_same_stores(set_based, reference)
    with set_based.connect() as conn:
        assert audit_trail.verify(conn).ok
        assert conn.execute(text("SELECT count(*) FROM limit_changes")).scalar_one() > 0  # 03-01 reviewed
        billed_purchase_periods = text(
            "SELECT count(*) FROM installment_periods p JOIN installment_plans l ON l.id = p.plan_id "
            "WHERE l.origin = 'purchase' AND p.billed"
        )
        assert conn.execute(billed_purchase_periods).scalar_one() > 0  # 消费分期 billed on 03-01


def test_a_change_during_the_run_fails_its_date_whole(sqlite_engine: Engine) -> None:
    ids = build_store(sqlite_engine, 12, BUILT, count=4)
    payer = ids[0]

    def repay_after_the_first_date(on: date, done: int, total: int) -> None:
        if done == 1:  # a repayment posted through the service while the run goes on
            accounts.repay(sqlite_engine, payer, 100, on=on + timedelta(days=1))

    with sqlite_engine.connect() as conn:
        with_balance = repository.load_account(conn, payer)[0].outstanding
    assert with_balance > 0
    with pytest.raises(Conflict, match="changed in the store"):
        run_on_store(
            sqlite_engine,
            THROUGH,
            ibis.duckdb.connect(),
            engine_name="duckdb",
            progress=repay_after_the_first_date,
        )
    with sqlite_engine.connect() as conn:
        assert repository.last_closed_date(conn) == date(2026, 2, 25)
        assert repository.load_account(conn, ids[1])[0].last_eod == date(2026, 2, 25), "nothing of 02-26"
    resumed = run_on_store(sqlite_engine, THROUGH, ibis.duckdb.connect(), engine_name="duckdb")
    assert resumed.dates[0] == date(2026, 2, 26)
    assert run_on_store(sqlite_engine, THROUGH, ibis.duckdb.connect(), engine_name="duckdb").dates == []


def test_overdue_eod_on_the_store(sqlite_url: str, sqlite_engine: Engine) -> None:
    build_store(sqlite_engine, 13, date(2026, 1, 25), count=3)
    runner = CliRunner()
    result = runner.invoke(
        app, ["--db", sqlite_url, "eod", "--engine", "duckdb", "--store", "--date", "2026-02-02", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["dates"][0] == "2026-01-26" and out["dates"][-1] == "2026-02-02"
    assert out["not_run"] == []  # collections run, with the shipped strategy
    assert all("steps" not in day for day in out["days"])
    with sqlite_engine.connect() as conn:
        assert repository.last_closed_date(conn) == date(2026, 2, 2)
    # --steps: each date's steps, the engine's statements, the review, the collection half and the write
    result = runner.invoke(
        app,
        [
            "--db",
            sqlite_url,
            "eod",
            "--engine",
            "duckdb",
            "--store",
            "--date",
            "2026-02-03",
            "--steps",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    (day,) = json.loads(result.output)["days"]
    labels = [step["step"] for step in day["steps"]]
    for label in ("create aged", "limit review", "create collect_decided", "write: the store"):
        assert label in labels, (label, labels)
    refused = runner.invoke(
        app,
        ["--db", sqlite_url, "eod", "--engine", "duckdb", "--store", "--state", "x", "--date", "2026-02-03"],
    )
    assert refused.exit_code == 2 and "error:" in refused.output
