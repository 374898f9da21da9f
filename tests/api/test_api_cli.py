"""``overdue user add``, ``overdue serve --demo`` and its demo users, the API served over a real socket."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import date
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine
from typer.testing import CliRunner

from overdue.api import users
from overdue.api.app import create_app
from overdue.api.demo import DEMO_ACCOUNT, seed_demo_users
from overdue.cli import serve
from overdue.cli.main import app
from overdue.domain.errors import OverdueError
from overdue.services import accounts
from overdue.store.roles import ROLES

runner = CliRunner()


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_user_add_prints_a_token_once_and_it_works(sqlite_engine: Engine) -> None:
    result = runner.invoke(
        app, ["--db", _url(sqlite_engine), "user", "add", "li", "--role", "collector", "--json"]
    )
    assert result.exit_code == 0, result.output
    added = json.loads(result.stdout)
    assert added["user"] == "li" and added["role"] == "collector" and added["token"].startswith("odt_")
    assert users.authenticate(sqlite_engine, added["token"]).role == "collector"

    for args, message in (
        (["zhao", "--role", "boss"], "unknown role 'boss'"),
        (["zhao", "--role", "agency"], "an agency user needs the agency"),
        (["zhao", "--role", "borrower", "--borrower", "B-x"], "unknown borrower 'B-x'"),
        (["li", "--role", "auditor"], "user 'li' already exists"),
    ):
        refused = runner.invoke(app, ["--db", _url(sqlite_engine), "user", "add", *args])
        assert refused.exit_code == 2
        assert (
            refused.stderr.startswith("error: ")
            and message in refused.stderr
            and refused.stderr.count("\n") == 1
        )


def test_demo_users_one_per_role_with_new_passwords_each_time(sqlite_engine: Engine) -> None:
    first = seed_demo_users(sqlite_engine)
    assert [u.role for u in first] == list(ROLES)
    borrower = next(u for u in first if u.role == "borrower")
    principal, _token = users.login(sqlite_engine, borrower.name, borrower.password)
    assert principal.borrower_id is not None
    again = seed_demo_users(sqlite_engine)
    assert [u.name for u in again] == [u.name for u in first]
    assert all(a.password != f.password for a, f in zip(again, first, strict=True))
    try:
        users.login(sqlite_engine, borrower.name, borrower.password)
        raise AssertionError("the old password still works")
    except OverdueError as error:
        assert error.code == "not-authenticated"
    assert users.login(sqlite_engine, borrower.name, again[-1].password)[0].role == "borrower"
    assert DEMO_ACCOUNT == "DEMO-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_the_api_served_over_a_real_socket(sqlite_engine: Engine) -> None:
    """The app under a real uvicorn server (in a thread), answered over HTTP on a real port."""
    token = users.add_user(sqlite_engine, "ops", "supervisor").token
    accounts.open_account(sqlite_engine, "S1", date(2026, 1, 5), 100_000)
    server = uvicorn.Server(
        uvicorn.Config(create_app(sqlite_engine), host="127.0.0.1", port=_free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        base = f"http://127.0.0.1:{server.config.port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/health").json()["status"] == "ok"
            listed = client.get("/accounts", headers={"Authorization": f"Bearer {token}"})
            assert listed.status_code == 200
            assert [a["id"] for a in listed.json()["items"]] == ["S1"]
            missing = client.get("/accounts/NOPE", headers={"Authorization": f"Bearer {token}"})
            assert (
                missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
            )
            bought = client.post(
                "/accounts/S1/purchases",
                json={"amount": "12.34"},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "socket"},
            )
            assert bought.status_code == 403  # a supervisor may repay, not buy
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_serve_demo_prints_the_credentials_then_serves(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    result = runner.invoke(
        app, ["--db", _url(sqlite_engine), "serve", "--demo", "--port", "8123"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert served["port"] == 8123 and served["host"] == "127.0.0.1"
    lines = [line for line in result.stdout.splitlines() if line.startswith("│ demo-")]
    assert len(lines) == len(ROLES)
    admin_password = next(line for line in lines if "demo-admin" in line).split("│")[3].strip()
    assert users.login(sqlite_engine, "demo-admin", admin_password)[0].role == "admin"
