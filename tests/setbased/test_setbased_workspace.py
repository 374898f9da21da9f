"""The workspace's ``create`` with the joins kept in the order the query writes them
(:meth:`overdue.setbased.backend.Workspace.create`, ``joins_as_written``): the same rows on every backend;
on DuckDB the join-order optimiser is left out for that one statement and the connection's setting is put
back as it was, also when the statement fails."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend

from overdue.setbased.backend import DuckDBWorkspace, table_name, workspace

WIDE = pa.table(
    {
        "k": pa.array(range(200), pa.int64()),
        "v": pa.array([k * 7 % 13 for k in range(200)], pa.int64()),
    }
)
NARROW = pa.table({"k": pa.array(range(0, 400, 3), pa.int64()), "x": pa.array(range(0, 400, 3), pa.int32())})
SCHEMA = pa.schema([("k", pa.int64()), ("v", pa.int64()), ("x", pa.int32())])


def _joined() -> str:
    wide, narrow = table_name("wide"), table_name("narrow")
    return f"SELECT w.k, w.v, n.x FROM {wide} AS w LEFT JOIN {narrow} AS n ON w.k = n.k WHERE w.v > 2"


def test_joins_as_written_give_the_same_rows(backend: BaseBackend) -> None:
    db = workspace(backend)
    db.load("wide", WIDE)
    db.load("narrow", NARROW)
    db.create("planned", _joined())
    db.create("as_written", _joined(), joins_as_written=True)
    planned = db.fetch(f"SELECT * FROM {table_name('planned')}", SCHEMA).sort_by("k")
    written = db.fetch(f"SELECT * FROM {table_name('as_written')}", SCHEMA).sort_by("k")
    want = [{"k": k, "v": k * 7 % 13, "x": k if k % 3 == 0 else None} for k in range(200) if k * 7 % 13 > 2]
    assert written.to_pylist() == want
    assert planned.equals(written)


SETTING = pa.schema([("left_out", pa.string())])


def _setting(db: DuckDBWorkspace) -> str:
    row = db.con.execute("SELECT current_setting('disabled_optimizers')").fetchone()
    return str(row[0]) if row else ""


@pytest.mark.parametrize("before", ["", "filter_pullup"])
def test_duckdb_leaves_the_join_order_out_for_that_statement_only(before: str) -> None:
    db = workspace(ibis.duckdb.connect())
    assert isinstance(db, DuckDBWorkspace)
    db.con.execute(f"SET disabled_optimizers = '{before}'")
    query = "SELECT current_setting('disabled_optimizers') AS left_out"
    db.create("during", query, joins_as_written=True)
    during = db.fetch(f"SELECT * FROM {table_name('during')}", SETTING)["left_out"][0].as_py()
    assert set(during.replace(" ", "").split(",")) == {n for n in (before, "join_order") if n}
    assert _setting(db) == before
    db.create("planned", query)
    assert db.fetch(f"SELECT * FROM {table_name('planned')}", SETTING)["left_out"][0].as_py() == before


def test_duckdb_puts_the_setting_back_when_the_statement_fails() -> None:
    db = workspace(ibis.duckdb.connect())
    assert isinstance(db, DuckDBWorkspace)
    with pytest.raises(Exception, match="no_such_table"):
        db.create("broken", f"SELECT * FROM {table_name('no_such_table')}", joins_as_written=True)
    assert _setting(db) == ""


def test_postgres_runs_the_workspaces_statements_without_jit(postgres: BaseBackend) -> None:
    """PostgreSQL's JIT compiled the collection's decision for over a minute: every statement and fetch of
    the workspace runs with ``jit`` off, in a transaction of its own, and the connection's own setting is
    left as it was."""
    con = postgres.con
    with con.cursor() as cursor:
        cursor.execute("SET jit = on")
    db = workspace(postgres)
    setting = pa.schema([("jit", pa.string())])
    assert db.fetch("SELECT current_setting('jit') AS jit", setting)["jit"].to_pylist() == ["off"]
    db.create("jit_seen", "SELECT current_setting('jit') AS jit")
    assert db.fetch(f"SELECT jit FROM {table_name('jit_seen')}", setting)["jit"].to_pylist() == ["off"]
    db.drop("jit_seen")
    with con.cursor() as cursor:
        cursor.execute("SHOW jit")
        row = cursor.fetchone()
    assert row is not None and row[0] == "on"
