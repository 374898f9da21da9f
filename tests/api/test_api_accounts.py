"""Accounts over HTTP: open, list with pagination, read with masking, statements, idempotent money moves,
malformed input (422 problem+json), unknown ids (404) and per-role visibility."""

from __future__ import annotations

from datetime import date
from typing import Any

from api_world import LI, ZHANG, World, problem
from sqlalchemy import func, select

from overdue.engine.reference import run_eod
from overdue.store.schema import ledger_transactions


def _postings(world: World, account_id: str, kind: str) -> int:
    with world.engine.connect() as conn:
        count: int = conn.execute(
            select(func.count())
            .select_from(ledger_transactions)
            .where(ledger_transactions.c.account_id == account_id, ledger_transactions.c.kind == kind)
        ).scalar_one()
    return count


def test_open_list_page_by_page_and_read(world: World) -> None:
    first = world.get("admin", "/accounts?limit=2").json()
    assert [a["id"] for a in first["items"]] == ["A1", "A2"]
    assert first["items"][0]["credit_limit"] == "5000.00"
    second = world.get("admin", f"/accounts?limit=2&cursor={first['next_cursor']}").json()
    assert [a["id"] for a in second["items"]] == ["A3"] and second["next_cursor"] is None

    account = world.get("admin", "/accounts/A1").json()
    assert account["snapshot"]["credit_limit"] == "5000.00"
    assert account["snapshot"]["available_credit"] == "5000.00"
    assert account["borrower"]["national_id"] == ZHANG["national_id"]

    problem(world.get("admin", "/accounts/NOPE"), 404, "not-found")
    problem(world.get("admin", "/accounts/NOPE/statements"), 404, "not-found")
    problem(
        world.post("admin", "/accounts/NOPE/promises", {"amount": "1.00", "due_on": "2026-02-01"}),
        404,
        "not-found",
    )
    duplicate = {"id": "A1", "opened_on": "2026-01-05", "credit_limit": "1000.00"}
    problem(world.post("admin", "/accounts", duplicate), 409, "conflict")

    # A second line of the same person shares their borrower; their national id under another name is refused.
    again = world.post("admin", "/accounts", {**duplicate, "id": "A4", "borrower": ZHANG}).json()
    assert again["borrower_id"] == account["borrower"]["id"]
    impostor = {**duplicate, "id": "A5", "borrower": {**LI, "name": "王五"}}
    problem(world.post("admin", "/accounts", impostor), 422, "invalid-input")
    problem(world.get("admin", "/accounts/A5"), 404, "not-found")


def test_each_role_sees_only_what_it_may_and_personal_data_masked(world: World) -> None:
    def ids(role: str) -> list[str]:
        return [a["id"] for a in world.get(role, "/accounts").json()["items"]]

    assert ids("borrower") == ["A1"]
    assert world.get("borrower", "/me").json()["accounts"] == ["A1"]
    assert ids("agency") == ["A2"]
    assert ids("auditor") == ["A1", "A2", "A3"]
    problem(world.get("borrower", "/accounts/A2"), 404, "not-found")
    problem(world.get("agency", "/accounts/A1"), 404, "not-found")
    problem(
        world.post("borrower", "/accounts/A2/repayments", {"amount": "1.00"}, Idempotency_Key="x"),
        404,
        "not-found",
    )

    own = world.get("borrower", "/accounts/A1").json()["borrower"]
    assert own["phone"] == ZHANG["phone"] and own["masked"] is False
    assert world.get("collector", "/accounts/A2").json()["borrower"]["national_id"] == LI["national_id"]
    for role, account in (
        ("agency", "A2"),
        ("auditor", "A2"),
        ("strategist", "A1"),
        ("compliance_officer", "A1"),
    ):
        seen = world.get(role, f"/accounts/{account}").json()["borrower"]
        assert seen["masked"] is True
        assert seen["phone"] in ("139****6666", "138****1234")
        assert seen["national_id"] in ("310101********5678", "110101********1234")
        assert "*" in seen["name"] and seen["address"].endswith("****")
    assert world.get("auditor", "/accounts/A3").json()["borrower"] is None


def test_a_retried_repayment_returns_the_first_answer_and_posts_once(world: World) -> None:
    bought = world.post("admin", "/accounts/A1/purchases", {"amount": "1000.00"}, Idempotency_Key="buy-1")
    assert bought.status_code == 201 and bought.json()["available_credit"] == "4000.00"

    first = world.post("borrower", "/accounts/A1/repayments", {"amount": "100.00"}, Idempotency_Key="pay-1")
    assert first.status_code == 201
    assert first.json()["amount"] == "100.00" and first.json()["outstanding"] == "900.00"
    retry = world.post("borrower", "/accounts/A1/repayments", {"amount": "100.00"}, Idempotency_Key="pay-1")
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert _postings(world, "A1", "repayment") == 1

    changed = world.post("borrower", "/accounts/A1/repayments", {"amount": "200.00"}, Idempotency_Key="pay-1")
    problem(changed, 422, "idempotency-conflict")
    problem(
        world.post("borrower", "/accounts/A1/repayments", {"amount": "1.00"}), 400, "idempotency-key-required"
    )
    # Keys belong to their user: the same key from another user is a request of its own.
    other = world.post("supervisor", "/accounts/A1/repayments", {"amount": "100.00"}, Idempotency_Key="pay-1")
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers
    assert _postings(world, "A1", "repayment") == 2
    assert world.get("admin", "/accounts/A1").json()["snapshot"]["balances"]["outstanding"] == "800.00"

    too_much = world.post("admin", "/accounts/A1/repayments", {"amount": "4000.00"}, Idempotency_Key="pay-2")
    problem(too_much, 409, "repayment-too-large")
    over_limit = world.post("admin", "/accounts/A1/purchases", {"amount": "9000.00"}, Idempotency_Key="buy-2")
    problem(over_limit, 409, "credit-limit-exceeded")
    assert _postings(world, "A1", "repayment") == 2 and _postings(world, "A1", "purchase") == 1


MALFORMED_MONEY: list[Any] = [
    {"amount": 100.5},
    {"amount": 100},
    {"amount": "-1.00"},
    {"amount": "0.00"},
    {"amount": "1.001"},
    {"amount": "1e3"},
    {"amount": None},
    {},
    {"amount": "1.00", "extra": 1},
    {"amount": "1.00", "date": "2026-13-01"},
    ["1.00"],
    "1.00",
]


def test_malformed_requests_are_422_problems_and_change_nothing(world: World) -> None:
    for n, body in enumerate(MALFORMED_MONEY):
        response = world.post("admin", "/accounts/A1/purchases", body, Idempotency_Key=f"bad-{n}")
        answer = problem(response, 422, "validation-failed")
        assert answer["errors"], body
    not_json = world.client.post(
        "/accounts/A1/purchases",
        content=b"{amount: 1",
        headers=world.auth("admin", Idempotency_Key="bad-json", Content_Type="application/json"),
    )
    problem(not_json, 422, "validation-failed")
    # Well-formed, but the rules refuse: a posting dated before the account opened.
    early = world.post(
        "admin", "/accounts/A1/purchases", {"amount": "1.00", "date": "2026-01-01"}, Idempotency_Key="early"
    )
    problem(early, 422, "invalid-date")
    assert _postings(world, "A1", "purchase") == 0

    base = {"id": "B1", "opened_on": "2026-01-05", "credit_limit": "1000.00"}
    for body, code in (
        ({**base, "borrower": {**ZHANG, "phone": "12345"}}, "validation-failed"),
        ({**base, "borrower": {**ZHANG, "national_id": "11010119900101123"}}, "validation-failed"),
        ({**base, "id": "has space"}, "validation-failed"),
        ({**base, "timezone": "Mars/Olympus"}, "invalid-input"),
        ({**base, "product": "nope"}, "invalid-terms"),
        ({**base, "credit_limit": "1000000.00"}, "invalid-terms"),
    ):
        problem(world.post("admin", "/accounts", body), 422, code)
    problem(world.get("admin", "/accounts/B1"), 404, "not-found")
    for query in ("limit=0", "limit=101", "limit=x", "cursor=%25%25%25"):
        problem(
            world.get("admin", f"/accounts?{query}"),
            422,
            "validation-failed" if "limit" in query else "invalid-input",
        )
    problem(world.client.delete("/accounts/A1", headers=world.auth("admin")), 405, "method-not-allowed")


def test_statements_after_the_end_of_day(world: World) -> None:
    world.post("borrower", "/accounts/A1/purchases", {"amount": "1000.00"}, Idempotency_Key="buy")
    run_eod(world.engine, date(2026, 2, 1))
    statements = world.get("borrower", "/accounts/A1/statements").json()["items"]
    assert statements == [
        {
            "id": "A1/2026-02-01",
            "date": "2026-02-01",
            "due_date": "2026-02-09",
            "amount": "1000.00",
            "minimum": "100.00",
            "paid": "0.00",
            "unpaid": "1000.00",
            "installed": False,
            "closed_on": None,
        }
    ]
    # Nothing was bought on A2, so nothing was billed; its agency may read that, the borrower may not.
    assert world.get("agency", "/accounts/A2/statements").json() == {"items": []}
    problem(world.get("borrower", "/accounts/A2/statements"), 404, "not-found")


def test_a_purchase_in_installments_keeps_idempotency_and_names_refusing_rules(world: World) -> None:
    body = {"amount": "1250.00", "installments": 6}
    bought = world.post("borrower", "/accounts/A1/purchases", body, Idempotency_Key="plan-1")
    assert bought.status_code == 201, bought.text
    plan = bought.json()["installments"]
    assert plan["plan"] == "A1/2026-01-05/purchase-1" and plan["annual_rate"] == "0.1527"
    assert [p["principal"] for p in plan["schedule"]] == ["208.35"] + ["208.33"] * 5
    assert bought.json()["available_credit"] == "3750.00"
    retry = world.post("borrower", "/accounts/A1/purchases", body, Idempotency_Key="plan-1")
    assert retry.json() == bought.json() and retry.headers["idempotent-replayed"] == "true"
    changed = {**body, "installments": 3}
    problem(
        world.post("borrower", "/accounts/A1/purchases", changed, Idempotency_Key="plan-1"),
        422,
        "idempotency-conflict",
    )
    assert _postings(world, "A1", "purchase") == 1

    refused = problem(
        world.post(
            "borrower", "/accounts/A1/purchases", {**body, "installments": 5}, Idempotency_Key="plan-2"
        ),
        409,
        "installments-refused",
    )
    assert refused["rule"] == "purchase_installments.periods_not_offered"
    for bad in ("6", 6.0, True):
        malformed = {**body, "installments": bad}
        problem(
            world.post("borrower", "/accounts/A1/purchases", malformed, Idempotency_Key="plan-3"),
            422,
            "validation-failed",
        )
    # Repayments take no installments.
    problem(
        world.post("borrower", "/accounts/A1/repayments", body, Idempotency_Key="plan-4"),
        422,
        "validation-failed",
    )
    assert _postings(world, "A1", "purchase") == 1
