"""End-of-days over a portfolio held inside a backend: :class:`Portfolio`, and :func:`run_day` for one day
over Arrow tables.

A :class:`Portfolio` loads the state tables into the backend once (encoded for the engine:
:mod:`~overdue.setbased.encode`) and then runs day after day without the state leaving it: each step of a
day (:mod:`~overdue.setbased.plan`) creates a table from the tables before it, and at the end of the day
the new tables take the state tables' names (a state table no later step reads is dropped as soon as
that is so: :func:`early_drops`). Only what a caller asks for comes back, as Arrow in the
layout's types (:mod:`~overdue.setbased.layout`): the state (:meth:`Portfolio.tables`) and the day's
outputs (:meth:`Portfolio.outputs`).

What changes on a day: the statements with something unpaid (accrual), the accounts (ageing), and on a
statement day the unbilled cycles and installment periods (also on a day a paid settlement or a completed
plan ends some), on a month end the bureau grids. The account
facts (ids, product, time zone, limit) and the installment plans are never read or rewritten; the relief
arrangements only on a day when some are active (:mod:`~overdue.setbased.relief_review`: reviewed before
the accrual, the accounts still under one paused; the collection half reads their ``plan`` fact); settled
statements (nothing unpaid: no rule of the day reads or changes them, and nothing in a day makes them
unpaid again) are kept apart and only appended to, on a statement day, by the statements it rolls; the
closed bucket spells are only appended to. So the tables a day reads do not grow with the portfolio's
history, and neither does the cost of a day.

Before a day runs, one aggregate query checks the state: an account not at the date is refused as the
reference refuses it, and what the expressions cannot compute exactly raises
:class:`~overdue.setbased.params.Unsupported`; nothing is computed in either case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import ibis  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from ibis.backends import BaseBackend  # type: ignore[import-untyped]

from overdue.domain.calendar import is_month_end, month_key
from overdue.domain.errors import InvalidDate, InvalidInput
from overdue.domain.terms import ProductTerms
from overdue.setbased import layout
from overdue.setbased.backend import Workspace, table_name, workspace
from overdue.setbased.encode import ACTIVE_ARRANGEMENT, DAY, ENGINE, day_of, decode, encode
from overdue.setbased.layout import DayResult, PortfolioTables
from overdue.setbased.memory import keep_freed_blocks
from overdue.setbased.params import MAX_PRINCIPAL, Unsupported, day_terms
from overdue.setbased.plan import CHECKS, DayPlan, Query, day_plan
from overdue.setbased.steps import COMPONENTS
from overdue.setbased.timing import timed

STATE = (
    "accounts",
    "facts",
    "bureau",
    "statements",
    "settled",
    "unbilled",
    "plans",
    "periods",
    "bucket_spells",
    "arrangements",
    "arrangement_payments",
    "arrangement_set_asides",
)
"""The state tables inside the backend."""
RENAMED = {
    "aged": "accounts",
    "accrued": "statements",
    "statements_next": "statements",
    "unbilled_next": "unbilled",
    "periods_next": "periods",
    "bureau_next": "bureau",
}
"""After a day, the steps' tables that become state tables (on a statement day ``statements_next``
replaces ``accrued``)."""
APPENDED = {"settling": "settled"}
"""Steps whose rows are added to a state table in their turn, straight from their query: never written as
a table of their own (on a statement day ``settling``, the statements billing emptied, 3 M rows at 10 M
accounts; into ``settled_next`` on a day whose review rewrites ``settled``)."""
REVIEW_STEPS = ("reviewed", "review_pool", "reviewed_statements", "reviewed_accounts")
"""The review's intermediate tables, dropped once the day has run (on a day with active arrangements)."""
REVIEW_REWRITES = {"unbilled_reviewed": "unbilled", "periods_reviewed": "periods"}
"""The review's steps that rewrite a state table (a paid settlement, a completed plan ending unbilled
purchases and installment periods), made only when some account has such rows, and then taking the state
table's name before the rest of the day reads it."""


def replacements(steps: Mapping[str, object], statement_day: bool) -> dict[str, str]:
    """The day's steps (of ``steps``) whose tables become state tables at its end, and which (of
    :data:`RENAMED`: on a statement day ``statements_next``, not ``accrued``, becomes ``statements``)."""
    return {
        step: state
        for step, state in RENAMED.items()
        if step in steps and not (statement_day and step == "accrued")
    }


def early_drops(queries: dict[str, Query], statement_day: bool) -> dict[str, tuple[str, ...]]:
    """The state tables the day replaces (:data:`RENAMED`) that go before its end, and on a statement day
    ``accrued`` (which ``statements_next`` replaces): each is dropped before the step that follows the
    last step reading it (by step; none where that is the last step).

    Dropped at the day's end instead, each old table would live beside its replacement through the rest of
    the day; dropped early, its memory serves the next steps' tables (DuckDB keeps the memory of the blocks
    it frees: :func:`overdue.setbased.memory.keep_freed_blocks`) instead of fresh pages faulted in — the
    10 M benchmark's accounts' day faults about 310,000 pages instead of 615,000, and three days in a row
    peak 1.5 GB lower (``docs/PERFORMANCE.md``). A day stopped after such a drop leaves the portfolio
    unusable (:attr:`Portfolio.interrupted`)."""
    replaced = set(replacements(queries, statement_day).values()) | ({"accrued"} if statement_day else set())
    order = list(queries)
    drops: dict[str, list[str]] = {}
    for state in sorted(replaced):
        readers = [n for n, name in enumerate(order) if state in queries[name].reads]
        if readers and readers[-1] + 1 < len(order):
            drops.setdefault(order[readers[-1] + 1], []).append(state)
    return {name: tuple(states) for name, states in drops.items()}


@dataclass(frozen=True)
class DayRun:
    """What one day over a :class:`Portfolio` did (its outputs stay in the backend until the next day)."""

    on: date
    accounts_run: int
    """Accounts whose end-of-day ran (others were not open yet or had run this date already)."""
    month_end: bool


class Portfolio:
    """A portfolio's state tables inside one backend connection, advanced a day at a time.

    backend: an Ibis DuckDB, PostgreSQL or PySpark connection; the tables are temporary tables (views over
    checkpointed DataFrames on Spark) of that connection. One portfolio per connection: the tables have
    fixed names.
    """

    def __init__(self, backend: BaseBackend, terms: ProductTerms, carry_scale: int) -> None:
        day_terms(terms, carry_scale)
        self.backend = backend
        self.db: Workspace = workspace(backend)
        self.terms = terms
        self.carry_scale = carry_scale
        self.last_run: DayRun | None = None
        self.interrupted: date | None = None
        """The date of a day that stopped after dropping state tables (:func:`early_drops`) or adding
        rows to one (:data:`APPENDED`): the portfolio cannot be used again. Set before the first drop or
        append, cleared when the day ends."""

    @classmethod
    def load(cls, tables: PortfolioTables, terms: ProductTerms, backend: BaseBackend) -> Portfolio:
        """Load ``tables`` (all on ``terms``) into ``backend``."""
        portfolio = cls(backend, terms, tables.carry_scale)
        tables = tables.conform()
        s = tables.statements
        unpaid = pc.greater(
            pc.add(
                pc.add(pc.add(s["new_principal"], s["carried_principal"]), s["installment_principal"]),
                pc.add(pc.add(s["interest"], s["overdue_interest"]), s["fees"]),
            ),
            0,
        )
        edge = {
            "accounts": tables.accounts,
            "facts": tables.accounts,
            "bureau": tables.accounts,
            "statements": s.filter(unpaid),
            "settled": s.filter(pc.invert(unpaid)),
            "unbilled": tables.unbilled,
            "plans": tables.plans,
            "periods": tables.periods,
            "bucket_spells": tables.bucket_spells,
            "arrangements": tables.arrangements,
            "arrangement_payments": tables.arrangement_payments,
            "arrangement_set_asides": tables.arrangement_set_asides,
        }
        for name in STATE:
            portfolio.db.load(name, encode(edge[name], name, terms.last_bucket))
        return portfolio

    def plan(self, on: date) -> DayPlan:
        return day_plan(
            self.terms,
            self.carry_scale,
            on.day == self.terms.statement_day,
            is_month_end(on),
            self.db.dialect,
            self.has_active_arrangements(),
        )

    def has_active_arrangements(self) -> bool:
        """Whether any account has an active relief arrangement (the day then begins with the review)."""
        arrangements = table_name("arrangements")
        rows = self.db.fetch(
            f"SELECT COUNT(*) AS active FROM {arrangements} WHERE status = {ACTIVE_ARRANGEMENT}",
            pa.schema([("active", pa.int64())]),
        )
        active: int = rows["active"][0].as_py()
        return active > 0

    def _pool_counts(self) -> tuple[bool, bool]:
        """Whether the review changes any statement, and whether any it changes is or becomes settled (else
        ``statements``, or ``settled``, is read as it is: no copy of it is made)."""
        empty = " + ".join(_quoted(c, self.db) for c in COMPONENTS) + " = 0"
        rows = self.db.fetch(
            f"SELECT COUNT(*) AS touched, "
            f"SUM(CASE WHEN {_quoted('from_settled', self.db)} OR ({empty}) THEN 1 ELSE 0 END) AS settles "
            f"FROM {table_name('review_pool')}",
            pa.schema([("touched", pa.int64()), ("settles", pa.int64())]),
        ).to_pylist()[0]
        return bool(rows["touched"]), bool(rows["settles"])

    def _review_rewrites(self) -> set[str]:
        """The state tables the review rewrites today (:data:`REVIEW_REWRITES`): ``unbilled`` when a paid
        settlement leaves unbilled purchases, ``periods`` when a paid settlement or a completed plan leaves
        installment periods not billed yet (else the day reads them as they are: no copy is made)."""
        rows = self.db.fetch(
            f"SELECT SUM(CASE WHEN {_quoted('clears_unbilled', self.db)} THEN 1 ELSE 0 END) AS unbilled, "
            f"SUM(CASE WHEN {_quoted('clears_periods', self.db)} THEN 1 ELSE 0 END) AS periods "
            f"FROM {table_name('reviewed')}",
            pa.schema([("unbilled", pa.int64()), ("periods", pa.int64())]),
        ).to_pylist()[0]
        return {name for name, count in rows.items() if count}

    def check(self, on: date, checks: Query) -> int:
        """Refuse what the reference refuses and what the set-based day cannot compute exactly; returns how
        many accounts run."""
        row = self.db.fetch(checks.sql, CHECKS).to_pylist()[0]
        if row["waiting"]:
            key = row["first_waiting"]
            schema = pa.schema([("opened_on", DAY), ("last_eod", DAY), ("account_id", pa.string())])
            first = self.db.fetch(
                f"SELECT a.opened_on, a.last_eod, f.account_id FROM {table_name('accounts')} a "
                f"JOIN {table_name('facts')} f ON a.account_key = f.account_key WHERE a.account_key = {key}",
                schema,
            ).to_pylist()[0]
            expected = day_of(first["opened_on"] if first["last_eod"] is None else first["last_eod"] + 1)
            raise InvalidDate(
                f"end-of-day of {on.isoformat()} on account {first['account_id']} must wait for "
                f"{expected.isoformat()} ({row['waiting']} account(s) behind: catch up the days in between)"
            )
        if row["largest_principal"] is not None and row["largest_principal"] > MAX_PRINCIPAL:
            raise Unsupported(
                f"a statement principal of {row['largest_principal']} fen, above {MAX_PRINCIPAL}"
            )
        if row["gaps"]:
            previous = month_key(on.replace(day=1) - timedelta(days=1))
            raise Unsupported(
                f"bureau grids that stop before {previous}: the {month_key(on)} status would leave a gap"
            )
        runs: int = row["runs"]
        return runs

    def run_day(self, on: date) -> DayRun:
        """Run the end-of-day of ``on`` over every account.

        Accounts not open yet, or that already ran ``on``, are left as they are (the reference's no-op). An
        account that runs must be at ``on`` (its last end-of-day the day before), or
        :class:`~overdue.domain.errors.InvalidDate` is raised as the reference raises it; what the
        expressions cannot compute exactly raises :class:`~overdue.setbased.params.Unsupported`. Nothing is
        computed in either case.
        """
        self.require_usable()
        with timed("plan"):
            plan = self.plan(on)
            checks, queries = plan.bind(on, self.terms)
        with timed("checks"):
            runs = self.check(on, checks)
        drops = early_drops(queries, plan.statement_day)
        review = "reviewed" in queries
        touched, settles = True, True
        rewrites: set[str] = set()
        for name, query in queries.items():
            for state in drops.get(name, ()):
                self.interrupted = on
                self.db.drop(state)
            if name in APPENDED:
                # Added in its turn, so that the tables it reads can go before the day's end; the state
                # has changed then, and the day cannot simply run again.
                self.interrupted = on
                state = APPENDED[name]
                # into the review's rewrite of settled where there is one: it becomes settled at the end
                into = f"{state}_next" if review and settles and state == "settled" else state
                self.db.append(into, _select(ENGINE[state], f"({query.sql}) AS {name}", self.db))
                continue
            if (name == "reviewed_statements" and not touched) or (name == "settled_next" and not settles):
                # nothing to change there: the day reads the table as it is
                if name == "reviewed_statements":
                    self.db.rename("statements", "reviewed_statements")
                continue
            if name in REVIEW_REWRITES:
                if REVIEW_REWRITES[name] in rewrites:
                    self.db.create(name, query.sql)
                    self.db.rename(name, REVIEW_REWRITES[name])
                continue
            self.db.create(name, query.sql)
            if name == "reviewed":
                rewrites = self._review_rewrites()
            if name == "review_pool":
                touched, settles = self._pool_counts()
        if review:
            if settles:
                self.db.rename("settled_next", "settled")
            self.db.rename("arrangements_next", "arrangements")
            for name in REVIEW_STEPS:
                self.db.drop(name)
        self.db.append(
            "bucket_spells",
            f"SELECT * FROM {table_name('day_spells')} WHERE {_quoted('left', self.db)} IS NOT NULL",
        )
        if plan.statement_day:
            self.db.drop("accrued")  # gone already, unless no step followed its last reader
        for step, state in replacements(plan.steps, plan.statement_day).items():
            self.db.rename(step, state)
        # A day that stops after a drop leaves interrupted set: the state it dropped is gone with it, and
        # the portfolio must be loaded again (the nightly job loads the day before's snapshot).
        self.interrupted = None
        self.last_run = DayRun(on, runs, plan.month_end)
        return self.last_run

    def require_usable(self) -> None:
        """Refuse to go on with a portfolio whose last day stopped after dropping state it replaces
        (:class:`~overdue.domain.errors.InvalidInput`, naming the day); the collection half checks it too."""
        if self.interrupted is not None:
            raise InvalidInput(
                f"the end-of-day of {self.interrupted.isoformat()} stopped after it had dropped state tables "
                "it replaces: load the portfolio again (the snapshot of the day before)"
            )

    def tables(self) -> PortfolioTables:
        """The state, fetched from the backend in the layout's types."""
        self.require_usable()
        last = self.terms.last_bucket
        accounts = table_name("accounts")
        joined = self.db.fetch(
            f"SELECT a.*, f.account_id, f.product, f.timezone, f.credit_limit, f.last_deferral_on, "
            f"f.language, b.bureau_grid, b.bureau_last_month FROM {accounts} a "
            f"JOIN {table_name('facts')} f ON a.account_key = f.account_key "
            f"JOIN {table_name('bureau')} b ON a.account_key = b.account_key",
            pa.schema([*ENGINE["accounts"], *ENGINE["facts"].remove(0), *ENGINE["bureau"].remove(0)]),
        )
        return PortfolioTables(
            accounts=decode(joined, layout.ACCOUNTS, last).sort_by("account_key"),
            statements=pa.concat_tables(
                [self._fetch("statements", layout.STATEMENTS), self._fetch("settled", layout.STATEMENTS)]
            ).sort_by([("account_key", "ascending"), ("statement_date", "ascending")]),
            unbilled=self._fetch("unbilled", layout.UNBILLED),
            plans=self._fetch("plans", layout.PLANS),
            periods=self._fetch("periods", layout.PERIODS),
            bucket_spells=self._fetch("bucket_spells", layout.SPELLS),
            carry_scale=self.carry_scale,
            arrangements=self._fetch("arrangements", layout.ARRANGEMENTS).sort_by("account_key"),
            arrangement_payments=self._fetch("arrangement_payments", layout.ARRANGEMENT_PAYMENTS).sort_by(
                [("account_key", "ascending"), ("number", "ascending")]
            ),
            arrangement_set_asides=self._fetch(
                "arrangement_set_asides", layout.ARRANGEMENT_SET_ASIDES
            ).sort_by([("account_key", "ascending"), ("position", "ascending")]),
        )

    def _fetch(self, name: str, schema: pa.Schema) -> pa.Table:
        engine = ENGINE[name] if name in ENGINE else ENGINE[_OUTPUTS[name]]
        columns = ", ".join(_quoted(c, self.db) for c in engine.names)
        rows = self.db.fetch(f"SELECT {columns} FROM {table_name(name)}", engine)
        return decode(rows, schema, self.terms.last_bucket)

    def outputs(self) -> tuple[pa.Table, pa.Table, pa.Table]:
        """The last day's postings, bucket spells and bureau months (layout types)."""
        self.require_usable()
        if self.last_run is None:
            raise InvalidDate("no end-of-day has run on this portfolio yet")
        posting_rows = self._fetch("day_postings", layout.POSTINGS)
        spells = self._fetch("day_spells", layout.SPELLS)
        reported = layout.BUREAU_MONTHS.empty_table()
        if self.last_run.month_end:
            bureau = table_name("bureau")
            rows = self.db.fetch(
                f"SELECT account_key, bureau_status FROM {bureau} WHERE bureau_status IS NOT NULL",
                pa.schema([("account_key", pa.int64()), ("bureau_status", pa.string())]),
            )
            reported = pa.table(
                {
                    "account_key": rows["account_key"],
                    "month": pa.array([month_key(self.last_run.on)] * rows.num_rows, pa.string()),
                    "status": rows["bureau_status"],
                },
                schema=layout.BUREAU_MONTHS,
            )
        return posting_rows, spells, reported


_OUTPUTS = {"day_postings": "postings", "day_spells": "bucket_spells"}


def _select(schema: pa.Schema, source: str, db: Workspace) -> str:
    """The columns of ``schema``, in its order, from ``source`` (a FROM item: ``(query) AS alias``)."""
    columns = ", ".join(_quoted(c, db) for c in schema.names)
    return f"SELECT {columns} FROM {source}"


def _quoted(name: str, db: Workspace) -> str:
    return f"`{name}`" if db.dialect == "pyspark" else f'"{name}"'


def run_day(
    tables: PortfolioTables, on: date, terms: ProductTerms, con: BaseBackend | None = None
) -> DayResult:
    """Run the end-of-day of ``on`` over every account of ``tables`` (all on ``terms``), on ``con``.

    Loads the tables into the backend, runs the day (:meth:`Portfolio.run_day`) and fetches the state and
    outputs back: one day over Arrow tables. For day after day, keep a :class:`Portfolio` instead, so the
    state stays in the backend.

    con: an Ibis DuckDB, PostgreSQL or PySpark connection (default: a new in-process DuckDB, keeping the
    memory of the blocks it frees for the next steps: :func:`overdue.setbased.memory.keep_freed_blocks`).
    One run at a time per connection.
    """
    backend = con
    if backend is None:
        backend = ibis.duckdb.connect()
        keep_freed_blocks(backend)
    portfolio = Portfolio.load(tables, terms, backend)
    run = portfolio.run_day(on)
    posting_rows, spells, reported = portfolio.outputs()
    after = portfolio.tables()
    return DayResult(
        tables=after,
        postings=posting_rows,
        bucket_spells=spells,
        bureau_months=reported,
        accounts_run=run.accounts_run,
    )
