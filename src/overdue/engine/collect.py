"""Decide, comply, act: the collection half of one account's end-of-day.

After accrue → age → bill, for each account:

1. **facts**: :func:`account_facts` turns the account's state and collection state (and its latest
   month-end behaviour score, which the caller loads) into the :class:`~overdue.strategy.facts.AccountFacts`
   a strategy reads;
2. **decide**: the strategy gives the day's planned actions (:func:`overdue.strategy.decide`);
3. **comply**: each planned contact goes through the rulebook (:mod:`overdue.compliance`); a refused one
   is recorded with its rule and not made;
4. **act**: each action is recorded once per (account, date, treatment); an allowed message goes to the
   outbox, human and back-office work to a queue. Placement and recall mark the account placed or not.

All of it is written in the caller's database transaction, together with the account's day: a repeated or
resumed run writes nothing twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from overdue.channels.templates import placeholder_values, render
from overdue.compliance import PastContact, PlannedContact, Rulebook
from overdue.compliance import rulebook as compliance_rulebook
from overdue.domain import collections
from overdue.domain.collections import CollectionState
from overdue.domain.money import format_yuan
from overdue.domain.relief_arrangements import plan_fact
from overdue.domain.state import DEFAULT_LANGUAGE, AccountState
from overdue.risk.collection import score_fact
from overdue.risk.notices import NOTICE_TREATMENT as LIMIT_NOTICE
from overdue.store import collections_repository as store
from overdue.store import compliance_repository as compliance_store
from overdue.store.limit_repository import bucket_spells
from overdue.strategy import AccountFacts, Decision, PlannedAction, Strategy, decide
from overdue.strategy.quiet import quiet_days_of

MESSAGE_CHANNELS = {
    "sms": "sms",
    "push": "push",
    "letter": "letter",
    "lawyer_letter": "letter",
    "ai_voice": "ai_voice",
}
"""Action types that become an outbox message, and their channel."""
WORK_QUEUES = {
    "call": "call",
    "contact_call": "call",
    "field_visit": "field",
    "agency_placement": "agency",
    "agency_recall": "agency",
    "litigation": "legal",
    "write_off": "back_office",
    "debt_sale": "back_office",
}
"""Action types that become work for people, and their queue."""
CONTACT_CHANNEL = {"call": "voice", "contact_call": "voice", "field_visit": "field"}
UNASSIGNED_AGENCY = "unassigned"
"""Agency of a placement before one is chosen (agency selection arrives with collector operations)."""
DEFAULT_LOCALE = DEFAULT_LANGUAGE
"""The locale of a message whose template has no text in the borrower's language (every template has it)."""
HISTORY_DAYS = 8
"""How far back the contact history a rulebook sees goes (the longest window, Regulation F's 7 days, + 1)."""


@dataclass(frozen=True)
class Collections:
    """An account's collection records as loaded for one end-of-day."""

    state: CollectionState
    agency: str | None
    placed_on: date | None
    holds: frozenset[str] = frozenset()
    """Kinds of hold in force at the end of the day (``dispute``, ``plan``, ``cease``, ``sold``,
    ``litigation``; :mod:`overdue.store.compliance_tables`)."""
    validation_notice_on: date | None = None
    """US: when the validation notice was sent."""


def account_facts(
    account: AccountState,
    collection: Collections,
    on: date,
    last_done: dict[str, date],
    *,
    escalation: int | None = None,
    behaviour_score: int | None = None,
) -> AccountFacts:
    """The facts a strategy sees for ``account`` at the end of ``on``.

    escalation: override the collection state's escalation (0 gives the stage DPD alone puts it in).
    behaviour_score: the ``behaviour_score`` fact, the account's latest month-end behaviour score on or before
    ``on`` as the caller loaded it (:func:`overdue.store.behaviour_repository.latest_scores`) or kept it
    (the simulator); None before its first month end.

    The ``score`` fact is a delinquent account's collection score
    (:func:`overdue.risk.collection.score_fact`); its count of earlier episodes reads
    ``account.bucket_history``, so pass the full history (:func:`collect` does).
    """
    delinquent = account.delinquent_statements(on)
    unpaid = [s for s in account.statements if s.outstanding > 0]
    latest = max(unpaid, key=lambda s: s.statement_date, default=None)
    cs = collection.state
    return AccountFacts(
        account_id=account.id,
        product=account.product,
        on=on,
        days_past_due=account.days_past_due,
        bucket=account.bucket,
        overdue_balance=sum(s.outstanding for s in delinquent),
        total_due=sum(s.outstanding for s in unpaid),
        days_to_due=None if latest is None else (latest.due_date - on).days,
        minimum_remaining=0 if latest is None else latest.minimum_remaining,
        status=str(account.status),
        contactability=cs.contactability,
        promise=cs.promise_status(on),
        plan="active" if "plan" in collection.holds else plan_fact(account),
        dispute=cs.dispute_open or "dispute" in collection.holds,
        litigation_hold=cs.litigation_hold or "litigation" in collection.holds,
        cease="cease" in collection.holds,
        sold="sold" in collection.holds,
        validation_notice_on=collection.validation_notice_on,
        attempts=cs.attempts,
        connects=cs.connects,
        days_since_last_contact=None if cs.last_contact_on is None else (on - cs.last_contact_on).days,
        score=score_fact(account, cs, on),
        behaviour_score=behaviour_score,
        escalation=cs.escalation if escalation is None else escalation,
        agency=collection.agency,
        days_placed=None if collection.placed_on is None else (on - collection.placed_on).days,
        last_done=last_done,
    )


def needs_decision(
    account: AccountState,
    on: date,
    collection: CollectionState | None = None,
    quiet_days: frozenset[int] | None = None,
) -> bool:
    """Whether the strategy has anything to look at: the account is overdue, or has something billed unpaid
    and is not quiet today.

    An account at DPD 0 whose ``collection`` records are settled (:func:`settled`) is quiet on a day its
    latest unpaid statement's due date is not one of ``quiet_days`` away
    (:func:`overdue.strategy.quiet.quiet_day_filter`: the only days a strategy can act on it); deciding
    for it then plans nothing and changes none of its records. ``quiet_days`` None (the strategy can act at
    DPD 0 on other days too) or no ``collection`` given: never quiet.
    """
    if account.days_past_due > 0:
        return True
    unpaid = [s for s in account.statements if s.outstanding > 0]
    if not unpaid:
        return False
    if quiet_days is None or collection is None or not settled(collection):
        return True
    latest = max(unpaid, key=lambda s: s.statement_date)
    return (latest.due_date - on).days in quiet_days


def settled(collection: CollectionState) -> bool:
    """Whether an account's collection records leave it nothing to review: no episode open, no promise
    pending, no escalation."""
    return (
        collection.episode_started_on is None
        and collection.escalation == 0
        and not any(p.status == "pending" for p in collection.promises)
    )


@dataclass(frozen=True)
class PlannedStep:
    """One action after compliance: the plan, the verdict, and where it goes when allowed."""

    action: PlannedAction
    allowed: bool
    rule: str | None
    reason: str
    channel: str | None
    """Outbox channel of a message action (None for work)."""
    queue: str | None
    """Work queue of a human or back-office action (None for messages)."""
    body: str | None
    """The message text, filled in (messages only)."""


@dataclass(frozen=True)
class CollectionDay:
    """What decide → comply produced for one account on one date (nothing stored yet)."""

    collection: Collections
    decision: Decision | None
    steps: tuple[PlannedStep, ...]
    validation_notice: bool = False
    """Whether a validation notice is to be sent today (US: the first day of delinquency)."""
    facts: AccountFacts | None = None
    """The facts the decision was made on and every step was checked against (None when nothing was decided).
    Their agency is the one before the steps: a placement or recall among them moves ``collection``'s."""


def plan_collection(
    account: AccountState,
    collection: Collections,
    on: date,
    last_done: dict[str, date],
    strategy: Strategy,
    rulebook: Rulebook | None = None,
    history: Sequence[PastContact] = (),
    *,
    behaviour_score: int | None = None,
    messages: bool = True,
    trace: bool = True,
) -> CollectionDay:
    """Decide and comply for one account after its end-of-day of ``on``; pure, stores nothing.

    last_done: treatment id → last date done, since the start of the current episode (see the caller).
    rulebook: the rulebook every planned contact passes (None: the one the account's product names).
    history: the contacts made with the account in the last :data:`HISTORY_DAYS` days.
    behaviour_score: the account's latest month-end behaviour score (see :func:`account_facts`).
    messages: fill in each allowed message's text (``body``); False leaves it None (the simulator's way).
    trace: write the decision's trace (:func:`overdue.strategy.decide`); False leaves it empty (the
    simulator's way: nothing else in the day depends on it).
    """
    rulebook = rulebook or compliance_rulebook(account.terms.rulebook)
    cs = collections.start_or_end_episode(collection.state, account.days_past_due, on)
    cs = collections.review_promises(cs, on)
    agency, placed_on = collection.agency, collection.placed_on
    holds, notice_on = collection.holds, collection.validation_notice_on
    if not needs_decision(account, on, collection.state, quiet_days_of(strategy)):
        return CollectionDay(Collections(cs, agency, placed_on, holds, notice_on), None, ())
    send_notice = (
        getattr(rulebook, "requires_validation_notice", False)
        and account.days_past_due > 0
        and notice_on is None
        and not holds & {"sold", "cease"}
    )
    if send_notice:
        notice_on = on
    unescalated = account_facts(
        account,
        Collections(cs, agency, placed_on, holds, notice_on),
        on,
        last_done,
        escalation=0,
        behaviour_score=behaviour_score,
    )
    base = decide(strategy, unescalated, trace=trace)
    cs = collections.settle_escalation(cs, base.stage)
    # Settling moves only the stage and the escalation, and of them the facts read only the escalation.
    facts = dataclasses.replace(unescalated, escalation=cs.escalation) if cs.escalation else unescalated
    decision = decide(strategy, facts, trace=trace) if cs.escalation else base
    steps: list[PlannedStep] = []
    for action in decision.actions:
        channel = MESSAGE_CHANNELS.get(action.type)
        planned = PlannedContact(
            action.type,
            channel or CONTACT_CHANNEL.get(action.type, "none"),
            action.party,
            None,
            account.timezone,
        )
        verdict = rulebook.check(planned, facts, history)
        body = None
        if messages and verdict.allowed and channel is not None:
            body = _message(strategy, action, facts, on, agency, account.language)
        if verdict.allowed and action.type == "agency_placement":
            agency, placed_on = UNASSIGNED_AGENCY, on
        elif verdict.allowed and action.type == "agency_recall":
            agency, placed_on = None, None
        steps.append(
            PlannedStep(
                action,
                verdict.allowed,
                verdict.rule,
                action.reason if verdict.allowed else (verdict.reason or action.reason),
                channel,
                WORK_QUEUES.get(action.type),
                body,
            )
        )
    return CollectionDay(
        Collections(cs, agency, placed_on, holds, notice_on), decision, tuple(steps), send_notice, facts
    )


def message_locale(strategy: Strategy, template: str | None, language: str) -> str:
    """The locale a message of ``template`` is sent in: the borrower's ``language`` when the template has a
    text in it, else :data:`DEFAULT_LOCALE` (zh-CN, which every template has)."""
    texts = {} if template is None else strategy.templates[template].texts
    return language if language in texts else DEFAULT_LOCALE


def _message(
    strategy: Strategy,
    action: PlannedAction,
    facts: AccountFacts,
    on: date,
    agency: str | None,
    language: str = DEFAULT_LOCALE,
) -> str:
    """The text of ``action``'s message, in the borrower's ``language`` (:func:`message_locale`)."""
    if action.template is None:
        return ""
    locale = message_locale(strategy, action.template, language)
    values = placeholder_values(
        locale,
        name=None,
        amount=facts.overdue_balance or facts.total_due,
        due_date=None if facts.days_to_due is None else on + timedelta(days=facts.days_to_due),
        days_past_due=facts.days_past_due,
        minimum=facts.minimum_remaining,
        total_due=facts.total_due,
        agency=agency,
    )
    return render(strategy.templates[action.template].texts[locale], values)


def contact_history(conn: Connection, account_id: str, on: date) -> list[PastContact]:
    """The account's contacts of the last :data:`HISTORY_DAYS` days, as the rulebooks read them."""
    return [
        past_contact(r) for r in store.recent_contacts(conn, account_id, on - timedelta(days=HISTORY_DAYS))
    ]


def stored_time(at: datetime) -> datetime:
    """A contact time as stored: SQLite gives back naive datetimes for what was stored in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def past_contact(row: Any) -> PastContact:
    """A stored contact row as the rulebooks read it."""
    return PastContact(stored_time(row["at"]), row["channel"], row["party"], row["outcome"])


def collect(
    conn: Connection,
    account: AccountState,
    on: date,
    strategy: Strategy,
    rulebook: Rulebook | None = None,
    *,
    behaviour_score: int | None = None,
) -> tuple[Decision | None, list[dict[str, Any]]]:
    """Run decide → comply → act for one account after its end-of-day of ``on``; returns what was recorded.

    behaviour_score: the account's latest month-end behaviour score on or before ``on`` (the caller reads
    them for the whole day at once, :func:`overdue.store.behaviour_repository.latest_scores`).
    """
    cs, agency, placed_on = store.load_collection_state(conn, account.id)
    loaded = Collections(cs, agency, placed_on)
    episode = collections.start_or_end_episode(cs, account.days_past_due, on).episode_started_on
    done: dict[str, date] = {}
    history: list[PastContact] = []
    # Holds, notice, schedules and contacts only matter to a decision.
    if needs_decision(account, on, cs, quiet_days_of(strategy)):
        zone = ZoneInfo(account.timezone)
        notice = compliance_store.validation_notice(conn, account.id)
        loaded = Collections(
            cs,
            agency,
            placed_on,
            compliance_store.open_holds(conn, account.id, datetime.combine(on, time.max, tzinfo=zone)),
            None if notice is None else notice["sent_at"].astimezone(zone).date(),
        )
        done = store.last_done(conn, account.id, episode, leave_out=(LIMIT_NOTICE,))
        history = contact_history(conn, account.id, on)
        if account.days_past_due > 0:  # the score fact counts earlier episodes in the full bucket history
            account = dataclasses.replace(account, bucket_history=tuple(bucket_spells(conn, account.id)))
    day = plan_collection(
        account, loaded, on, done, strategy, rulebook, history, behaviour_score=behaviour_score
    )
    recorded: list[dict[str, Any]] = []
    if day.validation_notice:
        recorded.append(_send_validation_notice(conn, account, on, day))
    for step in day.steps:
        action = step.action
        row = {
            "account_id": account.id,
            "business_date": on,
            "treatment": action.treatment,
            "type": action.type,
            "stage": action.stage,
            "template": action.template,
            "party": action.party,
            "priority": action.priority,
            "experiment": action.experiment,
            "variant": action.variant,
            "status": "queued" if step.allowed else "refused",
            "refused_rule": step.rule,
            "reason": step.reason,
        }
        action_id = store.record_action(conn, row)
        if action_id is None:
            continue  # already recorded by an earlier run of this date
        recorded.append(row)
        if step.allowed and step.channel is not None:
            store.queue_message(
                conn,
                {
                    "action_id": action_id,
                    "account_id": account.id,
                    "channel": step.channel,
                    "template": action.template,
                    "locale": message_locale(strategy, action.template, account.language),
                    "body": step.body or "",
                },
            )
        if step.allowed and step.queue is not None:
            store.queue_work(
                conn,
                {
                    "action_id": action_id,
                    "account_id": account.id,
                    "queue": step.queue,
                    "business_date": on,
                    "priority": action.priority,
                },
            )
    new = day.collection
    if (new.state, new.agency, new.placed_on) != (loaded.state, loaded.agency, loaded.placed_on):
        store.save_collection_state(conn, new.state, new.agency, new.placed_on)
    return day.decision, recorded


VALIDATION_RECEIPT_DAYS = 5
"""US: days after mailing a validation notice is taken to be received (Reg F §1006.34(b)(5))."""
VALIDATION_PERIOD_DAYS = 30
"""US: days after receipt in which the debtor may dispute the debt (the validation period)."""


def _send_validation_notice(
    conn: Connection, account: AccountState, on: date, day: CollectionDay
) -> dict[str, Any]:
    """Record and queue the US validation notice (a letter) on the first day of delinquency."""
    period_ends_on = on + timedelta(days=VALIDATION_RECEIPT_DAYS + VALIDATION_PERIOD_DAYS)
    facts = account_facts(account, day.collection, on, {})
    row = {
        "account_id": account.id,
        "business_date": on,
        "treatment": "validation_notice",
        "type": "letter",
        "stage": day.decision.stage if day.decision is not None and day.decision.stage else "validation",
        "template": None,
        "party": "debtor",
        "priority": 0,
        "experiment": None,
        "variant": None,
        "status": "queued",
        "refused_rule": None,
        "reason": "Reg F §1006.34: validation notice on the first day of delinquency",
    }
    action_id = store.record_action(conn, row)
    if action_id is not None:
        compliance_store.record_validation_notice(
            conn,
            account.id,
            datetime.combine(on, time(0), tzinfo=ZoneInfo(account.timezone)),
            period_ends_on,
            "letter",
        )
        store.queue_message(
            conn,
            {
                "action_id": action_id,
                "account_id": account.id,
                "channel": "letter",
                "template": None,
                "locale": "en",
                "body": validation_notice_text(account.id, facts.overdue_balance, on, period_ends_on),
            },
        )
    return row


def validation_notice_text(account_id: str, amount: int, on: date, period_ends_on: date) -> str:
    """The validation notice's text (English: the US rulebook's)."""
    return (
        f"Validation notice. Account {account_id}: {format_yuan(amount)} is past due as of "
        f"{on.isoformat()}. You may dispute all or part of this debt, or ask for the name and address of "
        f"the original creditor, until {period_ends_on.isoformat()}. If you dispute it in writing by then, "
        "we stop collecting until we send you verification."
    )
