"""The set-based write back's ledger postings (``store_write._post``): a day's posting rows grouped into
transactions in DuckDB, numbered from the store's sequence and copied in bulk, equal to the transactions the
domain builds from the same rows; an unbalanced transaction or a zero posting refuses the day whole."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from sqlalchemy import Engine, select

from overdue.domain.errors import LedgerError
from overdue.setbased.convert import transactions_from_postings
from overdue.setbased.layout import POSTINGS
from overdue.setbased.store_write import _post
from overdue.store.schema import ledger_postings, ledger_transactions

ON = date(2026, 3, 12)
MARCH = date(2026, 3, 1)
FEBRUARY = date(2026, 2, 1)
IDS = pa.array(["H0", "H1", "H2"])
ACCOUNTS = pa.table({"account_key": pa.array([0, 1, 2], pa.int64()), "account_id": IDS})


def posting(
    key: int, kind: str, statement: date | None, order: int, ledger: str, amount: int
) -> dict[str, Any]:
    memo = "written off at M7" if kind == "write_off" else None
    return {
        "account_key": key,
        "business_date": ON,
        "kind": kind,
        "statement_date": statement,
        "memo": memo,
        "posting_order": order,
        "ledger_account": ledger,
        "amount": amount,
    }


DAY = [  # deliberately out of order: the grouping, not the rows' order, makes the transactions
    posting(1, "installment_fee", MARCH, 0, "fees", 600),
    posting(1, "overdue_interest", MARCH, 1, "income:overdue_interest", -25),
    posting(2, "write_off", None, 1, "principal", -10_000),
    posting(1, "overdue_interest", FEBRUARY, 0, "interest", 30),
    posting(1, "overdue_interest", MARCH, 0, "interest", 25),
    posting(1, "installment_fee", MARCH, 1, "income:installment_fee", -600),
    posting(2, "write_off", None, 0, "written_off:principal", 10_000),
    posting(1, "overdue_interest", FEBRUARY, 1, "income:overdue_interest", -30),
    posting(0, "revolving_interest", MARCH, 0, "interest", 7),
    posting(0, "revolving_interest", MARCH, 1, "income:revolving_interest", -7),
]


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    """The stored transactions in id order, each with its postings in id order."""
    with engine.connect() as conn:
        found = conn.execute(select(ledger_transactions).order_by(ledger_transactions.c.id)).mappings().all()
        lines = conn.execute(select(ledger_postings).order_by(ledger_postings.c.id)).mappings().all()
    return [
        (
            t["account_id"],
            t["business_date"],
            t["kind"],
            t["statement_id"],
            t["memo"],
            tuple((p["ledger_account"], p["amount_fen"]) for p in lines if p["transaction_id"] == t["id"]),
            {p["account_id"] for p in lines if p["transaction_id"] == t["id"]},
        )
        for t in found
    ]


def test_the_postings_are_the_transactions_the_domain_builds(engine: Engine) -> None:
    rows = pa.Table.from_pylist(DAY, schema=POSTINGS)
    with engine.begin() as conn:
        assert _post(conn, SimpleNamespace(postings=rows), IDS) == 5  # type: ignore[arg-type]
    want = [
        (
            t.account_id,
            t.business_date,
            str(t.kind),
            t.statement_id,
            t.memo,
            tuple((str(p.ledger_account), p.amount) for p in t.postings),
            {t.account_id},
        )
        for t in transactions_from_postings(rows, ACCOUNTS)
    ]
    assert _stored(engine) == want
    assert [(t[0], t[2], t[3]) for t in want] == [
        ("H0", "revolving_interest", "H0/2026-03-01"),
        ("H1", "overdue_interest", "H1/2026-02-01"),
        ("H1", "overdue_interest", "H1/2026-03-01"),
        ("H1", "installment_fee", "H1/2026-03-01"),
        ("H2", "write_off", None),
    ]

    with engine.begin() as conn:  # the next day's transactions take the next numbers
        assert _post(conn, SimpleNamespace(postings=rows.slice(8, 2)), IDS) == 1  # type: ignore[arg-type]
    assert _stored(engine)[-1] == want[0]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [
                posting(1, "overdue_interest", MARCH, 0, "interest", 25),
                posting(1, "overdue_interest", MARCH, 1, "income:overdue_interest", -20),
            ],
            "overdue_interest transaction on H1 does not balance: sums to 5 fen",
        ),
        (
            [
                posting(2, "installment_fee", MARCH, 0, "fees", 0),
                posting(2, "installment_fee", MARCH, 1, "income:installment_fee", 0),
            ],
            "installment_fee transaction on H2 has a zero posting",
        ),
        (
            [
                posting(0, "repayment", MARCH, 0, "principal", -5),
                posting(0, "repayment", MARCH, 1, "repayment_clearing", 5),
            ],
            "postings of a transaction kind the end-of-day does not make: repayment",
        ),
    ],
)
def test_an_unbalanced_day_is_refused_and_nothing_is_written(
    engine: Engine, rows: list[dict[str, Any]], message: str
) -> None:
    table = pa.Table.from_pylist(DAY + rows, schema=POSTINGS)
    with pytest.raises(LedgerError, match=message), engine.begin() as conn:
        _post(conn, SimpleNamespace(postings=table), IDS)  # type: ignore[arg-type]
    assert _stored(engine) == []
