"""``overdue state export`` writes the store's collection records into the snapshot, so the nightly job
with a strategy continues the store's collections: the actions it plans over the exported folder, day after
day, equal those the reference end-of-day records on the store itself (without them every account would
start again with a new account's records: no episode, nothing done, no contacts)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis
from setbased_store_helpers import build_store
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.domain.calendar import iter_days
from overdue.engine.reference import run_eod
from overdue.services import collections
from overdue.setbased.nightly import run_nightly
from overdue.setbased.snapshots import read_outputs, read_state
from overdue.strategy import default_strategy

BUILT = date(2026, 2, 20)
"""Eleven days past the first due date: episodes open, SMS and calls done, promises made."""
THROUGH = date(2026, 3, 4)

COLUMNS = ("treatment", "type", "stage", "template", "party", "priority", "status", "refused_rule", "reason")


def _store_actions(engine: Engine) -> list[tuple[object, ...]]:
    query = text(
        f"SELECT account_id, business_date, {', '.join(COLUMNS)} FROM collection_actions "
        "WHERE business_date > :built AND treatment <> 'limit_notice' "
        "ORDER BY account_id, business_date, treatment"
    )
    with engine.connect() as conn:
        return [
            (r[0], date.fromisoformat(str(r[1])), *r[2:])
            for r in conn.execute(query, {"built": BUILT.isoformat()})
        ]


def test_the_exported_records_carry_the_store_s_collections_on(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    build_store(engine, 31, BUILT, count=10)
    with engine.connect() as conn:
        late = [
            a for (a,) in conn.execute(text("SELECT id FROM accounts WHERE days_past_due > 0 ORDER BY id"))
        ]
    assert len(late) >= 2
    # promises made the next day: one pending past THROUGH (no action meanwhile), one broken on 02-26
    collections.make_promise(engine, late[0], date(2026, 2, 21), 1_000, date(2026, 3, 10))
    collections.make_promise(engine, late[1], date(2026, 2, 21), 50_000, date(2026, 2, 25))
    out = tmp_path / "state"
    result = CliRunner().invoke(app, ["--db", db_url, "state", "export", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    snapshot = read_state(out, BUILT)
    assert snapshot.collection is not None
    records, promises, done, _ = snapshot.collection
    assert records.filter(records["episode_started_on"].is_valid()).num_rows > 0
    assert done.num_rows > 0 and promises.num_rows >= 2

    run_eod(engine, THROUGH)  # the reference, on the store itself
    run_nightly(out, THROUGH, ibis.duckdb.connect(), engine="duckdb", strategy=default_strategy())

    ids = snapshot.tables.accounts["account_id"].to_pylist()
    got = [
        (ids[r["account_key"]], r["business_date"], *(r[c] for c in COLUMNS))
        for day in iter_days(date(2026, 2, 21), THROUGH)
        for r in read_outputs(out, "actions", day).to_pylist()
    ]
    want = _store_actions(engine)
    assert len({w[2] for w in want}) >= 3  # several treatments of the ladder, not one reminder
    assert sorted(got, key=lambda r: (str(r[0]), r[1], str(r[2]))) == want
