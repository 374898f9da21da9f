"""The audit: replay the contact log against the rulebook in force and report every violation.

For each contact, in time order per account, the audit asks the account's rulebook whether that contact,
at its time, with the contacts made before it, would have been allowed, and collects *every* rule that
refuses it (not only the first), with the evidence. Since every path checks before it records, a clean log
audits to zero violations; a contact written around the check, or a rulebook made stricter since, shows up.

The log alone tells who was contacted, when, on which channel, and with what outcome. It does not tell
whether a dispute or a negotiated plan was open at that moment, so the rules that depend on those
(:data:`NOT_REPLAYABLE`) are not replayed, and the report says so. Reachability is rebuilt from the log:
the debtor counts as lost once the last contact with them ended ``lost_contact`` or ``wrong_number``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from overdue.compliance.history import PastContact
from overdue.compliance.rulebooks import RuleSetRulebook, rulebook
from overdue.compliance.seam import PlannedContact
from overdue.domain.collections import CONVERSATIONS, UNREACHABLE
from overdue.strategy.facts import AccountFacts

NOT_REPLAYABLE = frozenset(
    {"cn.no_contact_during_dispute", "cn.no_contact_during_plan", "us.no_contact_during_dispute"}
)
"""Rules that need account state the contact log does not keep (open disputes and plans)."""


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


def _reachability(history: Iterable[PastContact]) -> str:
    state = "reachable"
    for past in history:
        if past.party == "debtor" and past.outcome in UNREACHABLE:
            state = "lost_contact"
        elif past.party == "debtor" and past.outcome in CONVERSATIONS:
            state = "reachable"
    return state


def audit(
    log: Iterable[LoggedContact],
    before: Mapping[str, list[PastContact]] | None = None,
) -> AuditReport:
    """Replay ``log`` (ordered by account, then time). ``before``: each account's contacts before the log."""
    report = AuditReport()
    history: dict[str, list[PastContact]] = {k: list(v) for k, v in (before or {}).items()}
    for contact in log:
        book = rulebook(contact.rulebook)
        if not isinstance(book, RuleSetRulebook):
            continue  # the "none" rulebook checks nothing
        replayable = [r for r in book.rules if r not in NOT_REPLAYABLE]
        report.rules_not_replayed.update(r for r in book.rules if r in NOT_REPLAYABLE)
        replay = RuleSetRulebook(book.name, replayable, book.params, contact.timezone)
        past = history.setdefault(contact.account_id, [])
        local_day = contact.at.astimezone(ZoneInfo(contact.timezone)).date()
        facts = AccountFacts(
            account_id=contact.account_id,
            product="",
            on=local_day,
            days_past_due=0,
            bucket="M0",
            overdue_balance=0,
            total_due=0,
            days_to_due=None,
            minimum_remaining=0,
            status="active",
            contactability=_reachability(past),
        )
        planned = PlannedContact("contact", contact.channel, contact.party, contact.at, contact.timezone)
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
                    },
                }
            )
        past.append(PastContact(contact.at, contact.channel, contact.party, contact.outcome))
    return report
