"""The operational store read in bulk into the set-based runner's tables: one query per table.

:func:`read_store` reads the accounts the reference end-of-day left in the store straight into
:class:`~overdue.setbased.layout.PortfolioTables` (Arrow), with no
:class:`~overdue.domain.state.AccountState` per account: each table of the store is one ``SELECT`` whose
rows become Arrow columns, and ``account_key`` is the account's position in ``accounts`` ordered by id. It
reads what :func:`overdue.store.repository.load_account` reads for the next day's rules, so the tables are
those :func:`~overdue.setbased.convert.tables_from_states` lays out from the loaded states, table by table:

- ``accounts``: every account; the open bucket spell gives ``bucket_entered``, the last
  ``bureau_grid_months`` bureau months the grid, the latest deferral ``last_deferral_on``;
- ``statements``: the open ones and each account's latest; ``unbilled``: every unbilled cycle;
- ``plans`` and ``periods``: the installment plans not finished (bill and purchase installments), numbered
  within each account in the order the repository loads them;
- ``bucket_spells``: empty (the store keeps the closed spells; the next day never reads them);
- ``arrangements``, ``arrangement_payments`` and ``arrangement_set_asides``: each account's relief
  arrangement as :func:`overdue.store.relief_repository.load_arrangement` picks it (the active one, else the
  latest not cancelled), with its schedule and what it set aside.

What the set-based day does not cover is refused with :class:`~overdue.setbased.params.Unsupported`, found by
query and naming the first account by id: what the layout cannot hold (other terms than the first account's,
ids out of the domain's pattern, an open bucket spell that is not the account's bucket, bureau months with
gaps, carries beyond ± :data:`~overdue.setbased.params.MAX_CARRY` fen). An active relief arrangement is
read like the others: the set-based day reviews it, and both readers' callers follow its end (``overdue eod
--store`` writes it back, :mod:`~overdue.setbased.store_write`; the nightly job over an exported snapshot
follows it in the collection records, :mod:`~overdue.setbased.nightly`). A line closed with something still
owed, a deferred statement (with its ``original_due_date``) and a purchase installment plan are read like
the rest: the set-based day runs them as the domain does.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
from sqlalchemy import Connection, Select, case, func, or_, select
from sqlalchemy.orm import aliased

from overdue.domain.errors import InvalidDate, InvalidInput, NotFound
from overdue.domain.terms import ProductTerms, terms_from_json
from overdue.setbased import layout
from overdue.setbased.arrangements import set_aside_date
from overdue.setbased.encode import numbers_within
from overdue.setbased.layout import PortfolioTables
from overdue.setbased.params import (
    MAX_CARRY,
    MAX_CARRY_SCALE,
    Unsupported,
    day_terms,
)
from overdue.store.account_tables import (
    accounts,
    bucket_history,
    bureau_months,
    installment_periods,
    installment_plans,
    statements,
    unbilled_cycles,
)
from overdue.store.relief_tables import relief_arrangements, relief_deferrals, relief_payments

CANCELLED = "cancelled"
"""An arrangement replaced before approval: the only status the account's state does not carry."""
ACTIVE = "active"


@dataclass(frozen=True)
class StoreTables:
    """The store's accounts as the set-based runner's tables, with their terms and what the write-back needs.

    versions: each account's ``version`` (by ``account_key``), which a write-back checks and bumps.
    """

    tables: PortfolioTables
    terms: ProductTerms
    versions: pa.Array


def fetch_rows(conn: Connection, query: Select[Any], schema: pa.Schema) -> pa.Table:
    """One query's rows as an Arrow table of ``schema`` (its columns in the query's order).

    On PostgreSQL, for a schema of numbers, text, dates and booleans, the rows come by ``COPY (query) TO
    STDOUT`` as CSV read by Arrow (:func:`_copy_out`), no Python value made of them; otherwise through the
    driver, a row at a time."""
    if conn.dialect.name == "postgresql" and all(_copies_out(f.type) for f in schema):
        return _copy_out(conn, query, schema)
    rows = conn.execute(query).all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema.names]
    return pa.table({f.name: pa.array(list(c), f.type) for f, c in zip(schema, columns, strict=True)})


def _copies_out(kind: pa.DataType) -> bool:
    """Whether PostgreSQL's CSV text of a column of this type reads back exactly by Arrow's CSV reader (time
    stamps do not: their offset follows the session's time zone)."""
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_string(kind)
        or pa.types.is_date32(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
    )


def _copy_out(conn: Connection, query: Select[Any], schema: pa.Schema) -> pa.Table:
    """PostgreSQL: ``query``'s rows by ``COPY (…) TO STDOUT (FORMAT csv)``, read by Arrow as ``schema``:
    NULL is the unquoted empty field and the empty string the quoted one, booleans are ``t``/``f``, dates
    ISO (the transaction's ``DateStyle`` set so)."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    conn.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")
    raw = conn.connection.driver_connection
    assert raw is not None
    out = io.BytesIO()
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY ({compiled}) TO STDOUT (FORMAT csv)", compiled.params) as copy,
    ):
        for block in copy:
            out.write(block)
    if out.tell() == 0:
        return schema.empty_table()
    out.seek(0)
    return pacsv.read_csv(
        out,
        read_options=pacsv.ReadOptions(column_names=schema.names),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=schema,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )


def keys_of(account_ids: pa.ChunkedArray | pa.Array, ids: pa.Array) -> pa.Array:
    """The ``account_key`` of each id in ``account_ids`` (``ids``: every account's id by key)."""
    return pc.cast(pc.index_in(account_ids, value_set=ids), pa.int64())


def _refuse(conn: Connection, query: Select[Any], message: str) -> None:
    """Raise :class:`Unsupported` with ``message`` (``{}``: the first account id) when ``query`` has rows."""
    rows = conn.execute(query.order_by(query.selected_columns[0]).limit(1)).all()
    if rows:
        raise Unsupported(message.format(rows[0][0]))


def _latest_statement_date() -> Any:
    inner = aliased(statements)
    return (
        select(func.max(inner.c.statement_date))
        .where(inner.c.account_id == statements.c.account_id)
        .scalar_subquery()
    )


def loaded_statements() -> Any:
    """What :func:`~overdue.store.repository.load_account` loads: open statements and each latest one."""
    return or_(statements.c.closed_on.is_(None), statements.c.statement_date == _latest_statement_date())


def _check_unsupported(conn: Connection) -> None:
    """Refuse (naming the first account) what the set-based day does not cover; one query per refusal."""
    two_open = (
        select(bucket_history.c.account_id)
        .where(bucket_history.c.left_on.is_(None))
        .group_by(bucket_history.c.account_id)
        .having(func.count() > 1)
    )
    _refuse(conn, two_open, "account {}: an open bucket spell that is not the last")
    _refuse(
        conn,
        select(accounts.c.id)
        .join(bucket_history, bucket_history.c.account_id == accounts.c.id)
        .where(bucket_history.c.left_on.is_(None), bucket_history.c.bucket != accounts.c.bucket),
        "account {}: the open bucket spell is not the account's bucket",
    )
    _refuse(
        conn,
        select(statements.c.account_id).where(
            loaded_statements(),
            or_(statements.c.interest_carry > MAX_CARRY, statements.c.interest_carry < -MAX_CARRY),
        ),
        f"account {{}}: an interest carry beyond ±{MAX_CARRY} fen",
    )


def _terms(conn: Connection) -> ProductTerms:
    """The one product's terms every account is on."""
    found = conn.execute(select(accounts.c.product, accounts.c.terms_json).distinct()).all()
    if not found:
        raise NotFound("the store has no accounts")
    products = sorted({product for product, _ in found})
    if len(products) > 1:
        raise InvalidInput(f"the store holds several products ({', '.join(products)}); a snapshot holds one")
    first = conn.execute(select(accounts.c.terms_json).order_by(accounts.c.id).limit(1)).scalar_one()
    terms = terms_from_json(json.loads(first))
    for _, text in found:
        if terms_from_json(json.loads(text)) != terms:
            other = conn.execute(
                select(accounts.c.id).where(accounts.c.terms_json == text).order_by(accounts.c.id).limit(1)
            ).scalar_one()
            raise Unsupported(
                f"account {other} has other product terms than the run's ({terms.name!r}); "
                "run each product's accounts separately"
            )
    return terms


def _accounts(conn: Connection, terms: ProductTerms) -> tuple[pa.Table, pa.Array]:
    """The ``accounts`` table (without the bureau grid) and the accounts' versions."""
    open_spell = (
        select(bucket_history.c.account_id, bucket_history.c.entered)
        .where(bucket_history.c.left_on.is_(None))
        .subquery()
    )
    deferral = (
        select(relief_deferrals.c.account_id, func.max(relief_deferrals.c.deferred_on).label("last"))
        .group_by(relief_deferrals.c.account_id)
        .subquery()
    )
    query = (
        select(
            accounts.c.id,
            accounts.c.product,
            accounts.c.opened_on,
            accounts.c.timezone,
            accounts.c.credit_limit_fen,
            accounts.c.status,
            accounts.c.last_eod,
            accounts.c.days_past_due,
            accounts.c.bucket,
            open_spell.c.entered,
            accounts.c.written_off_on,
            accounts.c.negative_notice_on,
            deferral.c.last,
            accounts.c.language,
            accounts.c.version,
        )
        .outerjoin(open_spell, open_spell.c.account_id == accounts.c.id)
        .outerjoin(deferral, deferral.c.account_id == accounts.c.id)
        .order_by(accounts.c.id)
    )
    names = [n for n in layout.ACCOUNTS.names if n not in ("account_key", "bureau_grid", "bureau_last_month")]
    schema = pa.schema([layout.ACCOUNTS.field(n) for n in names] + [pa.field("version", pa.int64())])
    rows = fetch_rows(conn, query, schema)
    rows = rows.add_column(0, "account_key", pa.array(range(rows.num_rows), pa.int64()))
    return rows.drop_columns(["version"]), rows["version"].combine_chunks()


BUREAU_ROWS = pa.schema([("account_id", pa.string()), ("month", pa.string()), ("status", pa.string())])
"""The bureau months :func:`_bureau` reads: ``YYYY-MM`` and a one-character status."""


def _bureau(conn: Connection, terms: ProductTerms, ids: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Each account's grid (the last ``bureau_grid_months`` months, oldest first) and its last month."""
    ranked = select(
        bureau_months.c.account_id,
        bureau_months.c.month,
        bureau_months.c.status,
        func.row_number()
        .over(partition_by=bureau_months.c.account_id, order_by=bureau_months.c.month.desc())
        .label("rank"),
    ).subquery()
    query = (
        select(ranked.c.account_id, ranked.c.month, ranked.c.status)
        .where(ranked.c.rank <= terms.bureau_grid_months)
        .order_by(ranked.c.account_id, ranked.c.month)
    )
    return bureau_grids(fetch_rows(conn, query, BUREAU_ROWS), ids)


def bureau_grids(rows: pa.Table, ids: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Grids and last months (``""`` and null for an account without months) of ``ids`` from bureau rows
    (:data:`BUREAU_ROWS`) in order of account and month, by array operations: an account's grid is the run
    of its rows' one-character statuses, so its characters are already side by side in the statuses'
    buffer. Refuses (naming the account) months with a gap or a status longer than one character."""
    if rows.num_rows == 0:
        return pa.array([""] * len(ids), pa.string()), pa.nulls(len(ids), pa.string())
    account = rows["account_id"].combine_chunks()
    month = rows["month"].combine_chunks()
    status = rows["status"].combine_chunks()
    year = pc.cast(pc.utf8_slice_codeunits(month, 0, 4), pa.int32()).to_numpy()
    number = year * 12 + pc.cast(pc.utf8_slice_codeunits(month, 5, 7), pa.int32()).to_numpy()
    starts = np.ones(len(account), dtype=bool)
    starts[1:] = pc.not_equal(account[1:], account[:-1]).to_numpy(zero_copy_only=False)
    gap = ~starts
    gap[1:] &= np.diff(number) != 1
    wide = pc.not_equal(pc.utf8_length(status), 1).to_numpy(zero_copy_only=False)
    wrong = np.flatnonzero(gap | wide)
    if len(wrong):
        at = int(wrong[0])
        who = account[at].as_py()
        if wide[at]:
            raise Unsupported(f"account {who}: bureau statuses longer than one character")
        raise Unsupported(
            f"account {who}: bureau months with gaps ({month[at - 1].as_py()}, {month[at].as_py()})"
        )
    first = np.flatnonzero(starts)
    offsets = np.frombuffer(status.buffers()[1], np.int32)[status.offset : status.offset + len(status) + 1]
    bounds = np.append(offsets[first], offsets[-1]).astype(np.int32)
    grids = pa.StringArray.from_buffers(len(first), pa.py_buffer(bounds.tobytes()), status.buffers()[2])
    last = pc.take(month, np.append(first[1:], len(month)) - 1)
    found = pc.index_in(ids, value_set=pc.take(account, first))
    return pc.take(grids, found).fill_null(""), pc.take(last, found)


def _statements(conn: Connection, ids: pa.Array, terms: ProductTerms) -> tuple[pa.Table, int]:
    """The ``statements`` table and the carry scale its carries need."""
    fields = [f for f in layout.STATEMENTS if f.name != "account_key"]
    columns = {
        "statement_date": statements.c.statement_date,
        "due_date": statements.c.due_date,
        "amount": statements.c.amount_fen,
        "minimum": statements.c.minimum_fen,
        "new_principal": statements.c.new_principal_fen,
        "carried_principal": statements.c.carried_principal_fen,
        "installment_principal": statements.c.installment_principal_fen,
        "interest": statements.c.interest_fen,
        "overdue_interest": statements.c.overdue_interest_fen,
        "fees": statements.c.fees_fen,
        "paid": statements.c.paid_fen,
        "late_charges": statements.c.late_charges_fen,
        "interest_carry": statements.c.interest_carry,
        "installed": statements.c.installed,
        "closed_on": statements.c.closed_on,
        "original_due_date": statements.c.original_due_date,
    }
    query = (
        select(statements.c.account_id, statements.c.id, *(columns[f.name] for f in fields))
        .where(loaded_statements())
        .order_by(statements.c.account_id, statements.c.statement_date)
    )
    carry = pa.field("interest_carry", pa.decimal128(30, 12))
    schema = pa.schema(
        [pa.field("account_id", pa.string()), pa.field("id", pa.string())]
        + [carry if f.name == "interest_carry" else f for f in fields]
    )
    rows = fetch_rows(conn, query, schema)
    expected = pc.binary_join_element_wise(
        rows["account_id"], pc.cast(rows["statement_date"], pa.string()), "/"
    )
    wrong = pc.invert(pc.equal(rows["id"], expected))
    if pc.any(wrong).as_py():
        first = rows.filter(wrong)["id"][0].as_py()
        raise Unsupported(f"statement {first!r}: ids other than '{{account}}/{{statement date}}'")
    scale, units = carry_units(rows["interest_carry"], day_terms(terms).carry_scale)
    table = pa.table(
        {
            "account_key": keys_of(rows["account_id"], ids),
            **{f.name: rows[f.name] for f in fields if f.name != "interest_carry"},
            "interest_carry": units,
        }
    )
    return table.select(layout.STATEMENTS.names), scale


def carry_units(carries: pa.ChunkedArray, least: int) -> tuple[int, pa.ChunkedArray]:
    """The carry scale the store's carries need (at least ``least``) and the carries as integer units of
    10^-scale fen, exactly, by array operations: within ±:data:`MAX_CARRY` a carry of twelve places fits
    ``decimal128(20, 12)``, times 10^scale it is exact, and the cast to ``int64`` refuses any fraction left,
    so the first scale whose cast succeeds is the one the finest carry needs. Refuses carries finer than
    :data:`MAX_CARRY_SCALE` places."""
    exact = pc.cast(carries, pa.decimal128(20, 12))
    for scale in range(least, MAX_CARRY_SCALE + 1):
        factor = pa.scalar(Decimal(10) ** scale, pa.decimal128(MAX_CARRY_SCALE + 1, 0))
        try:
            units: pa.ChunkedArray = pc.cast(pc.multiply(exact, factor), pa.int64())
        except pa.ArrowInvalid:
            continue
        return scale, units
    raise Unsupported(f"interest carries finer than 10^-{MAX_CARRY_SCALE} fen")


def _plans(conn: Connection, ids: pa.Array) -> tuple[pa.Table, pa.Table]:
    """The ``plans`` and ``periods`` tables of the installment plans not finished, of both origins, numbered
    within each account in the order :func:`overdue.store.repository.load_account` loads them."""
    made_from = statements.alias("made_from")
    unfinished = installment_plans.c.finished.is_(False)
    plan_rows = fetch_rows(
        conn,
        select(
            installment_plans.c.account_id,
            installment_plans.c.id,
            installment_plans.c.origin,
            installment_plans.c.statement_id,
            made_from.c.statement_date,
            installment_plans.c.created_on,
            installment_plans.c.fee_rate,
            installment_plans.c.principal_fen,
            installment_plans.c.fee_total_fen,
        )
        .outerjoin(made_from, made_from.c.id == installment_plans.c.statement_id)
        .where(unfinished)
        .order_by(installment_plans.c.account_id, installment_plans.c.created_on, installment_plans.c.id),
        pa.schema(
            [
                ("account_id", pa.string()),
                ("id", pa.string()),
                ("origin", pa.string()),
                ("statement_id", pa.string()),
                ("statement_date", layout.DAY),
                ("created_on", layout.DAY),
                ("fee_rate", pa.decimal128(30, 12)),
                ("principal", layout.FEN),
                ("fee_total", layout.FEN),
            ]
        ),
    )
    expected = pc.binary_join_element_wise(
        plan_rows["account_id"], pc.cast(plan_rows["statement_date"], pa.string()), "/"
    )
    wrong = pc.fill_null(pc.not_equal(plan_rows["statement_id"], expected), False)
    if pc.any(wrong).as_py():
        found = plan_rows.filter(wrong).to_pylist()[0]
        raise Unsupported(
            f"installment plan {found['id']!r} of account {found['account_id']}: made from statement "
            f"{found['statement_id']!r} (the layout keeps '{{account}}/{{statement date}}')"
        )
    try:
        fee_rate = pc.cast(plan_rows["fee_rate"], layout.PLAN_FEE_RATE)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise Unsupported(f"installment fee rates finer than the layout's decimal(12, 6): {exc}") from None
    keys = keys_of(plan_rows["account_id"], ids)
    plans = pa.table(
        {
            "account_key": keys,
            "plan_number": numbers_within(keys),
            "plan_id": plan_rows["id"],
            "origin": plan_rows["origin"],
            "statement_date": plan_rows["statement_date"],
            "created_on": plan_rows["created_on"],
            "fee_rate": fee_rate,
            "principal": plan_rows["principal"],
            "fee_total": plan_rows["fee_total"],
        },
        schema=layout.PLANS,
    )
    period_rows = fetch_rows(
        conn,
        select(
            installment_periods.c.plan_id,
            installment_periods.c.number,
            installment_periods.c.due_date,
            installment_periods.c.principal_fen,
            installment_periods.c.fee_fen,
            installment_periods.c.billed,
        )
        .join(installment_plans, installment_plans.c.id == installment_periods.c.plan_id)
        .where(unfinished)
        .order_by(installment_periods.c.plan_id, installment_periods.c.number),
        pa.schema(
            [
                ("plan_id", pa.string()),
                *(f for f in layout.PERIODS if f.name not in ("account_key", "plan_number")),
            ]
        ),
    )
    at = pc.index_in(period_rows["plan_id"], value_set=plans["plan_id"])
    periods = period_rows.drop_columns(["plan_id"])
    periods = periods.add_column(0, "plan_number", pc.take(plans["plan_number"], at))
    periods = periods.add_column(0, "account_key", pc.take(plans["account_key"], at))
    order = [("account_key", "ascending"), ("plan_number", "ascending"), ("number", "ascending")]
    return plans, periods.sort_by(order).cast(layout.PERIODS)


def _unbilled(conn: Connection, ids: pa.Array) -> pa.Table:
    rows = fetch_rows(
        conn,
        select(
            unbilled_cycles.c.account_id, unbilled_cycles.c.statement_date, unbilled_cycles.c.principal_fen
        ).order_by(unbilled_cycles.c.account_id, unbilled_cycles.c.statement_date),
        pa.schema([("account_id", pa.string()), ("statement_date", layout.DAY), ("principal", layout.FEN)]),
    )
    return rows.set_column(0, "account_key", keys_of(rows["account_id"], ids)).cast(layout.UNBILLED)


def _arrangements(conn: Connection, ids: pa.Array) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The ``arrangements``, ``arrangement_payments`` and ``arrangement_set_asides`` tables: each account's
    arrangement as :func:`overdue.store.relief_repository.load_arrangement` picks it (the active one
    first), one query for the arrangements and one for their schedules."""
    ra = relief_arrangements.c
    ranked = (
        select(
            ra.id,
            ra.account_id,
            func.row_number()
            .over(
                partition_by=ra.account_id,
                order_by=(case((ra.status == ACTIVE, 0), else_=1), ra.agreed_on.desc(), ra.id.desc()),
            )
            .label("rank"),
        )
        .where(ra.status != CANCELLED)
        .subquery()
    )
    chosen = select(ranked.c.id).where(ranked.c.rank == 1)
    rows = conn.execute(
        select(
            ra.account_id,
            ra.id,
            ra.kind,
            ra.status,
            ra.agreed_on,
            ra.started_on,
            ra.ended_on,
            ra.waived_fen,
            ra.waived_interest_fen,
            ra.paid_fen,
            ra.monthly_rate,
            ra.breach_days,
            ra.closes_line,
            ra.maker,
            ra.approver,
            ra.approver_role,
            ra.fingerprint,
            ra.set_aside_json,
        )
        .where(ra.id.in_(chosen))
        .order_by(ra.account_id)
    ).all()
    keys = dict(zip(ids.to_pylist(), range(len(ids)), strict=True))
    names = [n for n in layout.ARRANGEMENTS.names if n != "account_key"]
    columns: dict[str, list[Any]] = {name: [] for name in layout.ARRANGEMENTS.names}
    asides: dict[str, list[Any]] = {name: [] for name in layout.ARRANGEMENT_SET_ASIDES.names}
    by_id: dict[str, int] = {}
    for row in rows:
        account_id, arrangement_id, *values, set_aside_json = row
        key = keys[account_id]
        by_id[arrangement_id] = key
        columns["account_key"].append(key)
        for name, value in zip(names, (arrangement_id, *values), strict=True):
            columns[name].append(Decimal(value) if name == "monthly_rate" else value)
        for position, aside in enumerate(json.loads(set_aside_json)):
            day = set_aside_date(account_id, arrangement_id, str(aside["statement_id"]))
            asides["account_key"].append(key)
            asides["position"].append(position)
            asides["statement_date"].append(day)
            for name in ("interest", "overdue_interest", "fees", "late_charges", "minimum"):
                asides[name].append(aside.get(name, 0))
    try:
        arrangement_rows = pa.table(
            {f.name: pa.array(columns[f.name], f.type) for f in layout.ARRANGEMENTS},
            schema=layout.ARRANGEMENTS,
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise Unsupported(f"relief plan rates finer than the layout's decimal(12, 6): {exc}") from None
    rp = relief_payments.c
    payment_rows = conn.execute(
        select(rp.arrangement_id, rp.number, rp.due_date, rp.principal_fen, rp.interest_fen)
        .where(rp.arrangement_id.in_(chosen))
        .order_by(rp.arrangement_id, rp.number)
    ).all()
    payments = pa.table(
        {
            "account_key": pa.array([by_id[r[0]] for r in payment_rows], pa.int64()),
            "number": pa.array([r[1] for r in payment_rows], pa.int64()),
            "due_date": pa.array([r[2] for r in payment_rows], layout.DAY),
            "principal": pa.array([r[3] for r in payment_rows], layout.FEN),
            "interest": pa.array([r[4] for r in payment_rows], layout.FEN),
        },
        schema=layout.ARRANGEMENT_PAYMENTS,
    )
    set_asides = pa.table(
        {f.name: pa.array(asides[f.name], f.type) for f in layout.ARRANGEMENT_SET_ASIDES},
        schema=layout.ARRANGEMENT_SET_ASIDES,
    )
    order = [("account_key", "ascending")]
    return (
        arrangement_rows.sort_by(order),
        payments.sort_by([*order, ("number", "ascending")]),
        set_asides.sort_by([*order, ("position", "ascending")]),
    )


def read_store(conn: Connection) -> StoreTables:
    """Every account of the store as the set-based runner's tables (one query per table).

    Raises :class:`NotFound` when the store has no accounts, :class:`InvalidInput` when it holds several
    products, and :class:`Unsupported` (naming the first account) for what the set-based day refuses.
    Active relief arrangements are read with the rest (the day reviews them).
    """
    terms = _terms(conn)
    _check_unsupported(conn)
    account_rows, versions = _accounts(conn, terms)
    ids = account_rows["account_id"].combine_chunks()
    grid, last_month = _bureau(conn, terms, ids)
    account_rows = account_rows.append_column("bureau_grid", grid).append_column(
        "bureau_last_month", last_month
    )
    statement_rows, scale = _statements(conn, ids, terms)
    day_terms(terms, scale)
    plans, periods = _plans(conn, ids)
    arrangements, payments, set_asides = _arrangements(conn, ids)
    tables = PortfolioTables(
        accounts=account_rows.select(layout.ACCOUNTS.names).cast(layout.ACCOUNTS),
        statements=statement_rows.cast(layout.STATEMENTS),
        unbilled=_unbilled(conn, ids),
        plans=plans,
        periods=periods,
        bucket_spells=layout.SPELLS.empty_table(),
        carry_scale=scale,
        arrangements=arrangements,
        arrangement_payments=payments,
        arrangement_set_asides=set_asides,
    )
    return StoreTables(tables, terms, versions)


def business_date(tables: PortfolioTables) -> date:
    """The date the reference end-of-day closed on every account of ``tables`` (all must be at it).

    Raises :class:`InvalidDate` when no end-of-day has run, or naming the first account behind the latest
    date run.
    """
    accounts_table = tables.accounts
    ran = pc.max(accounts_table["last_eod"]).as_py()
    if ran is None:
        raise InvalidDate("no end-of-day has run on the store yet: run `overdue eod --date D` first")
    behind = behind_on(accounts_table, ran)
    if behind:
        raise InvalidDate(
            f"{len(behind)} account(s) are behind {ran.isoformat()} (first: {behind[0]}): run "
            f"`overdue eod --date {ran.isoformat()}` first"
        )
    on: date = ran
    return on


def behind_on(accounts_table: pa.Table, on: date) -> Sequence[str]:
    """Ids of the accounts opened by ``on`` whose last end-of-day is before it."""
    day = pa.scalar(on, pa.date32())
    never_run = pc.is_null(accounts_table["last_eod"])
    mask = pc.and_(
        pc.less_equal(accounts_table["opened_on"], day),
        pc.or_(never_run, pc.fill_null(pc.less(accounts_table["last_eod"], day), False)),
    )
    found: list[str] = accounts_table.filter(mask)["account_id"].to_pylist()
    return found
