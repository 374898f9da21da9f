"""The monthly credit-bureau file, on SQLite and PostgreSQL, from accounts built through the real services
and end-of-day (:mod:`bureau_portfolio`): every field of the records, the months an account is left out of,
the limit in force at month end, the refusal of a month not yet closed, and both formats."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import date
from pathlib import Path

import pytest
from bureau_portfolio import NATIONAL_ID
from sqlalchemy import Engine, select

from overdue.domain.errors import InvalidDate, InvalidInput
from overdue.engine.reference import run_eod
from overdue.services import bureau
from overdue.services import scenario as scenarios
from overdue.services.accounts import account_snapshot
from overdue.store.api_tables import audit_log

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def by_account(file: bureau.BureauFile) -> dict[str, bureau.BureauRecord]:
    return {r.account_id: r for r in file.records}


def test_every_field_of_the_march_file(portfolio: Engine) -> None:
    march = bureau.bureau_file(portfolio, "2026-03")
    assert march.month == "2026-03"
    assert [r.account_id for r in march.records] == ["CUR", "DEL", "MID", "WO"]
    records = by_account(march)
    assert records["DEL"] == bureau.BureauRecord(
        account_id="DEL",
        borrower_id="B1",
        name="张三",
        national_id=NATIONAL_ID,  # in full: the bureau matches on it
        month="2026-03",
        status="2",  # M2 at DPD 50
        credit_limit="5000.00",
        balance="2050.00",  # 2,000.00 principal + 50 days × 1.00 overdue interest
        overdue_amount="2050.00",
        days_past_due=50,
        status_grid="N12",
    )
    assert records["CUR"] == bureau.BureauRecord(
        account_id="CUR",
        borrower_id=None,
        name=None,
        national_id=None,
        month="2026-03",
        status="N",
        credit_limit="5000.00",
        balance="200.00",  # bought on 20 March, not billed yet
        overdue_amount="0.00",
        days_past_due=0,
        status_grid="NNN",
    )
    wo = records["WO"]
    assert (wo.status, wo.status_grid, wo.credit_limit) == ("B", "N1B", "3000.00")
    # Written off on 21 March at DPD 40 with 40 days × 0.75 of interest; the whole claim is overdue and DPD
    # goes on counting.
    assert (wo.balance, wo.overdue_amount, wo.days_past_due) == ("1530.00", "1530.00", 50)
    mid = records["MID"]
    assert (mid.status, mid.status_grid, mid.balance, mid.overdue_amount, mid.credit_limit) == (
        "N",
        "N",
        "300.00",
        "0.00",
        "2000.00",
    )
    # The grid of the month just closed is the one the account's own snapshot shows.
    for account_id, record in records.items():
        assert record.status_grid == account_snapshot(portfolio, account_id)["bureau"]["status_grid"]


def test_an_earlier_month_shows_that_month_end(portfolio: Engine) -> None:
    records = by_account(bureau.bureau_file(portfolio, "2026-02"))
    assert sorted(records) == ["CUR", "DEL", "WO"]  # MID opened in March
    assert (records["CUR"].status, records["CUR"].balance, records["CUR"].status_grid) == ("N", "0.00", "NN")
    assert dataclasses.astuple(records["DEL"])[5:] == ("1", "5000.00", "2019.00", "2019.00", 19, "N1")
    assert dataclasses.astuple(records["WO"])[5:] == ("1", "3000.00", "1514.25", "1514.25", 19, "N1")
    january = bureau.bureau_file(portfolio, "2026-01")
    assert [(r.account_id, r.status, r.balance, r.status_grid) for r in january.records] == [
        ("CUR", "N", "1000.00", "N"),
        ("DEL", "N", "2000.00", "N"),
        ("WO", "N", "1500.00", "N"),
    ]
    assert bureau.bureau_file(portfolio, "2025-12").records == ()  # before anything opened


def test_a_month_whose_end_of_day_has_not_run_is_refused(portfolio: Engine) -> None:
    with pytest.raises(InvalidDate, match=r"end-of-day of its last day, 2026-04-30.*run up to 2026-03-31"):
        bureau.bureau_file(portfolio, "2026-04")
    for bad in ("2026-3", "2026-13", "March", "2026-03-01"):
        with pytest.raises(InvalidInput, match="YYYY-MM"):
            bureau.bureau_file(portfolio, bad)


def test_nothing_is_closed_before_the_first_end_of_day(engine: Engine) -> None:
    with pytest.raises(InvalidDate, match="has not run yet"):
        bureau.bureau_file(engine, "2026-03")


def test_the_limit_is_the_one_in_force_at_month_end(engine: Engine) -> None:
    # The limit review cuts the limit from 5,000.00 to 3,500.00, told on 1 May, in force from 8 May.
    result = scenarios.run(scenarios.parse(SCENARIOS / "limit-review-cut-minimum-only.yaml"), engine)
    assert not result.unexpected_errors
    run_eod(engine, date(2026, 5, 31))
    april = bureau.bureau_file(engine, "2026-04").records
    may = bureau.bureau_file(engine, "2026-05").records
    assert [(r.credit_limit, r.status) for r in april] == [("5000.00", "N")]
    assert [(r.credit_limit, r.status, r.status_grid) for r in may] == [("3500.00", "N", "NNNNN")]


def test_both_formats_and_the_audit_entry(portfolio: Engine) -> None:
    file = bureau.bureau_file(portfolio, "2026-01")
    file = bureau.bureau_file(portfolio, "2026-03")
    rows = list(csv.DictReader(io.StringIO(bureau.render(file, "csv"))))
    assert tuple(rows[0]) == bureau.FIELDS
    assert [r["account_id"] for r in rows] == ["CUR", "DEL", "MID", "WO"]
    assert rows[1] | {} == {
        "account_id": "DEL",
        "borrower_id": "B1",
        "name": "张三",
        "national_id": NATIONAL_ID,
        "month": "2026-03",
        "status": "2",
        "credit_limit": "5000.00",
        "balance": "2050.00",
        "overdue_amount": "2050.00",
        "days_past_due": "50",
        "status_grid": "N12",
    }
    assert rows[0]["national_id"] == "" and rows[0]["borrower_id"] == ""
    document = json.loads(bureau.render(file, "json"))
    assert (document["month"], document["count"]) == ("2026-03", 4)
    assert document["records"][1] == {**rows[1], "days_past_due": 50}
    assert document["records"][0]["national_id"] is None
    with pytest.raises(InvalidInput, match="format"):
        bureau.render(file, "xml")
    # Each export is audited with the month and the count only: no national ID in the audit log.
    with portfolio.connect() as conn:
        entries = conn.execute(select(audit_log).where(audit_log.c.entity == "bureau_file")).mappings().all()
    assert {("export", "2026-01"), ("export", "2026-03")} <= {(e["action"], e["record"]) for e in entries}
    assert all(NATIONAL_ID not in e["detail"] for e in entries)
    assert json.loads(entries[-1]["detail"]) == {"records": 4}
