"""The nightly job over a Parquet state folder: the store's accounts exported, days run on DuckDB from the
snapshots, and the result equal to the reference runner's on the store for the same days.

Also: the snapshot round-trip, resuming after the newest snapshot, running days again, and the refusals.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import ibis
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.domain.errors import InvalidDate, InvalidInput, NotFound
from overdue.domain.state import AccountState
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.setbased import job, states_from_tables, transactions_from_postings
from overdue.setbased.nightly import export_store, run_nightly
from overdue.setbased.snapshots import read_outputs, read_state, state_dates, write_state
from overdue.sim.run import default_strategy_text
from overdue.store import repository
from overdue.strategy import default_strategy
from overdue.strategy.loader import load_strategy

OPENED = date(2026, 1, 6)
EXPORTED = date(2026, 2, 20)
THROUGH = date(2026, 4, 12)
"""From the export through a month end, two statement days and two due dates: DPD, freeze, buckets."""


def _portfolio(engine: Engine, through: date = EXPORTED) -> None:
    """Five accounts with different habits, run by the reference through ``through``."""
    for n, limit in enumerate((500_000, 300_000, 1_000_000, 800_000, 2_000_000)):
        accounts.open_account(engine, f"N{n}", OPENED, limit)
        accounts.purchase(engine, f"N{n}", 10_000 + 777 * n, on=OPENED)
    run_eod(engine, date(2026, 1, 20))
    accounts.purchase(engine, "N0", 4_321, on=date(2026, 1, 21))
    accounts.purchase(engine, "N3", 90_000, on=date(2026, 1, 21))
    run_eod(engine, date(2026, 2, 8))
    accounts.repay(engine, "N1", 10_777, on=date(2026, 2, 9))  # pays in full
    accounts.repay(engine, "N3", 10_000, on=date(2026, 2, 9))  # about the minimum
    run_eod(engine, through)


def _open_part(state: AccountState) -> tuple[object, ...]:
    """What both runners hold the same way: the account's facts and its unpaid statements."""
    unpaid = tuple(s for s in state.statements if s.closed_on is None)
    return (
        state.status,
        state.last_eod,
        state.days_past_due,
        state.bucket,
        state.credit_limit,
        state.written_off_on,
        state.negative_notice_on,
        unpaid,
        state.unbilled,
        state.bureau[-3:],
    )


def test_days_from_the_parquet_state_equal_the_reference_on_the_store(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    _portfolio(sqlite_engine)
    root = tmp_path / "state"
    assert export_store(sqlite_engine, root) == EXPORTED
    with sqlite_engine.connect() as conn:
        before = {a: repository.ledger_balances(conn, a) for a in (f"N{n}" for n in range(5))}

    summary = run_nightly(root, THROUGH, ibis.duckdb.connect(), engine="duckdb")
    run_eod(sqlite_engine, THROUGH)

    assert summary.started_from == EXPORTED
    assert [d.on for d in summary.days] == [EXPORTED + timedelta(days=k) for k in range(1, 52)]
    assert state_dates(root)[0] == EXPORTED and state_dates(root)[-1] == THROUGH
    snapshot = read_state(root, THROUGH)
    got = {s.id: s for s in states_from_tables(snapshot.tables, snapshot.terms)}
    with sqlite_engine.connect() as conn:
        for account_id, state in got.items():
            want = repository.load_account(conn, account_id)[0]
            assert _open_part(state) == _open_part(want), account_id
        # Every day's postings, as ledger transactions, moved the balances as the reference's ledger did.
        moved: Counter[tuple[str, str]] = Counter()
        for day in summary.days:
            for transaction in transactions_from_postings(
                read_outputs(root, "postings", day.on), snapshot.tables.accounts
            ):
                for posting in transaction.postings:
                    moved[(transaction.account_id, str(posting.ledger_account))] += posting.amount
        for account_id, balances in before.items():
            after = repository.ledger_balances(conn, account_id)
            for ledger_account in set(after) | set(balances):
                change = after.get(ledger_account, 0) - balances.get(ledger_account, 0)
                assert moved[(account_id, ledger_account)] == change, (account_id, ledger_account)
    buckets = {s.bucket for s in got.values()}
    assert "M0" in buckets and buckets - {"M0"}, "the run must cover current and delinquent accounts"


def test_resume_and_run_again(sqlite_engine: Engine, tmp_path: Path) -> None:
    _portfolio(sqlite_engine)
    root = tmp_path / "state"
    export_store(sqlite_engine, root)
    first = run_nightly(root, date(2026, 3, 3), ibis.duckdb.connect(), engine="duckdb")
    assert [d.on for d in first.days][-1] == date(2026, 3, 3)
    resumed = run_nightly(root, date(2026, 3, 12), ibis.duckdb.connect(), engine="duckdb")
    assert resumed.started_from == date(2026, 3, 3)
    assert run_nightly(root, date(2026, 3, 12), ibis.duckdb.connect(), engine="duckdb").days == []
    kept = read_state(root, date(2026, 3, 12)).tables

    again = run_nightly(
        root, date(2026, 3, 12), ibis.duckdb.connect(), engine="duckdb", start=date(2026, 3, 1)
    )
    assert again.started_from == date(2026, 2, 28)
    assert read_state(root, date(2026, 3, 12)).tables == kept, "the same days run again give the same state"
    with pytest.raises(InvalidDate, match="later ones"):
        run_nightly(root, date(2026, 3, 5), ibis.duckdb.connect(), engine="duckdb", start=date(2026, 3, 1))
    with pytest.raises(InvalidDate, match="needs the snapshot of 2026-01-31"):
        run_nightly(root, date(2026, 3, 12), ibis.duckdb.connect(), engine="duckdb", start=date(2026, 2, 1))


def test_refusals(sqlite_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no state snapshot"):
        run_nightly(tmp_path, THROUGH, ibis.duckdb.connect(), engine="duckdb")
    with pytest.raises(NotFound, match="no accounts"):
        export_store(sqlite_engine, tmp_path)
    accounts.open_account(sqlite_engine, "B1", OPENED, 500_000)
    accounts.open_account(sqlite_engine, "B2", OPENED, 500_000)
    with pytest.raises(InvalidDate, match="no end-of-day"):
        export_store(sqlite_engine, tmp_path)
    run_eod(sqlite_engine, date(2026, 1, 10))
    state = read_state  # a folder without a manifest is not a snapshot
    (tmp_path / "state" / "business_date=2026-01-09").mkdir(parents=True)
    assert state_dates(tmp_path) == []
    assert export_store(sqlite_engine, tmp_path) == date(2026, 1, 10)
    assert state(tmp_path, date(2026, 1, 10)).tables.accounts.num_rows == 2


def test_a_snapshot_round_trips_and_replaces(sqlite_engine: Engine, tmp_path: Path) -> None:
    _portfolio(sqlite_engine)
    export_store(sqlite_engine, tmp_path)
    snapshot = read_state(tmp_path, EXPORTED)
    assert snapshot.limits is not None  # the limit review's tables are exported with the accounts
    tables, terms = snapshot.tables, snapshot.terms
    write_state(tmp_path, EXPORTED, tables, terms, snapshot.collection, snapshot.limits, snapshot.behaviour)
    assert read_state(tmp_path, EXPORTED) == snapshot
    assert not [p for p in (tmp_path / "state").iterdir() if p.name.startswith(".")], "no staging left behind"


def test_cli_export_eod_and_show(sqlite_url: str, sqlite_engine: Engine, tmp_path: Path) -> None:
    _portfolio(sqlite_engine)
    runner = CliRunner()
    root = str(tmp_path / "st")
    result = runner.invoke(app, ["--db", sqlite_url, "state", "export", "--out", root])
    assert result.exit_code == 0, result.output
    assert "2026-02-20" in result.output
    result = runner.invoke(
        app, ["--db", sqlite_url, "eod", "--engine", "duckdb", "--state", root, "--date", "2026-03-02"]
    )
    assert result.exit_code == 0, result.output
    assert "closed 10 date(s) 2026-02-21 … 2026-03-02 on duckdb" in result.output
    result = runner.invoke(app, ["state", "show", root, "--date", "2026-03-02", "--account", "N2", "--json"])
    assert result.exit_code == 0, result.output
    assert '"account_id": "N2"' in result.output
    result = runner.invoke(app, ["--db", sqlite_url, "eod", "--engine", "duckdb", "--date", "2026-03-02"])
    assert result.exit_code == 2
    assert "give it with --state DIR" in result.output
    result = runner.invoke(
        app, ["--db", sqlite_url, "eod", "--engine", "oracle", "--state", root, "--date", "2026-03-02"]
    )
    assert result.exit_code == 2
    assert "unknown engine 'oracle'" in result.output


def test_cli_eod_times_each_step_of_every_day(sqlite_url: str, sqlite_engine: Engine, tmp_path: Path) -> None:
    """``--steps``: each day's steps in the JSON (the engine's statements, the review, the collection
    half's, each write) and as a table in the text; refused with the reference."""
    _portfolio(sqlite_engine)
    runner = CliRunner()
    root = str(tmp_path / "st")
    assert runner.invoke(app, ["--db", sqlite_url, "state", "export", "--out", root]).exit_code == 0
    strategy = tmp_path / "huabei.yaml"
    strategy.write_text(default_strategy_text(), encoding="utf-8")
    args = ["--db", sqlite_url, "eod", "--engine", "duckdb", "--state", root, "--strategy", str(strategy)]
    result = runner.invoke(app, [*args, "--date", "2026-02-22", "--steps", "--json"])
    assert result.exit_code == 0, result.output
    days = json.loads(result.output)["days"]
    assert [day["date"] for day in days] == ["2026-02-21", "2026-02-22"]
    for day in days:
        labels = [step["step"] for step in day["steps"]]
        for label in (
            "plan",
            "create aged",
            "limit review",
            "write: the day's outputs",
            "create collect_decided",
            "rows: actions, messages and work",
            "write: the collection's outputs",
            "write: state",
        ):
            assert label in labels, (label, labels)
        assert (
            labels.index("create aged")
            < labels.index("create collect_decided")
            < labels.index("write: state")
        )
        assert all(step["seconds"] >= 0 and step["calls"] >= 1 for step in day["steps"])
    result = runner.invoke(app, [*args, "--date", "2026-02-23", "--steps"])
    assert result.exit_code == 0, result.output
    assert "steps of 2026-02-23 (wall s, process CPU s, calls):" in result.output
    # the limit review's own queries are listed under it, indented
    lines = result.output.splitlines()
    review = next(n for n, line in enumerate(lines) if line.split()[:3] == ["day", "limit", "review"])
    part = lines[review + 1]
    assert part.startswith(" " * 17) and part.split()[0] in {"create", "fetch", "load"}
    assert "create collect_decided" in result.output
    result = runner.invoke(app, [*args, "--date", "2026-02-24", "--json"])
    assert result.exit_code == 0, result.output
    assert "steps" not in json.loads(result.output)["days"][0]
    refused = runner.invoke(app, ["--db", sqlite_url, "eod", "--date", "2026-02-24", "--steps"])
    assert refused.exit_code == 2 and "--steps go with a set-based engine" in refused.output


@pytest.mark.slow
def test_spark_submit_runs_the_nightly_job_like_duckdb(sqlite_engine: Engine, tmp_path: Path) -> None:
    """The job script under a real ``spark-submit`` (local master) writes the same state as DuckDB."""
    _portfolio(sqlite_engine, date(2026, 2, 26))
    on_spark, on_duckdb = tmp_path / "spark", tmp_path / "duckdb"
    export_store(sqlite_engine, on_spark)
    export_store(sqlite_engine, on_duckdb)
    through = date(2026, 3, 1)  # a month end and a statement day
    spark_submit = Path(sys.executable).parent / "spark-submit"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    done = subprocess.run(
        [
            str(spark_submit),
            "--master",
            "local[2]",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.sql.shuffle.partitions=2",
            job.__file__,
            "--state",
            str(on_spark),
            "--through",
            through.isoformat(),
            "--strategy",
            "huabei",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["engine"] == "spark" and summary["dates"][-1] == through.isoformat()
    assert summary["actions"] > 0  # the strategy ran: two accounts are past due
    duckdb_args = ["--engine", "duckdb", "--state", str(on_duckdb), "--through", through.isoformat()]
    assert job.main([*duckdb_args, "--strategy", "huabei"]) == 0
    assert read_state(on_spark, through) == read_state(on_duckdb, through)
    for name in ("postings", "bucket_spells", "bureau_months", "actions", "messages", "work"):
        got = read_outputs(on_spark, name, through)
        want = read_outputs(on_duckdb, name, through)
        order = [(c, "ascending") for c in want.column_names]
        assert got.sort_by(order).equals(want.sort_by(order)), name


def test_the_job_runs_a_strategy_as_the_nightly_run_does(sqlite_engine: Engine, tmp_path: Path) -> None:
    """``--strategy huabei`` (the shipped one) or a strategy file: the same collection outputs and records
    as :func:`run_nightly` with that strategy."""
    _portfolio(sqlite_engine, date(2026, 2, 26))
    by_job, by_file, by_call = tmp_path / "job", tmp_path / "file", tmp_path / "call"
    for root in (by_job, by_file, by_call):
        export_store(sqlite_engine, root)
    through = date(2026, 3, 2)
    args = ["--engine", "duckdb", "--through", through.isoformat()]
    assert job.main([*args, "--state", str(by_job), "--strategy", "huabei"]) == 0
    strategy_file = tmp_path / "huabei.yaml"
    strategy_file.write_text(default_strategy_text(), encoding="utf-8")
    assert job.main([*args, "--state", str(by_file), "--strategy", str(strategy_file)]) == 0
    run_nightly(by_call, through, ibis.duckdb.connect(), engine="duckdb", strategy=default_strategy())
    assert read_state(by_job, through) == read_state(by_call, through) == read_state(by_file, through)
    days = [date(2026, 2, 27) + timedelta(days=n) for n in range(4)]
    assert sum(read_outputs(by_job, "actions", on).num_rows for on in days) > 0
    for name in ("actions", "messages", "work"):
        for on in days:
            want = read_outputs(by_call, name, on)
            assert read_outputs(by_job, name, on).equals(want), (name, on)
            assert read_outputs(by_file, name, on).equals(want), (name, on)


def test_the_job_refuses_a_bad_strategy_file_with_its_problems(
    sqlite_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _portfolio(sqlite_engine, date(2026, 2, 26))
    export_store(sqlite_engine, tmp_path / "state")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: broken\nstages: 3\n", encoding="utf-8")
    args = ["--engine", "duckdb", "--state", str(tmp_path / "state"), "--through", "2026-03-02"]
    assert job.main([*args, "--strategy", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err
    assert state_dates(tmp_path / "state") == [date(2026, 2, 26)]  # nothing was run


def test_the_job_refuses_templates_failing_the_rulebooks_lint(sqlite_engine: Engine, tmp_path: Path) -> None:
    """As the reference and the store path: a strategy whose texts the product's rulebook refuses (here no
    {lender}, no {repay_channel}) is refused before any date runs, naming the problems."""
    _portfolio(sqlite_engine, date(2026, 2, 26))
    root = tmp_path / "state"
    export_store(sqlite_engine, root)
    text = default_strategy_text().replace("{lender}", "花呗").replace("{repay_channel}", "支付宝")
    (tmp_path / "unlinted.yaml").write_text(text, encoding="utf-8")
    unlinted = load_strategy(tmp_path / "unlinted.yaml")
    with pytest.raises(
        InvalidInput, match=r"template problem\(s\) under the cn rulebook: .*lint.required_content"
    ):
        run_nightly(root, date(2026, 3, 2), ibis.duckdb.connect(), engine="duckdb", strategy=unlinted)
    assert state_dates(root) == [date(2026, 2, 26)]  # nothing was run
