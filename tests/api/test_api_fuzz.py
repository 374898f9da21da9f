"""Schemathesis over the OpenAPI document: every operation, with generated requests (valid by the schema, and
not), as an administrator (the role allowed the most): no answer is a server error, and every error is
problem+json.

Each operation gets a fresh world (the conftest's three accounts and one user per role) on SQLite. The
examples per operation are few, to keep the suite's time, and derandomised, so a failure repeats. The
operations are listed from the application's own OpenAPI document (built without a database).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from api_world import make_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import Engine, create_engine

from overdue.api.app import create_app

EXAMPLES = 20
OPERATIONS = sorted(
    (operation.ok().method.upper(), operation.ok().path)
    for operation in schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(create_engine("sqlite://"))
    ).get_all_operations()
)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_a_server_error(method: str, path: str, sqlite_engine: Engine) -> None:
    world = next(make_world(sqlite_engine))
    operation = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)[path][method]
    headers = {"Authorization": f"Bearer {world.tokens['admin']}"}

    both = [operation.as_strategy(mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]

    @given(case=st.one_of(both))
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    def answer(case: Any) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text[:500])
        if response.status_code >= 400:
            kind = response.headers.get("content-type") or [""]
            assert kind[0].startswith("application/problem+json"), response.text[:300]

    answer()
