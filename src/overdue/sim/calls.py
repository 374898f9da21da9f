"""A daily capacity of human calls in the simulator, and the order in which the day's calls are made.

By default (:class:`CallPolicy` with no capacity) every call the strategy plans and the rulebook allows is
made at once, account by account, as in the end-of-day. With a capacity, a shard first plans every account;
the human calls (:data:`CALL_TYPES`) wait in a :class:`CallQueue`, and once the day's planning is done they
are made in priority order up to the shard's share of the capacity. The calls left over are not made: each
is recorded as refused with rule ``call_capacity`` and counted in ``("calls_over_capacity", variant)``; the
strategy plans them again on their next due day. ``("call_queue", made)``, ``("call_queue_fen", made)`` and
``("call_queue_score", made)`` (``made`` is ``made`` or ``over``) count the waiting calls, and add up their
overdue balances (fen) and scores, for the calls made and those left over.

Priorities (:data:`PRIORITIES`):

- ``balance``: the largest overdue balance first (what a collections floor does without a model);
- ``score``: the highest collection score first (:func:`overdue.risk.collection.score_fact`, the same
  ``score`` fact strategies see: the propensity to pay within 30 days), the larger overdue balance first
  among equal scores.

Ties fall to the account order, so a run stays deterministic for its seed. The capacity is written per
1,000 accounts and each shard gets its share (:meth:`CallPolicy.shard_capacity`), so shards stay
independent and the result does not depend on the number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from overdue.engine.collect import PlannedStep

CALL_TYPES = frozenset({"call", "contact_call"})
"""Action types made by a human collector on the phone: the ones the capacity limits."""
PRIORITIES = ("balance", "score")
CAPACITY_RULE = "call_capacity"


@dataclass(frozen=True)
class CallPolicy:
    """capacity_per_1000: human calls a day per 1,000 accounts (None: unlimited). priority: ``balance`` or
    ``score`` (see the module docstring)."""

    capacity_per_1000: int | None = None
    priority: str = "balance"

    def __post_init__(self) -> None:
        if self.priority not in PRIORITIES:
            raise ValueError(f"unknown call priority {self.priority!r} ({', '.join(PRIORITIES)})")
        if self.capacity_per_1000 is not None and self.capacity_per_1000 < 0:
            raise ValueError("the call capacity cannot be negative")

    @property
    def limited(self) -> bool:
        return self.capacity_per_1000 is not None

    def shard_capacity(self, accounts: int) -> int:
        """Calls a day for a shard of ``accounts`` accounts (rounded half up)."""
        assert self.capacity_per_1000 is not None
        return (self.capacity_per_1000 * accounts + 500) // 1000


@dataclass(frozen=True)
class WaitingCall:
    """A call planned and allowed at planning time, waiting for a collector."""

    account: int
    """The account's position in its shard."""
    step: PlannedStep
    at: datetime
    """The time the call was planned for (its compliance check is at this time)."""
    overdue_balance: int
    """Fen overdue when it was planned."""
    score: int | None


class CallQueue:
    """The day's waiting calls of one shard."""

    def __init__(self, policy: CallPolicy) -> None:
        self.policy = policy
        self.waiting: list[WaitingCall] = []

    def wait(self, call: WaitingCall) -> None:
        self.waiting.append(call)

    def take_day(self) -> list[WaitingCall]:
        """The day's calls in priority order; the queue is empty afterwards."""
        calls, self.waiting = self.waiting, []
        if self.policy.priority == "score":
            return sorted(
                calls, key=lambda c: (-(c.score if c.score is not None else -1), -c.overdue_balance)
            )
        return sorted(calls, key=lambda c: -c.overdue_balance)
