"""``overdue compliance hold`` and ``overdue compliance agency add|review|list``."""

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.services import accounts
from overdue.store.db import make_engine, upgrade


def test_holds_and_the_agency_whitelist_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/holds.db"
    engine = make_engine(url)
    upgrade(engine)
    accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
    engine.dispose()
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--db", url, *args])
        return result.exit_code, result.output

    code, out = run("compliance", "hold", "A1", "litigation", "--on", "2026-01-05", "--json")
    assert code == 0 and json.loads(out)["status"] == "in force" and json.loads(out)["changed"] is True
    code, out = run("compliance", "hold", "A1", "litigation", "--on", "2026-01-05", "--json")
    assert code == 0 and json.loads(out)["changed"] is False
    code, out = run("compliance", "hold", "A1", "vacation", "--on", "2026-01-05")
    assert code == 2 and "unknown hold 'vacation'" in out
    code, out = run("compliance", "hold", "A1", "sold", "--on", "2026-01-05", "--end")
    assert code == 2 and "cannot be undone" in out

    assert run("compliance", "agency", "add", "AG1", "--name", "华东催收服务")[0] == 0
    code, out = run(
        "compliance", "agency", "review", "AG1",
        "--reviewed-on", "2026-01-01", "--valid-until", "2026-12-31", "--reviewer", "compliance",
    )  # fmt: skip
    assert code == 0 and "cleared from 2026-01-01 through 2026-12-31" in out
    code, out = run(
        "compliance", "agency", "review", "AG1",
        "--reviewed-on", "2026-01-01", "--valid-until", "2027-06-30", "--reviewer", "compliance",
    )  # fmt: skip
    assert code == 2 and "at most 366 days" in out
    code, out = run(
        "compliance", "agency", "review", "NOPE",
        "--reviewed-on", "2026-01-01", "--valid-until", "2026-02-01", "--reviewer", "x",
    )  # fmt: skip
    assert code == 2 and "no agency NOPE" in out
    code, out = run("compliance", "agency", "list", "--json")
    assert json.loads(out) == {
        "agencies": [
            {
                "agency": "AG1",
                "name": "华东催收服务",
                "reviewed_on": "2026-01-01",
                "valid_until": "2026-12-31",
            }
        ]
    }
