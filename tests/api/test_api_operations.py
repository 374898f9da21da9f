"""Collector operations over HTTP: a day in the life (allocation, calls, a promise kept, an agency payment
imported, a field order closed, a legal case opened), per-role visibility, idempotent imports and bad input.

The end-of-day is run directly (:func:`overdue.engine.reference.run_eod`), as the scheduler would.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from api_world import World, open_account, problem
from sqlalchemy import func, select

from overdue.engine.reference import run_eod
from overdue.services import collections, operations
from overdue.store.collection_tables import collection_actions
from overdue.store.operations_tables import agency_results
from overdue.store.schema import ledger_transactions

ZHAO = {
    "name": "赵六",
    "phone": "13722223333",
    "national_id": "440101198803034321",
    "address": "广州市天河区体育西路1号",
}
QIAN = {
    "name": "钱七",
    "phone": "13644445555",
    "national_id": "320101199104045678",
    "address": "南京市鼓楼区中山路2号",
}


def _buy(world: World, account_id: str, amount: str) -> None:
    bought = world.post(
        "admin", f"/accounts/{account_id}/purchases", {"amount": amount}, Idempotency_Key=account_id
    )
    assert bought.status_code == 201, bought.json()


def _count(world: World, table: Any, *where: Any) -> int:
    with world.engine.connect() as conn:
        count: int = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    return count


def _repayments(world: World, account_id: str) -> int:
    return _count(
        world,
        ledger_transactions,
        ledger_transactions.c.account_id == account_id,
        ledger_transactions.c.kind == "repayment",
    )


def _actions(world: World, account_id: str, on: date) -> int:
    return _count(
        world,
        collection_actions,
        collection_actions.c.account_id == account_id,
        collection_actions.c.business_date == on,
    )


def _post_rows(world: World, role: str, agency: str, rows: Any, key: str) -> Any:
    return world.post(role, f"/agencies/{agency}/results", rows, Idempotency_Key=key)


def test_a_day_in_the_life(world: World) -> None:
    engine = world.engine
    zhang = world.get("admin", "/accounts/A1").json()["borrower"]["id"]
    zhao = open_account(world, "E1", ZHAO)["borrower_id"]
    qian = open_account(world, "F1", QIAN)["borrower_id"]
    for account_id, amount in (("A1", "1000.00"), ("E1", "2000.00"), ("F1", "3000.00")):
        _buy(world, account_id, amount)
    operations.allocation.add_collector(engine, "user-collector", "催收员甲", daily_cap=10)
    operations.allocation.add_collector(engine, "c2", "催收员乙", daily_cap=10)
    run_eod(engine, date(2026, 2, 25))  # every statement 16 days past due: the M1 queue

    # The morning allocation: a supervisor runs it; a collector sees only their own cases.
    problem(world.post("collector", "/allocation/run", {"date": "2026-02-26"}), 403, "forbidden")
    allocation = world.post("supervisor", "/allocation/run", {"date": "2026-02-26"})
    assert allocation.status_code == 200, allocation.json()
    given = {a["case"]: a["collector"] for a in allocation.json()["assignments"]}
    assert set(given) == {zhang, zhao, qian}
    assert set(given.values()) == {"user-collector", "c2"}
    mine = {case for case, collector in given.items() if collector == "user-collector"}
    again = world.post("admin", "/allocation/run", {"date": "2026-02-26"}).json()
    assert again["already_allocated"] is True
    queue = world.get("collector", "/queues/M1").json()
    assert queue["date"] == "2026-02-26"
    assert {c["case"] for c in queue["items"]} == mine
    assert all(c["collector"] == "user-collector" for c in queue["items"])
    everything = world.get("supervisor", "/queues/M1").json()["items"]
    assert {c["case"]: c["collector"] for c in everything} == given
    assert {c["case"] for c in world.get("collector", "/cases").json()["items"]} == mine
    not_mine = next(case for case, collector in given.items() if collector == "c2")
    problem(world.get("collector", f"/cases/{not_mine}"), 404, "not-found")
    seen = world.get("supervisor", f"/cases/{zhang}").json()
    assert seen["borrower"]["phone"] == "13812341234" and seen["accounts"][0]["account_id"] == "A1"
    masked = world.get("strategist", f"/cases/{zhang}").json()["borrower"]
    assert masked["phone"] == "138****1234" and masked["masked"] is True

    # Calls logged (each checked by the rulebook), a promise made, and kept by the borrower's repayment.
    call = {"channel": "voice", "party": "debtor", "at": "2026-02-26T10:00:00"}
    assert (
        world.post("collector", "/accounts/A1/contacts", {**call, "outcome": "connected"}).status_code == 201
    )
    assert (
        world.post("collector", "/accounts/E1/contacts", {**call, "outcome": "no_answer"}).status_code == 201
    )
    promise = world.post("collector", "/accounts/A1/promises", {"amount": "200.00", "due_on": "2026-03-03"})
    assert promise.status_code == 201
    paid = world.post("borrower", "/accounts/A1/repayments", {"amount": "200.00"}, Idempotency_Key="pay-1")
    assert paid.status_code == 201 and paid.json()["date"] == "2026-02-26"
    run_eod(engine, date(2026, 2, 26))
    promises = world.get("collector", "/accounts/A1/promises").json()["items"]
    assert [(p["amount"], p["status"], p["paid"]) for p in promises] == [("200.00", "kept", "200.00")]
    assert _actions(world, "A1", date(2026, 2, 26)) == 0  # a kept promise pauses the ladder

    # Day 61: the end-of-day decides to place E1 and F1; a supervisor places what fits the rules with AG1.
    run_eod(engine, date(2026, 4, 11))
    placed = world.post(
        "supervisor", "/agencies/AG1/placements", {"date": "2026-04-12", "max_balance": "2500.00"}
    )
    assert placed.status_code == 201, placed.json()
    assert [p["account_id"] for p in placed.json()["placed"]] == ["E1"]
    assert placed.json()["placed"][0]["commission_rate"] == "0.12"
    assert {s["account_id"]: s["reason"] for s in placed.json()["skipped"]}[
        "F1"
    ] == "outside the placement rules"

    # The agency user sees their own agency and what is placed with it, nothing else.
    collections.add_agency(engine, "AG2", "第二催收公司", datetime(2026, 1, 1, tzinfo=UTC))
    assert [a["agency"] for a in world.get("agency", "/agencies").json()["items"]] == ["AG1"]
    assert [a["agency"] for a in world.get("auditor", "/agencies").json()["items"]] == ["AG1", "AG2"]
    problem(world.get("agency", "/agencies/AG2/placement-file"), 404, "not-found")
    problem(_post_rows(world, "agency", "AG2", [], "ag2"), 404, "not-found")
    csv_file = world.get("agency", "/agencies/AG1/placement-file?format=csv")
    assert csv_file.headers["content-type"].startswith("text/csv")
    lines = csv_file.text.splitlines()
    assert lines[0] == "placement,account_id,case,placed_on,recall_on,days_past_due,overdue"
    assert [line.split(",")[1] for line in lines[1:]] == ["E1"]
    as_json = world.get("agency", "/agencies/AG1/placement-file").json()
    assert [(p["account_id"], p["case"], p["recall_on"]) for p in as_json["placements"]] == [
        ("E1", zhao, "2026-07-11")
    ]
    assert world.get("agency", "/accounts/E1").json()["borrower"]["masked"] is True

    # The borrower pays the lender; the agency reports it; the import reconciles it with the ledger, once.
    repaid = world.post("admin", "/accounts/E1/repayments", {"amount": "300.00"}, Idempotency_Key="e1-1")
    assert repaid.status_code == 201 and repaid.json()["date"] == "2026-04-12"
    rows = {
        "rows": [
            {
                "ref": "AG1-0001",
                "account_id": "E1",
                "type": "payment",
                "date": "2026-04-12",
                "amount": "300.00",
            },
            {"ref": "AG1-0002", "account_id": "E1", "type": "payment", "date": "2026-04-12", "amount": 50},
            {
                "ref": "AG1-0003",
                "account_id": "A1",
                "type": "payment",
                "date": "2026-04-12",
                "amount": "9.00",
            },
            {"account_id": "E1", "type": "payment", "date": "2026-04-12", "amount": "1.00"},
        ]
    }
    first = _post_rows(world, "agency", "AG1", rows, "results-1")
    assert first.status_code == 200, first.json()
    report = first.json()
    assert [(r["ref"], r["amount"], r["commission"]) for r in report["accepted"]] == [
        ("AG1-0001", "300.00", "36.00")
    ]
    reasons = {r["row"]: r["reason"] for r in report["rejected"]}
    assert "never a number" in reasons[2]
    assert "not placed with AG1" in reasons[3]
    assert "missing ref" in reasons[4]
    replay = _post_rows(world, "agency", "AG1", rows, "results-1")
    assert replay.status_code == 200 and replay.json() == report
    assert replay.headers["idempotent-replayed"] == "true"
    again_report = _post_rows(world, "agency", "AG1", rows, "results-2").json()
    assert again_report["accepted"] == []
    assert "already imported" in {r["row"]: r["reason"] for r in again_report["rejected"]}[1]
    problem(_post_rows(world, "agency", "AG1", {"rows": []}, "results-1"), 422, "idempotency-conflict")
    problem(_post_rows(world, "agency", "AG1", rows, ""), 400, "idempotency-key-required")
    assert _repayments(world, "E1") == 1
    assert _count(world, agency_results, agency_results.c.kind == "payment") == 1
    contact_csv = (
        "ref,account_id,type,date,amount,at,channel,party,outcome\n"
        "AG1-0005,E1,contact,,,2026-04-12T11:00:00,voice,debtor,no_answer\n"
    )
    imported = world.client.post(
        "/agencies/AG1/results",
        content=contact_csv.encode(),
        headers=world.auth("agency", Idempotency_Key="results-csv", Content_Type="text/csv"),
    )
    assert [r["type"] for r in imported.json()["accepted"]] == ["contact"], imported.json()
    commission = world.get("agency", "/agencies/AG1/commission").json()
    assert (commission["recovered"], commission["commission"]) == ("300.00", "36.00")

    # Day 91: the end-of-day orders a field visit to F1; routes are planned and the order closed.
    run_eod(engine, date(2026, 5, 11))
    for agent in ("user-field_agent", "f2", "f3"):
        operations.allocation.add_collector(engine, agent, f"外访{agent}", kind="field_agent")
    away = world.post("supervisor", "/collectors/f3/absences", {"date": "2026-05-12", "reason": "年假"})
    assert away.status_code == 201
    planned = world.post("supervisor", "/field/routes", {"date": "2026-05-12"})
    assert planned.status_code == 201, planned.json()
    assert planned.json()["created"] == 1
    orders = world.get("field_agent", "/field/orders").json()["items"]
    assert [(o["case"], o["team"], o["status"]) for o in orders] == [
        (qian, ["f2", "user-field_agent"], "open")
    ]
    assert orders[0]["borrower"]["address"] == QIAN["address"]  # where the team goes, unmasked for them
    order = orders[0]["order"]
    routes = world.get("field_agent", "/field/routes?on=2026-05-12").json()["routes"]
    assert [r["orders"][0]["order"] for r in routes] == [order]
    assert world.get("auditor", "/field/orders").json()["items"][0]["borrower"]["masked"] is True
    visit = {"at": "2026-05-12T10:30:00", "outcome": "no_answer", "recording_ref": "REC-0512-01"}
    alone = world.post("field_agent", f"/field/orders/{order}/close", {**visit, "team": ["user-field_agent"]})
    assert problem(alone, 409, "contact-refused")["rule"] == "cn.field_visit_team"
    no_recording = {k: v for k, v in visit.items() if k != "recording_ref"}
    problem(world.post("field_agent", f"/field/orders/{order}/close", no_recording), 422, "validation-failed")
    closed = world.post("field_agent", f"/field/orders/{order}/close", visit)
    assert closed.status_code == 200, closed.json()
    assert (closed.json()["status"], closed.json()["recording_ref"]) == ("closed", "REC-0512-01")
    problem(world.post("field_agent", f"/field/orders/{order}/close", visit), 409, "refused")

    # A legal case on F1: a lawyer's letter; its litigation hold stops the ladder.
    assert _actions(world, "F1", date(2026, 5, 11)) > 0
    opened = world.post(
        "supervisor", "/accounts/F1/legal", {"cost": "500.00", "documents": ["LL-2026-001.pdf"]}
    )
    assert opened.status_code == 201, opened.json()
    legal_id = opened.json()["legal_case"]
    assert (legal_id, opened.json()["step"], opened.json()["total_cost"]) == (
        "F1/legal/1",
        "lawyer_letter",
        "500.00",
    )
    out_of_order = world.post("supervisor", f"/legal/{legal_id}/steps", {"step": "judgment"})
    assert problem(out_of_order, 409, "legal-refused")["rule"] == "legal.order"
    filed = world.post("supervisor", f"/legal/{legal_id}/steps", {"step": "filing", "cost": "1200.00"})
    assert filed.status_code == 200 and filed.json()["step"] == "filing"
    shown = world.get("auditor", f"/legal/{legal_id}").json()
    assert shown["total_cost"] == "1700.00" and shown["limitation"]["ends_on"] == "2029-05-12"
    run_eod(engine, date(2026, 5, 13))
    assert _actions(world, "F1", date(2026, 5, 12)) == _actions(world, "F1", date(2026, 5, 13)) == 0
    assert _actions(world, "E1", date(2026, 5, 13)) > 0  # the ladder goes on elsewhere
    assert world.get("supervisor", f"/cases/{qian}").json()["queue"] == "legal"
    # While the case holds F1, a collector's call is refused: the lawyer and the court take it from here.
    call = {"channel": "voice", "party": "debtor", "outcome": "no_answer", "at": "2026-05-14T10:00:00"}
    refused = world.post("supervisor", "/accounts/F1/contacts", call)
    assert problem(refused, 409, "contact-refused")["rule"] == "cn.no_contact_during_litigation"


def test_debt_sale_through_the_api(world: World) -> None:
    _buy(world, "A3", "800.00")
    body = {"sale": "S-2026-01", "buyer": "某资产管理公司", "min_balance": "100.00"}
    problem(world.post("supervisor", "/sales/select", body, Idempotency_Key="s1"), 403, "forbidden")
    problem(world.post("admin", "/sales/select", body), 400, "idempotency-key-required")
    selected = world.post("admin", "/sales/select", body, Idempotency_Key="s1")
    assert selected.status_code == 201, selected.json()
    assert [a["account_id"] for a in selected.json()["accounts"]] == ["A3"]
    replay = world.post("admin", "/sales/select", body, Idempotency_Key="s1")
    assert replay.json() == selected.json() and replay.headers["idempotent-replayed"] == "true"
    problem(world.post("admin", "/sales/select", body, Idempotency_Key="s2"), 409, "conflict")
    empty = {**body, "sale": "S-2026-02", "min_days_past_due": 400}
    problem(world.post("admin", "/sales/select", empty, Idempotency_Key="s3"), 409, "refused")

    transfer = world.get("admin", "/sales/S-2026-01/transfer-file?format=csv")
    assert transfer.text.splitlines() == [
        "account_id,status,days_past_due,principal,interest,fees,outstanding,last_payment_on",
        "A3,active,0,800.00,0.00,0.00,800.00,",
    ]
    assert world.get("admin", "/sales/S-2026-01/transfer-file").json()["totals"]["outstanding"] == "800.00"
    sold = world.post("admin", "/sales/S-2026-01/mark-sold", {"date": "2026-01-05"}, Idempotency_Key="m1")
    assert sold.status_code == 200 and sold.json()["holds_started"] == 1
    assert world.post(
        "admin", "/sales/S-2026-01/mark-sold", {"date": "2026-01-05"}, Idempotency_Key="m1"
    ).json() == (sold.json())
    problem(world.post("admin", "/sales/S-2026-01/mark-sold", {}, Idempotency_Key="m2"), 409, "refused")
    contact = {"at": "2026-01-05T10:00:00", "channel": "voice", "party": "debtor", "outcome": "no_answer"}
    refused = world.post("collector", "/accounts/A3/contacts", contact)
    assert problem(refused, 409, "contact-refused")["rule"] == "cn.no_contact_after_sale"
    paid = world.post("admin", "/accounts/A3/repayments", {"amount": "1.00"}, Idempotency_Key="after-sale")
    problem(paid, 409, "account-sold")
    payment = {"account_id": "A3", "amount": "1.00", "reference": "BANK-77", "date": "2026-01-05"}
    forwarded = world.post("admin", "/sales/payments", payment, Idempotency_Key="f1")
    assert forwarded.status_code == 201, forwarded.json()
    assert (forwarded.json()["forwarded_to"], forwarded.json()["amount"]) == ("某资产管理公司", "1.00")
    again = world.post("admin", "/sales/payments", payment, Idempotency_Key="f1")
    assert again.json() == forwarded.json() and again.headers["idempotent-replayed"] == "true"
    problem(world.post("admin", "/sales/payments", payment, Idempotency_Key="f2"), 409, "conflict")
    not_sold = {**payment, "account_id": "A1", "reference": "BANK-78"}
    problem(world.post("admin", "/sales/payments", not_sold, Idempotency_Key="f3"), 409, "refused")
    assert world.get("admin", "/accounts/A3").json()["snapshot"]["balances"]["outstanding"] == "800.00"
