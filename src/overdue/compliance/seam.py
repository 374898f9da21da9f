"""The one check every contact passes: :class:`Rulebook.check`.

A rulebook sees the planned contact, the account's facts, and the contacts already made (loaded by the
caller), and returns a :class:`Verdict`. A refused contact is not made and counts toward no limit; its
verdict names the rule that refused it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from overdue.strategy.facts import AccountFacts


@dataclass(frozen=True)
class PlannedContact:
    """A contact about to be made: its action type, channel, party, and local time when known."""

    action_type: str
    channel: str
    party: str
    at: datetime | None = None
    """When it is to be made (aware); None when not scheduled yet (the end-of-day's plans)."""
    timezone: str | None = None
    """The debtor's IANA time zone; None: the rulebook's own."""
    agency: str | None = None
    """The outside agency making it; None: the lender itself."""
    agency_review_until: date | None = None
    """The last day the agency's whitelist review covers, from the review in force on the contact's day
    (filled by the caller from the whitelist); None: no review covers that day."""
    collectors: int | None = None
    """Field visits: how many collectors make it (None: not known yet, as in the end-of-day's plans)."""
    recording_ref: str | None = None
    """Field visits: the reference of the recording made of it."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str | None = None
    """The rule that refused it (None when allowed)."""
    reason: str | None = None
    next_allowed: datetime | None = None


ALLOWED = Verdict(True)


class Rulebook(Protocol):
    name: str

    def check(self, contact: PlannedContact, facts: AccountFacts, history: Sequence[object]) -> Verdict: ...


class NoRulebook:
    """Refuses nothing. Stands in the seam until the CN and US rulebooks are built."""

    name = "none"

    def check(self, contact: PlannedContact, facts: AccountFacts, history: Sequence[object]) -> Verdict:
        return ALLOWED
