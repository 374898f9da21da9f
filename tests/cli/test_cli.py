"""The CLI end to end: ``overdue eod`` and ``overdue scenario run``, output shapes and one-line errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from overdue.cli.main import app
from overdue.domain.money import parse_yuan

runner = CliRunner()

SCENARIO = """\
title: Late by ten days
product: huabei
overrides: {due_day: 9}
account: {id: A1, opened: 2026-01-05, limit: "5000.00", timezone: Asia/Shanghai}
events:
  - {date: 2026-01-10, purchase: "1000.00"}
  - date: 2026-02-01
    snapshot: true
    expect: {statement: {amount: "1000.00", minimum: "100.00", due_date: "2026-02-09"}}
  - {date: 2026-02-19, snapshot: true, expect: {dpd: 10, bucket: M1, balances: {overdue_interest: "5.00"}}}
  - {date: 2026-02-20, purchase: "10.00", expect_error: line-not-usable}
  - {date: 2026-02-20, repay: "105.00"}
  - {date: 2026-02-20, snapshot: true}
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def invoke(tmp_path: Path, *args: str) -> Result:
    return runner.invoke(app, ["--db", f"sqlite:///{tmp_path}/x.db", *args])


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """Exit status 2, nothing on stdout, exactly one ``error: ...`` line on stderr, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    return result.stderr


def walk_no_floats(value: Any) -> None:
    assert not isinstance(value, float), value
    if isinstance(value, dict):
        for item in value.values():
            walk_no_floats(item)
    elif isinstance(value, list):
        for item in value:
            walk_no_floats(item)


# --- eod ------------------------------------------------------------------------------------------------


def test_eod_on_an_empty_database(tmp_path: Path) -> None:
    result = invoke(tmp_path, "eod", "--date", "2026-01-10", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["dates"], out["accounts_run"], out["transactions"]) == ([], 0, 0)
    assert (tmp_path / "x.db").exists()
    human = invoke(tmp_path, "eod", "--date", "2026-01-10")
    assert human.exit_code == 0, human.output
    assert "nothing to do" in human.stdout


@pytest.mark.parametrize("bad", ["2026-02-30", "10/01/2026", "yesterday"])
def test_eod_with_a_bad_date(tmp_path: Path, bad: str) -> None:
    assert_one_line_error(invoke(tmp_path, "eod", "--date", bad), bad)


def test_eod_runs_what_a_scenario_left_in_the_database(tmp_path: Path) -> None:
    path = write(tmp_path, SCENARIO)
    ran = invoke(tmp_path, "scenario", "run", str(path), "--use-db", "--json")
    assert ran.exit_code == 0, ran.output
    result = invoke(tmp_path, "eod", "--date", "2026-02-22", "--json")
    assert result.exit_code == 0, result.output
    # Cured on the 20th, the 900.00 left bears revolving interest: one posting a day.
    out = json.loads(result.stdout)
    assert (out["dates"], out["accounts_run"], out["transactions"]) == (["2026-02-21", "2026-02-22"], 2, 2)
    again = invoke(tmp_path, "eod", "--date", "2026-02-22", "--json")
    repeat = json.loads(again.stdout)
    assert (repeat["dates"], repeat["accounts_run"], repeat["transactions"]) == ([], 0, 0)


# --- scenario run ---------------------------------------------------------------------------------------


def test_scenario_run_json(tmp_path: Path) -> None:
    result = invoke(tmp_path, "scenario", "run", str(write(tmp_path, SCENARIO)), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"events", "snapshots"} <= set(out)
    walk_no_floats(out)
    events = out["events"]
    assert [e["event"] for e in events] == [
        "purchase",
        "snapshot",
        "snapshot",
        "purchase",
        "repay",
        "snapshot",
    ]
    assert all(isinstance(e["ok"], bool) for e in events)
    refused = events[3]
    assert refused["ok"] is False and refused["error"] and refused["code"] == "line-not-usable"
    assert [e["line"] for e in events] == [6, 7, 10, 11, 12, 13]
    assert [s["date"] for s in out["snapshots"]] == ["2026-02-01", "2026-02-19", "2026-02-20"]
    for shot in out["snapshots"]:
        assert {
            "date",
            "status",
            "credit_limit",
            "available_credit",
            "dpd",
            "bucket",
            "balances",
            "statement",
            "actions",
            "bureau",
        } <= set(shot)
        assert shot["status"] in ("active", "frozen", "closed", "written_off")
        assert {"principal", "overdue_principal", "overdue_interest", "fees", "total_due"} <= set(
            shot["balances"]
        )
        assert {"date", "due_date", "amount", "minimum"} <= set(shot["statement"])
        assert isinstance(shot["actions"], list)
        assert isinstance(shot["bureau"]["status_grid"], str)
        assert isinstance(shot["dpd"], int)
        for amount in (
            shot["credit_limit"],
            shot["available_credit"],
            *shot["balances"].values(),
            shot["statement"]["amount"],
            shot["statement"]["minimum"],
        ):
            assert (
                isinstance(amount, str) and amount.split(".")[1].isdigit() and len(amount.split(".")[1]) == 2
            )
            parse_yuan(amount)
    overdue = out["snapshots"][1]
    assert (overdue["dpd"], overdue["bucket"], overdue["status"]) == (10, "M1", "frozen")
    assert overdue["balances"]["overdue_principal"] == "1000.00"
    assert overdue["balances"]["total_due"] == "1005.00"
    assert overdue["bureau"]["status_grid"] == "N"  # January, reported on its last day
    cured = out["snapshots"][2]
    assert (cured["dpd"], cured["status"]) == (0, "active")
    assert out["expectations"] == {"checked": 7, "failed": []}


def test_scenario_run_human(tmp_path: Path) -> None:
    result = invoke(tmp_path, "scenario", "run", str(write(tmp_path, SCENARIO)))
    assert result.exit_code == 0, result.output
    assert "Late by ten days" in result.stdout
    assert "line-not-usable" in result.stdout
    assert "expectations hold" in result.stdout


def test_failed_expectation_exits_1(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        account: {id: A1, opened: 2026-01-05, limit: "5000.00"}
        events:
          - {date: 2026-01-10, purchase: "1000.00"}
          - {date: 2026-02-01, snapshot: true, expect: {statement: {minimum: "99.99"}}}
        """,
    )
    result = invoke(tmp_path, "scenario", "run", str(path), "--json")
    assert result.exit_code == 1, result.output
    failed = json.loads(result.stdout)["expectations"]["failed"]
    assert failed == [{"line": 4, "path": "statement.minimum", "expected": "99.99", "actual": "100.00"}]
    human = invoke(tmp_path, "scenario", "run", str(path))
    assert human.exit_code == 1
    assert "line 4: statement.minimum" in human.stdout


def test_a_mismatch_with_dates_in_a_mapping_is_reported_as_json(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        account: {id: A1, opened: 2026-01-05, limit: "5000.00"}
        events:
          - {date: 2026-01-10, purchase: "1000.00"}
          - {date: 2026-02-01, snapshot: true, expect: {statement: {due_date: [2026-02-09]}}}
        """,
    )
    result = invoke(tmp_path, "scenario", "run", str(path), "--json")
    assert result.exit_code == 1, result.output
    failed = json.loads(result.stdout)["expectations"]["failed"]
    assert failed == [
        {"line": 4, "path": "statement.due_date", "expected": ["2026-02-09"], "actual": "2026-02-09"}
    ]


def test_unmet_expect_error_exits_1(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        account: {id: A1, opened: 2026-01-05, limit: "5000.00"}
        events:
          - {date: 2026-01-10, purchase: "1000.00", expect_error: credit-limit-exceeded}
        """,
    )
    result = invoke(tmp_path, "scenario", "run", str(path), "--json")
    assert result.exit_code == 1, result.output


def test_unexpected_refusal_is_reported_not_fatal(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        account: {id: A1, opened: 2026-01-05, limit: "500.00"}
        events:
          - {date: 2026-01-10, purchase: "600.00"}
        """,
    )
    result = invoke(tmp_path, "scenario", "run", str(path), "--json")
    assert result.exit_code == 0, result.output
    (event,) = json.loads(result.stdout)["events"]
    assert event["ok"] is False and event["code"] == "credit-limit-exceeded" and "500.00" in event["error"]


# --- bad scenario files: exit 2, one line, file:line -----------------------------------------------------

HEAD = 'account: {id: A1, opened: 2026-01-05, limit: "5000.00"}\nevents:\n'


@pytest.mark.parametrize(
    ("events", "fragments"),
    [
        pytest.param(
            '  - {date: 2026-01-10, purchase: "1.00"\n  - {date: 2026-01-11, purchase: "1.00"}\n',
            [":4:", "malformed YAML"],
            id="malformed-yaml",
        ),
        pytest.param(
            '  - {date: 2026-01-10, purchase: "1.00"}\n  - {date: 2026-01-11, foo: 1}\n',
            [":4:", "'foo'"],
            id="unknown-event",
        ),
        pytest.param(
            '  - {date: 2026-02-20, waiver: {interest: "1.00"}}\n',
            [":3:", "'waiver'", "not supported yet"],
            id="not-yet-supported",
        ),
        pytest.param(
            "  - {date: 2026-02-20, relief: {kind: deferral}}\n",
            [":3:", "relief deferral needs days, statement"],
            id="relief-missing-fields",
        ),
        pytest.param(
            '  - {date: 2026-01-12, purchase: "1.00"}\n  - {date: 2026-01-11, purchase: "1.00"}\n',
            [":4:", "date order"],
            id="out-of-order",
        ),
        pytest.param(
            '  - {date: "2026-02-30", purchase: "1.00"}\n', [":3:", "2026-02-30"], id="quoted-bad-date"
        ),
        pytest.param("  - {date: 2026-01-10, purchase: 1.5}\n", [":3:", "purchase"], id="float-amount"),
        pytest.param(
            '  - {date: 2026-01-10, purchase: "1.00", repay: "1.00"}\n',
            [":3:", "exactly one"],
            id="two-kinds",
        ),
        pytest.param('  - {purchase: "1.00"}\n', [":3:", "date"], id="no-date"),
        pytest.param(
            "  - {date: 2026-01-10, installments: {statement: 2026-02-01}}\n",
            [":3:", "periods"],
            id="installments-without-periods",
        ),
        pytest.param(
            "  - {date: 2026-01-10, snapshot: yes please}\n", [":3:", "snapshot"], id="bad-snapshot"
        ),
        pytest.param("  - just a string\n", [":3:", "mapping"], id="event-not-a-mapping"),
    ],
)
def test_bad_scenario_is_a_one_line_error(tmp_path: Path, events: str, fragments: list[str]) -> None:
    path = write(tmp_path, HEAD + events)
    stderr = assert_one_line_error(invoke(tmp_path, "scenario", "run", str(path), "--json"), *fragments)
    assert stderr.startswith(f"error: {path}:")


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        pytest.param("events: []\n", ["'account'"], id="no-account"),
        pytest.param(
            HEAD.replace('"5000.00"', '"0.001"') + "  []\n", [":1:", "account.limit"], id="sub-fen-limit"
        ),
        pytest.param(HEAD + "  []\ncolour: blue\n", [":4:", "'colour'"], id="unknown-top-level-key"),
        pytest.param("- 1\n- 2\n", ["mapping"], id="not-a-mapping"),
    ],
)
def test_bad_scenario_shape_is_a_one_line_error(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = write(tmp_path, text)
    assert_one_line_error(invoke(tmp_path, "scenario", "run", str(path)), *fragments)


def test_missing_scenario_file(tmp_path: Path) -> None:
    assert_one_line_error(
        invoke(tmp_path, "scenario", "run", str(tmp_path / "nope.yaml")), "nope.yaml", "cannot read"
    )


def test_bad_overrides_are_a_one_line_error(tmp_path: Path) -> None:
    path = write(tmp_path, "overrides: {due_day: 11}\n" + HEAD + "  []\n")
    assert_one_line_error(invoke(tmp_path, "scenario", "run", str(path)), "due_day")


def test_unquoted_impossible_date_is_a_one_line_error(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + '  - {date: 2026-02-30, purchase: "1.00"}\n')
    assert_one_line_error(invoke(tmp_path, "scenario", "run", str(path)), ":3:", "date")


@pytest.mark.parametrize("amount", ['"0.001"', '"-5.00"', '"0"', '"12,50"'])
def test_invalid_amount_in_a_scenario_is_a_one_line_error(tmp_path: Path, amount: str) -> None:
    path = write(tmp_path, HEAD + f"  - {{date: 2026-01-10, purchase: {amount}}}\n")
    assert_one_line_error(invoke(tmp_path, "scenario", "run", str(path), "--json"), ":3:", "purchase")
