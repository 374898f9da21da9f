"""The FastAPI application: :func:`create_app` builds it over an engine.

OpenAPI 3.1 is served at ``/openapi.json`` (and the interactive docs at ``/docs``). Every error is
``application/problem+json`` (:mod:`overdue.api.problems`); every endpoint but ``/health`` and the login
needs a bearer token; what each role may do is :data:`overdue.api.deps.PERMISSIONS`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, text

from overdue import __version__
from overdue.api import (
    problems,
    routes_accounts,
    routes_collections,
    routes_operations,
    routes_operations_agency,
    routes_operations_field,
    routes_relief,
    routes_reports,
    users,
)
from overdue.api.deps import EngineDep, PrincipalDep
from overdue.api.queries import borrower_accounts_of
from overdue.api.schemas import LoginRequest


def create_app(engine: Engine) -> FastAPI:
    """The API over ``engine``'s database, which must already be migrated to the newest revision."""
    app = FastAPI(
        title="overdue",
        version=__version__,
        description='Consumer-credit servicing and collections. Amounts are yuan strings ("100.00").',
    )
    app.state.engine = engine
    problems.install(app)

    @app.get("/health", tags=["service"], summary="Whether the API and its database answer")
    def health(engine: EngineDep) -> dict[str, Any]:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": engine.dialect.name}

    @app.post("/auth/token", tags=["auth"], summary="Exchange a user name and password for a token")
    def login(body: LoginRequest, engine: EngineDep) -> dict[str, Any]:
        """A new bearer token (shown once); send it as ``Authorization: Bearer <token>``."""
        principal, token = users.login(engine, body.name, body.password)
        return {"access_token": token, "token_type": "bearer", "user": principal.name, "role": principal.role}

    @app.get("/me", tags=["auth"], summary="Who you are, your role and (for a borrower) your accounts")
    def me(principal: PrincipalDep, engine: EngineDep) -> dict[str, Any]:
        out: dict[str, Any] = {"user": principal.name, "role": principal.role, "agency": principal.agency}
        if principal.borrower_id is not None:
            with engine.connect() as conn:
                out["accounts"] = borrower_accounts_of(conn, principal.borrower_id)
        return out

    app.include_router(routes_accounts.router)
    app.include_router(routes_collections.router)
    app.include_router(routes_operations.router)
    app.include_router(routes_operations_field.router)
    app.include_router(routes_operations_agency.router)
    app.include_router(routes_relief.router)
    app.include_router(routes_reports.router)
    return app
