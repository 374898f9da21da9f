"""A portfolio's state partition and a day's outputs read and written by the engine itself (DuckDB, Spark).

The driver-side path (:mod:`~overdue.setbased.snapshots`) fetches every table as Arrow and writes it with
PyArrow, and reads it back the same way: the whole portfolio passes through the driver's memory. Here the
engine reads the Parquet (``read_parquet`` in DuckDB, ``spark.read.parquet`` in Spark) and writes it
(``COPY … TO`` in DuckDB, ``DataFrame.write.parquet`` in Spark) through
:meth:`~overdue.setbased.backend.Workspace.load_parquet` and
:meth:`~overdue.setbased.backend.Workspace.save_parquet`, and the conversion between the layout's types
(:mod:`~overdue.setbased.layout`) and the engine's (:mod:`~overdue.setbased.encode`) is SQL: a day number
becomes a date, a code its name, a month number ``YYYY-MM``, and back.

The files are the ones the driver-side path writes, column for column and type for type (``date32``,
``int64`` fen, strings, the plan fee rate's ``decimal128(12, 6)``), and in the same order of rows, so
either path reads what the other wrote. Where they differ is the file layout on Spark: a table is a
*folder* of part files where PyArrow (and DuckDB) write one file:

- a state table ``state/business_date=D/accounts.parquet`` is a file, or a folder of ``*.parquet`` part
  files of that name;
- an output partition ``postings/business_date=D/`` holds ``part-0.parquet``, or Spark's part files.

PyArrow (``pq.read_table``), DuckDB (``read_parquet('…/*.parquet')``) and Spark read both.

Only the tables a :class:`~overdue.setbased.day.Portfolio` holds go this way (accounts, statements,
unbilled cycles, installment plans and periods, bucket spells, relief arrangements; postings, bucket
spells and bureau months of the day). A state table this module does not know of is fetched and written
through PyArrow (:func:`state_tables_known`); the collection records, the limit review's tables, the
behaviour scores (each account's latest, the month end's recorded) and the manifest are written as they
always were.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.dataset as ds  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from overdue.domain.calendar import month_key
from overdue.domain.terms import ProductTerms
from overdue.setbased import layout
from overdue.setbased.backend import Workspace, table_name
from overdue.setbased.day import Portfolio
from overdue.setbased.encode import (
    ARRANGEMENT_KIND_NAMES,
    ARRANGEMENT_STATUSES,
    ENGINE,
    KINDS,
    LEDGER_ACCOUNTS,
    STATUSES,
    bucket_names,
)
from overdue.setbased.params import Unsupported

ARRANGEMENTS = ("arrangements", "arrangement_payments", "arrangement_set_asides")
"""The relief arrangements' tables: a partition written before they were kept has none (loaded empty)."""
KNOWN = ("accounts", "statements", "unbilled", "plans", "periods", "bucket_spells", *ARRANGEMENTS)
"""The state tables the engine reads and writes here (those of :class:`~overdue.setbased.day.Portfolio`)."""
ARRANGEMENT_CODES = {"kind": ARRANGEMENT_KIND_NAMES, "status": ARRANGEMENT_STATUSES}
"""The arrangements' own codes (their ``kind`` and ``status`` are not an account's)."""
ORDER = {
    "arrangements": ("account_key",),
    "arrangement_payments": ("account_key", "number"),
    "arrangement_set_asides": ("account_key", "position"),
}
"""The row order of the driver-side path where it sorts (accounts and statements apart)."""
SOURCES = {
    "accounts": layout.ACCOUNTS,
    "facts": layout.ACCOUNTS,
    "bureau": layout.ACCOUNTS,
    "statements": layout.STATEMENTS,
    "settled": layout.STATEMENTS,
    "unbilled": layout.UNBILLED,
    "plans": layout.PLANS,
    "periods": layout.PERIODS,
    "bucket_spells": layout.SPELLS,
    "arrangements": layout.ARRANGEMENTS,
    "arrangement_payments": layout.ARRANGEMENT_PAYMENTS,
    "arrangement_set_asides": layout.ARRANGEMENT_SET_ASIDES,
}
"""Each engine table → the layout table it is loaded from (``accounts`` is split into three, ``statements``
into the unpaid ones and the ``settled``)."""
UNPAID = (
    "(new_principal + carried_principal + installment_principal + interest + overdue_interest + fees) > 0"
)
"""A statement with something unpaid (the others are ``settled``), as :meth:`Portfolio.load` splits them."""
RAW = "parquet_"
"""Prefix of the tables read as they are in the files, before they are converted."""
EPOCH = "DATE '1970-01-01'"


def state_tables_known(names: tuple[str, ...]) -> bool:
    """Whether the engine can read every one of a state partition's tables (else the caller reads them
    through PyArrow)."""
    return set(names) <= set(KNOWN)


# -- SQL of one column, per dialect ------------------------------------------------------------------


def _quoted(name: str, dialect: str) -> str:
    return f"`{name}`" if dialect == "pyspark" else f'"{name}"'


def _sql_type(kind: pa.DataType, dialect: str) -> str:
    if pa.types.is_decimal(kind):
        return f"DECIMAL({kind.precision}, {kind.scale})"
    names = {
        pa.int64(): "BIGINT",
        pa.int32(): "INT" if dialect == "pyspark" else "INTEGER",
        pa.int16(): "SMALLINT",
        pa.string(): "STRING" if dialect == "pyspark" else "VARCHAR",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    return names[kind]


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _named(column: str, names: tuple[str, ...]) -> str:
    """The name of a code (its place in ``names``)."""
    cases = " ".join(f"WHEN {code} THEN {_string(name)}" for code, name in enumerate(names))
    return f"CASE {column} {cases} END"


def _coded(column: str, names: tuple[str, ...], kind: str) -> str:
    """The code of a name (null for a name not in ``names``: :func:`_refuse_unknown` checks first)."""
    cases = " ".join(f"WHEN {_string(name)} THEN {code}" for code, name in enumerate(names))
    return f"CAST(CASE {column} {cases} END AS {kind})"


def _decoded(
    field: pa.Field, dialect: str, last_bucket: int, codes: dict[str, tuple[str, ...]] | None = None
) -> str:
    """The SQL of a layout column from the engine's column of the same name (``codes``: a table's own
    codes of a column, by column name)."""
    column = _quoted(field.name, dialect)
    names = {
        "status": STATUSES,
        "bucket": bucket_names(last_bucket),
        "kind": KINDS,
        "ledger_account": LEDGER_ACCOUNTS,
        **(codes or {}),
    }
    if field.name in names and field.type == pa.string():
        value = _named(column, names[field.name])
    elif field.name in ("bureau_last_month", "month"):
        text, divide = ("STRING", "div") if dialect == "pyspark" else ("VARCHAR", "//")
        year = f"CAST({column} {divide} 12 AS {text})"
        month = f"lpad(CAST({column} % 12 + 1 AS {text}), 2, '0')"
        # null stays null (an empty grid): DuckDB's concat reads a null argument as ''
        value = f"CASE WHEN {column} IS NULL THEN NULL ELSE concat({year}, '-', {month}) END"
    elif field.type == pa.date32():
        value = f"date_add({EPOCH}, {column})" if dialect == "pyspark" else f"{EPOCH} + {column}"
    else:
        value = column
    return f"CAST({value} AS {_sql_type(field.type, dialect)}) AS {column}"


def _encoded(
    field: pa.Field,
    source: pa.Schema,
    dialect: str,
    last_bucket: int,
    codes: dict[str, tuple[str, ...]] | None = None,
) -> str:
    """The SQL of an engine column from the layout's column of the same name (``codes`` as
    :func:`_decoded` takes them)."""
    column = _quoted(field.name, dialect)
    kind = _sql_type(field.type, dialect)
    if codes and field.name in codes:
        value = _coded(column, codes[field.name], kind)
    elif field.name == "status":
        value = _coded(column, STATUSES, kind)
    elif field.name == "bucket":
        value = _coded(column, bucket_names(last_bucket), kind)
    elif field.name == "bureau_last_month":
        value = f"CAST(substr({column}, 1, 4) AS INT) * 12 + CAST(substr({column}, 6, 2) AS INT) - 1"
    elif source.field(field.name).type == pa.date32():
        if dialect == "pyspark":
            value = f"datediff({column}, {EPOCH})"
        else:
            value = f"date_diff('day', {EPOCH}, {column})"
    else:
        value = column
    return f"CAST({value} AS {kind}) AS {column}"


def layout_select(
    source: str,
    schema: pa.Schema,
    dialect: str,
    last_bucket: int,
    order: str = "",
    codes: dict[str, tuple[str, ...]] | None = None,
) -> str:
    """A query of ``source`` (a table or a parenthesised query over the engine's columns) giving the
    layout's ``schema``, in its column order and types."""
    columns = ", ".join(_decoded(field, dialect, last_bucket, codes) for field in schema)
    ordered = f" ORDER BY {order}" if order else ""
    return f"SELECT {columns} FROM {source} t{ordered}"


# -- reading a state partition -------------------------------------------------------------------------


def load_portfolio(
    partition: Path, terms: ProductTerms, carry_scale: int, portfolio: Portfolio, present: tuple[str, ...]
) -> Portfolio:
    """Load the state tables of ``partition`` (a state partition folder) into ``portfolio``'s engine
    through the engine's own Parquet reader, as :meth:`Portfolio.load` loads them from Arrow.

    present: the tables the partition holds (its manifest's); the arrangements' tables may be missing,
    and are then loaded empty."""
    db, dialect, last = portfolio.db, portfolio.db.dialect, terms.last_bucket
    for name in KNOWN:
        if name in present:
            db.load_parquet(RAW + name, str(partition / f"{name}.parquet"))
        else:
            db.load(RAW + name, SOURCES[name].empty_table())
    _refuse_unknown(db, last)
    # A partition written before the borrower's language was kept reads as zh-CN.
    language = _quoted("language", dialect)
    default_language = f"CAST({_string(layout.DEFAULT_LANGUAGE)} AS {_sql_type(pa.string(), dialect)})"
    if "language" in ds.dataset(str(partition / "accounts.parquet"), format="parquet").schema.names:
        default_language = f"COALESCE({language}, {default_language})"
    for name, engine in ENGINE.items():
        if name not in SOURCES:
            continue
        source = SOURCES[name]
        raw = "accounts" if source is layout.ACCOUNTS else "statements" if name == "settled" else name
        codes = ARRANGEMENT_CODES if name == "arrangements" else None
        columns = ", ".join(
            f"{default_language} AS {language}"
            if field.name == "language"
            else _encoded(field, source, dialect, last, codes)
            for field in engine
        )
        where = {"statements": f" WHERE {UNPAID}", "settled": f" WHERE NOT {UNPAID}"}.get(name, "")
        db.create(name, f"SELECT {columns} FROM {table_name(RAW + raw)}{where}")
    for name in KNOWN:
        db.drop(RAW + name)
    return portfolio


def _refuse_unknown(db: Workspace, last_bucket: int) -> None:
    """Refuse a status or bucket name the engine has no code for, as :func:`~overdue.setbased.encode.encode`
    does, before anything is converted."""
    for column, names in (("status", STATUSES), ("bucket", bucket_names(last_bucket))):
        quoted = _quoted(column, db.dialect)
        known = ", ".join(_string(name) for name in names)
        found = db.fetch(
            f"SELECT {quoted} AS value FROM {table_name(RAW + 'accounts')} "
            f"WHERE {quoted} IS NOT NULL AND {quoted} NOT IN ({known}) LIMIT 1",
            pa.schema([("value", pa.string())]),
        )
        if found.num_rows:
            raise Unsupported(f"{column} {found['value'][0].as_py()!r}: not one of {', '.join(names)}")


# -- writing -------------------------------------------------------------------------------------------


def state_queries(portfolio: Portfolio) -> dict[str, str]:
    """The query of each state table (:data:`KNOWN`) in the layout's types and the driver-side path's row
    order (accounts by key, statements by key and date)."""
    db, dialect, last = portfolio.db, portfolio.db.dialect, portfolio.terms.last_bucket
    key = _quoted("account_key", dialect)
    facts = ", ".join(f"f.{_quoted(c, dialect)}" for c in ENGINE["facts"].names[1:])
    bureau = ", ".join(f"b.{_quoted(c, dialect)}" for c in ENGINE["bureau"].names[1:])
    accounts = (
        f"(SELECT a.*, {facts}, {bureau} FROM {table_name('accounts')} a "
        f"JOIN {table_name('facts')} f ON a.account_key = f.account_key "
        f"JOIN {table_name('bureau')} b ON a.account_key = b.account_key)"
    )
    statement_columns = ", ".join(_quoted(c, dialect) for c in ENGINE["statements"].names)
    statements = (
        f"(SELECT {statement_columns} FROM {table_name('statements')} "
        f"UNION ALL SELECT {statement_columns} FROM {table_name('settled')})"
    )
    queries = {
        "accounts": layout_select(accounts, layout.ACCOUNTS, dialect, last, key),
        "statements": layout_select(
            statements, layout.STATEMENTS, dialect, last, f"{key}, {_quoted('statement_date', dialect)}"
        ),
    }
    for name in KNOWN[2:]:
        order = ", ".join(_quoted(c, dialect) for c in ORDER.get(name, ()))
        codes = ARRANGEMENT_CODES if name == "arrangements" else None
        queries[name] = layout_select(table_name(name), SOURCES[name], db.dialect, last, order, codes)
    return queries


def save_state_tables(portfolio: Portfolio, names: tuple[str, ...]) -> Callable[[Path], dict[str, int]]:
    """A writer of the state tables ``names`` into a partition folder, returning their row counts: those
    the engine knows (:data:`KNOWN`) written by the engine, any other fetched and written through PyArrow."""

    def write(folder: Path) -> dict[str, int]:
        queries = state_queries(portfolio)
        rows: dict[str, int] = {}
        fetched = None
        for name in names:
            if name in queries:
                # One file of that name, or (Spark) a folder of part files of that name.
                target = str(folder / f"{name}.parquet")
                rows[name] = portfolio.db.save_parquet(queries[name], target)
                continue
            fetched = fetched or portfolio.tables().conform()
            table: pa.Table = getattr(fetched, name)
            pq.write_table(table, folder / f"{name}.parquet")
            rows[name] = table.num_rows
        return rows

    return write


def output_queries(portfolio: Portfolio, on: date, month_end: bool) -> dict[str, str]:
    """The query of each of the day's outputs (postings, bucket spells, bureau months) in the layout's
    types, as :meth:`Portfolio.outputs` fetches them."""
    dialect, last = portfolio.db.dialect, portfolio.terms.last_bucket
    status = _quoted("bureau_status", dialect)
    if month_end:
        reported = (
            f"(SELECT account_key, {_string(month_key(on))} AS month, {status} AS status "
            f"FROM {table_name('bureau')} WHERE {status} IS NOT NULL)"
        )
    else:
        # No month end, no rows (the bureau table has no day's status then): the columns over no row.
        reported = "(SELECT * FROM (SELECT NULL AS account_key, NULL AS month, NULL AS status) u WHERE 1 = 0)"
    months = pa.schema([("account_key", pa.int64()), ("month", pa.string()), ("status", pa.string())])
    return {
        "postings": layout_select(table_name("day_postings"), layout.POSTINGS, dialect, last),
        "bucket_spells": layout_select(table_name("day_spells"), layout.SPELLS, dialect, last),
        "bureau_months": _plain_select(reported, months, dialect),
    }


def _plain_select(source: str, schema: pa.Schema, dialect: str) -> str:
    columns = ", ".join(
        f"CAST({_quoted(f.name, dialect)} AS {_sql_type(f.type, dialect)}) AS {_quoted(f.name, dialect)}"
        for f in schema
    )
    return f"SELECT {columns} FROM {source} t"


def save_output(db: Workspace, sql: str, folder: Path) -> int:
    """Write one output partition (``folder``) with the rows of ``sql``; returns how many."""
    return db.save_parquet(sql, str(folder) if db.writes_folder else str(folder / "part-0.parquet"))
