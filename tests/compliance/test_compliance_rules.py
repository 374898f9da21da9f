"""Compliance rules at both sides of every boundary, the registry, and the rulebooks."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from overdue.compliance.history import PastContact
from overdue.compliance.rulebooks import (
    CN_RULEBOOK,
    CN_RULES,
    US_RULEBOOK,
    US_RULES,
    RuleSetRulebook,
    rulebook,
)
from overdue.compliance.rules import RULES, RuleInput, refuse, register
from overdue.compliance.seam import NoRulebook, PlannedContact, Verdict
from overdue.domain.errors import InvalidInput
from overdue.strategy.facts import AccountFacts

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
DAY = date(2026, 3, 2)


def make_facts(**changes: object) -> AccountFacts:
    base = AccountFacts(
        account_id="A1",
        product="huabei",
        on=DAY,
        days_past_due=5,
        bucket="M1",
        overdue_balance=10_000,
        total_due=10_000,
        days_to_due=-5,
        minimum_remaining=0,
        status="active",
        validation_notice_on=DAY - timedelta(days=4),
    )
    return dataclasses.replace(base, **changes)


def at(hour: int, minute: int = 0, day: date = DAY, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def call(when: datetime | None, channel: str = "voice", party: str = "debtor") -> PlannedContact:
    return PlannedContact("call", channel, party, when)


def past(
    when: datetime, outcome: str, channel: str = "voice", party: str = "debtor", number: str | None = None
) -> PastContact:
    return PastContact(when, channel, party, outcome, number)


def verdict(
    rule: str,
    contact: PlannedContact,
    history: tuple[PastContact, ...] = (),
    *,
    facts: AccountFacts | None = None,
    tz: str = "Asia/Shanghai",
) -> Verdict:
    """One rule alone, as a rulebook of that rule."""
    book = RuleSetRulebook("test", [rule], timezone=tz)
    return book.check(contact, facts or make_facts(), history)


# --- cn.quiet_hours --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [
        (21, 59, True),
        (22, 0, False),
        (23, 30, False),
        (0, 0, False),
        (7, 59, False),
        (8, 0, True),
        (12, 0, True),
    ],
)
def test_quiet_hours_boundaries(hour: int, minute: int, allowed: bool) -> None:
    v = verdict("cn.quiet_hours", call(at(hour, minute)))
    assert v.allowed is allowed
    if not allowed:
        assert v.rule == "cn.quiet_hours"
        assert v.next_allowed is not None and v.next_allowed.tzinfo is not None
        expected_day = DAY + timedelta(days=1) if hour >= 22 else DAY
        assert v.next_allowed == at(8, 0, expected_day)


def test_quiet_hours_apply_to_messages_and_read_the_debtors_local_time() -> None:
    sms = PlannedContact("sms", "sms", "debtor", at(22, 30))
    assert not verdict("cn.quiet_hours", sms).allowed
    # 09:00 in New York is 22:00 in Shanghai: allowed for a debtor in New York, refused in Shanghai.
    nine = at(9, 0, tz=NEW_YORK)
    sms_nine = PlannedContact("sms", "sms", "debtor", nine)
    assert verdict("cn.quiet_hours", sms_nine, tz="America/New_York").allowed
    assert not verdict("cn.quiet_hours", sms_nine).allowed


def test_quiet_hours_do_not_object_to_an_unscheduled_contact() -> None:
    assert verdict("cn.quiet_hours", call(None)).allowed


def test_quiet_hours_follow_the_rulebooks_params() -> None:
    book = RuleSetRulebook("late", ["cn.quiet_hours"], {"quiet_start": "23:00", "quiet_end": "07:00"})
    assert book.check(call(at(22, 30)), make_facts(), ()).allowed
    assert not book.check(call(at(23, 0)), make_facts(), ()).allowed
    assert book.check(call(at(7, 0)), make_facts(), ()).allowed


# --- cn.connected_voice_per_day --------------------------------------------------------------------------


def test_third_connected_call_allowed_fourth_refused() -> None:
    talks = (past(at(9), "connected"), past(at(10), "promise", channel="ai_voice"))
    assert verdict("cn.connected_voice_per_day", call(at(15)), talks).allowed
    three = (*talks, past(at(11), "refused"))
    v = verdict("cn.connected_voice_per_day", call(at(15), channel="ai_voice"), three)
    assert not v.allowed
    assert v.rule == "cn.connected_voice_per_day"
    assert v.next_allowed == at(8, 0, DAY + timedelta(days=1))


def test_connected_calls_count_per_local_day_and_only_conversations() -> None:
    yesterday = tuple(past(at(h, day=DAY - timedelta(days=1)), "connected") for h in (9, 10, 11))
    assert verdict("cn.connected_voice_per_day", call(at(15)), yesterday).allowed
    unanswered = tuple(past(at(h), "no_answer") for h in (9, 10, 11))
    assert verdict("cn.connected_voice_per_day", call(at(15)), unanswered).allowed
    three = tuple(past(at(h), "connected") for h in (9, 10, 11))
    sms = PlannedContact("sms", "sms", "debtor", at(15))
    assert verdict("cn.connected_voice_per_day", sms, three).allowed
    # Not scheduled yet: counts on facts.on.
    assert not verdict("cn.connected_voice_per_day", call(None), three).allowed


# --- cn.unanswered_per_number_per_day --------------------------------------------------------------------


def unanswered(n: int, number: str | None = "138") -> tuple[PastContact, ...]:
    return tuple(past(at(9, 5 * i), "no_answer" if i % 2 else "busy", number=number) for i in range(n))


def test_sixth_unanswered_allowed_seventh_refused() -> None:
    assert verdict("cn.unanswered_per_number_per_day", call(at(15)), unanswered(5)).allowed
    v = verdict("cn.unanswered_per_number_per_day", call(at(15)), unanswered(6))
    assert not v.allowed
    assert v.rule == "cn.unanswered_per_number_per_day"
    assert v.next_allowed == at(8, 0, DAY + timedelta(days=1))


def test_unanswered_counts_per_number_when_the_planned_contact_names_one() -> None:
    @dataclasses.dataclass(frozen=True)
    class NumberedContact(PlannedContact):
        number: str | None = None

    other = NumberedContact("call", "voice", "debtor", at(15), number="139")
    same = NumberedContact("call", "voice", "debtor", at(15), number="138")
    assert verdict("cn.unanswered_per_number_per_day", other, unanswered(6)).allowed
    assert not verdict("cn.unanswered_per_number_per_day", same, unanswered(6)).allowed


# --- cn.third_party --------------------------------------------------------------------------------------


def test_third_party_only_after_lost_contact() -> None:
    contact = call(at(10), party="contact")
    v = verdict("cn.third_party", contact)
    assert not v.allowed and v.rule == "cn.third_party"
    assert verdict("cn.third_party", contact, facts=make_facts(contactability="lost_contact")).allowed


def test_third_party_never_again_after_an_objection() -> None:
    contact = call(at(10), party="contact")
    lost = make_facts(contactability="lost_contact")
    earlier = (past(at(9, day=DAY - timedelta(days=3)), "connected", party="contact"),)
    assert verdict("cn.third_party", contact, earlier, facts=lost).allowed
    objected = (past(at(9, day=DAY - timedelta(days=3)), "refused", party="contact"),)
    v = verdict("cn.third_party", contact, objected, facts=lost)
    assert not v.allowed and v.rule == "cn.third_party"
    # The debtor saying "refused" is not a third party's objection.
    assert verdict("cn.third_party", call(at(10)), (past(at(9), "refused"),)).allowed


@pytest.mark.parametrize("party", ["unrelated", "neighbour", ""])
def test_nobody_unrelated(party: str) -> None:
    lost = make_facts(contactability="lost_contact")
    assert not verdict("cn.third_party", call(at(10), party=party), facts=lost).allowed


@pytest.mark.parametrize("party", ["debtor", "guarantor"])
def test_debtor_and_guarantor_are_not_third_parties(party: str) -> None:
    assert verdict("cn.third_party", call(at(10), party=party)).allowed


# --- plan and dispute ------------------------------------------------------------------------------------


def test_no_contact_during_plan_or_dispute() -> None:
    contact = call(at(10))
    assert verdict("cn.no_contact_during_plan", contact, facts=make_facts(plan="broken")).allowed
    v = verdict("cn.no_contact_during_plan", contact, facts=make_facts(plan="active"))
    assert not v.allowed and v.rule == "cn.no_contact_during_plan"
    assert verdict("cn.no_contact_during_dispute", contact).allowed
    v = verdict("cn.no_contact_during_dispute", contact, facts=make_facts(dispute=True))
    assert not v.allowed and v.rule == "cn.no_contact_during_dispute"


# --- us.call_hours ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"), [(7, 59, False), (8, 0, True), (20, 59, True), (21, 0, False)]
)
def test_us_call_hours_boundaries(hour: int, minute: int, allowed: bool) -> None:
    v = verdict("us.call_hours", call(at(hour, minute, tz=NEW_YORK)), tz="America/New_York")
    assert v.allowed is allowed
    if not allowed:
        assert v.rule == "us.call_hours"
        next_day = DAY + timedelta(days=1) if hour >= 21 else DAY
        assert v.next_allowed == at(8, 0, next_day, tz=NEW_YORK)


# --- us.seven_in_seven -----------------------------------------------------------------------------------


def calls_over_days(n: int) -> tuple[PastContact, ...]:
    """``n`` unanswered calls, one a day, ending the day before DAY."""
    return tuple(past(at(10, day=DAY - timedelta(days=n - i), tz=NEW_YORK), "no_answer") for i in range(n))


def test_seventh_call_in_seven_days_allowed_eighth_refused() -> None:
    six = calls_over_days(6)
    assert verdict("us.seven_in_seven", call(at(10, tz=NEW_YORK)), six, tz="America/New_York").allowed
    seven = (*six, past(at(9, tz=NEW_YORK), "busy"))
    v = verdict("us.seven_in_seven", call(at(10, tz=NEW_YORK)), seven, tz="America/New_York")
    assert not v.allowed and v.rule == "us.seven_in_seven"
    # The oldest call (DAY - 6) leaves the window on DAY + 1.
    assert v.next_allowed == at(8, 0, DAY + timedelta(days=1), tz=NEW_YORK)


def test_seven_calls_spread_over_eight_days_leave_room() -> None:
    seven = calls_over_days(7)  # DAY-7 .. DAY-1: only six fall in DAY-6 .. DAY
    assert verdict("us.seven_in_seven", call(at(10, tz=NEW_YORK)), seven, tz="America/New_York").allowed


def test_no_call_within_seven_days_after_a_conversation() -> None:
    for days_ago, allowed in ((6, False), (7, True)):
        talk = (past(at(10, day=DAY - timedelta(days=days_ago), tz=NEW_YORK), "connected"),)
        v = verdict("us.seven_in_seven", call(at(10, tz=NEW_YORK)), talk, tz="America/New_York")
        assert v.allowed is allowed
        if not allowed:
            assert v.next_allowed == at(8, 0, DAY + timedelta(days=1), tz=NEW_YORK)
    talk = (past(at(10, day=DAY - timedelta(days=1), tz=NEW_YORK), "connected"),)
    letter = PlannedContact("letter", "letter", "debtor", at(10, tz=NEW_YORK))
    assert verdict("us.seven_in_seven", letter, talk, tz="America/New_York").allowed


# --- registry and rulebooks ------------------------------------------------------------------------------


def test_registry_holds_every_built_in_rule() -> None:
    assert set(CN_RULES) | set(US_RULES) <= set(RULES)
    assert {
        "cn.quiet_hours",
        "cn.connected_voice_per_day",
        "cn.unanswered_per_number_per_day",
        "cn.third_party",
        "cn.no_contact_during_plan",
        "cn.no_contact_during_dispute",
        "us.call_hours",
        "us.seven_in_seven",
    } <= set(RULES)


def test_a_lenders_rule_uses_the_same_registry() -> None:
    name = "test.no_field_visits"

    @register(name)
    def no_field_visits(inp: RuleInput) -> Verdict | None:
        return refuse("no field visits") if inp.contact.channel == "field" else None

    try:
        book = RuleSetRulebook("lender", [*CN_RULES, name])
        visit = PlannedContact("visit", "field", "debtor", at(10), collectors=2, recording_ref="rec-1")
        v = book.check(visit, make_facts(), ())
        assert v == Verdict(False, name, "no field visits", None)
        with pytest.raises(InvalidInput):
            register(name)(no_field_visits)
    finally:
        del RULES[name]


def test_rulebook_returns_the_first_refusing_rules_name() -> None:
    v = CN_RULEBOOK.check(call(at(23)), make_facts(dispute=True), ())
    assert v.rule == "cn.no_contact_during_dispute"
    assert CN_RULEBOOK.check(call(at(23)), make_facts(), ()).rule == "cn.quiet_hours"
    assert CN_RULEBOOK.check(call(at(10)), make_facts(), ()) == Verdict(True)
    rules = [r.rule for r in CN_RULEBOOK.refusals(call(at(23)), make_facts(plan="active"), ())]
    assert rules == ["cn.no_contact_during_plan", "cn.quiet_hours"]


def test_rulebook_lookup() -> None:
    assert rulebook() is CN_RULEBOOK and rulebook("cn").name == "cn"
    assert rulebook("us") is US_RULEBOOK
    assert isinstance(rulebook("none"), NoRulebook)
    with pytest.raises(InvalidInput):
        rulebook("eu")


def test_rulebook_rejects_bad_input() -> None:
    with pytest.raises(InvalidInput):
        RuleSetRulebook("x", ["no.such.rule"])
    with pytest.raises(InvalidInput):
        RuleSetRulebook("x", CN_RULES, timezone="Mars/Olympus")
    with pytest.raises(InvalidInput):
        CN_RULEBOOK.check(call(datetime(2026, 3, 2, 10)), make_facts(), ())
    with pytest.raises(InvalidInput):
        CN_RULEBOOK.check(call(at(10)), make_facts(), ["not a contact"])
    with pytest.raises(InvalidInput):
        PastContact(datetime(2026, 3, 2, 10), "voice", "debtor", "connected")


def test_us_rulebook_in_a_debtors_zone() -> None:
    la = US_RULEBOOK.for_timezone("America/Los_Angeles")
    # 10:00 in New York is 07:00 in Los Angeles.
    v = la.check(call(at(10, tz=NEW_YORK)), make_facts(), ())
    assert v.rule == "us.call_hours"
    assert US_RULEBOOK.check(call(at(10, tz=NEW_YORK)), make_facts(), ()).allowed
