"""The days before a due date on which a strategy can act on an account that is not past due.

An account at DPD 0 outside any delinquency episode, with no pending promise and no escalation, can only get
the treatments that can fire at DPD 0. When every such treatment is scheduled by ``on_days_to_due``, the
account can get an action only on those days before its due date; on any other day deciding for it plans
nothing and changes none of its records. The end-of-day (:func:`overdue.engine.collect.needs_decision`, and
the set-based runner alike) and the simulator leave such accounts undecided on such days.
"""

from __future__ import annotations

from types import SimpleNamespace

from overdue.strategy.conditions import Condition, Parameters
from overdue.strategy.model import Strategy, resolve_int

_CACHE: dict[int, tuple[Strategy, frozenset[int] | None]] = {}
_CACHE_SIZE = 64
"""Strategies remembered by :func:`quiet_days_of` (a process runs one or a few; tests parse many)."""


def quiet_day_filter(strategy: Strategy) -> frozenset[int] | None:
    """The days-to-due on which an account at DPD 0 can get a treatment, or None when that cannot be known.

    A treatment can fire at DPD 0 unless its stage's ``when`` (or its own) has a ``days_past_due`` test
    that 0 fails, or its schedule needs a DPD of at least 1 (``on_dpd`` all ≥ 1, or ``from_dpd`` ≥ 1). Every
    treatment that can must be scheduled by ``on_days_to_due``; the union of those days over every parameter
    set (experiment variants included) is returned.
    """
    at_zero = SimpleNamespace(days_past_due=0)
    days: set[int] = set()
    for _, parameters in strategy.parameter_sets():
        for stage in strategy.stages:
            if _excludes(stage.when, at_zero, parameters):
                continue
            for treatment in stage.treatments:
                on_dpd = [resolve_int(v, parameters) for v in treatment.on_dpd]
                from_dpd = None if treatment.from_dpd is None else resolve_int(treatment.from_dpd, parameters)
                if (
                    (on_dpd and min(on_dpd) >= 1)
                    or (from_dpd is not None and from_dpd >= 1)
                    or _excludes(treatment.when, at_zero, parameters)
                ):
                    continue
                if not treatment.on_days_to_due:
                    return None
                days.update(resolve_int(v, parameters) for v in treatment.on_days_to_due)
    return frozenset(days)


def quiet_days_of(strategy: Strategy) -> frozenset[int] | None:
    """:func:`quiet_day_filter` of ``strategy``, computed once per strategy object."""
    cached = _CACHE.get(id(strategy))
    if cached is None or cached[0] is not strategy:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        cached = _CACHE[id(strategy)] = (strategy, quiet_day_filter(strategy))
    return cached[1]


def _excludes(condition: Condition, subject: SimpleNamespace, parameters: Parameters) -> bool:
    """Whether a top-level ``days_past_due`` test of ``condition`` fails for ``subject``."""
    return any(
        test.field == "days_past_due" and not test.holds(subject, parameters) for test in condition.tests
    )
