"""The nightly job with the engine reading and writing the Parquet itself (DuckDB, Spark) against the same
job through the driver with PyArrow: the same files, table by table, each path reading the other's."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.setbased.backend import CHECKPOINT_DIR, DuckDBWorkspace, PostgresWorkspace, SparkWorkspace
from overdue.setbased.nightly import export_store, run_nightly
from overdue.setbased.params import Unsupported
from overdue.setbased.snapshots import (
    MANIFEST,
    OUTPUTS,
    STATE_TABLES,
    read_outputs,
    read_state,
    state_dates,
    write_state,
)
from overdue.store.db import make_engine, upgrade
from overdue.strategy import default_strategy

OPENED = date(2026, 1, 6)
EXPORTED = date(2026, 2, 26)
THROUGH = date(2026, 3, 2)
"""Four days from the export: a month end (bureau months) and a statement day (billing)."""
DAYS = [EXPORTED + timedelta(days=n) for n in range(1, (THROUGH - EXPORTED).days + 1)]
DAY_OUTPUTS = ("postings", "bucket_spells", "bureau_months", "actions", "messages", "work", "limit_changes")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five accounts run by the reference through :data:`EXPORTED` (two of them past due), exported as
    the first snapshot of a state folder; each test copies it."""
    folder = tmp_path_factory.mktemp("exported")
    engine = make_engine(f"sqlite:///{folder}/overdue.db")
    try:
        upgrade(engine)
        for n, limit in enumerate((500_000, 300_000, 1_000_000, 800_000, 2_000_000)):
            accounts.open_account(engine, f"N{n}", OPENED, limit)
            accounts.purchase(engine, f"N{n}", 10_000 + 777 * n, on=OPENED)
        run_eod(engine, date(2026, 1, 20))
        accounts.purchase(engine, "N3", 90_000, on=date(2026, 1, 21))
        run_eod(engine, date(2026, 2, 8))
        accounts.repay(engine, "N1", 10_777, on=date(2026, 2, 9))
        run_eod(engine, EXPORTED)
        assert export_store(engine, folder / "state") == EXPORTED
    finally:
        engine.dispose()
    return folder / "state"


def _copy(exported: Path, to: Path) -> Path:
    shutil.copytree(exported, to)
    return to


def _run(root: Path, through: date, backend: Any, engine: str, native: bool) -> None:
    run_nightly(root, through, backend, engine=engine, strategy=default_strategy(), native_parquet=native)


def _table(path: Path) -> pa.Table:
    """A table as written, in its own types (a file, or a folder of part files)."""
    return pq.read_table(path, partitioning=None)


def _same_types(table: pa.Table, schema: pa.Schema) -> bool:
    """The same column names and Arrow types. Not the nullability flag: the engines mark a column that
    holds no null as required (DuckDB from its statistics, Spark from the query), PyArrow never does."""
    return [(f.name, f.type) for f in table.schema] == [(f.name, f.type) for f in schema]


def _same_rows(got: pa.Table, want: pa.Table, schema: pa.Schema) -> bool:
    return bool(got.cast(schema).equals(want.cast(schema)))


def _assert_same_folders(got: Path, want: Path, days: list[date]) -> None:
    """Every state partition and output of ``days``: the same tables, column types and rows, in order."""
    for on in days:
        partition = f"business_date={on.isoformat()}"
        got_manifest = json.loads((got / "state" / partition / MANIFEST).read_text())
        assert got_manifest == json.loads((want / "state" / partition / MANIFEST).read_text()), on
        for name, schema in STATE_TABLES.items():
            table = _table(got / "state" / partition / f"{name}.parquet")
            assert _same_types(table, schema), (name, on, table.schema)
            assert _same_rows(table, _table(want / "state" / partition / f"{name}.parquet"), schema), (
                name,
                on,
            )
        for name in DAY_OUTPUTS:
            table = _table(got / name / partition)
            assert _same_types(table, OUTPUTS[name]), (name, on, table.schema)
            assert _same_rows(table, _table(want / name / partition), OUTPUTS[name]), (name, on)
        assert read_state(got, on) == read_state(want, on), on


def test_duckdb_writes_the_folder_the_pyarrow_path_writes(exported: Path, tmp_path: Path) -> None:
    by_engine = _copy(exported, tmp_path / "engine")
    by_driver = _copy(exported, tmp_path / "driver")
    _run(by_engine, THROUGH, ibis.duckdb.connect(), "duckdb", native=True)
    _run(by_driver, THROUGH, ibis.duckdb.connect(), "duckdb", native=False)

    assert state_dates(by_engine) == [EXPORTED, *DAYS]
    _assert_same_folders(by_engine, by_driver, DAYS)
    assert sum(read_outputs(by_engine, "postings", on).num_rows for on in DAYS) > 0
    assert read_outputs(by_engine, "bureau_months", date(2026, 2, 28)).num_rows > 0
    assert sum(read_outputs(by_engine, "actions", on).num_rows for on in DAYS) > 0
    # The files DuckDB writes are the driver's layout: one file per table, one part per output.
    assert (by_engine / "state" / f"business_date={THROUGH}" / "accounts.parquet").is_file()
    assert (by_engine / "postings" / f"business_date={THROUGH}" / "part-0.parquet").is_file()


def test_each_path_resumes_from_the_folder_the_other_wrote(exported: Path, tmp_path: Path) -> None:
    middle = date(2026, 2, 28)
    by_driver = _copy(exported, tmp_path / "driver")
    _run(by_driver, THROUGH, ibis.duckdb.connect(), "duckdb", native=False)
    for first, then in ((True, False), (False, True)):
        mixed = _copy(exported, tmp_path / f"mixed-{first}")
        _run(mixed, middle, ibis.duckdb.connect(), "duckdb", native=first)
        _run(mixed, THROUGH, ibis.duckdb.connect(), "duckdb", native=then)
        _assert_same_folders(mixed, by_driver, DAYS)


def test_the_engine_refuses_a_status_it_has_no_code_for(exported: Path, tmp_path: Path) -> None:
    root = _copy(exported, tmp_path / "bad")
    snapshot = read_state(root, EXPORTED)
    accounts_table = snapshot.tables.accounts
    status = pa.array(["dormant"] * accounts_table.num_rows, pa.string())
    bad = accounts_table.set_column(accounts_table.schema.get_field_index("status"), "status", status)
    tables = type(snapshot.tables)(**{**snapshot.tables.__dict__, "accounts": bad})
    write_state(root, EXPORTED, tables, snapshot.terms, snapshot.collection, snapshot.limits)
    for native in (True, False):
        with pytest.raises(Unsupported, match="'dormant': not one of active"):
            _run(root, THROUGH, ibis.duckdb.connect(), "duckdb", native=native)
    assert state_dates(root) == [EXPORTED], "nothing written"


def test_which_workspaces_read_and_write_parquet_themselves() -> None:
    assert DuckDBWorkspace.native_parquet and not DuckDBWorkspace.writes_folder
    assert SparkWorkspace.native_parquet and SparkWorkspace.writes_folder
    assert not PostgresWorkspace.native_parquet


def test_checkpoint_dir_goes_with_spark(exported: Path, tmp_path: Path) -> None:
    root = str(_copy(exported, tmp_path / "st"))
    result = CliRunner().invoke(
        app,
        [
            "eod",
            "--engine",
            "duckdb",
            "--state",
            root,
            "--date",
            THROUGH.isoformat(),
            "--checkpoint-dir",
            "x",
        ],
    )
    assert result.exit_code == 2
    assert "--checkpoint-dir goes with --engine spark" in result.output


@pytest.fixture
def spark_copy(spark_session: Any) -> Iterator[Any]:
    """A session of its own over the test run's Spark context (its settings apart from the shared one's)."""
    session = spark_session.newSession()
    yield session
    for view in session.catalog.listTables():
        if view.isTemporary:
            session.catalog.dropTempView(view.name)


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.slow
def test_spark_writes_folders_the_other_paths_read(exported: Path, tmp_path: Path, spark_copy: Any) -> None:
    """On Spark with a checkpoint directory (local checkpoints, the default, are what the ``spark-submit``
    test of the nightly job runs: it compares Spark's folder with DuckDB's)."""
    checkpoints = tmp_path / "checkpoints"
    spark_copy.conf.set(CHECKPOINT_DIR, str(checkpoints))
    by_spark = _copy(exported, tmp_path / "spark")
    by_driver = _copy(exported, tmp_path / "driver")
    _run(by_spark, THROUGH, ibis.pyspark.connect(spark_copy), "spark", native=True)
    _run(by_driver, THROUGH, ibis.duckdb.connect(), "duckdb", native=False)

    _assert_same_folders(by_spark, by_driver, DAYS)
    # Spark's layout: each state table a folder of part files, each output partition Spark's part files;
    # DuckDB reads them as the docs say.
    partition = f"business_date={THROUGH.isoformat()}"
    accounts_folder = by_spark / "state" / partition / "accounts.parquet"
    assert accounts_folder.is_dir() and list(accounts_folder.glob("part-*.parquet"))
    assert not (by_spark / "postings" / partition / "part-0.parquet").exists()
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT count(*) FROM read_parquet('{by_spark}/postings/*/*.parquet', hive_partitioning = true)"
        ).fetchall()
    assert rows[0][0] == sum(read_outputs(by_driver, "postings", on).num_rows for on in DAYS)
    # What is still checkpointed belongs to a table still held: a table's files go with the table.
    kept = [p for p in checkpoints.rglob("rdd-*") if p.is_dir()]
    held = [t for t in spark_copy.catalog.listTables() if t.isTemporary and t.name.startswith("overdue_")]
    assert 0 < len(kept) <= len(held)

    # Each path goes on from Spark's folder, DuckDB reading Spark's part files itself or through PyArrow.
    next_day = THROUGH + timedelta(days=1)
    _run(by_driver, next_day, ibis.duckdb.connect(), "duckdb", native=False)
    for native in (True, False):
        on_from_spark = _copy(by_spark, tmp_path / f"from-spark-{native}")
        _run(on_from_spark, next_day, ibis.duckdb.connect(), "duckdb", native=native)
        assert read_state(on_from_spark, next_day) == read_state(by_driver, next_day)
