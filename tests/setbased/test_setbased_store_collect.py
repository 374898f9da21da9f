"""Collections on the operational store for the set-based engines: the collection records read in bulk
against those loaded account by account, and decide → comply → act run by the store path against the
reference end-of-day — two stores built alike (purchases, repayments of every habit, accounts going
delinquent, a promise, holds that start and end during the run, contacts, a placement), one run by each
through SMS, calls and a change of stage, then compared table by table (on SQLite with DuckDB, on
PostgreSQL inside its own database)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from setbased_store_helpers import build_store, run_set_based, twin_stores
from sqlalchemy import Connection, Engine, select, text
from test_setbased_store_write import assert_same_stores
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.engine.collect import Collections, contact_history
from overdue.engine.reference import run_eod
from overdue.services import collections as collection_services
from overdue.setbased import collect_decide
from overdue.setbased.collect_tables import collection_tables
from overdue.setbased.store_collect import read_collections
from overdue.store import collections_repository, compliance_repository, repository
from overdue.store.account_tables import accounts
from overdue.strategy import default_strategy

BUILT = date(2026, 3, 4)
"""The stores' date: the accounts that never paid their first statement are 23 days past due (calls)."""
EVENTS = date(2026, 3, 5)
THROUGH = date(2026, 3, 12)
"""Through pre-due reminders and a due date (03-09), new delinquencies (SMS) and DPD 31 (the next stage)."""
HUABEI_FILE = Path(__file__).parents[2] / "src" / "overdue" / "strategy" / "strategies" / "huabei.yaml"

COMPARED = {
    "collection_actions": "SELECT account_id, business_date, treatment, type, stage, template, party, "
    "priority, experiment, variant, status, refused_rule, reason FROM collection_actions "
    "ORDER BY account_id, business_date, treatment",
    "outbox": "SELECT a.account_id, a.business_date, a.treatment, o.account_id, o.channel, o.template, "
    "o.locale, o.body, o.status FROM outbox o JOIN collection_actions a ON a.id = o.action_id "
    "ORDER BY a.account_id, a.business_date, a.treatment",
    "work_items": "SELECT a.account_id, a.business_date, a.treatment, w.account_id, w.queue, "
    "w.business_date, w.priority, w.status FROM work_items w JOIN collection_actions a ON a.id = w.action_id "
    "ORDER BY a.account_id, a.business_date, a.treatment",
    "collection_states": "SELECT * FROM collection_states ORDER BY account_id",
    "promises": "SELECT * FROM promises ORDER BY id",
    "audit_details": "SELECT record, detail FROM audit_log WHERE entity = 'end_of_day' ORDER BY seq",
}


def add_collection_records(engine: Engine, on: date = EVENTS) -> list[str]:
    """On ``on`` (the store's next date), before its end-of-day: a promise due 3 days later, a dispute ended
    at noon 2 days later, a litigation hold from 5 days later, contacts (a third party's objection among
    them), a placement; returns the delinquent accounts' ids."""
    with engine.connect() as conn:
        late = list(
            conn.execute(
                select(accounts.c.id).where(accounts.c.days_past_due > 0).order_by(accounts.c.id)
            ).scalars()
        )
    assert len(late) >= 3, late
    promised, disputed, held = late[:3]
    zone = ZoneInfo("Asia/Shanghai")
    collection_services.make_promise(engine, promised, on, 10_000, on + timedelta(days=3))
    collection_services.set_dispute(engine, disputed, on, open_=True)
    ended = datetime.combine(on + timedelta(days=2), time(12), zone)
    collection_services.set_dispute(engine, disputed, on, open_=False, at=ended)
    started = datetime.combine(on + timedelta(days=5), time(9), zone)
    collection_services.set_hold(engine, held, "litigation", on, at=started)
    contacts = [(9, "debtor", "lost_contact"), (10, "contact", "refused")]  # a third party objects
    contacts += [(hour, "debtor", "connected") for hour in (11, 12)]  # the day's voice cap reached
    for hour, party, outcome in contacts:
        collection_services.record_contact(
            engine, late[-1], datetime.combine(on, time(hour), zone), "voice", party, outcome
        )
    with engine.begin() as conn:
        state, _, _ = collections_repository.load_collection_state(conn, held)
        collections_repository.save_collection_state(conn, state, "A1", on - timedelta(days=5))
    return late


def records_one_by_one(conn: Connection, on: date) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    """The collection tables from each account's records as the reference loads them for ``on``."""
    rows = conn.execute(select(accounts.c.id, accounts.c.timezone).order_by(accounts.c.id)).all()
    keys = {account_id: key for key, (account_id, _) in enumerate(rows)}
    records: dict[str, Collections] = {}
    done = {}
    history = {}
    for account_id, timezone in rows:
        zone = ZoneInfo(timezone)
        state, agency, placed_on = collections_repository.load_collection_state(conn, account_id)
        notice = compliance_repository.validation_notice(conn, account_id)
        records[account_id] = Collections(
            state,
            agency,
            placed_on,
            compliance_repository.open_holds(conn, account_id, datetime.combine(on, time.max, tzinfo=zone)),
            None if notice is None else notice["sent_at"].astimezone(zone).date(),
        )
        done[account_id] = collections_repository.last_done(conn, account_id, None)
        history[account_id] = contact_history(conn, account_id, on)
    return collection_tables(keys, records, done, history)


def _sorted(table: pa.Table, keys: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.sort_by([(k, "ascending") for k in keys]).to_pylist()
    return rows


def test_the_records_read_in_bulk_equal_those_loaded_account_by_account(engine: Engine) -> None:
    events = date(2026, 2, 17)  # 8 days past the first due date
    build_store(engine, 21, events - timedelta(days=1), count=10)
    late = add_collection_records(engine, events)
    with engine.begin() as conn:  # a US validation notice, read as a date in the debtor's time zone
        compliance_repository.record_validation_notice(
            conn, late[0], datetime(2026, 2, 20, 23, 30, tzinfo=ZoneInfo("UTC")), date(2026, 3, 27), "letter"
        )
    with engine.connect() as conn:
        rows = conn.execute(select(accounts.c.id, accounts.c.timezone).order_by(accounts.c.id)).all()
        ids = pa.array([r[0] for r in rows], pa.string())
        zones = pa.array([r[1] for r in rows], pa.string())
        contacts: dict[date, int] = {}
        later, latest = events + timedelta(days=2), events + timedelta(days=9)
        for on in (events, later, latest):
            got = read_collections(conn, ids, zones, on)
            contacts[on] = got.contacts.num_rows
            want = records_one_by_one(conn, on)
            mine = (got.collections, got.promises, got.done, got.contacts)
            order = (["account_key"], ["account_key", "promise_id"], ["account_key", "treatment"], [])
            names = ("collections", "promises", "done", "contacts")
            for name, a, b, keys in zip(names, mine, want, order, strict=True):
                assert a.schema == b.schema, name
                if keys:
                    assert _sorted(a, keys) == _sorted(b, keys), (name, on)
                else:  # contacts: by account, then time, as both read them
                    assert a.to_pylist() == b.to_pylist(), (name, on)
            flags = {
                kind: got.collections[f"hold_{kind}"].to_pylist().count(True)
                for kind in ("dispute", "litigation")
            }
            assert (
                flags
                == {
                    events: {"dispute": 1, "litigation": 0},
                    later: {"dispute": 0, "litigation": 0},
                    latest: {"dispute": 0, "litigation": 1},
                }[on]
            )
    # what makes the comparison worth making
    assert got.promises.num_rows and got.done.num_rows
    assert contacts == {events: 4, later: 4, latest: 1}, "the objection stays"
    assert got.collections["agency"].drop_null().to_pylist() == ["A1"]
    assert got.collections["validation_notice_on"].drop_null().to_pylist() == [date(2026, 2, 21)]


@pytest.fixture
def twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    """Two stores built alike, with collection records: (the reference's, the set-based run's, its URL)."""

    def build(first: Engine) -> None:
        build_store(first, 23, BUILT, count=10)
        add_collection_records(first)

    yield from twin_stores(db_url, tmp_path, build)


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, query in COMPARED.items():
            rows = [tuple(r) for r in conn.execute(text(query))]
            if name == "audit_details":  # the actions the date recorded (the set-based row names its engine)
                rows = [(record, _detail(detail)["actions"]) for record, detail in rows]
            out[name] = rows
    return out


def _detail(value: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(value) if isinstance(value, str) else value
    return found


def test_collections_on_the_store_equal_the_reference(twins: tuple[Engine, Engine, str]) -> None:
    reference, set_based, url = twins
    run_eod(reference, THROUGH)  # the shipped huabei strategy, the product's rulebook, the limit review
    summary = run_set_based(set_based, url, THROUGH, strategy=default_strategy())
    assert summary.dates[0] == EVENTS and summary.dates[-1] == THROUGH
    assert summary.to_json()["not_run"] == []
    mine, theirs = _rows(set_based), _rows(reference)
    for table in COMPARED:
        assert len(mine[table]) == len(theirs[table]), table
        for a, b in zip(mine[table], theirs[table], strict=True):
            assert a == b, (table, a, b)
    assert_same_stores(set_based, reference)
    # what makes the comparison worth making: messages, automated and human calls, a change of stage,
    # refusals (the promise broken, the dispute ended and the hold started change the actions too)
    with reference.connect() as conn:
        run = conn.execute(
            text(
                "SELECT DISTINCT type, stage, status FROM collection_actions "
                "WHERE business_date > :built AND treatment != 'limit_notice'"
            ),
            {"built": BUILT},
        ).all()
    types = {t for t, _, status in run if status == "queued"}
    assert {"sms", "push", "ai_voice", "call", "letter"} <= types, run
    assert {"early", "call", "queue"} <= {stage for _, stage, _ in run}, run
    assert "refused" in {status for _, _, status in run}, run  # the day's voice cap, by the contacts made
    assert summary.actions["queued"] == sum(v for k, v in summary.action_types.items() if k != "refused")
    with set_based.connect() as conn:
        assert repository.last_closed_date(conn) == THROUGH


def test_overdue_eod_on_the_store_with_a_strategy(sqlite_url: str, sqlite_engine: Engine) -> None:
    build_store(sqlite_engine, 13, date(2026, 2, 5), count=4)
    result = CliRunner().invoke(
        app,
        [
            "--db",
            sqlite_url,
            "eod",
            "--engine",
            "duckdb",
            "--store",
            "--strategy",
            str(HUABEI_FILE),
            "--date",
            "2026-02-10",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["dates"] == ["2026-02-06", "2026-02-07", "2026-02-08", "2026-02-09", "2026-02-10"]
    assert out["not_run"] == []
    with sqlite_engine.connect() as conn:
        recorded = conn.execute(
            text(
                "SELECT status, count(*) FROM collection_actions WHERE business_date > '2026-02-05' "
                "AND treatment != 'limit_notice' GROUP BY status"
            )
        ).all()
        messages = conn.execute(
            text(
                "SELECT count(*) FROM outbox o JOIN collection_actions a ON a.id = o.action_id "
                "WHERE a.business_date > '2026-02-05'"
            )
        ).scalar_one()
    assert dict(recorded) == out["actions"] and out["actions"].get("queued", 0) > 0
    assert messages > 0


def test_a_strategy_the_set_based_collections_do_not_compile_is_refused_before_any_date(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every fact compiles now: a fact marked not compiled stands for what the collections refuse.
    monkeypatch.setitem(collect_decide.NOT_COMPILED, "behaviour_score", "marked not compiled by the test")
    build_store(sqlite_engine, 14, date(2026, 1, 20), count=2)
    shipped = HUABEI_FILE.read_text(encoding="utf-8")
    call = "      - {id: call_human, type: call, priority: 10, every_days: $call_every_days}\n"
    assert call in shipped
    strategy = tmp_path / "scored.yaml"  # human calls only for accounts the month-end model scores low
    condition = ", when: {behaviour_score: {max: 400}}}\n"
    strategy.write_text(shipped.replace(call, call.replace("}\n", condition)), encoding="utf-8")
    with sqlite_engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    result = CliRunner().invoke(
        app,
        [
            "--db",
            sqlite_url,
            "eod",
            "--engine",
            "duckdb",
            "--store",
            "--strategy",
            str(strategy),
            "--date",
            "2026-01-23",
        ],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert "behaviour_score" in lines[0], result.output
    with sqlite_engine.connect() as conn:
        assert repository.last_closed_date(conn) == date(2026, 1, 20)
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == before
