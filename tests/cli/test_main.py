"""The CLI skeleton: version, database upgrade, and one-line errors."""

import json
from pathlib import Path

from typer.testing import CliRunner

from overdue import __version__
from overdue.cli.main import app
from overdue.store.db import head_revision

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["version", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"version": __version__}


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    result = runner.invoke(app, ["--db", url, "db", "upgrade", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["revision"] == head_revision()
    assert (tmp_path / "cli.db").exists()


def test_bad_database_url_is_one_line_error() -> None:
    result = runner.invoke(app, ["--db", "mysql://u@h/db", "db", "upgrade"])
    assert result.exit_code == 2
    assert result.stderr == "error: unsupported database 'mysql': use sqlite or postgresql\n"


def test_unreachable_database_is_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", f"sqlite:///{tmp_path}/missing/dir/x.db", "db", "upgrade"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot use the database:")
    assert result.stderr.count("\n") == 1
