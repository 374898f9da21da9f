"""``overdue eod --engine duckdb --state DIR --strategy FILE``: the nightly job runs decide → comply → act
after each day, writes the actions, messages and work as the day's outputs and the collection records into
the state — and they equal what the reference plans and records day after day from the same start."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from setbased_collect_helpers import FIXED, Plans, Records, reference_day, with_time_zones
from setbased_helpers import HUABEI, before_end_of_day, open_portfolio
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.compliance import rulebook
from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.domain.collections import CollectionState
from overdue.engine.collect import Collections
from overdue.setbased import tables_from_states
from overdue.setbased.snapshots import read_outputs, read_state, write_state
from overdue.strategy import load_strategy

SINK_FILE = Path(__file__).parent / "setbased_sink_strategy.yaml"
SNAPSHOT = date(2026, 1, 31)
THROUGH = date(2026, 2, 12)


def test_the_nightly_job_decides_complies_and_acts_as_the_reference(tmp_path: Path) -> None:
    start = date(2025, 11, 3)
    states = with_time_zones(open_portfolio(start, FIXED), 3)
    for on in iter_days(start, SNAPSHOT):
        before_end_of_day(states, FIXED, start, on)
        states = [rules.end_of_day(s, on).state for s in states]
    root = tmp_path / "state"
    write_state(root, SNAPSHOT, tables_from_states(states, HUABEI), HUABEI)

    result = CliRunner().invoke(
        app,
        [
            "eod",
            "--engine",
            "duckdb",
            "--state",
            str(root),
            "--date",
            THROUGH.isoformat(),
            "--strategy",
            str(SINK_FILE),
        ],
    )
    assert result.exit_code == 0, result.output

    strategy = load_strategy(SINK_FILE)
    # A snapshot without collection records: every account starts with a new account's records.
    records: Records = {s.id: (Collections(CollectionState(s.id), None, None), {}, []) for s in states}
    ids = [s.id for s in states]
    recorded = 0
    want = Plans()
    for on in iter_days(SNAPSHOT + timedelta(days=1), THROUGH):
        states = [rules.end_of_day(s, on).state for s in states]
        want, records = reference_day(states, on, records, strategy, rulebook("cn"))
        actions = read_outputs(root, "actions", on).to_pylist()
        got_actions: dict[str, list[tuple[object, ...]]] = {}
        for r in actions:
            got_actions.setdefault(ids[r["account_key"]], []).append(
                (r["treatment"], r["type"], r["stage"], r["status"], r["refused_rule"], r["reason"])
            )
        want_actions = {
            account_id: [(row[0], row[1], row[2], row[8], row[9], row[10]) for row in rows]
            for account_id, rows in want.actions.items()
            if rows
        }
        assert got_actions == want_actions, on
        messages = {
            (ids[r["account_key"]], r["treatment"], r["body"])
            for r in read_outputs(root, "messages", on).to_pylist()
        }
        assert messages == {(a, m[0], m[3]) for a, rows in want.messages.items() for m in rows}, on
        work = {
            (ids[r["account_key"]], r["treatment"], r["queue"])
            for r in read_outputs(root, "work", on).to_pylist()
        }
        assert work == {(a, w[0], w[1]) for a, rows in want.work.items() for w in rows}, on
        recorded += len(actions)
    assert recorded > 0

    snapshot = read_state(root, THROUGH)
    assert snapshot.collection is not None
    collections, _, done, _ = snapshot.collection
    stages = {
        ids[r["account_key"]]: (r["stage"], r["escalation"], r["agency"]) for r in collections.to_pylist()
    }
    assert stages == {a: (row[1], row[2], row[11]) for a, row in want.states.items()}
    last_done: dict[str, dict[str, date]] = {}
    for r in done.to_pylist():
        last_done.setdefault(ids[r["account_key"]], {})[r["treatment"]] = r["last_done"]
    assert last_done == {a: d for a, d in want.done.items() if d}
