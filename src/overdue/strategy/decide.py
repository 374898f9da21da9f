"""Deciding: from a strategy and one account's facts to the day's planned actions.

The order is fixed, and the trace says what happened at each step:

1. **Experiments.** For every experiment the account is given a variant by :func:`assign_variant`; the
   variants' parameter overrides replace the strategy's values for this account.
2. **Stage.** The stage whose ``when`` holds (validation makes sure at most one does); with
   ``escalation: k`` the account moves ``k`` stages up along ``next`` links (stopping at a stage without one).
3. **Pauses.** The first pause whose ``when`` holds, unless the stage is exempt from it, stops every action:
   the decision names the pause and has no actions.
4. **Treatments.** Every treatment of the stage whose schedule and conditions hold becomes a
   :class:`PlannedAction`, lowest ``priority`` first (file order among equals).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from overdue.strategy.conditions import Parameters
from overdue.strategy.facts import AccountFacts
from overdue.strategy.model import (
    Decision,
    Experiment,
    PlannedAction,
    Stage,
    Strategy,
    Treatment,
    Variant,
    resolve_int,
)

HASH_BUCKETS = 10_000


def assign_variant(
    account_id: str, experiment_name: str, variants: Sequence[Variant] | Sequence[tuple[str, int]]
) -> str:
    """The variant of ``experiment_name`` that ``account_id`` belongs to: deterministic and sticky.

    account_id: the account. experiment_name: the experiment (a different experiment splits accounts
    independently). variants: ``(name, share)`` pairs or :class:`Variant` records, shares in whole percent
    adding up to 100.

    The first 8 bytes of sha256(``"{experiment}:{account_id}"``) taken modulo 10,000 place the account in
    a slot; the variants own consecutive runs of ``share × 100`` slots, in the order given.
    """
    pairs = [(v.name, v.share) if isinstance(v, Variant) else v for v in variants]
    if sum(share for _, share in pairs) != 100:
        raise ValueError("variant shares must add up to 100")
    digest = hashlib.sha256(f"{experiment_name}:{account_id}".encode()).digest()
    slot = int.from_bytes(digest[:8], "big") % HASH_BUCKETS
    edge = 0
    for name, share in pairs:
        edge += share * HASH_BUCKETS // 100
        if slot < edge:
            return name
    raise AssertionError("unreachable: shares add up to 100")  # pragma: no cover


def decide(strategy: Strategy, facts: AccountFacts, *, trace: bool = True) -> Decision:
    """Decide the actions of one account on one business date (see the module docstring for the steps).

    strategy: a parsed strategy. facts: the account as it stands at the end of ``facts.on``.
    trace: False leaves the decision's ``trace`` empty and writes none of its sentences (the simulator's
    way: it reads only the stage, the actions and the pause, which are the same either way).
    """
    lines: list[str] | None = [] if trace else None
    known = _remembered(strategy)
    variants = tuple(assign_variant(facts.account_id, e.name, e.variants) for e in strategy.experiments)
    parameters = known.parameters.get(variants)
    if parameters is None:
        merged = dict(strategy.parameters)
        for experiment, name in zip(strategy.experiments, variants, strict=True):
            merged.update(next(v for v in experiment.variants if v.name == name).parameters)
        parameters = known.parameters[variants] = merged
    if lines is not None:
        lines += [
            f"experiment {experiment.name}: variant {name}"
            for experiment, name in zip(strategy.experiments, variants, strict=True)
        ]

    stage = _match_stage(strategy, facts, parameters, lines)
    if stage is None:
        return Decision(None, (), None, tuple(lines or ()))

    for pause in strategy.pauses:
        if pause.when.holds(facts, parameters):
            if stage.name in pause.exempt_stages:
                if lines is not None:
                    lines.append(
                        f"pause {pause.name} holds ({pause.when.describe(parameters)}) "
                        f"but {stage.name} is exempt"
                    )
                continue
            if lines is not None:
                lines.append(f"paused by {pause.name}: {pause.when.describe(parameters)}")
            return Decision(stage.name, (), pause.name, tuple(lines or ()))

    actions: list[PlannedAction] = []
    for treatment in stage.treatments:
        against = _why_not(treatment, facts, parameters)
        if lines is None:
            if next(against, None) is not None:
                continue
        else:
            reasons = list(against)
            if reasons:
                lines.append(f"{treatment.id} ({treatment.type}): not today: {'; '.join(reasons)}")
                continue
        key = (id(stage), id(treatment), variants)
        planned = known.actions.get(key)
        if planned is None:
            why = treatment_reason(treatment, parameters)
            arms = list(zip(strategy.experiments, variants, strict=True))
            planned = known.actions[key] = (_planned(treatment, stage, why, arms), why)
        if lines is not None:
            lines.append(f"{treatment.id} ({treatment.type}): fires: {planned[1]}")
        actions.append(planned[0])
    actions.sort(key=lambda a: a.priority)
    return Decision(stage.name, tuple(actions), None, tuple(lines or ()))


@dataclass
class _Remembered:
    """What deciding keeps of one strategy: the parameters in force for each combination of variants (one per
    experiment, in order), and the action each treatment of each stage plans for each combination with the
    words of its reason (its reason and experiment arm depend on nothing else). Keys hold the ids of the
    strategy's own stages and treatments, which live as long as ``strategy`` does."""

    strategy: Strategy
    parameters: dict[tuple[str, ...], Parameters] = field(default_factory=dict)
    actions: dict[tuple[int, int, tuple[str, ...]], tuple[PlannedAction, str]] = field(default_factory=dict)


REMEMBERED_STRATEGIES = 16
"""How many strategies deciding keeps a :class:`_Remembered` of (it forgets them all beyond that)."""
_REMEMBERED: dict[int, _Remembered] = {}


def _remembered(strategy: Strategy) -> _Remembered:
    known = _REMEMBERED.get(id(strategy))
    if known is None or known.strategy is not strategy:
        if len(_REMEMBERED) >= REMEMBERED_STRATEGIES:
            _REMEMBERED.clear()
        known = _REMEMBERED[id(strategy)] = _Remembered(strategy)
    return known


def _planned(
    treatment: Treatment, stage: Stage, why: str, arms: list[tuple[Experiment, str]]
) -> PlannedAction:
    arm_experiment, arm_variant = _arm_of(treatment, stage, arms)
    return PlannedAction(
        type=treatment.type,
        stage=stage.name,
        treatment=treatment.id,
        template=treatment.template,
        priority=treatment.priority,
        party=treatment.party,
        experiment=arm_experiment,
        variant=arm_variant,
        reason=f"stage {stage.name}: {why}",
    )


def _match_stage(
    strategy: Strategy, facts: AccountFacts, parameters: Parameters, lines: list[str] | None
) -> Stage | None:
    """The stage whose ``when`` holds, escalated; ``lines`` (None: no trace) gets what happened, in words."""
    stage = next((s for s in strategy.stages if s.when.holds(facts, parameters)), None)
    if stage is None:
        if lines is not None:
            lines.append(f"no stage matches (days_past_due {facts.days_past_due}, bucket {facts.bucket})")
        return None
    if lines is not None:
        lines.append(f"stage {stage.name} matched: {stage.when.describe(parameters)}")
    for _ in range(max(0, facts.escalation)):
        if stage.next is None:
            if lines is not None:
                lines.append(f"escalation: {stage.name} has no next stage, stays")
            break
        following = strategy.stage(stage.next)
        if lines is not None:
            lines.append(f"escalation: {stage.name} -> {following.name}")
        stage = following
    return stage


def _why_not(treatment: Treatment, facts: AccountFacts, parameters: Parameters) -> Iterator[str]:
    """Every schedule rule or condition of ``treatment`` that does not hold today, in words, one at a time
    (none: it fires; a caller that only asks whether it fires stops at the first)."""
    dpd = facts.days_past_due
    last = facts.last_done.get(treatment.id)
    if treatment.on_dpd:
        days = [resolve_int(d, parameters) for d in treatment.on_dpd]
        if dpd not in days:
            yield f"DPD {dpd} not in on_dpd {days}"
    if treatment.on_days_to_due:
        days = [resolve_int(d, parameters) for d in treatment.on_days_to_due]
        if facts.days_to_due not in days:
            yield f"days to due {facts.days_to_due} not in on_days_to_due {days}"
    if treatment.from_dpd is not None and dpd < (low := resolve_int(treatment.from_dpd, parameters)):
        yield f"DPD {dpd} before from_dpd {low}"
    if treatment.to_dpd is not None and dpd > (high := resolve_int(treatment.to_dpd, parameters)):
        yield f"DPD {dpd} after to_dpd {high}"
    if treatment.once and last is not None:
        yield f"once per episode, already done on {last.isoformat()}"
    if treatment.every_days is not None and last is not None:
        every = resolve_int(treatment.every_days, parameters)
        if (facts.on - last).days < every:
            yield f"every {every} days, last done on {last.isoformat()}"
    if treatment.after is not None:
        before = facts.last_done.get(treatment.after.treatment)
        wait = resolve_int(treatment.after.days, parameters)
        if before is None:
            yield f"after {treatment.after.treatment}, which has not been done"
        elif (facts.on - before).days < wait:
            yield f"{wait} days after {treatment.after.treatment} (done on {before.isoformat()})"
    if not treatment.when.holds(facts, parameters):
        yield from treatment.when.failures(facts, parameters)


def treatment_reason(treatment: Treatment, parameters: Parameters) -> str:
    """The schedule and conditions of a treatment that fires, in words."""
    parts: list[str] = []
    if treatment.on_dpd:
        parts.append(f"on DPD {[resolve_int(d, parameters) for d in treatment.on_dpd]}")
    if treatment.on_days_to_due:
        parts.append(f"on days to due {[resolve_int(d, parameters) for d in treatment.on_days_to_due]}")
    if treatment.from_dpd is not None:
        parts.append(f"from DPD {resolve_int(treatment.from_dpd, parameters)}")
    if treatment.to_dpd is not None:
        parts.append(f"to DPD {resolve_int(treatment.to_dpd, parameters)}")
    if treatment.every_days is not None:
        parts.append(f"every {resolve_int(treatment.every_days, parameters)} days")
    if treatment.once:
        parts.append("once per episode")
    if treatment.after is not None:
        parts.append(
            f"{resolve_int(treatment.after.days, parameters)} days after {treatment.after.treatment}"
        )
    if treatment.when.tests or treatment.when.any_of:
        parts.append(treatment.when.describe(parameters))
    return ", ".join(parts) or "every day in the stage"


def _arm_of(
    treatment: Treatment, stage: Stage, arms: list[tuple[Experiment, str]]
) -> tuple[str | None, str | None]:
    """The experiment an action is recorded under: the one whose parameters the treatment (or its stage)
    reads, else the first experiment the account is in."""
    if not arms:
        return None, None
    reads = treatment.refs() | stage.when.refs()
    for experiment, variant in arms:
        if experiment.parameter_names() & reads:
            return experiment.name, variant
    return arms[0][0].name, arms[0][1]
