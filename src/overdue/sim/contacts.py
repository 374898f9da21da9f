"""The simulator's contact log: every contact attempt it makes, checked by the rulebook at its own time.

Which actions are contacts: those whose channel (the end-of-day's, :data:`overdue.engine.collect.
MESSAGE_CHANNELS` and :data:`~overdue.engine.collect.CONTACT_CHANNEL`) is a contact channel of
:data:`overdue.domain.collections.CONTACT_CHANNELS`: SMS, app push, letters and lawyer's letters, AI
calls, human calls (to the debtor or to a pre-agreed contact) and field visits. Agency placement and
recall, litigation, write-off and debt sale are not contacts; nor is a limit review's notice (an SMS from the
lender's risk side, sent as the end-of-day sends it, with no rulebook check and no contact logged).

An action the end-of-day allowed (``plan_collection`` checks every plan, with no time yet) becomes a contact
at a **local time** in the borrower's time zone: an account's contacts of one day get times drawn at
random within :data:`CONTACT_HOURS` (09:00–20:30), in increasing order, from draws of their own keyed by
account and day (:class:`~overdue.sim.draws.KeyedDraws`), so the times drawn for one account never depend on
the contacts made with others, and the times change no other draw. Just
before it is made, each contact passes the same check every contact passes
(:meth:`overdue.compliance.Rulebook.check`, as ``services.collections.record_contact`` does) with its
concrete time, the account's facts at that moment and the contacts already made with it (those of the last
:data:`~overdue.engine.collect.HISTORY_DAYS` days, and every objection of a third party). A refused contact
is not made: it is counted by rule (``("contacts_refused", rule)``), its action is recorded as refused with
that rule, and it never enters the log.

Outcomes: a voice or field contact gets the outcome the behaviour model draws; a message gets
``no_answer`` (it was sent and nobody answered it — an SMS proves neither that the debtor can be reached
nor that they cannot). Field visits are made by a team of :data:`FIELD_TEAM` and recorded
(``recording_ref`` ``sim:<account>:<date>``). Every row's ``source`` is ``simulation``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from overdue.compliance import PastContact, PlannedContact, Rulebook, Verdict
from overdue.domain.collections import CONTACT_CHANNELS
from overdue.engine.collect import CONTACT_CHANNEL, HISTORY_DAYS, MESSAGE_CHANNELS
from overdue.sim.draws import KeyedDraws
from overdue.sim.result import ContactRow
from overdue.strategy import ACTION_TYPES, AccountFacts

CONTACT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        action_type: channel
        for action_type in ACTION_TYPES
        if (channel := MESSAGE_CHANNELS.get(action_type) or CONTACT_CHANNEL.get(action_type, ""))
        in CONTACT_CHANNELS
    }
)
"""Action type → contact channel, for the action types that are contacts."""
CONTACT_HOURS = (time(9, 0), time(20, 30))
"""Local hours within which the simulated lender makes its contacts (well inside every rulebook's)."""
SOURCE = "simulation"
FIELD_TEAM = 2
"""Collectors on a simulated field visit."""
TIMES_STREAM = 2
"""The random stream the contact times are drawn from (:class:`~overdue.sim.draws.KeyedDraws`)."""


class ContactLog:
    """The contacts of one shard's accounts: recent history per account, the log's rows, the tallies.

    seed, shard: what the times' random stream is seeded with. account_ids, timezones: per account.
    rulebook: the rulebook every contact passes. counts: the shard's tallies. keep_records: keep the rows
    (to persist them).
    """

    def __init__(
        self,
        seed: int,
        shard: int,
        account_ids: list[str],
        timezones: list[str],
        rulebook: Rulebook,
        counts: Counter[tuple[str, ...]],
        *,
        keep_records: bool,
    ) -> None:
        self.draws = KeyedDraws(seed, TIMES_STREAM, shard, len(account_ids))
        self.ids = account_ids
        self.zones = [ZoneInfo(z) for z in timezones]
        self.rulebook = rulebook
        self.counts = counts
        self.keep_records = keep_records
        self.recent: list[list[tuple[date, PastContact]]] = [[] for _ in account_ids]
        self.rows: list[ContactRow] = []
        opens, closes = CONTACT_HOURS
        self._opens = opens
        self._span = (closes.hour - opens.hour) * 3600 + (closes.minute - opens.minute) * 60

    def times(self, i: int, on: date, count: int) -> list[datetime]:
        """``count`` local times on ``on`` within :data:`CONTACT_HOURS`, in increasing order."""
        if count == 0:
            return []
        seconds = sorted(int(u * self._span) for u in self.draws.take(i, on.toordinal(), count))
        start = datetime.combine(on, self._opens, tzinfo=self.zones[i])
        return [start + timedelta(seconds=s) for s in seconds]

    def history(self, i: int, on: date) -> list[PastContact]:
        """The contacts made with account ``i`` a rulebook sees on ``on``: those of the last
        :data:`HISTORY_DAYS` days, and every objection of a third party whenever it was made."""
        since = on - timedelta(days=HISTORY_DAYS)
        recent = self.recent[i]
        if recent and recent[0][0] < since:
            recent[:] = [(d, p) for d, p in recent if d >= since or _objection(p)]
        return [p for _, p in recent]

    def check(
        self, i: int, action_type: str, party: str, at: datetime, facts: AccountFacts
    ) -> tuple[PlannedContact, Verdict]:
        """The rulebook's verdict on making this contact at ``at``; a refusal is counted by its rule."""
        channel = CONTACT_TYPES[action_type]
        field_visit = channel == "field"
        planned = PlannedContact(
            action_type,
            channel,
            party,
            at,
            str(self.zones[i]),
            collectors=FIELD_TEAM if field_visit else None,
            recording_ref=f"sim:{self.ids[i]}:{facts.on.isoformat()}" if field_visit else None,
        )
        verdict = self.rulebook.check(planned, facts, self.history(i, facts.on))
        if not verdict.allowed:
            self.counts[("contacts_refused", verdict.rule or "unknown")] += 1
        return planned, verdict

    def made(self, i: int, on: date, planned: PlannedContact, outcome: str) -> None:
        """Log a contact that was made (after its check allowed it)."""
        assert planned.at is not None
        self.recent[i].append((on, PastContact(planned.at, planned.channel, planned.party, outcome)))
        self.counts[("contacts", planned.channel)] += 1
        if not self.keep_records:
            return
        self.rows.append(
            (
                self.ids[i],
                on,
                planned.at.astimezone(UTC),
                planned.channel,
                planned.party,
                outcome,
                planned.collectors,
                planned.recording_ref,
            )
        )


def _objection(past: PastContact) -> bool:
    return past.party != "debtor" and past.outcome == "refused"


def contact_summary(tallies: Counter[tuple[str, ...]]) -> dict[str, Any]:
    """Contacts made (by channel) and refused (by rule) in a simulation's tallies, as plain JSON.

    ``refused_at_contact``: allowed when planned, refused by the check at the contact's own time;
    ``refused_when_planned``: actions the end-of-day's check refused (contacts and other actions alike).
    """
    made = {key[1]: n for key, n in tallies.items() if key[0] == "contacts" and n}
    at_contact = {key[1]: n for key, n in tallies.items() if key[0] == "contacts_refused" and n}
    planned = {key[1]: n for key, n in tallies.items() if key[0] == "actions_refused" and n}
    return {
        "made": sum(made.values()),
        "by_channel": dict(sorted(made.items())),
        "refused_at_contact": dict(sorted(at_contact.items())),
        "refused_when_planned": dict(sorted(planned.items())),
    }
