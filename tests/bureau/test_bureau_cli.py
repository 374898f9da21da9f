"""``overdue bureau export`` end to end on the built portfolio (SQLite and PostgreSQL): stdout and ``--out``,
CSV and JSON, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from bureau_portfolio import NATIONAL_ID
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from overdue.cli.main import app

runner = CliRunner()


def export(engine: Engine, *args: str) -> Result:
    url = engine.url.render_as_string(hide_password=False)
    return runner.invoke(app, ["--db", url, "bureau", "export", *args])


def test_csv_on_stdout_by_default(portfolio: Engine) -> None:
    result = export(portfolio, "--month", "2026-03")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "account_id",
        "borrower_id",
        "name",
        "national_id",
        "month",
        "status",
        "credit_limit",
        "balance",
        "overdue_amount",
        "days_past_due",
        "status_grid",
    ]
    assert rows[1:] == [
        ["CUR", "", "", "", "2026-03", "N", "5000.00", "200.00", "0.00", "0", "NNN"],
        ["DEL", "B1", "张三", NATIONAL_ID, "2026-03", "2", "5000.00", "2050.00", "2050.00", "50", "N12"],
        ["MID", "", "", "", "2026-03", "N", "2000.00", "300.00", "0.00", "0", "N"],
        ["WO", "", "", "", "2026-03", "B", "3000.00", "1530.00", "1530.00", "50", "N1B"],
    ]


def test_json_to_a_file(portfolio: Engine, tmp_path: Path) -> None:
    out = tmp_path / "bureau-2026-02.json"
    result = export(portfolio, "--month", "2026-02", "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote 3 record(s) of 2026-02 to {out} (json)\n"
    assert NATIONAL_ID not in result.output  # the ID goes into the file only
    document = json.loads(out.read_text(encoding="utf-8"))
    assert (document["month"], document["count"]) == ("2026-02", 3)
    assert [(r["account_id"], r["status"], r["overdue_amount"]) for r in document["records"]] == [
        ("CUR", "N", "0.00"),
        ("DEL", "1", "2019.00"),
        ("WO", "1", "1514.25"),
    ]
    assert document["records"][1]["national_id"] == NATIONAL_ID

    summary = export(portfolio, "--month", "2026-02", "--json", "--out", str(tmp_path / "again.json"))
    assert json.loads(summary.stdout) == {
        "month": "2026-02",
        "count": 3,
        "format": "json",
        "out": str(tmp_path / "again.json"),
    }
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8")) == document


def test_errors_are_one_line(portfolio: Engine) -> None:
    for args, message in (
        (["--month", "2026-04"], "error: the bureau file of 2026-04 needs the end-of-day of its last day"),
        (["--month", "2026-4"], "error: month must be written YYYY-MM"),
        (["--month", "2026-03", "--format", "xml"], "error: --format must be one of csv, json"),
        (["--month", "2026-03", "--format", "csv", "--json"], "error: --json and --format csv disagree"),
    ):
        result = export(portfolio, *args)
        assert result.exit_code == 2
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
