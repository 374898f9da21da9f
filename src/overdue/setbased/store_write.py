"""A set-based end-of-day written back into the operational store, in bulk, one transaction per date.

:func:`write_day` writes into the store what the reference end-of-day writes for a date
(:func:`overdue.engine.reference.run_date` without the limit review, which
:func:`overdue.setbased.limits_io.write_review` writes, and collections): the accounts' changed
fields (``version`` checked and bumped, so a concurrent change makes the date fail rather than be
overwritten), the statements, unbilled cycles and installment periods that changed, the day's bucket spells
and bureau months, its ledger transactions and postings, each account's day row (``account_days``), the
date closed in ``eod_runs`` and its ``run end_of_day DATE`` audit row.

What changed is found by comparing the state tables before and after the day (a set difference of whole
rows, in DuckDB over the Arrow tables). Rows go in in bulk: on PostgreSQL ``COPY … FROM STDIN`` (psycopg 3)
into a temporary table, then one ``INSERT … ON CONFLICT`` or ``UPDATE … FROM`` per table; on SQLite one
``executemany`` per table. Ledger transaction ids are taken up front (the sequence on PostgreSQL, the
next ids on SQLite, under the write lock) so that postings can name them without a round trip each.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
from sqlalchemy import Connection, Table, bindparam, func, select, text, update
from sqlalchemy.dialects import sqlite

from overdue.domain import collections
from overdue.domain.errors import Conflict, LedgerError
from overdue.domain.relief_state import ACTIVE, BROKEN, PLAN
from overdue.setbased.convert import KIND_ORDER
from overdue.setbased.layout import PortfolioTables
from overdue.store import audit_trail, collections_repository, compliance_repository, repository
from overdue.store.account_tables import (
    account_days,
    accounts,
    bucket_history,
    bureau_months,
    eod_runs,
    installment_periods,
    installment_plans,
    unbilled_cycles,
)
from overdue.store.account_tables import statements as statements_table
from overdue.store.collection_tables import collection_actions
from overdue.store.relief_tables import relief_arrangements
from overdue.store.schema import ledger_postings, ledger_transactions

ACCOUNT_FIELDS = ("status", "last_eod", "days_past_due", "bucket", "written_off_on", "negative_notice_on")
"""The account fields an end-of-day changes (the limit, time zone and terms it never touches)."""


@dataclass(frozen=True)
class DayOutputs:
    """One set-based day as the write-back needs it: the state before and after, and what the day made."""

    on: date
    before: PortfolioTables
    after: PortfolioTables
    postings: pa.Table
    spells: pa.Table
    bureau_months: pa.Table
    accounts_run: int
    grace_days: int
    limit_changes: dict[str, int] = field(default_factory=dict)
    """Limit changes the review recorded on the date, by action (for the audit row)."""
    actions: dict[str, int] = field(default_factory=dict)
    """Collection actions recorded on the date by type, refused ones under ``refused`` (for the audit row)."""
    collected: bool = False
    """Whether the date's collection records are written by the collection write-back
    (:mod:`~overdue.setbased.store_collect`), a broken plan's escalation among them: it is not applied again
    here."""


@dataclass(frozen=True)
class Written:
    """What one date wrote: accounts updated and ledger transactions posted."""

    accounts: int
    transactions: int


@functools.cache
def _scratch_database(process: int) -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def scratch() -> duckdb.DuckDBPyConnection:
    """A new connection (DuckDB's ``cursor``: its own temporary tables and views) to one in-memory database
    kept for the write back's computations over Arrow tables; close it after use. Opening a database costs
    about 14 ms, a cursor on an open one microseconds, and a date's write back makes a dozen. One database
    per process: a forked child does not use its parent's."""
    return _scratch_database(os.getpid()).cursor()


def new_rows(after: pa.Table, before: pa.Table) -> pa.Table:
    """The rows of ``after`` that are not in ``before`` (whole rows compared; nulls equal)."""
    con = scratch()
    try:
        found: pa.Table = con.from_arrow(after).except_(con.from_arrow(before)).to_arrow_table()
    finally:
        con.close()
    return found


def write_day(conn: Connection, day: DayOutputs, versions: list[int], engine: str) -> Written:
    """Write ``day`` into the store in the caller's transaction; ``versions`` (by ``account_key``) are the
    accounts' versions as read, bumped in place for the accounts written.

    engine: the set-based engine that ran the day, named in the audit row.
    """
    # By account_key (dense from 0): each row's id is taken at its key.
    id_array = day.after.accounts.sort_by("account_key")["account_id"].combine_chunks()
    ids: list[str] = id_array.to_pylist()
    changed = _write_accounts(conn, day, id_array, versions)
    _write_statements(conn, day, id_array)
    _write_arrangements(conn, day, ids)
    _write_unbilled(conn, day, id_array)
    _write_periods(conn, day, ids)
    spells = day.spells
    upsert_rows(
        conn,
        bucket_history,
        pa.table(
            {
                "account_id": id_array.take(spells["account_key"]),
                "bucket": spells["bucket"],
                "entered": spells["entered"],
                "left_on": spells["left"],
            }
        ),
        ["account_id", "entered", "bucket"],
    )
    months = day.bureau_months
    upsert_rows(
        conn,
        bureau_months,
        pa.table(
            {
                "account_id": id_array.take(months["account_key"]),
                "month": months["month"],
                "status": months["status"],
            }
        ),
        ["account_id", "month"],
    )
    transactions = _post(conn, day, id_array)
    upsert_rows(conn, account_days, _day_rows(day, id_array), ["account_id", "business_date"])
    total = conn.execute(
        select(func.count()).select_from(accounts).where(accounts.c.opened_on <= day.on)
    ).scalar_one()
    repository.upsert(
        conn, eod_runs, [{"business_date": day.on, "accounts": total, "finished": True}], ["business_date"]
    )
    detail = {
        "accounts_run": day.accounts_run,
        "transactions": transactions,
        "actions": dict(sorted(day.actions.items())),
        "limit_changes": dict(sorted(day.limit_changes.items())),
        "engine": engine,
    }
    audit_trail.changed(conn, "run", "end_of_day", day.on.isoformat(), detail)
    return Written(changed, transactions)


# --- the tables ---------------------------------------------------------------------------------------


def _write_accounts(conn: Connection, day: DayOutputs, ids: pa.Array, versions: list[int]) -> int:
    columns = ["account_key", *ACCOUNT_FIELDS]
    changed = new_rows(day.after.accounts.select(columns), day.before.accounts.select(columns))
    if changed.num_rows == 0:
        return 0
    keys = changed["account_key"]
    rows = pa.table(
        {
            "id": ids.take(keys),
            "version": pa.array(versions, pa.int64()).take(keys),
            **{f: changed[f] for f in ACCOUNT_FIELDS},
        }
    )
    if conn.dialect.name == "postgresql":
        stage_rows(conn, accounts, rows)
        sets = ", ".join(f"{f} = s.{f}" for f in ACCOUNT_FIELDS)
        count = conn.execute(
            text(
                f"UPDATE accounts a SET {sets}, version = a.version + 1 FROM {stage_name(accounts)} s "
                "WHERE a.id = s.id AND a.version = s.version"
            )
        ).rowcount
    else:
        statement = (
            update(accounts)
            .where(accounts.c.id == bindparam("b_id"), accounts.c.version == bindparam("b_version"))
            .values(**{f: bindparam(f"b_{f}") for f in ACCOUNT_FIELDS}, version=accounts.c.version + 1)
        )
        count = conn.execute(
            statement, [{f"b_{k}": v for k, v in r.items()} for r in rows.to_pylist()]
        ).rowcount
    if count != rows.num_rows:
        raise Conflict(
            f"{rows.num_rows - count} account(s) changed in the store while the end-of-day of "
            f"{day.on.isoformat()} ran; nothing of that date was written: run it again"
        )
    for key in keys.to_pylist():
        versions[key] += 1
    return int(rows.num_rows)


def _carries(units: pa.ChunkedArray, scale: int) -> pa.ChunkedArray:
    """Carry units (``int64``, ``10 ** -scale`` fen each) as exact decimals in fen: each unit multiplied by
    the decimal ``10 ** -scale`` (a product's scale is the sum of its factors', so nothing is rounded)."""
    step = pa.scalar(Decimal(1).scaleb(-scale), pa.decimal128(scale + 1, scale))
    return pc.multiply(pc.cast(units, pa.decimal128(19, 0)), step)


def _write_statements(conn: Connection, day: DayOutputs, ids: pa.Array) -> None:
    names = {
        "amount": "amount_fen",
        "minimum": "minimum_fen",
        "new_principal": "new_principal_fen",
        "carried_principal": "carried_principal_fen",
        "installment_principal": "installment_principal_fen",
        "interest": "interest_fen",
        "overdue_interest": "overdue_interest_fen",
        "fees": "fees_fen",
        "paid": "paid_fen",
        "late_charges": "late_charges_fen",
    }
    changed = new_rows(day.after.statements, day.before.statements)
    if changed.num_rows == 0:
        return
    account_ids = ids.take(changed["account_key"])
    rows = pa.table(
        {
            # statement_id(account_id, statement_date): the date cast to text is its ISO form
            "id": pc.binary_join_element_wise(
                account_ids, pc.cast(changed["statement_date"], pa.string()), "/"
            ),
            "account_id": account_ids,
            "statement_date": changed["statement_date"],
            "due_date": changed["due_date"],
            **{column: changed[name] for name, column in names.items()},
            "interest_carry": _carries(changed["interest_carry"], day.after.carry_scale),
            "installed": changed["installed"],
            "closed_on": changed["closed_on"],
            "original_due_date": changed["original_due_date"],
        }
    )
    upsert_rows(conn, statements_table, rows, ["id"])


def _write_arrangements(conn: Connection, day: DayOutputs, ids: Sequence[str]) -> None:
    """The relief arrangements the day ended (completed, broken, lapsed): their status and end date, the end
    of the account's ``plan`` hold, and a broken plan's escalation, as
    :func:`overdue.store.relief_repository.save_arrangement` writes them (a few a day, one by one). With
    collections (``day.collected``) the escalation is in the records the collection write-back writes, as the
    reference's collections leave them after deciding on the escalated records."""
    changed = new_rows(day.after.arrangements, day.before.arrangements).to_pylist()
    if not changed:
        return
    zones = dict(
        zip(
            day.after.accounts["account_key"].to_pylist(),
            day.after.accounts["timezone"].to_pylist(),
            strict=True,
        )
    )
    for r in sorted(changed, key=lambda row: row["account_key"]):
        account_id = ids[r["account_key"]]
        conn.execute(
            update(relief_arrangements)
            .where(relief_arrangements.c.id == r["arrangement_id"])
            .values(status=r["status"], ended_on=r["ended_on"])
        )
        if r["status"] == ACTIVE or r["ended_on"] is None:
            continue
        ended = datetime.combine(r["ended_on"], time.min, tzinfo=ZoneInfo(zones[r["account_key"]]))
        compliance_repository.end_hold(conn, account_id, "plan", ended)
        if r["kind"] == PLAN and r["status"] == BROKEN and not day.collected:
            cs, agency, placed_on = collections_repository.load_collection_state(conn, account_id)
            collections_repository.save_collection_state(conn, collections.plan_broken(cs), agency, placed_on)


def _write_unbilled(conn: Connection, day: DayOutputs, ids: pa.Array) -> None:
    keys = ["account_key", "statement_date"]
    gone = new_rows(day.before.unbilled.select(keys), day.after.unbilled.select(keys))
    delete_rows(
        conn,
        unbilled_cycles,
        pa.table({"account_id": ids.take(gone["account_key"]), "statement_date": gone["statement_date"]}),
    )
    billed = new_rows(day.after.unbilled, day.before.unbilled)
    upsert_rows(
        conn,
        unbilled_cycles,
        pa.table(
            {
                "account_id": ids.take(billed["account_key"]),
                "statement_date": billed["statement_date"],
                "principal_fen": billed["principal"],
            }
        ),
        ["account_id", "statement_date"],
    )


def _write_periods(conn: Connection, day: DayOutputs, ids: Sequence[str]) -> None:
    """Periods billed (or otherwise changed), and their plans' ``finished`` flag."""
    changed = new_rows(day.after.periods, day.before.periods).to_pylist()
    if not changed:
        return

    plans = day.after.plans
    plan_ids: dict[tuple[int, int], str] = dict(
        zip(
            zip(plans["account_key"].to_pylist(), plans["plan_number"].to_pylist(), strict=True),
            plans["plan_id"].to_pylist(),
            strict=True,
        )
    )

    def plan_id(key: int, number: int) -> str:
        return plan_ids[(key, number)]

    upsert_rows(
        conn,
        installment_periods,
        [
            {
                "plan_id": plan_id(r["account_key"], r["plan_number"]),
                "number": r["number"],
                "due_date": r["due_date"],
                "principal_fen": r["principal"],
                "fee_fen": r["fee"],
                "billed": r["billed"],
            }
            for r in changed
        ],
        ["plan_id", "number"],
    )
    touched = {(r["account_key"], r["plan_number"]) for r in changed}
    finished: dict[tuple[int, int], bool] = {}
    for r in day.after.periods.to_pylist():
        key = (r["account_key"], r["plan_number"])
        if key in touched:
            finished[key] = finished.get(key, True) and r["billed"]
    conn.execute(
        update(installment_plans)
        .where(installment_plans.c.id == bindparam("b_id"))
        .values(finished=bindparam("b_finished")),
        [{"b_id": plan_id(*key), "b_finished": done} for key, done in finished.items()],
    )


GROUPED_POSTINGS = """
SELECT p.*,
       dense_rank() OVER (
           ORDER BY p.account_key, k.kind_order, p.statement_date NULLS FIRST, p.kind
       ) - 1 AS number
FROM postings p JOIN kinds k ON k.kind = p.kind
"""
"""The day's postings, each with its transaction's ``number`` from 0: a transaction is the postings of one
(account, kind, statement date), numbered in the order the reference returns them
(:func:`overdue.setbased.convert.transactions_from_postings`)."""

TRANSACTIONS = """
SELECT number, account_key, kind, statement_date,
       arg_min(business_date, posting_order) AS business_date, arg_min(memo, posting_order) AS memo,
       CAST(sum(amount) AS BIGINT) AS total, count(*) FILTER (WHERE amount = 0) AS zeros
FROM grouped GROUP BY ALL ORDER BY number
"""


def _post(conn: Connection, day: DayOutputs, ids: pa.Array) -> int:
    """The day's postings as ledger transactions, in bulk: grouped in DuckDB, each checked to balance (no
    zero posting, a sum of zero) as :class:`overdue.domain.ledger.Transaction` checks it, numbered from the
    store's sequence."""
    if day.postings.num_rows == 0:
        return 0
    kinds = pa.table(
        {
            "kind": [str(kind) for kind in KIND_ORDER],
            "kind_order": pa.array(list(KIND_ORDER.values()), pa.int64()),
        }
    )
    con = scratch()
    try:
        con.register("postings", day.postings)
        con.register("kinds", kinds)
        unknown = con.sql("SELECT DISTINCT kind FROM postings ANTI JOIN kinds USING (kind) ORDER BY kind")
        if names := [str(kind) for (kind,) in unknown.fetchall()]:
            raise LedgerError(
                f"postings of a transaction kind the end-of-day does not make: {', '.join(names)}"
            )
        con.execute(f"CREATE TEMP TABLE grouped AS {GROUPED_POSTINGS}")
        found = con.sql(TRANSACTIONS).to_arrow_table()
        postings = con.sql(
            "SELECT number, account_key, ledger_account, amount FROM grouped ORDER BY number, posting_order"
        ).to_arrow_table()
    finally:
        con.close()
    _check_balanced(found, ids)
    count = found.num_rows
    if conn.dialect.name == "postgresql":
        drawn = conn.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('ledger_transactions', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        ).scalars()
        numbers = pa.array(sorted(int(n) for n in drawn), pa.int64())
    else:
        last = int(conn.execute(select(func.coalesce(func.max(ledger_transactions.c.id), 0))).scalar_one())
        numbers = pa.array(range(last + 1, last + 1 + count), pa.int64())
    account_ids = ids.take(found["account_key"])
    insert_rows(
        conn,
        ledger_transactions,
        pa.table(
            {
                "id": numbers.take(found["number"]),
                "account_id": account_ids,
                "business_date": found["business_date"],
                "kind": found["kind"],
                # statement_id(account_id, statement_date); null where the date is (a write-off)
                "statement_id": pc.binary_join_element_wise(
                    account_ids, pc.cast(found["statement_date"], pa.string()), "/"
                ),
                "memo": found["memo"],
            }
        ),
    )
    insert_rows(
        conn,
        ledger_postings,
        pa.table(
            {
                "transaction_id": numbers.take(postings["number"]),
                "account_id": ids.take(postings["account_key"]),
                "ledger_account": postings["ledger_account"],
                "amount_fen": postings["amount"],
            }
        ),
    )
    return int(count)


def _check_balanced(transactions: pa.Table, ids: pa.Array) -> None:
    """Refuse the day (:class:`LedgerError`, nothing written) when a transaction has a zero posting or does
    not sum to zero; the message names the first such, as the domain's check does."""
    bad = transactions.filter(
        pc.or_(pc.not_equal(transactions["total"], 0), pc.greater(transactions["zeros"], 0))
    )
    if bad.num_rows == 0:
        return
    first = bad.slice(0, 1).to_pylist()[0]
    account_id = ids[first["account_key"]].as_py()
    if first["zeros"]:
        raise LedgerError(f"{first['kind']} transaction on {account_id} has a zero posting")
    raise LedgerError(
        f"{first['kind']} transaction on {account_id} does not balance: sums to {first['total']} fen"
    )


DAY_ROWS = """
WITH unpaid AS (
    SELECT account_key, due_date,
           new_principal + carried_principal + installment_principal AS principal,
           interest + overdue_interest AS interest, fees,
           new_principal + carried_principal + installment_principal + interest + overdue_interest + fees
               AS outstanding,
           minimum + late_charges - paid AS minimum_remaining
    FROM statements
), by_statement AS (
    SELECT u.account_key, sum(u.principal) AS principal, sum(u.interest) AS interest, sum(u.fees) AS fees,
           sum(u.outstanding) AS total_due,
           sum(CASE WHEN u.outstanding > 0 AND date_diff('day', u.due_date, $on) > $grace
                     AND (a.status = 'written_off' OR u.minimum_remaining > 0)
                    THEN u.principal ELSE 0 END) AS overdue_principal
    FROM unpaid u JOIN accounts a ON a.account_key = u.account_key
    GROUP BY u.account_key
), later AS (
    SELECT account_key, sum(principal) AS principal FROM unbilled GROUP BY account_key
    UNION ALL
    SELECT account_key, sum(principal) FROM periods WHERE NOT billed GROUP BY account_key
), owed_later AS (
    SELECT account_key, sum(principal) AS principal FROM later GROUP BY account_key
)
SELECT a.account_key, a.status, a.days_past_due, a.bucket,
       coalesce(s.principal, 0) + coalesce(l.principal, 0) AS principal,
       coalesce(s.overdue_principal, 0) AS overdue_principal,
       coalesce(s.interest, 0) AS interest, coalesce(s.fees, 0) AS fees,
       coalesce(s.total_due, 0) AS total_due,
       greatest(0, a.credit_limit - coalesce(s.principal, 0) - coalesce(l.principal, 0)) AS available_credit
FROM accounts a
LEFT JOIN by_statement s ON s.account_key = a.account_key
LEFT JOIN owed_later l ON l.account_key = a.account_key
WHERE a.last_eod = $on
ORDER BY a.account_key
"""
"""Each account's figures after the day, as :func:`overdue.store.repository.record_day` computes them
(overdue principal: the delinquent statements', :meth:`AccountState.delinquent_statements`)."""


def _day_rows(day: DayOutputs, ids: pa.Array) -> pa.Table:
    """``account_days`` rows of the accounts that ran (their ``last_eod`` is the date and was not before)."""
    ran = new_rows(
        day.after.accounts.select(["account_key", "last_eod"]),
        day.before.accounts.select(["account_key", "last_eod"]),
    )["account_key"]
    if len(ran) == 0:
        return pa.table({})
    con = scratch()
    try:
        for name in ("accounts", "statements", "unbilled", "periods"):
            con.register(name, getattr(day.after, name))
        figures = con.sql(DAY_ROWS, params={"on": day.on, "grace": day.grace_days}).to_arrow_table()
    finally:
        con.close()
    figures = figures.filter(pc.is_in(figures["account_key"], value_set=ran.combine_chunks()))
    keys = figures["account_key"]
    amounts = ("principal", "overdue_principal", "interest", "fees", "total_due", "available_credit")
    return pa.table(
        {
            "account_id": ids.take(keys),
            "business_date": pa.repeat(pa.scalar(day.on, pa.date32()), figures.num_rows),
            "status": figures["status"],
            "days_past_due": figures["days_past_due"],
            "bucket": figures["bucket"],
            **{f"{name}_fen": pc.cast(figures[name], pa.int64()) for name in amounts},
        }
    )


# --- bulk statements ----------------------------------------------------------------------------------


def stage_name(table: Table) -> str:
    return f"stage_{table.name}"


Rows: TypeAlias = Sequence[dict[str, Any]] | pa.Table
"""Rows to write: dicts by column, or an Arrow table whose columns are named as the store's (copied to
PostgreSQL as CSV by Arrow's writer, not a Python value at a time)."""


def _count(rows: Rows) -> int:
    return rows.num_rows if isinstance(rows, pa.Table) else len(rows)


def _dicts(rows: Rows) -> list[dict[str, Any]]:
    return rows.to_pylist() if isinstance(rows, pa.Table) else list(rows)


def _copy_in(conn: Connection, name: str, rows: Rows) -> list[str]:
    """PostgreSQL: ``rows`` into table ``name`` by ``COPY … FROM STDIN``; returns the columns. An Arrow table
    goes in as CSV written by Arrow (strings quoted, nulls left empty: what PostgreSQL's CSV reads as null
    and empty text apart); dicts a row at a time."""
    raw = conn.connection.driver_connection
    assert raw is not None
    if isinstance(rows, pa.Table):
        columns = rows.column_names
        text_out = io.BytesIO()
        pacsv.write_csv(rows, text_out, write_options=pacsv.WriteOptions(include_header=False))
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(text_out.getvalue())
        return list(columns)
    columns = list(rows[0])
    with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row[c] for c in columns))
    return columns


def stage_rows(conn: Connection, table: Table, rows: Rows) -> list[str]:
    """PostgreSQL: ``rows`` copied (``COPY … FROM STDIN``) into a temporary table shaped like ``table``'s
    columns that ``rows`` name, dropped at commit; returns the columns."""
    columns = rows.column_names if isinstance(rows, pa.Table) else list(rows[0])
    name = stage_name(table)
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    conn.execute(
        text(
            f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "
            f"SELECT {', '.join(columns)} FROM {table.name} WITH NO DATA"
        )
    )
    return _copy_in(conn, name, rows)


def insert_rows(conn: Connection, table: Table, rows: Rows) -> None:
    """Insert ``rows``: ``COPY`` on PostgreSQL, ``executemany`` elsewhere."""
    if not _count(rows):
        return
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), _dicts(rows))
        return
    _copy_in(conn, table.name, rows)


def upsert_rows(conn: Connection, table: Table, rows: Rows, keys: Sequence[str]) -> None:
    """Insert ``rows``, updating those whose ``keys`` exist: on PostgreSQL staged by ``COPY`` and merged with
    one ``INSERT … ON CONFLICT``; elsewhere :func:`overdue.store.repository.upsert` (``executemany``)."""
    if not _count(rows):
        return
    if conn.dialect.name != "postgresql":
        repository.upsert(conn, table, _dicts(rows), keys)
        return
    columns = stage_rows(conn, table, rows)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in keys)
    conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    names = ", ".join(columns)
    conn.execute(
        text(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage_name(table)} "
            f"ON CONFLICT ({', '.join(keys)}) {conflict}"
        )
    )


def record_actions(conn: Connection, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert the ``collection_actions`` rows not yet recorded (one date's: (account, date, treatment) is the
    table's unique key), in bulk; (account id, treatment) → each new action's id (the ones that existed are
    left out, as :func:`overdue.store.collections_repository.record_action` answers None for them)."""
    if not rows:
        return {}
    keys = ["account_id", "business_date", "treatment"]
    if conn.dialect.name == "postgresql":
        columns = stage_rows(conn, collection_actions, rows)
        names = ", ".join(columns)
        found = conn.execute(
            text(
                f"INSERT INTO {collection_actions.name} ({names}) SELECT {names} "
                f"FROM {stage_name(collection_actions)} "
                f"ON CONFLICT ({', '.join(keys)}) DO NOTHING RETURNING id, account_id, treatment"
            )
        ).all()
    else:
        a = collection_actions.c
        statement = (
            sqlite.insert(collection_actions)
            .on_conflict_do_nothing(index_elements=keys)
            .returning(a.id, a.account_id, a.treatment)
        )
        found = conn.execute(statement, rows).all()
    return {(account_id, treatment): int(number) for number, account_id, treatment in found}


def delete_rows(conn: Connection, table: Table, rows: Rows) -> None:
    """Delete the rows of ``table`` whose columns equal one of ``rows`` (all columns ``rows`` name): on
    PostgreSQL staged by ``COPY`` and deleted by one ``DELETE … USING``; elsewhere ``executemany``."""
    if not _count(rows):
        return
    if conn.dialect.name != "postgresql":
        found = _dicts(rows)
        columns = list(found[0])
        conn.execute(
            table.delete().where(*(table.c[c] == bindparam(f"b_{c}") for c in columns)),
            [{f"b_{c}": row[c] for c in columns} for row in found],
        )
        return
    columns = stage_rows(conn, table, rows)
    match = " AND ".join(f"t.{c} = s.{c}" for c in columns)
    conn.execute(text(f"DELETE FROM {table.name} t USING {stage_name(table)} s WHERE {match}"))
