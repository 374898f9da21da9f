"""Agency placements, placement files, results import with reconciliation, recall and commission."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from ops_helpers import aged_account, dpd_date
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.domain.errors import InvalidInput, NotFound, Refused
from overdue.engine.reference import EodSummary, run_date
from overdue.operations.agency import (
    CommissionTier,
    PlacementRules,
    RowRejected,
    commission,
    commission_rate,
    parse_result_row,
)
from overdue.services import accounts, collections, operations
from overdue.store.collection_tables import collection_states, contacts
from overdue.store.db import make_engine, upgrade


def test_commission_tiers_and_row_shapes() -> None:
    assert commission_rate(61) == Decimal("0.12") and commission_rate(91) == Decimal("0.20")
    assert commission_rate(400) == Decimal("0.30")
    assert commission(10_005, 70) == 1_201  # 12 % of 100.05 = 12.006 → 12.01
    assert commission(10_000, 5, [CommissionTier(10, Decimal("0.5"))]) == 0
    row = parse_result_row(
        {"ref": "r1", "account_id": "A1", "type": "payment", "date": "2026-04-20", "amount": "5"}
    )
    assert (row.on, row.amount) == (date(2026, 4, 20), 500)
    for raw, reason in [
        ({"ref": "r", "account_id": "A", "type": "visit"}, "unknown type"),
        ({"ref": "r", "account_id": "A", "type": "payment", "date": "x", "amount": "1"}, "YYYY-MM-DD"),
        ({"ref": "r", "account_id": "A", "type": "payment", "date": "2026-04-20", "amount": "-1"}, "zero"),
        ({"account_id": "A", "type": "payment"}, "missing ref"),
        ({"ref": "r", "account_id": "A", "type": "contact", "at": "2026-04-20T10:00", "channel": "fax",
          "party": "debtor", "outcome": "connected"}, "unknown channel"),
    ]:  # fmt: skip
        with pytest.raises(RowRejected, match=reason):
            parse_result_row(raw)
    with pytest.raises(InvalidInput):
        PlacementRules(term_days=0)


def test_placement_import_recall_and_commission(engine: Engine, tmp_path: Path) -> None:
    for account_id, spent in (("A1", 1_000_000), ("A2", 300_000), ("A3", 5_000_000)):
        aged_account(engine, account_id, spent, dpd_date(69))
    run_date(engine, dpd_date(70), EodSummary())  # the real end-of-day decides the placements
    with engine.connect() as conn:
        waiting = dict(conn.execute(select(collection_states.c.account_id, collection_states.c.agency)).all())
    assert waiting == {"A1": "unassigned", "A2": "unassigned", "A3": "unassigned"}
    day = dpd_date(71)
    agency = operations.agency
    collections.add_agency(engine, "AG1", "华东催收服务", datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(Refused, match=r"\[cn.agency_whitelist\]"):
        agency.place_accounts(engine, "AG1", day)
    with pytest.raises(NotFound):
        agency.place_accounts(engine, "AG9", day)
    collections.review_agency(engine, "AG1", date(2026, 1, 1), date(2026, 12, 31), "compliance")

    placed = agency.place_accounts(engine, "AG1", day, PlacementRules(max_balance=2_000_000, term_days=30))
    assert [p["account_id"] for p in placed["placed"]] == ["A1", "A2"]
    assert placed["skipped"] == [{"account_id": "A3", "reason": "outside the placement rules"}]
    assert placed["placed"][0]["commission_rate"] == "0.12"
    assert operations.show_case(engine, "account:A1", score=False)["queue"] == "agency"

    files = agency.placement_file(engine, "AG1", day, tmp_path)
    document = json.loads(Path(files["json"]).read_text(encoding="utf-8"))
    assert [p["account_id"] for p in document["placements"]] == ["A1", "A2"]
    assert Path(files["csv"]).read_text(encoding="utf-8").startswith("placement,account_id,case,")

    accounts.repay(engine, "A1", 50_000, on=day)  # the borrower pays the lender, as the agency asked
    results = tmp_path / "results.json"
    rows = [
        {"ref": "P1", "account_id": "A1", "type": "payment", "date": day.isoformat(), "amount": "500.00"},
        {"ref": "P2", "account_id": "A1", "type": "payment", "date": day.isoformat(), "amount": "500.00"},
        {"ref": "P3", "account_id": "A2", "type": "payment", "date": day.isoformat(), "amount": "300.00"},
        {"ref": "C1", "account_id": "A2", "type": "contact", "at": f"{day}T10:00", "channel": "voice",
         "party": "debtor", "outcome": "promise"},
        {"ref": "C2", "account_id": "A2", "type": "contact", "at": f"{day}T23:00", "channel": "voice",
         "party": "debtor", "outcome": "connected"},
        {"ref": "C3", "account_id": "A3", "type": "contact", "at": f"{day}T11:00", "channel": "voice",
         "party": "debtor", "outcome": "connected"},
        {"ref": "X1", "account_id": "A1", "type": "payment", "date": day.isoformat(), "amount": "abc"},
        {"ref": "P1", "account_id": "A1", "type": "payment", "date": day.isoformat(), "amount": "1.00"},
    ]  # fmt: skip
    results.write_text(json.dumps({"rows": rows}), encoding="utf-8")
    report = agency.import_results(engine, "AG1", results)
    assert [(a["row"], a["ref"]) for a in report["accepted"]] == [(1, "P1"), (4, "C1")]
    assert report["accepted"][0]["commission"] == "60.00" and report["commission"] == "60.00"
    reasons = {r["ref"] if r["row"] != 8 else "P1 again": r["reason"] for r in report["rejected"]}
    assert "reconciliation" in reasons["P2"] and "reconciliation" in reasons["P3"]
    assert reasons["C2"].startswith("contact refused by cn.quiet_hours")
    assert "not placed with AG1" in reasons["C3"]
    assert "amount" in reasons["X1"]
    assert "appears twice" in reasons["P1 again"]
    with engine.connect() as conn:
        logged = conn.execute(select(contacts.c.account_id, contacts.c.agency, contacts.c.outcome)).all()
    assert logged == [("A2", "AG1", "promise")]

    again = agency.import_results(engine, "AG1", results)
    assert again["accepted"] == []
    assert [r["reason"] for r in again["rejected"] if r["row"] in (1, 4)] == [
        "P1 is already imported",
        "C1 is already imported",
    ]
    (tmp_path / "results.txt").write_text("ref,account_id\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"\.csv or \.json"):
        agency.import_results(engine, "AG1", tmp_path / "results.txt")
    with pytest.raises(InvalidInput, match="cannot read"):
        agency.import_results(engine, "AG1", tmp_path / "missing.csv")

    assert agency.recall_due(engine, dpd_date(80))["recalled"] == []
    recalled = agency.recall_due(engine, dpd_date(101))
    assert [r["account_id"] for r in recalled["recalled"]] == ["A1", "A2"]
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(collection_states.c.agency).where(collection_states.c.account_id == "A1")
            ).scalar_one()
            is None
        )
    statement = agency.commission_statement(engine, "AG1")
    assert (statement["recovered"], statement["commission"]) == ("500.00", "60.00")
    assert statement["placements"][0] == {
        "placement": statement["placements"][0]["placement"],
        "account_id": "A1",
        "days_past_due_at_placement": 70,
        "rate": "0.12",
        "recovered": "500.00",
        "commission": "60.00",
    }


def test_agency_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/agency.db"
    engine = make_engine(url)
    upgrade(engine)
    aged_account(engine, "A1", 1_000_000, dpd_date(69))
    run_date(engine, dpd_date(70), EodSummary())
    day = dpd_date(71)
    accounts.repay(engine, "A1", 20_000, on=day)
    engine.dispose()
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--db", url, *args])
        return result.exit_code, result.output

    assert run("compliance", "agency", "add", "AG1", "--name", "华东催收服务")[0] == 0
    code, out = run("agency", "place", "AG1", "--date", day.isoformat())
    assert code == 2 and "[cn.agency_whitelist]" in out
    assert run(
        "compliance", "agency", "review", "AG1",
        "--reviewed-on", "2026-01-01", "--valid-until", "2026-12-31", "--reviewer", "compliance",
    )[0] == 0  # fmt: skip
    code, out = run("agency", "place", "AG1", "--date", day.isoformat(), "--json")
    assert code == 0 and [p["account_id"] for p in json.loads(out)["placed"]] == ["A1"]
    code, out = run("agency", "file", "AG1", "--date", day.isoformat(), "--out", str(tmp_path))
    assert code == 0 and "1 placements" in out
    results = tmp_path / "results.csv"
    results.write_text(
        "ref,account_id,type,date,amount,at,channel,party,outcome\n"
        f"P1,A1,payment,{day},200.00,,,,\n"
        f"P2,A1,payment,{day},1.00,,,,\n",
        encoding="utf-8",
    )
    code, out = run("agency", "import", "AG1", str(results))
    assert code == 0 and "2 rows, 1 taken, 1 rejected; commission 24.00" in out and "row 2 (P2)" in out
    code, out = run("agency", "recall", "--date", (day.replace(month=day.month + 3)).isoformat())
    assert code == 0 and "1 placements recalled" in out
    code, out = run("agency", "commission", "AG1", "--json")
    assert code == 0 and json.loads(out)["commission"] == "24.00"
