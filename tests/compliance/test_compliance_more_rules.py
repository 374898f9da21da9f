"""Field visits, agencies, sold debts, cease requests and US validation notices, at each boundary."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from overdue.compliance.history import PastContact
from overdue.compliance.rulebooks import CN_RULEBOOK, US_RULEBOOK
from overdue.compliance.seam import PlannedContact
from overdue.strategy.facts import AccountFacts

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
DAY = date(2026, 3, 2)


def facts(**changes: object) -> AccountFacts:
    base = AccountFacts(
        account_id="A1",
        product="huabei",
        on=DAY,
        days_past_due=95,
        bucket="M4",
        overdue_balance=500_000,
        total_due=500_000,
        days_to_due=-95,
        minimum_remaining=0,
        status="frozen",
        validation_notice_on=DAY - timedelta(days=90),
    )
    return dataclasses.replace(base, **changes)


def at(hour: int, day: date = DAY, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


def visit(
    when: datetime | None, collectors: int | None = 2, recording: str | None = "rec-1"
) -> PlannedContact:
    return PlannedContact(
        "field_visit", "field", "debtor", when, collectors=collectors, recording_ref=recording
    )


def test_a_field_visit_needs_two_collectors_and_a_recording() -> None:
    assert CN_RULEBOOK.check(visit(at(10), collectors=2), facts(), ()).allowed
    one = CN_RULEBOOK.check(visit(at(10), collectors=1), facts(), ())
    assert (one.allowed, one.rule) == (False, "cn.field_visit_team")
    assert "2 or more collectors (1 given)" in (one.reason or "")
    unrecorded = CN_RULEBOOK.check(visit(at(10), recording=None), facts(), ())
    assert (unrecorded.allowed, unrecorded.rule) == (False, "cn.field_visit_team")
    # A planned visit (the end-of-day's work order) has no team yet: it passes; the visit itself is checked.
    assert CN_RULEBOOK.check(visit(None, collectors=None, recording=None), facts(), ()).allowed


def test_at_most_one_field_visit_a_day() -> None:
    earlier = PastContact(at(10), "field", "debtor", "connected")
    second = CN_RULEBOOK.check(visit(at(15)), facts(), (earlier,))
    assert (second.allowed, second.rule) == (False, "cn.field_visit_per_day")
    assert second.next_allowed == at(8, DAY + timedelta(days=1))
    assert CN_RULEBOOK.check(visit(at(10, DAY + timedelta(days=1))), facts(), (earlier,)).allowed
    # The planned visit of the end-of-day sees the day's visits too.
    assert not CN_RULEBOOK.check(visit(None, None, None), facts(), (earlier,)).allowed


def test_agencies_need_a_review_in_force() -> None:
    def by_agency(until: date | None) -> PlannedContact:
        return PlannedContact("call", "voice", "debtor", at(10), agency="AG1", agency_review_until=until)

    never = CN_RULEBOOK.check(by_agency(None), facts(), ())
    assert (never.allowed, never.rule) == (False, "cn.agency_whitelist")
    assert CN_RULEBOOK.check(by_agency(DAY), facts(), ()).allowed  # the review's last day
    expired = CN_RULEBOOK.check(by_agency(DAY - timedelta(days=1)), facts(), ())
    assert (expired.allowed, expired.rule) == (False, "cn.agency_whitelist")
    assert "ran out on 2026-03-01" in (expired.reason or "")
    lender = PlannedContact("call", "voice", "debtor", at(10))
    assert CN_RULEBOOK.check(lender, facts(), ()).allowed


def test_no_contact_once_the_debt_is_sold() -> None:
    call = PlannedContact("call", "voice", "debtor", at(10))
    assert CN_RULEBOOK.check(call, facts(sold=True), ()).rule == "cn.no_contact_after_sale"
    us_call = PlannedContact("call", "voice", "debtor", at(10, tz=NEW_YORK), NEW_YORK.key)
    assert US_RULEBOOK.check(us_call, facts(sold=True), ()).rule == "us.no_contact_after_sale"
    # Back-office steps planned by the end-of-day are refused too.
    assert not CN_RULEBOOK.check(PlannedContact("litigation", "none", "debtor"), facts(sold=True), ()).allowed


def test_no_collection_contact_while_a_legal_case_holds_the_account() -> None:
    call = PlannedContact("call", "voice", "debtor", at(10))
    refused = CN_RULEBOOK.check(call, facts(litigation_hold=True), ())
    assert (refused.allowed, refused.rule) == (False, "cn.no_contact_during_litigation")
    assert CN_RULEBOOK.check(call, facts(), ()).allowed
    for step in ("lawyer_letter", "litigation"):  # the legal process's own steps go on
        assert CN_RULEBOOK.check(
            PlannedContact(step, "none", "debtor"), facts(litigation_hold=True), ()
        ).allowed
    us_sms = PlannedContact("sms", "sms", "debtor", at(10, tz=NEW_YORK), NEW_YORK.key)
    assert (
        US_RULEBOOK.check(us_sms, facts(litigation_hold=True), ()).rule == "us.no_contact_during_litigation"
    )


def test_us_cease_request_stops_every_channel() -> None:
    for channel in ("voice", "sms", "email", "letter"):
        contact = PlannedContact("contact", channel, "debtor", at(10, tz=NEW_YORK), NEW_YORK.key)
        assert US_RULEBOOK.check(contact, facts(), ()).allowed
        refused = US_RULEBOOK.check(contact, facts(cease=True), ())
        assert (refused.allowed, refused.rule) == (False, "us.cease_communication")
    # The CN rulebook has no cease rule (China's guidelines have none; complaints go through disputes).
    assert CN_RULEBOOK.check(
        PlannedContact("contact", "voice", "debtor", at(10)), facts(cease=True), ()
    ).allowed


def test_us_validation_notice_comes_before_collection() -> None:
    call = PlannedContact("call", "voice", "debtor", at(10, tz=NEW_YORK), NEW_YORK.key)
    missing = US_RULEBOOK.check(call, facts(validation_notice_on=None), ())
    assert (missing.allowed, missing.rule) == (False, "us.validation_notice")
    assert US_RULEBOOK.check(call, facts(validation_notice_on=DAY), ()).allowed  # sent that morning
    later = US_RULEBOOK.check(call, facts(validation_notice_on=DAY + timedelta(days=1)), ())
    assert (later.allowed, later.rule) == (False, "us.validation_notice")
    # Before delinquency (a pre-due reminder) there is no debt in collection yet.
    assert US_RULEBOOK.check(call, facts(days_past_due=0, validation_notice_on=None), ()).allowed
