"""A daily capacity of human calls in the simulator, and the order in which the day's calls are made.

By default (:class:`CallPolicy` with no capacity) every call the strategy plans and the rulebook allows is
made at once, account by account, as in the end-of-day. With a capacity, a shard first plans every account;
the human calls (:data:`CALL_TYPES`) wait in a :class:`CallQueue`, and once the day's planning is done they
are made in priority order up to the shard's share of the capacity. The calls left over are not made: each
is recorded as refused with rule ``call_capacity`` and counted in ``("calls_over_capacity", variant)``; the
strategy plans them again on their next due day. ``("call_queue", made)``, ``("call_queue_fen", made)``,
``("call_queue_score", made)`` and ``("call_queue_expected", made)`` (``made`` is ``made`` or ``over``) count
the waiting calls, and add up their overdue balances (fen), scores, and score × overdue balance, for the calls
made and those left over.

Priorities (:data:`PRIORITIES`); every one that reads the collection score reads it through
:func:`overdue.risk.collection.score_fact`, the same ``score`` fact strategies see (the shipped model's
propensity to pay within 30 days, in whole percent):

- ``balance``: the largest overdue balance first (what a collections floor does without a model);
- ``score``: the highest collection score first, the larger overdue balance first among equal scores;
- ``expected``: the largest **expected recovery** first — score × overdue balance, the money a call's
  account is expected to bring back — the larger balance first among equal products;
- ``risk``: the **lowest** score first, the larger balance first among equal scores: the accounts likely to
  pay on their own (self-curers) are left to messages, the collectors' time goes to the ones that are not;
- ``uplift``: the largest **predicted extra recovery** first — the uplift of a call in the account's score
  band (:mod:`overdue.sim.uplift`, measured by a randomised call experiment) × its overdue balance: the
  money a call brings back on top of what the account would repay anyway;
- ``random``: a keyed lot per account and day (:class:`~overdue.sim.draws.KeyedDraws`), independent of
  everything about the account: the randomised experiment that measures the uplift;
- ``oracle``: the largest extra recovery computed from the borrower's latent traits
  (:mod:`overdue.sim.oracle`) × the overdue balance: not a policy a lender can run (it reads what no lender
  sees), but the yardstick of how much any order can gain over ``balance`` in the simulator's model.

A call with no score (the account is not delinquent) comes last in every order that reads the score. Ties
fall to the account order, so a run stays deterministic for its seed. The capacity is written per
1,000 accounts and each shard gets its share (:meth:`CallPolicy.shard_capacity`), so shards stay
independent and the result does not depend on the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from overdue.engine.collect import PlannedStep
from overdue.sim.uplift import CallUplift, shipped_uplift

CALL_TYPES = frozenset({"call", "contact_call"})
"""Action types made by a human collector on the phone: the ones the capacity limits."""
PRIORITIES = ("balance", "score", "expected", "risk", "uplift", "random", "oracle")
"""The orders the day's calls can be made in (see the module docstring); ``balance`` is the champion."""
CAPACITY_RULE = "call_capacity"
LOT_STREAM = 4
"""The keyed draws of the ``random`` order (a stream of its own: drawing lots moves no other draw)."""


@dataclass(frozen=True)
class CallPolicy:
    """capacity_per_1000: human calls a day per 1,000 accounts (None: unlimited). priority: one of
    :data:`PRIORITIES` (see the module docstring)."""

    capacity_per_1000: int | None = None
    priority: str = "balance"
    uplift: CallUplift | None = None
    """The uplift table of the ``uplift`` order (None: the shipped one)."""

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

    def uplift_table(self) -> CallUplift:
        return self.uplift if self.uplift is not None else shipped_uplift()


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
    """The account's ``score`` fact when it was planned (None: not delinquent)."""
    lot: float = 0.0
    """The account's keyed lot of the day (the ``random`` order)."""
    extra: int = 0
    """Predicted extra recovery of the call, fen × ppm (the ``uplift`` and ``oracle`` orders; 0 under the
    others)."""


OrderKey = Callable[[int, int | None, int, float], tuple[float, ...]]
"""A priority's sort key of a waiting call (smallest first), from its overdue balance, ``score`` fact (None:
not delinquent), predicted extra recovery and lot (:class:`WaitingCall`): the reference's queue and the
array runner's (:mod:`overdue.sim.array_shard`) both sort by it."""


def _by_balance(balance: int, score: int | None, extra: int, lot: float) -> tuple[int, ...]:
    return (-balance,)


def _by_score(balance: int, score: int | None, extra: int, lot: float) -> tuple[int, ...]:
    return (score is None, -(score or 0), -balance)


def _by_expected_recovery(balance: int, score: int | None, extra: int, lot: float) -> tuple[int, ...]:
    return (score is None, -(score or 0) * balance, -balance)


def _by_risk(balance: int, score: int | None, extra: int, lot: float) -> tuple[int, ...]:
    return (score is None, score or 0, -balance)


def _by_uplift(balance: int, score: int | None, extra: int, lot: float) -> tuple[int, ...]:
    return (score is None, -extra, -balance)


def _by_lot(balance: int, score: int | None, extra: int, lot: float) -> tuple[float, ...]:
    return (lot,)


ORDERS: dict[str, OrderKey] = {
    "balance": _by_balance,
    "score": _by_score,
    "expected": _by_expected_recovery,
    "risk": _by_risk,
    "uplift": _by_uplift,
    "random": _by_lot,
    "oracle": _by_uplift,
}
"""Sort key of each priority (smallest first); treat as read-only."""


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
        key = ORDERS[self.policy.priority]
        # A stable sort: ties in account order.
        return sorted(calls, key=lambda c: key(c.overdue_balance, c.score, c.extra, c.lot))
