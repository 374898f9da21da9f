"""Relief through the store, on SQLite and PostgreSQL: idempotent acceptance, stale quotes refused with
nothing written, approvals that apply whole, plan holds for the audit, and a broken plan's escalation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from overdue.domain.errors import IdempotencyConflict, ReliefRefused, StaleQuote
from overdue.engine.reference import run_eod
from overdue.services import accounts, relief
from overdue.services.relief import ReliefRequest
from overdue.store import collections_repository, repository
from overdue.store.compliance_tables import account_holds
from overdue.store.schema import ledger_transactions, metadata


def table_rows(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            out[table.name] = sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
    return out


def overdue(engine: Engine, through: date) -> None:
    """A1: 1,000.00 bought on 10 January, due 9 February, unpaid; end-of-day run through ``through``."""
    accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
    run_eod(engine, date(2026, 1, 9))
    accounts.purchase(engine, "A1", 100_000, on=date(2026, 1, 10))
    run_eod(engine, through)


def test_a_deferral_replays_and_a_reused_key_conflicts(engine: Engine) -> None:
    overdue(engine, date(2026, 2, 4))
    request = ReliefRequest("deferral", statement=date(2026, 2, 1), days=20)
    quote = relief.quote(engine, "A1", request)
    first = relief.accept(engine, "A1", request, quote["fingerprint"], maker="b", idempotency_key="k1")
    assert first["new_due_date"] == "2026-03-01"
    assert (
        relief.accept(engine, "A1", request, quote["fingerprint"], maker="b", idempotency_key="k1") == first
    )
    other = ReliefRequest("deferral", statement=date(2026, 2, 1), days=10)
    with pytest.raises(IdempotencyConflict):
        relief.accept(engine, "A1", other, quote["fingerprint"], maker="b", idempotency_key="k1")
    listed = relief.list_relief(engine, "A1")
    assert listed["deferrals"] == [
        {
            "statement": "A1/2026-02-01",
            "deferred_on": "2026-02-05",
            "days": 20,
            "original_due_date": "2026-02-09",
            "new_due_date": "2026-03-01",
        }
    ]


def test_a_stale_quote_is_refused_and_writes_nothing(engine: Engine) -> None:
    overdue(engine, date(2026, 3, 19))
    request = ReliefRequest("plan", periods=6, waive_interest=True)
    quote = relief.quote(engine, "A1", request)
    accounts.repay(engine, "A1", 1_000, on=date(2026, 3, 20))
    before = table_rows(engine)
    with pytest.raises(StaleQuote):
        relief.accept(engine, "A1", request, quote["fingerprint"], maker="a1", idempotency_key="k2")
    assert table_rows(engine) == before
    minimum = relief.quote(engine, "A1", ReliefRequest("waiver", interest=100))
    assert minimum["waived"] == "1.00"


def test_a_waiver_approval_is_refused_whole_when_the_interest_was_repaid_meanwhile(engine: Engine) -> None:
    overdue(engine, date(2026, 2, 28))
    request = ReliefRequest("waiver", interest=900, reason="hardship")
    quote = relief.quote(engine, "A1", request)
    asked = relief.accept(engine, "A1", request, quote["fingerprint"], maker="a1")
    assert asked["status"] == "requested"
    accounts.repay(engine, "A1", 500, on=date(2026, 3, 1))  # pays 5.00 of the 9.50 overdue interest
    before = table_rows(engine)
    with pytest.raises(ReliefRefused) as info:
        relief.approve(engine, "A1", asked["id"], "t1", "team_lead")
    assert info.value.rule == "relief.waiver.exceeds_interest"
    assert table_rows(engine) == before
    smaller = ReliefRequest("waiver", interest=450)
    quote = relief.quote(engine, "A1", smaller)
    asked = relief.accept(engine, "A1", smaller, quote["fingerprint"], maker="a1")
    approved = relief.approve(engine, "A1", asked["id"], "t1", "team_lead")
    assert approved["status"] == "approved"
    with engine.connect() as conn:
        kinds = [k for (k,) in conn.execute(select(ledger_transactions.c.kind))]
        assert repository.ledger_balances(conn, "A1")["expense:waiver"] == 450
    assert "waiver" in kinds
    with pytest.raises(ReliefRefused) as again:
        relief.approve(engine, "A1", asked["id"], "t2", "team_lead")
    assert again.value.rule == "relief.approval.not_pending"


def holds(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(account_holds).order_by(account_holds.c.id)).mappings()]


def test_a_plan_holds_collection_and_its_break_ends_the_hold_and_escalates(engine: Engine) -> None:
    overdue(engine, date(2026, 3, 16))
    request = ReliefRequest("plan", periods=3, waive_interest=True)
    quote = relief.quote(engine, "A1", request)
    accepted = relief.accept(engine, "A1", request, quote["fingerprint"], maker="a1")
    assert accepted["status"] == "pending_approval"
    assert holds(engine) == []
    with pytest.raises(ReliefRefused) as info:
        relief.approve(engine, "A1", accepted["id"], "a1", "manager")
    assert info.value.rule == "relief.approval.same_user"
    relief.approve(engine, "A1", accepted["id"], "t1", "team_lead", idempotency_key="ap1")
    assert (
        relief.approve(engine, "A1", accepted["id"], "t1", "team_lead", idempotency_key="ap1")["status"]
        == "active"
    )
    [hold] = holds(engine)
    assert (hold["kind"], hold["source"], hold["ended_at"]) == ("plan", "relief", None)
    first_due = date(2026, 4, 17)
    run_eod(engine, first_due + timedelta(days=10))
    assert holds(engine)[0]["ended_at"] is None
    with engine.connect() as conn:
        stage_during_plan = collections_repository.load_collection_state(conn, "A1")[0].stage
    run_eod(engine, first_due + timedelta(days=11))
    [hold] = holds(engine)
    assert hold["ended_at"] is not None and hold["started_at"] is not None
    with engine.connect() as conn:
        cs = collections_repository.load_collection_state(conn, "A1")[0]
        state, _ = repository.load_account(conn, "A1")
    assert state.arrangement is not None and state.arrangement.status == "broken"
    assert (cs.escalation, cs.escalated_from) == (1, stage_during_plan)
    listed = relief.list_relief(engine, "A1")
    assert listed["plan"]["status"] == "broken"
    assert [a["status"] for a in listed["arrangements"]] == ["broken"]


def test_a_new_offer_cancels_one_still_waiting_for_approval(engine: Engine) -> None:
    overdue(engine, date(2026, 3, 16))
    request = ReliefRequest("settlement", amount=60_000, pay_by=date(2026, 3, 31))
    quote = relief.quote(engine, "A1", request)
    first = relief.accept(engine, "A1", request, quote["fingerprint"], maker="a1")
    second = relief.accept(engine, "A1", request, quote["fingerprint"], maker="a1")
    statuses = {a["id"]: a["status"] for a in relief.list_relief(engine, "A1")["arrangements"]}
    assert statuses == {first["id"]: "cancelled", second["id"]: "pending_approval"}
    with pytest.raises(ReliefRefused):
        relief.approve(engine, "A1", first["id"], "t1", "team_lead")
