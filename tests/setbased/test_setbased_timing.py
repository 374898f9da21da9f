"""Where a set-based day's time goes (:mod:`overdue.setbased.timing`): every backend's workspace operations
are timed while a recording is open, each under its operation and table; an operation inside a named step
(or inside another operation) is one of that step's parts; nothing is recorded outside a recording; and the
benchmark's ``--steps`` gives each timed day's steps, the accounts' day and the collection half apart.
The tests check which steps are recorded and how they are counted, never how long they took."""

from __future__ import annotations

import json
import threading
from datetime import date

import ibis
import pyarrow as pa
import pytest
from ibis.backends import BaseBackend
from test_setbased_bench_portfolio import bench_module

from overdue.domain.errors import InvalidInput
from overdue.setbased.backend import table_name, workspace
from overdue.setbased.timing import recording, steps_text, timed

ROWS = pa.table({"k": pa.array([1, 2, 3], pa.int64())})
SCHEMA = pa.schema([("k", pa.int64())])


def test_every_backend_times_its_operations_each_under_its_table(backend: BaseBackend) -> None:
    db = workspace(backend)
    with recording() as times:
        db.load("source", ROWS)
        db.create("copy", f"SELECT k FROM {table_name('source')} WHERE k > 1")
        db.append("copy", f"SELECT k FROM {table_name('source')}")
        db.create("copy_next", f"SELECT k FROM {table_name('copy')}")
        db.rename("copy_next", "copy")  # drops the table it replaces: part of the rename
        rows = db.fetch(f"SELECT k FROM {table_name('copy')} ORDER BY k", SCHEMA)
        db.fetch("SELECT 1 AS k", SCHEMA)
        db.drop("source")
    assert rows["k"].to_pylist() == [1, 2, 2, 3, 3]
    steps = times.steps()
    assert [(s.label, s.calls) for s in steps] == [
        ("load source", 1),
        ("create copy", 1),
        ("append copy", 1),
        ("create copy_next", 1),
        ("rename copy_next", 1),
        ("fetch copy", 1),
        ("fetch query", 1),
        ("drop source", 1),
    ]
    assert all(s.seconds >= 0 and s.cpu_seconds >= 0 for s in steps)


def test_a_named_step_holds_the_operations_it_runs_and_calls_add_up() -> None:
    db = workspace(ibis.duckdb.connect())
    db.load("source", ROWS)
    with recording() as times:
        with timed("checks"):
            db.fetch(f"SELECT COUNT(*) AS k FROM {table_name('source')}", SCHEMA)
            db.fetch(f"SELECT MAX(k) AS k FROM {table_name('source')}", SCHEMA)
        for _ in range(3):
            db.fetch(f"SELECT k FROM {table_name('source')}", SCHEMA)
    steps = times.steps()
    assert [(s.label, s.calls) for s in steps] == [("checks", 1), ("fetch source", 3)]
    # the operations inside are the step's parts: one label, two calls, their time within the step's
    (checks, _) = steps
    assert [(s.label, s.calls, s.parts) for s in checks.parts] == [("fetch source", 2, ())]
    assert checks.parts[0].seconds <= checks.seconds
    assert checks.to_json()["parts"] == [checks.parts[0].to_json()]
    assert "parts" not in steps[1].to_json()


def test_the_text_indents_the_parts_and_counts_the_steps_too_short_to_show() -> None:
    rows = [
        {
            "step": "limit review",
            "seconds": 1.5,
            "cpu_seconds": 2.0,
            "calls": 1,
            "parts": [
                {"step": "create reviewed", "seconds": 1.0, "cpu_seconds": 1.5, "calls": 1},
                {"step": "fetch changes", "seconds": 0.0002, "cpu_seconds": 0.0, "calls": 1},
            ],
        },
        {
            "step": "rename nothing",
            "seconds": 0.0001,
            "cpu_seconds": 0.0,
            "calls": 1,
            "parts": [
                {"step": "drop nothing", "seconds": 0.00005, "cpu_seconds": 0.0, "calls": 1},
            ],
        },
    ]
    lines = steps_text("steps of 2026-03-15", {"day": rows}).splitlines()
    assert lines[0] == "steps of 2026-03-15 (wall s, process CPU s, calls):"
    assert lines[1].split() == ["day", "limit", "review", "1.500", "2.000", "1"]
    assert "    create reviewed" in lines[2] and lines[2].split()[-3:] == ["1.000", "1.500", "1"]
    assert lines[3] == "  (3 steps under 1 ms not shown)"
    assert len(lines) == 4


def test_nothing_is_recorded_outside_a_recording_and_recordings_do_not_nest() -> None:
    db = workspace(ibis.duckdb.connect())
    db.load("source", ROWS)  # before any recording: not recorded anywhere
    with recording() as first:
        with pytest.raises(InvalidInput, match="already open"), recording():
            pass
        db.fetch(f"SELECT k FROM {table_name('source')}", SCHEMA)
    db.create("after", f"SELECT k FROM {table_name('source')}")
    assert [s.label for s in first.steps()] == ["fetch source"]
    with recording() as second:
        db.drop("after")
    assert [s.label for s in second.steps()] == ["drop after"]


def test_the_steps_of_every_thread_are_recorded() -> None:
    db = workspace(ibis.duckdb.connect())
    db.load("source", ROWS)
    with recording() as times, timed("main thread's work"):
        worker = threading.Thread(target=db.create, args=("made", f"SELECT k FROM {table_name('source')}"))
        worker.start()
        worker.join()
    assert sorted(s.label for s in times.steps()) == ["create made", "main thread's work"]


def test_the_benchmark_gives_each_timed_days_steps(capsys: pytest.CaptureFixture[str]) -> None:
    bench = bench_module()
    args = ["--accounts", "300", "--strategy", "huabei", "--date", "2026-03-31", "--days", "2"]
    assert bench.main([*args, "--steps", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    first = out["steps"]
    day_steps = [row["step"] for row in first["accounts_day"]]
    assert day_steps[:2] == ["plan", "checks"]
    # the month end reports to the bureau; its accounts' day and collection half as the Collector runs them
    for step in ("create accrued", "create aged", "create bureau_next", "create day_postings", "rename aged"):
        assert step in day_steps
    collection = [row["step"] for row in first["collection"]]
    for step in (
        "create collect_decided",
        "create collect_actions",
        "fetch collect_actions",
        "rows: actions, messages and work",
        "create collections_next",
        "create done_next",
    ):
        assert step in collection
    assert collection.index("create collect_decided") < collection.index("create collect_actions")
    assert not set(day_steps) & set(collection)
    rows = first["accounts_day"] + first["collection"]
    assert all(row["seconds"] >= 0 and row["cpu_seconds"] >= 0 and row["calls"] >= 1 for row in rows)
    # every day listed has its own steps: the first day's are those at the top; 1 April is a statement day
    assert [day["date"] for day in out["days"]] == ["2026-03-31", "2026-04-01"]
    assert out["days"][0]["steps"] == first
    second = [row["step"] for row in out["days"][1]["steps"]["accounts_day"]]
    assert "create statements_next" in second and "create bureau_next" not in second

    assert bench.main(["--accounts", "300", "--steps"]) == 0
    text = capsys.readouterr().out
    assert f"steps of {date(2026, 3, 15).isoformat()}" in text and "create aged" in text
    assert bench.main(["--accounts", "300", "--json"]) == 0
    assert "steps" not in json.loads(capsys.readouterr().out)


def test_the_reference_has_no_steps_to_time(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        bench_module().main(["--accounts", "10", "--engine", "reference", "--steps"])
    assert stopped.value.code == 2
    assert "--steps times the set-based engines' steps" in capsys.readouterr().err
