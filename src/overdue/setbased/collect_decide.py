"""Decide over tables: a strategy compiled to Ibis expressions giving every account's planned actions.

The reference (:func:`overdue.engine.collect.plan_collection`) runs per account after its end-of-day:
open or close the delinquency episode, break the promises past their date (each one escalates the ladder),
decide once without escalation to learn the stage DPD puts the account in, let the escalation lapse once
DPD has moved the account on, and decide again with it (:func:`overdue.strategy.decide`). Here each of
those is a column of one table per account, and the strategy is data:

- :func:`account_facts`: the facts a strategy reads (:class:`~overdue.strategy.facts.AccountFacts`), one
  row per account that ran today and has something billed unpaid or overdue — DPD, bucket and status from
  the aged accounts, balances and days to due from an aggregate over the unpaid statements, the rest from
  the collection records (``collections``, ``promises``) after the episode and promise reviews; the
  accounts that ran without needing a decision only have their records reviewed
  (:func:`carried_records`);
- :func:`decisions`: the stage (a ``CASE`` over the stages' conditions, then up along ``next`` links by the
  escalation), the pause (a ``CASE`` over the pauses), in a narrow table (:data:`DECIDED`);
- :func:`planned_actions`: the decisions joined with the strategy's treatments (a small table,
  :attr:`CompiledStrategy.treatments`, one row per treatment and combination of experiment variants), kept
  where the treatment's DPD and due-date schedule and conditions hold (a ``CASE`` on the treatment), then
  joined with the last date each treatment (and the one its ``after`` names) was done in the episode and
  kept where ``once``, ``every_days`` and ``after`` let it fire.

Experiments: each account's variants are the reference's sticky hash, computed once when the tables are
loaded (:func:`overdue.setbased.collect_tables.arms`); a parameter that a variant overrides becomes a
``CASE`` on the account's combination of variants, and the reason and arm of each action come from the
treatments table. The ``score`` fact, only when a condition reads it, is the collection score computed
exactly as the reference computes it (:mod:`~overdue.setbased.collect_score`); the ``behaviour_score``
fact, likewise, the latest month-end behaviour score (:mod:`~overdue.setbased.behaviour`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]

from overdue.domain.collections import PROMISE_MEMORY_DAYS
from overdue.domain.terms import ProductTerms
from overdue.engine.collect import CONTACT_CHANNEL, MESSAGE_CHANNELS, WORK_QUEUES
from overdue.setbased.backend import table_name
from overdue.setbased.collect_act import reviewed_promises
from overdue.setbased.collect_score import ScoreInputs, with_score
from overdue.setbased.collect_tables import ENUMS, HOLDS, NEW_RECORD, combinations, enum_code
from overdue.setbased.encode import (
    ACTIVE_ARRANGEMENT,
    BROKEN_ARRANGEMENT,
    CODE,
    DAY,
    ENGINE,
    PLAN_KIND,
    STATUSES,
    WRITTEN_OFF,
    bucket_names,
    day_number,
)
from overdue.setbased.params import Unsupported
from overdue.setbased.steps import Today, left_join, outstanding, past_due, short_of_minimum, written_as
from overdue.strategy.conditions import Condition, Ref, Test, Value
from overdue.strategy.decide import treatment_reason
from overdue.strategy.facts import FIELDS
from overdue.strategy.model import Strategy, Treatment, resolve_int

NOT_COMPILED: dict[str, str] = {}
"""Facts a compiled strategy may not read, and why."""

TREATMENTS = pa.schema(
    [
        pa.field("stage_index", CODE),
        pa.field("combo", pa.int32()),
        pa.field("treatment_index", pa.int32()),
        pa.field("after_index", pa.int32()),
        pa.field("stage", pa.string()),
        pa.field("treatment", pa.string()),
        pa.field("type", pa.string()),
        pa.field("template", pa.string()),
        pa.field("priority", pa.int32()),
        pa.field("party", pa.string()),
        pa.field("experiment", pa.string()),
        pa.field("variant", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("contact_channel", pa.string()),
        pa.field("channel", pa.string()),
        pa.field("queue", pa.string()),
    ]
)
"""The compiled strategy's treatments: one row per treatment and combination of experiment variants, with
what the action records (its reason and arm depend on the combination) and the channels the rulebook and the
outbox see."""


@dataclass(frozen=True)
class CompiledStrategy:
    """A strategy ready for the expressions: its parameters per combination of variants, its treatments
    by index, and the treatments table."""

    strategy: Strategy
    terms: ProductTerms
    parameters: tuple[Mapping[str, int], ...]
    """The parameters in force for each combination of experiment variants (by combination number)."""
    treatment_ids: tuple[str, ...]
    treatments: pa.Table

    def treatment(self, index: int) -> Treatment:
        return self.strategy.treatments[index]


def compile_strategy(strategy: Strategy, terms: ProductTerms) -> CompiledStrategy:
    """``strategy`` for accounts on ``terms``; :class:`Unsupported` names what cannot be compiled."""
    conditions: list[tuple[str, Condition]] = [(f"stage {s.name}", s.when) for s in strategy.stages]
    conditions += [(f"pause {p.name}", p.when) for p in strategy.pauses]
    conditions += [(f"treatment {t.id}", t.when) for t in strategy.treatments]
    for where, condition in conditions:
        for name in sorted(condition.fields() & NOT_COMPILED.keys()):
            raise Unsupported(f"strategy {strategy.name}: {where} reads {name}: {NOT_COMPILED[name]}")
    combos = combinations(strategy)
    parameters: list[Mapping[str, int]] = []
    for combo in combos:
        values = dict(strategy.parameters)
        for experiment, name in zip(strategy.experiments, combo, strict=True):
            values.update(next(v for v in experiment.variants if v.name == name).parameters)
        parameters.append(values)
    ids = tuple(t.id for t in strategy.treatments)
    rows: list[dict[str, object]] = []
    index = 0
    for stage_index, stage in enumerate(strategy.stages):
        for treatment in stage.treatments:
            reads = treatment.refs() | stage.when.refs()
            arm = next(
                (n for n, e in enumerate(strategy.experiments) if e.parameter_names() & reads),
                0 if strategy.experiments else None,
            )
            for combo_index, combo in enumerate(combos):
                channel = MESSAGE_CHANNELS.get(treatment.type)
                reason = treatment_reason(treatment, parameters[combo_index])
                rows.append(
                    {
                        "stage_index": stage_index,
                        "combo": combo_index,
                        "treatment_index": index,
                        "after_index": None
                        if treatment.after is None
                        else ids.index(treatment.after.treatment),
                        "stage": stage.name,
                        "treatment": treatment.id,
                        "type": treatment.type,
                        "template": treatment.template,
                        "priority": treatment.priority,
                        "party": treatment.party,
                        "experiment": None if arm is None else strategy.experiments[arm].name,
                        "variant": None if arm is None else combo[arm],
                        "reason": f"stage {stage.name}: {reason}",
                        "contact_channel": channel or CONTACT_CHANNEL.get(treatment.type, "none"),
                        "channel": channel,
                        "queue": WORK_QUEUES.get(treatment.type),
                    }
                )
            index += 1
    return CompiledStrategy(
        strategy, terms, tuple(parameters), ids, pa.Table.from_pylist(rows, schema=TREATMENTS)
    )


# --- facts ---------------------------------------------------------------------------------------------


def account_facts(
    accounts: ir.Table,
    statements: ir.Table,
    facts: ir.Table,
    collections: ir.Table,
    promises: ir.Table,
    arms: ir.Table,
    day: Today,
    names: bool = False,
    score: ScoreInputs | None = None,
    arrangements: ir.Table | None = None,
    behaviour: ir.Table | None = None,
    quiet_days: frozenset[int] | None = None,
) -> ir.Table:
    """One row per account that ran today and needs a decision — overdue, or something billed unpaid and
    not quiet today (:func:`overdue.engine.collect.needs_decision`) — with every fact under its
    :class:`~overdue.strategy.facts.AccountFacts` name (``escalation`` the one after today's promise
    review, before it lapses) and the collection records after the episode and promise reviews
    (``episode_started_on``, ``previous_stage``, ``escalated_from``).

    The accounts are chosen before anything is joined to them: with quiet days, only the unpaid
    statements of the accounts that may need a decision (overdue, records not settled, or a statement
    falling due on a quiet day) are aggregated, else every account's; the records, arms and promises are
    joined to the accounts that need a decision; the others only have their records carried on
    (:func:`carried_records`). The joins are written with those accounts on the left of each, the order
    to run them in (DuckDB's estimate of their number is far off: :class:`~overdue.setbased.collect.
    Collector` has the engine keep the order written).
    names: whether to join ``account_id`` and ``product`` (strings, from ``facts``): only when a
    condition reads them. score: the tables the collection score reads (only when a condition reads it,
    :func:`reads_score`): gives the ``score`` column (:func:`overdue.setbased.collect_score.with_score`).
    arrangements: the relief arrangements (engine ``arrangements``; default: the portfolio's table), whose
    kind and status give the ``plan`` fact as :func:`overdue.domain.relief_arrangements.plan_fact` does.
    behaviour: each account's latest month-end behaviour score (``account_key``, ``behaviour_score``:
    :data:`overdue.setbased.behaviour.LATEST`; only when a condition reads it, :func:`reads_behaviour`):
    gives the ``behaviour_score`` column (null for an account never scored, as the reference).
    quiet_days: the strategy's :func:`~overdue.strategy.quiet.quiet_day_filter` (None: no account is quiet).
    """
    on = day.on
    ran = accounts.filter(accounts.last_eod == on)
    a = ran.select("account_key", "days_past_due", "bucket", "status")
    s = statements.filter(outstanding(statements) > 0)
    if quiet_days is not None:
        # Only the accounts that may need a decision have their statements aggregated: overdue, records
        # not settled, or an unpaid statement falling due on one of the quiet days (the latest unpaid one,
        # which decides, is then among them) — on most days the overdue accounts and few others.
        # (whether the records are settled is tested once, here, and read again by the quiet filter)
        a = a.mutate(unsettled=a.account_key.isin(_unsettled(collections, promises).account_key))
        may = (a.days_past_due > 0) | a.unsettled
        if quiet_days:
            due_quietly = s.filter((s.due_date - on).isin(sorted(quiet_days)))
            may = may | a.account_key.isin(due_quietly.account_key)
        a = a.filter(may)
        s = s.filter(s.account_key.isin(a.account_key))
    # The unpaid statements are aggregated before the accounts are joined: what the account's status
    # changes (a written-off account's past-due statements are all overdue) is summed both ways, and the
    # latest statement's due date and minimum are taken by its date (one statement an account a date).
    past = past_due(s, day)
    sums = s.group_by("account_key").aggregate(
        past_due_balance=written_as(outstanding(s).sum(where=past), "int64"),
        short_balance=written_as(outstanding(s).sum(where=past & short_of_minimum(s)), "int64"),
        total_due=written_as(outstanding(s).sum(), "int64"),
        latest_due=s.due_date.argmax(s.statement_date),
        minimum_remaining=ibis.greatest(0, s.minimum + s.late_charges - s.paid).argmax(s.statement_date),
    )
    # An account without an arms row is in combination 0: only the others are joined, onto the narrow
    # rows of the candidates before anything else is (then the engine hashes the 5 M-row side once).
    t = left_join(left_join(a, arms.filter(arms.combo != 0)), sums)
    # overdue, or something billed unpaid (the sums are null for an account without unpaid statements)
    t = t.filter((t.days_past_due > 0) | t.total_due.notnull())
    if quiet_days is not None:
        t = t.filter((t.days_past_due > 0) | _not_quiet(t, quiet_days, on)).drop("unsettled")
    t = t.mutate(
        overdue_balance=ibis.ifelse(t.status == WRITTEN_OFF, t.past_due_balance, t.short_balance)
    ).drop("past_due_balance", "short_balance")
    if names:
        t = left_join(t, facts.select("account_key", "account_id", "product"))
    t = left_join(t, collections.rename(previous_stage="stage", collection_escalation="escalation"))
    t = left_join(t, _promise_review(promises, day))
    t = t.mutate(
        **{name: t[name].fill_null(value) for name, value in RECORD_DEFAULTS.items()},
        pending=t.pending.fill_null(0),
        overdue_balance=t.overdue_balance.fill_null(0),
        total_due=t.total_due.fill_null(0),
        minimum_remaining=t.minimum_remaining.fill_null(0),
        combo=t.combo.fill_null(0),
    )
    t = reviewed(t, day)
    if arrangements is None:
        arrangements = ibis.table(
            ibis.Schema.from_pyarrow(ENGINE["arrangements"]), name=table_name("arrangements")
        )
    t = left_join(
        t,
        arrangements.select(
            "account_key", arrangement_kind=arrangements.kind, arrangement_status=arrangements.status
        ),
    )
    if score is not None:
        t = with_score(t, ran, promises, score, day)
    if behaviour is not None:
        t = left_join(t, behaviour.select("account_key", "behaviour_score"))
    # the enum facts by their index (:data:`~overdue.setbased.collect_tables.ENUMS`)
    promise = ibis.cases(
        (t.pending > 0, enum_code("promise", "pending")),
        (t.latest_resolved.isnull(), enum_code("promise", "none")),
        (on - t.latest_resolved > PROMISE_MEMORY_DAYS, enum_code("promise", "none")),
        *((t.latest_status == status, enum_code("promise", status)) for status in ("kept", "broken")),
        else_=-1,
    ).cast(CODE)
    facts_table: ir.Table = t.select(
        "account_key",
        *(["account_id", "product"] if names else []),
        "combo",
        "days_past_due",
        "bucket",
        "status",
        "overdue_balance",
        "total_due",
        "minimum_remaining",
        "contactability",
        "attempts",
        "connects",
        "agency",
        "validation_notice_on",
        *(["score"] if score is not None else []),
        *(["behaviour_score"] if behaviour is not None else []),
        "episode_started_on",
        "previous_stage",
        "escalation",
        "escalated_from",
        days_to_due=t.latest_due - on,
        promise=promise,
        plan=ibis.cases(
            (t.hold_plan | (t.arrangement_status == ACTIVE_ARRANGEMENT), enum_code("plan", "active")),
            (
                (t.arrangement_kind == PLAN_KIND) & (t.arrangement_status == BROKEN_ARRANGEMENT),
                enum_code("plan", "broken"),
            ),
            else_=enum_code("plan", "none"),
        ).cast(CODE),
        dispute=t.dispute_open | t.hold_dispute,
        litigation_hold=t.litigation_hold | t.hold_litigation,
        cease=t.hold_cease,
        sold=t.hold_sold,
        days_since_last_contact=on - t.last_contact_on,
        days_placed=on - t.placed_on,
        last_contact_on=t.last_contact_on,
        placed_on=t.placed_on,
        collection_dispute_open=t.dispute_open,
        collection_litigation_hold=t.litigation_hold,
        **{f"hold_{kind}": t[f"hold_{kind}"] for kind in HOLDS},
    )
    return facts_table


def _not_quiet(t: ir.Table, quiet_days: frozenset[int], on: ir.IntegerScalar) -> ir.BooleanValue:
    """Where an account at DPD 0 with something billed unpaid is not quiet today: its latest unpaid
    statement falls due one of ``quiet_days`` from ``on`` (a day number), or its records are not settled
    (``unsettled``: :func:`_unsettled`)."""
    not_quiet: ir.BooleanValue = t.unsettled
    if quiet_days:
        not_quiet = not_quiet | (t.latest_due - on).isin(sorted(quiet_days))
    return not_quiet


def _unsettled(collections: ir.Table, promises: ir.Table) -> ir.Table:
    """The accounts whose records are not settled (:func:`overdue.engine.collect.settled`: an episode
    open, an escalation, a promise pending) as ``account_key`` rows, an account with pending promises
    possibly more than once: only tested with ``isin``, which needs no distinct keys (making the 1.5 M keys
    of the 10 M benchmark distinct cost a grouping of them)."""
    c = collections
    unsettled: ir.Table = ibis.union(
        c.filter(c.episode_started_on.notnull() | (c.escalation.fill_null(0) != 0)).select("account_key"),
        promises.filter(promises.status == "pending").select("account_key"),
    )
    return unsettled


RECORD_DEFAULTS: Mapping[str, object] = {
    **{("collection_escalation" if name == "escalation" else name): v for name, v in NEW_RECORD.items()},
    "broken": 0,
}
"""The records of an account without a ``collections`` row (or without promises): a new account's
(:data:`~overdue.setbased.collect_tables.NEW_RECORD`, the escalation named as the facts name it), no
promise broken."""


def reviewed(t: ir.Table, day: Today) -> ir.Table:
    """The episode and promise reviews (:func:`overdue.domain.collections.start_or_end_episode`,
    :func:`~overdue.domain.collections.review_promises`) over ``t``: ``days_past_due``, the
    ``collections`` columns (``stage`` as ``previous_stage``, ``escalation`` as ``collection_escalation``,
    defaults filled in) and ``broken``, the promises breaking today. Gives ``escalation``; the episode
    columns, ``previous_stage`` and ``escalated_from`` reviewed."""
    on = day.on
    dpd = t.days_past_due
    starts = (dpd > 0) & t.episode_started_on.isnull()
    ends = (dpd == 0) & t.episode_started_on.notnull()
    reset = starts | ends
    t = t.mutate(
        episode_started_on=ibis.cases((starts, on), (ends, ibis.null(DAY)), else_=t.episode_started_on).cast(
            DAY
        ),
        attempts=ibis.ifelse(starts, 0, t.attempts),
        connects=ibis.ifelse(starts, 0, t.connects),
        escalation=ibis.ifelse(reset, 0, t.collection_escalation),
        escalated_from=ibis.ifelse(reset, ibis.null(CODE), t.escalated_from),
        previous_stage=ibis.ifelse(reset, ibis.null(CODE), t.previous_stage),
    )
    # Promises past their date broken, each one stage up.
    restart = t.escalated_from.notnull() & (
        t.previous_stage.isnull() | (t.escalated_from != t.previous_stage)
    )
    broke = t.broken > 0
    after: ir.Table = t.mutate(
        escalation=ibis.ifelse(broke, ibis.ifelse(restart, 0, t.escalation) + t.broken, t.escalation),
        escalated_from=ibis.ifelse(broke, t.previous_stage, t.escalated_from),
    )
    return after


def carried_records(
    accounts: ir.Table, decided: ir.Table, collections: ir.Table, promises: ir.Table, day: Today
) -> ir.Table:
    """The records of the accounts not decided today that have any (a ``collections`` row, or a promise
    breaking today), reviewed where the account ran (the episode and promise reviews), as they were where it
    did not; ``ran`` says which. The columns of :func:`account_facts` that ``collections`` holds.

    An account that ran without a row or a promise breaking keeps a new account's records: it has no row
    here (``collections`` is sparse, :func:`overdue.setbased.collect_act.collections_next`)."""
    on = day.on
    p = reviewed_promises(promises, day)
    broken = p.filter(p.breaks).group_by("account_key").aggregate(broken=lambda b: b.account_key.count())
    # ``collections`` has one row an account: only the accounts with a promise breaking and no row are
    # added to its keys (not every key made distinct)
    rows = collections.select(row_key=collections.account_key)
    extra = broken.anti_join(rows, broken.account_key == rows.row_key).select("account_key")
    keys = ibis.union(collections.select("account_key"), extra)
    decided_keys = decided.select(decided_key=decided.account_key)
    t = keys.anti_join(decided_keys, keys.account_key == decided_keys.decided_key)
    t = left_join(
        t, accounts.select("account_key", "days_past_due", ran=(accounts.last_eod == on).fill_null(False))
    )
    t = left_join(
        t,
        collections.rename(previous_stage="stage", collection_escalation="escalation").mutate(
            has_row=ibis.literal(True)
        ),
    )
    t = left_join(t, broken)
    t = t.mutate(ran=t.ran.fill_null(False))
    t = t.filter(t.ran | t.has_row.notnull()).drop("has_row")
    # An account that did not run reviews nothing: a DPD of -1 starts and ends no episode, and none of its
    # promises break today.
    t = t.mutate(
        **{name: t[name].fill_null(value) for name, value in RECORD_DEFAULTS.items()},
        days_past_due=ibis.ifelse(t.ran, t.days_past_due, -1),
    )
    t = t.mutate(broken=ibis.ifelse(t.ran, t.broken, 0))
    r = reviewed(t, day)
    carried: ir.Table = r.mutate(
        collection_dispute_open=r.dispute_open, collection_litigation_hold=r.litigation_hold
    )
    return carried


def _promise_review(promises: ir.Table, day: Today) -> ir.Table:
    """Per account: promises broken today, promises still pending, and the latest resolved one's status and
    date (ties by id, as :meth:`~overdue.domain.collections.CollectionState.promise_status` breaks them)."""
    p = reviewed_promises(promises, day)
    per_account = p.group_by("account_key").aggregate(
        broken=p.account_key.count(where=p.breaks), pending=p.account_key.count(where=p.status == "pending")
    )
    order = [ibis.desc(p.resolved_on.fill_null(p.made_on)), ibis.desc(p.promise_rank)]
    ranked = p.mutate(n=ibis.row_number().over(group_by=p.account_key, order_by=order))
    latest = ranked.filter(ranked.n == 0).select(
        "account_key", latest_status=ranked.status, latest_resolved=ranked.resolved_on
    )
    joined: ir.Table = left_join(per_account, latest)
    return joined


# --- conditions ----------------------------------------------------------------------------------------


class Conditions:
    """Conditions of one compiled strategy as boolean expressions over a table of facts."""

    def __init__(self, compiled: CompiledStrategy, day: Today) -> None:
        self.compiled = compiled
        self.day = day
        self.buckets = bucket_names(compiled.terms.last_bucket)

    def parameter(self, name: str, combo: ir.IntegerValue) -> ir.Value:
        """A parameter's value: a literal, or a ``CASE`` on the combination where variants differ."""
        values = [p[name] for p in self.compiled.parameters]
        if len(set(values)) == 1:
            return ibis.literal(values[0], type="int64")
        return ibis.cases(*((combo == n, v) for n, v in enumerate(values)), else_=values[0]).cast("int64")

    def value(self, field: str, value: Value, combo: ir.IntegerValue) -> ir.Value | None:
        """A value as the facts table holds it (None: null)."""
        if isinstance(value, Ref):
            return self.parameter(value.name, combo)
        if value is None:
            return None
        if field == "bucket":
            return ibis.literal(self.buckets.index(value) if value in self.buckets else -1, type=CODE)
        if field == "status":
            return ibis.literal(STATUSES.index(value) if value in STATUSES else -1, type=CODE)
        if field in ENUMS and isinstance(value, str):
            return ibis.literal(enum_code(field, value), type=CODE)
        if isinstance(value, date):
            return ibis.literal(day_number(value), type=DAY)
        return ibis.literal(value)

    def test(self, test: Test, fields: Mapping[str, ir.Value], combo: ir.IntegerValue) -> ir.BooleanValue:
        actual = fields[test.field]
        if test.op in ("eq", "in", "not_in"):
            values = [test.value] if test.op == "eq" else list(test.values)
            known = [v for v in (self.value(test.field, value, combo) for value in values) if v is not None]
            hit: ir.BooleanValue = ibis.literal(False)
            for v in known:
                hit = hit | (actual == v).fill_null(False)
            if len(known) < len(values):
                hit = hit | actual.isnull()
            return ~hit if test.op == "not_in" else hit
        low = self.value(test.field, test.low, combo)
        high = self.value(test.field, test.high, combo)
        within: ir.BooleanValue = actual.notnull()
        if low is not None:
            within = within & (low <= actual).fill_null(False)
        if high is not None:
            within = within & (actual <= high).fill_null(False)
        return within

    def holds(
        self, condition: Condition, fields: Mapping[str, ir.Value], combo: ir.IntegerValue
    ) -> ir.BooleanValue:
        """:meth:`overdue.strategy.conditions.Condition.holds` as an expression."""
        result: ir.BooleanValue = ibis.literal(True)
        for test in condition.tests:
            result = result & self.test(test, fields, combo)
        if condition.any_of:
            alternatives: ir.BooleanValue = ibis.literal(False)
            for alternative in condition.any_of:
                alternatives = alternatives | self.holds(alternative, fields, combo)
            result = result & alternatives
        return result


def fact_fields(t: ir.Table, day: Today, escalation: ir.IntegerValue) -> dict[str, ir.Value]:
    """Every field a condition may name, over a table of :func:`account_facts` columns."""
    fields: dict[str, ir.Value] = {name: t[name] for name in FIELDS if name in t.columns}
    fields["on"] = day.on
    fields["escalation"] = escalation
    return fields


# --- the decision ---------------------------------------------------------------------------------------


def decisions(facts: ir.Table, compiled: CompiledStrategy, day: Today) -> ir.Table:
    """The decision of each account in ``facts`` (:func:`account_facts`), narrow: ``stage_index`` after
    escalation (null: no stage holds), ``pause_index`` (the pause that stopped it, by its place in the
    strategy; null: none), ``combo``, ``escalation`` after it lapses or not, and only the facts that the
    actions, the rulebook, the messages and the records after the day read (:func:`decided_columns`);
    ``previous_stage`` is the collection state's new stage (the stage DPD puts the account in, without
    escalation)."""
    strategy = compiled.strategy
    conditions = Conditions(compiled, day)
    stages = strategy.stages
    names = [s.name for s in stages]

    def matched(escalation: ir.IntegerValue) -> ir.IntegerValue:
        fields = fact_fields(facts, day, escalation)
        branches = [(conditions.holds(s.when, fields, facts.combo), n) for n, s in enumerate(stages)]
        result: ir.IntegerValue = ibis.cases(*branches, else_=ibis.null(CODE)).cast(CODE)
        return result

    # The stages are their indexes (the records' too: :func:`~overdue.setbased.collect_tables.stage_names`).
    t = facts.mutate(base_stage=matched(ibis.literal(0, type="int32")))
    # collections.settle_escalation: the escalation lapses once DPD has moved the account on.
    lapses = t.escalated_from.notnull() & (t.base_stage.isnull() | (t.base_stage != t.escalated_from))
    t = t.mutate(
        escalation=ibis.ifelse(lapses, 0, t.escalation),
        escalated_from=ibis.ifelse(lapses, ibis.null(CODE), t.escalated_from),
        previous_stage=t.base_stage,
    )
    found = matched(t.escalation)
    walks = []
    for n in range(len(stages)):
        path = [n]
        while (following := stages[path[-1]].next) is not None:
            path.append(names.index(following))
        steps = [(t.escalation <= j, path[j]) for j in range(len(path) - 1)]
        up = ibis.cases(*steps, else_=path[-1]) if steps else ibis.literal(path[0], type=CODE)
        walks.append((found == n, up))
    t = t.mutate(stage_index=ibis.cases(*walks, else_=ibis.null(CODE)).cast(CODE))
    fields = fact_fields(t, day, t.escalation)
    pauses = [
        (conditions.holds(p.when, fields, t.combo) & ~_among(t.stage_index, p.exempt_stages, names), n)
        for n, p in enumerate(strategy.pauses)
    ]
    paused = ibis.cases(*pauses, else_=ibis.null(CODE)).cast(CODE) if pauses else ibis.null(CODE)
    decided: ir.Table = t.mutate(pause_index=ibis.ifelse(t.stage_index.notnull(), paused, ibis.null(CODE)))
    return decided.select(*decided_columns(compiled, facts.columns))


def _among(stage_index: ir.IntegerValue, stages: Iterable[str], names: list[str]) -> ir.BooleanValue:
    """Whether the stage of ``stage_index`` (an index in ``names``) is one of ``stages`` (null for a null
    stage, as a text's ``isin`` was: an account without a stage has no pause anyway)."""
    indexes = [names.index(stage) for stage in stages if stage in names]
    among: ir.BooleanValue = stage_index.isin(indexes) if indexes else ibis.literal(False)
    return among


ACTION_FACTS = (
    # the rulebook's
    "contactability",
    "dispute",
    "litigation_hold",
    "plan",
    "cease",
    "sold",
    # what the messages quote
    "overdue_balance",
    "total_due",
    "days_to_due",
    "days_past_due",
    "minimum_remaining",
)
"""The facts each planned action carries: what the rulebook checks and the messages quote."""
DECIDED = (
    "account_key",
    "combo",
    "stage_index",
    "pause_index",
    "escalation",
    *ACTION_FACTS,
    # the records after the day
    "episode_started_on",
    "previous_stage",
    "escalated_from",
    "attempts",
    "connects",
    "last_contact_on",
    "agency",
    "placed_on",
    "validation_notice_on",
    "collection_dispute_open",
    "collection_litigation_hold",
    *(f"hold_{kind}" for kind in HOLDS),
)
"""The decided table's columns whatever the strategy (:func:`decided_columns` adds what treatments read)."""


def decided_columns(compiled: CompiledStrategy, available: Iterable[str]) -> list[str]:
    """:data:`DECIDED` and the facts the strategy's treatments' conditions read (of ``available``)."""
    read = set().union(*(t.when.fields() for t in compiled.strategy.treatments))
    return [*DECIDED, *(name for name in available if name in read and name not in DECIDED)]


def reads_score(strategy: Strategy) -> bool:
    """Whether any condition of ``strategy`` reads the collection score (computed only then)."""
    conditions = [s.when for s in strategy.stages] + [p.when for p in strategy.pauses]
    conditions += [t.when for t in strategy.treatments]
    return any("score" in c.fields() for c in conditions)


def reads_behaviour(strategy: Strategy) -> bool:
    """Whether any condition of ``strategy`` reads the month-end behaviour score (``behaviour_score``)."""
    conditions = [s.when for s in strategy.stages] + [p.when for p in strategy.pauses]
    conditions += [t.when for t in strategy.treatments]
    return any("behaviour_score" in c.fields() for c in conditions)


def reads_names(strategy: Strategy) -> bool:
    """Whether any condition of ``strategy`` reads ``account_id`` or ``product`` (strings joined only
    then)."""
    conditions = [s.when for s in strategy.stages] + [p.when for p in strategy.pauses]
    conditions += [t.when for t in strategy.treatments]
    return any(c.fields() & {"account_id", "product"} for c in conditions)


def planned_actions(
    decided: ir.Table, treatments: ir.Table, done: ir.Table, compiled: CompiledStrategy, day: Today
) -> ir.Table:
    """The day's planned actions: one row per account and treatment whose schedule and conditions hold,
    with the treatment's columns, before compliance. An account's actions are in the order of
    (``priority``, ``treatment_index``) — by priority, file order among equals —, which gives each its
    ``position``: :class:`~overdue.setbased.collect.Collector` numbers them when the rows are fetched in
    that order (a window over the planned actions cost a quarter of the query).

    The accounts' candidate treatments carry only the treatments' numbers while the schedules are
    checked and the actions ordered; their strings are joined to the actions that remain. The treatments
    done are joined only to the candidates whose schedule and conditions hold (a quarter of them for
    ``huabei``), and only the rows of the treatments a schedule reads, so that the engine builds its hash
    tables on ``done`` rather than on the candidates."""
    on = day.on
    d = decided.filter(decided.stage_index.notnull() & decided.pause_index.isnull())
    tr = treatments.select(
        "treatment_index",
        "after_index",
        "priority",
        treatment_stage=treatments.stage_index,
        treatment_combo=treatments.combo,
    )
    c = d.join(tr, (d.stage_index == tr.treatment_stage) & (d.combo == tr.treatment_combo)).drop(
        "treatment_stage", "treatment_combo"
    )
    conditions = Conditions(compiled, day)
    fields = fact_fields(c, day, c.escalation)
    treatments_of = list(enumerate(compiled.strategy.treatments))
    # The schedules and conditions first; the treatments done only for the candidates left (most of a
    # portfolio's candidates are pre-due reminders on a day that is not a reminder's).
    c = c.filter(
        ibis.cases(
            *((c.treatment_index == n, _schedule(t, c, conditions, fields, on)) for n, t in treatments_of),
            else_=False,
        )
    )
    episode = c.episode_started_on
    # Only the rows of the treatments a schedule reads (its own, or its after's) are joined.
    reads_own = [n for n, t in treatments_of if t.once or t.every_days is not None]
    reads_after = sorted(
        {compiled.treatment_ids.index(t.after.treatment) for _, t in treatments_of if t.after}
    )
    own = done.filter(done.treatment_index.isin(reads_own or [-1])).rename(
        own_key="account_key", own_index="treatment_index", own_done="last_done"
    )
    c = c.left_join(own, (c.account_key == own.own_key) & (c.treatment_index == own.own_index)).drop(
        "own_key", "own_index"
    )
    after = done.filter(done.treatment_index.isin(reads_after or [-1])).rename(
        after_key="account_key", after_treatment="treatment_index", after_done="last_done"
    )
    c = c.left_join(
        after, (c.account_key == after.after_key) & (c.after_index == after.after_treatment)
    ).drop("after_key", "after_treatment")
    # last_done is since the episode's start (none open: every date).
    no_episode = episode.isnull()
    c = c.mutate(
        last_own=ibis.ifelse(no_episode | (c.own_done >= episode), c.own_done, ibis.null(DAY)),
        last_after=ibis.ifelse(no_episode | (c.after_done >= episode), c.after_done, ibis.null(DAY)),
    )
    repeats = [(c.treatment_index == n, _repeats(t, c, conditions, on)) for n, t in treatments_of]
    # No window numbers the positions: they follow from the rows' ACTION_ORDER (priority, treatment_index).
    kept = c.filter(ibis.cases(*repeats, else_=True)).drop("after_index")
    texts = treatments.drop("stage_index", "after_index", "priority").rename(
        text_index="treatment_index", text_combo="combo"
    )
    actions: ir.Table = kept.join(
        texts, (kept.treatment_index == texts.text_index) & (kept.combo == texts.text_combo)
    ).drop("text_index", "text_combo")
    return actions


def _schedule(
    treatment: Treatment,
    c: ir.Table,
    conditions: Conditions,
    fields: Mapping[str, ir.Value],
    on: ir.IntegerValue,
) -> ir.BooleanValue:
    """Whether ``treatment``'s DPD and due-date schedule and its conditions hold
    (:func:`overdue.strategy.decide._why_not`, but for what the treatments done decide: :func:`_repeats`)."""
    fires: ir.BooleanValue = ibis.literal(True)
    if treatment.on_dpd:
        fires = fires & _any(c.days_past_due == _number(d, c, conditions) for d in treatment.on_dpd)
    if treatment.on_days_to_due:
        fires = fires & _any(
            (c.days_to_due == _number(d, c, conditions)).fill_null(False) for d in treatment.on_days_to_due
        )
    if treatment.from_dpd is not None:
        fires = fires & (c.days_past_due >= _number(treatment.from_dpd, c, conditions))
    if treatment.to_dpd is not None:
        fires = fires & (c.days_past_due <= _number(treatment.to_dpd, c, conditions))
    return fires & conditions.holds(treatment.when, fields, c.combo)


def _repeats(
    treatment: Treatment, c: ir.Table, conditions: Conditions, on: ir.IntegerValue
) -> ir.BooleanValue:
    """Whether what ``treatment``'s schedule reads of the treatments done (``last_own``, ``last_after``:
    when it and the treatment its ``after`` names were last done in the episode) lets it fire: ``once``,
    ``every_days`` and ``after``."""
    fires: ir.BooleanValue = ibis.literal(True)
    if treatment.once:
        fires = fires & c.last_own.isnull()
    if treatment.every_days is not None:
        fires = fires & (
            c.last_own.isnull() | (on - c.last_own >= _number(treatment.every_days, c, conditions))
        )
    if treatment.after is not None:
        fires = (
            fires
            & c.last_after.notnull()
            & (on - c.last_after >= _number(treatment.after.days, c, conditions))
        )
    return fires


def _number(value: int | Ref, c: ir.Table, conditions: Conditions) -> ir.Value:
    """A schedule's number: a literal, or the parameter in force for the row's combination of variants."""
    if isinstance(value, Ref):
        return conditions.parameter(value.name, c.combo)
    return ibis.literal(resolve_int(value, {}), type="int64")


def _any(values: Iterable[ir.BooleanValue]) -> ir.BooleanValue:
    result: ir.BooleanValue = ibis.literal(False)
    for value in values:
        result = result | value
    return result
