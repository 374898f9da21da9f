"""The audit: replay the contact log against the rulebook in force and report every violation.

For each contact, in time order per account, the audit asks the account's rulebook whether that contact,
at its time, with the contacts made before it, would have been allowed, and collects *every* rule that
refuses it (not only the first), with the evidence. Since every path checks before it records, a clean log
audits to zero violations; a contact written around the check, or a rulebook made stricter since, shows up.

What each contact is replayed with:

- the log itself: who was contacted, when, on which channel, with what outcome, by which agency, and for a
  field visit the team's size and the recording;
- the holds in force at its time (disputes, negotiated plans, cease requests, sales, litigation holds,
  from ``account_holds``, which are only ever added or ended, never rewritten);
- the validation notice, when one was sent (US);
- the agency's whitelist reviews made by the contact's day;
- the account's DPD as the last end-of-day before the contact's day left it (``account_days``); where
  that day's figures were not kept, DPD counts as 0, and the rules that only apply to delinquent debts
  (``us.validation_notice``) do not object.

Reachability is rebuilt from the log: the debtor counts as lost once the last contact with them ended
``lost_contact`` or ``wrong_number``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from overdue.compliance.history import PastContact
from overdue.compliance.rulebooks import RuleSetRulebook, rulebook
from overdue.compliance.seam import PlannedContact
from overdue.domain.collections import CONVERSATIONS, UNREACHABLE
from overdue.strategy.facts import AccountFacts

NOT_REPLAYABLE: frozenset[str] = frozenset()
"""Rules that need account state the audit cannot rebuild (none: holds and notices are logged)."""

Hold = tuple[str, datetime, datetime | None]
"""(kind, started_at, ended_at or None while in force), times aware."""


@dataclass(frozen=True)
class LoggedContact:
    """One contact of the log, with what the audit needs to know about its account."""

    account_id: str
    at: datetime
    channel: str
    party: str
    outcome: str
    timezone: str
    rulebook: str
    contact_id: int | None = None
    agency: str | None = None
    collectors: int | None = None
    recording_ref: str | None = None
    days_past_due: int = 0
    """The account's DPD after the last end-of-day before the contact's day (0 when not kept)."""


@dataclass
class AuditReport:
    contacts_checked: int = 0
    violations: list[dict[str, Any]] = field(default_factory=list)
    by_rule: Counter[str] = field(default_factory=Counter)
    rules_not_replayed: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {
            "contacts_checked": self.contacts_checked,
            "violations": len(self.violations),
            "by_rule": dict(sorted(self.by_rule.items())),
            "rules_not_replayed": sorted(self.rules_not_replayed),
            "evidence": self.violations,
        }


def _reachability(history: Iterable[PastContact], state: str = "reachable") -> str:
    """Whether the debtor can be reached after ``history``, starting from ``state``."""
    for past in history:
        if past.party == "debtor" and past.outcome in UNREACHABLE:
            state = "lost_contact"
        elif past.party == "debtor" and past.outcome in CONVERSATIONS:
            state = "reachable"
    return state


def _in_force(holds: Iterable[Hold], at: datetime) -> frozenset[str]:
    return frozenset(kind for kind, start, end in holds if start <= at and (end is None or end > at))


def _review_until(reviews: Iterable[tuple[date, date]], day: date) -> date | None:
    return max((until for made, until in reviews if made <= day), default=None)


HISTORY_DAYS = 8
"""How much of an account's past the replay keeps (the longest rule window + 1); objections are kept."""


def _prune(past: list[PastContact], now: datetime) -> list[PastContact]:
    """Drop contacts older than :data:`HISTORY_DAYS` days, except third-party objections (never forgotten)."""
    cutoff = now - timedelta(days=HISTORY_DAYS + 1)
    if not past or past[0].at >= cutoff:
        return past
    return [p for p in past if p.at >= cutoff or (p.party != "debtor" and p.outcome == "refused")]


def audit(
    log: Iterable[LoggedContact],
    before: Mapping[str, list[PastContact]] | None = None,
    *,
    holds: Mapping[str, list[Hold]] | None = None,
    notices: Mapping[str, datetime] | None = None,
    reviews: Mapping[str, list[tuple[date, date]]] | None = None,
) -> AuditReport:
    """Replay ``log`` (ordered by account, then time).

    before: each account's contacts before the log.
    holds: each account's holds; notices: when each account's validation notice was sent;
    reviews: each agency's whitelist reviews as (reviewed_on, valid_until).
    """
    report = AuditReport()
    history: dict[str, list[PastContact]] = {k: list(v) for k, v in (before or {}).items()}
    holds = holds or {}
    notices = notices or {}
    reviews = reviews or {}
    reach = {account: _reachability(past) for account, past in history.items()}
    for contact in log:
        book = rulebook(contact.rulebook)
        if not isinstance(book, RuleSetRulebook):
            continue  # the "none" rulebook checks nothing
        replayable = [r for r in book.rules if r not in NOT_REPLAYABLE]
        report.rules_not_replayed.update(r for r in book.rules if r in NOT_REPLAYABLE)
        replay = RuleSetRulebook(book.name, replayable, book.params, contact.timezone)
        past = _prune(history.setdefault(contact.account_id, []), contact.at)
        history[contact.account_id] = past
        zone = ZoneInfo(contact.timezone)
        local_day = contact.at.astimezone(zone).date()
        in_force = _in_force(holds.get(contact.account_id, ()), contact.at)
        notice = notices.get(contact.account_id)
        facts = AccountFacts(
            account_id=contact.account_id,
            product="",
            on=local_day,
            days_past_due=contact.days_past_due,
            bucket="M0",
            overdue_balance=0,
            total_due=0,
            days_to_due=None,
            minimum_remaining=0,
            status="active",
            contactability=reach.get(contact.account_id, "reachable"),
            plan="active" if "plan" in in_force else "none",
            dispute="dispute" in in_force,
            litigation_hold="litigation" in in_force,
            cease="cease" in in_force,
            sold="sold" in in_force,
            validation_notice_on=None
            if notice is None or notice > contact.at
            else notice.astimezone(zone).date(),
        )
        planned = PlannedContact(
            "contact",
            contact.channel,
            contact.party,
            contact.at,
            contact.timezone,
            agency=contact.agency,
            agency_review_until=None
            if contact.agency is None
            else _review_until(reviews.get(contact.agency, ()), local_day),
            collectors=contact.collectors,
            recording_ref=contact.recording_ref,
        )
        report.contacts_checked += 1
        for verdict in replay.refusals(planned, facts, past):
            rule = verdict.rule or "unknown"
            report.by_rule[rule] += 1
            report.violations.append(
                {
                    "rule": rule,
                    "reason": verdict.reason,
                    "contact": {
                        "id": contact.contact_id,
                        "account_id": contact.account_id,
                        "at": contact.at.isoformat(),
                        "local_time": contact.at.astimezone(ZoneInfo(contact.timezone)).isoformat(),
                        "channel": contact.channel,
                        "party": contact.party,
                        "outcome": contact.outcome,
                        "agency": contact.agency,
                        "holds": sorted(in_force),
                    },
                }
            )
        made = PastContact(contact.at, contact.channel, contact.party, contact.outcome)
        past.append(made)
        reach[contact.account_id] = _reachability([made], reach.get(contact.account_id, "reachable"))
    return report
