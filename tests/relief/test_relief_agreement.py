"""Agreement documents of plans and settlements: every required term, in zh-CN and English, HTML and PDF."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.domain.errors import InvalidInput, NotFound
from overdue.domain.relief_state import ACTIVE, Arrangement, ScheduledPayment
from overdue.engine.reference import run_eod
from overdue.relief_docs.content import (
    AgreementFacts,
    BalanceStructure,
    agreement_document,
    breach_clause,
    schedule_rows,
)
from overdue.relief_docs.html import render_html
from overdue.relief_docs.pdf import render_pdf
from overdue.services import accounts, relief, relief_agreements
from overdue.services.relief import ReliefRequest

PLAN = Arrangement(
    id="A1/plan/2026-03-13/1",
    kind="plan",
    status=ACTIVE,
    agreed_on=date(2026, 3, 13),
    schedule=(
        ScheduledPayment(0, date(2026, 3, 20), 10_000),
        ScheduledPayment(1, date(2026, 4, 13), 45_001, 450),
        ScheduledPayment(2, date(2026, 5, 13), 44_999, 225),
    ),
    waived=1_550,
    maker="agent1",
    fingerprint="f",
    waived_interest=1_550,
    monthly_rate=Decimal("0.005"),
    breach_days=10,
    approver="lead<1>",
    approver_role="team_lead",
    started_on=date(2026, 3, 13),
)
FACTS = AgreementFacts("A1", "张三", PLAN, BalanceStructure(100_000, 1_550, 0))


def test_the_schedule_rows() -> None:
    assert schedule_rows(PLAN, "en") == (
        ("No.", "Due date", "Principal", "Interest", "Amount"),
        ("down payment", "2026-03-20", "100.00", "0.00", "100.00"),
        ("1", "2026-04-13", "450.01", "4.50", "454.51"),
        ("2", "2026-05-13", "449.99", "2.25", "452.24"),
        ("Total", "", "1000.00", "6.75", "1006.75"),
    )
    assert schedule_rows(PLAN, "zh-CN")[0] == ("期数", "还款日", "本金", "利息", "应还金额")
    assert schedule_rows(PLAN, "zh-CN")[1][0] == "首付"


def test_every_required_term_is_stated() -> None:
    document = agreement_document(FACTS, "en")
    assert document.title == "Negotiated repayment plan agreement"
    rows = {label: value for section in document.sections for label, value in section.rows}
    assert rows["Principal"] == "1000.00" and rows["Interest (overdue interest included)"] == "15.50"
    assert rows["Fees"] == "0.00" and rows["Total owed when agreed"] == "1015.50"
    assert rows["Plan interest rate"] == "0.5 % a month" and rows["Plan interest in total"] == "6.75"
    assert "Annualised rate (monthly IRR × 12)" in rows
    assert rows["Interest set aside"] == "15.50" and rows["Approved by"] == "lead<1> (team_lead)"
    clauses = " ".join(c for section in document.sections for c in section.clauses)
    assert "more than 10 days late, the plan is cancelled" in clauses
    assert "credit line is closed while the plan is kept and is closed for good" in clauses
    assert "monthly credit-bureau status stay as they were" in clauses
    zh = agreement_document(FACTS, "zh-CN")
    assert zh.title == "个性化分期还款协议"
    assert breach_clause(PLAN, "zh-CN").startswith("任一期还款逾期超过10天")


def test_html_is_escaped_and_the_pdf_has_pages() -> None:
    html = render_html(agreement_document(FACTS, "en"))
    assert "lead&lt;1&gt; (team_lead)" in html and "lead<1>" not in html
    pages = {}
    for lang in ("zh-CN", "en"):
        pdf = render_pdf(agreement_document(FACTS, lang))
        assert pdf.data.startswith(b"%PDF") and pdf.pages >= 1
        assert b"STSong-Light" in pdf.data
        pages[lang] = pdf.pages
    long_plan = Arrangement(
        **{
            **PLAN.__dict__,
            "schedule": tuple(ScheduledPayment(n, date(2026, 3, 13), 1_000) for n in range(1, 61)),
        }
    )
    long_facts = AgreementFacts("A1", None, long_plan, BalanceStructure(60_000, 1_550, 0))
    assert render_pdf(agreement_document(long_facts, "zh-CN")).pages > pages["zh-CN"]


def overdue_account(engine: Engine, through: date) -> None:
    """A1: 1,000.00 bought on 10 January, due 9 February, unpaid; end-of-day run through ``through``."""
    accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
    run_eod(engine, date(2026, 1, 9))
    accounts.purchase(engine, "A1", 100_000, on=date(2026, 1, 10))
    run_eod(engine, through)


def test_a_plan_agreement_from_the_store(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    overdue_account(engine, date(2026, 3, 12))
    request = ReliefRequest("plan", periods=3, down_payment=10_000, waive_interest=True)
    quote = relief.quote(engine, "A1", request)
    accepted = relief.accept(engine, "A1", request, quote["fingerprint"], maker="agent1")
    plan_id = accepted["id"]
    relief.approve(engine, "A1", plan_id, "lead1", "team_lead")

    facts = relief_agreements.agreement_facts(engine, "A1", plan_id)
    owed = facts.balance
    assert (owed.principal, owed.fees) == (100_000, 0) and owed.interest == int(
        Decimal(quote["waived"]) * 100
    )
    html = {
        lang: relief_agreements.render_agreement(engine, "A1", plan_id, "html", lang).decode()
        for lang in ("en", "zh-CN")
    }
    for payment in quote["payments"]:
        assert payment["amount"] in html["en"] and payment["amount"] in html["zh-CN"]
        assert payment["due_date"] in html["en"]
    assert "If any payment is more than 10 days late, the plan is cancelled" in html["en"]
    assert "任一期还款逾期超过10天，本协议即于当日终止" in html["zh-CN"]
    assert "lead1 (team_lead)" in html["en"]
    for lang in ("en", "zh-CN"):
        assert relief_agreements.render_agreement(engine, "A1", plan_id, "pdf", lang).startswith(b"%PDF")

    with pytest.raises(InvalidInput, match="--format"):
        relief_agreements.render_agreement(engine, "A1", plan_id, "docx", "en")
    with pytest.raises(InvalidInput, match="--lang"):
        relief_agreements.render_agreement(engine, "A1", plan_id, "html", "fr")
    with pytest.raises(NotFound):
        relief_agreements.render_agreement(engine, "A1", "A1/plan/none", "html", "en")


def test_a_settlement_agreement_on_both_databases(engine: Engine, tmp_path: Path) -> None:
    overdue_account(engine, date(2026, 3, 12))
    request = ReliefRequest("settlement", amount=60_000, pay_by=date(2026, 3, 31))
    quote = relief.quote(engine, "A1", request)
    settlement_id = relief.accept(engine, "A1", request, quote["fingerprint"], maker="agent1")["id"]
    pending = relief_agreements.render_agreement(engine, "A1", settlement_id, "html", "en").decode()
    assert "awaiting approval" in pending and "600.00" in pending and quote["waived"] in pending
    relief.approve(engine, "A1", settlement_id, "boss", "supervisor")
    facts = relief_agreements.agreement_facts(engine, "A1", settlement_id)
    assert facts.balance.total == 60_000 + int(Decimal(quote["waived"]) * 100)
    zh = relief_agreements.render_agreement(engine, "A1", settlement_id, "html", "zh-CN").decode()
    assert "协商结清协议" in zh and "（G）" in zh and "boss (supervisor)" in zh
    assert "如未于2026-03-31前足额还款，协商结清自次日起失效" in zh


def test_cli_agreement(tmp_path: Path) -> None:
    runner = CliRunner()
    db = ["--db", f"sqlite:///{tmp_path}/a.db"]

    def ok(*args: str) -> str:
        result = runner.invoke(app, [*db, *args])
        assert result.exit_code == 0, (result.output, result.exception)
        return result.stdout

    ok("account", "open", "A1", "--limit", "5000.00", "--opened", "2026-01-05")
    ok("eod", "--date", "2026-01-09")
    ok("purchase", "A1", "1000.00")
    ok("eod", "--date", "2026-03-12")
    quote = json.loads(ok("relief", "quote", "A1", "--kind", "plan", "--periods", "6", "--json"))
    plan = ("--kind", "plan", "--periods", "6")
    accepted = json.loads(
        ok("relief", "accept", "A1", *plan, "--fingerprint", quote["fingerprint"], "--maker", "a1", "--json")
    )
    out = tmp_path / "docs" / "plan.pdf"
    pdf = ("--format", "pdf", "--lang", "zh-CN", "--out", str(out))
    written = json.loads(ok("relief", "agreement", "A1", accepted["id"], *pdf, "--json"))
    assert written["bytes"] == out.stat().st_size and out.read_bytes().startswith(b"%PDF")
    text = ok("relief", "agreement", "A1", accepted["id"], "--lang", "en", "--out", str(tmp_path / "p.html"))
    assert text.startswith("wrote ")
    assert all(p["amount"] in (tmp_path / "p.html").read_text() for p in quote["payments"])
    bad = runner.invoke(
        app, [*db, "relief", "agreement", "A1", accepted["id"], "--format", "doc", "--out", "x"]
    )
    assert bad.exit_code == 2 and bad.stdout == ""
    # Each agreement written read the borrower's data: logged as the operator (the refused one is not).
    listed = ok("audit", "list", "--entity", "relief_agreement", "--json")
    rows = json.loads(listed)["rows"]
    assert [(r["action"], r["record"], r["detail"]["format"]) for r in rows] == [
        ("read", accepted["id"], "pdf"),
        ("read", accepted["id"], "html"),
    ]
    assert all(r["actor"].startswith("cli:") and r["role"] == "operator" for r in rows)
