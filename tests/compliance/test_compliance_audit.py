"""The audit replays the contact log: a log made through the check is clean; a contact written around it is
reported with its rule and evidence."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.services.collections import audit_contacts, record_contact
from overdue.store.collection_tables import contacts
from overdue.store.db import make_engine, upgrade

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _overdue(engine: Engine) -> None:
    accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
    run_eod(engine, date(2026, 1, 9))
    accounts.purchase(engine, "A1", 100_000, on=date(2026, 1, 10))
    run_eod(engine, date(2026, 2, 19))


def _sneak_in(engine: Engine, at: datetime, party: str = "debtor", outcome: str = "no_answer") -> None:
    """Write a contact straight into the log, around the check (what the audit exists to catch)."""
    with engine.begin() as conn:
        conn.execute(
            contacts.insert().values(
                account_id="A1",
                business_date=at.astimezone(SHANGHAI).date(),
                at=at.astimezone(UTC),
                channel="voice",
                party=party,
                outcome=outcome,
                source="test",
            )
        )


def test_a_log_made_through_the_check_audits_clean(engine: Engine) -> None:
    _overdue(engine)
    for hour, outcome in ((9, "no_answer"), (10, "busy"), (11, "connected"), (21, "connected")):
        record_contact(engine, "A1", datetime(2026, 2, 20, hour, 30), "voice", "debtor", outcome)
    report = audit_contacts(engine)
    assert report.contacts_checked == 4
    assert report.violations == [] and not report.by_rule
    assert report.rules_not_replayed == set()


def test_contacts_written_around_the_check_are_reported_with_their_rule(engine: Engine) -> None:
    _overdue(engine)
    record_contact(engine, "A1", datetime(2026, 2, 20, 10, 0), "voice", "debtor", "connected")
    _sneak_in(engine, datetime(2026, 2, 20, 22, 30, tzinfo=SHANGHAI))
    _sneak_in(engine, datetime(2026, 2, 20, 15, 0, tzinfo=SHANGHAI), party="contact", outcome="connected")
    report = audit_contacts(engine)
    assert report.contacts_checked == 3
    assert dict(report.by_rule) == {"cn.quiet_hours": 1, "cn.third_party": 1}
    quiet = next(v for v in report.violations if v["rule"] == "cn.quiet_hours")
    assert quiet["contact"]["local_time"].startswith("2026-02-20T22:30")
    assert quiet["contact"]["account_id"] == "A1"
    # a period that leaves both out audits clean
    assert audit_contacts(engine, date(2026, 2, 21), date(2026, 2, 28)).contacts_checked == 0


def test_the_audit_command_prints_json_and_exits_1_on_violations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/audit.db"
    engine = make_engine(url)
    upgrade(engine)
    _overdue(engine)
    record_contact(engine, "A1", datetime(2026, 2, 20, 10, 0), "voice", "debtor", "connected")
    runner = CliRunner()
    clean = runner.invoke(app, ["--db", url, "compliance", "audit", "--json"])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.output)["violations"] == 0
    _sneak_in(engine, datetime(2026, 2, 20, 23, 0, tzinfo=SHANGHAI))
    dirty = runner.invoke(app, ["--db", url, "compliance", "audit", "--from", "2026-02-01", "--json"])
    assert dirty.exit_code == 1
    body = json.loads(dirty.output)
    assert (
        body["contacts_checked"] == 2 and body["violations"] == 1 and body["by_rule"] == {"cn.quiet_hours": 1}
    )
    engine.dispose()
