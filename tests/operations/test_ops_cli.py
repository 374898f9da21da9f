"""``overdue cases|queue|field|legal|sale`` from the command line (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

from ops_helpers import add_borrower, aged_account, dpd_date, queue_work
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.store.db import make_engine, upgrade


def test_operations_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ops.db"
    engine = make_engine(url)
    upgrade(engine)
    aged_account(engine, "A1", 2_000_000, dpd_date(200))
    aged_account(engine, "A2", 300_000, dpd_date(200))
    aged_account(engine, "A3", 300_000, dpd_date(200))
    add_borrower(engine, "B1", "110101199001011234", "A1")
    queue_work(engine, "A2", dpd_date(200), "field_visit", "field")
    engine.dispose()
    runner = CliRunner()
    day = dpd_date(201).isoformat()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--db", url, *args])
        return result.exit_code, result.output

    def run_json(*args: str) -> dict[str, object]:
        code, out = run(*args, "--json")
        assert code == 0, out
        value: dict[str, object] = json.loads(out)
        return value

    cases = run_json("cases", "list", "--no-score")["cases"]
    assert isinstance(cases, list)
    assert [c["case"] for c in cases] == ["B1", "account:A2", "account:A3"]
    code, out = run("cases", "list", "--no-score")
    assert code == 0 and "cases 案件: 3" in out and "account:A2" in out
    assert run_json("cases", "show", "B1", "--no-score")["queue"] == "M3+"

    assert run("queue", "collector", "add", "c1", "--name", "张三", "--cap", "1")[0] == 0
    assert run("queue", "collector", "add", "f1", "--name", "外访一", "--field")[0] == 0
    assert run("queue", "collector", "add", "f2", "--name", "外访二", "--field")[0] == 0
    allocated = run_json("queue", "allocate", "--date", day, "--no-score")
    assert allocated["unassigned"] == ["account:A3"]
    # 20,000 principal + 0.05 % a day for the 180 days up to the write-off; priority 400 + 300 + 150
    assert run_json("queue", "show", "c1", "--date", day)["cases"] == [
        {"case": "B1", "queue": "M3+", "overdue": "21800.00", "priority": 850, "source": "allocation"}
    ]
    code, out = run(
        "queue", "reassign", "account:A3", "--to", "c1", "--date", day, "--by", "sup", "--reason", "x"
    )
    assert code == 2 and out.startswith("error: c1 already has 1 cases")

    routes = run_json("field", "routes", "--date", day)
    order = routes["routes"][0]["orders"][0]["order"]  # type: ignore[index]
    code, out = run(
        "field", "close", order, "--at", f"{day}T23:30", "--outcome", "connected", "--recording", "R1"
    )
    assert (code == 2 and "cn.quiet_hours" in out) or "22:00" in out
    closed = run_json(
        "field", "close", order, "--at", f"{day}T10:00", "--outcome", "connected", "--recording", "R1"
    )
    assert closed["status"] == "closed"

    opened = run_json("legal", "open", "A1", "--date", day, "--cost", "800.00", "--document", "LL-1.pdf")
    case_id = str(opened["legal_case"])
    assert opened["total_cost"] == "800.00"
    code, out = run("legal", "advance", case_id, "judgment", "--date", day)
    assert code == 2 and "[legal.order]" in out
    code, out = run("legal", "advance", case_id, "filing", "--date", day, "--cost", "300")
    assert code == 0 and "filing" in out and "limitation 诉讼时效" in out
    assert run_json("legal", "show", "A1")["legal_cases"][0]["step"] == "filing"  # type: ignore[index]

    selected = run_json(
        "sale", "select", "S1", "--buyer", "资产管理公司", "--date", day,
        "--min-dpd", "180", "--status", "written_off", "--max-balance", "5000",
    )  # fmt: skip
    assert [r["account_id"] for r in selected["accounts"]] == ["A2", "A3"]  # type: ignore[union-attr]
    exported = run_json("sale", "export", "S1", "--out", str(tmp_path / "out"))
    assert Path(str(exported["csv"])).read_text(encoding="utf-8").count("\n") == 3
    assert run_json("sale", "mark", "S1", "--date", day)["accounts"] == 2
    paid = run_json("sale", "payment", "A3", "--amount", "20.00", "--date", day, "--reference", "P1")
    assert paid["forwarded_to"] == "资产管理公司"
    shown = run_json("sale", "show", "S1")
    assert shown["status"] == "sold" and shown["forwarded_payments"][0]["amount"] == "20.00"  # type: ignore[index]
    code, out = run("sale", "payment", "A1", "--amount", "20.00", "--date", day, "--reference", "P2")
    assert code == 2 and "not sold" in out
    code, out = run("sale", "select", "S2", "--buyer", "x", "--date", "someday")
    assert code == 2 and out.startswith("error:")
