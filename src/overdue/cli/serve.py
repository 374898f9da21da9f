"""``overdue serve``: the HTTP API under uvicorn; ``--demo`` first seeds one user per role."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from overdue.cli.common import state
from overdue.lazy import lazy_module

if TYPE_CHECKING:
    import uvicorn

    from overdue.api import app as api_app
    from overdue.api import demo as api_demo
else:
    uvicorn = lazy_module("uvicorn")
    api_app = lazy_module("overdue.api.app")
    api_demo = lazy_module("overdue.api.demo")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed one user per role with a new random password and print them.")
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, interactive docs at /docs)."""
    engine = state(ctx).migrated_engine()
    if demo:
        table = Table(title="demo users (passwords are shown once) · 演示用户（密码仅显示一次）")
        for column in ("user", "role", "password"):
            table.add_column(column)
        for user in api_demo.seed_demo_users(engine):
            table.add_row(user.name, user.role, user.password)
        Console().print(table)
        typer.echo(
            f"get a token: curl -X POST http://{host}:{port}/auth/token "
            '-H "Content-Type: application/json" -d \'{"name": "demo-admin", "password": "..."}\''
        )
    uvicorn.run(api_app.create_app(engine), host=host, port=port, log_level="info")
