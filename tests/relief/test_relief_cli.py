"""``overdue relief quote|accept|approve|list``: JSON with yuan strings; one-line errors naming the rule."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from overdue.cli.main import app

runner = CliRunner()


def invoke(tmp_path: Path, *args: str) -> Result:
    return runner.invoke(app, ["--db", f"sqlite:///{tmp_path}/relief.db", *args])


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_quote_accept_approve_list(tmp_path: Path) -> None:
    ok(invoke(tmp_path, "account", "open", "A1", "--limit", "5000.00", "--opened", "2026-01-05"))
    ok(invoke(tmp_path, "eod", "--date", "2026-01-09"))
    ok(invoke(tmp_path, "purchase", "A1", "1000.00"))
    ok(invoke(tmp_path, "eod", "--date", "2026-02-04"))
    text = ok(
        invoke(
            tmp_path,
            "relief",
            "quote",
            "A1",
            "--kind",
            "installments",
            "--statement",
            "2026-02-01",
            "--periods",
            "12",
        )
    )
    assert "annualised rate: 15.87 %" in text
    ok(invoke(tmp_path, "eod", "--date", "2026-03-12"))
    args = ("--kind", "settlement", "--amount", "600.00", "--pay-by", "2026-03-31")
    quote = json.loads(ok(invoke(tmp_path, "relief", "quote", "A1", *args, "--json")))
    assert quote["waived"] == "415.50" and quote["payments"][0]["amount"] == "600.00"

    stale = invoke(tmp_path, "relief", "accept", "A1", *args, "--fingerprint", "0" * 16, "--maker", "a1")
    assert stale.exit_code == 2 and stale.stdout == ""
    assert stale.stderr.startswith("error: ") and stale.stderr.count("\n") == 1
    assert "relief.quote.stale" in stale.stderr

    accepted = json.loads(
        ok(
            invoke(
                tmp_path,
                "relief",
                "accept",
                "A1",
                *args,
                "--fingerprint",
                quote["fingerprint"],
                "--maker",
                "a1",
                "--json",
            )
        )
    )
    assert accepted["status"] == "pending_approval"
    refused = invoke(
        tmp_path, "relief", "approve", "A1", accepted["id"], "--approver", "a2", "--role", "agent"
    )
    assert refused.exit_code == 2 and "relief.approval.over_authority" in refused.stderr
    approved = json.loads(
        ok(
            invoke(
                tmp_path,
                "relief",
                "approve",
                "A1",
                accepted["id"],
                "--approver",
                "t1",
                "--role",
                "team_lead",
                "--json",
            )
        )
    )
    assert approved["status"] == "active"
    listed = json.loads(ok(invoke(tmp_path, "relief", "list", "A1", "--json")))
    assert listed["plan"] == {
        "id": accepted["id"],
        "kind": "settlement",
        "status": "active",
        "next_due": "2026-03-31",
        "next_amount": "600.00",
        "remaining": "600.00",
        "amount": "600.00",
        "paid": "0.00",
        "waived": "415.50",
    }
    assert "settlement" in ok(invoke(tmp_path, "relief", "list", "A1"))


def test_bad_kind_is_one_line(tmp_path: Path) -> None:
    ok(invoke(tmp_path, "account", "open", "A1", "--limit", "5000.00", "--opened", "2026-01-05"))
    result = invoke(tmp_path, "relief", "quote", "A1", "--kind", "holiday")
    assert result.exit_code == 2 and result.stderr.startswith("error: unknown relief kind")
