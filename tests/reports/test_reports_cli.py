"""``overdue demo`` and ``overdue simulate`` through typer's CliRunner."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path

import typer
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from overdue.cli import demo
from overdue.cli.main import _OverdueGroup, main
from overdue.store.account_tables import accounts
from overdue.store.behaviour_tables import behaviour_scores


def _app() -> typer.Typer:
    """The root app with the demo commands, registered as main.py registers them."""
    app = typer.Typer(cls=_OverdueGroup, no_args_is_help=True)
    app.callback()(main)
    app.command("demo")(demo.demo)
    app.command("simulate")(demo.simulate)
    return app


def test_demo_writes_a_bilingual_report_and_stores_the_portfolio(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/demo.db"
    out = tmp_path / "report"
    runner = CliRunner()
    args = ["--db", db, "demo", "--accounts", "200", "--months", "3", "--out", str(out), "--workers", "1"]
    args += ["--compare-calls", "300"]  # a portfolio of its own, of any size (the default is 20,000)
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "Roll rates" in result.output and "Champion vs challenger" in result.output
    assert "Collection score PSI" in result.output and "Behaviour score PSI" in result.output
    assert "Call priority 外呼排序 (300 accounts × 3 months" in result.output
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "外呼排序：按催收评分还是按逾期金额" in html and "Call priority: by collection score" in html
    calls = json.loads((out / "report.json").read_text(encoding="utf-8"))["call_priority"]
    assert [o["order"] for o in calls["orders"]] == ["balance", "expected"]
    assert all(o["calls_made"] > 0 and o["calls_left_over"] > 0 for o in calls["orders"])
    assert "入催率" in html and "冠军 / 挑战者" in html  # Chinese
    assert "Entry-to-collections rate" in html and "Champion vs challenger" in html  # English
    assert "行为评分稳定性（PSI）" in html and "Behaviour score stability (PSI)" in html
    assert html.count("data:image/svg+xml;base64,") >= 6
    # Chart labels are text in both languages; the browser draws the Chinese with its own fonts.
    first = html.split("data:image/svg+xml;base64,", 1)[1].split('"', 1)[0]
    svg = base64.b64decode(first).decode("utf-8")
    assert "<text" in svg and "Noto Sans CJK SC" in svg and " / " in svg
    again = runner.invoke(_app(), args)
    assert again.exit_code == 2 and "already has 200 accounts" in again.output
    fresh = runner.invoke(_app(), [*args, "--fresh", "--json"])
    assert fresh.exit_code == 0, fresh.output
    stored = json.loads(fresh.output)["stored"]
    assert stored["accounts"] == 200
    # Every account opens in the first month and is on book at each of the 3 month ends.
    assert stored["behaviour_scores"] == 200 * 3
    engine = create_engine(db)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(behaviour_scores)).scalar_one() == 200 * 3
    engine.dispose()


def test_simulate_prints_json_without_writing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(),
        ["--db", f"sqlite:///{tmp_path}/x.db", "simulate", "--accounts", "60", "--months", "2", "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["summary"]["accounts"] == 60
    assert not (tmp_path / "x.db").exists()


def test_the_demo_stores_english_speaking_borrowers(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/demo.db"
    args = ["--db", db, "demo", "--accounts", "80", "--months", "1", "--out", str(tmp_path / "r")]
    extra = ["--workers", "1", "--english-share", "0.5", "--compare-calls", "0", "--json"]
    result = CliRunner().invoke(_app(), [*args, *extra])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["call_priority"] is None  # left out
    engine = create_engine(db)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(select(accounts.c.language, func.count()).group_by(accounts.c.language)).all()
        )
    engine.dispose()
    assert set(counts) == {"zh-CN", "en"} and sum(counts.values()) == 80


def test_the_cli_refuses_a_share_outside_0_to_1(tmp_path: Path) -> None:
    args = ["--db", f"sqlite:///{tmp_path}/x.db", "simulate", "--accounts", "10", "--english-share", "1.5"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 2
    assert "--english-share" in result.output


def test_fraudulent_borrowers_change_the_portfolio_and_reach_the_call_comparison(tmp_path: Path) -> None:
    runner = CliRunner()
    simulate = ["--db", f"sqlite:///{tmp_path}/x.db", "simulate", "--accounts", "300", "--months", "3"]
    plain = runner.invoke(_app(), [*simulate, "--workers", "1", "--fraud-share", "0", "--json"])
    fraud = runner.invoke(_app(), [*simulate, "--workers", "1", "--fraud-share", "0.2", "--json"])
    assert plain.exit_code == 0 and fraud.exit_code == 0, plain.output + fraud.output
    # Fraud spends more and pays no statement: more falls past due and less of it comes back.
    plain_summary = json.loads(plain.output)["summary"]
    fraud_summary = json.loads(fraud.output)["summary"]
    assert Decimal(fraud_summary["exposure"]) > Decimal(plain_summary["exposure"])
    assert Decimal(fraud_summary["recovery_rate"]) < Decimal(plain_summary["recovery_rate"])

    db = f"sqlite:///{tmp_path}/demo.db"
    args = ["--db", db, "demo", "--accounts", "200", "--months", "3", "--out", str(tmp_path / "r")]
    args += ["--compare-calls", "200"]
    result = runner.invoke(_app(), [*args, "--workers", "1", "--fraud-share", "0.2", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["call_priority"]["fraud_share"] == 0.2
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "欺诈借款人占比 0.2" in html and "fraud share 0.2" in html

    refused = runner.invoke(_app(), [*simulate, "--fraud-share", "1.5"])
    assert refused.exit_code == 2 and "--fraud-share" in refused.output
