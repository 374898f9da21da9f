"""``overdue state load``: the days the nightly job ran over a Parquet folder exported from the store, written
back into the store — equal, table by table, to the store the reference end-of-day ran through the same
dates (two stores built alike: purchases, repayments of every habit, delinquencies, a promise broken
during the run, contacts, a placement; the month end's behaviour scores, the statement day's limit review,
the shipped huabei collections), on SQLite and PostgreSQL. A store changed since the export is refused,
and a load stopped part of the way continues where it stopped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from setbased_store_helpers import build_store, twin_stores
from sqlalchemy import Engine, select, text
from test_setbased_store_collect import COMPARED, HUABEI_FILE
from test_setbased_store_write import assert_same_stores
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.domain.errors import Conflict, InvalidInput
from overdue.engine.reference import run_eod
from overdue.services import accounts as account_services
from overdue.services import collections as collection_services
from overdue.setbased.folder_load import load_days
from overdue.store import audit_trail, collections_repository, repository
from overdue.store.account_tables import accounts

BUILT = date(2026, 2, 24)
"""The stores' date, exported to the folder."""
EVENTS = BUILT + timedelta(days=1)
THROUGH = date(2026, 3, 10)
"""Through a month end (behaviour scores), a statement day (the limit review), a due date (03-09)."""
LOADED_TABLES = {
    **COMPARED,
    "limit_changes": "SELECT * FROM limit_changes ORDER BY account_id, review_date",
    "behaviour_scores": "SELECT account_id, month_end, score_points, probability_bad_ppm, model_version, "
    "reasons FROM behaviour_scores ORDER BY account_id, month_end",
}


def add_records(engine: Engine) -> None:
    """On the store's next date, before its end-of-day: a promise due 3 days later (broken during the run),
    contacts, an agency placement."""
    with engine.connect() as conn:
        late = list(
            conn.execute(
                select(accounts.c.id).where(accounts.c.days_past_due > 0).order_by(accounts.c.id)
            ).scalars()
        )
    assert len(late) >= 2, late
    zone = ZoneInfo("Asia/Shanghai")
    collection_services.make_promise(engine, late[0], EVENTS, 10_000, EVENTS + timedelta(days=3))
    for hour, party, outcome in ((9, "debtor", "lost_contact"), (11, "debtor", "connected")):
        collection_services.record_contact(
            engine, late[-1], datetime.combine(EVENTS, time(hour), zone), "voice", party, outcome
        )
    with engine.begin() as conn:
        state, _, _ = collections_repository.load_collection_state(conn, late[1])
        collections_repository.save_collection_state(conn, state, "A1", EVENTS - timedelta(days=5))


@pytest.fixture
def twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    """Two stores alike: (the reference's, the one the folder is loaded into, its URL)."""

    def build(first: Engine) -> None:
        build_store(first, 31, BUILT, count=10)
        add_records(first)

    yield from twin_stores(db_url, tmp_path, build)


def cli(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.output)
    return found


def run_folder(url: str, root: Path, through: date = THROUGH) -> None:
    """Export the store at ``url`` to ``root`` and run the nightly job over it with the shipped strategy."""
    cli("--db", url, "state", "export", "--out", str(root))
    cli(
        "eod",
        "--engine",
        "duckdb",
        "--state",
        str(root),
        "--date",
        through.isoformat(),
        "--strategy",
        str(HUABEI_FILE),
    )


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, query in LOADED_TABLES.items():
            rows = [tuple(r) for r in conn.execute(text(query))]
            if name == "audit_details":  # the end-of-day audit rows, less the engine each names
                rows = [(record, _without_engine(detail)) for record, detail in rows]
            out[name] = rows
    return out


def _without_engine(value: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(value) if isinstance(value, str) else dict(value)
    found.pop("engine", None)
    return found


def test_a_folders_days_load_into_the_store_as_the_reference_writes_them(
    twins: tuple[Engine, Engine, str], tmp_path: Path
) -> None:
    reference, loaded, url = twins
    run_eod(reference, THROUGH)  # the shipped huabei strategy, the product's rulebook, the limit review
    root = tmp_path / "state"
    run_folder(url, root)
    out = cli("--db", url, "state", "load", str(root))
    assert out["started_from"] == BUILT.isoformat()
    assert out["dates"][0] == EVENTS.isoformat() and out["dates"][-1] == THROUGH.isoformat()
    assert len(out["dates"]) == (THROUGH - BUILT).days
    mine, theirs = _rows(loaded), _rows(reference)
    for table in LOADED_TABLES:
        assert len(mine[table]) == len(theirs[table]), table
        for a, b in zip(mine[table], theirs[table], strict=True):
            assert a == b, (table, a, b)
    assert_same_stores(loaded, reference)
    with loaded.connect() as conn:
        assert audit_trail.verify(conn).ok
        assert repository.last_closed_date(conn) == THROUGH
    # what makes the comparison worth making
    assert out["transactions"] > 0 and out["actions"].get("queued", 0) > 0
    assert mine["limit_changes"], "the statement day reviewed no limit"
    assert [r for r in mine["behaviour_scores"] if str(r[1]) == "2026-02-28"], "no month-end score"
    assert "broken" in {r[5] for r in mine["promises"]}, mine["promises"]
    # nothing more to load: the store is at the folder's newest date
    again = cli("--db", url, "state", "load", str(root))
    assert again["dates"] == [] and again["started_from"] == THROUGH.isoformat()


def test_a_store_changed_since_the_export_is_refused_and_a_stopped_load_continues(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    build_store(sqlite_engine, 31, BUILT, count=6)
    root = tmp_path / "state"
    through = BUILT + timedelta(days=6)
    run_folder(sqlite_url, root, through)
    # part of the way, then the rest
    first = load_days(sqlite_engine, root, BUILT + timedelta(days=2))
    assert first.dates == [EVENTS, EVENTS + timedelta(days=1)]
    rest = load_days(sqlite_engine, root)
    assert rest.started_from == BUILT + timedelta(days=2) and rest.dates[-1] == through
    # a repayment posted after the folder's newest date: the next folder must start from a new export
    with sqlite_engine.connect() as conn:
        payer = (
            conn.execute(select(accounts.c.id).where(accounts.c.days_past_due > 0).order_by(accounts.c.id))
            .scalars()
            .first()
        )
    assert payer is not None
    other = tmp_path / "other"
    run_folder(sqlite_url, other, through + timedelta(days=2))
    account_services.repay(sqlite_engine, payer, 100, on=through + timedelta(days=1))
    with pytest.raises(Conflict, match=r"the store's (statements|accounts) changed since"):
        load_days(sqlite_engine, other)
    # a folder without a snapshot of the store's date
    with pytest.raises(
        InvalidInput, match=r"no snapshot of the store's last closed date .* \(snapshots: none\)"
    ):
        load_days(sqlite_engine, tmp_path / "empty")
