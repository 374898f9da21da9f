"""Relief over HTTP, on SQLite and PostgreSQL: quote → accept → track, idempotent acceptance and approval,
maker-checker with the approver's level taken from their role, agreements as PDF and HTML, and the request
clock flagged to supervisors. Every refusal is a problem naming its rule."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from api_world import World, problem
from sqlalchemy import Engine, func, select

from overdue.api import users
from overdue.api.deps import PERMISSIONS
from overdue.engine.reference import run_eod
from overdue.services import relief, relief_requests
from overdue.services.relief import ReliefRequest
from overdue.store.api_tables import audit_log
from overdue.store.relief_tables import relief_arrangements
from overdue.store.roles import ROLES
from overdue.store.schema import ledger_transactions


def overdue(world: World, through: date) -> None:
    """A1 (the borrower's) buys 1,000.00 and A3 5,000.00 on their opening day, 5 January; nothing is repaid;
    end-of-day runs through ``through`` (the statement of 1 February is due on 9 February)."""
    bought = world.post("borrower", "/accounts/A1/purchases", {"amount": "1000.00"}, Idempotency_Key="buy-a1")
    assert bought.status_code == 201, bought.json()
    bought = world.post("admin", "/accounts/A3/purchases", {"amount": "5000.00"}, Idempotency_Key="buy-a3")
    assert bought.status_code == 201, bought.json()
    run_eod(world.engine, through)


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def audit_rows(engine: Engine, entity: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.record, audit_log.c.detail)
            .where(audit_log.c.entity == entity)
            .order_by(audit_log.c.seq)
        ).all()
    return [(r.actor, r.action, r.record, json.loads(r.detail)) for r in rows]


def test_a_plan_from_quote_to_agreement(world: World) -> None:
    overdue(world, date(2026, 2, 12))
    terms = {"kind": "plan", "periods": 6}
    quoted = world.post("borrower", "/accounts/A1/relief/quotes", terms)
    assert quoted.status_code == 200, quoted.json()
    quote = quoted.json()
    assert quote["kind"] == "plan" and quote["fingerprint"] and "annual_rate" in quote
    assert len([p for p in quote["payments"] if p["number"] > 0]) == 6

    accepted = world.post(
        "borrower",
        "/accounts/A1/relief/accept",
        {**terms, "fingerprint": quote["fingerprint"]},
        Idempotency_Key="p",
    )
    assert accepted.status_code == 201, accepted.json()
    plan_id = accepted.json()["id"]
    assert accepted.json()["status"] == "active"  # it forgives nothing, so it needs no approval
    assert accepted.json()["arrangement"]["maker"] == "user-borrower"  # the maker is the user, not the body

    listed = world.get("auditor", "/accounts/A1/relief").json()
    assert listed["plan"]["kind"] == "plan" and listed["plan"]["status"] == "active"
    assert (
        listed["plan"]["next_due"]
        and listed["plan"]["remaining"] == accepted.json()["arrangement"]["remaining"]
    )
    assert [a["id"] for a in listed["arrangements"]] == [plan_id]

    pdf = world.client.get(
        f"/accounts/A1/relief/agreements/{plan_id}", params={"format": "pdf"}, headers=world.auth("borrower")
    )
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    html = world.client.get(
        f"/accounts/A1/relief/agreements/{plan_id}",
        params={"format": "html", "lang": "en"},
        headers=world.auth("compliance_officer"),
    )
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<html" in html.text.lower() and plan_id in html.text
    problem(
        world.client.get(f"/accounts/A1/relief/agreements/{plan_id}?format=doc", headers=world.auth("admin")),
        422,
        "validation-failed",
    )
    problem(world.get("admin", "/accounts/A1/relief/agreements/A1/plan/2026-01-01/9"), 404, "not-found")

    # A borrower sees only their own accounts: another's is unknown, not forbidden.
    for response in (
        world.get("borrower", "/accounts/A2/relief"),
        world.post("borrower", "/accounts/A2/relief/quotes", terms),
        world.post(
            "borrower", "/accounts/A2/relief/accept", {**terms, "fingerprint": "x"}, Idempotency_Key="other"
        ),
        world.post("borrower", "/accounts/A2/relief/requests", {"kind": "plan"}),
        world.get("borrower", f"/accounts/A2/relief/agreements/{plan_id}"),
    ):
        problem(response, 404, "not-found")
    refused = problem(world.post("auditor", "/accounts/A1/relief/quotes", terms), 403, "forbidden")
    assert refused["rule"] == "relief.quote"
    assert [(actor, action, record) for actor, action, record, _ in audit_rows(world.engine, "relief")] == [
        ("user-borrower", "create", "A1"),
        ("user-auditor", "read", "A1"),
    ]


def test_a_stale_quote_is_refused_and_an_accepted_one_replays_without_posting_twice(world: World) -> None:
    overdue(world, date(2026, 2, 12))
    terms = {"kind": "plan", "periods": 6, "waive_interest": True}
    stale = world.post("collector", "/accounts/A1/relief/quotes", terms).json()["fingerprint"]
    repaid = world.post("borrower", "/accounts/A1/repayments", {"amount": "1.00"}, Idempotency_Key="r")
    assert repaid.status_code == 201
    refused = world.post(
        "collector", "/accounts/A1/relief/accept", {**terms, "fingerprint": stale}, Idempotency_Key="k1"
    )
    assert problem(refused, 409, "stale-quote")["rule"] == "relief.quote.stale"
    assert count(world.engine, relief_arrangements) == 0

    fresh = world.post("collector", "/accounts/A1/relief/quotes", terms).json()["fingerprint"]
    body = {**terms, "fingerprint": fresh}
    problem(world.post("collector", "/accounts/A1/relief/accept", body), 400, "idempotency-key-required")
    first = world.post("collector", "/accounts/A1/relief/accept", body, Idempotency_Key="k2")
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "pending_approval"  # it sets interest aside
    posted = count(world.engine, ledger_transactions)
    again = world.post("collector", "/accounts/A1/relief/accept", body, Idempotency_Key="k2")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(world.engine, relief_arrangements) == 1
    assert count(world.engine, ledger_transactions) == posted
    other = world.post(
        "collector", "/accounts/A1/relief/accept", {**body, "periods": 12}, Idempotency_Key="k2"
    )
    problem(other, 422, "idempotency-conflict")
    assert [r[1] for r in audit_rows(world.engine, "relief")].count("create") == 1
    assert ("user-collector", "refused", "A1") in [r[:3] for r in audit_rows(world.engine, "relief")]

    # The plan waits for a checker; the maker may not approve it.
    plan_id = first.json()["id"]
    own = world.post("collector", f"/relief/{plan_id}/approve", None, Idempotency_Key="ap0")
    assert problem(own, 409, "relief-refused")["rule"] == "relief.approval.same_user"
    approved = world.post("supervisor", f"/relief/{plan_id}/approve", None, Idempotency_Key="ap1")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "active"
    assert approved.json()["arrangement"]["approver"] == "user-supervisor"
    assert approved.json()["arrangement"]["approver_role"] == "supervisor"


def test_bill_installments_quote_their_annual_rate_and_a_reused_key_with_other_terms_is_refused(
    world: World,
) -> None:
    overdue(world, date(2026, 2, 3))
    terms = {"kind": "installments", "statement": "2026-02-01", "periods": 12}
    quote = world.post("borrower", "/accounts/A1/relief/quotes", terms).json()
    assert abs(float(quote["annual_rate"]) - 0.159) < 0.002  # a test tolerance, not money
    body = {**terms, "fingerprint": quote["fingerprint"]}
    first = world.post("borrower", "/accounts/A1/relief/accept", body, Idempotency_Key="i1")
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "accepted"
    posted = count(world.engine, ledger_transactions)
    again = world.post("borrower", "/accounts/A1/relief/accept", body, Idempotency_Key="i1")
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert count(world.engine, ledger_transactions) == posted
    statement = world.get("borrower", "/accounts/A1/statements").json()["items"][0]
    assert (statement["date"], statement["installed"]) == ("2026-02-01", True)
    other = world.post("borrower", "/accounts/A1/relief/accept", {**body, "periods": 6}, Idempotency_Key="i1")
    problem(other, 422, "idempotency-conflict")
    ineligible = world.post(
        "borrower",
        "/accounts/A1/relief/quotes",
        {"kind": "settlement", "amount": "500.00", "pay_by": "2026-02-20"},
    )
    assert problem(ineligible, 409, "relief-refused")["rule"].startswith("relief.settlement.")
    missing = world.post(
        "borrower", "/accounts/A1/relief/quotes", {"kind": "deferral", "statement": "2026-02-01"}
    )
    problem(missing, 422, "invalid-input")
    problem(world.post("borrower", "/accounts/A1/relief/quotes", {"kind": "nap"}), 422, "validation-failed")
    problem(
        world.post("borrower", "/accounts/A1/relief/quotes", {"kind": "waiver", "interest": 1.5}),
        422,
        "validation-failed",
    )


def test_a_waiver_needs_a_checker_whose_role_covers_it(world: World) -> None:
    # A4: 30,000.00 bought on 5 January, overdue since 9 February at 15.00 of interest a day.
    opened = world.post(
        "admin", "/accounts", {"id": "A4", "opened_on": "2026-01-05", "credit_limit": "50000.00"}
    )
    assert opened.status_code == 201, opened.json()
    world.post("admin", "/accounts/A4/purchases", {"amount": "30000.00"}, Idempotency_Key="buy-a4")
    run_eod(world.engine, date(2026, 2, 28))
    for name in ("collector-2", "collector-3"):  # other collectors: not the maker
        world.tokens[name] = users.add_user(world.engine, name, "collector").token
    terms = {"kind": "waiver", "interest": "210.00", "reason": "hospital stay"}
    quote = world.post("collector", "/accounts/A4/relief/quotes", terms).json()
    assert quote["waived"] == "210.00"
    asked = world.post(
        "collector",
        "/accounts/A4/relief/accept",
        {**terms, "fingerprint": quote["fingerprint"]},
        Idempotency_Key="w",
    )
    assert asked.status_code == 201, asked.json()
    assert asked.json()["status"] == "requested"
    waiver = asked.json()["id"]

    own = world.post("collector", f"/relief/{waiver}/approve", None, Idempotency_Key="a0")
    assert problem(own, 409, "relief-refused")["rule"] == "relief.approval.same_user"
    above = world.post("collector-2", f"/relief/{waiver}/approve", None, Idempotency_Key="a1")
    assert problem(above, 409, "relief-refused")["rule"] == "relief.approval.over_authority"
    for role in ("borrower", "compliance_officer", "auditor", "agency"):
        assert problem(world.post(role, f"/relief/{waiver}/approve", None), 403, "forbidden")["rule"] == (
            "relief.approve"
        )
    problem(world.post("supervisor", f"/relief/{waiver}/approve", None), 400, "idempotency-key-required")
    problem(
        world.post("supervisor", "/relief/A4/waiver/2026-03-01/9/approve", None, Idempotency_Key="x"),
        404,
        "not-found",
    )

    approved = world.post(
        "supervisor", f"/relief/{waiver}/approve", {"date": "2026-03-01"}, Idempotency_Key="a2"
    )
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert (approved.json()["approver"], approved.json()["role"]) == ("user-supervisor", "supervisor")
    assert approved.json()["waived"] == {"interest": "210.00", "fees": "0.00"}
    posted = count(world.engine, ledger_transactions)
    replay = world.post(
        "supervisor", f"/relief/{waiver}/approve", {"date": "2026-03-01"}, Idempotency_Key="a2"
    )
    assert replay.json() == approved.json() and replay.headers["Idempotent-Replayed"] == "true"
    assert count(world.engine, ledger_transactions) == posted
    done = world.post("admin", f"/relief/{waiver}/approve", None, Idempotency_Key="a3")
    assert problem(done, 409, "relief-refused")["rule"] == "relief.approval.not_pending"

    # Within the agent level, a collector approves another's waiver.
    small = {"kind": "waiver", "interest": "2.00"}
    quote = world.post("supervisor", "/accounts/A4/relief/quotes", small).json()
    asked = world.post(
        "supervisor",
        "/accounts/A4/relief/accept",
        {**small, "fingerprint": quote["fingerprint"]},
        Idempotency_Key="w2",
    )
    by_collector = world.post(
        "collector-3", f"/relief/{asked.json()['id']}/approve", None, Idempotency_Key="a4"
    )
    assert by_collector.status_code == 200, by_collector.json()
    assert (by_collector.json()["approver"], by_collector.json()["role"]) == ("collector-3", "agent")

    waivers = world.get("compliance_officer", "/accounts/A4/relief").json()["waivers"]
    assert [(w["status"], w["maker"], w["approver"], w["approver_role"]) for w in waivers] == [
        ("approved", "user-collector", "user-supervisor", "supervisor"),
        ("approved", "user-supervisor", "collector-3", "agent"),
    ]
    approvals = audit_rows(world.engine, "relief_approval")
    assert [(actor, action) for actor, action, _, _ in approvals] == [
        ("user-collector", "refused"),
        ("collector-2", "refused"),
        ("user-supervisor", "update"),
        ("root", "refused"),
        ("collector-3", "update"),
    ]
    assert approvals[1][3] == {"rule": "relief.approval.over_authority"}


def test_requests_past_their_deadline_are_flagged_to_supervisors(world: World) -> None:
    made = world.post(
        "borrower",
        "/accounts/A1/relief/requests",
        {"kind": "plan", "channel": "phone", "note": "lost my job"},
    )
    assert made.status_code == 201, made.json()
    request = made.json()
    assert (request["requested_by"], request["party"], request["channel"]) == (
        "user-borrower",
        "borrower",
        "phone",
    )
    assert (request["requested_on"], request["deadline"]) == ("2026-01-05", "2026-01-14")
    by_collector = world.post(
        "collector", "/accounts/A3/relief/requests", {"kind": "waiver", "date": "2026-01-12"}
    )
    assert by_collector.json()["party"] == "collector"

    flagged = world.get("supervisor", "/relief/requests/overdue?on=2026-01-15")
    assert flagged.status_code == 200
    assert [(r["id"], r["days_overdue"]) for r in flagged.json()["overdue"]] == [(request["id"], 1)]
    assert world.get("admin", "/relief/requests/overdue?on=2026-01-14").json()["overdue"] == []
    assert problem(world.get("collector", "/relief/requests/overdue"), 403, "forbidden")["rule"] == (
        "relief.requests.overdue"
    )
    problem(world.get("supervisor", "/relief/requests/overdue?on=someday"), 422, "validation-failed")
    assert [r["id"] for r in world.get("borrower", "/accounts/A1/relief").json()["requests"]] == [
        request["id"]
    ]

    refusal = {"status": "refused", "date": "2026-01-16"}
    no_reason = world.post("collector", f"/relief/requests/{request['id']}/answer", refusal)
    assert problem(no_reason, 409, "relief-refused")["rule"].startswith("relief.request.")
    answered = world.post(
        "collector", f"/relief/requests/{request['id']}/answer", {**refusal, "reason": "income unverified"}
    )
    assert answered.status_code == 200, answered.json()
    assert (answered.json()["status"], answered.json()["answered_by"], answered.json()["answered_late"]) == (
        "refused",
        "user-collector",
        True,
    )
    assert world.get("supervisor", "/relief/requests/overdue?on=2026-01-16").json()["overdue"] == []
    again = world.post("supervisor", f"/relief/requests/{request['id']}/answer", {"status": "withdrawn"})
    assert problem(again, 409, "relief-refused")["rule"].startswith("relief.request.")
    problem(
        world.post("borrower", f"/relief/requests/{request['id']}/answer", {"status": "withdrawn"}),
        403,
        "forbidden",
    )
    problem(
        world.post("admin", "/relief/requests/A1/request/2026-01-05/9/answer", {"status": "withdrawn"}),
        404,
        "not-found",
    )
    assert [(r[1], r[2]) for r in audit_rows(world.engine, "relief_request")] == [
        ("create", request["id"]),
        ("create", by_collector.json()["id"]),
        ("update", request["id"]),
    ]


def _matrix_call(world: World, permission: str, role: str, n: int) -> Any:
    """A valid request for ``permission`` by ``role`` on an account it can see (A1 for the borrower)."""
    account = "A1" if role == "borrower" else "A3"
    base = f"/accounts/{account}/relief"
    key = {"Idempotency_Key": f"relief-matrix-{n}"}
    waiver = {"kind": "waiver", "interest": "0.10"}

    def accept() -> Any:
        quote = world.post("admin", f"{base}/quotes", waiver).json()
        return world.post(role, f"{base}/accept", {**waiver, "fingerprint": quote["fingerprint"]}, **key)

    def approve() -> Any:
        quote = relief.quote(world.engine, account, ReliefRequest("waiver", interest=10))
        asked = relief.accept(
            world.engine, account, ReliefRequest("waiver", interest=10), quote["fingerprint"], maker="m"
        )
        return world.post(role, f"/relief/{asked['id']}/approve", None, **key)

    def answer() -> Any:
        asked = relief_requests.record_request(world.engine, account, "plan", "someone")
        return world.post(role, f"/relief/requests/{asked['id']}/answer", {"status": "approved"})

    calls = {
        "relief.read": lambda: world.get(role, base),
        "relief.quote": lambda: world.post(role, f"{base}/quotes", waiver),
        "relief.accept": accept,
        "relief.approve": approve,
        "relief.requests.create": lambda: world.post(role, f"{base}/requests", {"kind": "plan"}),
        "relief.requests.answer": answer,
        "relief.requests.overdue": lambda: world.get(role, "/relief/requests/overdue"),
    }
    return calls[permission]()


def test_relief_role_matrix_every_endpoint_as_every_role(sqlite_world: World) -> None:
    """Each role gets 403 naming the permission exactly where the permission table says so, and a success
    everywhere else (roles are checked before any query, so one database is enough)."""
    world = sqlite_world
    overdue(world, date(2026, 2, 20))
    relief_permissions = [p for p in PERMISSIONS if p.startswith("relief.")]
    assert len(relief_permissions) == 7
    n = 0
    for permission in relief_permissions:
        for role in ROLES:
            n += 1
            response = _matrix_call(world, permission, role, n)
            if role in PERMISSIONS[permission]:
                assert response.status_code in (200, 201), (permission, role, response.json())
            else:
                assert problem(response, 403, "forbidden")["rule"] == permission, (permission, role)
    agreement = world.get("agency", "/accounts/A2/relief/agreements/A2/plan/2026-02-21/1")
    assert problem(agreement, 403, "forbidden")["rule"] == "relief.read"
