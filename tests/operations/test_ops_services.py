"""Operations services on SQLite and PostgreSQL: cases, allocation, field orders, legal cases, debt sale."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ops_helpers import add_borrower, aged_account, dpd_date, queue_work
from sqlalchemy import Engine, func, select

from overdue.domain.errors import AccountSold, Conflict, InvalidInput, NotFound, Refused
from overdue.engine.reference import EodSummary, run_date
from overdue.operations.legal import LegalRefused
from overdue.services import accounts, operations
from overdue.services.collections import ContactRefused, record_contact
from overdue.store.collection_tables import contacts, work_items
from overdue.store.compliance_tables import account_holds
from overdue.store.schema import ledger_transactions

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _holds(engine: Engine, account_id: str) -> list[tuple[str, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(account_holds.c.kind, account_holds.c.ended_at.is_(None))
            .where(account_holds.c.account_id == account_id)
            .order_by(account_holds.c.id)
        )
        return [(r[0], bool(r[1])) for r in rows]


def _work_status(engine: Engine, account_id: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(work_items.c.status)
                .where(work_items.c.account_id == account_id)
                .order_by(work_items.c.id)
            ).scalars()
        )


def test_cases_group_a_borrowers_accounts(engine: Engine) -> None:
    through = dpd_date(40)
    aged_account(engine, "A1", 1_500_000, through)
    aged_account(engine, "A2", 300_000, through)
    aged_account(engine, "A3", 200_000, through)
    aged_account(engine, "A4", 200_000, through, repay={date(2026, 2, 5): 200_000})
    add_borrower(engine, "B1", "110101199001011234", "A1", "A2")

    cases = operations.cases.list_cases(engine)
    assert [(c["case"], c["stage"], c["queue"], c["days_past_due"]) for c in cases] == [
        ("B1", "M2", "M2", 40),
        ("account:A3", "M2", "M2", 40),
    ]
    assert [a["account_id"] for a in cases[0]["accounts"]] == ["A1", "A2"]
    assert cases[0]["overdue"] == "18360.00"  # 18,000 principal + 0.05 % a day × 40 days
    assert cases[0]["priority"] > cases[1]["priority"]
    assert all(c["score"] is not None and 0 < c["score"] < 1 for c in cases)
    everything = operations.cases.list_cases(engine, include_current=True, score=False)
    assert {c["case"]: c["queue"] for c in everything}["account:A4"] == "current"
    assert everything[0]["score"] is None

    queue_work(engine, "A2", through, "field_visit", "field")
    assert operations.cases.list_cases(engine, queue="field", score=False)[0]["case"] == "B1"
    shown = operations.show_case(engine, "B1", score=False)
    assert shown["queue"] == "field" and shown["accounts"][1]["open_work"] == ["field"]
    with pytest.raises(NotFound, match="unknown case 'B9'"):
        operations.show_case(engine, "B9")
    with pytest.raises(InvalidInput, match="unknown queue"):
        operations.cases.list_cases(engine, queue="M9")


def test_allocation_is_sticky_capped_and_redistributes_absences(engine: Engine) -> None:
    through = dpd_date(40)
    for n, amount in enumerate([900_000, 700_000, 500_000, 300_000, 100_000], start=1):
        aged_account(engine, f"A{n}", amount, through)
    alloc = operations.allocation
    alloc.add_collector(engine, "c1", "张三", daily_cap=2)
    alloc.add_collector(engine, "c2", "李四", daily_cap=2)
    day1, day2 = dpd_date(41), dpd_date(42)

    first = alloc.allocate_day(engine, day1, score=False)
    given = {a["case"]: a["collector"] for a in first["assignments"]}
    assert len(given) == 4 and first["unassigned"] == ["account:A5"]  # lowest priority, no capacity left
    assert sorted(first["collectors"]) == ["c1", "c2"]
    assert all(load["cases"] == 2 for load in first["collectors"].values())
    assert alloc.allocate_day(engine, day1, score=False)["already_allocated"] is True

    alloc.record_absence(engine, "c1", day2, "annual leave")
    alloc.add_collector(engine, "c3", "王五", daily_cap=3)
    second = alloc.allocate_day(engine, day2, score=False)
    now = {a["case"]: a for a in second["assignments"]}
    for case, collector in given.items():
        if collector == "c2":
            assert now[case]["collector"] == "c2" and now[case]["sticky"] is True
        else:
            assert now[case]["collector"] == "c3"  # c1 is away
    assert len(now) == 5 and second["unassigned"] == []

    with pytest.raises(Refused, match="daily cap 2"):
        alloc.reassign(engine, "account:A5", day2, "c2", by="sup1", reason="knows the borrower")
    with pytest.raises(Refused, match="away"):
        alloc.reassign(engine, "account:A5", day2, "c1", by="sup1", reason="x")
    with pytest.raises(InvalidInput, match="--reason"):
        alloc.reassign(engine, "account:A5", day2, "c3", by="sup1", reason=" ")
    alloc.add_collector(engine, "c2", "李四", daily_cap=4)
    moved = alloc.reassign(engine, "account:A5", day2, "c2", by="sup1", reason="knows the borrower")
    assert moved["to"] == "c2" and moved["by"] == "sup1"
    queue = alloc.collector_queue(engine, "c2", day2)
    assert "account:A5" in [c["case"] for c in queue["cases"]]
    history = operations.show_case(engine, "account:A5", score=False)["assignments"]
    assert history["reassignments"][0]["reason"] == "knows the borrower"
    assert history["by_date"][-1] == {"date": day2.isoformat(), "collector": "c2", "source": "supervisor"}
    with pytest.raises(NotFound):
        alloc.collector_queue(engine, "nobody", day2)


def test_field_orders_routes_and_closing(engine: Engine) -> None:
    through = dpd_date(95)
    for account_id in ("A1", "A2", "A3", "A5"):
        aged_account(engine, account_id, 300_000, through)
        queue_work(engine, account_id, through, "field_visit", "field")
    add_borrower(engine, "B1", "110101199001011234", "A1", "A2")
    add_borrower(engine, "B2", "110101199202021234", "A3")
    operations.field.set_place(engine, "B1", "上海", "浦东新区")
    operations.field.set_place(engine, "B2", "上海", "徐汇区")
    alloc = operations.allocation
    for agent in ("f1", "f2", "f3", "f4", "f5"):
        alloc.add_collector(engine, agent, f"外访{agent}", kind="field_agent")
    day = dpd_date(96)
    alloc.record_absence(engine, "f5", day)

    planned = operations.field.plan_day(engine, day)
    assert planned["created"] == 3
    routes = {(r["city"], r["district"]): r for r in planned["routes"]}
    assert set(routes) == {("上海", "浦东新区"), ("上海", "徐汇区"), ("unknown", "unknown")}
    assert all(len(r["team"]) >= 2 and "f5" not in r["team"] for r in routes.values())
    b1_order = routes[("上海", "浦东新区")]["orders"][0]
    assert [a["account_id"] for a in b1_order["accounts"]] == ["A1", "A2"]  # one visit per borrower
    assert operations.field.plan_day(engine, day)["created"] == 0

    order = b1_order["order"]
    at = datetime(day.year, day.month, day.day, 10, 30)
    with pytest.raises(InvalidInput, match="recording reference"):
        operations.field.close_order(engine, order, at, "connected", " ")
    with pytest.raises(ContactRefused) as refused:
        operations.field.close_order(engine, order, at, "connected", "REC-1", team=["f1"])
    assert refused.value.rule == "cn.field_visit_team"
    closed = operations.field.close_order(engine, order, at, "promise", "REC-1", note="会面，承诺还款")
    assert closed["status"] == "closed" and closed["recording_ref"] == "REC-1"
    assert all(a["visit_recorded"] for a in closed["accounts"])
    with engine.connect() as conn:
        visits = conn.execute(
            select(contacts.c.account_id, contacts.c.collectors, contacts.c.recording_ref).where(
                contacts.c.channel == "field"
            )
        ).all()
    assert sorted(visits) == [("A1", 2, "REC-1"), ("A2", 2, "REC-1")]
    assert _work_status(engine, "A1") == ["done"]
    with pytest.raises(Refused, match="already closed"):
        operations.field.close_order(engine, order, at, "promise", "REC-1")

    # A second visit the same day to the same account is refused by the rulebook; the order stays open.
    queue_work(engine, "A1", day, "field_visit_again", "field")
    again = operations.field.plan_day(engine, day)
    assert again["created"] == 1
    second = [o for r in again["routes"] for o in r["orders"] if o["status"] == "open" and o["case"] == "B1"]
    assert second[0]["team"] == b1_order["team"]  # the route keeps its team
    with pytest.raises(ContactRefused) as refused:
        operations.field.close_order(
            engine, second[0]["order"], at + timedelta(hours=3), "no_answer", "REC-2"
        )
    assert refused.value.rule == "cn.field_visit_per_day"
    with pytest.raises(NotFound):
        operations.field.close_order(engine, "FO-nope", at, "connected", "REC-3")


def test_field_routes_need_two_agents(engine: Engine) -> None:
    aged_account(engine, "A1", 300_000, dpd_date(95))
    queue_work(engine, "A1", dpd_date(95), "field_visit", "field")
    operations.allocation.add_collector(engine, "f1", "外访一", kind="field_agent")
    with pytest.raises(Refused, match="at least 2 field agents"):
        operations.field.plan_day(engine, dpd_date(96))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(work_items)).scalar_one() == 1


def test_legal_case_lifecycle_and_hold(engine: Engine) -> None:
    through = dpd_date(200)
    aged_account(engine, "A1", 2_000_000, through)
    queue_work(engine, "A1", through, "litigation", "legal")
    day = dpd_date(201)
    legal = operations.legal

    opened = legal.open_case(engine, "A1", day, cost=50_000, documents=["LL-2026-001.pdf"])
    case_id = opened["legal_case"]
    assert (opened["step"], opened["total_cost"], opened["events"][0]["documents"]) == (
        "lawyer_letter",
        "500.00",
        ["LL-2026-001.pdf"],
    )
    assert _holds(engine, "A1") == [("litigation", True)]
    assert _work_status(engine, "A1") == ["done"]
    assert operations.cases.list_cases(engine, score=False)[0]["queue"] == "legal"
    with pytest.raises(LegalRefused, match="already has an open legal case"):
        legal.open_case(engine, "A1", day)

    filed = legal.advance(engine, case_id, "filing", day, cost=120_000, documents=["(2026)沪0115民初1号"])
    assert filed["step"] == "filing" and filed["total_cost"] == "1700.00"
    with pytest.raises(LegalRefused, match="cannot go back"):
        legal.advance(engine, case_id, "mediation", day)
    with pytest.raises(InvalidInput, match="needs an outcome"):
        legal.advance(engine, case_id, "closed", day)
    with pytest.raises(InvalidInput):
        legal.advance(engine, case_id, "judgment", day, cost=-1)
    legal.advance(engine, case_id, "judgment", day)
    closed = legal.advance(engine, case_id, "closed", day, outcome="settled", note="和解")
    assert (closed["step"], closed["outcome"], closed["closed_on"]) == ("closed", "settled", day.isoformat())
    assert _holds(engine, "A1") == [("litigation", False)]
    limitation = closed["limitation"]
    assert limitation["last_qualifying_event"] == day.isoformat()
    assert limitation["ends_on"] == day.replace(year=day.year + 3).isoformat()
    (shown,) = legal.show(engine, "A1")
    assert [e["step"] for e in shown["events"]] == ["lawyer_letter", "filing", "judgment", "closed"]
    with pytest.raises(NotFound):
        legal.show(engine, "nope")


def test_a_filing_after_the_limitation_period_is_refused(engine: Engine) -> None:
    aged_account(engine, "A1", 2_000_000, dpd_date(200))
    day = dpd_date(201)
    case_id = operations.legal.open_case(engine, "A1", day)["legal_case"]
    late = day.replace(year=day.year + 3) + timedelta(days=1)
    with pytest.raises(LegalRefused) as refused:
        operations.legal.advance(engine, case_id, "filing", late)
    assert refused.value.rule == "legal.limitation_expired"
    # The debtor's acknowledgement restarts the period.
    operations.legal.advance(engine, case_id, "acknowledgement", day + timedelta(days=700))
    filed = operations.legal.advance(engine, case_id, "filing", late)
    assert filed["limitation"]["last_qualifying_event"] == late.isoformat()


def test_debt_sale_select_export_mark_and_forward(engine: Engine, tmp_path: Path) -> None:
    through = dpd_date(200)
    aged_account(engine, "W1", 2_000_000, through, repay={date(2026, 3, 2): 10_000})
    aged_account(engine, "W2", 100_000, through)
    aged_account(engine, "L1", 300_000, through)
    aged_account(engine, "M1", 300_000, dpd_date(40))
    day = dpd_date(201)
    queue_work(engine, "W1", through, "field_visit", "field")
    operations.legal.open_case(engine, "L1", day)
    sale = operations.sale

    rules = sale.PortfolioFilter(min_days_past_due=180, statuses=("written_off",))
    chosen = sale.select_sale(engine, "S2026-01", "华东资产管理公司", day, rules)
    rows = {r["account_id"]: r for r in chosen["accounts"]}
    assert sorted(rows) == ["W1", "W2"]  # L1 is in court, M1 not written off
    assert rows["W1"]["last_payment_on"] == "2026-03-02" and rows["W2"]["last_payment_on"] is None
    assert rows["W1"]["status"] == "written_off" and rows["W1"]["days_past_due"] == 200
    assert chosen["totals"]["accounts"] == 2
    with pytest.raises(Conflict):
        sale.select_sale(engine, "S2026-01", "x", day, rules)
    with pytest.raises(Refused, match="no account matches"):
        sale.select_sale(engine, "S2026-02", "x", day, rules)  # W1 and W2 are in a sale already

    files = sale.export_sale(engine, "S2026-01", tmp_path / "transfer")
    lines = Path(files["csv"]).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "account_id,status,days_past_due,principal,interest,fees,outstanding,last_payment_on"
    assert lines[1].startswith(f"W1,written_off,200,{rows['W1']['principal']},")
    document = json.loads(Path(files["json"]).read_text(encoding="utf-8"))
    assert document["buyer"] == "华东资产管理公司" and document["accounts"] == chosen["accounts"]

    with pytest.raises(Refused, match="not sold"):
        sale.forward_payment(engine, "W1", day, 5_000, "PAY-1")
    marked = sale.mark_sold(engine, "S2026-01", day)
    assert (marked["accounts"], marked["holds_started"], marked["work_items_cancelled"]) == (2, 2, 1)
    assert _holds(engine, "W1") == [("sold", True)]
    with pytest.raises(Refused, match="already marked sold"):
        sale.mark_sold(engine, "S2026-01", day)
    with pytest.raises(ContactRefused) as refused:
        record_contact(
            engine, "W1", datetime(day.year, day.month, day.day, 11, 0), "voice", "debtor", "connected"
        )
    assert refused.value.rule == "cn.no_contact_after_sale"
    assert "W1" not in {
        a["account_id"] for c in operations.cases.list_cases(engine, score=False) for a in c["accounts"]
    }

    with engine.connect() as conn:
        postings_before = conn.execute(select(func.count()).select_from(ledger_transactions)).scalar_one()
    forwarded = sale.forward_payment(engine, "W1", day, 5_000, "PAY-1")
    assert forwarded == {
        "account_id": "W1",
        "sale": "S2026-01",
        "forwarded_to": "华东资产管理公司",
        "received_on": day.isoformat(),
        "amount": "50.00",
        "reference": "PAY-1",
    }
    with pytest.raises(Conflict, match="already recorded"):
        sale.forward_payment(engine, "W2", day, 5_000, "PAY-1")
    with pytest.raises(Refused, match="not sold"):
        sale.forward_payment(engine, "M1", day, 5_000, "PAY-2")
    with pytest.raises(AccountSold, match="forwarded, not posted"):  # the usual repayment is refused
        accounts.repay(engine, "W1", 5_000, on=day)
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(ledger_transactions)).scalar_one()
            == postings_before
        )
    assert [p["reference"] for p in sale.forwarded_of(engine, "S2026-01")] == ["PAY-1"]


def test_marking_a_sale_on_a_wrong_date_changes_nothing(engine: Engine) -> None:
    aged_account(engine, "W1", 2_000_000, dpd_date(200))
    aged_account(engine, "W2", 2_000_000, dpd_date(201))
    operations.sale.select_sale(
        engine, "S1", "buyer", dpd_date(202), operations.sale.PortfolioFilter(min_days_past_due=180)
    )
    with pytest.raises(InvalidInput, match="already closed"):
        operations.sale.mark_sold(engine, "S1", dpd_date(201))
    assert _holds(engine, "W1") == [] and _holds(engine, "W2") == []


def test_the_end_of_days_field_visits_become_orders(engine: Engine) -> None:
    aged_account(engine, "A1", 300_000, dpd_date(90))
    run_date(engine, dpd_date(91), EodSummary())  # the real decide → comply → act queues the visit
    (case,) = operations.cases.list_cases(engine, score=False)
    assert "field" in case["accounts"][0]["open_work"]
    assert case["queue"] == "agency"  # placed with an agency the same day (DPD ≥ 61): agency before field
    for agent in ("f1", "f2"):
        operations.allocation.add_collector(engine, agent, agent, kind="field_agent")
    planned = operations.field.plan_day(engine, dpd_date(92))
    (route,) = planned["routes"]
    assert (route["city"], route["team"], route["orders"][0]["case"]) == (
        "unknown",
        ["f1", "f2"],
        "account:A1",
    )
