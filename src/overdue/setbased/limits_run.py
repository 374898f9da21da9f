"""The limit review over a :class:`~overdue.setbased.day.Portfolio`, day after day:
:class:`LimitReviewer`.

After each day's accrue → age → bill, :meth:`LimitReviewer.run_day` does what the reference's
:func:`overdue.engine.limits.review_account` does for every account that ran, as a few queries over the
portfolio's tables (:mod:`~overdue.setbased.limits`), compiled once per kind of day and dialect:

- the changes whose effective date has come are applied (on any day; a day with none due and no review
  runs nothing);
- on a review day (:class:`~overdue.risk.changes.ReviewSchedule`; default the statement day) every account
  that ran, is not closed and has a finished cycle is reviewed, the changes are recorded in the
  ``limit_changes`` table (its rows stay in the backend from day to day, like the state) and applied at once
  when they take effect today;
- the accounts' status and the facts' limit are rewritten only on such days.

The borrower's notice of each change recorded (a raise, cut, freeze or close) is what
:meth:`LimitReviewer.outputs` returns: the ``limit_notice`` action rows and their outbox messages (in each
borrower's language, the texts of :mod:`overdue.risk.notices`), filled in at the edge with Arrow compute, as
the collection half fills its messages.

Inputs the state tables do not hold: the ``limit_changes`` recorded before (:data:`~overdue.setbased.limits.
LIMIT_CHANGES`), and for a portfolio read from the store, the statements and bucket spells it keeps beyond
what the day reads (``statement_history``, ``spell_history``): the review reads every statement and the full
bucket history. States built by the domain hold every statement and spell, so those two stay empty.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.channels.templates import CUSTOMER, LENDER, REPAY_CHANNEL
from overdue.domain.terms import ProductTerms
from overdue.engine.limits import NOTICE_LOCALE, LimitReview
from overdue.risk.changes import NOTICE_ACTIONS, parameters_for
from overdue.risk.notices import (
    NOTICE_CHANNEL,
    NOTICE_STAGE,
    NOTICE_TREATMENT,
    TEMPLATE_FOR,
    TEMPLATES,
    reasons_shown,
)
from overdue.risk.review import ReviewParameters
from overdue.setbased import limits
from overdue.setbased.backend import table_name
from overdue.setbased.day import Portfolio
from overdue.setbased.encode import CLOSED, ENGINE, day_number, encode
from overdue.setbased.layout import SPELLS
from overdue.setbased.limits import NOTICE_ACTION_ROWS, NOTICE_MESSAGES
from overdue.setbased.plan import Query, aged_schema, bindings
from overdue.setbased.steps import PLACEHOLDERS, Today

CHECKS = pa.schema([pa.field("several_due", pa.int64()), pa.field("first_several", pa.int64())])
DECISIONS = pa.schema(
    [
        pa.field("account_key", pa.int64()),
        pa.field("action", pa.string()),
        pa.field("effective_on", pa.int32()),
        pa.field("new_limit", pa.int64()),
        pa.field("reasons", pa.string()),
        pa.field("old_limit", pa.int64()),
    ]
)
TOLD = DECISIONS.append(pa.field("language", pa.string()))
"""A change to tell (:data:`~overdue.risk.changes.NOTICE_ACTIONS`), with the borrower's language."""
MANY_LIMITS = pa.schema(
    [
        pa.field("account_key", pa.int64()),
        pa.field("n", pa.int64()),
        pa.field("amount", pa.int64()),
        pa.field("cycle_limit", pa.int64()),
    ]
)
RENAMED = {"limit_changes_next": "limit_changes", "accounts_next": "accounts", "facts_next": "facts"}


@dataclass(frozen=True)
class ReviewQueries:
    """The compiled queries of the review on one kind of day, in order (see :meth:`LimitReviewer.run_day`)."""

    steps: dict[str, Query]
    checks: Query
    review_day: bool


def _table(name: str, schema: pa.Schema) -> ir.Table:
    return ibis.table(ibis.Schema.from_pyarrow(schema), name=table_name(name))


def _review_statements(statements: ir.Table, settled: ir.Table, history: ir.Table) -> ir.Table:
    columns = limits.REVIEW_STATEMENT_COLUMNS
    every: ir.Table = ibis.union(
        statements.select(*columns), settled.select(*columns), history.select(*columns), distinct=False
    )
    return every


@functools.lru_cache(maxsize=32)
def review_queries(
    terms: ProductTerms, carry_scale: int, params: ReviewParameters, review_day: bool, dialect: str
) -> ReviewQueries:
    """The review's queries for accounts on ``terms`` (``params`` already within the product), compiled for
    ``dialect``; ``review_day``: whether accounts are reviewed today (else only changes due are applied)."""
    day = Today.placeholders()
    aged = aged_schema(terms, carry_scale)
    accounts = _table("accounts", aged)
    facts = _table("facts", ENGINE["facts"])
    statements = _table("statements", ENGINE["statements"])
    changes = _table("limit_changes", limits.ENGINE_LIMIT_CHANGES)
    due = changes.filter(changes.applied_on.isnull() & (changes.effective_on <= day.on))
    ran = accounts.filter(accounts.runs).select(ran_key=accounts.account_key)
    several = (
        due.semi_join(ran, due.account_key == ran.ran_key)
        .group_by("account_key")
        .aggregate(count=due.account_key.count())
    )
    several = several.filter(several["count"] > 1)
    checks = several.aggregate(
        several_due=several.account_key.count().cast("int64"),
        first_several=several.account_key.min().cast("int64"),
    )
    queries: dict[str, ir.Table] = {}
    owed = limits.owed_principal(
        statements, _table("unbilled", ENGINE["unbilled"]), _table("periods", ENGINE["periods"])
    )
    queries["review_subjects"] = limits.applied(
        limits.subjects(accounts, facts, owed, changes, day, review_day), params
    )
    subjects = _table("review_subjects", queries["review_subjects"].schema().to_pyarrow())
    queries["review_changes"] = limits.changes_in_force(changes, subjects, day)
    in_force = _table("review_changes", limits.ENGINE_LIMIT_CHANGES)
    recorded = None
    if review_day:
        reviewed = subjects.filter(subjects.status_now != CLOSED)
        every = _review_statements(
            statements,
            _table("settled", ENGINE["settled"]),
            _table("statement_history", limits.ENGINE_STATEMENT_HISTORY),
        )
        closed_spells = ibis.union(
            _table("bucket_spells", ENGINE["bucket_spells"]),
            _table("spell_history", ENGINE["bucket_spells"]),
            distinct=False,
        )
        spells = limits.all_spells(closed_spells, accounts)
        window = max(params.raise_after_cycles, params.near_full_cycles, params.minimum_only_window)
        queries["review_cycles"] = limits.cycles(
            every, spells, in_force, reviewed, day, terms.grace_days, window
        )
        cycles = _table("review_cycles", queries["review_cycles"].schema().to_pyarrow())
        queries["review_facts"] = limits.cycle_facts(cycles, params)
        cycle_facts = _table("review_facts", queries["review_facts"].schema().to_pyarrow())
        history = limits.history_facts(in_force, spells, reviewed)
        queries["review_decisions"] = limits.decisions(reviewed, cycle_facts, history, day, params)
        recorded = _table("review_decisions", DECISIONS)
    queries["review_settled"] = limits.settled_today(subjects, recorded, day)
    settled = _table("review_settled", queries["review_settled"].schema().to_pyarrow())
    queries["limit_changes_next"] = limits.changes_after(in_force, recorded, day, params)
    queries["accounts_next"] = limits.with_settled(accounts, settled, "status")
    queries["facts_next"] = limits.with_settled(facts, settled, "credit_limit")
    compiled = {
        name: Query(str(ibis.to_sql(expr, dialect=dialect)), expr.schema().to_pyarrow())
        for name, expr in queries.items()
    }
    checks_query = Query(str(ibis.to_sql(checks, dialect=dialect)), CHECKS)
    return ReviewQueries(compiled, checks_query, review_day)


def _bind(query: Query, on: date, terms: ProductTerms) -> Query:
    values = {str(PLACEHOLDERS[name]): str(value) for name, value in bindings(on, terms).items()}
    pattern = re.compile("|".join(values))
    return Query(pattern.sub(lambda m: values[m.group(0)], query.sql), query.schema)


@dataclass(frozen=True)
class ReviewRun:
    """What the review did on one date."""

    on: date
    review_day: bool
    applied: int = 0
    """Changes applied today (recorded earlier, or today and taking effect at once)."""
    recorded: dict[str, int] = field(default_factory=dict)
    """Changes recorded today, by action."""


class LimitReviewer:
    """The limit review of a :class:`~overdue.setbased.day.Portfolio`: its ``limit_changes`` and the review
    run after each day, inside the portfolio's backend."""

    def __init__(self, portfolio: Portfolio, review: LimitReview | None = None) -> None:
        self.portfolio = portfolio
        self.review = review or LimitReview()
        self.params = parameters_for(self.review.parameters, portfolio.terms)
        self.last_run: ReviewRun | None = None
        self._rounds = 0

    @classmethod
    def load(
        cls,
        portfolio: Portfolio,
        changes: pa.Table | None = None,
        review: LimitReview | None = None,
        statement_history: pa.Table | None = None,
        spell_history: pa.Table | None = None,
    ) -> LimitReviewer:
        """The review of ``portfolio`` with the changes recorded before (:data:`~overdue.setbased.limits.
        LIMIT_CHANGES`, keyed by the portfolio's ``account_key``) and, for a portfolio read from the store,
        the statements and closed bucket spells the state tables do not hold."""
        reviewer = cls(portfolio, review)
        db = portfolio.db
        db.load("limit_changes", _engine(changes, limits.LIMIT_CHANGES, limits.ENGINE_LIMIT_CHANGES))
        db.load(
            "statement_history",
            _engine(statement_history, limits.STATEMENT_HISTORY, limits.ENGINE_STATEMENT_HISTORY),
        )
        spells = SPELLS.empty_table() if spell_history is None else spell_history
        db.load("spell_history", encode(spells.cast(SPELLS), "bucket_spells", portfolio.terms.last_bucket))
        return reviewer

    def queries(self, on: date) -> ReviewQueries:
        p = self.portfolio
        due = self.review.schedule.due(p.terms, on)
        return review_queries(p.terms, p.carry_scale, self.params, due, p.db.dialect)

    def run_day(self, on: date) -> ReviewRun:
        """Apply the changes due by ``on`` and, on a review day, review, record and apply; run after the
        portfolio's day of ``on`` (the accounts that ran it are those reviewed).

        An account with several changes due (a cut whose notice outlasts the next review, an account that
        did not run on a change's date) has them applied in turn, by effective date, as the reference does:
        each round applies every account's first change due, until no account has more than one left."""
        self.portfolio.require_usable()
        plan = self.queries(on)
        db = self.portfolio.db
        changes = table_name("limit_changes")
        number = day_number(on)
        self._rounds = 0
        if not plan.review_day:
            waiting = db.fetch(
                f"SELECT count(*) AS due FROM {changes} "
                f"WHERE applied_on IS NULL AND effective_on <= {number}",
                pa.schema([("due", pa.int64())]),
            )["due"][0].as_py()
            if not waiting:
                self.last_run = ReviewRun(on, False)
                return self.last_run
        while self._several_due(plan, on):
            if not self._rounds:
                self._keep_before()
            p = self.portfolio
            self._run_steps(review_queries(p.terms, p.carry_scale, self.params, False, db.dialect), on)
            self._rounds += 1
        self._run_steps(plan, on)
        counts = db.fetch(
            f"SELECT count(*) AS applied FROM {changes} WHERE applied_on = {number}",
            pa.schema([("applied", pa.int64())]),
        )["applied"][0].as_py()
        recorded: dict[str, int] = {}
        if plan.review_day:
            rows = db.fetch(
                f"SELECT action, count(*) AS n FROM {table_name('review_decisions')} GROUP BY action",
                pa.schema([("action", pa.string()), ("n", pa.int64())]),
            )
            recorded = dict(sorted(zip(rows["action"].to_pylist(), rows["n"].to_pylist(), strict=True)))
        self.last_run = ReviewRun(on, plan.review_day, counts, recorded)
        return self.last_run

    def _several_due(self, plan: ReviewQueries, on: date) -> bool:
        row = self.portfolio.db.fetch(_bind(plan.checks, on, self.portfolio.terms).sql, CHECKS).to_pylist()
        return bool(row and row[0]["several_due"])

    def _run_steps(self, plan: ReviewQueries, on: date) -> None:
        db = self.portfolio.db
        for name, query in plan.steps.items():
            db.create(name, _bind(query, on, self.portfolio.terms).sql)
            if name == "review_facts":
                self._many_limits(query.schema)
        for step, state in RENAMED.items():
            db.rename(step, state)

    def _keep_before(self) -> None:
        """Keep every account's limit and status before the first round (what :meth:`changed_accounts`
        compares with when the day took several rounds)."""
        self.portfolio.db.create(
            "review_before",
            f"SELECT a.account_key, a.status, f.credit_limit FROM {table_name('accounts')} a "
            f"JOIN {table_name('facts')} f ON a.account_key = f.account_key",
        )

    def changed_accounts(self) -> dict[int, int]:
        """``account_key`` → credit limit of the accounts whose limit or status the last run changed."""
        run = self.last_run
        if run is None or not (run.review_day or run.applied):
            return {}
        if self._rounds:
            sql = (
                f"SELECT f.account_key, f.credit_limit FROM {table_name('facts')} f "
                f"JOIN {table_name('accounts')} a ON f.account_key = a.account_key "
                f"JOIN {table_name('review_before')} b ON f.account_key = b.account_key "
                "WHERE f.credit_limit <> b.credit_limit OR a.status <> b.status"
            )
        else:
            sql = (
                f"SELECT s.account_key, s.credit_limit FROM {table_name('review_settled')} s "
                f"JOIN {table_name('review_subjects')} b ON s.account_key = b.account_key "
                "WHERE s.credit_limit <> b.credit_limit OR s.status <> b.status"
            )
        rows = self.portfolio.db.fetch(
            sql, pa.schema([("account_key", pa.int64()), ("credit_limit", pa.int64())])
        )
        return dict(zip(rows["account_key"].to_pylist(), rows["credit_limit"].to_pylist(), strict=True))

    def _many_limits(self, facts_schema: pa.Schema) -> None:
        """``healthy`` of the accounts whose raise window measured its cycles against more than three
        limits (rare: three limit changes within the window), which the common denominator of
        :func:`~overdue.setbased.limits.cycle_facts` does not hold: their window's cycles are fetched and
        the mean computed as the reference computes it (:func:`overdue.risk.review.review_limit`: each
        utilisation a ``Decimal`` quotient, summed oldest first, divided by the window's length)."""
        db = self.portfolio.db
        p = self.params
        rows = db.fetch(
            f"SELECT c.account_key, c.n, c.amount, c.cycle_limit FROM {table_name('review_cycles')} c "
            f"JOIN {table_name('review_facts')} f ON c.account_key = f.account_key "
            f"WHERE f.limits > 3 AND c.n < {p.raise_after_cycles}",
            MANY_LIMITS,
        )
        if not rows.num_rows:
            return
        windows: dict[int, list[tuple[int, int, int]]] = {}
        for row in rows.to_pylist():
            windows.setdefault(row["account_key"], []).append((row["n"], row["amount"], row["cycle_limit"]))
        healthy: dict[int, bool] = {}
        for key, window in windows.items():
            oldest_first = sorted(window, reverse=True)
            used = sum((Decimal(amount) / Decimal(limit) for _, amount, limit in oldest_first), Decimal(0))
            mean = used / p.raise_after_cycles
            healthy[key] = p.healthy_utilisation_min <= mean <= p.healthy_utilisation_max
        db.load(
            "review_healthy",
            pa.table(
                {"healthy_key": list(healthy), "many_healthy": list(healthy.values())},
                schema=pa.schema([("healthy_key", pa.int64()), ("many_healthy", pa.bool_())]),
            ),
        )
        facts = table_name("review_facts")
        columns = ", ".join(
            "COALESCE(h.many_healthy, f.healthy) AS healthy" if name == "healthy" else f"f.{name}"
            for name in facts_schema.names
        )
        db.create(
            "review_facts_many",
            f"SELECT {columns} FROM {facts} f "
            f"LEFT JOIN {table_name('review_healthy')} h ON f.account_key = h.healthy_key",
        )
        db.rename("review_facts_many", "review_facts")

    def changes(self) -> pa.Table:
        """Every limit change recorded (:data:`~overdue.setbased.limits.LIMIT_CHANGES`), by account and
        review date."""
        columns = ", ".join(limits.LIMIT_CHANGES.names)
        rows = self.portfolio.db.fetch(
            f"SELECT {columns} FROM {table_name('limit_changes')}", limits.ENGINE_LIMIT_CHANGES
        )
        return _layout(rows).sort_by([("account_key", "ascending"), ("review_date", "ascending")])

    def outputs(self) -> tuple[pa.Table, pa.Table, pa.Table]:
        """The last run's changes (those recorded or applied that day), notice actions and messages."""
        run = self.last_run
        if run is None:
            return (
                limits.LIMIT_CHANGES.empty_table(),
                NOTICE_ACTION_ROWS.empty_table(),
                NOTICE_MESSAGES.empty_table(),
            )
        all_changes = self.changes()
        today = pc.or_(
            pc.equal(all_changes["review_date"], pa.scalar(run.on, pa.date32())),
            pc.fill_null(pc.equal(all_changes["applied_on"], pa.scalar(run.on, pa.date32())), False),
        )
        if not run.review_day:
            return all_changes.filter(today), NOTICE_ACTION_ROWS.empty_table(), NOTICE_MESSAGES.empty_table()
        decided = ", ".join(f"d.{name}" for name in DECISIONS.names)
        told = self.portfolio.db.fetch(
            f"SELECT {decided}, f.language FROM {table_name('review_decisions')} d "
            f"JOIN {table_name('facts')} f ON d.account_key = f.account_key "
            f"WHERE d.action IN ({', '.join(repr(a) for a in NOTICE_ACTIONS)})",
            TOLD,
        )
        return all_changes.filter(today), notice_actions(told, run.on), notice_messages(told, run.on)


def _engine(table: pa.Table | None, schema: pa.Schema, engine: pa.Schema) -> pa.Table:
    """A layout table with its dates as day numbers (the engine's form)."""
    if table is None:
        return engine.empty_table()
    table = table.select(schema.names).cast(schema)
    columns = [
        pc.cast(pc.cast(table[f.name], pa.int32()) if f.type == pa.date32() else table[f.name], e.type)
        for f, e in zip(schema, engine, strict=True)
    ]
    return pa.table(columns, schema=engine)


def _layout(table: pa.Table) -> pa.Table:
    columns = [
        pc.cast(pc.cast(table[f.name], pa.int32()), pa.date32()) if f.type == pa.date32() else table[f.name]
        for f in limits.LIMIT_CHANGES
    ]
    return pa.table(columns, schema=limits.LIMIT_CHANGES)


def notice_actions(told: pa.Table, on: date) -> pa.Table:
    """The ``limit_notice`` action rows of the changes recorded on ``on`` (``told``: :data:`TOLD`)."""
    n = told.num_rows

    def fixed(value: object, kind: pa.DataType) -> pa.Array:
        return pa.array([value] * n, kind)

    template = templates_of(told["action"])
    return pa.table(
        {
            "account_key": told["account_key"],
            "business_date": fixed(on, pa.date32()),
            "treatment": fixed(NOTICE_TREATMENT, pa.string()),
            "type": fixed(NOTICE_CHANNEL, pa.string()),
            "stage": fixed(NOTICE_STAGE, pa.string()),
            "template": template,
            "party": fixed("debtor", pa.string()),
            "priority": fixed(0, pa.int32()),
            "status": fixed("queued", pa.string()),
            "reason": told["reasons"],
        },
        schema=NOTICE_ACTION_ROWS,
    ).sort_by("account_key")


def templates_of(actions: pa.Array) -> pa.Array:
    """Each change's notice template (:data:`overdue.risk.notices.TEMPLATE_FOR`) over a column of actions."""
    known = pa.array(list(TEMPLATE_FOR), pa.string())
    chosen: pa.Array = pc.take(
        pa.array(list(TEMPLATE_FOR.values()), pa.string()), pc.index_in(actions, known)
    )
    return chosen


def yuan(fen: pa.Array) -> pa.Array:
    """:func:`overdue.domain.money.format_yuan` over a column of fen (not negative: limits)."""
    whole = pc.cast(pc.divide(fen, 100), pa.string())
    cents = pc.utf8_lpad(
        pc.cast(pc.subtract(fen, pc.multiply(pc.divide(fen, 100), 100)), pa.string()), 2, "0"
    )
    joined: pa.Array = pc.binary_join_element_wise(whole, cents, ".")
    return joined


def notice_messages(told: pa.Table, on: date) -> pa.Table:
    """The outbox's messages of the changes recorded on ``on``, each in its borrower's language
    (``told``'s ``language``) as :func:`overdue.risk.notices.notice_locale` chooses it, filled in column by
    column (the reasons once per distinct combination of codes and locale)."""
    told = told.sort_by("account_key")
    n = told.num_rows
    languages = told["language"]
    distinct = pc.unique(told["reasons"]).to_pylist()
    reason_index = pc.index_in(told["reasons"], value_set=pa.array(distinct, pa.string()))
    effective = pc.cast(pc.cast(pc.cast(told["effective_on"], pa.int32()), pa.date32()), pa.string())
    old_limit, new_limit = yuan(told["old_limit"]), yuan(told["new_limit"])
    reasons_in = {
        locale: pc.take(
            pa.array([reasons_shown(r.split(), locale) for r in distinct], pa.string()), reason_index
        )
        for locale in {locale for texts in TEMPLATES.values() for locale in texts}
    }
    body = pa.array([""] * n, pa.string())
    locale_column = pa.array([NOTICE_LOCALE] * n, pa.string())
    for action, template in TEMPLATE_FOR.items():
        mine = pc.equal(told["action"], action)
        # notice_locale over the column: the borrower's language where the template has it, else zh-CN
        written = pa.array(list(TEMPLATES[template]), pa.string())
        locales = pc.if_else(pc.is_in(languages, value_set=written), languages, NOTICE_LOCALE)
        for locale, text in TEMPLATES[template].items():
            values: dict[str, pa.Array | str] = {
                "lender": LENDER[locale],
                "name": CUSTOMER[locale],
                "repay_channel": REPAY_CHANNEL[locale],
                "old_limit": old_limit,
                "amount": new_limit,
                "effective_on": effective,
                "reasons": reasons_in[locale],
            }
            columns: list[pa.Array | str] = []
            for literal, name, _, _ in string.Formatter().parse(text):
                columns.append(literal)
                if name is not None:
                    columns.append(values[name])
            here = pc.and_(mine, pc.equal(locales, locale))
            body = pc.if_else(here, pc.binary_join_element_wise(*columns, ""), body)
            locale_column = pc.if_else(here, locale, locale_column)
    template_column = templates_of(told["action"])
    return pa.table(
        {
            "account_key": told["account_key"],
            "business_date": pa.array([on] * n, pa.date32()),
            "treatment": pa.array([NOTICE_TREATMENT] * n, pa.string()),
            "channel": pa.array([NOTICE_CHANNEL] * n, pa.string()),
            "template": template_column,
            "locale": locale_column,
            "body": body,
        },
        schema=NOTICE_MESSAGES,
    )
