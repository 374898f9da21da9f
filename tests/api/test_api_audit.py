"""The audit log: a row for every change and every read of personal data, hash-chained, append-only; a
tampered row is found by ``overdue audit verify``."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_world import World
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.store import audit_trail
from overdue.store.api_tables import audit_log

runner = CliRunner()


def _verify_cli(world: World, *args: str) -> tuple[int, str]:
    url = world.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["--db", url, "audit", "verify", *args])
    return result.exit_code, result.stdout


def _bypass_append_only(world: World) -> None:
    """Do what only someone with the database owner's rights could: switch the append-only triggers off."""
    with world.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def test_reads_and_changes_are_logged_chained_and_tampering_is_found(world: World) -> None:
    world.get("auditor", "/accounts/A1")
    world.post(
        "borrower", "/accounts/A1/repayments", {"amount": "1.00"}, Idempotency_Key="k"
    )  # refused: nothing owed
    world.post("admin", "/accounts/A1/purchases", {"amount": "10.00"}, Idempotency_Key="k")
    world.post("admin", "/accounts/A1/purchases", {"amount": "10.00"}, Idempotency_Key="k")  # a replay
    world.post(
        "collector",
        "/accounts/A1/contacts",
        {"at": "2026-01-05T23:00:00", "channel": "sms", "party": "debtor", "outcome": "no_answer"},
    )
    with world.engine.connect() as conn:
        rows = list(conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings())
    tail = [(r["actor"], r["role"], r["action"], r["entity"], r["record"]) for r in rows[-3:]]
    assert tail == [
        ("user-auditor", "auditor", "read", "account", "A1"),
        ("root", "admin", "create", "purchase", "A1"),
        ("user-collector", "collector", "refused", "contact", "A1"),
    ]
    assert json.loads(rows[-1]["detail"]) == {"rule": "cn.quiet_hours"}
    assert rows[0]["prev_hash"] == audit_trail.GENESIS
    assert all(r["prev_hash"] == p["hash"] for p, r in itertools.pairwise(rows))
    with world.engine.connect() as conn:
        report = audit_trail.verify(conn)
    assert report.ok and report.count == len(rows) and report.head == rows[-1]["hash"]

    # Appends from several threads at once still make one unbroken chain.
    def append_ten(worker: int) -> None:
        for n in range(10):
            audit_trail.record(world.engine, f"worker-{worker}", "collector", "read", "account", f"A{n}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(append_ten, range(4)))
    with world.engine.connect() as conn:
        report = audit_trail.verify(conn)
    assert report.ok and report.count == len(rows) + 40

    with pytest.raises(DBAPIError, match="append-only"), world.engine.begin() as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 3).values(actor="nobody"))
    with pytest.raises(DBAPIError, match="append-only"), world.engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 3))

    _bypass_append_only(world)
    with world.engine.begin() as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 3).values(actor="nobody"))
    with world.engine.connect() as conn:
        report = audit_trail.verify(conn)
    assert (report.ok, report.broken_at, report.count) == (False, 3, 2)
    assert "changed after it was written" in str(report.reason)


def test_a_rehashed_row_or_a_removed_row_breaks_the_chain(sqlite_world: World) -> None:
    world = sqlite_world
    code, out = _verify_cli(world, "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    _bypass_append_only(world)
    with world.engine.begin() as conn:
        row = dict(conn.execute(select(audit_log).where(audit_log.c.seq == 2)).mappings().one())
        forged = {**row, "actor": "nobody"}
        conn.execute(
            audit_log.update()
            .where(audit_log.c.seq == 2)
            .values(actor="nobody", hash=audit_trail.entry_hash(forged))
        )
        report = audit_trail.verify(conn)
    assert (report.ok, report.broken_at) == (False, 3)
    assert "does not point to the row before it" in str(report.reason)

    with world.engine.begin() as conn:
        conn.execute(
            audit_log.update().where(audit_log.c.seq == 2).values(actor=row["actor"], hash=row["hash"])
        )
        assert audit_trail.verify(conn).ok
        conn.execute(audit_log.delete().where(audit_log.c.seq == 4))
        report = audit_trail.verify(conn)
    assert (report.ok, report.broken_at, report.count) == (False, 5, 3)
    assert report.reason == "row 4 is missing (the next row is 5)"
    result = runner.invoke(
        app, ["--db", world.engine.url.render_as_string(hide_password=False), "audit", "verify"]
    )
    assert result.exit_code == 1 and "BROKEN at row 5" in result.stdout
