"""What a shard counts: delinquency episodes, stages reached and cured, exposure and recovery, 入催率.

:class:`EpisodeTallies` follows each account's DPD, stage and treatments through its delinquency episodes
and adds to the shard's :class:`~collections.Counter` of tuple keys (listed in :mod:`overdue.sim.result`).
Amounts are integer fen, measured on the **past-due amount** (:func:`cure_amount`, docs/reports.md).
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np

from overdue.domain.allocation import repayable
from overdue.domain.state import AccountState, AccountStatus
from overdue.strategy import ACTION_TYPES


def overdue_balance(state: AccountState, on: date) -> int:
    """What is overdue (fen): the unpaid amounts of the delinquent statements, as the strategy sees it."""
    if state.days_past_due == 0:
        return 0
    return sum(s.outstanding for s in state.delinquent_statements(on))


def cure_amount(state: AccountState, on: date) -> int:
    """The **past-due amount** (fen): the least repayment that leaves nothing overdue — every delinquent
    statement but the newest paid in full (allocation pays oldest first), the newest to its minimum; after
    write-off, everything. Recovery and exposure are measured on it (docs/reports.md)."""
    if state.status is AccountStatus.WRITTEN_OFF:
        return int(repayable(state))
    delinquent = sorted(state.delinquent_statements(on), key=lambda s: s.statement_date)
    if not delinquent:
        return 0
    return sum(s.outstanding for s in delinquent[:-1]) + delinquent[-1].minimum_remaining


def month_key(on: date) -> str:
    return f"{on.year:04d}-{on.month:02d}"


class EpisodeTallies:
    """Per-account episode bookkeeping of one shard, and the shard's tallies.

    variant: each account's experiment variant. stage_names: the strategy's stages, in order.
    """

    def __init__(self, variant: list[str], stage_names: list[str]) -> None:
        n = len(variant)
        self.variant = variant
        self.stage_names = stage_names
        self.counts: Counter[tuple[str, ...]] = Counter()
        self.dpd = np.zeros(n, dtype=np.int64)
        self.past_due = np.zeros(n, dtype=np.int64)
        """Each account's past-due amount (:func:`cure_amount`) after its last event or end-of-day."""
        self.stage = np.full(n, -1, dtype=np.int64)
        self.stage_mask = np.zeros(n, dtype=np.int64)
        self.type_mask = np.zeros(n, dtype=np.int64)
        self.last_touch = np.full(n, -1, dtype=np.int64)
        self.due_candidates: list[int] = []
        self.due_month = ""

    def stage_name(self, i: int) -> str:
        return self.stage_names[self.stage[i]] if self.stage[i] >= 0 else "current"

    def follow_dpd(self, i: int, dpd: int) -> None:
        """Follow DPD: a first overdue day opens an episode, a return to DPD 0 cures it."""
        variant = self.variant[i]
        if self.dpd[i] == 0 and dpd > 0:
            self.counts[("episodes", variant)] += 1
            self.stage_mask[i] = 0
            self.type_mask[i] = 0
            self.last_touch[i] = -1
        elif self.dpd[i] > 0 and dpd == 0:
            self.counts[("cured", variant)] += 1
            if self.stage[i] >= 0:
                self.counts[("stage_cured", self.stage_name(i), variant)] += 1
            for t, name in enumerate(ACTION_TYPES):
                if self.type_mask[i] >> t & 1:
                    self.counts[("type_cured", name, variant)] += 1
            self.stage[i] = -1
            self.past_due[i] = 0
        self.dpd[i] = dpd

    def recovered(self, i: int, amount: int, before: int, placed: bool, after: int) -> None:
        """A repayment of ``amount`` while ``before`` was past due (``after`` is left past due)."""
        variant, stage = self.variant[i], self.stage_name(i)
        # A statement that fell due yesterday is past due today before the end-of-day (and ``expose``) has
        # seen it: count it as exposure now, or a repayment would recover money never exposed.
        unseen = before - int(self.past_due[i])
        if unseen > 0:
            self.counts[("exposure", stage, variant)] += unseen
            self.counts[("exposure_total", variant)] += unseen
        recovered = min(amount, before)
        self.counts[("recovered", stage, variant)] += recovered
        self.counts[("recovered_total", variant)] += recovered
        if self.last_touch[i] >= 0:
            self.counts[("recovered_after", ACTION_TYPES[self.last_touch[i]], variant)] += recovered
        if placed:
            self.counts[("agency_recovered", variant)] += recovered
        self.past_due[i] = after

    def enter_stage(self, i: int, stage: str, days_past_due: int) -> None:
        """The stage ``plan_collection`` put a delinquent account in."""
        if days_past_due > 0 and stage in self.stage_names:
            self.stage[i] = self.stage_names.index(stage)

    def expose(self, i: int, state: AccountState, on: date, previous_stage: int) -> None:
        """Add the day's new overdue money to the exposure of the account's stage and episode."""
        if state.days_past_due == 0:
            self.past_due[i] = 0
            return
        now = cure_amount(state, on)
        variant, stage = self.variant[i], self.stage_name(i)
        increase = max(0, now - int(self.past_due[i]))
        if self.stage[i] != previous_stage:
            self.counts[("exposure", stage, variant)] += now
            if not self.stage_mask[i] >> self.stage[i] & 1:
                self.stage_mask[i] |= 1 << int(self.stage[i])
                self.counts[("stage_reached", stage, variant)] += 1
        else:
            self.counts[("exposure", stage, variant)] += increase
        self.counts[("exposure_total", variant)] += increase
        self.past_due[i] = now

    def action(self, i: int, action_type: str, stage: str, allowed: bool, variant: str | None = None) -> None:
        """Count a decided action (after compliance, and after its contact's own check) under ``variant``
        (default: the account's)."""
        status = "allowed" if allowed else "refused"
        self.counts[("actions", action_type, stage, variant or self.variant[i], status)] += 1

    def touched(self, i: int, action_type: str) -> int:
        """Note that a delinquent account got a treatment of ``action_type``; returns the type's index."""
        t = ACTION_TYPES.index(action_type)
        if self.dpd[i] > 0 and not self.type_mask[i] >> t & 1:
            self.type_mask[i] |= 1 << t
            self.counts[("type_touched", action_type, self.variant[i])] += 1
        return t

    def entry_rate(self, on: date, due_today: list[int]) -> None:
        """入催率: on a due date note the current accounts with a statement due (``due_today``); the next
        day, count those that slipped."""
        if self.due_candidates:
            for k in self.due_candidates:
                if self.dpd[k] > 0:
                    self.counts[("entered", self.due_month, self.variant[k])] += 1
            self.due_candidates = []
        for i in due_today:
            self.counts[("due", month_key(on), self.variant[i])] += 1
        if due_today:
            self.due_candidates = due_today
            self.due_month = month_key(on)
