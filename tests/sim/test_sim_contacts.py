"""The simulator's contact log: every contact is checked at its own time, logged, and audits clean; the
excess contacts of an aggressive strategy are refused by rule, counted, and never logged."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sim_helpers import small_portfolio
from sqlalchemy import Engine, func, select

from overdue.domain.collections import CONVERSATIONS
from overdue.errors import OverdueError
from overdue.risk.notices import NOTICE_TREATMENT
from overdue.services.collections import audit_contacts
from overdue.sim import SimulationConfig, SimulationResult, simulate
from overdue.sim.contacts import CONTACT_TYPES, contact_summary
from overdue.sim.persist import persist, prepare
from overdue.store import audit_trail
from overdue.store.account_tables import accounts
from overdue.store.collection_tables import collection_actions, contacts
from overdue.strategy import parse_strategy

_CALLS = "\n".join(f"      - {{id: call_{k}, type: call, priority: {10 + k}}}" for k in range(1, 9))
AGGRESSIVE_CALLS = f"""
strategy: aggressive_calls
description: calls every overdue borrower eight times a day from DPD 1
templates:
  notice:
    zh-CN: "【{{lender}}】您的账单{{amount}}元已逾期，请通过{{repay_channel}}还款。"
    en: "{{lender}}: {{amount}} CNY is overdue. Please repay through {{repay_channel}}."
stages:
  - name: current
    when: {{days_past_due: 0}}
    treatments: []
  - name: overdue
    when: {{days_past_due: {{min: 1}}}}
    treatments:
{_CALLS}
"""
"""Eight human calls a day to every overdue borrower: more than CN allows (3 conversations, 6 unanswered)."""


def _aggressive() -> SimulationResult:
    parse_strategy(AGGRESSIVE_CALLS, name="aggressive_calls.yaml")
    config = SimulationConfig(
        accounts=200, months=3, seed=4, keep_records=True, workers=1, strategy_text=AGGRESSIVE_CALLS
    )
    return simulate(config)


def test_every_allowed_contact_action_is_one_logged_contact_at_a_local_daytime() -> None:
    result = small_portfolio()
    allowed = Counter(
        (row[0], row[1], CONTACT_TYPES[row[3]])
        for row in result.actions
        if row[10] == "recorded" and row[3] in CONTACT_TYPES and row[2] != NOTICE_TREATMENT
    )
    logged = Counter((row[0], row[1], row[3]) for row in result.contacts)
    assert logged == allowed and sum(logged.values()) > 1000
    zones = {b.account_id: ZoneInfo(b.timezone) for b in result.borrowers}
    assert {str(z) for z in zones.values()} == {"Asia/Shanghai", "Asia/Urumqi"}
    for account_id, on, at, channel, party, outcome, collectors, recording in result.contacts:
        assert at.tzinfo is UTC
        local = at.astimezone(zones[account_id])
        assert local.date() == on and (9, 0) <= (local.hour, local.minute) <= (20, 30), (account_id, local)
        assert party in ("debtor", "contact", "guarantor")
        if channel == "field":
            assert collectors == 2 and recording == f"sim:{account_id}:{on.isoformat()}"
        else:
            assert collectors is None and recording is None
        if channel not in ("voice", "ai_voice", "field"):
            assert outcome == "no_answer"  # a message is sent; nobody answers it
    summary = contact_summary(result.tallies)
    assert summary["made"] == len(result.contacts)
    assert summary["refused_at_contact"] == {}  # the shipped strategy stays inside the rulebook
    assert {"sms", "push", "ai_voice", "voice"} <= set(summary["by_channel"])


def test_the_stored_contact_log_of_a_simulated_portfolio_audits_clean(engine: Engine) -> None:
    result = small_portfolio()
    prepare(engine, fresh=False)
    counts = persist(engine, result)
    assert counts["contacts"] == len(result.contacts) > 0
    with engine.connect() as conn:
        sources = conn.execute(select(contacts.c.source, func.count()).group_by(contacts.c.source)).all()
    assert sources == [("simulation", len(result.contacts))]
    report = audit_contacts(engine).to_json()
    assert report["contacts_checked"] == len(result.contacts)
    assert report["violations"] == 0, report["evidence"][:3]


def test_an_aggressive_strategy_gets_its_excess_calls_refused_by_rule_and_never_logged(
    engine: Engine,
) -> None:
    result = _aggressive()
    refused = {key[1]: n for key, n in result.tallies.items() if key[0] == "contacts_refused"}
    assert refused.get("cn.connected_voice_per_day", 0) > 0
    assert refused.get("cn.unanswered_per_number_per_day", 0) > 0
    assert set(refused) <= {"cn.connected_voice_per_day", "cn.unanswered_per_number_per_day"}
    # Each refused call is recorded as a refused action with its rule, and is not in the log.
    rules = Counter(row[11] for row in result.actions if row[10] == "refused")
    assert rules == Counter(refused)
    made = sum(1 for row in result.actions if row[3] == "call" and row[10] == "recorded")
    assert made == len(result.contacts) == result.tallies[("contacts", "voice")]
    conversations: Counter[tuple[str, object]] = Counter()
    unanswered: Counter[tuple[str, object]] = Counter()
    for account_id, on, _at, _channel, _party, outcome, _c, _r in result.contacts:
        if outcome in CONVERSATIONS:
            conversations[(account_id, on)] += 1
        else:
            unanswered[(account_id, on)] += 1
    assert max(conversations.values()) == 3 and max(unanswered.values()) <= 6
    # Refused calls never happened: they add no pressure, so no tally counts them as allowed.
    allowed_calls = sum(
        n for key, n in result.tallies.items() if key[:2] == ("actions", "call") and key[4] == "allowed"
    )
    assert allowed_calls == made

    prepare(engine, fresh=False)
    persist(engine, result)
    report = audit_contacts(engine).to_json()
    assert report["contacts_checked"] == len(result.contacts)
    assert report["violations"] == 0, report["evidence"][:3]
    with engine.connect() as conn:
        stored_refusals = conn.execute(
            select(func.count())
            .select_from(collection_actions)
            .where(collection_actions.c.status == "refused")
        ).scalar_one()
    assert stored_refusals == sum(refused.values())


def test_fresh_deletes_simulated_contacts_but_refuses_to_delete_real_ones(engine: Engine) -> None:
    result = small_portfolio(accounts=20, months=2, seed=1)
    prepare(engine, fresh=False)
    persist(engine, result)
    prepare(engine, fresh=True)  # simulated contacts may go at any age
    persist(engine, result)
    with engine.begin() as conn:
        conn.execute(
            contacts.insert().values(
                account_id="SIM0000000",
                business_date=datetime.now(UTC).date(),
                at=datetime.now(UTC),
                channel="voice",
                party="debtor",
                outcome="connected",
                source="collector",
            )
        )
    with pytest.raises(OverdueError, match="younger than five years"):
        prepare(engine, fresh=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 20
        assert (
            conn.execute(select(func.count()).select_from(contacts)).scalar_one() == len(result.contacts) + 1
        )


def test_fresh_refuses_a_database_whose_audit_log_has_entries(engine: Engine) -> None:
    """The audit log is append-only: ``--fresh`` says so, before deleting anything, instead of raising the
    database's own error from the log's trigger (with the SQL that failed)."""
    result = small_portfolio(accounts=20, months=1, seed=1)
    prepare(engine, fresh=False)
    persist(engine, result)
    audit_trail.record(engine, "cli", "admin", "update", "eod", "2026-02-01")
    with pytest.raises(OverdueError, match=r"audit log \(1 entry\) is append-only.*--db"):
        prepare(engine, fresh=True)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 20
        assert audit_trail.verify(conn).ok
