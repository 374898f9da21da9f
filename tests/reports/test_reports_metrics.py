"""Reports on a small simulated portfolio hang together, and the database gives the in-memory numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sim_helpers import small_portfolio
from sqlalchemy import Engine, func, select

from overdue.domain.money import parse_yuan
from overdue.errors import OverdueError
from overdue.reports.database import panel_from_database
from overdue.reports.metrics import (
    BUCKETS,
    ReportConfig,
    actions_by_channel,
    bucket_distribution,
    full_report,
    panel_from_simulation,
    roll_rates,
    vintages,
)
from overdue.sim.persist import persist, prepare
from overdue.store.account_tables import account_days, accounts
from overdue.store.collection_tables import collection_actions
from overdue.store.schema import ledger_postings, ledger_transactions, metadata


def test_bucket_counts_sum_to_the_accounts() -> None:
    result = small_portfolio()
    for row in bucket_distribution(panel_from_simulation(result)):
        assert sum(row["counts"].values()) == row["accounts"] == 300


def test_roll_rate_rows_sum_to_one_where_defined() -> None:
    report = roll_rates(panel_from_simulation(small_portfolio()))
    defined = 0
    for bucket in BUCKETS:
        row = report["rates"][bucket]
        if all(v is None for v in row.values()):
            assert sum(report["counts"][bucket].values()) == 0
            continue
        defined += 1
        assert abs(sum(Decimal(v) for v in row.values() if v is not None) - 1) <= Decimal("0.0008")
    assert defined >= 2  # at least M0 and M1 have accounts
    assert report["counts"]["M0"]["M2"] == 0  # a month cannot skip a bucket


def test_recovered_never_exceeds_overdue_and_rates_are_shares() -> None:
    report = full_report(small_portfolio())
    summary = report["summary"]
    assert parse_yuan(summary["recovered"]) <= parse_yuan(summary["exposure"])
    for row in report["by_stage"]:
        assert parse_yuan(row["recovered"]) <= parse_yuan(row["exposure"])
        assert row["cured"] <= row["reached"]
    for row in report["champion_challenger"]:
        assert parse_yuan(row["recovered"]) <= parse_yuan(row["exposure"])
        assert row["cured"] <= row["episodes"]
    for row in report["entry_rates"]:
        assert 0 <= row["entered"] <= row["due"]
    assert sum(r["accounts"] for r in report["champion_challenger"]) == 300
    for curve in report["vintages"]:
        assert all(0 <= Decimal(p["share"]) <= 1 for p in curve["curve"])


def test_action_cost_is_count_times_unit_cost_in_fen() -> None:
    rows = actions_by_channel(panel_from_simulation(small_portfolio()), ReportConfig())
    sms = next(r for r in rows if r["type"] == "sms")
    assert sms["cost_fen"] == 5 * sms["allowed"]
    assert all(isinstance(r["cost_fen"], int) for r in rows)


def test_persisted_portfolio_balances_and_gives_the_same_month_end_numbers(sqlite_engine: Engine) -> None:
    result = small_portfolio()
    prepare(sqlite_engine, fresh=False)
    counts = persist(sqlite_engine, result)
    assert counts["accounts"] == 300 and counts["transactions"] == len(result.ledger)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 300
        unbalanced = conn.execute(
            select(ledger_postings.c.transaction_id)
            .group_by(ledger_postings.c.transaction_id)
            .having(func.sum(ledger_postings.c.amount_fen) != 0)
        ).all()
        assert unbalanced == []
        assert conn.execute(select(func.count()).select_from(ledger_transactions)).scalar_one() == len(
            result.ledger
        )
        assert conn.execute(select(func.count()).select_from(collection_actions)).scalar_one() == len(
            result.actions
        )
        assert conn.execute(select(func.count()).select_from(account_days)).scalar_one() == 300 * 4
        for table in metadata.sorted_tables:  # no float anywhere near money
            money = [c for c in table.columns if c.name.endswith("_fen")]
            if money:
                for row in conn.execute(select(*money).limit(2000)):
                    assert all(isinstance(v, int) for v in row if v is not None), table.name
    in_memory, stored = panel_from_simulation(result), panel_from_database(sqlite_engine)
    assert bucket_distribution(stored) == bucket_distribution(in_memory)
    assert roll_rates(stored) == roll_rates(in_memory)
    assert vintages(stored) == vintages(in_memory)
    assert actions_by_channel(stored, ReportConfig()) == actions_by_channel(in_memory, ReportConfig())


def test_a_database_with_accounts_is_refused_unless_fresh(sqlite_engine: Engine) -> None:
    result = small_portfolio(accounts=20, months=1, seed=1)
    prepare(sqlite_engine, fresh=False)
    persist(sqlite_engine, result)
    with pytest.raises(OverdueError, match=r"already has 20 accounts.*--fresh"):
        prepare(sqlite_engine, fresh=False)
    prepare(sqlite_engine, fresh=True)
    persist(sqlite_engine, result)
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 20
