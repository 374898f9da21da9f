"""A small world for the API tests: three accounts, two borrowers, one user per role, a client.

- ``A1``: owed by 张三 (the ``borrower`` user); ``A2``: owed by 李四, placed with agency ``AG1`` (the
  ``agency`` user's agency, whitelisted); ``A3``: no borrower recorded.
All open on 2026-01-05, which is also their current business date (no end-of-day has run).

Its own module (not ``conftest``), so that the tests import it by a name no other test folder uses.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from overdue.api import users
from overdue.api.app import create_app
from overdue.domain.collections import CollectionState
from overdue.services import collections
from overdue.store import collections_repository
from overdue.store.roles import ROLES

with warnings.catch_warnings():
    # Starlette's test client warns that it would rather use the httpx2 package; httpx is what is pinned.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

OPENED = date(2026, 1, 5)
ZHANG = {
    "name": "张三",
    "phone": "13812341234",
    "national_id": "110101199001011234",
    "address": "北京市朝阳区建国路88号",
}
LI = {
    "name": "李四",
    "phone": "13955556666",
    "national_id": "310101198501015678",
    "address": "上海市黄浦区南京东路1号",
}


@dataclass
class World:
    engine: Engine
    client: TestClient
    tokens: dict[str, str]

    def auth(self, role: str, **headers: str) -> dict[str, str]:
        """Headers of a request by the user with ``role`` (plus ``headers``, ``_`` for ``-``)."""
        extra = {k.replace("_", "-"): v for k, v in headers.items()}
        return {"Authorization": f"Bearer {self.tokens[role]}", **extra}

    def get(self, role: str, path: str) -> Any:
        return self.client.get(path, headers=self.auth(role))

    def post(self, role: str, path: str, body: Any, **headers: str) -> Any:
        return self.client.post(path, json=body, headers=self.auth(role, **headers))


def open_account(world: World, account_id: str, borrower: dict[str, str] | None) -> Any:
    body: dict[str, Any] = {"id": account_id, "opened_on": OPENED.isoformat(), "credit_limit": "5000.00"}
    if borrower is not None:
        body["borrower"] = borrower
    response = world.post("admin", "/accounts", body)
    assert response.status_code == 201, response.json()
    return response.json()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(engine: Engine) -> Iterator[httpx.Client]:
    """``overdue serve`` started as its own process on ``engine``'s database, and a client of it."""
    port = _free_port()
    url = engine.url.render_as_string(hide_password=False)
    command = [str(Path(sys.executable).parent / "overdue"), "--db", url, "serve", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                output = server.communicate()[0]
                raise AssertionError(f"overdue serve did not start: {output[-2000:]}")
            time.sleep(0.2)
        yield client
    finally:
        client.close()
        server.terminate()
        try:
            server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def make_world(engine: Engine, client: Any = None) -> Iterator[World]:
    """The world, through ``client`` (default: the app in this process, FastAPI's test client)."""
    admin = users.add_user(engine, "root", "admin")
    own = client is None
    client = TestClient(create_app(engine)) if own else client
    w = World(engine, client, {"admin": admin.token})
    zhang = open_account(w, "A1", ZHANG)["borrower_id"]
    open_account(w, "A2", LI)
    open_account(w, "A3", None)
    with engine.begin() as conn:
        collections_repository.save_collection_state(conn, CollectionState("A2"), "AG1", OPENED)
    collections.add_agency(engine, "AG1", "第一催收公司", datetime(2025, 12, 1, tzinfo=UTC))
    collections.review_agency(engine, "AG1", date(2025, 12, 1), date(2026, 11, 30), "compliance")
    for role in ROLES:
        if role != "admin":
            new = users.add_user(
                engine,
                f"user-{role}",
                role,
                agency="AG1" if role == "agency" else None,
                borrower_id=zhang if role == "borrower" else None,
            )
            w.tokens[role] = new.token
    with client if own else nullcontext():
        yield w


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is a problem+json with ``status`` and ``code``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:overdue:problem:{code}"
    assert body["title"] and body["detail"]
    return body
