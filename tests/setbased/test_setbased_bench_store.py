"""``bench/store_eod.py``: the store benchmark builds a demo store, runs the set-based day on it and the
reference on a copy, and reports both (a small portfolio; the numbers are measured, not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from test_setbased_bench_portfolio import bench_module

from overdue.store.db import make_engine


@pytest.mark.slow
def test_the_store_benchmark_runs_both_days_and_reports_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    args = ["--accounts", "80", "--months", "1", "--days", "2", "--reference", "--db", url, "--json"]
    assert bench_module("store_eod.py").main(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["accounts"] == 80 and out["engine"] == "duckdb" and out["store"] == "sqlite"
    assert out["dates"] == ["2026-02-01", "2026-02-02"]
    assert len(out["day_seconds"]) == 2 and out["seconds"] >= out["read_seconds"]
    assert out["accounts_per_s"] > 0 and out["reference_accounts_per_s"] > 0 and out["peak_rss_mb"] > 0
    # Both stores closed the same two dates with the same ledger.
    for db in (tmp_path / "store.db", tmp_path / "store.reference.db"):
        with make_engine(f"sqlite:///{db}").connect() as conn:
            closed = conn.execute(text("SELECT max(business_date) FROM eod_runs")).scalar_one()
            assert str(closed) == "2026-02-02"
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
