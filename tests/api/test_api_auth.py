"""Authentication (401), roles (403) on every endpoint for every role, login, tokens, OpenAPI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api_world import World, problem
from sqlalchemy import select

from overdue.api import users
from overdue.api.deps import PERMISSIONS
from overdue.api.security import token_hash
from overdue.store.api_tables import ROLES, api_tokens
from overdue.store.api_tables import users as users_table


def test_tokens_passwords_and_401(world: World) -> None:
    assert world.client.get("/health").json()["status"] == "ok"
    spec = world.client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "/accounts/{account_id}/repayments" in spec["paths"]
    for headers in ({}, {"Authorization": "Bearer odt_not-a-token"}, {"Authorization": "Basic cm9vdDpyb290"}):
        response = world.client.get("/accounts/A1", headers=headers)
        problem(response, 401, "not-authenticated")
        assert response.headers["www-authenticate"] == "Bearer"

    # Tokens are stored only as their SHA-256, and a revoked token is refused.
    token = world.tokens["collector"]
    assert world.get("collector", "/accounts/A1").status_code == 200
    with world.engine.connect() as conn:
        stored = set(conn.execute(select(api_tokens.c.token_hash)).scalars())
    assert token not in stored
    assert token_hash(token) in stored
    with world.engine.begin() as conn:
        conn.execute(
            api_tokens.update()
            .where(api_tokens.c.token_hash == token_hash(token))
            .values(revoked_at=datetime.now(UTC))
        )
    problem(world.get("collector", "/accounts/A1"), 401, "not-authenticated")

    # A user with a password may exchange it for a new token.
    users.add_user(world.engine, "wang", "collector", password="correct horse")
    with world.engine.connect() as conn:
        password_hash = conn.execute(
            select(users_table.c.password_hash).where(users_table.c.name == "wang")
        ).scalar()
    assert password_hash is not None and password_hash.startswith("$argon2id$")
    assert "correct horse" not in password_hash
    answer = world.client.post("/auth/token", json={"name": "wang", "password": "correct horse"})
    assert answer.status_code == 200
    token = answer.json()["access_token"]
    me = world.client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"user": "wang", "role": "collector", "agency": None}
    for name, password in (("wang", "wrong"), ("nobody", "correct horse"), ("root", "anything")):
        refused = world.client.post("/auth/token", json={"name": name, "password": password})
        problem(refused, 401, "not-authenticated")


def _request(world: World, permission: str, role: str, n: int) -> Any:
    """A valid request for ``permission`` by ``role``, on an account that role can see."""
    account = {"borrower": "A1", "agency": "A2"}.get(role, "A3")
    base = f"/accounts/{account}"
    key = {"Idempotency_Key": f"matrix-{n}"}
    contact = {"at": "2026-01-05T10:00:00", "channel": "voice", "party": "debtor", "outcome": "no_answer"}
    calls = {
        "accounts.open": lambda: world.post(
            role, "/accounts", {"id": f"M{n}", "opened_on": "2026-01-05", "credit_limit": "1000.00"}
        ),
        "accounts.list": lambda: world.get(role, "/accounts"),
        "accounts.read": lambda: world.get(role, base),
        "statements.read": lambda: world.get(role, f"{base}/statements"),
        "purchases.create": lambda: world.post(role, f"{base}/purchases", {"amount": "10.00"}, **key),
        "repayments.create": lambda: world.post(role, f"{base}/repayments", {"amount": "1.00"}, **key),
        "promises.read": lambda: world.get(role, f"{base}/promises"),
        "promises.create": lambda: world.post(
            role, f"{base}/promises", {"amount": "5.00", "due_on": "2026-01-20"}
        ),
        "contacts.read": lambda: world.get(role, f"{base}/contacts"),
        "contacts.create": lambda: world.post(role, f"{base}/contacts", contact),
        "disputes.open": lambda: world.post(role, f"{base}/disputes", {"status": "open"}),
        "disputes.resolve": lambda: world.post(role, f"{base}/disputes", {"status": "resolved"}),
    }
    return calls[permission]()


def test_role_matrix_every_endpoint_as_every_role(sqlite_world: World) -> None:
    """Each role gets 403 exactly where the permission table says so, and a success everywhere else.

    Roles are checked before any query, so one database is enough (visibility is tested on both).
    """
    world = sqlite_world
    # A purchase first, so that every repayment below has something to repay.
    for account in ("A1", "A2", "A3"):
        world.post("admin", f"/accounts/{account}/purchases", {"amount": "100.00"}, Idempotency_Key=account)
    n = 0
    # Other areas (operations, relief) have matrices of their own in their test modules.
    areas = ("accounts", "statements", "purchases", "repayments", "promises", "contacts")
    order = [p for p in PERMISSIONS if p.split(".")[0] in areas] + ["disputes.open", "disputes.resolve"]
    for permission in order:
        for role in ROLES:
            n += 1
            response = _request(world, permission, role, n)
            if role in PERMISSIONS[permission] and (permission != "disputes.resolve" or role != "agency"):
                assert response.status_code in (200, 201), (permission, role, response.json())
            elif permission == "disputes.resolve" and role in PERMISSIONS["disputes.open"]:
                problem(response, 403, "forbidden")  # may open a dispute, not resolve one
            else:
                problem(response, 403, "forbidden")


def test_every_permission_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    for permission, roles in PERMISSIONS.items():
        row = next((line for line in doc.splitlines() if f"`{permission}`" in line), None)
        assert row is not None, f"{permission} is not in docs/api.md"
        documented = row.rsplit("|", 2)[1].strip()
        expected = "all" if roles == set(ROLES) else ", ".join(sorted(roles))
        assert ", ".join(sorted(documented.split(", "))) == expected, permission
