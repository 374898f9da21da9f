"""Legal cases: open one on an account (a litigation hold starts), move it step by step, close it (the hold
ends), and show it with its costs, documents and limitation period (:mod:`overdue.operations.legal`).

Opening a case marks the account's open ``legal`` work items done: the case is that work. Holds go through
:func:`overdue.services.collections.set_hold`, so the hold starts (and ends) on the account's current
business date, just after its last contact that day.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from overdue.domain import account as account_rules
from overdue.domain.collections import CONVERSATIONS
from overdue.domain.errors import InvalidAmount, InvalidInput, NotFound
from overdue.domain.money import Fen, format_yuan
from overdue.operations.legal import (
    CLOSED,
    OUTCOMES,
    QUALIFYING_STEPS,
    STEPS,
    LegalRefused,
    Limitation,
    check_limitation,
    check_next_step,
    last_qualifying,
)
from overdue.services.collections import set_hold_in
from overdue.services.operations_cases import sold_accounts
from overdue.store import audit_trail, repository
from overdue.store.collection_tables import contacts, promises, work_items
from overdue.store.operations_tables import legal_cases, legal_events
from overdue.store.schema import ledger_transactions


def _check_cost(cost: Fen) -> None:
    if isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
        raise InvalidAmount(f"a legal cost must be zero or a positive amount, got {cost!r} fen")


def _documents(documents: Sequence[str]) -> str:
    refs = [d.strip() for d in documents if d.strip()]
    return json.dumps(refs, ensure_ascii=False)


def qualifying_dates(conn: Connection, account_id: str) -> list[date | None]:
    """The latest date of each kind of event that restarts the account's limitation period."""
    steps = conn.execute(
        select(func.max(legal_events.c.happened_on))
        .join(legal_cases, legal_cases.c.id == legal_events.c.legal_case_id)
        .where(legal_cases.c.account_id == account_id, legal_events.c.kind.in_(sorted(QUALIFYING_STEPS)))
    ).scalar()
    talked = conn.execute(
        select(func.max(contacts.c.business_date)).where(
            contacts.c.account_id == account_id,
            contacts.c.party == "debtor",
            contacts.c.outcome.in_(sorted(CONVERSATIONS)),
        )
    ).scalar()
    promised = conn.execute(
        select(func.max(promises.c.made_on)).where(promises.c.account_id == account_id)
    ).scalar()
    paid = conn.execute(
        select(func.max(ledger_transactions.c.business_date)).where(
            ledger_transactions.c.account_id == account_id,
            ledger_transactions.c.kind.in_(("repayment", "recovery")),
        )
    ).scalar()
    return [steps, talked, promised, paid]


def open_case(
    engine: Engine,
    account_id: str,
    on: date,
    *,
    cost: Fen = 0,
    documents: Sequence[str] = (),
    note: str | None = None,
) -> dict[str, Any]:
    """Open a legal case on ``account_id`` with a lawyer's letter sent on ``on`` (the account's current
    business date); a litigation hold starts."""
    _check_cost(cost)
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, account_id)
        account_rules.check_open_date(state, on)
        if account_id in sold_accounts(conn):
            raise LegalRefused(f"account {account_id} is sold: its debt belongs to the buyer", "legal.sold")
        if (
            conn.execute(
                select(legal_cases.c.id).where(
                    legal_cases.c.account_id == account_id, legal_cases.c.step != CLOSED
                )
            ).first()
            is not None
        ):
            raise LegalRefused(f"account {account_id} already has an open legal case", "legal.already_open")
        number = conn.execute(
            select(func.count()).select_from(legal_cases).where(legal_cases.c.account_id == account_id)
        ).scalar_one()
    case_id = f"{account_id}/legal/{number + 1}"
    with engine.begin() as conn:
        set_hold_in(conn, account_id, "litigation", on, note=f"legal case {case_id}")
        conn.execute(
            legal_cases.insert().values(id=case_id, account_id=account_id, step=STEPS[0], opened_on=on)
        )
        conn.execute(
            legal_events.insert().values(
                legal_case_id=case_id,
                kind=STEPS[0],
                happened_on=on,
                cost_fen=cost,
                documents=_documents(documents),
                note=note,
            )
        )
        conn.execute(
            work_items.update()
            .where(
                work_items.c.account_id == account_id,
                work_items.c.queue == "legal",
                work_items.c.status == "open",
            )
            .values(status="done")
        )
        detail = {"account": account_id, "date": on.isoformat(), "cost": format_yuan(cost)}
        audit_trail.changed(conn, "create", "legal_case", case_id, detail)
        return case_json(conn, case_id, on)


def advance(
    engine: Engine,
    case_id: str,
    step: str,
    on: date,
    *,
    cost: Fen = 0,
    documents: Sequence[str] = (),
    note: str | None = None,
    outcome: str | None = None,
) -> dict[str, Any]:
    """Move a legal case to ``step`` on ``on`` (or record an ``acknowledgement``, or ``closed`` it).

    Closing needs an ``outcome`` and ends the litigation hold (so ``on`` is then the account's current
    business date). A filing after the limitation period is refused (``legal.limitation_expired``).
    """
    _check_cost(cost)
    if step == CLOSED and outcome not in OUTCOMES:
        raise InvalidInput(f"closing a legal case needs an outcome: one of {', '.join(OUTCOMES)}")
    if step != CLOSED and outcome is not None:
        raise InvalidInput("an outcome is given only when closing the case")
    with engine.connect() as conn:
        case = _case(conn, case_id)
        last_on = conn.execute(
            select(func.max(legal_events.c.happened_on)).where(legal_events.c.legal_case_id == case_id)
        ).scalar_one()
        check_next_step(case["step"], step, last_on, on)
        check_limitation(step, on, last_qualifying(qualifying_dates(conn, case["account_id"])))
    with engine.begin() as conn:
        if step == CLOSED:
            set_hold_in(conn, case["account_id"], "litigation", on, start=False)
        conn.execute(
            legal_events.insert().values(
                legal_case_id=case_id,
                kind=step,
                happened_on=on,
                cost_fen=cost,
                documents=_documents(documents),
                note=note,
            )
        )
        if step == CLOSED:
            conn.execute(
                legal_cases.update()
                .where(legal_cases.c.id == case_id)
                .values(step=CLOSED, closed_on=on, outcome=outcome)
            )
        elif step != "acknowledgement":
            conn.execute(legal_cases.update().where(legal_cases.c.id == case_id).values(step=step))
        detail = {"step": step, "date": on.isoformat(), "cost": format_yuan(cost), "outcome": outcome}
        audit_trail.changed(conn, "update", "legal_case", case_id, detail)
        return case_json(conn, case_id, on)


def _case(conn: Connection, case_id: str) -> Any:
    row = conn.execute(select(legal_cases).where(legal_cases.c.id == case_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown legal case {case_id!r}")
    return row


def case_json(conn: Connection, case_id: str, today: date | None = None) -> dict[str, Any]:
    """A legal case with its events, total cost and limitation period (as of ``today``: default the
    account's current business date)."""
    case = _case(conn, case_id)
    events = list(
        conn.execute(
            select(legal_events).where(legal_events.c.legal_case_id == case_id).order_by(legal_events.c.id)
        ).mappings()
    )
    if today is None:
        state, _ = repository.load_account(conn, case["account_id"])
        today = account_rules.next_open_date(state)
    limitation = Limitation.on(last_qualifying(qualifying_dates(conn, case["account_id"])), today)
    return {
        "legal_case": case_id,
        "account_id": case["account_id"],
        "step": case["step"],
        "opened_on": case["opened_on"].isoformat(),
        "closed_on": None if case["closed_on"] is None else case["closed_on"].isoformat(),
        "outcome": case["outcome"],
        "total_cost": format_yuan(sum(e["cost_fen"] for e in events)),
        "events": [
            {
                "step": e["kind"],
                "date": e["happened_on"].isoformat(),
                "cost": format_yuan(e["cost_fen"]),
                "documents": json.loads(e["documents"]),
                "note": e["note"],
            }
            for e in events
        ],
        "limitation": {
            "last_qualifying_event": None
            if limitation.last_qualifying_on is None
            else limitation.last_qualifying_on.isoformat(),
            "ends_on": None if limitation.ends_on is None else limitation.ends_on.isoformat(),
            "expired": limitation.expired,
            "as_of": today.isoformat(),
        },
    }


def show(engine: Engine, case_or_account: str) -> list[dict[str, Any]]:
    """A legal case by its id, or every legal case of an account by the account's id."""
    with engine.connect() as conn:
        if conn.execute(select(legal_cases.c.id).where(legal_cases.c.id == case_or_account)).first():
            return [case_json(conn, case_or_account)]
        if not repository.account_exists(conn, case_or_account):
            raise NotFound(f"unknown legal case or account {case_or_account!r}")
        return legal_cases_of(conn, [case_or_account])


def legal_cases_of(conn: Connection, account_ids: Sequence[str]) -> list[dict[str, Any]]:
    ids = conn.execute(
        select(legal_cases.c.id)
        .where(legal_cases.c.account_id.in_(list(account_ids)))
        .order_by(legal_cases.c.id)
    ).scalars()
    return [case_json(conn, i) for i in ids]
