"""Write-off and debt sale: choosing a portfolio and the transfer file's rows.

A sale portfolio is chosen by filters (:class:`PortfolioFilter`): a minimum DPD, account statuses (e.g.
``written_off``), a minimum and a maximum outstanding balance. Accounts already sold, or under a litigation
hold, are never chosen. The transfer file has one row per account with its balances as yuan strings, its DPD
and the date of its last payment; CSV and JSON carry the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from overdue.domain.errors import InvalidInput
from overdue.domain.money import Fen, format_yuan

TRANSFER_COLUMNS = (
    "account_id",
    "status",
    "days_past_due",
    "principal",
    "interest",
    "fees",
    "outstanding",
    "last_payment_on",
)


@dataclass(frozen=True)
class SaleCandidate:
    account_id: str
    status: str
    days_past_due: int
    principal: Fen
    interest: Fen
    fees: Fen
    last_payment_on: date | None
    sold: bool = False
    litigation: bool = False

    @property
    def outstanding(self) -> Fen:
        return self.principal + self.interest + self.fees


@dataclass(frozen=True)
class PortfolioFilter:
    min_days_past_due: int = 0
    statuses: tuple[str, ...] = ()
    """Account statuses to take (empty: any)."""
    min_balance: Fen = 1
    """Smallest outstanding balance taken (default: anything owed at all)."""
    max_balance: Fen | None = None

    def __post_init__(self) -> None:
        if self.min_days_past_due < 0:
            raise InvalidInput("the minimum DPD cannot be negative")
        if self.min_balance < 0 or (self.max_balance is not None and self.max_balance < self.min_balance):
            raise InvalidInput("the balance range is empty or negative")

    def to_json(self) -> dict[str, Any]:
        return {
            "min_days_past_due": self.min_days_past_due,
            "statuses": list(self.statuses),
            "min_balance": format_yuan(self.min_balance),
            "max_balance": None if self.max_balance is None else format_yuan(self.max_balance),
        }


def select_portfolio(
    candidates: Iterable[SaleCandidate], rules: PortfolioFilter
) -> tuple[SaleCandidate, ...]:
    """The candidates that pass ``rules``, in account order."""
    chosen = [
        c
        for c in candidates
        if not c.sold
        and not c.litigation
        and c.days_past_due >= rules.min_days_past_due
        and (not rules.statuses or c.status in rules.statuses)
        and c.outstanding >= rules.min_balance
        and (rules.max_balance is None or c.outstanding <= rules.max_balance)
    ]
    return tuple(sorted(chosen, key=lambda c: c.account_id))


def transfer_row(c: SaleCandidate) -> dict[str, Any]:
    """One account of the transfer file: amounts as yuan strings, the last payment as an ISO date or None."""
    return {
        "account_id": c.account_id,
        "status": c.status,
        "days_past_due": c.days_past_due,
        "principal": format_yuan(c.principal),
        "interest": format_yuan(c.interest),
        "fees": format_yuan(c.fees),
        "outstanding": format_yuan(c.outstanding),
        "last_payment_on": None if c.last_payment_on is None else c.last_payment_on.isoformat(),
    }


def transfer_csv(rows: Iterable[dict[str, Any]]) -> str:
    """The transfer file as CSV (header first; an empty cell for no last payment)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TRANSFER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in TRANSFER_COLUMNS})
    return out.getvalue()
