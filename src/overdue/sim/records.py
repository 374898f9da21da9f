"""The collection records of a simulated portfolio as arrays, and a day's decide → comply over them.

The reference simulator keeps one :class:`~overdue.domain.collections.CollectionState` (with the agency the
account is placed with and the last day each treatment was done in the episode) per account and runs
:func:`overdue.engine.collect.plan_collection` for one account at a time. :class:`Records` holds the same
records as arrays, with the rules of :mod:`overdue.domain.collections` over a batch of accounts, and
:func:`plan_day` runs ``plan_collection``'s steps for every account at once: open or close the episode,
break the promises past their date, decide without escalation (:class:`~overdue.sim.decide.
ArrayStrategy`), let the escalation lapse where DPD has moved the account on, decide again with it, and
check every planned action against the rulebook.

What a simulated portfolio's records can hold: a pending promise at a time (a new one breaks the one before,
as :func:`~overdue.domain.collections.make_promise` does) and the latest resolved one; no holds, plans,
disputes or validation notices (nothing in the simulator makes them, and the strategy's ``plan`` fact is
``none``). The rulebook's check at planning time is exact without asking the rulebook for most actions: the
China rulebook refuses an action before it has a time only for a held, disputed, sold or planned account
(none here), a party other than the debtor or a guarantor, or a contact over the day's caps (the day's
contacts are made after planning); every action of an account that could be refused goes to the rulebook
itself (:meth:`~overdue.compliance.Rulebook.check`, with the account's facts), so a refusal carries the
rulebook's own rule and words. The ``score`` fact (the collection score) is not computed yet: a strategy that
reads it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from overdue.compliance import PlannedContact, Rulebook
from overdue.domain.collections import PROMISE_MEMORY_DAYS, CollectionState, Promise
from overdue.engine.collect import CONTACT_CHANNEL, MESSAGE_CHANNELS, UNASSIGNED_AGENCY
from overdue.sim.book import STATUS_OF, Book
from overdue.sim.decide import NOT_DONE, ArrayDecision, ArrayStrategy, Column, FactColumns
from overdue.strategy import AccountFacts
from overdue.strategy.facts import BUCKETS, FIELDS
from overdue.strategy.quiet import quiet_days_of

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

NO_PROMISE, KEPT, BROKEN = 0, 1, 2
"""The latest resolved promise's status (:attr:`Records.resolved`)."""
PROMISE_WORDS = ("none", "kept", "broken")
NONE = -1
"""No stage (:attr:`Records.stage`, :attr:`Records.escalated_from`)."""
NO_SCORE = np.iinfo(np.int64).min
"""An account's behaviour score before its first month end (the fact is None)."""
PLAIN_PARTIES = ("debtor", "guarantor")
"""Parties the China rulebook's third-party rule lets through without looking further."""


class Records:
    """The collection records of ``n`` accounts; ``treatments`` is the strategy's number of treatments."""

    def __init__(self, n: int, treatments: int) -> None:
        def zeros() -> Ints:
            return np.zeros(n, dtype=np.int64)

        self.n = n
        self.episode = zeros()
        """When the open delinquency episode started (ordinal; 0: none)."""
        self.stage = np.full(n, NONE, dtype=np.int64)
        """The stage DPD put the account in at its last decision (before escalation)."""
        self.escalation = zeros()
        self.escalated_from = np.full(n, NONE, dtype=np.int64)
        self.lost = np.zeros(n, dtype=bool)
        """Contactability ``lost_contact``."""
        self.attempts, self.connects, self.last_contact = zeros(), zeros(), zeros()
        self.pending = np.zeros(n, dtype=bool)
        self.promise_amount, self.promise_paid, self.promise_due, self.promise_made = (
            zeros(),
            zeros(),
            zeros(),
            zeros(),
        )
        self.resolved = np.zeros(n, dtype=np.int8)
        """The latest resolved promise: :data:`NO_PROMISE`, :data:`KEPT` or :data:`BROKEN`."""
        self.resolved_on, self.resolved_made = zeros(), zeros()
        self.promises: list[list[Promise]] = [[] for _ in range(n)]
        """Each account's resolved promises, in the order they were made (a promise, once resolved, never
        changes again)."""
        self.account_ids: list[str] | None = None
        """The accounts' ids, for the promises' ids (None: ``A<index>``)."""
        self.placed = np.zeros(n, dtype=bool)
        self.placed_on = zeros()
        self.last_done = np.zeros((n, treatments), dtype=np.int64)
        """The last day (ordinal) each treatment was done in the episode; :data:`NOT_DONE` if not."""
        self.episode_key = zeros()
        """The episode ``last_done`` belongs to (the simulator forgets it when the episode changes)."""

    # --- the rules of overdue.domain.collections ------------------------------------------------------------

    def settled(self, rows: Ints) -> Mask:
        """:func:`overdue.engine.collect.settled`: no episode, no pending promise, no escalation."""
        settled: Mask = (self.episode[rows] == 0) & (self.escalation[rows] == 0) & ~self.pending[rows]
        return settled

    def start_or_end_episode(self, rows: Ints, dpd: Ints, today: int) -> None:
        opens = rows[(dpd > 0) & (self.episode[rows] == 0)]
        self.episode[opens] = today
        self.attempts[opens] = 0
        self.connects[opens] = 0
        closes = rows[(dpd == 0) & (self.episode[rows] != 0)]
        self.episode[closes] = 0
        for changed in (opens, closes):
            self.escalation[changed] = 0
            self.escalated_from[changed] = NONE
            self.stage[changed] = NONE

    def forget_done(self, rows: Ints) -> None:
        """The simulator's ``last_done`` belongs to one episode: forgotten where the episode changed."""
        changed = rows[self.episode[rows] != self.episode_key[rows]]
        self.last_done[changed] = NOT_DONE
        self.episode_key[changed] = self.episode[changed]

    def review_promises(self, rows: Ints, today: int) -> Ints:
        """A pending promise past its date is broken and escalates the ladder one stage; returns the
        accounts whose promise broke."""
        broken = rows[self.pending[rows] & (today > self.promise_due[rows])]
        self._resolve(broken, BROKEN, today)
        moved = broken[
            (self.escalated_from[broken] != NONE) & (self.escalated_from[broken] != self.stage[broken])
        ]
        self.escalation[moved] = 0
        self.escalation[broken] += 1
        self.escalated_from[broken] = self.stage[broken]
        return broken

    def settle_escalation(self, rows: Ints, stage: Ints) -> None:
        """Record the stage DPD puts the account in; escalation lapses once DPD has moved it on."""
        lapsed = rows[(self.escalated_from[rows] != NONE) & (stage != self.escalated_from[rows])]
        self.escalation[lapsed] = 0
        self.escalated_from[lapsed] = NONE
        self.stage[rows] = stage

    def apply_repayment(self, rows: Ints, amounts: Ints, today: int) -> Mask:
        """Count repayments toward pending promises; returns where one was kept."""
        waiting = self.pending[rows]
        self.promise_paid[rows[waiting]] += amounts[waiting]
        kept = waiting & (self.promise_paid[rows] >= self.promise_amount[rows])
        self._resolve(rows[kept], KEPT, today)
        return kept

    def make_promise(self, rows: Ints, today: int, amounts: Ints, due: Ints) -> None:
        """Promises made today; each replaces (breaks) a pending one."""
        self._resolve(rows[self.pending[rows]], BROKEN, today)
        self.pending[rows] = True
        self.promise_amount[rows] = amounts
        self.promise_paid[rows] = 0
        self.promise_due[rows] = due
        self.promise_made[rows] = today

    def record_contact(self, rows: Ints, connected: Mask, lost: Mask, today: int) -> None:
        """Contact attempts on the debtor: ``connected`` (a conversation) makes them reachable, ``lost``
        (``lost_contact``, ``wrong_number``) unreachable; anything else changes neither."""
        self.attempts[rows] += 1
        self.connects[rows] += connected
        self.last_contact[rows] = today
        self.lost[rows[lost]] = True
        self.lost[rows[connected]] = False

    def _resolve(self, rows: Ints, status: int, today: int) -> None:
        """Resolve the pending promises of ``rows`` today; the latest resolved one is kept (by resolution
        date, then by the date it was made: the order of the promises' ids)."""
        later = (today > self.resolved_on[rows]) | (
            (today == self.resolved_on[rows]) & (self.promise_made[rows] >= self.resolved_made[rows])
        )
        take = rows[later]
        self.resolved[take] = status
        self.resolved_on[take] = today
        self.resolved_made[take] = self.promise_made[take]
        self.pending[rows] = False
        word = PROMISE_WORDS[status]
        resolved = date.fromordinal(today)
        for i in rows.tolist():
            made = date.fromordinal(int(self.promise_made[i]))
            promise = Promise(
                self._promise_id(i, made),
                made,
                int(self.promise_amount[i]),
                date.fromordinal(int(self.promise_due[i])),
                word,
                int(self.promise_paid[i]),
                resolved,
            )
            self.promises[i].append(promise)

    def _promise_id(self, i: int, made: date) -> str:
        account = self.account_ids[i] if self.account_ids is not None else f"A{i}"
        return f"{account}/{made.isoformat()}"

    def resolved_since(self, i: int, since: date) -> tuple[int, int]:
        """Account ``i``'s promises kept and broken, resolved on or after ``since``."""
        kept = broken = 0
        for promise in self.promises[i]:
            if promise.resolved_on is not None and promise.resolved_on >= since:
                kept += promise.status == "kept"
                broken += promise.status == "broken"
        return kept, broken

    def promise_status(self, rows: Ints, today: int) -> npt.NDArray[np.str_]:
        """:meth:`CollectionState.promise_status` of each row."""
        recent = (self.resolved[rows] != NO_PROMISE) & (today - self.resolved_on[rows] <= PROMISE_MEMORY_DAYS)
        words = np.array(PROMISE_WORDS, dtype=object)[np.where(recent, self.resolved[rows], NO_PROMISE)]
        status: npt.NDArray[np.str_] = np.where(self.pending[rows], "pending", words)
        return status

    # --- the domain's view ----------------------------------------------------------------------------------

    def state_of(self, i: int, account_id: str, stage_names: list[str]) -> CollectionState:
        """Account ``i``'s collection state as the domain holds it."""
        promises = list(self.promises[i])
        if self.pending[i]:
            made = date.fromordinal(int(self.promise_made[i]))
            promises.append(
                Promise(
                    f"{account_id}/{made.isoformat()}",
                    made,
                    int(self.promise_amount[i]),
                    date.fromordinal(int(self.promise_due[i])),
                    "pending",
                    int(self.promise_paid[i]),
                )
            )

        def day(value: int) -> date | None:
            return date.fromordinal(value) if value else None

        def stage(value: int) -> str | None:
            return stage_names[value] if value != NONE else None

        return CollectionState(
            account_id=account_id,
            episode_started_on=day(int(self.episode[i])),
            stage=stage(int(self.stage[i])),
            escalation=int(self.escalation[i]),
            escalated_from=stage(int(self.escalated_from[i])),
            contactability="lost_contact" if self.lost[i] else "reachable",
            attempts=int(self.attempts[i]),
            connects=int(self.connects[i]),
            last_contact_on=day(int(self.last_contact[i])),
            promises=tuple(promises),
        )


@dataclass(frozen=True)
class PlannedDay:
    """What decide → comply gave the accounts ``rows`` on one day.

    decided: the accounts that needed a decision (:func:`overdue.engine.collect.needs_decision`). decision:
    theirs (its rows index ``decided``). facts: the facts it was made on, row for row. allowed, rule,
    reason: each planned action's verdict (``rule`` and ``reason`` None where allowed: the action's own
    reason stands).
    """

    rows: Ints
    broken: Ints
    """The accounts whose pending promise broke today."""
    decided: Ints
    decision: ArrayDecision
    facts: FactColumns
    allowed: Mask
    rule: list[str | None]
    reason: list[str | None]


def plan_day(
    today: date,
    rows: Ints,
    book: Book,
    records: Records,
    strategy: ArrayStrategy,
    rulebook: Rulebook,
    account_ids: list[str],
    timezones: list[str],
    behaviour_score: Ints,
    combination: Ints,
) -> PlannedDay:
    """``plan_collection`` for the accounts ``rows`` after their end-of-day of ``today``.

    behaviour_score: each account's latest month-end behaviour score (:data:`NO_SCORE`: none yet).
    combination: each account's combination of experiment variants (:meth:`ArrayStrategy.combinations_of`).
    """
    if "score" in strategy.fields:
        raise ValueError(
            f"strategy {strategy.strategy.name} reads the collection score, not computed here yet"
        )
    on = today.toordinal()
    dpd = book.dpd[rows]
    was_settled = records.settled(rows)
    records.start_or_end_episode(rows, dpd, on)
    records.forget_done(rows)
    broken = records.review_promises(rows, on)

    facts = fact_columns(today, rows, book, records, behaviour_score, combination, strategy.fields | NEEDED)
    quiet = quiet_days_of(strategy.strategy)
    owed = facts.values["total_due"] > 0
    if quiet is None:
        needs = (dpd > 0) | owed
    else:
        to_due = facts.values["days_to_due"]
        needs = (dpd > 0) | (owed & (~was_settled | np.isin(to_due, sorted(quiet))))
    picked = np.flatnonzero(needs)
    decided = rows[picked]
    facts = _take(facts, picked)
    base = strategy.decide(facts)
    records.settle_escalation(decided, base.stage)
    escalated = records.escalation[decided]
    decision = base
    if escalated.any():
        values = dict(facts.values)
        values["escalation"] = escalated
        facts = FactColumns(facts.on, values, facts.nulls, facts.last_done, facts.combination)
        decision = strategy.decide(facts)

    k = len(decision.rows)
    allowed = np.ones(k, dtype=bool)
    rule: list[str | None] = [None] * k
    reason: list[str | None] = [None] * k
    party = np.array([strategy.treatments[t].party for t in decision.treatments.tolist()], dtype=object)
    doubtful = ~np.isin(party, PLAIN_PARTIES)
    for j in np.flatnonzero(doubtful).tolist():
        row = int(decision.rows[j])
        i = int(decided[row])
        action = strategy.action(int(decision.treatments[j]), int(facts.combination[row]))
        channel = MESSAGE_CHANNELS.get(action.type) or CONTACT_CHANNEL.get(action.type, "none")
        planned = PlannedContact(action.type, channel, action.party, None, timezones[i])
        escalation = int(facts.values["escalation"][row])
        one = facts_now(today, i, book, records, behaviour_score, combination, account_ids[i], escalation)
        verdict = rulebook.check(planned, one, ())
        if not verdict.allowed:
            allowed[j] = False
            rule[j] = verdict.rule
            reason[j] = verdict.reason or action.reason

    types = [strategy.treatments[t].type for t in decision.treatments.tolist()]
    for j, kind in enumerate(types):  # placements and recalls, in the order they were planned
        if allowed[j] and kind in ("agency_placement", "agency_recall"):
            i = int(decided[int(decision.rows[j])])
            records.placed[i] = kind == "agency_placement"
            records.placed_on[i] = on if kind == "agency_placement" else 0
    return PlannedDay(rows, broken, decided, decision, facts, allowed, rule, reason)


NEEDED = frozenset({"days_past_due", "escalation", "days_to_due", "total_due"})
"""Facts deciding reads whatever the strategy's conditions read (DPD and escalation for the stage and the
schedules, what is due for whether to decide at all)."""


def fact_columns(
    today: date,
    rows: Ints,
    book: Book,
    records: Records,
    behaviour_score: Ints,
    combination: Ints,
    fields: frozenset[str] | None = None,
) -> FactColumns:
    """The facts of ``rows`` after their end-of-day (:func:`overdue.engine.collect.account_facts`), with no
    escalation: those named in ``fields`` (None: all)."""
    on = today.toordinal()
    n = len(rows)
    upto = book.slots(on)
    wanted = set(FIELDS) - {"on"} if fields is None else set(fields) - {"on"}

    def latest_unpaid() -> tuple[Mask, Ints]:
        owed = book.owed[rows, :upto]
        unpaid = owed > 0
        latest = np.where(unpaid.any(axis=1), upto - 1 - np.argmax(unpaid[:, ::-1], axis=1), -1)
        return latest >= 0, np.maximum(latest, 0)

    values: dict[str, Column] = {}
    nulls: dict[str, Mask] = {}
    if wanted & {"days_to_due", "minimum_remaining"}:
        if upto:
            has, slot = latest_unpaid()
        else:
            has, slot = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
        if "days_to_due" in wanted:
            values["days_to_due"] = (
                np.where(has, book.due_ord[slot] - on, 0) if upto else np.zeros(n, np.int64)
            )
            nulls["days_to_due"] = ~has
        if "minimum_remaining" in wanted:
            remaining = np.maximum(book.remaining[rows, slot], 0) if upto else np.zeros(n, dtype=np.int64)
            values["minimum_remaining"] = np.where(has, remaining, 0)
    if "overdue_balance" in wanted:
        values["overdue_balance"] = (
            np.where(book._overdue(rows, upto, on), book.owed[rows, :upto], 0).sum(axis=1)
            if upto
            else np.zeros(n, dtype=np.int64)
        )
    simple: dict[str, Callable[[], Column]] = {
        "account_id": lambda: np.zeros(n, dtype=object),
        "product": lambda: np.full(n, book.terms.name, dtype=object),
        "days_past_due": lambda: book.dpd[rows],
        "bucket": lambda: np.array(BUCKETS, dtype=object)[book.bucket[rows]],
        "total_due": lambda: book.statement_owed[rows],
        "status": lambda: np.array([str(s) for s in STATUS_OF], dtype=object)[book.status[rows]],
        "contactability": lambda: np.where(records.lost[rows], "lost_contact", "reachable").astype(object),
        "promise": lambda: records.promise_status(rows, on),
        "plan": lambda: np.full(n, "none", dtype=object),
        "dispute": lambda: np.zeros(n, dtype=bool),
        "litigation_hold": lambda: np.zeros(n, dtype=bool),
        "cease": lambda: np.zeros(n, dtype=bool),
        "sold": lambda: np.zeros(n, dtype=bool),
        "attempts": lambda: records.attempts[rows],
        "connects": lambda: records.connects[rows],
        "escalation": lambda: np.zeros(n, dtype=np.int64),
    }
    for name, compute in simple.items():
        if name in wanted:
            values[name] = compute()
    if "validation_notice_on" in wanted:
        values["validation_notice_on"] = np.zeros(n, dtype=np.int64)
        nulls["validation_notice_on"] = np.ones(n, dtype=bool)
    if "days_since_last_contact" in wanted:
        last_contact = records.last_contact[rows]
        values["days_since_last_contact"] = on - last_contact
        nulls["days_since_last_contact"] = last_contact == 0
    if "score" in wanted:
        values["score"] = np.zeros(n, dtype=np.int64)
        nulls["score"] = np.ones(n, dtype=bool)
    if "behaviour_score" in wanted:
        score = behaviour_score[rows]
        values["behaviour_score"] = np.where(score == NO_SCORE, 0, score)
        nulls["behaviour_score"] = score == NO_SCORE
    if wanted & {"agency", "days_placed"}:
        placed = records.placed[rows]
        values["agency"] = np.where(placed, UNASSIGNED_AGENCY, "").astype(object)
        nulls["agency"] = ~placed
        values["days_placed"] = on - records.placed_on[rows]
        nulls["days_placed"] = ~placed
    return FactColumns(today, values, nulls, records.last_done[rows], combination[rows])


def _take(facts: FactColumns, picked: Ints) -> FactColumns:
    return FactColumns(
        facts.on,
        {name: column[picked] for name, column in facts.values.items()},
        {name: mask[picked] for name, mask in facts.nulls.items()},
        facts.last_done[picked],
        facts.combination[picked],
    )


def facts_now(
    today: date,
    i: int,
    book: Book,
    records: Records,
    behaviour_score: Ints,
    combination: Ints,
    account_id: str,
    escalation: int,
) -> AccountFacts:
    """Account ``i``'s facts as its records stand now, as the reference's record (for the rulebook's own
    check of one action or contact)."""
    every = fact_columns(today, np.array([i]), book, records, behaviour_score, combination)
    return one_account(every, 0, account_id, escalation)


def one_account(facts: FactColumns, row: int, account_id: str, escalation: int = 0) -> AccountFacts:
    """One row of ``facts`` as the reference's record (for the rulebook's own check)."""
    values: dict[str, Any] = {}
    for name, column in facts.values.items():
        null = facts.nulls.get(name)
        value = None if null is not None and null[row] else column[row]
        if isinstance(value, np.generic):
            value = value.item()
        values[name] = value
    values["account_id"] = account_id
    values["escalation"] = escalation
    if values["validation_notice_on"] is not None:
        values["validation_notice_on"] = date.fromordinal(values["validation_notice_on"])
    return AccountFacts(on=facts.on, **values)  # no rule reads last_done
