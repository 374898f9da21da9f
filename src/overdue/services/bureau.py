"""The monthly credit-bureau file: one record per account reported for a month, read from the store.

Each month end the end-of-day records every open account's bureau status of the month (``N``, ``1``…``7``,
``C``, ``G``, ``B``: :func:`overdue.domain.delinquency.bureau_status`) in ``bureau_months`` and its figures
in ``account_days``. :func:`bureau_file` gathers them for one month:

- **who**: the account, and its borrower (``borrowers`` through ``borrower_accounts``) with the national ID
  **in full** — the bureau matches on it, so this file is the one place where the whole ID leaves the
  system unmasked. Nothing here logs it, and the audit entry of an export holds only the month and the
  number of records;
- **which accounts**: every account with a status for the month (an account opened after the month end has
  none), except one whose line was already closed before the month began (its previous month was ``C`` or
  ``G``): a closed line is reported closed once;
- **the figures at month end**: the credit limit in force (:func:`overdue.engine.limits.limits_on`), the
  balance (principal, interest and fees owed), the overdue amount, DPD, and the status grid of the months
  up to this one (oldest first, at most the product's ``bureau_grid_months``, 24 by default).

The **overdue amount** is everything billed and unpaid while the account is past due at month end (DPD
above 0), nothing when it is current, and the whole balance once written off. With statements falling due
in their own month (``due_day`` after ``statement_day``, as in the ``huabei`` preset) every statement billed
by a month end is past its due date then, so this is exactly what is overdue; for a product whose statement
falls due in the next month it also counts the latest statement, which is not overdue yet.

A month whose end-of-day has not finished is refused (:class:`~overdue.domain.errors.InvalidDate`).
Records are in account order; money is decimal yuan strings (``"1000.00"``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, and_, select

from overdue.domain.calendar import add_months, month_key
from overdue.domain.errors import InvalidDate, InvalidInput
from overdue.domain.money import format_yuan
from overdue.domain.terms import terms_from_json
from overdue.engine.limits import limits_on, month_end_of
from overdue.store import audit_trail, repository
from overdue.store.account_tables import account_days, accounts, bureau_months
from overdue.store.api_tables import borrower_accounts, borrowers

FORMATS = ("csv", "json")
CLOSED_STATUSES = ("C", "G")
"""Statuses of a line that is closed for good: reported in the month it closes, then no more."""
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class BureauRecord:
    """One account's line of the bureau file for one month (amounts in yuan strings)."""

    account_id: str
    borrower_id: str | None
    """The borrower on record (None: the account has no borrower recorded)."""
    name: str | None
    national_id: str | None
    """The borrower's national ID, in full."""
    month: str
    status: str
    """``N``, ``1``…``7``, ``C``, ``G`` or ``B``."""
    credit_limit: str
    """The limit in force at month end."""
    balance: str
    """Everything owed at month end: principal, interest and fees."""
    overdue_amount: str
    days_past_due: int
    status_grid: str
    """This month's status and those before it, oldest first (``NN12``)."""


FIELDS = tuple(BureauRecord.__dataclass_fields__)
"""The file's columns, in order (the CSV header; the keys of each JSON record)."""


@dataclass(frozen=True)
class BureauFile:
    month: str
    records: tuple[BureauRecord, ...]

    def to_json(self) -> dict[str, Any]:
        return {"month": self.month, "count": len(self.records), "records": [asdict(r) for r in self.records]}


def parse_month(value: str) -> str:
    """``value`` checked as a month written ``YYYY-MM``."""
    text = value.strip()
    if not _MONTH.match(text):
        raise InvalidInput(f"month must be written YYYY-MM, got {value!r}")
    return text


def bureau_file(engine: Engine, month: str) -> BureauFile:
    """The bureau file of ``month`` (``YYYY-MM``) from the store; the export is audited (month and count)."""
    month = parse_month(month)
    month_end = month_end_of(month)
    with engine.begin() as conn:
        closed = repository.last_closed_date(conn)
        if closed is None or closed < month_end:
            ran = "has not run yet" if closed is None else f"has run up to {closed.isoformat()}"
            raise InvalidDate(
                f"the bureau file of {month} needs the end-of-day of its last day, {month_end.isoformat()}; "
                f"the end-of-day {ran}"
            )
        records = tuple(_records(conn, month, month_end))
        audit_trail.changed(conn, "export", "bureau_file", month, {"records": len(records)})
    return BureauFile(month, records)


def _records(conn: Connection, month: str, month_end: date) -> list[BureauRecord]:
    rows = list(
        conn.execute(
            select(
                accounts.c.id,
                accounts.c.credit_limit_fen,
                accounts.c.terms_json,
                bureau_months.c.status,
                account_days.c.status.label("account_status"),
                account_days.c.days_past_due,
                account_days.c.principal_fen,
                account_days.c.interest_fen,
                account_days.c.fees_fen,
                account_days.c.total_due_fen,
                borrowers.c.id.label("borrower_id"),
                borrowers.c.name,
                borrowers.c.national_id,
            )
            .select_from(bureau_months)
            .join(accounts, accounts.c.id == bureau_months.c.account_id)
            .outerjoin(
                account_days,
                and_(account_days.c.account_id == accounts.c.id, account_days.c.business_date == month_end),
            )
            .outerjoin(borrower_accounts, borrower_accounts.c.account_id == accounts.c.id)
            .outerjoin(borrowers, borrowers.c.id == borrower_accounts.c.borrower_id)
            .where(bureau_months.c.month == month)
            .order_by(accounts.c.id)
        ).mappings()
    )
    closed_before = set(
        conn.execute(
            select(bureau_months.c.account_id).where(
                bureau_months.c.month == month_key(add_months(month_end, -1)),
                bureau_months.c.status.in_(CLOSED_STATUSES),
            )
        ).scalars()
    )
    rows = [r for r in rows if r["id"] not in closed_before]
    grid_months = {r["id"]: terms_from_json(json.loads(r["terms_json"])).bureau_grid_months for r in rows}
    grids = _grids(conn, month, month_end, max(grid_months.values(), default=1))
    limits = limits_on(conn, {r["id"]: r["credit_limit_fen"] for r in rows}, month_end)
    records = []
    for r in rows:
        if r["days_past_due"] is None:
            raise InvalidInput(
                f"account {r['id']} has a bureau status for {month} but no figures for {month_end}"
            )
        balance = r["principal_fen"] + r["interest_fen"] + r["fees_fen"]
        if r["account_status"] == "written_off":
            overdue = balance
        else:
            overdue = r["total_due_fen"] if r["days_past_due"] > 0 else 0
        records.append(
            BureauRecord(
                account_id=r["id"],
                borrower_id=r["borrower_id"],
                name=r["name"],
                national_id=r["national_id"],
                month=month,
                status=r["status"],
                credit_limit=format_yuan(limits[r["id"]]),
                balance=format_yuan(balance),
                overdue_amount=format_yuan(overdue),
                days_past_due=r["days_past_due"],
                status_grid="".join(grids.get(r["id"], [])[-grid_months[r["id"]] :]),
            )
        )
    return records


def _grids(conn: Connection, month: str, month_end: date, months: int) -> dict[str, list[str]]:
    """Account → its statuses of the ``months`` months up to ``month``, oldest first."""
    first = month_key(add_months(month_end.replace(day=1), 1 - months))
    out: dict[str, list[str]] = {}
    for account_id, status in conn.execute(
        select(bureau_months.c.account_id, bureau_months.c.status)
        .where(bureau_months.c.month >= first, bureau_months.c.month <= month)
        .order_by(bureau_months.c.account_id, bureau_months.c.month)
    ):
        out.setdefault(account_id, []).append(status)
    return out


def render(file: BureauFile, fmt: str) -> str:
    """The file as text: ``csv`` (a header, then one line per record; an empty field for what is unknown)
    or ``json`` (an object with ``month``, ``count`` and ``records``)."""
    if fmt == "json":
        return json.dumps(file.to_json(), ensure_ascii=False, indent=2) + "\n"
    if fmt != "csv":
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    writer.writerows(_csv_row(asdict(r)) for r in file.records)
    return out.getvalue()


def _csv_row(record: dict[str, Any]) -> Sequence[Any]:
    return ["" if record[f] is None else record[f] for f in FIELDS]
