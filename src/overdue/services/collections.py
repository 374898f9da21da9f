"""Collection use cases: promises to pay, disputes, and contact attempts (each checked by the rulebook first).

A contact attempt is made only when the rulebook allows it; a refused attempt is not recorded as a contact
and counts toward no limit — the refusal (with its rule) is returned to the caller. Each change is audited in
its own transaction (:func:`overdue.store.audit_trail.changed`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from overdue.compliance import PastContact, PlannedContact, Rulebook
from overdue.compliance import rulebook as compliance_rulebook
from overdue.compliance.audit import AuditReport, LoggedContact, audit
from overdue.domain import account as rules
from overdue.domain import collections
from overdue.domain.collections import CONTACT_CHANNELS, CONTACT_PARTIES
from overdue.domain.errors import InvalidDate, InvalidInput, OverdueError
from overdue.domain.money import Fen, format_yuan
from overdue.domain.state import AccountState
from overdue.engine.collect import Collections, account_facts, contact_history, past_contact, stored_time
from overdue.risk.notices import NOTICE_TREATMENT as LIMIT_NOTICE
from overdue.store import audit_trail, behaviour_repository, repository
from overdue.store import collections_repository as store
from overdue.store import compliance_repository as compliance_store
from overdue.strategy import Strategy, decide


class ContactRefused(OverdueError):
    """A contact attempt the rulebook refused; ``rule`` names the rule."""

    code = "contact-refused"

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


def make_promise(engine: Engine, account_id: str, on: date, amount: Fen, due_on: date) -> dict[str, Any]:
    """Record a promise to pay ``amount`` by ``due_on`` (it replaces a pending one)."""
    with engine.begin() as conn:
        account, _ = repository.load_account(conn, account_id)
        rules.check_open_date(account, on)
        cs, agency, placed_on = store.load_collection_state(conn, account_id)
        promise_id = f"{account_id}/promise/{on.isoformat()}/{len(cs.promises) + 1}"
        cs = collections.make_promise(cs, promise_id, on, amount, due_on)
        store.save_collection_state(conn, cs, agency, placed_on)
        result = {"promise": promise_id, "amount": format_yuan(amount), "due": due_on.isoformat()}
        audit_trail.changed(conn, "create", "promise", account_id, {**result, "date": on.isoformat()})
    return result


def set_dispute(
    engine: Engine, account_id: str, on: date, *, open_: bool, at: datetime | None = None
) -> dict[str, Any]:
    """Open or resolve a dispute on the account (an open dispute pauses the ladder and stops contact).

    at: when (default: just after the account's last contact that day, or the start of the day).
    """
    with engine.begin() as conn:
        account, _ = repository.load_account(conn, account_id)
        rules.check_open_date(account, on)
        cs, agency, placed_on = store.load_collection_state(conn, account_id)
        store.save_collection_state(conn, dataclasses.replace(cs, dispute_open=open_), agency, placed_on)
        at = _hold_time(conn, account, on, at)
        if open_:
            compliance_store.start_hold(conn, account_id, "dispute", at, "collector", None)
        else:
            compliance_store.end_hold(conn, account_id, "dispute", at)
        status = "open" if open_ else "resolved"
        audit_trail.changed(conn, "update", "dispute", account_id, {"status": status, "date": on.isoformat()})
    return {"dispute": status}


HOLDS_BY_REQUEST = ("cease", "sold", "litigation")
"""Holds started and ended by :func:`set_hold` (disputes by :func:`set_dispute`, plans by relief)."""


def set_hold(
    engine: Engine,
    account_id: str,
    kind: str,
    on: date,
    *,
    start: bool = True,
    at: datetime | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Start or end a hold that stops collection contact: a cease request (US), a sale, a litigation hold.

    A sale cannot be ended: a sold debt is the buyer's.
    """
    with engine.begin() as conn:
        return set_hold_in(conn, account_id, kind, on, start=start, at=at, note=note)


def set_hold_in(
    conn: Connection,
    account_id: str,
    kind: str,
    on: date,
    *,
    start: bool = True,
    at: datetime | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """:func:`set_hold` inside the caller's transaction (a legal case and its hold commit together)."""
    if kind not in HOLDS_BY_REQUEST:
        raise InvalidInput(f"unknown hold {kind!r}; expected one of {', '.join(HOLDS_BY_REQUEST)}")
    if kind == "sold" and not start:
        raise InvalidInput("a sale cannot be undone: the debt belongs to its buyer")
    account, _ = repository.load_account(conn, account_id)
    rules.check_open_date(account, on)
    at = _hold_time(conn, account, on, at)
    if start:
        changed = compliance_store.start_hold(conn, account_id, kind, at, "collector", note)
    else:
        changed = compliance_store.end_hold(conn, account_id, kind, at)
    result = {
        "hold": kind,
        "status": "in force" if start else "ended",
        "changed": changed,
        "at": at.isoformat(),
    }
    if changed:
        audit_trail.changed(conn, "update", "hold", account_id, result)
    return result


def _hold_time(conn: Any, account: AccountState, on: date, at: datetime | None) -> datetime:
    """When a hold recorded on business date ``on`` takes effect: ``at`` when given (local time when naive);
    otherwise just after the account's last contact that day, or the start of the day."""
    zone = ZoneInfo(account.timezone)
    if at is not None:
        return at if at.tzinfo is not None else at.replace(tzinfo=zone)
    start = datetime.combine(on, time(0), tzinfo=zone)
    latest = store.latest_contact_at(conn, account.id, on)
    return max(start, stored_time(latest) + timedelta(microseconds=1)) if latest is not None else start


def add_agency(engine: Engine, agency_id: str, name: str, at: datetime) -> dict[str, Any]:
    """Add an outside agency to the register; it may contact debtors only once a review covers the day."""
    if not agency_id.strip() or not name.strip():
        raise InvalidInput("an agency needs an id and a name")
    with engine.begin() as conn:
        added = compliance_store.add_agency(conn, agency_id, name, at)
        if added:
            audit_trail.changed(conn, "create", "agency", agency_id, {"name": name})
    return {"agency": agency_id, "name": name, "added": added}


def review_agency(
    engine: Engine, agency_id: str, reviewed_on: date, valid_until: date, reviewer: str
) -> dict[str, Any]:
    """Record a whitelist review of an agency, in force from ``reviewed_on`` through ``valid_until``
    (at most a year and a day: reviews are yearly)."""
    if valid_until < reviewed_on:
        raise InvalidInput(f"a review cannot end ({valid_until}) before it is made ({reviewed_on})")
    if (valid_until - reviewed_on).days > MAX_REVIEW_DAYS:
        raise InvalidInput(f"a review covers at most {MAX_REVIEW_DAYS} days (agencies are reviewed yearly)")
    with engine.begin() as conn:
        compliance_store.add_review(conn, agency_id, reviewed_on, valid_until, reviewer)
        result = {
            "agency": agency_id,
            "reviewed_on": reviewed_on.isoformat(),
            "valid_until": valid_until.isoformat(),
        }
        audit_trail.changed(conn, "create", "agency_review", agency_id, {**result, "reviewer": reviewer})
    return result


MAX_REVIEW_DAYS = 366
"""The longest a whitelist review may last (agencies are reviewed yearly)."""


def list_agencies(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = compliance_store.agency_list(conn)
    return [
        {
            "agency": r["id"],
            "name": r["name"],
            "reviewed_on": None if r["reviewed_on"] is None else r["reviewed_on"].isoformat(),
            "valid_until": None if r["valid_until"] is None else r["valid_until"].isoformat(),
        }
        for r in rows
    ]


def record_contact(
    engine: Engine,
    account_id: str,
    at: datetime,
    channel: str,
    party: str,
    outcome: str,
    *,
    source: str = "collector",
    rulebook: Rulebook | None = None,
    note: str | None = None,
    agency: str | None = None,
    collectors: int | None = None,
    recording_ref: str | None = None,
) -> dict[str, Any]:
    """Check a contact attempt against the rulebook, then record it and what its outcome says.

    at: when it happens; without an offset it is the debtor's local time.
    agency: the outside agency making it (None: the lender).
    collectors, recording_ref: for a field visit, the team's size and the recording's reference.
    """
    with engine.begin() as conn:
        return record_contact_in(
            conn,
            account_id,
            at,
            channel,
            party,
            outcome,
            source=source,
            rulebook=rulebook,
            note=note,
            agency=agency,
            collectors=collectors,
            recording_ref=recording_ref,
        )


def record_contact_in(
    conn: Connection,
    account_id: str,
    at: datetime,
    channel: str,
    party: str,
    outcome: str,
    *,
    source: str = "collector",
    rulebook: Rulebook | None = None,
    note: str | None = None,
    agency: str | None = None,
    collectors: int | None = None,
    recording_ref: str | None = None,
) -> dict[str, Any]:
    """:func:`record_contact` inside the caller's transaction, so that what the caller writes with the contact
    (a field order's item, an agency's result row) commits with it or not at all."""
    if channel not in CONTACT_CHANNELS:
        raise InvalidInput(
            f"unknown contact channel {channel!r}; expected one of {', '.join(CONTACT_CHANNELS)}"
        )
    if party not in CONTACT_PARTIES:
        raise InvalidInput(f"unknown contact party {party!r}; expected one of {', '.join(CONTACT_PARTIES)}")
    if outcome not in collections.CONTACT_OUTCOMES:
        raise InvalidInput(
            f"unknown contact outcome {outcome!r}; expected one of {', '.join(collections.CONTACT_OUTCOMES)}"
        )
    account, _ = repository.load_account(conn, account_id)
    rulebook = rulebook or compliance_rulebook(account.terms.rulebook)
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(account.timezone))
    on = at.astimezone(ZoneInfo(account.timezone)).date()
    rules.check_open_date(account, on)
    cs, placed_with, placed_on = store.load_collection_state(conn, account_id)
    notice = compliance_store.validation_notice(conn, account_id)
    collection = Collections(
        cs,
        placed_with,
        placed_on,
        compliance_store.open_holds(conn, account_id, at),
        None if notice is None else notice["sent_at"].astimezone(ZoneInfo(account.timezone)).date(),
    )
    facts = account_facts(account, collection, on, {})
    planned = PlannedContact(
        "contact",
        channel,
        party,
        at,
        account.timezone,
        agency=agency,
        agency_review_until=None if agency is None else compliance_store.review_until(conn, agency, on),
        collectors=collectors,
        recording_ref=recording_ref,
    )
    verdict = rulebook.check(planned, facts, contact_history(conn, account_id, on))
    if not verdict.allowed:
        raise ContactRefused(verdict.reason or f"refused by {verdict.rule}", verdict.rule or "unknown")
    store.record_contact(
        conn,
        {
            "account_id": account_id,
            "business_date": on,
            "at": at.astimezone(UTC),  # stored in UTC: SQLite keeps no offset
            "channel": channel,
            "party": party,
            "outcome": outcome,
            "source": source,
            "note": note,
            "agency": agency,
            "collectors": collectors,
            "recording_ref": recording_ref,
        },
    )
    store.save_collection_state(
        conn, collections.record_contact(cs, outcome, on, party), placed_with, placed_on
    )
    contact = {"at": at.isoformat(), "channel": channel, "party": party, "outcome": outcome}
    audit_trail.changed(
        conn, "create", "contact", account_id, {**contact, "source": source, "agency": agency}
    )
    return {"contact": contact}


def explain(engine: Engine, account_id: str, on: date, strategy: Strategy) -> dict[str, Any]:
    """Why the account got (or did not get) each treatment on ``on``.

    On the account's last closed date the decision is made again from its current facts (as the end-of-day
    saw them, before that day's actions) and traced; on an earlier date only the recorded actions are shown,
    since the facts of past days are not kept.
    """
    with engine.connect() as conn:
        account, _ = repository.load_account(conn, account_id, full_history=True)  # for the score fact
        recorded = store.actions_on(conn, account_id, on)
        if account.last_eod is None or on > account.last_eod:
            last = account.last_eod.isoformat() if account.last_eod else "none yet"
            raise InvalidDate(
                f"end-of-day has not run for {on.isoformat()} on account {account_id} (last: {last})"
            )
        out: dict[str, Any] = {
            "account_id": account_id,
            "date": on.isoformat(),
            "recorded_actions": [
                {
                    "type": r["type"],
                    "treatment": r["treatment"],
                    "status": r["status"],
                    "rule": r["refused_rule"],
                }
                for r in recorded
            ],
        }
        if on < account.last_eod:
            out["note"] = "facts of past days are not kept: only the actions recorded that day are shown"
            return out
        cs, agency, placed_on = store.load_collection_state(conn, account_id)
        since = cs.episode_started_on
        done = {k: v for k, v in store.last_done(conn, account_id, since, (LIMIT_NOTICE,)).items() if v < on}
        behaviour = behaviour_repository.latest_score(conn, account_id, on)
    facts = account_facts(account, Collections(cs, agency, placed_on), on, done, behaviour_score=behaviour)
    decision = decide(strategy, facts)
    out.update(
        strategy=strategy.name,
        facts={
            "days_past_due": facts.days_past_due,
            "bucket": facts.bucket,
            "overdue_balance": format_yuan(facts.overdue_balance),
            "total_due": format_yuan(facts.total_due),
            "days_to_due": facts.days_to_due,
            "status": facts.status,
            "contactability": facts.contactability,
            "promise": facts.promise,
            "dispute": facts.dispute,
            "escalation": facts.escalation,
            "agency": facts.agency,
            "score": facts.score,
            "behaviour_score": facts.behaviour_score,
        },
        stage=decision.stage,
        paused_by=decision.paused_by,
        actions=[{"type": a.type, "treatment": a.treatment, "reason": a.reason} for a in decision.actions],
        trace=list(decision.trace),
    )
    return out


def audit_contacts(engine: Engine, start: date | None = None, end: date | None = None) -> AuditReport:
    """Replay the contact log between business dates ``start`` and ``end`` (both included; None: open)."""
    with engine.connect() as conn:
        rows = store.contacts_in(conn, start, end)
        ids = sorted({r["account_id"] for r in rows})
        accounts: dict[str, AccountState] = {}
        before: dict[str, list[PastContact]] = {}
        for account_id in ids:
            accounts[account_id], _ = repository.load_account(conn, account_id)
            if start is not None:
                before[account_id] = [past_contact(r) for r in store.contacts_before(conn, account_id, start)]
        holds = compliance_store.holds_of(conn, ids)
        notices = compliance_store.validation_notices_of(conn, ids)
        reviews = compliance_store.reviews_of(conn, (r["agency"] for r in rows if r["agency"] is not None))
        dpd = repository.days_past_due_of(conn, ids)
    log = [
        LoggedContact(
            r["account_id"],
            stored_time(r["at"]),
            r["channel"],
            r["party"],
            r["outcome"],
            accounts[r["account_id"]].timezone,
            accounts[r["account_id"]].terms.rulebook,
            r["id"],
            agency=r["agency"],
            collectors=r["collectors"],
            recording_ref=r["recording_ref"],
            days_past_due=dpd.get((r["account_id"], r["business_date"] - timedelta(days=1)), 0),
        )
        for r in rows
    ]
    return audit(log, before, holds=holds, notices=notices, reviews=reviews)
