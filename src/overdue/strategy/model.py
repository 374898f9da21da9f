"""The parsed strategy and what deciding produces: immutable records.

A :class:`Strategy` is what :func:`overdue.strategy.parse_strategy` returns once a file has passed every
check; nothing in it changes afterwards. :func:`overdue.strategy.decide` turns it and one account's facts
into a :class:`Decision`: the stage, the :class:`PlannedAction` list, the pause (if any) and a trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from overdue.strategy.conditions import ALWAYS, Condition, Parameters, Ref, resolve
from overdue.strategy.errors import Problem

ACTION_TYPES = (
    "sms",
    "push",
    "ai_voice",
    "call",
    "contact_call",
    "letter",
    "field_visit",
    "agency_placement",
    "agency_recall",
    "lawyer_letter",
    "litigation",
    "write_off",
    "debt_sale",
)
"""Every action type (DESIGN §5): the names used in JSON, strategy files and reports."""

MESSAGE_TYPES = frozenset({"sms", "push", "letter", "lawyer_letter"})
"""Action types that send a text to the debtor, so their treatments must name a template."""

PARTIES = ("debtor", "contact", "guarantor")
"""Who an action is aimed at; ``contact`` (a pre-agreed contact) only for ``contact_call``."""

PLACEHOLDERS = frozenset(
    {
        "name",
        "amount",
        "due_date",
        "lender",
        "repay_channel",
        "days_past_due",
        "minimum",
        "total_due",
        "agency",
    }
)
"""Placeholders a template may use, filled in by the channel when the message is sent."""

K = TypeVar("K")
V = TypeVar("V")


def frozen_mapping(items: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only copy of ``items``."""
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class Template:
    """A message text per locale (``zh-CN``, ``en``, …) with ``{placeholders}``."""

    id: str
    texts: Mapping[str, str]


@dataclass(frozen=True)
class After:
    """Schedule rule ``after: {treatment: ID, days: N}``: at least N days since ID was last done."""

    treatment: str
    days: int | Ref = 0


@dataclass(frozen=True)
class Treatment:
    """One treatment of a stage: what to do (type, template, party) and when (its schedule).

    Every schedule rule that is set must hold (see the module docstring of :mod:`overdue.strategy`).
    """

    id: str
    type: str
    template: str | None = None
    party: str = "debtor"
    priority: int = 50
    on_dpd: tuple[int | Ref, ...] = ()
    on_days_to_due: tuple[int | Ref, ...] = ()
    from_dpd: int | Ref | None = None
    to_dpd: int | Ref | None = None
    every_days: int | Ref | None = None
    once: bool = False
    after: After | None = None
    when: Condition = ALWAYS

    def refs(self) -> frozenset[str]:
        """Every parameter the treatment's schedule and conditions read."""
        values = [*self.on_dpd, *self.on_days_to_due, self.from_dpd, self.to_dpd, self.every_days]
        if self.after is not None:
            values.append(self.after.days)
        return frozenset(v.name for v in values if isinstance(v, Ref)) | self.when.refs()


@dataclass(frozen=True)
class Stage:
    """A stage of the ladder: the segment it holds for (``when``), where a broken promise sends the account
    (``next``), and its treatments."""

    name: str
    when: Condition
    next: str | None
    treatments: tuple[Treatment, ...]


@dataclass(frozen=True)
class Pause:
    """Facts that stop every collection action, except in the ``exempt_stages`` (e.g. pre-due reminders)."""

    name: str
    when: Condition
    exempt_stages: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Variant:
    """One arm of an experiment: its share of accounts in whole percent and its parameter overrides."""

    name: str
    share: int
    parameters: Mapping[str, int] = field(default_factory=lambda: frozen_mapping({}))


@dataclass(frozen=True)
class Experiment:
    """A champion/challenger test: accounts are split over the variants by a sticky hash."""

    name: str
    variants: tuple[Variant, ...]

    def parameter_names(self) -> frozenset[str]:
        """Every parameter some variant overrides."""
        return frozenset(name for variant in self.variants for name in variant.parameters)


@dataclass(frozen=True)
class Strategy:
    """A parsed and validated strategy.

    parameters: named values (fen for amounts, int for numbers) referenced as ``$name``.
    parameter_kinds: ``amount`` or ``number`` for each parameter.
    warnings: problems that do not stop the strategy from loading (unused templates and parameters).
    """

    name: str
    description: str
    source: str
    parameters: Mapping[str, int]
    parameter_kinds: Mapping[str, str]
    templates: Mapping[str, Template]
    stages: tuple[Stage, ...]
    pauses: tuple[Pause, ...]
    experiments: tuple[Experiment, ...]
    warnings: tuple[Problem, ...] = ()

    def stage(self, name: str) -> Stage:
        """The stage called ``name`` (KeyError when there is none)."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    @property
    def treatments(self) -> tuple[Treatment, ...]:
        """Every treatment of every stage, in file order."""
        return tuple(t for stage in self.stages for t in stage.treatments)

    def parameter_sets(self) -> list[tuple[str | None, Parameters]]:
        """The parameter values of the strategy itself (label None) and of every experiment variant."""
        sets: list[tuple[str | None, Parameters]] = [(None, self.parameters)]
        for experiment in self.experiments:
            for variant in experiment.variants:
                if variant.parameters:
                    merged = {**self.parameters, **variant.parameters}
                    sets.append((f"{experiment.name}/{variant.name}", merged))
        return sets


def resolve_int(value: int | Ref, parameters: Parameters) -> int:
    """A schedule number, read from the parameters when it is a ``$reference``."""
    resolved = resolve(value, parameters)
    assert isinstance(resolved, int)
    return resolved


@dataclass(frozen=True)
class PlannedAction:
    """One action decided for an account today, before compliance.

    type: one of :data:`ACTION_TYPES`. stage / treatment: where it came from. template: message template id
    (None for actions without a text). priority: lower numbers first. party: debtor, contact or guarantor.
    experiment / variant: the experiment arm the account is in, None when in none. reason: why it fired.
    """

    type: str
    stage: str
    treatment: str
    template: str | None
    priority: int
    party: str
    experiment: str | None
    variant: str | None
    reason: str


@dataclass(frozen=True)
class Decision:
    """What the strategy decided for one account on one date.

    stage: the stage the account is in (after escalation), None when no stage holds.
    actions: the actions to take, by priority; empty when paused.
    paused_by: the name of the pause that stopped collection, None when not paused.
    trace: human lines saying which stage matched, which treatments fired and why the others did not.
    """

    stage: str | None
    actions: tuple[PlannedAction, ...]
    paused_by: str | None
    trace: tuple[str, ...]
