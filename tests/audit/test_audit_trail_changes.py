"""Every change is audited by the service that makes it, in the transaction that makes it, as the actor the
edge set: an API user, the command line's operator, or ``system``; the end-of-day writes one row per date."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import Connection, Engine, select
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.domain.errors import OverdueError
from overdue.engine.reference import run_eod
from overdue.services import accounts, collections
from overdue.store import audit_trail
from overdue.store.api_tables import audit_log
from overdue.store.audit_trail import Actor, acting_as

runner = CliRunner()


def _rows_in(conn: Connection) -> list[tuple[str, str, str, str, str]]:
    rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings()
    return [(r["actor"], r["role"], r["action"], r["entity"], r["record"]) for r in rows]


def _rows(engine: Engine) -> list[tuple[str, str, str, str, str]]:
    with engine.connect() as conn:
        return _rows_in(conn)


def _detail(engine: Engine, seq: int) -> dict[str, object]:
    with engine.connect() as conn:
        text = conn.execute(select(audit_log.c.detail).where(audit_log.c.seq == seq)).scalar_one()
    loaded: dict[str, object] = json.loads(text)
    return loaded


def test_each_change_is_one_row_as_the_actor_in_force(engine: Engine) -> None:
    alice = Actor("alice", "supervisor")
    with acting_as(alice):
        accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
        accounts.purchase(engine, "A1", 120_000, on=date(2026, 1, 5), idempotency_key="p1")
        accounts.purchase(engine, "A1", 120_000, on=date(2026, 1, 5), idempotency_key="p1")  # a replay
        run_eod(engine, date(2026, 1, 6))
        collections.make_promise(engine, "A1", date(2026, 1, 7), 5_000, date(2026, 1, 12))
    accounts.repay(engine, "A1", 10_000, on=date(2026, 1, 7))  # nobody said who: the system
    assert _rows(engine) == [
        ("alice", "supervisor", "create", "account", "A1"),
        ("alice", "supervisor", "create", "purchase", "A1"),
        ("alice", "supervisor", "run", "end_of_day", "2026-01-05"),
        ("alice", "supervisor", "run", "end_of_day", "2026-01-06"),
        ("alice", "supervisor", "create", "promise", "A1"),
        ("system", "system", "create", "repayment", "A1"),
    ]
    assert _detail(engine, 2) == {"amount": "1200.00", "date": "2026-01-05"}
    assert _detail(engine, 3) == {"accounts_run": 1, "transactions": 0, "actions": {}, "limit_changes": {}}
    with engine.connect() as conn:
        assert audit_trail.verify(conn).ok


def test_a_refused_change_writes_no_row(engine: Engine) -> None:
    accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
    before = _rows(engine)
    with pytest.raises(OverdueError):
        accounts.repay(engine, "A1", 100, on=date(2026, 1, 5))  # nothing is owed
    with pytest.raises(OverdueError):
        collections.make_promise(engine, "NOPE", date(2026, 1, 5), 100, date(2026, 1, 9))
    assert _rows(engine) == before


def test_a_change_and_its_row_roll_back_together(engine: Engine) -> None:
    accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
    before = _rows(engine)

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), engine.begin() as conn:
        collections.set_hold_in(conn, "A1", "litigation", date(2026, 1, 5), note="legal case")
        assert _rows_in(conn)[-1][2:] == ("update", "hold", "A1")  # written, not yet committed
        raise Abandoned
    assert _rows(engine) == before
    held = collections.set_hold(engine, "A1", "litigation", date(2026, 1, 5))
    assert held["changed"] is True
    assert _rows(engine)[-1][2:] == ("update", "hold", "A1")


def test_the_command_line_names_its_operator(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    url = engine.url.render_as_string(hide_password=False)
    open_a1 = ["account", "open", "A1", "--opened", "2026-01-05", "--limit", "5000"]
    opened = runner.invoke(app, ["--db", url, "--operator", "alice", *open_a1])
    assert opened.exit_code == 0, opened.output
    monkeypatch.setenv("OVERDUE_OPERATOR", "bob")
    ran = runner.invoke(app, ["--db", url, "eod", "--date", "2026-01-05"])
    assert ran.exit_code == 0, ran.output
    assert _rows(engine) == [
        ("cli:alice", "operator", "create", "account", "A1"),
        ("cli:bob", "operator", "run", "end_of_day", "2026-01-05"),
    ]
    assert audit_trail.current_actor() == audit_trail.SYSTEM  # the command's actor ended with it


def test_an_agency_added_twice_is_one_change(engine: Engine) -> None:
    at = datetime(2026, 1, 5, 9, 0)
    collections.add_agency(engine, "AG1", "Agency One", at)
    collections.add_agency(engine, "AG1", "Agency One", at)
    assert [r[2:] for r in _rows(engine)] == [("create", "agency", "AG1")]


def test_audit_list_shows_the_newest_rows(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    with acting_as(Actor("alice", "admin")):
        accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
        accounts.open_account(engine, "A2", date(2026, 1, 5), 500_000)
    accounts.open_account(engine, "A3", date(2026, 1, 5), 500_000)
    listed = runner.invoke(app, ["--db", url, "audit", "list", "--last", "2", "--actor", "alice", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)["rows"]
    assert [(r["seq"], r["actor"], r["record"], r["detail"]) for r in rows] == [
        (1, "alice", "A1", {"opened_on": "2026-01-05"}),
        (2, "alice", "A2", {"opened_on": "2026-01-05"}),
    ]
    text = runner.invoke(app, ["--db", url, "audit", "list", "--last", "1"])
    assert text.exit_code == 0
    assert "system (system)  create account A3" in text.stdout
