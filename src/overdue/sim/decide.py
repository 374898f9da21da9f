"""Deciding for many accounts at once: a strategy evaluated with NumPy over columns of facts.

:func:`overdue.strategy.decide` decides for one account from its
:class:`~overdue.strategy.facts.AccountFacts`. :class:`ArrayStrategy` takes the same facts as columns
(:class:`FactColumns`: one array per field, one row per account, all on one business date) and decides for
every row with a fixed number of array operations per condition and treatment, in the same order of steps:

1. **experiments**: each row's combination of variants (:meth:`ArrayStrategy.combinations_of`, the same
   sticky hash) picks the parameter values its conditions and schedules read;
2. **stage**: the first stage whose ``when`` holds, then up along ``next`` links by the row's escalation;
3. **pauses**: the first pause that holds, unless the stage is exempt from it, stops every action;
4. **treatments**: every treatment of the stage whose schedule and conditions hold, lowest ``priority``
   first (file order among equals).

The actions it plans are the reference's own :class:`~overdue.strategy.model.PlannedAction` records (made
once per stage, treatment and combination of variants, with the same reason and experiment arm); it writes no
trace. A differential test (``tests/sim/test_sim_decide.py``) decides random facts both ways, with
the shipped ``huabei`` strategy and one using every construct of the language, and compares every decision.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from overdue.strategy.conditions import Condition, Parameters, Ref, Scalar, Test, Value
from overdue.strategy.decide import _planned, assign_variant, treatment_reason
from overdue.strategy.facts import FIELDS, AccountFacts
from overdue.strategy.model import PlannedAction, Strategy, Treatment, resolve_int

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Column = npt.NDArray[Any]

NOT_DONE = 0
"""``last_done`` of a treatment not done in the episode (dates are ordinals, always positive)."""


@dataclass(frozen=True)
class FactColumns:
    """The facts of ``n`` accounts on one business date, as columns.

    values: a column per field a condition may name (:data:`~overdue.strategy.facts.FIELDS`; only those the
    strategy reads are needed): numbers and amounts as ``int64``, dates as ordinals, flags as ``bool``,
    words as ``str`` arrays. nulls: for the optional fields, True where the fact is None (the value there is
    ignored). last_done: ``n`` × treatments (in :attr:`Strategy.treatments` order), the ordinal of the last
    day each was done in the episode, :data:`NOT_DONE` if not. combination: each row's combination of
    experiment variants (:meth:`ArrayStrategy.combinations_of`).
    """

    on: date
    values: Mapping[str, Column]
    nulls: Mapping[str, Mask]
    last_done: Ints
    combination: Ints

    @property
    def n(self) -> int:
        return len(self.combination)

    def column(self, name: str) -> tuple[Column, Mask | None]:
        if name == "on":
            return np.full(self.n, self.on.toordinal(), dtype=np.int64), None
        return self.values[name], self.nulls.get(name)


@dataclass(frozen=True)
class ArrayDecision:
    """What the strategy decided for every row.

    stage / pause: index into :attr:`Strategy.stages` / :attr:`Strategy.pauses` (-1: none). rows /
    treatments: the planned actions, one per pair (row, index into :attr:`Strategy.treatments`), by row and
    then in the order the reference lists them.
    """

    stage: Ints
    pause: Ints
    rows: Ints
    treatments: Ints


@dataclass
class ArrayStrategy:
    """A parsed strategy, ready to decide over columns."""

    strategy: Strategy
    combinations: list[tuple[str, ...]] = field(init=False)
    """Every combination of variants, one per experiment (one empty combination without experiments)."""
    parameters: list[Parameters] = field(init=False)
    treatments: tuple[Treatment, ...] = field(init=False)
    index: dict[str, int] = field(init=False)
    """Treatment id → index."""

    def __post_init__(self) -> None:
        s = self.strategy
        self.combinations = list(itertools.product(*([v.name for v in e.variants] for e in s.experiments)))
        self.parameters = []
        for combination in self.combinations:
            merged = dict(s.parameters)
            for experiment, name in zip(s.experiments, combination, strict=True):
                merged.update(next(v for v in experiment.variants if v.name == name).parameters)
            self.parameters.append(merged)
        self.treatments = s.treatments
        self.index = {t.id: k for k, t in enumerate(self.treatments)}
        self.stage_index = {stage.name: k for k, stage in enumerate(s.stages)}
        self.next_stage = np.array(
            [-1 if stage.next is None else self.stage_index[stage.next] for stage in s.stages], dtype=np.int64
        )
        self.stage_of = np.array(
            [self.stage_index[stage.name] for stage in s.stages for _ in stage.treatments], dtype=np.int64
        )
        self.priority = np.array([t.priority for t in self.treatments], dtype=np.int64)
        self.fields = frozenset().union(
            *(stage.when.fields() for stage in s.stages),
            *(pause.when.fields() for pause in s.pauses),
            *(t.when.fields() for t in self.treatments),
        )
        """Every fact a condition of the strategy reads."""
        self._actions: dict[tuple[int, int], PlannedAction] = {}
        self._refs: dict[str, Ints] = {}

    # --- rows --------------------------------------------------------------------------------------------

    def combinations_of(self, account_ids: Sequence[str]) -> Ints:
        """Each account's combination of variants (the index into :attr:`combinations`)."""
        if not self.strategy.experiments:
            return np.zeros(len(account_ids), dtype=np.int64)
        number = {combination: k for k, combination in enumerate(self.combinations)}
        experiments = self.strategy.experiments
        return np.array(
            [number[tuple(assign_variant(i, e.name, e.variants) for e in experiments)] for i in account_ids],
            dtype=np.int64,
        )

    def columns(self, facts: Sequence[AccountFacts]) -> FactColumns:
        """Facts of single accounts (one date) as columns: for tests and small batches."""
        on = facts[0].on if facts else date.today()
        values: dict[str, Column] = {}
        nulls: dict[str, Mask] = {}
        for name, spec in FIELDS.items():
            if name == "on":
                continue
            raw = [getattr(f, name) for f in facts]
            if spec.optional:
                nulls[name] = np.array([v is None for v in raw], dtype=bool)
            values[name] = _column([_scalar(v, spec.kind) for v in raw], spec.kind)
        last_done = np.zeros((len(facts), len(self.treatments)), dtype=np.int64)
        for row, f in enumerate(facts):
            for treatment, day in f.last_done.items():
                last_done[row, self.index[treatment]] = day.toordinal()
        return FactColumns(on, values, nulls, last_done, self.combinations_of([f.account_id for f in facts]))

    # --- deciding ----------------------------------------------------------------------------------------

    def decide(self, facts: FactColumns) -> ArrayDecision:
        """Decide for every row of ``facts``."""
        s, n = self.strategy, facts.n
        stage = np.full(n, -1, dtype=np.int64)
        for k, candidate in enumerate(s.stages):
            open_rows = stage < 0
            if not open_rows.any():
                break
            stage[open_rows & self.holds(candidate.when, facts)] = k
        escalation = facts.values["escalation"]
        for step in range(1, int(escalation.max(initial=0)) + 1):
            up = (stage >= 0) & (escalation >= step)
            following = np.where(stage >= 0, self.next_stage[np.maximum(stage, 0)], -1)
            stage = np.where(up & (following >= 0), following, stage)

        pause = np.full(n, -1, dtype=np.int64)
        for k, held in enumerate(s.pauses):
            exempt = np.isin(stage, [self.stage_index[name] for name in held.exempt_stages])
            pause[(pause < 0) & (stage >= 0) & ~exempt & self.holds(held.when, facts)] = k

        rows: list[Ints] = []
        chosen: list[Ints] = []
        acting = (stage >= 0) & (pause < 0)
        for k, treatment in enumerate(self.treatments):
            candidates = acting & (stage == self.stage_of[k])
            if not candidates.any():
                continue
            fires = candidates & self._scheduled(treatment, facts) & self.holds(treatment.when, facts)
            hit = np.flatnonzero(fires)
            rows.append(hit)
            chosen.append(np.full(len(hit), k, dtype=np.int64))
        all_rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        all_treatments = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
        # By row, then priority, then file order (the treatments' indices follow it).
        order = np.lexsort((all_treatments, self.priority[all_treatments], all_rows))
        return ArrayDecision(stage, pause, all_rows[order], all_treatments[order])

    def action(self, treatment: int, combination: int) -> PlannedAction:
        """The action a treatment plans for a row of ``combination`` (as the reference records it)."""
        key = (treatment, combination)
        planned = self._actions.get(key)
        if planned is None:
            t = self.treatments[treatment]
            stage = self.strategy.stages[int(self.stage_of[treatment])]
            why = treatment_reason(t, self.parameters[combination])
            arms = list(zip(self.strategy.experiments, self.combinations[combination], strict=True))
            planned = self._actions[key] = _planned(t, stage, why, arms)
        return planned

    # --- conditions and schedules ------------------------------------------------------------------------

    def holds(self, condition: Condition, facts: FactColumns) -> Mask:
        """Where ``condition`` holds (:meth:`Condition.holds`, row by row)."""
        mask = np.ones(facts.n, dtype=bool)
        for test in condition.tests:
            mask &= self._test(test, facts)
        if condition.any_of:
            alternatives = np.zeros(facts.n, dtype=bool)
            for alternative in condition.any_of:
                alternatives |= self.holds(alternative, facts)
            mask &= alternatives
        return mask

    def _test(self, test: Test, facts: FactColumns) -> Mask:
        column, null = facts.column(test.field)
        present = np.ones(facts.n, dtype=bool) if null is None else ~null
        kind = FIELDS[test.field].kind
        if test.op == "range":
            mask = present.copy()
            if test.low is not None:
                mask &= column >= self._value(test.low, kind, facts)
            if test.high is not None:
                mask &= column <= self._value(test.high, kind, facts)
            return mask
        values = (test.value,) if test.op == "eq" else test.values
        found = np.zeros(facts.n, dtype=bool)
        for value in values:
            if value is None:
                found |= ~present
            else:
                found |= present & (column == self._value(value, kind, facts))
        return ~found if test.op == "not_in" else found

    def _value(self, value: Value, kind: str, facts: FactColumns) -> object:
        """A test's value: a literal as the column holds it, or a parameter's value for each row."""
        if isinstance(value, Ref):
            return self._parameter(value.name)[facts.combination]
        return _scalar(value, kind)

    def _parameter(self, name: str) -> Ints:
        values = self._refs.get(name)
        if values is None:
            values = self._refs[name] = np.array([p[name] for p in self.parameters], dtype=np.int64)
        return values

    def _ints(self, value: int | Ref, facts: FactColumns) -> Ints:
        """An integer of a schedule (a literal or a parameter) for every row."""
        if isinstance(value, Ref):
            return self._parameter(value.name)[facts.combination]
        return np.full(facts.n, resolve_int(value, {}), dtype=np.int64)

    def _scheduled(self, treatment: Treatment, facts: FactColumns) -> Mask:
        """Where the treatment's schedule lets it fire today (the schedule rules of ``decide``'s
        ``_why_not``)."""
        dpd = facts.values["days_past_due"]
        on = facts.on.toordinal()
        last = facts.last_done[:, self.index[treatment.id]]
        mask = np.ones(facts.n, dtype=bool)
        if treatment.on_dpd:
            mask &= np.any([dpd == self._ints(d, facts) for d in treatment.on_dpd], axis=0)
        if treatment.on_days_to_due:
            to_due, none = facts.column("days_to_due")
            hit = np.any([to_due == self._ints(d, facts) for d in treatment.on_days_to_due], axis=0)
            mask &= hit & ~(none if none is not None else False)
        if treatment.from_dpd is not None:
            mask &= dpd >= self._ints(treatment.from_dpd, facts)
        if treatment.to_dpd is not None:
            mask &= dpd <= self._ints(treatment.to_dpd, facts)
        if treatment.once:
            mask &= last == NOT_DONE
        if treatment.every_days is not None:
            mask &= (last == NOT_DONE) | (on - last >= self._ints(treatment.every_days, facts))
        if treatment.after is not None:
            before = facts.last_done[:, self.index[treatment.after.treatment]]
            mask &= (before != NOT_DONE) & (on - before >= self._ints(treatment.after.days, facts))
        return mask


def _scalar(value: Scalar, kind: str) -> Scalar | int:
    """A value as a column holds it: dates as ordinals."""
    if isinstance(value, date):
        return value.toordinal()
    return value


def _column(values: list[Scalar | int], kind: str) -> Column:
    if kind in ("number", "amount", "date"):
        return np.array([0 if v is None else v for v in values], dtype=np.int64)
    if kind == "flag":
        return np.array([bool(v) for v in values], dtype=bool)
    return np.array(["" if v is None else str(v) for v in values], dtype=object)
