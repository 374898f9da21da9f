"""``bench/store_eod.py``: the store benchmark builds a demo store, runs the set-based day (with the shipped
strategy's collections) on it and the reference on a copy, and reports both (a small portfolio; the numbers
are measured, not asserted); the two stores end with the same ledger and the same collection records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from test_setbased_bench_portfolio import bench_module

from overdue.risk.notices import NOTICE_TREATMENT as LIMIT_NOTICE
from overdue.store.db import make_engine


@pytest.mark.slow
def test_the_store_benchmark_runs_both_days_and_reports_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    args = ["--accounts", "150", "--months", "2", "--days", "3", "--reference", "--db", url, "--json"]
    assert bench_module("store_eod.py").main(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["accounts"] == 150 and out["engine"] == "duckdb" and out["store"] == "sqlite"
    assert out["dates"] == ["2026-03-01", "2026-03-02", "2026-03-03"] and out["collections"]
    assert len(out["day_seconds"]) == 3 and out["seconds"] >= out["read_seconds"]
    assert out["accounts_per_s"] > 0 and out["reference_accounts_per_s"] > 0 and out["peak_rss_mb"] > 0
    # Both stores closed the same two dates with the same ledger.
    for db in (tmp_path / "store.db", tmp_path / "store.reference.db"):
        with make_engine(f"sqlite:///{db}").connect() as conn:
            closed = conn.execute(text("SELECT max(business_date) FROM eod_runs")).scalar_one()
            assert str(closed) == "2026-03-03"
    ledgers = []
    for db in (tmp_path / "store.db", tmp_path / "store.reference.db"):
        with make_engine(f"sqlite:///{db}").connect() as conn:
            ledgers.append(
                conn.execute(
                    text(
                        "SELECT count(*), sum(CASE WHEN amount_fen > 0 THEN amount_fen ELSE 0 END) "
                        "FROM ledger_postings"
                    )
                ).one()
            )
    assert ledgers[0] == ledgers[1]
    # ... and decided, complied and acted alike on the simulator's store (its collection records as read)
    compared = {
        "actions": "SELECT account_id, business_date, treatment, type, stage, template, party, priority, "
        "experiment, variant, status, refused_rule, reason FROM collection_actions "
        "WHERE business_date > '2026-02-28' ORDER BY account_id, business_date, treatment",
        "outbox": "SELECT o.account_id, a.treatment, o.channel, o.template, o.locale, o.body, o.status "
        "FROM outbox o JOIN collection_actions a ON a.id = o.action_id WHERE a.business_date > '2026-02-28' "
        "ORDER BY o.account_id, a.treatment",
        "states": "SELECT * FROM collection_states ORDER BY account_id",
    }
    rows = []
    for db in (tmp_path / "store.db", tmp_path / "store.reference.db"):
        with make_engine(f"sqlite:///{db}").connect() as conn:
            rows.append({name: [tuple(r) for r in conn.execute(text(q))] for name, q in compared.items()})
    assert rows[0]["actions"], "no action on these dates: the comparison shows nothing"
    assert rows[0] == rows[1]
    # The collection half's actions are those counted; the limit review's notices are recorded beside them.
    collection = [r for r in rows[0]["actions"] if r[2] != LIMIT_NOTICE]
    assert sum(out["actions"].values()) == len(collection)
