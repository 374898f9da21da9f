"""Decide → comply → act over a :class:`~overdue.setbased.day.Portfolio`: the collection half of the
day, over tables, after the day's accrue → age → bill.

A :class:`Collector` compiles a strategy (:mod:`~overdue.setbased.collect_decide`) and a rulebook
(:mod:`~overdue.setbased.collect_comply`) once for the portfolio's product and backend, takes the
collection records (:mod:`~overdue.setbased.collect_tables`) into the backend beside the day's state, and
after each :meth:`~overdue.setbased.day.Portfolio.run_day` runs the day's queries — the facts and
decisions; the planned actions and their verdicts; the collection records after the day
(:mod:`~overdue.setbased.collect_act`), which replace the old ones inside the backend — and fetches the
decisions, the actions, the outbox's messages and the work queues' rows.

On a day the relief review ended an arrangement (completed, broken or lapsed: ``arrangements``' status
no longer active, ``ended_on`` the day), :meth:`Collector.run` first follows the end as
:func:`overdue.store.relief_repository.save_arrangement` does before the reference collects: the account's
``plan`` hold is no longer in force, and a broken plan escalates the collection one stage up
(:func:`overdue.domain.collections.plan_broken`; an account without records gets a new account's, escalated).
The day's ends are :attr:`Collector.ended`.

A strategy whose conditions read the collection score (``score``) needs the full bucket history
(:mod:`~overdue.setbased.collect_score`): the portfolio's closed spells and, for a portfolio whose tables do
not hold them all (read from the store), the rest, given to :meth:`Collector.load` as ``spell_history``.

A strategy whose conditions read the month-end behaviour score (``behaviour_score``) needs a
:class:`~overdue.setbased.behaviour.BehaviourScorer` given to :meth:`Collector.load`: at a month end
:meth:`Collector.run` scores the accounts first (the day's ``behaviour_scores``), as the reference scores
them before deciding, and the fact is each account's latest score.

Under a rulebook requiring the US validation notice, the day's facts read the notices sent today and the
day's actions, messages and ``notices`` include them (:mod:`~overdue.setbased.collect_notice`).

The rows are written into the operational store by :mod:`~overdue.setbased.store_collect` (``overdue eod
--store``) or as Parquet by the nightly job. Not built (``docs/setbased.md``): rules not compiled (a
lender's own).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.compliance.seam import Rulebook
from overdue.domain.errors import InvalidInput
from overdue.engine.collect import DEFAULT_LOCALE
from overdue.setbased import collect_tables
from overdue.setbased.backend import table_name
from overdue.setbased.behaviour import LATEST, BehaviourScorer
from overdue.setbased.behaviour import SCORES as BEHAVIOUR_SCORES
from overdue.setbased.collect_act import (
    ACTION_ORDER,
    MESSAGES,
    collections_next,
    done_next,
    messages,
    promises_next,
    with_quoted_agency,
    work_items,
)
from overdue.setbased.collect_comply import CompiledRulebook, compile_rulebook, comply, refusal_reasons
from overdue.setbased.collect_decide import (
    TREATMENTS,
    CompiledStrategy,
    account_facts,
    carried_records,
    compile_strategy,
    decisions,
    planned_actions,
    reads_behaviour,
    reads_names,
    reads_score,
)
from overdue.setbased.collect_notice import (
    NOTICES,
    SENT,
    notice_rows,
    notices_sent,
    with_notice,
)
from overdue.setbased.collect_score import (
    CONTRIBUTIONS,
    THRESHOLDS,
    ScoreInputs,
    contributions_table,
    shipped,
    thresholds_table,
    year_ago_binding,
)
from overdue.setbased.collect_tables import ACTIONS, COLLECTIONS, DECISIONS, DONE, PROMISES
from overdue.setbased.day import Portfolio
from overdue.setbased.encode import (
    BROKEN_ARRANGEMENT,
    CODE,
    COMPLETED_ARRANGEMENT,
    DAY,
    ENGINE,
    LAPSED_ARRANGEMENT,
    PENDING_ARRANGEMENT,
    PLAN_KIND,
    account_slices,
    encode,
    numbers_within,
)
from overdue.setbased.layout import SPELLS
from overdue.setbased.params import Unsupported
from overdue.setbased.plan import bindings
from overdue.setbased.steps import PLACEHOLDERS, Today
from overdue.setbased.timing import timed
from overdue.strategy.model import Strategy
from overdue.strategy.quiet import quiet_days_of


@dataclass(frozen=True)
class CollectionDay:
    """The day's decisions, actions, messages and work (layout types)."""

    on: date
    decisions: pa.Table
    actions: pa.Table
    messages: pa.Table
    """The outbox's rows (:data:`~overdue.setbased.collect_act.MESSAGES`)."""
    work: pa.Table
    """The work queues' rows (:data:`~overdue.setbased.collect_act.WORK`)."""
    notices: pa.Table = field(default_factory=NOTICES.empty_table)
    """The US validation notices sent (:data:`~overdue.setbased.collect_notice.NOTICES`); their actions and
    messages are among ``actions`` and ``messages``."""
    behaviour_scores: pa.Table = field(default_factory=BEHAVIOUR_SCORES.empty_table)
    """The month-end behaviour scores recorded before the decision (:data:`~overdue.setbased.behaviour.
    SCORES`; only at a month end, with a :class:`~overdue.setbased.behaviour.BehaviourScorer`)."""


def _table(name: str, schema: pa.Schema) -> ir.Table:
    return ibis.table(ibis.Schema.from_pyarrow(schema), name=table_name(name))


@dataclass(frozen=True)
class Queries:
    """The collection half's SQL, with the business date's placeholders."""

    decided: str
    actions: str
    actions_schema: pa.Schema
    """The engine's action rows: numbers, the refusal and the quoted agency, not the treatments' texts
    (:data:`TEXTS`) nor the positions, both put on by :meth:`Collector.run`."""
    collections_next: str
    promises_next: str
    done_next: str
    scores: str | None
    """Each account's ``score`` fact (only when a condition reads it)."""
    notices: str | None = None
    """The accounts sending the US validation notice (only under a rulebook requiring it)."""
    ended: str = ""
    """The arrangements the day's review ended (:data:`ENDED`)."""
    followed: str = ""
    """``collections`` with the rows of ``collect_ended_records`` in place of (or beside) their own."""
    ran_check: str = ""
    """How many accounts ran on the day but were not open by it, or were open by it but did not run
    (``odd``): none, and the accounts that ran are those opened by the day."""
    listed_next: str = ""
    """``collect_listed`` with the accounts that ran on the day."""
    state: str = ""
    """The layout's ``collections`` rows (engine columns): the engine's sparse rows, and a new account's
    for each account listed (``collect_listed``, or opened by the day placeholder's date) without one."""
    state_loaded: str = ""
    """:attr:`state` before any day has run: the accounts listed in ``collect_listed`` only."""


TEXTS = (
    "treatment",
    "type",
    "stage",
    "template",
    "party",
    "experiment",
    "variant",
    "reason",
    "channel",
    "queue",
)
"""The action rows' texts that are the treatment's (by treatment and combination of variants:
:data:`~overdue.setbased.collect_decide.TREATMENTS`)."""
SCORES = pa.schema([pa.field("account_key", pa.int64()), pa.field("score", pa.int64())])
ENDED = pa.schema([pa.field("account_key", pa.int64()), pa.field("broken", pa.bool_())])
"""An arrangement the day's review ended: its account, and whether it was a plan that broke."""


def _ended(day: Today) -> ir.Table:
    """The arrangements ended on the day (:data:`ENDED`): only the review ends one, on the day it runs."""
    a = _table("arrangements", ENGINE["arrangements"])
    return a.filter(
        a.status.isin([COMPLETED_ARRANGEMENT, BROKEN_ARRANGEMENT, LAPSED_ARRANGEMENT])
        & (a.ended_on == day.on)
    ).select(
        "account_key", broken=((a.kind == PLAN_KIND) & (a.status == BROKEN_ARRANGEMENT)).fill_null(False)
    )


def _followed() -> ir.Table:
    """``collections`` with the records of the accounts whose arrangement ended in place of their own."""
    engine = collect_tables.ENGINE
    collections = _table("collections", engine["collections"])
    ended = _table("collect_ended_records", engine["collections"])
    return ibis.union(
        collections.filter(~collections.account_key.isin(ended.account_key)), ended, distinct=False
    )


ROWS_PER_SLICE = 1 << 17
"""About how many action rows :meth:`Collector.run` puts together at once (a slice ends where an account's
rows end)."""


def _cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


_COMPILED: dict[tuple[object, ...], tuple[CompiledStrategy, Queries]] = {}
"""Compiled plans by strategy, rulebook, terms and dialect: compiling with Ibis takes seconds."""


def _ran_check(accounts: ir.Table, day: Today) -> ir.Table:
    """One row, ``odd``: the accounts that ran on the day (``last_eod``) but were not open by it, or were
    open by it (``opened_on``) but did not run."""
    ran = (accounts.last_eod == day.on).fill_null(False)
    opened = (accounts.opened_on <= day.on).fill_null(False)
    return accounts.aggregate(odd=accounts.account_key.count(where=ran != opened).cast("int64"))


def _listed_next(accounts: ir.Table, listed: ir.Table, day: Today) -> ir.Table:
    """``collect_listed`` and the accounts that ran on the day."""
    ran = accounts.filter(accounts.last_eod == day.on).select("account_key")
    return ibis.union(listed.select("account_key"), ran, distinct=True)


def _state(collections: ir.Table, listed: ir.Table, opened: ir.Table | None) -> ir.Table:
    """``collections`` with a new account's row (:data:`~overdue.setbased.collect_tables.NEW_RECORD`) for
    each account of ``listed`` or ``opened`` (``account_key``) that has none."""
    keys = listed.select("account_key")
    if opened is not None:
        keys = ibis.union(keys, opened.select("account_key"), distinct=True)
    have = collections.select(row_key=collections.account_key)
    missing = keys.anti_join(have, keys.account_key == have.row_key)
    schema = collect_tables.ENGINE["collections"]
    new = missing.select(
        **{
            f.name: missing.account_key
            if f.name == "account_key"
            else ibis.literal(collect_tables.NEW_RECORD.get(f.name), type=ibis.dtype(f.type))
            for f in schema
        }
    )
    return ibis.union(collections.select(*schema.names), new, distinct=False)


def _compile(compiled: CompiledStrategy, rules: CompiledRulebook, dialect: str) -> Queries:
    """The SQL of the day's queries, with placeholders."""
    day = Today.placeholders()
    engine = collect_tables.ENGINE
    accounts = _table("accounts", ENGINE["accounts"])
    collections = _table("collections", engine["collections"])
    promises = _table("promises", engine["promises"])
    listed = _table("collect_listed", collect_tables.LISTED)
    score = None
    if reads_score(compiled.strategy):
        closed = ibis.union(
            _table("bucket_spells", ENGINE["bucket_spells"]),
            _table("collect_spell_history", ENGINE["bucket_spells"]),
        )
        score = ScoreInputs(
            closed,
            _table("score_contributions", CONTRIBUTIONS),
            _table("score_thresholds", THRESHOLDS),
            compiled.terms.last_bucket,
        )
    facts = account_facts(
        accounts,
        _table("statements", ENGINE["statements"]),
        _table("facts", ENGINE["facts"]),
        collections,
        promises,
        _table("arms", engine["arms"]),
        day,
        names=reads_names(compiled.strategy),
        score=score,
        behaviour=_table("behaviour_latest", LATEST) if reads_behaviour(compiled.strategy) else None,
        quiet_days=quiet_days_of(compiled.strategy),
    )
    if rules.validation_notice:
        facts = with_notice(facts, day)
    decided = decisions(facts, compiled, day)
    decided_table = ibis.table(decided.schema(), name=table_name("collect_decided"))
    planned = planned_actions(
        decided_table, _table("treatments", TREATMENTS), _table("done", engine["done"]), compiled, day
    )
    checked = comply(planned, _table("contacts", engine["contacts"]), rules, day)
    checked = with_quoted_agency(checked, compiled.strategy)
    # The treatments' texts stay out of the engine's table: they are put on the fetched rows by the
    # treatment and combination (writing and fetching a few million strings costs more than taking them).
    actions = checked.select(
        "account_key",
        "treatment_index",
        "combo",
        "priority",
        "refused_rule",
        "refusal_count",
        "refusal_day",
        "overdue_balance",
        "total_due",
        "days_to_due",
        "days_past_due",
        "minimum_remaining",
        *(["quoted_agency"] if "quoted_agency" in checked.columns else []),
    )
    actions_table = ibis.table(actions.schema(), name=table_name("collect_actions"))
    carried = carried_records(accounts, decided_table, collections, promises, day)

    def sql(expr: ir.Table) -> str:
        return str(ibis.to_sql(expr, dialect=dialect))

    return Queries(
        decided=sql(decided),
        actions=sql(actions),
        actions_schema=actions.schema().to_pyarrow(),
        collections_next=sql(
            collections_next(
                decided_table, carried, actions_table, [t.type for t in compiled.strategy.treatments], day
            )
        ),
        promises_next=sql(promises_next(promises, accounts, day)),
        done_next=sql(done_next(_table("done", engine["done"]), actions_table, day)),
        scores=None if score is None else sql(facts.select("account_key", "score")),
        notices=sql(notices_sent(decided_table, collections)) if rules.validation_notice else None,
        ended=sql(_ended(day)),
        followed=sql(_followed()),
        ran_check=sql(_ran_check(accounts, day)),
        listed_next=sql(_listed_next(accounts, listed, day)),
        state=sql(_state(collections, listed, accounts.filter(accounts.opened_on <= day.on))),
        state_loaded=sql(_state(collections, listed, None)),
    )


class Collector:
    """A strategy and a rulebook compiled for one portfolio's product and backend.

    portfolio: the day's state, inside its backend. strategy: a parsed strategy. rulebook: the rulebook
    every planned contact passes (a :class:`~overdue.compliance.RuleSetRulebook` or ``none``).
    :class:`~overdue.setbased.params.Unsupported` names what does not compile; nothing is run then.
    """

    def __init__(self, portfolio: Portfolio, strategy: Strategy, rulebook: Rulebook) -> None:
        self.portfolio = portfolio
        rules = compile_rulebook(rulebook)
        key = (id(strategy), rules, portfolio.terms, portfolio.db.dialect)
        cached = _COMPILED.get(key)
        if cached is None or cached[0].strategy is not strategy:
            compiled = compile_strategy(strategy, portfolio.terms)
            cached = (compiled, _compile(compiled, rules, portfolio.db.dialect))
            _COMPILED[key] = cached
        self.strategy: CompiledStrategy = cached[0]
        self.rulebook: CompiledRulebook = rules
        self.account_ids = pa.table(
            {"account_key": pa.array([], pa.int64()), "account_id": pa.array([], pa.string())}
        )
        """Every account's id by ``account_key`` (the notices' texts quote it)."""
        self.queries: Queries = cached[1]
        treatments = self.strategy.treatments
        combos = len(self.strategy.parameters)
        rows = np.full(len(self.strategy.treatment_ids) * combos, -1, np.int64)
        keys = treatments["treatment_index"].to_numpy().astype(np.int64) * combos
        rows[keys + treatments["combo"].to_numpy().astype(np.int64)] = np.arange(treatments.num_rows)
        self.treatment_rows = rows
        """The treatments table's row of each treatment and combination of variants (at ``treatment_index
        × combinations + combo``), from which :meth:`run` takes the actions' texts."""
        self.stage_names: list[str] = [stage.name for stage in self.strategy.strategy.stages]
        """The stage names by the index the engine's ``collections`` holds them as
        (:func:`~overdue.setbased.collect_tables.stage_names`: the strategy's, then the others the records
        loaded name)."""
        self.behaviour: BehaviourScorer | None = None
        self.loaded = False
        self.follows = False
        """Whether the portfolio had an arrangement active or ended when the records were loaded (none
        becomes active in a run: without one, no day ends any)."""
        self.ended = ENDED.empty_table()
        """The arrangements the last day run ended (:data:`ENDED`), whose end the records followed."""
        self.opened_through: date | None = None
        """The latest day run since the records were loaded on which the accounts that ran were exactly
        those opened by it (every other day's are in ``collect_listed``): with the accounts listed in
        ``collect_listed``, those whose records :meth:`state` gives although the engine's ``collections``
        leaves a new account's row out."""

    def load(
        self,
        collections: pa.Table,
        promises: pa.Table,
        done: pa.Table,
        contacts: pa.Table,
        *,
        spell_history: pa.Table | None = None,
        behaviour: BehaviourScorer | None = None,
    ) -> None:
        """Take the collection records into the backend (layout: :mod:`~overdue.setbased.collect_tables`),
        with every account's experiment arms and the strategy's treatments.

        spell_history: the closed bucket spells the portfolio's tables do not hold (layout
        :data:`~overdue.setbased.layout.SPELLS`, keyed by ``account_key``; a portfolio read from the store:
        :func:`overdue.setbased.limits_io.read_review`'s), an empty table when they hold every spell (built
        from states, :func:`~overdue.setbased.convert.tables_from_states`). Needed only by a strategy whose
        conditions read ``score``; such a strategy without it is refused with
        :class:`~overdue.setbased.params.Unsupported`.

        behaviour: the portfolio's month-end behaviour scores (its latest scores loaded), run by
        :meth:`run` at each month end before deciding. Needed by a strategy whose conditions read
        ``behaviour_score`` (refused without it); given with another, its scores are still recorded.

        The records are those before the arrangements still active end (a ``plan`` hold in force while one
        is kept); :meth:`run` follows each end on its day."""
        if behaviour is None and reads_behaviour(self.strategy.strategy):
            raise Unsupported(
                f"strategy {self.strategy.strategy.name} reads behaviour_score: the latest month-end "
                "behaviour score; pass a BehaviourScorer (behaviour) with the scores recorded so far"
            )
        if behaviour is not None and behaviour.portfolio is not self.portfolio:
            raise InvalidInput("the behaviour scorer is of another portfolio")
        self.behaviour = behaviour
        if self.queries.scores is not None and spell_history is None:
            raise Unsupported(
                f"strategy {self.strategy.strategy.name} reads score: the collection score counts earlier "
                "delinquency episodes in the full bucket history; pass the closed bucket spells the "
                "portfolio's tables do not hold (spell_history; an empty table when they hold every spell)"
            )
        self.portfolio.require_usable()
        db = self.portfolio.db
        accounts = db.fetch(
            f"SELECT account_key, account_id, timezone, language FROM {table_name('facts')}",
            pa.schema(
                [
                    ("account_key", pa.int64()),
                    ("account_id", pa.string()),
                    ("timezone", pa.string()),
                    ("language", pa.string()),
                ]
            ),
        )
        self.account_ids = accounts.select(["account_key", "account_id"])
        # Only the accounts not written to in zh-CN: the messages look their rows up by account (the others,
        # nearly always all of them, need no lookup).
        self.languages = accounts.filter(pc.not_equal(accounts["language"], DEFAULT_LOCALE)).select(
            ["account_key", "language"]
        )
        strategy_stages = [stage.name for stage in self.strategy.strategy.stages]
        self.stage_names = collect_tables.stage_names(strategy_stages, collections)
        encoded = collect_tables.encode_collections(collections, self.stage_names)
        rows, listed = collect_tables.sparse_collections(encoded)
        db.load("collections", rows)
        db.load("collect_listed", listed)
        self.opened_through = None
        db.load("promises", collect_tables.encode_promises(promises))
        db.load("done", collect_tables.encode_done(done, self.strategy.treatment_ids))
        db.load("contacts", collect_tables.encode_contacts(contacts, accounts))
        db.load("arms", collect_tables.arms(self.strategy.strategy, accounts))
        db.load("treatments", self.strategy.treatments)
        self.follows = self.follows or self._had_arrangements()
        if self.queries.scores is not None and spell_history is not None:
            model = shipped()
            last = self.portfolio.terms.last_bucket
            db.load("collect_spell_history", encode(spell_history.cast(SPELLS), "bucket_spells", last))
            db.load("score_contributions", contributions_table(model))
            db.load("score_thresholds", thresholds_table(model))
        self.loaded = True

    def _bound(self, on: date) -> Callable[[str], str]:
        """Puts ``on``'s numbers in place of the placeholders of a compiled query."""
        values = {
            str(PLACEHOLDERS[name]): str(value) for name, value in bindings(on, self.portfolio.terms).items()
        }
        values.update(year_ago_binding(on))
        pattern = re.compile("|".join(values))

        def bound(sql: str) -> str:
            return pattern.sub(lambda m: values[m.group(0)], sql)

        return bound

    def scores(self, on: date) -> pa.Table:
        """The ``score`` fact of each account the decision of ``on`` looks at (``account_key``, ``score``;
        null where DPD is 0), as :meth:`run` would read it: call after the portfolio's day of ``on`` and
        before :meth:`run`. Only for a strategy whose conditions read ``score``."""
        if self.queries.scores is None:
            raise InvalidInput(f"strategy {self.strategy.strategy.name} does not read score")
        if not self.loaded:
            raise InvalidInput("the collection records are not loaded: call Collector.load first")
        table: pa.Table = self.portfolio.db.fetch(self._bound(on)(self.queries.scores), SCORES)
        return table.sort_by("account_key")

    def run(self, on: date) -> CollectionDay:
        """Decide and comply for every account whose end-of-day of ``on`` ran (run it first)."""
        self.portfolio.require_usable()
        if not self.loaded:
            raise InvalidInput("the collection records are not loaded: call Collector.load first")
        with timed("behaviour scores"):
            recorded = BEHAVIOUR_SCORES.empty_table() if self.behaviour is None else self.behaviour.run(on)
        bound = self._bound(on)
        db = self.portfolio.db
        queries = self.queries
        with timed("arrangements ended"):
            self._follow_ends(bound)
        with timed("accounts that ran"):
            self._list_ran(on, bound)
        # The facts' joins are written with the accounts needing a decision on the left of each; DuckDB
        # estimates those at a few percent of their number and would reorder the joins around the guess,
        # building its hash tables on the wide rows (docs/PERFORMANCE.md, "The facts joined as written").
        db.create("collect_decided", bound(queries.decided), joins_as_written=True)
        db.create("collect_actions", bound(queries.actions))
        # Sorted by the engine, in parallel (the rows come back in no particular order).
        decided = db.fetch(
            f"SELECT account_key, stage_index, pause_index FROM {table_name('collect_decided')} "
            "ORDER BY account_key",
            pa.schema([("account_key", pa.int64()), ("stage_index", CODE), ("pause_index", CODE)]),
        )
        # Sorted by the engine, in parallel where it can: by account, then in the order of the positions.
        rows = db.fetch(
            f"SELECT * FROM {table_name('collect_actions')} ORDER BY account_key, {', '.join(ACTION_ORDER)}",
            queries.actions_schema,
        )
        sent = None if queries.notices is None else db.fetch(bound(queries.notices), SENT)

        def records_next() -> None:
            # The decisions and the actions dropped after the last query reading them (nothing reads them
            # after the day): their memory serves the tables made after them, today's and the next day's.
            db.create("collections_next", bound(queries.collections_next))
            db.drop("collect_decided")
            db.create("promises_next", bound(queries.promises_next))
            db.create("done_next", bound(queries.done_next))
            db.drop("collect_actions")
            for name in ("collections", "promises", "done"):
                db.rename(f"{name}_next", name)

        # The engine writes the records after the day while the rows are put together from what was
        # fetched, a slice of accounts at a time on every core (Arrow's kernels and the engine's queries both
        # let go of the interpreter's lock); nothing else touches the engine until the records are written.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="overdue-records") as engine_thread:
            written = engine_thread.submit(records_next)
            with timed("rows: actions, messages and work"):
                actions, outbox, work = self._rows(rows, on)
            with timed("rows: decisions"):
                decisions = self._decisions(decided, on)
            with timed("rows: waiting for the records"):
                written.result()
        if sent is None or sent.num_rows == 0:
            return CollectionDay(on, decisions, actions, outbox, work, behaviour_scores=recorded)
        stages = pa.array([s.name for s in self.strategy.strategy.stages], pa.string())
        with timed("rows: notices"):
            notice_actions, notice_messages, notices = notice_rows(sent, on, stages, self.account_ids)
        # The notice goes before the decision's actions (position -1) and messages; sorting is stable.
        return CollectionDay(
            on,
            decisions,
            pa.concat_tables([notice_actions, actions]).sort_by(
                [("account_key", "ascending"), ("position", "ascending")]
            ),
            pa.concat_tables([notice_messages, outbox]).sort_by("account_key"),
            work,
            notices,
            recorded,
        )

    def _list_ran(self, on: date, bound: Callable[[str], str]) -> None:
        """Note the accounts that run on ``on``, whose records :meth:`state` gives from now on: every
        account opened by ``on`` on an ordinary day (:attr:`opened_through`), else those that ran are
        added to ``collect_listed``."""
        odd: int = self.portfolio.db.fetch(bound(self.queries.ran_check), pa.schema([("odd", pa.int64())]))[
            "odd"
        ][0].as_py()
        if odd == 0:
            self.opened_through = on if self.opened_through is None else max(on, self.opened_through)
            return
        self.portfolio.db.create("collect_listed_next", bound(self.queries.listed_next))
        self.portfolio.db.rename("collect_listed_next", "collect_listed")

    def _had_arrangements(self) -> bool:
        """Whether any arrangement is active or ended (one may have ended on the day just run)."""
        rows = self.portfolio.db.fetch(
            f"SELECT COUNT(*) AS ended FROM {table_name('arrangements')} "
            f"WHERE status <> {PENDING_ARRANGEMENT}",
            pa.schema([("ended", pa.int64())]),
        )
        count: int = rows["ended"][0].as_py()
        return count > 0

    def _follow_ends(self, bound: Callable[[str], str]) -> None:
        """The arrangements the day's review ended (:attr:`ended`) followed in ``collections``, as
        :func:`overdue.store.relief_repository.save_arrangement` follows them before the reference collects:
        the ``plan`` hold ended at the start of the day (not in force at its end), a broken plan escalated
        (:func:`overdue.domain.collections.plan_broken`; an account without records gets a new account's).
        A few accounts a day: their rows are changed here and put back in place of their own."""
        self.ended = ENDED.empty_table()
        if not self.follows:
            return
        db = self.portfolio.db
        ended = db.fetch(bound(self.queries.ended), ENDED).sort_by("account_key")
        if ended.num_rows == 0:
            return
        self.ended = ended
        schema = collect_tables.ENGINE["collections"]
        keys = ", ".join(str(k) for k in ended["account_key"].to_pylist())
        rows = {
            r["account_key"]: r
            for r in db.fetch(
                f"SELECT * FROM {table_name('collections')} WHERE account_key IN ({keys})", schema
            ).to_pylist()
        }
        changed = []
        for key, broken in zip(ended["account_key"].to_pylist(), ended["broken"].to_pylist(), strict=True):
            row = collect_tables.followed_end(rows.get(key), key, bool(broken), schema.names, engine=True)
            if row is not None:
                changed.append(row)
        if not changed:
            return
        db.load("collect_ended_records", pa.Table.from_pylist(changed, schema=schema))
        db.create("collections_next", self.queries.followed)
        db.rename("collections_next", "collections")
        db.drop("collect_ended_records")

    def state(self) -> tuple[pa.Table, pa.Table, pa.Table]:
        """The collection records as they stand (after the last day run): ``collections``, ``promises`` and
        ``done``, in the layout (:mod:`~overdue.setbased.collect_tables`). ``collections`` has a row for
        every account loaded with one and every account that ran on a day run since: the engine's table
        leaves out those that are a new account's (:data:`~overdue.setbased.collect_tables.NEW_RECORD`),
        filled back in here."""
        db = self.portfolio.db
        engine = collect_tables.ENGINE
        through = self.opened_through
        filled = self.queries.state_loaded if through is None else self._bound(through)(self.queries.state)
        collections = db.fetch(filled, engine["collections"])
        promises = db.fetch(f"SELECT * FROM {table_name('promises')}", engine["promises"])
        done = db.fetch(f"SELECT * FROM {table_name('done')}", engine["done"])
        ids = pa.array(self.strategy.treatment_ids, pa.string())
        done_rows = pa.table(
            {
                "account_key": done["account_key"],
                "treatment": pc.take(ids, done["treatment_index"]),
                "last_done": done["last_done"],
            }
        )
        return (
            collect_tables.decode(collections, COLLECTIONS, self.stage_names).sort_by("account_key"),
            collect_tables.decode(promises, PROMISES).sort_by(
                [("account_key", "ascending"), ("promise_id", "ascending")]
            ),
            collect_tables.decode(done_rows, DONE).sort_by(
                [("account_key", "ascending"), ("treatment", "ascending")]
            ),
        )

    def _rows(self, rows: pa.Table, on: date) -> tuple[pa.Table, pa.Table, pa.Table]:
        """The day's actions, outbox messages and work items from the engine's action rows (``rows``: by
        account, then in the order of the positions), put together a slice of accounts at a time
        (:data:`ROWS_PER_SLICE`) on every core, each slice's tables one chunk of the day's. Over 2 M rows at
        once each step takes hundreds of megabytes of fresh memory, and the kernel's time faulting it in
        was half the work (``docs/PERFORMANCE.md``, "The rows a slice at a time")."""
        slices = account_slices(rows, ROWS_PER_SLICE)
        workers = min(len(slices), _cores())
        if workers <= 1:
            done = [self._slice_rows(part, on) for part in slices]
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="overdue-rows") as pool:
                done = list(pool.map(lambda part: self._slice_rows(part, on), slices))
        actions, outbox, work = (pa.concat_tables([d[i] for d in done]) for i in range(3))
        return actions, outbox, work

    def _slice_rows(self, rows: pa.Table, on: date) -> tuple[pa.Table, pa.Table, pa.Table]:
        """:meth:`_rows` over one slice of accounts (each account's rows all in it)."""
        # An account's actions come in the order of their positions: number each account's run.
        position = pc.cast(numbers_within(rows["account_key"]), pa.int32())
        rows = self._with_texts(rows.add_column(1, "position", position))
        actions = self._actions(rows, on)
        outbox = (
            messages(rows, on, self.strategy.strategy, self.languages)
            if rows.num_rows
            else MESSAGES.empty_table()
        )
        return actions, outbox, work_items(actions)

    def _with_texts(self, rows: pa.Table) -> pa.Table:
        """``rows`` (the engine's action rows) with their treatment's texts (:data:`TEXTS`), taken from the
        treatments table by treatment and combination of variants."""
        combos = len(self.strategy.parameters)
        keys = pc.add(
            pc.multiply(pc.cast(rows["treatment_index"], pa.int64()), combos),
            pc.cast(rows["combo"], pa.int64()),
        )
        picked = pa.array(self.treatment_rows[np.asarray(keys.to_numpy(), np.int64)])
        for name in TEXTS:
            rows = rows.append_column(name, self.strategy.treatments[name].take(picked))
        return rows

    def _decisions(self, decided: pa.Table, on: date) -> pa.Table:
        """The decisions' rows, the stage and pause by name (``decided``: the engine's, by account)."""
        strategy = self.strategy.strategy
        stages = pa.array([s.name for s in strategy.stages], pa.string())
        pauses = pa.array([p.name for p in strategy.pauses], pa.string())
        return pa.table(
            {
                "account_key": decided["account_key"],
                "business_date": pa.repeat(pa.scalar(on, pa.date32()), decided.num_rows),
                "stage": pc.take(stages, decided["stage_index"]),
                "paused_by": pc.take(pauses, decided["pause_index"]),
            }
        ).cast(DECISIONS)

    def _actions(self, rows: pa.Table, on: date) -> pa.Table:
        """The actions' rows (``rows``: the day's actions in order, by account and position)."""
        refused = pc.is_valid(rows["refused_rule"]).combine_chunks()
        # The reasons are written for the refused rows only (a few percent of them).
        picked = rows.filter(refused)
        with_day = picked.set_column(
            picked.schema.get_field_index("refusal_day"),
            "refusal_day",
            pc.cast(pc.cast(picked["refusal_day"], DAY), pa.date32()),
        )
        reasons = refusal_reasons(with_day, on.isoformat(), self.rulebook)
        if isinstance(reasons, pa.ChunkedArray):
            reasons = reasons.combine_chunks()
        columns = {
            "account_key": rows["account_key"],
            "business_date": pa.repeat(pa.scalar(on, pa.date32()), rows.num_rows),
            **{name: rows[name] for name in ACTIONS.names if name in rows.column_names and name != "reason"},
            "status": pc.if_else(refused, pa.scalar("refused"), pa.scalar("queued")),
            "reason": pc.replace_with_mask(rows["reason"].combine_chunks(), refused, reasons),
        }
        return pa.table({name: columns[name] for name in ACTIONS.names}).cast(ACTIONS)
