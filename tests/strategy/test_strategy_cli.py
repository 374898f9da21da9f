"""``overdue strategy validate`` and ``show`` (the module's typer app, as the lead registers it)."""

import json
from pathlib import Path

from strategy_helpers import MINI, line_with
from typer.testing import CliRunner

from overdue.cli.strategy import app

runner = CliRunner()
HUABEI = Path(__file__).parents[2] / "src/overdue/strategy/strategies/huabei.yaml"


def test_validate_a_good_file() -> None:
    result = runner.invoke(app, ["validate", str(HUABEI)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 7 stages, 25 treatments, 7 templates\n"


def test_validate_json() -> None:
    result = runner.invoke(app, ["validate", str(HUABEI), "--json"])
    assert json.loads(result.stdout) == {
        "ok": True,
        "stages": 7,
        "treatments": 25,
        "templates": 7,
        "warnings": [],
    }


def test_validate_prints_every_problem_one_per_line(tmp_path: Path) -> None:
    text = MINI.replace("type: call,", "type: phone_call,").replace("next: late", "next: later")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"{path}:{line_with(text, 'next: later')}: stages[0](early).next: unknown stage"
    )
    assert lines[1].startswith(f"{path}:{line_with(text, 'phone_call')}: stages[1](late).treatments[0].type:")
    assert lines[2] == f"error: {path}: 2 problems"


def test_validate_json_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(MINI.replace("type: call,", "type: phone_call,"), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path), "--json"])
    assert result.exit_code == 2
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["field"] == "stages[1](late).treatments[0].type"
    assert problem["line"] == line_with(MINI, "type: call,")


def test_validate_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read the file" in result.stderr


def test_show_the_default_strategy() -> None:
    result = runner.invoke(app, ["show"])
    assert result.exit_code == 0, result.output
    assert "field_visit" in result.stdout and "experiment early_voice" in result.stdout


def test_show_json(tmp_path: Path) -> None:
    path = tmp_path / "mini.yaml"
    path.write_text(MINI, encoding="utf-8")
    outline = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    assert outline["parameters"] == {"large": "10000.00", "voice_from": 4}
    assert [s["name"] for s in outline["stages"]] == ["early", "late"]
    assert outline["stages"][1]["treatments"][1]["when"] == "overdue_balance >= 10000.00"
    assert outline["stages"][0]["treatments"][1]["schedule"] == "from_dpd $voice_from"
