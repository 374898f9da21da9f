"""Where the tables live while days run: a few table operations, one small class per backend.

The day's queries are SQL compiled by Ibis for the backend's dialect (:mod:`~overdue.setbased.plan`). What
differs between backends is how a table gets in, how a query's result becomes a table, and how a table
comes back out; :class:`Workspace` is that seam:

- **DuckDB** (in-process): tables are temporary tables; Arrow goes in and out without a copy per row
  (``register`` / ``to_arrow_table``);
- **PostgreSQL**: temporary tables of the connection's session (not WAL-logged), loaded with ``COPY``,
  ``ANALYZE``\\ d after each step so the planner knows their size;
- **Spark**: temporary views over rows checkpointed locally after each step, so that a day reads the
  materialised result of the one before rather than re-running its lineage (which would grow with every
  day), and whose size estimate does not grow either (:class:`SparkWorkspace` says why that matters);
  Arrow in and out through PySpark's own Arrow support. On a cluster the rows are checkpointed reliably
  instead (to the checkpoint directory of :data:`CHECKPOINT_DIR`), so that a lost executor does not lose
  them.

DuckDB and Spark also read and write Parquet themselves (:meth:`Workspace.load_parquet`,
:meth:`Workspace.save_parquet`): a table need not pass through the driver on its way to or from a file.
PostgreSQL has no Parquet reader or writer of its own; there the tables come and go as Arrow.

Every name the workspace manages starts with :data:`PREFIX`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
from ibis.backends import BaseBackend  # type: ignore[import-untyped]

from overdue.setbased import timing
from overdue.setbased.params import Unsupported

PREFIX = "overdue_eod_"
DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "pyspark": "pyspark"}
"""Ibis backend name → the dialect the queries are compiled for."""
CHECKPOINT_DIR = "spark.overdue.checkpointDir"
"""The Spark setting naming a directory for reliable checkpoints (``--conf`` of ``spark-submit``, or set by
:func:`overdue.setbased.nightly.connect`); unset, the rows are checkpointed locally."""
ANSI_MODE = "spark.sql.ansi.enabled"
"""The Spark setting a :class:`SparkWorkspace` turns on: an overflow, a bad cast or a division by zero is an
error, not a wrap or a null."""


def table_name(name: str) -> str:
    return PREFIX + name


TIMED = ("load", "create", "append", "rename", "drop", "fetch", "load_parquet", "save_parquet")
"""The operations timed under an open :func:`overdue.setbased.timing.recording` (every backend's)."""
_READ_TABLE = re.compile(r"\bFROM\s+[\"`]?" + PREFIX + r"(\w+)", re.IGNORECASE)


def _label(operation: str, args: tuple[Any, ...]) -> str:
    """A timed operation's label: the operation and the table it makes or changes, or, for those that
    run a query (``fetch``, ``save_parquet``), the first workspace table the query reads (``query`` where
    it reads none)."""
    if operation in ("fetch", "save_parquet"):
        found = _READ_TABLE.search(str(args[0]))
        return f"{operation} {found.group(1) if found else 'query'}"
    return f"{operation} {args[0]}"


def _timed_operation(operation: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def run(self: Workspace, *args: Any, **kwargs: Any) -> Any:
        if not timing.active():  # no label made (a fetch's is searched for in its SQL)
            return method(self, *args, **kwargs)
        with timing.timed(_label(operation, args)):
            return method(self, *args, **kwargs)

    return run


class Workspace:
    """Tables of one portfolio inside one backend connection (one run at a time per connection).

    Each backend's :data:`TIMED` operations are timed while a recording is open
    (:mod:`overdue.setbased.timing`)."""

    dialect: str
    native_parquet = False
    """Whether the engine reads and writes Parquet itself (:meth:`load_parquet`, :meth:`save_parquet`)."""
    writes_folder = False
    """Whether :meth:`save_parquet` writes a folder of part files (Spark) rather than one file (DuckDB)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for operation in TIMED:
            if operation in cls.__dict__:
                setattr(cls, operation, _timed_operation(operation, cls.__dict__[operation]))

    def load(self, name: str, table: pa.Table) -> None:
        """Create (or replace) table ``name`` holding ``table``."""
        raise NotImplementedError

    def create(self, name: str, sql: str, joins_as_written: bool = False) -> None:
        """Create (or replace) table ``name`` holding the result of ``sql``.

        joins_as_written: join in the order the query writes (each join's left side the rows so far),
        where the engine would otherwise reorder the joins from its estimates of their sizes — for a
        query whose estimates are far off (DuckDB: its join-order optimiser is left out for the query;
        PostgreSQL and Spark, without a measured need, plan as usual)."""
        raise NotImplementedError

    def append(self, name: str, sql: str) -> None:
        """Add the rows of ``sql`` to table ``name``."""
        raise NotImplementedError

    def rename(self, old: str, new: str) -> None:
        """Table ``old`` becomes ``new`` (replacing it)."""
        raise NotImplementedError

    def drop(self, name: str) -> None:
        raise NotImplementedError

    def fetch(self, sql: str, schema: pa.Schema) -> pa.Table:
        """The rows of ``sql`` as Arrow, cast to ``schema``."""
        raise NotImplementedError

    def load_parquet(self, name: str, path: str) -> None:
        """Create (or replace) table ``name`` holding the rows of the Parquet at ``path``: one file, or a
        folder of ``*.parquet`` part files (as :meth:`save_parquet` writes on Spark)."""
        raise Unsupported(f"Parquet read by the {self.dialect} engine itself: load the tables as Arrow")

    def save_parquet(self, sql: str, path: str) -> int:
        """Write the rows of ``sql`` as Parquet at ``path`` (one file, or a folder of part files when
        :attr:`writes_folder`), in the types the query gives them; returns how many rows were written."""
        raise Unsupported(f"Parquet written by the {self.dialect} engine itself: fetch the tables as Arrow")


def workspace(backend: BaseBackend) -> Workspace:
    """The workspace for an Ibis backend connection: DuckDB, PostgreSQL or PySpark."""
    if backend.name == "duckdb":
        return DuckDBWorkspace(backend.con)
    if backend.name == "postgres":
        return PostgresWorkspace(backend.con)
    if backend.name == "pyspark":
        session = backend._session
        return SparkWorkspace(session, session.conf.get(CHECKPOINT_DIR, None) or None)
    raise Unsupported(f"the {backend.name} backend: the set-based day runs on DuckDB, PostgreSQL or PySpark")


def parquet_files(path: str) -> str:
    """What a reader takes for the Parquet at ``path``: the file itself, or the part files of a folder."""
    return f"{path.rstrip('/')}/*.parquet" if os.path.isdir(path) else path


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBWorkspace(Workspace):
    dialect = "duckdb"
    native_parquet = True

    def __init__(self, con: Any) -> None:
        self.con = con

    def load(self, name: str, table: pa.Table) -> None:
        view = table_name(name) + "_arrow"
        self.con.register(view, table)
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table_name(name)} AS SELECT * FROM {view}")
        finally:
            self.con.unregister(view)

    def create(self, name: str, sql: str, joins_as_written: bool = False) -> None:
        statement = f"CREATE OR REPLACE TEMP TABLE {table_name(name)} AS {sql}"
        if not joins_as_written:
            self.con.execute(statement)
            return
        row = self.con.execute("SELECT current_setting('disabled_optimizers')").fetchone()
        before = row[0] if row else ""
        left_out = ", ".join(n for n in (before, "join_order") if n)
        self.con.execute(f"SET disabled_optimizers = {_literal(left_out)}")
        try:
            self.con.execute(statement)
        finally:
            self.con.execute(f"SET disabled_optimizers = {_literal(before)}")

    def append(self, name: str, sql: str) -> None:
        self.con.execute(f"INSERT INTO {table_name(name)} {sql}")

    def rename(self, old: str, new: str) -> None:
        self.drop(new)
        self.con.execute(f"ALTER TABLE {table_name(old)} RENAME TO {table_name(new)}")

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {table_name(name)}")

    def fetch(self, sql: str, schema: pa.Schema) -> pa.Table:
        # DuckDB sums int64 into int128: the cast brings the expression's types back.
        result: pa.Table = self.con.sql(sql).to_arrow_table()
        return result.select(schema.names).cast(schema)

    def load_parquet(self, name: str, path: str) -> None:
        source = _literal(parquet_files(path))
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table_name(name)} AS SELECT * FROM read_parquet({source})"
        )

    def save_parquet(self, sql: str, path: str) -> int:
        row = self.con.execute(f"COPY ({sql}) TO {_literal(path)} (FORMAT parquet)").fetchone()
        return int(row[0]) if row else 0


POSTGRES_TYPES = {
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.int16(): "SMALLINT",
    pa.string(): "TEXT",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.float64(): "DOUBLE PRECISION",
}


def _postgres_type(kind: pa.DataType) -> str:
    if pa.types.is_decimal(kind):
        return f"NUMERIC({kind.precision}, {kind.scale})"
    return POSTGRES_TYPES[kind]


NO_JIT = "SET LOCAL jit = off"
"""Run first in each of the PostgreSQL workspace's transactions (each statement or fetch runs in one, also
on an autocommit connection; ``SET LOCAL``: the connection's own setting is left as it was). PostgreSQL
compiles a query's expressions with LLVM once its estimated cost passes ``jit_above_cost``; the
collection's decision, with a strategy's conditions as ``CASE`` expressions, took 83 s to compile against
0.4 s to run at 100,000 accounts (docs/PERFORMANCE.md, "PostgreSQL without JIT")."""


class PostgresWorkspace(Workspace):
    dialect = "postgres"

    def __init__(self, con: Any) -> None:
        self.con = con

    def _run(self, *statements: str) -> None:
        with self.con.transaction(), self.con.cursor() as cursor:
            cursor.execute(NO_JIT)
            for statement in statements:
                cursor.execute(statement, prepare=False)
        self.con.commit()

    def load(self, name: str, table: pa.Table) -> None:
        target = table_name(name)
        columns = ", ".join(f'"{f.name}" {_postgres_type(f.type)}' for f in table.schema)
        with self.con.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {target}")
            cursor.execute(f"CREATE TEMP TABLE {target} ({columns})")
            names = ", ".join(f'"{n}"' for n in table.schema.names)
            with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
                for batch in table.to_batches(max_chunksize=65_536):
                    for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                        copy.write_row(row)
            cursor.execute(f"ANALYZE {target}")
        self.con.commit()

    def create(self, name: str, sql: str, joins_as_written: bool = False) -> None:
        target = table_name(name)
        self._run(
            f"DROP TABLE IF EXISTS {target}", f"CREATE TEMP TABLE {target} AS {sql}", f"ANALYZE {target}"
        )

    def append(self, name: str, sql: str) -> None:
        self._run(f"INSERT INTO {table_name(name)} {sql}")

    def rename(self, old: str, new: str) -> None:
        self._run(
            f"DROP TABLE IF EXISTS {table_name(new)}",
            f"ALTER TABLE {table_name(old)} RENAME TO {table_name(new)}",
        )

    def drop(self, name: str) -> None:
        self._run(f"DROP TABLE IF EXISTS {table_name(name)}")

    def fetch(self, sql: str, schema: pa.Schema) -> pa.Table:
        with self.con.transaction(), self.con.cursor() as cursor:
            cursor.execute(NO_JIT)
            # Never prepared: psycopg prepares a query run five times on a connection, and the tables here are
            # dropped and made again under the same names, with column types that may differ from one day's
            # query to the next (``cached plan must not change result type``).
            cursor.execute(sql, prepare=False)
            names = [d.name for d in cursor.description]
            rows = cursor.fetchall()
        self.con.commit()
        columns = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {}
        return pa.table(
            {f.name: pa.array(list(columns.get(f.name, ())), f.type) for f in schema}, schema=schema
        )


class SparkWorkspace(Workspace):
    """Tables as temporary views over checkpointed rows (locally, or reliably to ``checkpoint_dir``).

    Why not ``DataFrame.localCheckpoint``: since Spark 3.4 a checkpointed DataFrame keeps the planner's
    size estimate of the query that made it, and Spark estimates a join (without cost-based statistics) as
    the *product* of its sides' estimates. A table made today from a join of yesterday's tables inherits
    the product of their estimates, so the number of digits of the estimates multiplied day after day (the
    collection's decision about fourfold a day); within two weeks of collection in a row, planning a
    query multiplied integers of millions of digits and exhausted the driver's heap. The plans themselves
    did not grow. So a step's rows are checkpointed here (``RDD.localCheckpoint``, materialised by a
    count) and the view is a DataFrame built over those rows: Spark knows nothing of how they were made,
    gives them its default estimate (``spark.sql.defaultSizeInBytes``) whatever the day, and adaptive
    execution picks the joins from the real sizes at run time. The checkpointed rows of a table are
    released (``unpersist``) as soon as the table is dropped or replaced, so what the executors hold is
    the tables of one day, not of every day run.

    Local checkpoints live in the executors' storage: an executor lost on a cluster loses them, and the
    run with it. With ``checkpoint_dir`` (a directory every executor reaches: HDFS, an object store) the
    rows are checkpointed reliably there instead (``RDD.checkpoint``, kept in memory meanwhile so that
    writing them does not compute them twice), and a table's files are deleted when it is dropped or
    replaced.
    """

    dialect = "pyspark"
    native_parquet = True
    writes_folder = True

    def __init__(self, session: Any, checkpoint_dir: str | None = None) -> None:
        self.session = session
        # The rules need SQL's errors, not Spark's legacy nulls and wraps: a sum past ``int64`` must stop
        # the day as on DuckDB and PostgreSQL, not wrap to a negative amount. ANSI mode is Spark 4's
        # default, but a cluster's configuration may turn it off.
        session.conf.set(ANSI_MODE, "true")
        self.checkpoint_dir = checkpoint_dir
        """Where rows are checkpointed reliably (None: locally)."""
        if checkpoint_dir is not None:
            session.sparkContext.setCheckpointDir(checkpoint_dir)
        self.frames: dict[str, Any] = {}
        self.rows: dict[str, Any] = {}
        """The checkpointed rows (a JVM ``JavaRDD[Row]``) under each table."""

    def _keep(self, name: str, frame: Any) -> None:
        from pyspark.sql import DataFrame  # only with a Spark session: its JVM is started then

        # Materialise now and cut the lineage: tomorrow reads today's rows, not today's plan (nor its
        # size estimate).
        rows = frame._jdf.javaRDD()
        if self.checkpoint_dir is None:
            rows.rdd().localCheckpoint()
        else:
            rows.rdd().persist(self.session._jvm.org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK())
            rows.rdd().checkpoint()
        rows.count()
        kept = DataFrame(self.session._jsparkSession.createDataFrame(rows, frame._jdf.schema()), self.session)
        self._release(name)
        kept.createOrReplaceTempView(table_name(name))
        self.frames[name] = kept
        self.rows[name] = rows

    def _release(self, name: str) -> None:
        rows = self.rows.pop(name, None)
        if rows is None:
            return
        if self.checkpoint_dir is not None:
            self._delete_checkpoint(rows)
            return
        # Spark warns at every unpersist of locally checkpointed rows that they cannot be recomputed; these
        # go because their table is gone, so the warning is silenced for this one call.
        jvm = self.session._jvm
        logger = rows.rdd().getClass().getName()
        previous = jvm.org.apache.logging.log4j.LogManager.getLogger(logger).getLevel()
        configurator = jvm.org.apache.logging.log4j.core.config.Configurator
        configurator.setLevel(logger, jvm.org.apache.logging.log4j.Level.ERROR)
        try:
            rows.unpersist(False)
        finally:
            configurator.setLevel(logger, previous)

    def _delete_checkpoint(self, rows: Any) -> None:
        rows.unpersist(False)
        written = rows.rdd().getCheckpointFile()
        if written.isDefined():
            jvm = self.session._jvm
            path = jvm.org.apache.hadoop.fs.Path(written.get())
            path.getFileSystem(self.session._jsc.hadoopConfiguration()).delete(path, True)

    def load(self, name: str, table: pa.Table) -> None:
        self._keep(name, self.session.createDataFrame(table))

    def create(self, name: str, sql: str, joins_as_written: bool = False) -> None:
        self._keep(name, self.session.sql(sql))

    def append(self, name: str, sql: str) -> None:
        self._keep(name, self.frames[name].unionByName(self.session.sql(sql)))

    def rename(self, old: str, new: str) -> None:
        frame = self.frames.pop(old)
        rows = self.rows.pop(old)
        self.session.catalog.dropTempView(table_name(old))
        self._release(new)
        frame.createOrReplaceTempView(table_name(new))
        self.frames[new] = frame
        self.rows[new] = rows

    def drop(self, name: str) -> None:
        if self.frames.pop(name, None) is not None:
            self.session.catalog.dropTempView(table_name(name))
        self._release(name)

    def fetch(self, sql: str, schema: pa.Schema) -> pa.Table:
        result: pa.Table = self.session.sql(sql).toArrow()
        return result.select(schema.names).cast(schema)

    def load_parquet(self, name: str, path: str) -> None:
        self._keep(name, self.session.read.parquet(path))

    def save_parquet(self, sql: str, path: str) -> int:
        # Spark writes a folder of part files (and a ``_SUCCESS`` marker, which Parquet readers skip); the
        # count reads the files' footers, not their rows.
        self.session.sql(sql).write.mode("overwrite").parquet(path)
        written: int = self.session.read.parquet(path).count()
        return written
