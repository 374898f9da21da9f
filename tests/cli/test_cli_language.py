"""``overdue account open --language``: the borrower's language is stored and shown; another is a one-line
error naming the accepted ones."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from overdue.cli.main import app

runner = CliRunner()


def invoke(tmp_path: Path, *args: str) -> Result:
    return runner.invoke(app, ["--db", f"sqlite:///{tmp_path}/x.db", *args])


def test_open_an_english_account_and_show_it(tmp_path: Path) -> None:
    opened = invoke(
        tmp_path,
        "account",
        "open",
        "E1",
        "--limit",
        "5000.00",
        "--opened",
        "2026-01-05",
        "--language",
        "en",
        "--json",
    )
    assert opened.exit_code == 0, opened.output
    assert json.loads(opened.stdout)["language"] == "en"
    assert json.loads(invoke(tmp_path, "account", "show", "E1", "--json").stdout)["language"] == "en"
    assert "language" in invoke(tmp_path, "account", "show", "E1").stdout
    invoke(tmp_path, "account", "open", "Z1", "--limit", "5000.00", "--opened", "2026-01-05")
    assert json.loads(invoke(tmp_path, "account", "show", "Z1", "--json").stdout)["language"] == "zh-CN"


def test_an_unknown_language_is_a_one_line_error(tmp_path: Path) -> None:
    result = invoke(
        tmp_path, "account", "open", "F1", "--limit", "5000.00", "--opened", "2026-01-05", "--language", "fr"
    )
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and "'fr'" in result.stderr and "zh-CN, en" in result.stderr
