"""A small portfolio built through the real services and the reference end-of-day, for the bureau tests.

Opened 2026-01-05 unless said; statements on the 1st, due on the 9th; overdue interest 0.05 % a day.

- ``CUR`` (limit 5000.00): buys 1000.00 on 10 January, repays it on 5 February, buys 200.00 on 20 March —
  current throughout;
- ``DEL`` (limit 5000.00, borrower 张三 on record): buys 2000.00 on 10 January and never repays — DPD 19 at
  the end of February, 50 at the end of March, 1.00 of overdue interest a day from 10 February;
- ``WO`` (limit 3000.00, written off at 40 DPD): buys 1500.00 on 10 January and never repays — written off
  on 21 March (0.75 a day of overdue interest for 40 days);
- ``MID`` (limit 2000.00) opens on 15 March and buys 300.00 on 20 March.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from overdue.domain.money import parse_yuan
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.store.api_tables import borrower_accounts, borrowers

NATIONAL_ID = "110101199001011234"


def build(engine: Engine, through: date = date(2026, 3, 31)) -> None:
    """Build the portfolio and run the end-of-day up to ``through`` (at least 2026-03-20)."""
    opened = date(2026, 1, 5)
    accounts.open_account(engine, "CUR", opened, parse_yuan("5000.00"))
    accounts.open_account(engine, "DEL", opened, parse_yuan("5000.00"))
    accounts.open_account(engine, "WO", opened, parse_yuan("3000.00"), overrides={"write_off_at_dpd": 40})
    with engine.begin() as conn:
        conn.execute(
            borrowers.insert().values(
                id="B1",
                name="张三",
                phone="13800000000",
                national_id=NATIONAL_ID,
                address="北京市东城区",
                created_at=datetime(2026, 1, 5, tzinfo=UTC),
            )
        )
        conn.execute(borrower_accounts.insert().values(borrower_id="B1", account_id="DEL"))
    run_eod(engine, date(2026, 1, 9))
    for account_id, amount in (("CUR", "1000.00"), ("DEL", "2000.00"), ("WO", "1500.00")):
        accounts.purchase(engine, account_id, parse_yuan(amount), on=date(2026, 1, 10))
    run_eod(engine, date(2026, 2, 4))
    accounts.repay(engine, "CUR", parse_yuan("1000.00"), on=date(2026, 2, 5))
    run_eod(engine, date(2026, 3, 14))
    accounts.open_account(engine, "MID", date(2026, 3, 15), parse_yuan("2000.00"))
    run_eod(engine, date(2026, 3, 19))
    accounts.purchase(engine, "CUR", parse_yuan("200.00"), on=date(2026, 3, 20))
    accounts.purchase(engine, "MID", parse_yuan("300.00"), on=date(2026, 3, 20))
    run_eod(engine, through)
