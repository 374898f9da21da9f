"""Write-off and debt sale: select a portfolio, write its transfer file, mark it sold, forward later payments.

1. :func:`select_sale` chooses accounts by :class:`~overdue.operations.sale.PortfolioFilter` and keeps their
   balances as they are at selection; an account already sold, already in another sale, or under a
   litigation hold or an open legal case is never chosen.
2. :func:`export_sale` writes the transfer file, ``SALE.csv`` and ``SALE.json`` (same rows).
3. :func:`mark_sold` starts a ``sold`` hold on each account through
   :func:`overdue.services.collections.set_hold` (collection contact stops: the rulebook refuses it) and
   cancels the accounts' open work items. Every account is checked first, so a date that does not suit one
   of them changes nothing; a run stopped midway is completed by running it again.
4. :func:`forward_payment`: money received later on a sold account belongs to the buyer: it is recorded as
   forwarded (``forwarded_payments``), never posted to the ledger.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from overdue.domain import account as account_rules
from overdue.domain.errors import Conflict, InvalidInput, NotFound, Refused
from overdue.domain.money import Fen, format_yuan
from overdue.operations.sale import (
    PortfolioFilter,
    SaleCandidate,
    select_portfolio,
    transfer_csv,
    transfer_row,
)
from overdue.services.collections import set_hold_in
from overdue.services.operations_cases import open_holds_by_account
from overdue.store import audit_trail, repository
from overdue.store.account_tables import accounts
from overdue.store.collection_tables import work_items
from overdue.store.operations_tables import debt_sale_accounts, debt_sales, forwarded_payments, legal_cases
from overdue.store.schema import ledger_transactions


def _last_payments(conn: Connection) -> dict[str, date]:
    rows = conn.execute(
        select(ledger_transactions.c.account_id, func.max(ledger_transactions.c.business_date))
        .where(ledger_transactions.c.kind.in_(("repayment", "recovery")))
        .group_by(ledger_transactions.c.account_id)
    )
    return {r[0]: r[1] for r in rows}


def candidates(conn: Connection) -> list[SaleCandidate]:
    """Every account as a sale candidate, with its balances now."""
    holds = open_holds_by_account(conn, ("sold", "litigation"))
    in_sales = set(conn.execute(select(debt_sale_accounts.c.account_id)).scalars())
    in_court = set(
        conn.execute(select(legal_cases.c.account_id).where(legal_cases.c.step != "closed")).scalars()
    )
    paid = _last_payments(conn)
    out = []
    for account_id in conn.execute(select(accounts.c.id).order_by(accounts.c.id)).scalars():
        state, _ = repository.load_account(conn, account_id)
        kinds = holds.get(account_id, set())
        out.append(
            SaleCandidate(
                account_id=account_id,
                status=str(state.status),
                days_past_due=state.days_past_due,
                principal=state.principal,
                interest=state.interest,
                fees=state.fees,
                last_payment_on=paid.get(account_id),
                sold="sold" in kinds or account_id in in_sales,
                litigation="litigation" in kinds or account_id in in_court,
            )
        )
    return out


def select_sale(engine: Engine, sale_id: str, buyer: str, on: date, rules: PortfolioFilter) -> dict[str, Any]:
    """Choose the portfolio of sale ``sale_id`` to ``buyer`` on ``on`` by ``rules``; refused when empty."""
    if not sale_id.strip() or not buyer.strip():
        raise InvalidInput("a sale needs an id and a buyer")
    with engine.begin() as conn:
        if conn.execute(select(debt_sales.c.id).where(debt_sales.c.id == sale_id)).first() is not None:
            raise Conflict(f"sale {sale_id} already exists")
        chosen = select_portfolio(candidates(conn), rules)
        if not chosen:
            raise Refused("no account matches the portfolio's filters")
        conn.execute(
            debt_sales.insert().values(
                id=sale_id,
                buyer=buyer,
                selected_on=on,
                filters_json=json.dumps(rules.to_json()),
                status="selected",
            )
        )
        conn.execute(
            debt_sale_accounts.insert(),
            [
                {
                    "sale_id": sale_id,
                    "account_id": c.account_id,
                    "status": c.status,
                    "days_past_due": c.days_past_due,
                    "principal_fen": c.principal,
                    "interest_fen": c.interest,
                    "fees_fen": c.fees,
                    "last_payment_on": c.last_payment_on,
                }
                for c in chosen
            ],
        )
        detail = {"buyer": buyer, "date": on.isoformat(), "accounts": len(chosen)}
        audit_trail.changed(conn, "create", "sale", sale_id, detail)
        return sale_json(conn, sale_id)


def _sale(conn: Connection, sale_id: str) -> Any:
    row = conn.execute(select(debt_sales).where(debt_sales.c.id == sale_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown sale {sale_id!r}")
    return row


def _sale_rows(conn: Connection, sale_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(debt_sale_accounts)
        .where(debt_sale_accounts.c.sale_id == sale_id)
        .order_by(debt_sale_accounts.c.account_id)
    ).mappings()
    return [
        transfer_row(
            SaleCandidate(
                r["account_id"],
                r["status"],
                r["days_past_due"],
                r["principal_fen"],
                r["interest_fen"],
                r["fees_fen"],
                r["last_payment_on"],
            )
        )
        for r in rows
    ]


def sale_json(conn: Connection, sale_id: str) -> dict[str, Any]:
    """A sale, its filters and its accounts as the transfer file lists them."""
    sale = _sale(conn, sale_id)
    totals = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(debt_sale_accounts.c.principal_fen), 0),
            func.coalesce(
                func.sum(
                    debt_sale_accounts.c.principal_fen
                    + debt_sale_accounts.c.interest_fen
                    + debt_sale_accounts.c.fees_fen
                ),
                0,
            ),
        ).where(debt_sale_accounts.c.sale_id == sale_id)
    ).one()
    return {
        "sale": sale_id,
        "buyer": sale["buyer"],
        "selected_on": sale["selected_on"].isoformat(),
        "status": sale["status"],
        "sold_on": None if sale["sold_on"] is None else sale["sold_on"].isoformat(),
        "filters": json.loads(sale["filters_json"]),
        "totals": {
            "accounts": int(totals[0]),
            "principal": format_yuan(int(totals[1])),
            "outstanding": format_yuan(int(totals[2])),
        },
        "accounts": _sale_rows(conn, sale_id),
    }


def export_sale(engine: Engine, sale_id: str, directory: Path) -> dict[str, Any]:
    """Write ``SALE.csv`` and ``SALE.json`` into ``directory`` (created if missing); return their paths."""
    with engine.connect() as conn:
        sale = sale_json(conn, sale_id)
    directory.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in sale_id)
    csv_path, json_path = directory / f"{safe}.csv", directory / f"{safe}.json"
    csv_path.write_text(transfer_csv(sale["accounts"]), encoding="utf-8")
    json_path.write_text(json.dumps(sale, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"sale": sale_id, "csv": str(csv_path), "json": str(json_path), "accounts": len(sale["accounts"])}


def mark_sold(engine: Engine, sale_id: str, on: date) -> dict[str, Any]:
    """Mark every account of the sale sold on ``on`` (each account's current business date)."""
    with engine.connect() as conn:
        sale = _sale(conn, sale_id)
        ids = list(
            conn.execute(
                select(debt_sale_accounts.c.account_id)
                .where(debt_sale_accounts.c.sale_id == sale_id)
                .order_by(debt_sale_accounts.c.account_id)
            ).scalars()
        )
        if sale["status"] == "sold":
            raise Refused(f"sale {sale_id} is already marked sold (on {sale['sold_on'].isoformat()})")
        for account_id in ids:
            state, _ = repository.load_account(conn, account_id)
            account_rules.check_open_date(state, on)
    note = f"sold to {sale['buyer']} in sale {sale_id}"
    # Every account's hold, the open work cancelled and the sale's status commit together.
    with engine.begin() as conn:
        started = sum(bool(set_hold_in(conn, a, "sold", on, note=note)["changed"]) for a in ids)
        cancelled = conn.execute(
            work_items.update()
            .where(work_items.c.account_id.in_(ids), work_items.c.status == "open")
            .values(status="cancelled")
        ).rowcount
        conn.execute(debt_sales.update().where(debt_sales.c.id == sale_id).values(status="sold", sold_on=on))
        audit_trail.changed(
            conn, "update", "sale", sale_id, {"sold_on": on.isoformat(), "accounts": len(ids)}
        )
    return {
        "sale": sale_id,
        "sold_on": on.isoformat(),
        "accounts": len(ids),
        "holds_started": started,
        "work_items_cancelled": cancelled,
    }


def forward_payment(engine: Engine, account_id: str, on: date, amount: Fen, reference: str) -> dict[str, Any]:
    """Record money received on a sold account as owed to its buyer; the ledger is not touched.

    Refused for an account that is not sold (post it with ``overdue repay``), and for a reference already
    recorded (a second receipt of the same payment).
    """
    account_rules.check_amount(amount, "a forwarded payment")
    if not reference.strip():
        raise InvalidInput("a forwarded payment needs the payment's reference")
    with engine.begin() as conn:
        if not repository.account_exists(conn, account_id):
            raise NotFound(f"unknown account {account_id!r}")
        sale = conn.execute(
            select(debt_sales.c.id, debt_sales.c.buyer)
            .join(debt_sale_accounts, debt_sale_accounts.c.sale_id == debt_sales.c.id)
            .where(debt_sale_accounts.c.account_id == account_id, debt_sales.c.status == "sold")
        ).first()
        if sale is None:
            raise Refused(f"account {account_id} is not sold: post the payment with `overdue repay`")
        try:
            with conn.begin_nested():
                conn.execute(
                    forwarded_payments.insert().values(
                        account_id=account_id,
                        sale_id=sale.id,
                        buyer=sale.buyer,
                        received_on=on,
                        amount_fen=amount,
                        reference=reference,
                    )
                )
        except IntegrityError as error:
            raise Conflict(f"payment {reference} is already recorded") from error
        detail = {
            "sale": sale.id,
            "date": on.isoformat(),
            "amount": format_yuan(amount),
            "reference": reference,
        }
        audit_trail.changed(conn, "create", "forwarded_payment", account_id, detail)
    return {
        "account_id": account_id,
        "sale": sale.id,
        "forwarded_to": sale.buyer,
        "received_on": on.isoformat(),
        "amount": format_yuan(amount),
        "reference": reference,
    }


def forwarded_of(engine: Engine, sale_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        _sale(conn, sale_id)
        rows = conn.execute(
            select(forwarded_payments)
            .where(forwarded_payments.c.sale_id == sale_id)
            .order_by(forwarded_payments.c.id)
        ).mappings()
        return [
            {
                "account_id": r["account_id"],
                "received_on": r["received_on"].isoformat(),
                "amount": format_yuan(r["amount_fen"]),
                "reference": r["reference"],
                "forwarded_to": r["buyer"],
            }
            for r in rows
        ]
