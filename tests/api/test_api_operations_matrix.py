"""Every operations endpoint as every role (2xx where PERMISSIONS allows, 403 where it does not), what each
role may see of another's work (404), and bad input: problem+json, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from api_world import OPENED, World, problem

from overdue.api import users
from overdue.api.deps import PERMISSIONS
from overdue.engine.reference import run_eod
from overdue.services import accounts, collections, operations
from overdue.store import collections_repository
from overdue.store.api_tables import ROLES

DAY = OPENED.isoformat()
FIELD_CLOSERS = sorted(PERMISSIONS["field.close"])
LEGAL_OPENERS = sorted(PERMISSIONS["legal.open"])


def _queue_field_visit(world: World, account_id: str) -> None:
    """An open ``field`` work item for the account, as the end-of-day queues it."""
    with world.engine.begin() as conn:
        action = {
            "account_id": account_id,
            "business_date": OPENED,
            "treatment": "field_visit",
            "type": "field_visit",
            "stage": "field",
            "template": None,
            "party": "debtor",
            "priority": 10,
            "experiment": None,
            "variant": None,
            "status": "queued",
            "refused_rule": None,
            "reason": "queued for the test",
        }
        action_id = collections_repository.record_action(conn, action)
        item = {"action_id": action_id, "account_id": account_id, "queue": "field", "business_date": OPENED}
        collections_repository.queue_work(conn, {**item, "priority": 10})


def _set_up(world: World) -> dict[str, Any]:
    """Work for every endpoint: collectors, a case allocated to the collector, a field order per role that
    may close one, accounts for legal cases, and an account with a balance to sell."""
    engine = world.engine
    alloc = operations.allocation
    for collector in ("user-collector", "c-admin", "c-supervisor"):
        alloc.add_collector(engine, collector, collector, daily_cap=20)
    for agent in ("user-field_agent", "f2"):
        alloc.add_collector(engine, agent, agent, kind="field_agent")
    zhang = world.get("admin", "/accounts/A1").json()["borrower"]["id"]
    alloc.reassign(engine, zhang, OPENED, "user-collector", by="sup", reason="the collector's case")
    orders = {}
    for role in FIELD_CLOSERS:
        accounts.open_account(engine, f"F-{role}", OPENED, 500_000)
        _queue_field_visit(world, f"F-{role}")
    for route in operations.field.plan_day(engine, OPENED)["routes"]:
        for order in route["orders"]:
            orders[order["case"].removeprefix("account:F-")] = order["order"]
    for role in LEGAL_OPENERS:
        accounts.open_account(engine, f"L-{role}", OPENED, 500_000)
    accounts.open_account(engine, "S-1", OPENED, 500_000)
    accounts.purchase(engine, "S-1", 80_000)
    legal = operations.legal.open_case(engine, "A3", OPENED)["legal_case"]
    return {"case": zhang, "orders": orders, "legal": legal}


def _calls(world: World, setup: dict[str, Any]) -> dict[str, tuple[str, str, Callable[[str, int], Any]]]:
    """Permission → (method, path as OpenAPI writes it, a valid request by a role)."""

    def get(path: str) -> Callable[[str, int], Any]:
        return lambda role, n: world.get(role, path)

    def post(path: str, body: Any, key: bool = False) -> Callable[[str, int], Any]:
        headers = {"Idempotency_Key": "m"} if key else {}
        return lambda role, n: world.post(role, path, body, **{k: f"{v}-{n}" for k, v in headers.items()})

    visit = {"at": f"{DAY}T10:00:00", "outcome": "no_answer", "recording_ref": "REC-1"}
    sale = {"sale": "SALE-1", "buyer": "买方", "min_balance": "100.00"}
    forwarded = {"account_id": "S-1", "amount": "10.00", "reference": "BANK-1"}
    return {
        "cases.read": ("get", "/cases/{case_id}", get(f"/cases/{setup['case']}")),
        "queues.read": ("get", "/queues/{queue}", get("/queues/M1")),
        "collectors.read": ("get", "/collectors", get("/collectors")),
        "allocation.run": ("post", "/allocation/run", post("/allocation/run", {"date": DAY})),
        "cases.reassign": (
            "post",
            "/cases/{case_id}/reassign",
            lambda role, n: world.post(
                role, "/cases/account:A3/reassign", {"to": f"c-{role}", "reason": "r"}
            ),
        ),
        "absences.create": (
            "post",
            "/collectors/{collector_id}/absences",
            post("/collectors/c-admin/absences", {"date": "2026-01-06"}),
        ),
        "field.read": ("get", "/field/orders", get("/field/orders")),
        "field.plan": ("post", "/field/routes", post("/field/routes", {"date": DAY})),
        "field.close": (
            "post",
            "/field/orders/{order_id}/close",
            lambda role, n: world.post(
                role, f"/field/orders/{setup['orders'].get(role, 'FO-x')}/close", visit
            ),
        ),
        "legal.read": ("get", "/legal/{legal_id}", get(f"/legal/{setup['legal']}")),
        "legal.open": (
            "post",
            "/accounts/{account_id}/legal",
            lambda role, n: world.post(role, f"/accounts/L-{role}/legal", {}),
        ),
        "legal.advance": (
            "post",
            "/legal/{legal_id}/steps",
            post(f"/legal/{setup['legal']}/steps", {"step": "acknowledgement"}),
        ),
        "agencies.read": ("get", "/agencies/{agency_id}/placement-file", get("/agencies/AG1/placement-file")),
        "placements.create": (
            "post",
            "/agencies/{agency_id}/placements",
            post("/agencies/AG1/placements", {}),
        ),
        "placements.recall": ("post", "/agencies/{agency_id}/recall", post("/agencies/AG1/recall", {})),
        "agency_results.import": (
            "post",
            "/agencies/{agency_id}/results",
            post("/agencies/AG1/results", [], True),
        ),
        "sales.select": ("post", "/sales/select", post("/sales/select", sale, True)),
        "sales.read": (
            "get",
            "/sales/{sale_id}/transfer-file",
            get("/sales/SALE-1/transfer-file?format=csv"),
        ),
        "sales.mark_sold": ("post", "/sales/{sale_id}/mark-sold", post("/sales/SALE-1/mark-sold", {}, True)),
        "sales.forward": ("post", "/sales/payments", post("/sales/payments", forwarded, True)),
    }


# Endpoints that share a permission with one in the table above, tried as every role too.
ALSO: list[tuple[str, str, str, str]] = [
    ("cases.read", "get", "/cases", "/cases"),
    ("field.read", "get", "/field/routes", f"/field/routes?on={DAY}"),
    ("agencies.read", "get", "/agencies", "/agencies"),
    ("agencies.read", "get", "/agencies/{agency_id}/commission", "/agencies/AG1/commission"),
    ("sales.read", "get", "/sales/{sale_id}", "/sales/SALE-1"),
]
AREAS = ("cases", "queues", "collectors", "allocation", "absences", "field", "legal", "agencies")
AREAS += ("placements", "agency_results", "sales")
"""The permission areas of the operations endpoints."""
OPERATIONS_PREFIXES = (
    "/cases",
    "/queues",
    "/allocation",
    "/collectors",
    "/field",
    "/legal",
    "/agencies",
    "/sales",
)


def test_role_matrix_every_operations_endpoint_as_every_role(sqlite_world: World) -> None:
    """Each role gets 403 exactly where the permission table says so, and a 2xx everywhere else. Roles are
    checked before any query, so one database is enough (visibility is tested on both)."""
    world = sqlite_world
    calls = _calls(world, _set_up(world))
    assert set(calls) == {p for p in PERMISSIONS if p.split(".")[0] in AREAS}
    n = 0
    for permission in calls:  # in table order: the sale is selected, read, then marked sold, last
        _, _, call = calls[permission]
        for role in ROLES:
            n += 1
            response = call(role, n)
            if role in PERMISSIONS[permission]:
                assert 200 <= response.status_code < 300, (permission, role, response.json())
            else:
                problem(response, 403, "forbidden")
    for permission, _, _, path in ALSO:
        for role in ROLES:
            response = world.get(role, path)
            if role in PERMISSIONS[permission]:
                assert response.status_code == 200, (path, role, response.json())
            else:
                problem(response, 403, "forbidden")

    # Every operations path of the OpenAPI document is in the matrix.
    spec = world.client.get("/openapi.json").json()["paths"]
    served = {
        (method, path.replace("{legal_id:path}", "{legal_id}"))
        for path, methods in spec.items()
        if path.startswith(OPERATIONS_PREFIXES) or path == "/accounts/{account_id}/legal"
        for method in methods
    }
    tried = {(m, p) for m, p, _ in calls.values()} | {(m, p) for _, m, p, _ in ALSO}
    assert served == tried


def test_who_sees_whose_work(sqlite_world: World) -> None:
    world = sqlite_world
    setup = _set_up(world)
    # A collector: only the cases allocated to them that day.
    assert [c["case"] for c in world.get("collector", f"/cases?on={DAY}&score=false").json()["items"]] == [
        setup["case"]
    ]
    problem(world.get("collector", "/cases/account:A3"), 404, "not-found")
    assert world.get("collector", "/cases?on=2026-01-06").json()["items"] == []
    # A field agent: only their team's orders; another field agent sees none of them.
    other = users.add_user(world.engine, "fa-other", "field_agent").token
    headers = {"Authorization": f"Bearer {other}"}
    assert len(world.get("field_agent", "/field/orders").json()["items"]) == len(setup["orders"])
    assert world.client.get("/field/orders", headers=headers).json()["items"] == []
    assert world.client.get(f"/field/routes?on={DAY}", headers=headers).json()["routes"] == []
    order = setup["orders"]["admin"]
    visit = {"at": f"{DAY}T10:00:00", "outcome": "no_answer", "recording_ref": "REC-1"}
    problem(world.client.post(f"/field/orders/{order}/close", json=visit, headers=headers), 404, "not-found")
    # An agency user: only their agency.
    collections.add_agency(world.engine, "AG2", "第二催收公司", datetime(2026, 1, 1, tzinfo=UTC))
    for path in ("/agencies/AG2/placement-file", "/agencies/AG2/commission"):
        problem(world.get("agency", path), 404, "not-found")
    problem(world.post("agency", "/agencies/AG2/results", [], Idempotency_Key="k"), 404, "not-found")
    assert world.get("supervisor", "/agencies/AG2/commission").status_code == 200


BAD_ROWS: list[Any] = [
    {"ref": "R1", "account_id": "A2", "type": "payment", "date": "2026-01-05", "amount": 100.5},
    {"ref": "R2", "account_id": "A2", "type": "payment", "date": "2026-13-01", "amount": "1.00"},
    {"ref": "R3" * 100, "account_id": "A2", "type": "payment", "date": "2026-01-05", "amount": "1.00"},
    {"ref": "R4\x00", "account_id": "A2", "type": "payment", "date": "2026-01-05", "amount": "1.00"},
    {"ref": "R5", "account_id": {"nested": 1}, "type": "payment", "date": "2026-01-05", "amount": "1.00"},
    {"ref": "R6", "account_id": "A2", "type": "contact", "at": "0001-01-01T00:00:00", "channel": "voice"},
    {
        "ref": "R7",
        "account_id": "A2",
        "type": "contact",
        "at": "9999-12-31T23:59:59+00:00",
        "channel": "voice",
        "party": "debtor",
        "outcome": "no_answer",
    },
    {"ref": "R8", "account_id": "N" * 500, "type": "payment", "date": "2026-01-05", "amount": "1.00"},
    {"ref": "R9", "account_id": "A2", "type": "refund", "date": "2026-01-05", "amount": "1.00"},
    {"ref": None, "account_id": None, "type": None},
    {},
]


def test_bad_input_is_a_problem_never_a_500(world: World) -> None:
    report = world.post("agency", "/agencies/AG1/results", {"rows": BAD_ROWS}, Idempotency_Key="bad")
    assert report.status_code == 200, report.text
    assert report.json()["accepted"] == []
    assert [r["row"] for r in report.json()["rejected"]] == list(range(1, len(BAD_ROWS) + 1))
    for n, (content, kind) in enumerate(
        (
            (b"{not json", "application/json"),
            (b"42", "application/json"),
            (b'{"rows": "x"}', "application/json"),
            (b"[1, 2]", "application/json"),
            (b"\xff\xfe", "text/csv"),
            (b"ref\n1", "text/plain"),
        )
    ):
        response = world.client.post(
            "/agencies/AG1/results",
            content=content,
            headers=world.auth("agency", Idempotency_Key=f"bad-{n}", Content_Type=kind),
        )
        problem(response, 422, "invalid-input")
    garbage = world.client.post(
        "/agencies/AG1/results",
        content=b'ref,account_id\n"unterminated,A2\nx,y,z,w\n',
        headers=world.auth("agency", Idempotency_Key="csv-garbage", Content_Type="text/csv"),
    )
    assert garbage.status_code == 200 and garbage.json()["accepted"] == []

    for path in (
        "/cases/NOPE",
        "/queues/M9",
        "/legal/NOPE",
        "/legal/A1/legal/9",
        "/agencies/NOPE/placement-file",
        "/agencies/NOPE/commission",
        "/sales/NOPE",
        "/sales/NOPE/transfer-file",
    ):
        problem(world.get("admin", path), 404, "not-found")
    visit = {"at": f"{DAY}T10:00:00", "outcome": "no_answer", "recording_ref": "REC-1"}
    for path, body in (
        ("/field/orders/FO-NOPE/close", visit),
        ("/legal/NOPE/steps", {"step": "filing"}),
        ("/accounts/NOPE/legal", {}),
        ("/agencies/NOPE/placements", {}),
        ("/agencies/NOPE/recall", {}),
        ("/collectors/NOPE/absences", {"date": DAY}),
        ("/cases/NOPE/reassign", {"to": "NOPE", "reason": "r"}),
    ):
        problem(world.post("admin", path, body), 404, "not-found")
    problem(world.post("admin", "/sales/NOPE/mark-sold", {}, Idempotency_Key="x"), 404, "not-found")
    problem(world.post("admin", "/agencies/NOPE/results", [], Idempotency_Key="y"), 404, "not-found")

    for path, body in (
        ("/allocation/run", {"date": "2026-02-30"}),
        ("/allocation/run", {"when": DAY}),
        ("/cases/account:A3/reassign", {"to": "c1"}),
        ("/field/routes", {"team_size": 1}),
        ("/field/orders/FO-1/close", {**visit, "recording_ref": ""}),
        ("/field/orders/FO-1/close", {**visit, "at": "9999-12-31T23:59:59+00:00"}),
        ("/accounts/A1/legal", {"cost": 500}),
        ("/accounts/A1/legal", {"cost": "-1.00"}),
        ("/legal/A1/legal/1/steps", {}),
        ("/agencies/AG1/placements", {"min_balance": 5}),
        ("/agencies/AG1/placements", {"term_days": 0}),
        ("/sales/select", {"sale": "S", "buyer": "B", "max_balance": "1.001"}),
    ):
        problem(world.post("admin", path, body, Idempotency_Key="z"), 422, "validation-failed")
    for path in ("/cases?cursor=%25%25", "/queues/M1?cursor=bm9wZQ", "/field/orders?cursor=%25"):
        problem(world.get("admin", path), 422, "invalid-input")
    for path in ("/cases?limit=0", "/field/orders?status=lost", "/sales/S/transfer-file?format=xml"):
        problem(world.get("admin", path), 422, "validation-failed")
    problem(world.post("admin", "/accounts/A1/legal", {"date": "2026-01-01"}), 422, "invalid-date")
    problem(world.post("admin", "/legal/A1/legal/1/steps", {"step": "flying"}), 404, "not-found")
    whitelist = world.post("admin", "/agencies/AG1/placements", {"date": "2027-06-01"})
    problem(whitelist, 409, "refused")


@pytest.mark.parametrize("limit", [1, 2])
def test_cases_page_by_page(sqlite_world: World, limit: int) -> None:
    world = sqlite_world
    for account_id in ("A1", "A2", "A3"):
        world.post(
            "admin", f"/accounts/{account_id}/purchases", {"amount": "100.00"}, Idempotency_Key=account_id
        )
    run_eod(world.engine, date(2026, 2, 1))  # a statement each: all three cases are pre-due
    everything = world.get("admin", "/cases?score=false&limit=100").json()
    assert len(everything["items"]) == 3 and everything["next_cursor"] is None
    seen: list[str] = []
    cursor = None
    while True:
        query = f"/cases?score=false&limit={limit}" + ("" if cursor is None else f"&cursor={cursor}")
        page = world.get("admin", query).json()
        assert len(page["items"]) <= limit
        seen += [c["case"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["case"] for c in everything["items"]]
