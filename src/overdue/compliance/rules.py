"""Compliance rules: plain functions of one signature, in one registry.

Every rule is a :data:`Rule`: it reads a :class:`RuleInput` (the planned contact, the account's facts, the
contacts already made, the debtor's time zone and the rulebook's numbers) and returns ``None`` when it has no
objection, or a refused :class:`~overdue.compliance.seam.Verdict` saying why and, for time windows and daily
or weekly caps, the next time the contact would be allowed. The rulebook fills in the rule's name.

Built-in rules register themselves in :data:`RULES` with :func:`register`; a lender's own rules use the same
decorator. Names are stable ids (``cn.quiet_hours``): audits and refused contacts record them.

Conventions every rule follows:

- Times are compared in the debtor's local time (``RuleInput.timezone``, an IANA zone); days are local days.
- A planned contact whose ``at`` is None is "not scheduled yet": time-window rules do not object, and daily
  or weekly caps count on the local day ``facts.on``.
- "Calls" are the ``voice`` and ``ai_voice`` channels; messages (``sms``, ``push``, ``email``, ``letter``)
  and field visits are subject to the time windows but not to call caps.
- Counters read the whole history they are given (lender and agencies, every party); the caller decides what
  that history is, and must not include refused contacts, which were never made.
- When the planned contact does not say which telephone number it will use, per-number rules count every
  call to the same party as calls to one number — stricter than the rule, never looser.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from overdue.compliance.history import PastContact
from overdue.compliance.seam import PlannedContact, Verdict
from overdue.domain.collections import CONVERSATIONS
from overdue.domain.errors import InvalidInput
from overdue.strategy.facts import AccountFacts

DEFAULT_TIMEZONE = "Asia/Shanghai"

CALL_CHANNELS = frozenset({"voice", "ai_voice"})
"""Channels that are telephone calls."""
UNANSWERED = frozenset({"no_answer", "busy"})
"""Call outcomes that count as unanswered attempts."""

ParamValue = str | int
"""A rulebook number: a count or a number of days (int), or a local time of day (``"HH:MM"``)."""

DEFAULT_PARAMS: Mapping[str, ParamValue] = {
    "quiet_start": "22:00",
    "quiet_end": "08:00",
    "max_voice_conversations_per_day": 3,
    "max_unanswered_per_number_per_day": 6,
    "call_hours_start": "08:00",
    "call_hours_end": "21:00",
    "max_calls_in_window": 7,
    "call_window_days": 7,
    "days_after_conversation": 7,
    "min_field_collectors": 2,
    "max_field_visits_per_day": 1,
}
"""Every number a built-in rule reads, with its default; a rulebook's params override them key by key.

- ``quiet_start``/``quiet_end``: CN quiet hours, local time; no contact from start (inclusive) to end.
- ``max_voice_conversations_per_day``: CN, connected calls (AI included) per debtor per local day.
- ``max_unanswered_per_number_per_day``: CN, unanswered calls to one number per local day.
- ``call_hours_start``/``call_hours_end``: US, contact allowed from start (inclusive) until end (exclusive).
- ``max_calls_in_window``/``call_window_days``: US, at most this many calls in that many consecutive days.
- ``days_after_conversation``: US, no call for this many days, counting the day of a telephone conversation.
- ``min_field_collectors``: CN, the smallest team that may make a field visit.
- ``max_field_visits_per_day``: CN, field visits per debtor per local day.
"""


@dataclass(frozen=True)
class RuleInput:
    """Everything a rule may look at.

    contact: the contact about to be made; ``at`` is time-zone aware, or None when not scheduled yet.
    facts: the account's facts on the business date.
    history: the contacts already made about this account, any order.
    timezone: the debtor's IANA time zone; local times and local days are taken in it.
    params: the rulebook's numbers (see :data:`DEFAULT_PARAMS`); missing keys take their defaults.
    """

    contact: PlannedContact
    facts: AccountFacts
    history: tuple[PastContact, ...] = ()
    timezone: str = DEFAULT_TIMEZONE
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def local(self, at: datetime) -> datetime:
        """``at`` in the debtor's local time."""
        return at.astimezone(self.zone)

    @property
    def day(self) -> date:
        """The debtor's local day of the planned contact (``facts.on`` when it is not scheduled yet)."""
        return self.local(self.contact.at).date() if self.contact.at is not None else self.facts.on

    def local_day(self, past: PastContact) -> date:
        return self.local(past.at).date()

    def at_local(self, day: date, clock: time) -> datetime:
        """The aware datetime of ``clock`` on the local ``day``."""
        return datetime.combine(day, clock, tzinfo=self.zone)

    def count(self, key: str) -> int:
        value = self.params.get(key, DEFAULT_PARAMS.get(key))
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput(f"compliance parameter {key} must be a whole number ≥ 0, got {value!r}")
        return value

    def clock(self, key: str) -> time:
        value = self.params.get(key, DEFAULT_PARAMS.get(key))
        try:
            return _clock(str(value))
        except ValueError:
            raise InvalidInput(f"compliance parameter {key} must be a time HH:MM, got {value!r}") from None


@lru_cache(maxsize=256)
def _clock(text: str) -> time:
    """``time.fromisoformat(text)``, parsed once per text (every check reads the same few)."""
    return time.fromisoformat(text)


Rule = Callable[[RuleInput], Verdict | None]
"""A compliance rule: None when it has no objection, else a refused verdict."""

RULES: dict[str, Rule] = {}
"""Every registered rule by its stable name, built-in and lenders' own alike."""


def register(name: str) -> Callable[[Rule], Rule]:
    """Register a rule under ``name`` (a stable id such as ``cn.quiet_hours``); names cannot be reused."""

    def add(rule: Rule) -> Rule:
        if name in RULES:
            raise InvalidInput(f"a compliance rule named {name} is already registered")
        RULES[name] = rule
        return rule

    return add


def refuse(reason: str, next_allowed: datetime | None = None) -> Verdict:
    """A refused verdict; the rulebook sets its ``rule`` to the name the rule is registered under."""
    return Verdict(False, None, reason, next_allowed)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}") from None


def planned_number(contact: PlannedContact) -> str | None:
    """The number a planned call will dial, when the planned contact carries one."""
    number = getattr(contact, "number", None)
    return number if isinstance(number, str) else None


def _same_number(inp: RuleInput, past: PastContact) -> bool:
    """Whether ``past`` may have gone to the number the planned contact will use (unknown counts as yes)."""
    number = planned_number(inp.contact)
    if number is None or past.number is None:
        return past.party == inp.contact.party
    return past.number == number


def _outside_window(inp: RuleInput, opens: time, closes: time, what: str) -> Verdict | None:
    """Refuse a contact outside the local window [opens, closes) (which may span midnight)."""
    if inp.contact.at is None:
        return None
    now = inp.local(inp.contact.at)
    clock = now.time().replace(tzinfo=None)
    inside = opens <= clock < closes if opens <= closes else (clock >= opens or clock < closes)
    if inside:
        return None
    day = now.date() if clock < opens else now.date() + timedelta(days=1)
    return refuse(
        f"{clock.strftime('%H:%M')} local time is outside {what} "
        f"({opens.strftime('%H:%M')}–{closes.strftime('%H:%M')}, {inp.timezone})",
        inp.at_local(day, opens),
    )


# --- China (GB/T 45251-2025, 2024 internet-finance and 2026 banking association guidelines) ----------------


@register("cn.quiet_hours")
def quiet_hours(inp: RuleInput) -> Verdict | None:
    """No contact, on any channel, from ``quiet_start`` to ``quiet_end`` debtor local time."""
    return _outside_window(inp, inp.clock("quiet_end"), inp.clock("quiet_start"), "contact hours")


@register("cn.connected_voice_per_day")
def connected_voice_per_day(inp: RuleInput) -> Verdict | None:
    """At most ``max_voice_conversations_per_day`` connected calls (AI calls included) a local day."""
    if inp.contact.channel not in CALL_CHANNELS:
        return None
    limit = inp.count("max_voice_conversations_per_day")
    day = inp.day
    held = sum(
        1
        for p in inp.history
        if p.channel in CALL_CHANNELS and p.outcome in CONVERSATIONS and inp.local_day(p) == day
    )
    if held < limit:
        return None
    return refuse(
        f"{held} voice conversations already on {day.isoformat()}; at most {limit} a day",
        inp.at_local(day + timedelta(days=1), inp.clock("quiet_end")),
    )


@register("cn.unanswered_per_number_per_day")
def unanswered_per_number_per_day(inp: RuleInput) -> Verdict | None:
    """At most ``max_unanswered_per_number_per_day`` unanswered calls to one number a local day."""
    if inp.contact.channel not in CALL_CHANNELS:
        return None
    limit = inp.count("max_unanswered_per_number_per_day")
    day = inp.day
    unanswered = sum(
        1
        for p in inp.history
        if p.channel in CALL_CHANNELS
        and p.outcome in UNANSWERED
        and inp.local_day(p) == day
        and _same_number(inp, p)
    )
    if unanswered < limit:
        return None
    return refuse(
        f"{unanswered} unanswered calls to this number already on {day.isoformat()}; at most {limit} a day",
        inp.at_local(day + timedelta(days=1), inp.clock("quiet_end")),
    )


@register("cn.third_party")
def third_party(inp: RuleInput) -> Verdict | None:
    """Third parties: only pre-agreed contacts, only while the debtor has lost contact, never after they
    object; nobody unrelated. The debtor and guarantors are not third parties."""
    party = inp.contact.party
    if party in ("debtor", "guarantor"):
        return None
    if party != "contact":
        return refuse(f"{party!r} is not the debtor, a guarantor or a pre-agreed contact")
    if inp.facts.contactability != "lost_contact":
        return refuse("a pre-agreed contact may be contacted only while the debtor has lost contact")
    objections = [p for p in inp.history if p.party == "contact" and p.outcome == "refused"]
    objected = [p for p in objections if _same_number(inp, p)]
    if objected:
        first = min(p.at for p in objected)
        return refuse(f"this contact objected on {inp.local(first).date().isoformat()}; never again")
    return None


@register("cn.field_visit_team")
def field_visit_team(inp: RuleInput) -> Verdict | None:
    """A field visit is made by ``min_field_collectors`` or more collectors and is recorded. A planned visit
    (no time yet: the end-of-day's work order) passes; the team and recording are checked when it is made."""
    contact = inp.contact
    if contact.channel != "field" or contact.at is None:
        return None
    need = inp.count("min_field_collectors")
    if (contact.collectors or 0) < need:
        given = "no team given" if contact.collectors is None else f"{contact.collectors} given"
        return refuse(f"a field visit needs {need} or more collectors ({given})")
    if not contact.recording_ref:
        return refuse("a field visit must be recorded; no recording reference given")
    return None


@register("cn.field_visit_per_day")
def field_visit_per_day(inp: RuleInput) -> Verdict | None:
    """At most ``max_field_visits_per_day`` field visits to a debtor a local day."""
    if inp.contact.channel != "field":
        return None
    limit = inp.count("max_field_visits_per_day")
    day = inp.day
    made = sum(1 for p in inp.history if p.channel == "field" and inp.local_day(p) == day)
    if made < limit:
        return None
    return refuse(
        f"{made} field visit(s) already on {day.isoformat()}; at most {limit} a day",
        inp.at_local(day + timedelta(days=1), inp.clock("quiet_end")),
    )


@register("cn.agency_whitelist")
def agency_whitelist(inp: RuleInput) -> Verdict | None:
    """An outside agency may contact debtors only while it is on the whitelist with a review in force."""
    agency = inp.contact.agency
    if agency is None:
        return None
    until = inp.contact.agency_review_until
    if until is None:
        return refuse(
            f"agency {agency} is not on the whitelist with a review in force on {inp.day.isoformat()}"
        )
    if inp.day > until:
        return refuse(f"agency {agency}'s whitelist review ran out on {until.isoformat()}")
    return None


@register("cn.no_contact_during_plan")
def no_contact_during_plan(inp: RuleInput) -> Verdict | None:
    """No collection contact while a negotiated repayment plan is being kept."""
    return refuse("a negotiated repayment plan is active") if inp.facts.plan == "active" else None


def _no_contact_during_dispute(inp: RuleInput) -> Verdict | None:
    """No collection contact while a dispute is open."""
    return refuse("a dispute is open") if inp.facts.dispute else None


register("cn.no_contact_during_dispute")(_no_contact_during_dispute)


def _no_contact_after_sale(inp: RuleInput) -> Verdict | None:
    """No collection by the lender or its agencies once the debt is sold (the buyer collects it)."""
    return refuse("the debt was sold; its buyer collects it") if inp.facts.sold else None


register("cn.no_contact_after_sale")(_no_contact_after_sale)

LEGAL_STEPS = frozenset({"lawyer_letter", "litigation"})
"""The legal process's own steps: the only ones made while a lawsuit is pending."""


def _no_contact_during_litigation(inp: RuleInput) -> Verdict | None:
    """While a legal case holds the account (a litigation hold), collection contact stops: the case goes on
    through the lawyer and the court, and only its own steps (:data:`LEGAL_STEPS`) are made."""
    if inp.facts.litigation_hold and inp.contact.action_type not in LEGAL_STEPS:
        return refuse("a legal case holds the account; the case goes on through the lawyer and the court")
    return None


register("cn.no_contact_during_litigation")(_no_contact_during_litigation)


# --- United States (Regulation F, 12 CFR 1006) ----------------------------------------------------------


@register("us.call_hours")
def call_hours(inp: RuleInput) -> Verdict | None:
    """No contact, on any channel, before ``call_hours_start`` or from ``call_hours_end`` local time
    (Reg F §1006.6(b)(1)(i); 21:00 itself is refused, the stricter reading)."""
    return _outside_window(inp, inp.clock("call_hours_start"), inp.clock("call_hours_end"), "call hours")


@register("us.seven_in_seven")
def seven_in_seven(inp: RuleInput) -> Verdict | None:
    """Reg F §1006.14(b)(2): no call once ``max_calls_in_window`` calls were placed in the last
    ``call_window_days`` consecutive days (the planned day included), nor within ``days_after_conversation``
    days of a telephone conversation (its day counts as the first)."""
    if inp.contact.channel not in CALL_CHANNELS:
        return None
    day = inp.day
    opens = inp.clock("call_hours_start")
    calls = [inp.local_day(p) for p in inp.history if p.channel in CALL_CHANNELS]
    calls = [d for d in calls if d <= day]
    quiet = inp.count("days_after_conversation")
    talked = [
        inp.local_day(p)
        for p in inp.history
        if p.channel in CALL_CHANNELS and p.outcome in CONVERSATIONS and inp.local_day(p) <= day
    ]
    last_talk = max(talked, default=None)
    if last_talk is not None and (day - last_talk).days < quiet:
        return refuse(
            f"a telephone conversation on {last_talk.isoformat()}; no call for {quiet} days",
            inp.at_local(last_talk + timedelta(days=quiet), opens),
        )
    limit = inp.count("max_calls_in_window")
    window = inp.count("call_window_days")

    def placed(until: date) -> int:
        return sum(1 for d in calls if until - timedelta(days=window - 1) <= d <= until)

    if placed(day) < limit:
        return None
    if limit == 0:
        return refuse("calls are not allowed (max_calls_in_window is 0)")
    free = day + timedelta(days=1)
    while placed(free) >= limit:
        free += timedelta(days=1)
    return refuse(
        f"{placed(day)} calls in the {window} days to {day.isoformat()}; at most {limit}",
        inp.at_local(free, opens),
    )


register("us.no_contact_during_dispute")(_no_contact_during_dispute)
register("us.no_contact_after_sale")(_no_contact_after_sale)
register("us.no_contact_during_litigation")(_no_contact_during_litigation)


@register("us.cease_communication")
def cease_communication(inp: RuleInput) -> Verdict | None:
    """FDCPA §805(c), Reg F §1006.6(c): once the debtor asks in writing that communication cease, none is
    made (the narrow exceptions — telling the debtor that collection stops or which remedy follows — are
    sent by the lender's back office, not through collection channels)."""
    return refuse("the debtor asked that communication cease") if inp.facts.cease else None


@register("us.validation_notice")
def validation_notice(inp: RuleInput) -> Verdict | None:
    """Reg F §1006.34: no collection contact about a delinquent debt before the validation notice was sent.
    (The regulation allows the notice up to 5 days after the first communication; this reading is stricter:
    the end-of-day sends it on the first day of delinquency, before anything else.)"""
    if inp.facts.days_past_due <= 0:
        return None
    sent = inp.facts.validation_notice_on
    if sent is not None and sent <= inp.day:
        return None
    return refuse("no validation notice has been sent for this debt yet")
