"""The day's queries, built once as Ibis expressions over named tables and compiled once to SQL.

The expressions read the engine's tables (:data:`overdue.setbased.encode.ENGINE`) under fixed names, with
the business date's numbers as placeholders bound into the SQL text each day
(:class:`overdue.setbased.steps.Today`), so the SQL of a day depends only on the product's terms, the carry
scale, whether the day is a statement day, whether it is a month end, and the backend's
dialect. :func:`day_plan` compiles each such plan once per process (compiling costs more than running a
day on a hundred thousand accounts) and keeps it.

The steps, in the order :class:`overdue.setbased.day.Portfolio` runs them; each creates a table inside the
backend from the tables before it, and nothing leaves the backend:

``accrued``          statements after interest, with the day's posted interest
``aged``             accounts after ageing and write-off (with the flags the later steps read)
``bureau_next``      the bureau grids after a month end (month ends only)
``day_postings``     the day's posting rows
``day_spells``       the day's bucket spells: those closed and those entered
``settling``         the statements that billing emptied, added to ``settled`` straight from the query in
                     its turn (never a table of its own; statement days only)
``statements_next``  the unpaid statements after billing, and the day's new ones (statement days only)
``unbilled_next``    unbilled cycles after billing (statement days only)
``periods_next``     installment periods after billing (statement days only)

The checks (:data:`CHECKS`) are aggregates run before any step.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta

import ibis  # type: ignore[import-untyped]
import ibis.expr.operations as ops  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]

from overdue.domain.calendar import due_date_for, month_key
from overdue.domain.terms import ProductTerms
from overdue.setbased import postings, relief_review, steps
from overdue.setbased.backend import PREFIX, table_name
from overdue.setbased.encode import DAY, ENGINE, day_number, month_number
from overdue.setbased.params import DayTerms, day_terms

CHECKS = pa.schema(
    [
        pa.field("runs", pa.int64()),
        pa.field("waiting", pa.int64()),
        pa.field("first_waiting", pa.int64()),
        pa.field("gaps", pa.int64()),
        pa.field("largest_principal", pa.int64()),
    ]
)
"""The checks' one row: accounts that run; accounts that run but are not at the date, and the first of
them; bureau grids a month end would leave with a gap; the largest statement principal."""


def bindings(on: date, terms: ProductTerms) -> dict[str, int]:
    """The numbers of ``on`` that a day's SQL binds (see :class:`overdue.setbased.steps.Today`)."""
    return {
        "on": day_number(on),
        "cutoff": day_number(on - timedelta(days=terms.grace_days)),
        "due": day_number(due_date_for(on, terms.due_day)),
        "month": month_number(month_key(on)),
    }


@dataclass(frozen=True)
class Query:
    """One query of the day: its SQL and the Arrow schema of its result."""

    sql: str
    schema: pa.Schema
    reads: frozenset[str] = frozenset()
    """The tables it reads, by name (``statements``, not the backend's prefixed name)."""


@dataclass(frozen=True)
class DayPlan:
    """The compiled queries of one kind of day (see the module docstring for their names), in order."""

    steps: dict[str, Query]
    checks: Query
    statement_day: bool
    month_end: bool

    def bind(self, on: date, terms: ProductTerms) -> tuple[Query, dict[str, Query]]:
        """The checks and the steps with ``on``'s numbers in place of the placeholders."""
        values = {str(steps.PLACEHOLDERS[name]): str(value) for name, value in bindings(on, terms).items()}
        pattern = re.compile("|".join(values))

        def bound(query: Query) -> Query:
            return Query(pattern.sub(lambda m: values[m.group(0)], query.sql), query.schema, query.reads)

        return bound(self.checks), {name: bound(query) for name, query in self.steps.items()}


def _table(name: str, schema: pa.Schema | ibis.Schema) -> ir.Table:
    ibis_schema = schema if isinstance(schema, ibis.Schema) else ibis.Schema.from_pyarrow(schema)
    return ibis.table(ibis_schema, name=table_name(name))


def _typed(expr: ir.Table, name: str) -> ir.Table:
    """``expr`` with the engine's types on the columns of state table ``name`` (other columns kept)."""
    schema = ENGINE[name]
    typed: ir.Table = expr.mutate(
        **{
            f.name: steps.written_as(expr[f.name], ibis.dtype(f.type))
            for f in schema
            if f.name in expr.columns
        }
    )
    return typed


def _state(expr: ir.Table, name: str) -> ir.Table:
    """Exactly the engine's columns of state table ``name``, in order, with its types."""
    selected: ir.Table = _typed(expr, name).select(*ENGINE[name].names)
    return selected


def _checks(
    accounts: ir.Table, statements: ir.Table, bureau: ir.Table, day: steps.Today, month_end: bool
) -> ir.Table:
    a = accounts
    runs = steps.runs_on(a, day)
    at_date = (a.last_eod.isnull() & (a.opened_on == day.on)) | (a.last_eod == day.on - 1)
    waiting = runs & ~at_date.fill_null(False)
    row = a.aggregate(
        runs=a.account_key.count(where=runs).cast("int64"),
        waiting=a.account_key.count(where=waiting).cast("int64"),
        first_waiting=a.account_key.min(where=waiting).cast("int64"),
    )
    if month_end:
        # The grids that stop before last month (few or none) are found first, then those of them whose
        # account runs: not every grid joined with every account.
        last = bureau.bureau_last_month
        stale = bureau.filter(last.notnull() & ~last.isin([day.month, day.month - 1])).select("account_key")
        b = stale.join(a.select("account_key", runs=runs), "account_key")
        gaps = b.aggregate(gaps=b.account_key.count(where=b.runs).cast("int64")).gaps.as_scalar()
    else:
        gaps = ibis.literal(0, type="int64")
    largest = statements.aggregate(
        largest=steps.principal(statements).max().cast("int64")
    ).largest.as_scalar()
    checked: ir.Table = row.mutate(gaps=gaps, largest_principal=largest)
    return checked


def _query(expr: ir.Table, dialect: str) -> Query:
    return Query(str(ibis.to_sql(expr, dialect=dialect)), expr.schema().to_pyarrow(), reads(expr))


def reads(expr: ir.Table) -> frozenset[str]:
    """The tables ``expr`` reads, by name (the named tables it is built on, without the backend's prefix)."""
    return frozenset(node.name.removeprefix(PREFIX) for node in expr.op().find(ops.UnboundTable))


def spells_of_day(aged: ir.Table, day: steps.Today) -> ir.Table:
    """The spells the accounts left today (``left`` = today) and those they entered (``left`` null)."""
    left = aged.filter(aged.bucket_changed & aged.old_bucket_entered.notnull())
    closed = left.select(
        account_key=left.account_key,
        bucket=left.old_bucket,
        entered=left.old_bucket_entered,
        left=day.on.cast(DAY),
    )
    entered = aged.filter(aged.bucket_changed)
    opened = entered.select(
        account_key=entered.account_key,
        bucket=entered.bucket,
        entered=entered.bucket_entered,
        left=ibis.null(DAY),
    )
    return _state(ibis.union(closed, opened), "bucket_spells")


def _accrue_and_age(
    accounts: ir.Table,
    statements: ir.Table,
    day: steps.Today,
    params: DayTerms,
    elsewhere: ir.Table | None,
    statement_day: bool,
) -> tuple[ir.Table, ir.Table]:
    """The ``accrued`` and ``aged`` steps' expressions (``aged`` reading ``accrued`` by name)."""
    accrue = _typed(steps.accrue(statements, accounts, day, params), "statements")
    accrued = _table("accrued", accrue.schema())
    age = _typed(steps.age(accounts, accrued, day, params, elsewhere, statement_day), "accounts")
    return accrue, age


@functools.lru_cache(maxsize=16)
def aged_schema(terms: ProductTerms, carry_scale: int) -> pa.Schema:
    """The columns of an ordinary day's ``aged`` step (what the limit review reads), without compiling the
    day's queries: the same as ``day_plan(terms, carry_scale, False, False).steps["aged"].schema``."""
    day = steps.Today.placeholders()
    accounts = _table("accounts", ENGINE["accounts"])
    statements = _table("statements", ENGINE["statements"])
    _, age = _accrue_and_age(accounts, statements, day, day_terms(terms, carry_scale), None, False)
    schema: pa.Schema = age.schema().to_pyarrow()
    return schema


@functools.lru_cache(maxsize=64)
def day_plan(
    terms: ProductTerms,
    carry_scale: int,
    statement_day: bool,
    month_end: bool,
    dialect: str = "duckdb",
    review: bool = False,
) -> DayPlan:
    """The queries of a day on ``terms``, compiled for ``dialect`` (``duckdb``, ``postgres``, ``pyspark``).

    review: some account has an active relief arrangement: the day begins with its review
    (:mod:`~overdue.setbased.relief_review`)."""
    params = day_terms(terms, carry_scale)
    day = steps.Today.placeholders()
    accounts = _table("accounts", ENGINE["accounts"])
    statements = _table("statements", ENGINE["statements"])
    unbilled = _table("unbilled", ENGINE["unbilled"])
    periods = _table("periods", ENGINE["periods"])
    bureau = _table("bureau", ENGINE["bureau"])
    arrangements = _table("arrangements", ENGINE["arrangements"])
    checks = _query(_checks(accounts, statements, bureau, day, month_end), dialect)
    queries: dict[str, ir.Table] = {}
    review_postings: list[ir.Table] = []
    if review:
        settled = _table("settled", ENGINE["settled"])
        set_asides = _table("arrangement_set_asides", ENGINE["arrangement_set_asides"])
        payments = _table("arrangement_payments", ENGINE["arrangement_payments"])
        queries["reviewed"] = relief_review.review(
            accounts, arrangements, payments, statements, settled, unbilled, periods, day
        )
        reviewed = _table("reviewed", queries["reviewed"].schema())
        queries["review_pool"] = relief_review.review_pool(statements, settled, reviewed, set_asides, day)
        pool = _table("review_pool", queries["review_pool"].schema())
        touched = pool.select(pool_key=pool.account_key).distinct()
        queries["reviewed_statements"] = ibis.union(
            _state(statements.anti_join(touched, statements.account_key == touched.pool_key), "statements"),
            _state(pool.filter(steps.outstanding(pool) > 0), "statements"),
        )
        queries["settled_next"] = ibis.union(
            _state(settled.anti_join(touched, settled.account_key == touched.pool_key), "settled"),
            _state(pool.filter(steps.outstanding(pool) == 0), "settled"),
        )
        queries["reviewed_accounts"] = relief_review.accounts_after(accounts, reviewed)
        queries["arrangements_next"] = _state(
            relief_review.arrangements_after(arrangements, reviewed, day), "arrangements"
        )
        # a paid settlement or a completed plan ends unbilled purchases and installment periods: the day
        # rewrites these two tables (under their own names) only when some account has such rows
        queries["unbilled_reviewed"] = _state(relief_review.unbilled_reviewed(unbilled, reviewed), "unbilled")
        queries["periods_reviewed"] = _state(relief_review.periods_reviewed(periods, reviewed), "periods")
        review_postings = relief_review.postings(pool, reviewed, day)
        statements = _table("reviewed_statements", ENGINE["statements"])
        accounts = _table("reviewed_accounts", queries["reviewed_accounts"].schema())
        arrangements = _table("arrangements_next", ENGINE["arrangements"])

    elsewhere = steps.closed_lines_owing(accounts, unbilled, periods) if statement_day or month_end else None
    accrue, age = _accrue_and_age(accounts, statements, day, params, elsewhere, statement_day)
    accrued = _table("accrued", accrue.schema())
    aged = _table("aged", age.schema())
    queries |= {"accrued": accrue, "aged": age}
    if month_end:
        queries["bureau_next"] = steps.bureau_month(bureau, aged, day, terms.bureau_grid_months, arrangements)
    day_postings = [
        *review_postings,
        *postings.interest(accrued, day),
        *postings.write_off(aged, accrued, unbilled, periods, day),
    ]
    if statement_day:
        day_postings += postings.installment_fees(steps.installment_fees_billed(periods, aged, day), day)
    queries["day_postings"] = _state(ibis.union(*day_postings), "postings")
    queries["day_spells"] = spells_of_day(aged, day)
    if statement_day:
        rolled = _state(steps.rolled_statements(accrued, aged, day), "statements")
        queries["settling"] = rolled.filter(steps.outstanding(rolled) == 0)
        queries["statements_next"] = ibis.union(
            rolled.filter(steps.outstanding(rolled) > 0),
            _state(steps.new_statements(aged, accrued, unbilled, periods, day, params), "statements"),
        )
        queries["unbilled_next"] = _state(steps.unbilled_after(unbilled, aged, day), "unbilled")
        queries["periods_next"] = _state(steps.periods_after(periods, aged, day), "periods")
    return DayPlan(
        {name: _query(expr, dialect) for name, expr in queries.items()},
        checks,
        statement_day,
        month_end,
    )
