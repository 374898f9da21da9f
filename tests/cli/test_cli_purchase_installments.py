"""``overdue purchase --installments N [--quote]``: the quote buys nothing, the purchase shows its plan, and a
refusal or a misused flag is one ``error:`` line naming the rule. Also the scenario event's bad shapes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from typer.testing import CliRunner, Result

from overdue.cli.main import app

runner = CliRunner()


def invoke(tmp_path: Path, *args: str) -> Result:
    return runner.invoke(app, ["--db", f"sqlite:///{tmp_path}/x.db", *args])


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.stdout == "" and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    return result.stderr


def test_quote_then_buy_in_installments(tmp_path: Path) -> None:
    assert (
        invoke(tmp_path, "account", "open", "A1", "--limit", "5000.00", "--opened", "2026-01-05").exit_code
        == 0
    )
    quoted = invoke(tmp_path, "purchase", "A1", "1250.00", "--installments", "6", "--quote", "--json")
    assert quoted.exit_code == 0, quoted.output
    quote = json.loads(quoted.stdout)
    assert quote["plan"] is None and quote["annual_rate"] == "0.1527" and quote["fee_total"] == "56.25"
    shown = json.loads(invoke(tmp_path, "account", "show", "A1", "--json").stdout)
    assert shown["available_credit"] == "5000.00" and shown["installments"] == []

    human = invoke(tmp_path, "purchase", "A1", "1250.00", "--installments", "6", "--idempotency-key", "k")
    assert human.exit_code == 0, human.output
    assert "plan A1/2026-01-05/purchase-1" in human.stdout and "15.27 %" in human.stdout
    assert "2026-02-09  principal     208.35  fee     9.40" in human.stdout
    again = invoke(
        tmp_path, "purchase", "A1", "1250.00", "--installments", "6", "--idempotency-key", "k", "--json"
    )
    assert json.loads(again.stdout)["installments"]["plan"] == "A1/2026-01-05/purchase-1"
    shown = json.loads(invoke(tmp_path, "account", "show", "A1", "--json").stdout)
    assert shown["available_credit"] == "3750.00"
    assert [p["id"] for p in shown["installments"]] == ["A1/2026-01-05/purchase-1"]


def test_refusals_and_misuse_are_one_line_errors(tmp_path: Path) -> None:
    invoke(tmp_path, "account", "open", "A1", "--limit", "5000.00", "--opened", "2026-01-05")
    assert "--installments" in one_line_error(invoke(tmp_path, "purchase", "A1", "100.00", "--quote"))
    refused = one_line_error(invoke(tmp_path, "purchase", "A1", "100.00", "--installments", "7"))
    assert "[purchase_installments.periods_not_offered]" in refused
    quoted = one_line_error(invoke(tmp_path, "purchase", "A1", "99.00", "--installments", "3", "--quote"))
    assert "[purchase_installments.below_minimum_principal]" in quoted


def test_the_scenario_event_checks_its_shape(tmp_path: Path) -> None:
    for event, fragment in (
        ('{amount: "100.00"}', "installments: N"),
        ('{amount: "100.00", installments: 3, extra: 1}', "installments: N"),
        ('{amount: "100.00", installments: "3"}', "whole number"),
        ('{amount: "100.00", installments: true}', "whole number"),
        ("{amount: 100.0, installments: 3}", "string"),
        ('{amount: "100.00", installments: 3, quote: "yes"}', "true or false"),
    ):
        path = tmp_path / "s.yaml"
        path.write_text(
            textwrap.dedent(
                f"""\
                account: {{id: A1, opened: 2026-01-05, limit: "5000.00"}}
                events:
                  - {{date: 2026-01-10, purchase: {event}}}
                """
            ),
            encoding="utf-8",
        )
        error = one_line_error(invoke(tmp_path, "scenario", "run", str(path)))
        assert ":3:" in error and fragment in error, (event, error)
