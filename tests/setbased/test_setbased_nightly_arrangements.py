"""``overdue state export`` of a store with active relief arrangements, then the nightly job over the folder
with the shipped huabei strategy through the arrangements' ends: a plan completed and one broken (its
down payment missed), a settlement paid and one lapsed, one plan left pending approval. Every day's
postings, actions, messages and work, and the final state (the arrangements, the collection records with
their holds, the accounts) equal what the reference end-of-day records on the store itself from the same
date — on DuckDB through the engine's own Parquet and through the driver, resumed midway, from a PostgreSQL
store and on Spark (slow). Without a strategy the exported collection records follow the arrangements'
ends."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from setbased_store_helpers import NO_REVIEW, OPENED
from sqlalchemy import Engine, text
from test_setbased_arrangements_store import AGREED, KINDS, _agree, _repay
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.domain.calendar import iter_days
from overdue.domain.collections import CollectionState, plan_broken
from overdue.domain.ledger import Transaction
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.setbased import states_from_tables, transactions_from_postings
from overdue.setbased.collect_tables import COLLECTIONS
from overdue.setbased.nightly import connect, run_nightly
from overdue.setbased.snapshots import read_outputs, read_state
from overdue.setbased.store_collect import read_collections
from overdue.store import repository
from overdue.store.db import make_engine, upgrade
from overdue.strategy import default_strategy

EXPORTED = AGREED
"""The store's date when exported: the arrangements agreed that day, the repayments of the next made."""
THROUGH = date(2026, 4, 3)
"""By then the plans completed and broken and the settlements paid and lapsed have ended."""
MIDWAY = date(2026, 3, 20)
"""Where the resumed and Spark cases stop once: the settlements and the completed plan have ended, the plan
missing its down payment is still kept."""
LATE = "L0"
SERVICES = ("purchase", "repayment")
"""The ledger transactions made by the services, not by the end-of-day."""
ACTION_COLUMNS = (
    "treatment",
    "type",
    "stage",
    "template",
    "party",
    "priority",
    "status",
    "refused_rule",
    "reason",
)
MESSAGE_COLUMNS = ("treatment", "channel", "template", "locale", "body")
RECORD_COLUMNS = tuple(name for name in COLLECTIONS.names if name != "account_key")
"""Every column of the collection records, the holds in force included."""


def _build(engine: Engine) -> None:
    """One account per :data:`KINDS` (relief agreed on :data:`AGREED`, bought on 10 January, nothing
    repaid), as the arrangement store tests build them, and one borrower who repaid the first statement
    but not the second (sent reminders while the others are held or called), run by the reference through
    :data:`EXPORTED`."""
    relief_ids = [f"R{n}" for n in range(len(KINDS))]
    for a in (*relief_ids, LATE):
        accounts.open_account(engine, a, OPENED, 500_000)
    for day in iter_days(OPENED, EXPORTED):
        if day == date(2026, 1, 10):
            for a, kind in zip(relief_ids, KINDS, strict=True):
                accounts.purchase(engine, a, 100_000 + 9_999 * len(a + kind), on=day)
            accounts.purchase(engine, LATE, 80_000, on=day)
        if day == date(2026, 2, 9):
            with engine.connect() as conn:
                owed = repository.load_account(conn, LATE)[0].outstanding
            accounts.repay(engine, LATE, owed, on=day)
        if day == date(2026, 2, 12):
            accounts.purchase(engine, LATE, 60_000, on=day)
        if day == AGREED:
            for a, kind in zip(relief_ids, KINDS, strict=True):
                if kind != "none":
                    _agree(engine, a, kind)
        run_eod(engine, day, collection=NO_REVIEW)


def _export(url: str, root: Path) -> Engine:
    """The store at ``url`` built (:func:`_build`), the next day's repayments made, exported by the CLI into
    ``root``, then run by the reference end-of-day through :data:`THROUGH`; its engine."""
    engine = make_engine(url)
    upgrade(engine)
    _build(engine)
    for n, kind in enumerate(KINDS):
        _repay(engine, f"R{n}", kind, EXPORTED + timedelta(days=1))
    result = CliRunner().invoke(app, ["--db", url, "state", "export", "--out", str(root), "--json"])
    assert result.exit_code == 0, result.output
    assert f'"business_date": "{EXPORTED.isoformat()}"' in result.output
    statuses = read_state(root, EXPORTED).tables.arrangements["status"].to_pylist()
    assert statuses.count("active") == 4 and "pending_approval" in statuses
    run_eod(engine, THROUGH)  # the shipped huabei strategy, the product's rulebook, the limit review
    return engine


@pytest.fixture(scope="module")
def exported_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    """A SQLite store exported and run by the reference once for the module: (the store, the folder)."""
    folder = tmp_path_factory.mktemp("exported")
    engine = _export(f"sqlite:///{folder}/overdue.db", folder / "state")
    try:
        yield engine, folder / "state"
    finally:
        engine.dispose()


@pytest.fixture
def exported(exported_once: tuple[Engine, Path], tmp_path: Path) -> tuple[Engine, Path]:
    """The module's store and a copy of its exported folder for the test to run."""
    engine, root = exported_once
    shutil.copytree(root, tmp_path / "state")
    return engine, tmp_path / "state"


def _store_rows(engine: Engine, query: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(_plain(v) for v in r) for r in conn.execute(text(query), {"after": EXPORTED})]


def _plain(value: Any) -> Any:
    """A date as a date on every database (SQLite gives text)."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return date.fromisoformat(value)
    return value


def _legs(transaction: Transaction) -> tuple[tuple[str, int], ...]:
    return tuple((str(p.ledger_account), p.amount) for p in transaction.postings)


def _status_on(on: date, status: str, started_on: date | None, ended_on: date | None) -> str:
    """An arrangement's status at the end of ``on``, from its status after the run and its dates."""
    if started_on is not None and (ended_on is None or ended_on > on):
        return "active"
    return status


def _assert_days_equal(engine: Engine, root: Path) -> None:
    """Each day's postings (as ledger transactions), actions, messages and work from the folder equal the
    store's of that date (the limit review's notices aside: the folder keeps them with its outputs)."""
    snapshot = read_state(root, THROUGH)
    ids = snapshot.tables.accounts["account_id"].to_pylist()
    actions = _store_rows(
        engine,
        f"SELECT account_id, business_date, {', '.join(ACTION_COLUMNS)} FROM collection_actions "
        "WHERE business_date > :after AND treatment <> 'limit_notice' "
        "ORDER BY account_id, business_date, treatment",
    )
    messages = _store_rows(
        engine,
        "SELECT a.account_id, a.business_date, a.treatment, o.channel, o.template, o.locale, o.body "
        "FROM outbox o JOIN collection_actions a ON a.id = o.action_id "
        "WHERE a.business_date > :after AND a.treatment <> 'limit_notice' "
        "ORDER BY a.account_id, a.business_date, a.treatment",
    )
    work = _store_rows(
        engine,
        "SELECT a.account_id, a.business_date, a.treatment, w.queue, w.priority "
        "FROM work_items w JOIN collection_actions a ON a.id = w.action_id "
        "WHERE a.business_date > :after ORDER BY a.account_id, a.business_date, a.treatment",
    )
    postings = _store_rows(
        engine,
        "SELECT t.id, t.account_id, t.business_date, t.kind, t.statement_id, p.ledger_account, p.amount_fen "
        "FROM ledger_transactions t JOIN ledger_postings p ON p.transaction_id = t.id "
        f"WHERE t.business_date > :after AND t.kind NOT IN {SERVICES!r} ORDER BY t.id, p.id",
    )
    arrangements = _store_rows(
        engine,
        "SELECT account_id, status, started_on, ended_on FROM relief_arrangements "
        "WHERE status <> 'cancelled'",
    )
    transactions: dict[int, list[Any]] = {}
    for row in postings:
        transactions.setdefault(row[0], [row[1:5], []])[1].append((row[5], row[6]))
    want_transactions = sorted((*head, tuple(legs)) for head, legs in transactions.values())
    got_actions: list[tuple[Any, ...]] = []
    got_messages: list[tuple[Any, ...]] = []
    got_work: list[tuple[Any, ...]] = []
    got_transactions: list[tuple[Any, ...]] = []
    for on in iter_days(EXPORTED + timedelta(days=1), THROUGH):
        day_actions = [
            (ids[r["account_key"]], r["business_date"], *(r[c] for c in ACTION_COLUMNS))
            for r in read_outputs(root, "actions", on).to_pylist()
        ]
        day_messages = [
            (ids[r["account_key"]], r["business_date"], *(r[c] for c in MESSAGE_COLUMNS))
            for r in read_outputs(root, "messages", on).to_pylist()
        ]
        day_work = [
            (ids[r["account_key"]], r["business_date"], r["treatment"], r["queue"], r["priority"])
            for r in read_outputs(root, "work", on).to_pylist()
        ]
        day_transactions = [
            (t.account_id, t.business_date, str(t.kind), t.statement_id, _legs(t))
            for t in transactions_from_postings(read_outputs(root, "postings", on), snapshot.tables.accounts)
        ]
        # day by day: each day's arrangements and plan holds as the store's went, its rows the store's
        day_state = read_state(root, on)
        assert day_state.collection is not None
        held = {ids[r["account_key"]]: r["hold_plan"] for r in day_state.collection[0].to_pylist()}
        kept = {ids[r["account_key"]]: r["status"] for r in day_state.tables.arrangements.to_pylist()}
        assert kept == {a: _status_on(on, *rest) for a, *rest in arrangements}, on
        assert held == {a: kept.get(a) == "active" for a in ids}, on
        assert sorted(day_actions) == [r for r in actions if r[1] == on], on
        assert sorted(day_messages) == [r for r in messages if r[1] == on], on
        assert sorted(day_work) == [r for r in work if r[1] == on], on
        assert sorted(day_transactions) == [t for t in want_transactions if t[1] == on], on
        got_actions += day_actions
        got_messages += day_messages
        got_work += day_work
        got_transactions += day_transactions
    assert len(got_actions) == len(actions) and len(got_transactions) == len(want_transactions)
    print(
        len(got_actions),
        len(got_messages),
        len(got_work),
        len(got_transactions),
        sorted({(a[0], a[2], a[8]) for a in got_actions}),
    )
    assert got_messages and got_work and got_transactions
    kinds = {t[2] for t in want_transactions}
    assert "waiver" in kinds, kinds  # the settlement paid forgiven


def _assert_final_state_equal(engine: Engine, root: Path) -> None:
    """The folder's last snapshot holds the arrangements, the collection records (holds included) and the
    accounts as the store holds them after the reference's days."""
    snapshot = read_state(root, THROUGH)
    tables = snapshot.tables
    ids = tables.accounts["account_id"].to_pylist()
    got = sorted(
        (ids[r["account_key"]], r["arrangement_id"], r["status"], r["started_on"], r["ended_on"], r["paid"])
        for r in tables.arrangements.to_pylist()
    )
    want = _store_rows(
        engine,
        "SELECT account_id, id, status, started_on, ended_on, paid_fen FROM relief_arrangements "
        "WHERE status <> 'cancelled' ORDER BY account_id",
    )
    assert got == want
    assert sorted(r[2] for r in got) == ["broken", "completed", "completed", "lapsed", "pending_approval"]
    assert snapshot.collection is not None
    mine = {
        ids[r["account_key"]]: tuple(r[c] for c in RECORD_COLUMNS) for r in snapshot.collection[0].to_pylist()
    }
    with engine.connect() as conn:
        account_ids = tables.accounts["account_id"].combine_chunks()
        zones = tables.accounts["timezone"].combine_chunks()
        records = read_collections(conn, account_ids, zones, THROUGH)
        theirs = {
            ids[r["account_key"]]: tuple(r[c] for c in RECORD_COLUMNS)
            for r in records.collections.to_pylist()
        }
        assert mine == theirs
        # what makes the comparison worth making: the plan holds ended, the broken plan escalated
        ended = "SELECT count(*) FROM account_holds WHERE kind = 'plan' AND ended_at IS NOT NULL"
        assert conn.execute(text(ended)).scalar_one() == 4
        assert not any(record[RECORD_COLUMNS.index("hold_plan")] for record in mine.values())
        broken = text(
            "SELECT r.account_id FROM relief_arrangements r WHERE r.status = 'broken' AND r.kind = 'plan'"
        )
        escalated = mine[conn.execute(broken).scalar_one()][RECORD_COLUMNS.index("escalation")]
        assert escalated >= 1
        for state in states_from_tables(tables, snapshot.terms):
            stored = repository.load_account(conn, state.id)[0]
            assert (state.status, state.days_past_due, state.bucket, state.statements, state.arrangement) == (
                stored.status,
                stored.days_past_due,
                stored.bucket,
                stored.statements,
                stored.arrangement,
            ), state.id


@pytest.mark.parametrize(
    ("native_parquet", "resumed_after"),
    [(True, None), (False, None), (True, MIDWAY)],
    ids=["native", "driver", "resumed"],
)
def test_the_exported_arrangements_run_nightly_as_the_reference(
    exported: tuple[Engine, Path], native_parquet: bool, resumed_after: date | None
) -> None:
    """In one run, or in two (the second from a snapshot the first wrote, a settlement already ended)."""
    engine, root = exported
    strategy = default_strategy()
    if resumed_after is not None:
        run_nightly(root, resumed_after, connect("duckdb"), engine="duckdb", strategy=strategy)
    summary = run_nightly(
        root, THROUGH, connect("duckdb"), engine="duckdb", strategy=strategy, native_parquet=native_parquet
    )
    assert summary.started_from == (resumed_after or EXPORTED) and summary.actions
    _assert_days_equal(engine, root)
    _assert_final_state_equal(engine, root)


def test_without_a_strategy_the_kept_records_follow_the_arrangements_ends(
    exported: tuple[Engine, Path],
) -> None:
    """The nightly job without ``--strategy`` keeps the exported collection records, but follows each
    arrangement's end in them as the store does without collections: the ``plan`` hold ended, the broken
    plan escalated — so a later run with a strategy starts from what the store would hold."""
    engine, root = exported
    before = read_state(root, EXPORTED)
    assert before.collection is not None
    run_nightly(root, THROUGH, connect("duckdb"), engine="duckdb")
    after = read_state(root, THROUGH)
    assert after.collection is not None
    ids = after.tables.accounts["account_id"].to_pylist()
    with engine.connect() as conn:
        broken = conn.execute(
            text("SELECT account_id FROM relief_arrangements WHERE status = 'broken'")
        ).scalar_one()
        stored = read_collections(
            conn,
            after.tables.accounts["account_id"].combine_chunks(),
            after.tables.accounts["timezone"].combine_chunks(),
            THROUGH,
        )
    store_holds = {ids[r["account_key"]]: r["hold_plan"] for r in stored.collections.to_pylist()}
    was = {ids[r["account_key"]]: r for r in before.collection[0].to_pylist()}
    for record in after.collection[0].to_pylist():
        account_id = ids[record["account_key"]]
        assert record["hold_plan"] is store_holds[account_id] is False, account_id
        want = dict(was[account_id], hold_plan=False)
        if account_id == broken:
            cs = plan_broken(
                CollectionState(
                    account_id,
                    stage=want["stage"],
                    escalation=want["escalation"],
                    escalated_from=want["escalated_from"],
                )
            )
            want.update(escalation=cs.escalation, escalated_from=cs.escalated_from)
            assert cs.escalation >= 1
        assert record == want, account_id


@pytest.mark.postgres
@pytest.mark.slow  # about two minutes: the store built by the reference on PostgreSQL
def test_a_postgresql_store_exported_runs_nightly_as_the_reference(postgres_url: str, tmp_path: Path) -> None:
    engine = _export(postgres_url, tmp_path / "state")
    try:
        run_nightly(
            tmp_path / "state", THROUGH, connect("duckdb"), engine="duckdb", strategy=default_strategy()
        )
        _assert_days_equal(engine, tmp_path / "state")
        _assert_final_state_equal(engine, tmp_path / "state")
    finally:
        engine.dispose()


@pytest.mark.slow  # Spark: about 8 minutes on a shared 2-core machine
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_exported_arrangements_run_nightly_on_spark(exported: tuple[Engine, Path], spark: Any) -> None:
    """Spark from the snapshot DuckDB wrote midway (Spark's cost is per job: half the days), a plan still
    kept there and broken on Spark."""
    engine, root = exported
    run_nightly(root, MIDWAY, connect("duckdb"), engine="duckdb", strategy=default_strategy())
    assert "active" in read_state(root, MIDWAY).tables.arrangements["status"].to_pylist()
    run_nightly(root, THROUGH, spark, engine="spark", strategy=default_strategy())
    _assert_days_equal(engine, root)
    _assert_final_state_equal(engine, root)
