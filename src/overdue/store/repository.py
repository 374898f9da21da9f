"""Loading and saving account state, and posting its ledger transactions.

:func:`load_account` reads only what the next day's rules need (see :mod:`overdue.store.account_tables`);
:func:`save_account` writes the new state, the day's transactions and postings in the caller's database
transaction, and bumps the account's ``version`` so that a concurrent writer fails instead of overwriting.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from overdue.domain.errors import Conflict, NotFound
from overdue.domain.ledger import Transaction
from overdue.domain.state import (
    AccountState,
    AccountStatus,
    BucketSpell,
    BureauMonth,
    InstallmentPeriod,
    InstallmentPlan,
    PlanOrigin,
    Statement,
    UnbilledCycle,
)
from overdue.domain.terms import terms_from_json
from overdue.store import relief_repository
from overdue.store.account_tables import (
    account_days,
    accounts,
    bucket_history,
    bureau_months,
    eod_runs,
    installment_periods,
    installment_plans,
    unbilled_cycles,
)
from overdue.store.account_tables import statements as statements_table
from overdue.store.schema import ledger_postings, ledger_transactions

_UPSERTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], Any] = {}


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """Insert ``rows`` into ``table``, updating the non-key columns of rows whose ``keys`` already exist.

    The statement is built once per table and column set and run with the rows as parameters, so it is
    compiled once and cached.
    """
    if not rows:
        return
    columns = tuple(rows[0])
    cache_key = (conn.dialect.name, table.name, tuple(keys), columns)
    statement = _UPSERTS.get(cache_key)
    if statement is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(table)
        updates = {c: insert.excluded[c] for c in columns if c not in keys}
        statement = (
            insert.on_conflict_do_update(index_elements=list(keys), set_=updates)
            if updates
            else insert.on_conflict_do_nothing(index_elements=list(keys))
        )
        _UPSERTS[cache_key] = statement
    conn.execute(statement, list(rows))


def account_exists(conn: Connection, account_id: str) -> bool:
    return conn.execute(select(accounts.c.id).where(accounts.c.id == account_id)).first() is not None


def load_account(
    conn: Connection, account_id: str, *, full_history: bool = False
) -> tuple[AccountState, int]:
    """The state of ``account_id`` and its version; ``full_history`` adds every bucket spell (for display)."""
    row = conn.execute(select(accounts).where(accounts.c.id == account_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown account {account_id!r}")
    terms = terms_from_json(json.loads(row["terms_json"]))
    latest = select(func.max(statements_table.c.statement_date)).where(
        statements_table.c.account_id == account_id
    )
    statement_rows = conn.execute(
        select(statements_table)
        .where(
            statements_table.c.account_id == account_id,
            or_(
                statements_table.c.closed_on.is_(None),
                statements_table.c.statement_date == latest.scalar_subquery(),
            ),
        )
        .order_by(statements_table.c.statement_date)
    ).mappings()
    plan_rows = list(
        conn.execute(
            select(installment_plans)
            .where(installment_plans.c.account_id == account_id, installment_plans.c.finished.is_(False))
            .order_by(installment_plans.c.created_on, installment_plans.c.id)
        ).mappings()
    )
    periods: dict[str, list[InstallmentPeriod]] = {}
    if plan_rows:
        for p in conn.execute(
            select(installment_periods)
            .where(installment_periods.c.plan_id.in_([r["id"] for r in plan_rows]))
            .order_by(installment_periods.c.plan_id, installment_periods.c.number)
        ).mappings():
            periods.setdefault(p["plan_id"], []).append(
                InstallmentPeriod(p["number"], p["due_date"], p["principal_fen"], p["fee_fen"], p["billed"])
            )
    spells = select(bucket_history).where(bucket_history.c.account_id == account_id)
    if not full_history:
        spells = spells.where(bucket_history.c.left_on.is_(None))
    bureau = conn.execute(
        select(bureau_months)
        .where(bureau_months.c.account_id == account_id)
        .order_by(bureau_months.c.month.desc())
        .limit(terms.bureau_grid_months)
    ).mappings()
    state = AccountState(
        id=row["id"],
        product=row["product"],
        terms=terms,
        opened_on=row["opened_on"],
        timezone=row["timezone"],
        language=row["language"],
        credit_limit=row["credit_limit_fen"],
        status=AccountStatus(row["status"]),
        last_eod=row["last_eod"],
        unbilled=tuple(
            UnbilledCycle(r.statement_date, r.principal_fen)
            for r in conn.execute(
                select(unbilled_cycles)
                .where(unbilled_cycles.c.account_id == account_id)
                .order_by(unbilled_cycles.c.statement_date)
            )
        ),
        statements=tuple(_statement(r) for r in statement_rows),
        plans=tuple(
            InstallmentPlan(
                id=r["id"],
                statement_id=r["statement_id"],
                created_on=r["created_on"],
                fee_rate=Decimal(r["fee_rate"]),
                principal=r["principal_fen"],
                fee_total=r["fee_total_fen"],
                periods=tuple(periods.get(r["id"], [])),
                origin=PlanOrigin(r["origin"]),
            )
            for r in plan_rows
        ),
        days_past_due=row["days_past_due"],
        bucket=row["bucket"],
        bucket_history=tuple(
            BucketSpell(r.bucket, r.entered, r.left_on)
            for r in conn.execute(
                spells.order_by(bucket_history.c.entered, bucket_history.c.left_on.is_(None))
            )
        ),
        bureau=tuple(reversed([BureauMonth(r["month"], r["status"]) for r in bureau])),
        written_off_on=row["written_off_on"],
        negative_notice_on=row["negative_notice_on"],
        arrangement=relief_repository.load_arrangement(conn, account_id),
        last_deferral_on=relief_repository.last_deferral_on(conn, account_id),
    )
    return state, row["version"]


def _statement(r: Any) -> Statement:
    return Statement(
        id=r["id"],
        statement_date=r["statement_date"],
        due_date=r["due_date"],
        amount=r["amount_fen"],
        minimum=r["minimum_fen"],
        new_principal=r["new_principal_fen"],
        carried_principal=r["carried_principal_fen"],
        installment_principal=r["installment_principal_fen"],
        interest=r["interest_fen"],
        overdue_interest=r["overdue_interest_fen"],
        fees=r["fees_fen"],
        paid=r["paid_fen"],
        late_charges=r["late_charges_fen"],
        interest_carry=Decimal(r["interest_carry"]),
        installed=r["installed"],
        closed_on=r["closed_on"],
        original_due_date=r["original_due_date"],
    )


def _account_row(state: AccountState) -> dict[str, Any]:
    return {
        "id": state.id,
        "product": state.product,
        "terms_json": json.dumps(state.terms.to_json(), sort_keys=True),
        "opened_on": state.opened_on,
        "timezone": state.timezone,
        "language": state.language,
        "credit_limit_fen": state.credit_limit,
        "status": str(state.status),
        "last_eod": state.last_eod,
        "days_past_due": state.days_past_due,
        "bucket": state.bucket,
        "written_off_on": state.written_off_on,
        "negative_notice_on": state.negative_notice_on,
    }


def insert_account(conn: Connection, state: AccountState) -> None:
    """Create the account row of a new account (fails if the id exists)."""
    if account_exists(conn, state.id):
        raise Conflict(f"account {state.id!r} already exists")
    conn.execute(accounts.insert().values(**_account_row(state), version=1))
    _save_children(conn, None, state)


def save_account(
    conn: Connection,
    before: AccountState,
    state: AccountState,
    version: int,
    transactions: Iterable[Transaction],
) -> int:
    """Save ``state`` (``before`` is what was loaded, at ``version``) and post ``transactions``.

    Only the rows that changed are written. Returns the new version; a concurrent save in between makes it
    raise :class:`Conflict`.
    """
    result = conn.execute(
        update(accounts)
        .where(and_(accounts.c.id == state.id, accounts.c.version == version))
        .values(**_account_row(state), version=version + 1)
    )
    if result.rowcount != 1:
        raise Conflict(f"account {state.id!r} was changed by someone else; retry")
    _save_children(conn, before, state)
    post_transactions(conn, transactions)
    return version + 1


def _changed(new: Iterable[Any], old: Iterable[Any]) -> list[Any]:
    """Items of ``new`` not equal to any item of ``old`` (records are frozen dataclasses)."""
    seen = set(old)
    return [item for item in new if item not in seen]


def _save_children(conn: Connection, before: AccountState | None, state: AccountState) -> None:
    if before is None or before.unbilled != state.unbilled:
        _save_unbilled(conn, state)
    old_statements = before.statements if before else ()
    old_plans = before.plans if before else ()
    old_spells = before.bucket_history if before else ()
    old_months = before.bureau if before else ()
    _save_records(
        conn,
        state,
        statements=_changed(state.statements, old_statements),
        plans=_changed(state.plans, old_plans),
        spells=_changed(state.bucket_history, old_spells),
        months=_changed(state.bureau, old_months),
    )
    if before is None or before.arrangement != state.arrangement:
        relief_repository.save_arrangement(conn, before.arrangement if before else None, state)


def _save_unbilled(conn: Connection, state: AccountState) -> None:
    conn.execute(unbilled_cycles.delete().where(unbilled_cycles.c.account_id == state.id))
    if state.unbilled:
        conn.execute(
            unbilled_cycles.insert(),
            [
                {"account_id": state.id, "statement_date": c.statement_date, "principal_fen": c.principal}
                for c in state.unbilled
            ],
        )


def _save_records(
    conn: Connection,
    state: AccountState,
    *,
    statements: list[Statement],
    plans: list[InstallmentPlan],
    spells: list[BucketSpell],
    months: list[BureauMonth],
) -> None:
    upsert(conn, statements_table, [_statement_row(state.id, s) for s in statements], ["id"])
    upsert(
        conn,
        installment_plans,
        [
            {
                "id": p.id,
                "account_id": state.id,
                "statement_id": p.statement_id,
                "created_on": p.created_on,
                "fee_rate": p.fee_rate,
                "principal_fen": p.principal,
                "fee_total_fen": p.fee_total,
                "finished": p.is_finished,
                "origin": str(p.origin),
            }
            for p in plans
        ],
        ["id"],
    )
    upsert(
        conn,
        installment_periods,
        [
            {
                "plan_id": p.id,
                "number": q.number,
                "due_date": q.due_date,
                "principal_fen": q.principal,
                "fee_fen": q.fee,
                "billed": q.billed,
            }
            for p in plans
            for q in p.periods
        ],
        ["plan_id", "number"],
    )
    upsert(
        conn,
        bucket_history,
        [
            {"account_id": state.id, "bucket": s.bucket, "entered": s.entered, "left_on": s.left}
            for s in spells
        ],
        ["account_id", "entered", "bucket"],
    )
    upsert(
        conn,
        bureau_months,
        [{"account_id": state.id, "month": m.month, "status": m.status} for m in months],
        ["account_id", "month"],
    )


def _statement_row(account_id: str, s: Statement) -> dict[str, Any]:
    return {
        "id": s.id,
        "account_id": account_id,
        "statement_date": s.statement_date,
        "due_date": s.due_date,
        "amount_fen": s.amount,
        "minimum_fen": s.minimum,
        "new_principal_fen": s.new_principal,
        "carried_principal_fen": s.carried_principal,
        "installment_principal_fen": s.installment_principal,
        "interest_fen": s.interest,
        "overdue_interest_fen": s.overdue_interest,
        "fees_fen": s.fees,
        "paid_fen": s.paid,
        "late_charges_fen": s.late_charges,
        "interest_carry": s.interest_carry,
        "installed": s.installed,
        "closed_on": s.closed_on,
        "original_due_date": s.original_due_date,
    }


def post_transactions(conn: Connection, transactions: Iterable[Transaction]) -> None:
    """Write each transaction and its postings."""
    for txn in transactions:
        txn_id = conn.execute(
            ledger_transactions.insert()
            .values(
                account_id=txn.account_id,
                business_date=txn.business_date,
                kind=str(txn.kind),
                statement_id=txn.statement_id,
                memo=txn.memo,
            )
            .returning(ledger_transactions.c.id)
        ).scalar_one()
        conn.execute(
            ledger_postings.insert(),
            [
                {
                    "transaction_id": txn_id,
                    "account_id": txn.account_id,
                    "ledger_account": str(p.ledger_account),
                    "amount_fen": p.amount,
                }
                for p in txn.postings
            ],
        )


def record_day(conn: Connection, state: AccountState, on: date) -> None:
    """Write the account's figures after the end-of-day of ``on`` (the daily state snapshot)."""
    delinquent = state.delinquent_statements(on)
    upsert(
        conn,
        account_days,
        [
            {
                "account_id": state.id,
                "business_date": on,
                "status": str(state.status),
                "days_past_due": state.days_past_due,
                "bucket": state.bucket,
                "principal_fen": state.principal,
                "overdue_principal_fen": sum(s.principal for s in delinquent),
                "interest_fen": state.interest,
                "fees_fen": state.fees,
                "total_due_fen": sum(s.outstanding for s in state.statements),
                "available_credit_fen": state.available_credit,
            }
        ],
        ["account_id", "business_date"],
    )


def ledger_balances(conn: Connection, account_id: str) -> dict[str, int]:
    """The balance of every ledger account of ``account_id``, from its postings."""
    rows = conn.execute(
        select(ledger_postings.c.ledger_account, func.sum(ledger_postings.c.amount_fen))
        .where(ledger_postings.c.account_id == account_id)
        .group_by(ledger_postings.c.ledger_account)
    )
    return {name: int(total) for name, total in rows}


def last_closed_date(conn: Connection) -> date | None:
    """The latest business date whose end-of-day finished for every account."""
    value = conn.execute(
        select(func.max(eod_runs.c.business_date)).where(eod_runs.c.finished.is_(True))
    ).scalar()
    return value if isinstance(value, date) else None


def days_past_due_of(conn: Connection, account_ids: Iterable[str]) -> dict[tuple[str, date], int]:
    """(account, business date) → DPD after that date's end-of-day, for every day kept in ``account_days``."""
    ids = list(account_ids)
    out: dict[tuple[str, date], int] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(
                account_days.c.account_id, account_days.c.business_date, account_days.c.days_past_due
            ).where(account_days.c.account_id.in_(ids[start : start + 500]))
        )
        out.update({(r.account_id, r.business_date): r.days_past_due for r in rows})
    return out
