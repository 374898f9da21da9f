"""The morning allocation of cases to collectors: a pure function of the day's cases and collectors.

Rules, in order:

1. **Absences**: only collectors present today with a cap above zero take cases; an absent collector's cases
   go back to the pool and are redistributed.
2. **Sticky**: a case stays with the collector who had it last (``previous_collector``) while that collector
   is present and under their daily cap; when they have more such cases than their cap, they keep the highest
   priority ones and the rest go to the pool.
3. **Capacity**: when the pool is larger than the capacity left, the highest-priority cases are served first
   (priority, then overdue amount, then case id); the others stay unassigned today.
4. **Balance**: the pool's cases, largest overdue amount first, each go to the collector with the least
   overdue amount so far who is under their cap (ties: fewest cases, then collector id) — a greedy round-robin
   by amount. Without sticky cases and binding caps, the collectors' totals then differ by at most one case's
   amount.

A case is one borrower, so one collector per borrower follows from one collector per case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from overdue.domain.errors import InvalidInput
from overdue.domain.money import Fen


@dataclass(frozen=True)
class CaseToAllocate:
    case_id: str
    overdue: Fen
    priority: int
    previous_collector: str | None = None


@dataclass(frozen=True)
class Collector:
    id: str
    cap: int
    """Most cases this collector takes in one day."""
    present: bool = True


@dataclass(frozen=True)
class Assignment:
    case_id: str
    collector: str
    sticky: bool
    """Kept with the previous collector (False: given out from the pool)."""


@dataclass(frozen=True)
class Allocation:
    assignments: tuple[Assignment, ...]
    unassigned: tuple[str, ...]
    """Cases left for lack of capacity, highest priority first."""

    def by_collector(self) -> dict[str, tuple[str, ...]]:
        """Collector id → the case ids given to them, in allocation order."""
        out: dict[str, list[str]] = {}
        for a in self.assignments:
            out.setdefault(a.collector, []).append(a.case_id)
        return {k: tuple(v) for k, v in out.items()}


def _rank(case: CaseToAllocate) -> tuple[int, int, str]:
    return (-case.priority, -case.overdue, case.case_id)


def allocate(cases: Iterable[CaseToAllocate], collectors: Sequence[Collector]) -> Allocation:
    """Give ``cases`` to ``collectors`` by the rules of this module (deterministic: same input, same output).

    Raises :class:`InvalidInput` for a case or a collector listed twice, or a negative cap.
    """
    cases = tuple(cases)
    if len({c.case_id for c in cases}) != len(cases):
        raise InvalidInput("a case is listed twice in one allocation")
    if len({c.id for c in collectors}) != len(collectors):
        raise InvalidInput("a collector is listed twice in one allocation")
    for collector in collectors:
        if collector.cap < 0:
            raise InvalidInput(f"collector {collector.id}: a daily cap cannot be negative ({collector.cap})")
    working = {c.id: c for c in collectors if c.present and c.cap > 0}
    load: dict[str, Fen] = {cid: 0 for cid in working}
    count: dict[str, int] = {cid: 0 for cid in working}
    assignments: list[Assignment] = []
    pool: list[CaseToAllocate] = []

    for case in sorted(cases, key=_rank):
        keeper = case.previous_collector
        if keeper in working and count[keeper] < working[keeper].cap:
            assignments.append(Assignment(case.case_id, keeper, True))
            load[keeper] += case.overdue
            count[keeper] += 1
        else:
            pool.append(case)

    capacity = sum(working[cid].cap - count[cid] for cid in working)
    served, unserved = pool[:capacity], pool[capacity:]
    for case in sorted(served, key=lambda c: (-c.overdue, -c.priority, c.case_id)):
        open_ = [cid for cid in working if count[cid] < working[cid].cap]
        chosen = min(open_, key=lambda cid: (load[cid], count[cid], cid))
        assignments.append(Assignment(case.case_id, chosen, False))
        load[chosen] += case.overdue
        count[chosen] += 1
    return Allocation(tuple(assignments), tuple(c.case_id for c in unserved))


def totals(allocation: Allocation, cases: Iterable[CaseToAllocate]) -> dict[str, Fen]:
    """Collector id → the overdue amount of the cases given to them."""
    amounts = {c.case_id: c.overdue for c in cases}
    out: dict[str, Fen] = {}
    for a in allocation.assignments:
        out[a.collector] = out.get(a.collector, 0) + amounts[a.case_id]
    return out
