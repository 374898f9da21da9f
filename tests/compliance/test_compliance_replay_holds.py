"""The audit replays holds, field-visit teams and agency reviews; young compliance records are kept."""

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, text
from sqlalchemy.exc import DBAPIError

from overdue.domain.errors import InvalidInput
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.services.collections import (
    ContactRefused,
    add_agency,
    audit_contacts,
    record_contact,
    review_agency,
    set_dispute,
    set_hold,
)
from overdue.store.collection_tables import contacts
from overdue.store.compliance_tables import account_holds

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _overdue(engine: Engine) -> None:
    accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
    run_eod(engine, date(2026, 1, 9))
    accounts.purchase(engine, "A1", 100_000, on=date(2026, 1, 10))
    run_eod(engine, date(2026, 2, 19))


def _sneak_in(engine: Engine, at: datetime, **columns: Any) -> None:
    """Write a contact straight into the log, around the check."""
    row = {"channel": "voice", "party": "debtor", "outcome": "no_answer", "source": "test", **columns}
    with engine.begin() as conn:
        conn.execute(
            contacts.insert().values(
                account_id="A1", business_date=at.astimezone(SHANGHAI).date(), at=at.astimezone(UTC), **row
            )
        )


def test_contacts_during_a_hold_are_violations_and_contacts_before_it_are_not(engine: Engine) -> None:
    _overdue(engine)
    record_contact(engine, "A1", datetime(2026, 2, 20, 10, 0), "voice", "debtor", "no_answer")
    set_dispute(engine, "A1", date(2026, 2, 20), open_=True)  # takes effect just after the 10:00 call
    _sneak_in(engine, datetime(2026, 2, 20, 15, 0, tzinfo=SHANGHAI))
    report = audit_contacts(engine)
    assert report.contacts_checked == 2
    assert dict(report.by_rule) == {"cn.no_contact_during_dispute": 1}
    assert report.violations[0]["contact"]["holds"] == ["dispute"]
    set_dispute(engine, "A1", date(2026, 2, 20), open_=False, at=datetime(2026, 2, 20, 16, 0))
    record_contact(engine, "A1", datetime(2026, 2, 20, 17, 0), "voice", "debtor", "no_answer")
    assert dict(audit_contacts(engine).by_rule) == {"cn.no_contact_during_dispute": 1}


def test_a_sold_debt_contacted_around_the_check_is_reported(engine: Engine) -> None:
    _overdue(engine)
    set_hold(engine, "A1", "sold", date(2026, 2, 20))
    _sneak_in(engine, datetime(2026, 2, 20, 11, 0, tzinfo=SHANGHAI))
    assert dict(audit_contacts(engine).by_rule) == {"cn.no_contact_after_sale": 1}


def test_a_call_during_a_legal_case_is_refused_and_one_around_the_check_reported(engine: Engine) -> None:
    _overdue(engine)
    set_hold(engine, "A1", "litigation", date(2026, 2, 20))
    with pytest.raises(ContactRefused) as refused:
        record_contact(engine, "A1", datetime(2026, 2, 20, 10, 0), "voice", "debtor", "no_answer")
    assert refused.value.rule == "cn.no_contact_during_litigation"
    _sneak_in(engine, datetime(2026, 2, 20, 11, 0, tzinfo=SHANGHAI))
    assert dict(audit_contacts(engine).by_rule) == {"cn.no_contact_during_litigation": 1}


def test_field_visits_and_agencies_are_replayed(engine: Engine) -> None:
    _overdue(engine)
    add_agency(engine, "AG1", "Huadong Recovery", datetime(2026, 2, 1, tzinfo=UTC))
    review_agency(engine, "AG1", date(2026, 2, 1), date(2026, 2, 20), "compliance officer")
    record_contact(
        engine,
        "A1",
        datetime(2026, 2, 20, 10, 0),
        "field",
        "debtor",
        "no_answer",
        collectors=2,
        recording_ref="r1",
    )
    record_contact(engine, "A1", datetime(2026, 2, 20, 11, 0), "voice", "debtor", "no_answer", agency="AG1")
    assert audit_contacts(engine).violations == []
    _sneak_in(engine, datetime(2026, 2, 21, 10, 0, tzinfo=SHANGHAI), channel="field", collectors=1)
    _sneak_in(engine, datetime(2026, 2, 21, 11, 0, tzinfo=SHANGHAI), agency="AG1")  # review ran out on 20 Feb
    report = audit_contacts(engine)
    assert dict(report.by_rule) == {"cn.field_visit_team": 1, "cn.agency_whitelist": 1}


def test_young_compliance_records_cannot_be_deleted(engine: Engine) -> None:
    _overdue(engine)
    record_contact(engine, "A1", datetime(2026, 2, 20, 10, 0), "voice", "debtor", "no_answer")
    set_hold(engine, "A1", "litigation", date(2026, 2, 20))
    for table in (contacts, account_holds):
        with pytest.raises(DBAPIError, match="kept for 5 years"), engine.begin() as conn:
            conn.execute(delete(table))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="kept for 5 years"), engine.begin() as conn:
            conn.execute(text("TRUNCATE contacts CASCADE"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM contacts")).scalar_one() == 1
    # Synthetic (simulated) contacts are not records of anybody and may go.
    _sneak_in(engine, datetime(2026, 2, 21, 10, 0, tzinfo=SHANGHAI), source="simulation")
    with engine.begin() as conn:
        assert conn.execute(delete(contacts).where(contacts.c.source == "simulation")).rowcount == 1


def test_a_sale_cannot_be_undone(engine: Engine) -> None:
    _overdue(engine)
    set_hold(engine, "A1", "sold", date(2026, 2, 20))
    with pytest.raises(InvalidInput, match="cannot be undone"):
        set_hold(engine, "A1", "sold", date(2026, 2, 20), start=False)
