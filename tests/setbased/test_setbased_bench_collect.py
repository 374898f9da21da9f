"""The benchmark's generated collection records (``bench/eod.py --strategy``) are records the
:class:`~overdue.setbased.collect.Collector` takes, and on them both runners plan the same day: the
set-based decide → comply → act and the reference's :func:`~overdue.engine.collect.plan_collection`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import ibis
import pytest
from setbased_collect_helpers import assert_same, reference_day, set_based_day
from test_setbased_bench_portfolio import bench_module

from overdue.compliance import rulebook
from overdue.domain import account as rules
from overdue.setbased import Portfolio, states_from_tables
from overdue.setbased.collect import Collector
from overdue.strategy import Strategy, default_strategy, load_strategy

SINK = load_strategy(Path(__file__).parent / "setbased_sink_strategy.yaml")
STRATEGIES: dict[str, Strategy] = {"huabei": default_strategy(), "sink": SINK}


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("on", [date(2026, 3, 15), date(2026, 4, 1)])
def test_both_runners_plan_the_same_on_the_generated_collection_records(on: date, strategy: str) -> None:
    bench = bench_module()
    chosen = STRATEGIES[strategy]
    tables = bench.generate(600, on, seed=3)
    records = bench.generate_collections(tables, on, chosen, seed=3)
    ids = tables.accounts["account_id"].to_pylist()
    states = states_from_tables(tables, bench.TERMS)

    after = [rules.end_of_day(s, on).state for s in states]
    want, _ = reference_day(after, on, bench.reference_records(ids, records), chosen, rulebook("cn"))

    portfolio = Portfolio.load(tables, bench.TERMS, ibis.duckdb.connect())
    portfolio.run_day(on)
    collector = Collector(portfolio, chosen, rulebook("cn"))
    collector.load(*records)
    got = set_based_day(collector, on, ids, set(ids))
    assert_same(got, want, on)

    planned = [row for rows in want.actions.values() for row in rows]
    assert len(want.decisions) > 100 and len(planned) > 30
    assert {row[8] for row in planned} == {"queued", "refused"}
    assert any(want.messages.values()) and any(want.work.values())
    assert len({stage for stage, _ in want.decisions.values()}) >= 2
    assert any(paused for _, paused in want.decisions.values())


def test_the_generated_records_look_like_a_delinquent_portfolio() -> None:
    bench = bench_module()
    on = date(2026, 3, 15)
    tables = bench.generate(2_000, on, seed=9)
    collections, promises, done, contacts = bench.generate_collections(tables, on, default_strategy(), seed=9)
    delinquent = {r["account_key"] for r in tables.accounts.to_pylist() if r["days_past_due"] > 0}
    assert {r["account_key"] for r in collections.to_pylist()} == delinquent
    assert {r["status"] for r in promises.to_pylist()} == {"pending", "kept", "broken"}
    assert any(r["agency"] for r in collections.to_pylist())
    # 15 March: DPD 5 (early) and a month more per missed statement (queue, agency, field, charge-off).
    assert {r["stage"] for r in collections.to_pylist()} >= {
        "early",
        "queue",
        "agency",
        "field",
        "charge_off",
    }
    assert done.num_rows > 0
    assert contacts.num_rows >= len(delinquent)
    zone = ZoneInfo("Asia/Shanghai")
    for r in contacts.to_pylist():
        local = r["at"].astimezone(zone)
        assert 8 <= local.hour <= 21 and (on - local.date()).days < 30
    assert {r["party"] for r in contacts.to_pylist()} == {"debtor", "contact"}


@pytest.mark.parametrize("engine", ["duckdb", "reference"])
def test_the_benchmark_times_the_collection_half(engine: str, capsys: pytest.CaptureFixture[str]) -> None:
    bench = bench_module()
    assert bench.main(["--accounts", "400", "--engine", engine, "--strategy", "huabei", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["strategy"] == "huabei" and out["actions"] > 0 and out["collection_rows"] > 0
    assert out["seconds"] == pytest.approx(out["day_seconds"] + out["collect_seconds"], abs=0.002)
    assert out["collect_seconds"] > 0


def test_the_benchmark_runs_days_in_a_row_across_a_month_end_and_a_statement_day(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = bench_module()
    args = ["--accounts", "300", "--strategy", "huabei", "--date", "2026-03-30", "--days", "3", "--json"]
    assert bench.main(args) == 0
    out = json.loads(capsys.readouterr().out)
    days = out["days"]
    assert [d["date"] for d in days] == ["2026-03-30", "2026-03-31", "2026-04-01"]
    first = {k: out[k] for k in ("seconds", "day_seconds", "collect_seconds", "decisions", "actions")}
    assert {k: days[0][k] for k in first} == first
    for d in days:
        assert d["seconds"] == pytest.approx(d["day_seconds"] + d["collect_seconds"], abs=0.002)
        assert d["decisions"] > 0 and d["actions"] >= d["refused"] >= 0
    assert out["later_days_median_seconds"] == pytest.approx((days[1]["seconds"] + days[2]["seconds"]) / 2)


def test_days_in_a_row_are_for_the_set_based_engines(capsys: pytest.CaptureFixture[str]) -> None:
    bench = bench_module()
    for args, error in (
        (["--engine", "reference", "--days", "2"], "--days runs on the set-based engines"),
        (["--days", "0"], "--days must be at least 1"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            bench.main(["--accounts", "10", *args])
        assert exit_info.value.code == 2
        assert error in capsys.readouterr().err


def test_without_a_strategy_the_day_is_the_accounts_day_alone(capsys: pytest.CaptureFixture[str]) -> None:
    bench = bench_module()
    assert bench.main(["--accounts", "200", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["collect_seconds"] == 0 and out["seconds"] == out["day_seconds"]
    assert "strategy" not in out


def test_an_unreadable_strategy_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = bench_module()
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--accounts", "10", "--strategy", str(tmp_path / "missing.yaml")])
    assert exit_info.value.code == 2
    assert "--strategy: " in capsys.readouterr().err
