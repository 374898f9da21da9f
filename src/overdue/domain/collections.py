"""The collection side of an account: its delinquency episode, promises to pay, disputes and contacts.

A **delinquency episode** starts the day an account first becomes overdue and ends the day nothing is overdue
any more; attempts, connects, escalation and "done once" treatments count within one episode.

A **promise to pay** (amount, date) is *kept* once repayments made since it was given reach its amount, and
*broken* when its date has passed without that; a strategy sees a resolved promise for a week. A broken
promise escalates the ladder one stage up: the account is treated one stage above the stage its DPD puts it
in (``escalated_from``), until its DPD moves it out of that stage anyway; each further broken promise in that
stage adds one more.

A **contact** is an attempt on a channel with an outcome (DESIGN §5). On the debtor, ``lost_contact`` and
``wrong_number`` mark them unreachable, and a conversation (``connected``, ``promise``, ``dispute``,
``hardship``, ``refused``) marks them reachable again; contacts with third parties change neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from overdue.domain.errors import InvalidInput
from overdue.domain.money import Fen
from overdue.domain.records import replace

CONTACT_OUTCOMES = (
    "connected",
    "no_answer",
    "busy",
    "wrong_number",
    "refused",
    "promise",
    "dispute",
    "hardship",
    "lost_contact",
    "deceased",
)
CONVERSATIONS = frozenset({"connected", "refused", "promise", "dispute", "hardship"})
"""Outcomes in which somebody was actually talked to."""
UNREACHABLE = frozenset({"lost_contact", "wrong_number"})
CONTACT_PARTIES = ("debtor", "contact", "guarantor")
CONTACT_CHANNELS = ("sms", "push", "ai_voice", "voice", "email", "letter", "field")
PROMISE_MEMORY_DAYS = 7
"""A kept (or broken) promise counts as such for this many days after it was resolved, then as ``none``: a
kept promise pauses the ladder for a week, not for ever."""


@dataclass(frozen=True)
class Promise:
    id: str
    made_on: date
    amount: Fen
    due_on: date
    status: str = "pending"
    """``pending`` | ``kept`` | ``broken``."""
    paid: Fen = 0
    """Repaid since the promise was made."""
    resolved_on: date | None = None


@dataclass(frozen=True)
class CollectionState:
    """What collections remembers about one account, beside its ledger state."""

    account_id: str
    episode_started_on: date | None = None
    stage: str | None = None
    """The stage the account's DPD put it in at its last end-of-day (before escalation)."""
    escalation: int = 0
    escalated_from: str | None = None
    """The stage in which the promises behind ``escalation`` were broken."""
    contactability: str = "reachable"
    dispute_open: bool = False
    litigation_hold: bool = False
    attempts: int = 0
    connects: int = 0
    last_contact_on: date | None = None
    promises: tuple[Promise, ...] = ()
    """Pending promises, and the latest resolved one."""

    def promise_status(self, on: date) -> str:
        """``pending`` if a promise is pending; ``kept`` or ``broken`` for the latest resolved one within
        :data:`PROMISE_MEMORY_DAYS` of ``on``; else ``none``."""
        if any(p.status == "pending" for p in self.promises):
            return "pending"
        latest = max(self.promises, key=lambda p: (p.resolved_on or p.made_on, p.id), default=None)
        if (
            latest is None
            or latest.resolved_on is None
            or (on - latest.resolved_on).days > PROMISE_MEMORY_DAYS
        ):
            return "none"
        return latest.status


def start_or_end_episode(cs: CollectionState, days_past_due: int, on: date) -> CollectionState:
    """Open an episode on the first overdue day; close it (and forget its counters) once cured."""
    if days_past_due > 0 and cs.episode_started_on is None:
        return replace(
            cs, episode_started_on=on, attempts=0, connects=0, escalation=0, escalated_from=None, stage=None
        )
    if days_past_due == 0 and cs.episode_started_on is not None:
        return replace(cs, episode_started_on=None, escalation=0, escalated_from=None, stage=None)
    return cs


def make_promise(
    cs: CollectionState, promise_id: str, on: date, amount: Fen, due_on: date
) -> CollectionState:
    """Record a promise to pay ``amount`` by ``due_on``; it replaces a pending one."""
    if amount <= 0:
        raise InvalidInput("a promise needs a positive amount")
    if due_on < on:
        raise InvalidInput(
            f"a promise made on {on.isoformat()} cannot be due on {due_on.isoformat()}, before it"
        )
    kept = tuple(
        replace(p, status="broken", resolved_on=on) if p.status == "pending" else p for p in cs.promises
    )
    return replace(cs, promises=(*kept, Promise(promise_id, on, amount, due_on)))


def apply_repayment(cs: CollectionState, amount: Fen, on: date) -> CollectionState:
    """Count a repayment toward pending promises; a promise is kept once its amount is reached."""
    promises = []
    for p in cs.promises:
        if p.status == "pending":
            paid = p.paid + amount
            p = replace(p, paid=paid)
            if paid >= p.amount:
                p = replace(p, status="kept", resolved_on=on)
        promises.append(p)
    return replace(cs, promises=tuple(promises))


def review_promises(cs: CollectionState, on: date) -> CollectionState:
    """At end-of-day: a pending promise past its date is broken, and escalates the ladder one stage."""
    broken = 0
    promises = []
    for p in cs.promises:
        if p.status == "pending" and on > p.due_on:
            p = replace(p, status="broken", resolved_on=on)
            broken += 1
        promises.append(p)
    if not broken:
        return cs
    if cs.escalated_from is not None and cs.escalated_from != cs.stage:
        cs = replace(cs, escalation=0)
    return replace(cs, promises=tuple(promises), escalation=cs.escalation + broken, escalated_from=cs.stage)


def plan_broken(cs: CollectionState) -> CollectionState:
    """A negotiated plan broke (a payment missed by too long): the ladder resumes one stage up, as after a
    broken promise, from the stage the account was in while the plan was kept."""
    if cs.escalated_from is not None and cs.escalated_from != cs.stage:
        cs = replace(cs, escalation=0)
    return replace(cs, escalation=cs.escalation + 1, escalated_from=cs.stage)


def settle_escalation(cs: CollectionState, stage: str | None) -> CollectionState:
    """Record the stage DPD puts the account in today; escalation lapses once DPD has moved it on."""
    if cs.escalated_from is not None and stage != cs.escalated_from:
        cs = replace(cs, escalation=0, escalated_from=None)
    return replace(cs, stage=stage)


def record_contact(cs: CollectionState, outcome: str, on: date, party: str = "debtor") -> CollectionState:
    """Count a contact attempt and what its outcome says about reachability and disputes.

    Only an attempt on the debtor says whether the debtor can be reached, or counts as a connect; talking to
    a pre-agreed contact does not make the debtor reachable.
    """
    if outcome not in CONTACT_OUTCOMES:
        raise InvalidInput(
            f"unknown contact outcome {outcome!r}; expected one of {', '.join(CONTACT_OUTCOMES)}"
        )
    contactability = cs.contactability
    debtor = party == "debtor"
    if debtor and outcome in UNREACHABLE:
        contactability = "lost_contact"
    elif debtor and outcome in CONVERSATIONS:
        contactability = "reachable"
    return replace(
        cs,
        attempts=cs.attempts + 1,
        connects=cs.connects + (debtor and outcome in CONVERSATIONS),
        last_contact_on=on,
        contactability=contactability,
        dispute_open=cs.dispute_open or outcome == "dispute",
    )
