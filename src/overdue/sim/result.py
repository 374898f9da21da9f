"""What a simulation returns: per-shard results and the merged portfolio result.

Counts and amounts are kept in one :class:`collections.Counter` of tuple keys (``tallies``), so merging the
shards is one addition. Amounts are integer fen. The keys (first element, then the rest):

- ``("actions", type, stage, variant, status)``: actions decided, ``status`` ``allowed`` or ``refused``;
- ``("recovered", stage, variant)`` / ``("exposure", stage, variant)``: fen of past-due amount repaid in a
  stage, and the past-due amount the stage was exposed to (on entering it plus every increase while in it;
  see docs/reports.md);
- ``("recovered_total", variant)`` / ``("exposure_total", variant)``: the same per delinquency episode;
- ``("recovered_after", type, variant)``: fen repaid while delinquent whose last treatment was ``type``;
- ``("agency_recovered", variant)``: fen repaid while placed with an agency (its commission base);
- ``("episodes", variant)``, ``("cured", variant)``: delinquency episodes started and cured;
- ``("stage_reached", stage, variant)``, ``("stage_cured", stage, variant)``: episodes that reached a stage,
  and those cured while in it; ``("type_touched", type, variant)``, ``("type_cured", type, variant)``:
  episodes that received a treatment type, and those of them cured;
- ``("due", month, variant)``, ``("entered", month, variant)``: 入催率 — accounts current on a due date with a
  statement due, and those of them past due the day after;
- ``("contacts", channel)``: contacts made (and logged); ``("contacts_refused", rule)``: contacts the
  rulebook refused at their time (not made, never logged; their actions count as refused);
  ``("actions_refused", rule)``: actions the rulebook refused when they were planned;
- with a call capacity (:mod:`overdue.sim.calls`): ``("calls_over_capacity", variant)``, and
  ``("call_queue", made)``, ``("call_queue_fen", made)``, ``("call_queue_score", made)``,
  ``("call_queue_expected", made)`` (``made``: ``made`` or ``over``) — waiting calls, their overdue balances
  (fen), scores and score × overdue balance added up;
- ``("promises", status)``, ``("purchases",)``, ``("purchase_fen",)``, ``("repayments",)``,
  ``("repaid_fen",)``, ``("refused_events", code)``, ``("job_losses",)``, ``("transactions",)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from overdue.domain.state import AccountState
from overdue.engine.collect import Collections
from overdue.reports.metrics import BUCKETS, portfolio_summary
from overdue.sim.book import StateSequence
from overdue.sim.borrowers import Borrower
from overdue.sim.outcomes import Outcome

NOT_OPEN = -1
"""Bucket index of an account not yet opened at a month end."""

LedgerRow = tuple[str, date, str, str | None, str | None, tuple[tuple[str, int], ...]]
"""A ledger transaction, compact: account, date, kind, statement id, memo, (ledger account, fen) postings."""
ActionRow = tuple[
    str, date, str, str, str, str | None, str, int, str | None, str | None, str, str | None, str
]
"""A decided action: account, date, treatment, type, stage, template, party, priority, experiment, variant,
status, refused rule, reason — the columns of ``collection_actions``."""
ContactRow = tuple[str, date, datetime, str, str, str, int | None, str | None]
"""A contact made: account, business date, time (UTC), channel, party, outcome, collectors and recording
(field visits) — the columns of ``contacts`` (``source`` is ``simulation``)."""
DayRow = tuple[str, date, str, int, str, int, int, int, int, int, int]
"""An ``account_days`` row: account, date, status, DPD, bucket, principal, overdue principal, interest, fees,
total due, available credit (fen)."""
ScoreRow = tuple[str, date, int, int, str, str]
"""A month-end behaviour score: account, month end, points, P(bad) in ppm, model version, reasons
(space-separated) — the columns of ``behaviour_scores``."""

IntArray = npt.NDArray[np.int64]


class States(StateSequence):
    """The final states of several shards, end to end, read through: no state is built or copied until it
    is read."""

    def __init__(self, parts: list[Sequence[AccountState]]) -> None:
        self._parts = parts
        self._starts = np.cumsum([0, *(len(p) for p in parts)]).astype(np.int64)

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _at(self, index: int) -> AccountState:
        k = int(np.searchsorted(self._starts, index, side="right")) - 1
        return self._parts[k][index - int(self._starts[k])]

    def __iter__(self) -> Iterator[AccountState]:
        for part in self._parts:
            yield from part

    def count_status(self, status: str) -> int:
        """How many accounts end in ``status`` (without building the states where a part can tell)."""
        total = 0
        for part in self._parts:
            counted = getattr(part, "count_status", None)
            total += counted(status) if counted else sum(1 for s in part if str(s.status) == status)
        return total


FloatArray = npt.NDArray[np.float64]
NO_SCORE = float("nan")
"""The collection score panel's value where an account is not scored (current, or not open)."""
NOT_SCORED = np.iinfo(np.int32).min
"""The behaviour score panel's value where an account is not scored at a month end (not open, written off,
or a closed line with nothing owed: :func:`overdue.risk.behaviour.scored_at_month_end`)."""


@dataclass
class ShardResult:
    """What one shard of accounts produced. Panels are ``accounts × month ends``."""

    indices: list[int]
    month_ends: list[date]
    bucket: npt.NDArray[np.int8]
    dpd: npt.NDArray[np.int32]
    overdue: IntArray
    outstanding: IntArray
    collection_score: FloatArray
    """The collection score (P(pay within 30 days)) of each delinquent account at each month end, from the
    shipped model; NaN where the account is current or not open (:data:`NO_SCORE`)."""
    behaviour_score: npt.NDArray[np.int32]
    """The behaviour score (whole scorecard points) of each account the month end scores, as the reference
    end-of-day records it (:func:`overdue.risk.behaviour.month_end_score`); :data:`NOT_SCORED` elsewhere."""
    daily_buckets: IntArray
    """``days × len(BUCKETS)``: opened accounts per bucket after each end-of-day."""
    daily_past_due: IntArray
    tallies: Counter[tuple[str, ...]]
    states: Sequence[AccountState]
    """Each account's final state: a list (the reference runner), or states built as they are read (the
    array runner, :class:`~overdue.sim.book.BookStates`: a portfolio's states are large to move between
    processes, and most runs read few of them)."""
    collections: list[Collections]
    ledger: list[LedgerRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    contacts: list[ContactRow] = field(default_factory=list)
    days: list[DayRow] = field(default_factory=list)
    scores: list[ScoreRow] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    """With ``log_outcomes``: the delinquent accounts' collection facts and outcomes
    (:mod:`overdue.sim.outcomes`)."""

    @classmethod
    def empty(
        cls, indices: list[int], month_ends: list[date], days: int, tallies: Counter[tuple[str, ...]]
    ) -> ShardResult:
        """The result of a shard before it runs: nothing open, nothing scored, no states yet."""
        n, months = len(indices), len(month_ends)
        return cls(
            indices=indices,
            month_ends=month_ends,
            bucket=np.full((n, months), NOT_OPEN, dtype=np.int8),
            dpd=np.zeros((n, months), dtype=np.int32),
            overdue=np.zeros((n, months), dtype=np.int64),
            outstanding=np.zeros((n, months), dtype=np.int64),
            collection_score=np.full((n, months), NO_SCORE, dtype=np.float64),
            behaviour_score=np.full((n, months), NOT_SCORED, dtype=np.int32),
            daily_buckets=np.zeros((days, len(BUCKETS)), dtype=np.int64),
            daily_past_due=np.zeros(days, dtype=np.int64),
            tallies=tallies,
            states=[],
            collections=[],
        )


@dataclass
class SimulationResult:
    """The whole portfolio after a simulation (shards merged, accounts in index order)."""

    seed: int
    start: date
    end: date
    strategy: str
    experiment: str | None
    variants: tuple[str, ...]
    borrowers: list[Borrower]
    variant_of: list[str]
    month_ends: list[date]
    bucket: npt.NDArray[np.int8]
    dpd: npt.NDArray[np.int32]
    overdue: IntArray
    outstanding: IntArray
    collection_score: FloatArray
    """As in :class:`ShardResult`."""
    behaviour_score: npt.NDArray[np.int32]
    """As in :class:`ShardResult`."""
    daily_dates: list[date]
    daily_buckets: IntArray
    daily_past_due: IntArray
    tallies: Counter[tuple[str, ...]]
    states: Sequence[AccountState]
    """As in :class:`ShardResult`, shard after shard (:class:`States`)."""
    collections: list[Collections]
    ledger: list[LedgerRow]
    actions: list[ActionRow]
    contacts: list[ContactRow]
    days: list[DayRow]
    scores: list[ScoreRow]
    outcomes: list[Outcome]
    """As in :class:`ShardResult`, shard after shard."""
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The headline figures as plain JSON (amounts as yuan strings); equal seeds give equal summaries."""
        return portfolio_summary(self)


def merge(shards: list[ShardResult], count: int) -> dict[str, Any]:
    """Merge shard results into whole-portfolio panels and lists, accounts in index order."""
    order = sorted(shards, key=lambda s: s.indices[0] if s.indices else 0)
    months = order[0].month_ends if order else []
    tallies: Counter[tuple[str, ...]] = Counter()
    for shard in order:
        tallies.update(shard.tallies)

    def stack(name: str, dtype: type) -> Any:
        parts = [getattr(s, name) for s in order]
        return np.concatenate(parts, axis=0) if parts else np.zeros((0, len(months)), dtype=dtype)

    def add(name: str) -> IntArray:
        total: IntArray = np.sum([getattr(s, name) for s in order], axis=0).astype(np.int64)
        return total

    indices = [i for s in order for i in s.indices]
    assert indices == list(range(count)), "shards must cover every account once"
    return {
        "month_ends": months,
        "bucket": stack("bucket", np.int8),
        "dpd": stack("dpd", np.int32),
        "overdue": stack("overdue", np.int64),
        "outstanding": stack("outstanding", np.int64),
        "collection_score": stack("collection_score", np.float64),
        "behaviour_score": stack("behaviour_score", np.int32),
        "daily_buckets": add("daily_buckets"),
        "daily_past_due": add("daily_past_due"),
        "tallies": tallies,
        "states": States([s.states for s in order]),
        "collections": [c for s in order for c in s.collections],
        "ledger": [r for s in order for r in s.ledger],
        "actions": [r for s in order for r in s.actions],
        "contacts": [r for s in order for r in s.contacts],
        "days": [r for s in order for r in s.days],
        "scores": [r for s in order for r in s.scores],
        "outcomes": [r for s in order for r in s.outcomes],
    }
