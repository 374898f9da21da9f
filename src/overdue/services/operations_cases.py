"""Cases and queues: every borrower's accounts as one case, its stage, queue and priority.

A case is read, not stored: it is rebuilt from the accounts (DPD and statements), the open work items the
end-of-day queued, agency placements, litigation holds and legal cases, whenever it is asked for. The
borrower of an account comes from ``borrower_accounts`` (filled when the borrower is known); an account with
no borrower is a case of its own. Sold accounts are the buyer's and belong to no case.

The score is the collection score of :mod:`overdue.risk.collection` (propensity to pay within 30 days) of
the case's account with the worst DPD; a case with nothing past due has no score.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, select

from overdue.domain.errors import InvalidInput, NotFound
from overdue.domain.money import format_yuan
from overdue.operations.cases import (
    CURRENT,
    QUEUES,
    AccountPosition,
    Case,
    build_case,
    case_id_for,
)
from overdue.risk.accounts import account_facts as risk_facts
from overdue.risk.collection import score_collection, shipped_model
from overdue.store import repository
from overdue.store.account_tables import accounts
from overdue.store.api_tables import borrower_accounts
from overdue.store.collection_tables import collection_states, work_items
from overdue.store.compliance_tables import account_holds
from overdue.store.operations_tables import legal_cases


def borrowers_of(conn: Connection) -> dict[str, str]:
    """Account id → borrower id, for every account whose borrower is known."""
    return {r.account_id: r.borrower_id for r in conn.execute(select(borrower_accounts))}


def open_holds_by_account(conn: Connection, kinds: Iterable[str]) -> dict[str, set[str]]:
    """Account id → the kinds (among ``kinds``) of hold not yet ended."""
    out: dict[str, set[str]] = {}
    rows = conn.execute(
        select(account_holds.c.account_id, account_holds.c.kind).where(
            account_holds.c.ended_at.is_(None), account_holds.c.kind.in_(list(kinds))
        )
    )
    for r in rows:
        out.setdefault(r.account_id, set()).add(r.kind)
    return out


def sold_accounts(conn: Connection) -> set[str]:
    return {a for a, kinds in open_holds_by_account(conn, ("sold",)).items() if "sold" in kinds}


def account_position(
    conn: Connection,
    account_id: str,
    open_queues: frozenset[str] = frozenset(),
    agency: str | None = None,
    litigation: bool = False,
) -> AccountPosition:
    """The account's DPD and balances as of its last end-of-day (its opening day before the first)."""
    state, _ = repository.load_account(conn, account_id)
    on = state.last_eod or state.opened_on
    return AccountPosition(
        account_id=account_id,
        days_past_due=state.days_past_due,
        overdue=sum(s.outstanding for s in state.delinquent_statements(on)),
        total_due=sum(s.outstanding for s in state.statements if s.outstanding > 0),
        open_queues=open_queues,
        agency=agency,
        litigation=litigation,
    )


def load_cases(
    conn: Connection, *, case_id: str | None = None, score: bool = True, include_current: bool = False
) -> list[Case]:
    """Every case (or the one ``case_id``), highest priority first.

    score: compute the collection score (slower: it reads each worst account's history).
    include_current: keep cases with nothing due and no open work.
    """
    borrower = borrowers_of(conn)
    sold = sold_accounts(conn)
    ids = [a for a in conn.execute(select(accounts.c.id).order_by(accounts.c.id)).scalars() if a not in sold]
    grouped: dict[str, list[str]] = {}
    for account_id in ids:
        grouped.setdefault(case_id_for(borrower.get(account_id), account_id), []).append(account_id)
    if case_id is not None:
        if case_id not in grouped:
            raise NotFound(f"unknown case {case_id!r}")
        grouped = {case_id: grouped[case_id]}
    wanted = [a for members in grouped.values() for a in members]
    queues: dict[str, set[str]] = {}
    for r in conn.execute(
        select(work_items.c.account_id, work_items.c.queue).where(
            work_items.c.status == "open", work_items.c.account_id.in_(wanted)
        )
    ):
        queues.setdefault(r.account_id, set()).add(r.queue)
    agency = {
        r.account_id: r.agency
        for r in conn.execute(
            select(collection_states.c.account_id, collection_states.c.agency).where(
                collection_states.c.agency.is_not(None), collection_states.c.account_id.in_(wanted)
            )
        )
    }
    litigation = set(open_holds_by_account(conn, ("litigation",)))
    litigation |= set(
        conn.execute(
            select(legal_cases.c.account_id).where(
                legal_cases.c.step != "closed", legal_cases.c.account_id.in_(wanted)
            )
        ).scalars()
    )
    model = shipped_model() if score else None
    cases: list[Case] = []
    for cid, members in grouped.items():
        positions = [
            account_position(conn, a, frozenset(queues.get(a, ())), agency.get(a), a in litigation)
            for a in members
        ]
        worst = max(positions, key=lambda p: (p.days_past_due, p.account_id))
        propensity = None
        if model is not None and worst.days_past_due > 0:
            facts = risk_facts(conn, worst.account_id).delinquency
            if facts is not None:
                propensity = score_collection(facts, model).propensity
        case = build_case(cid, borrower.get(members[0]), positions, propensity)
        if include_current or case.queue != CURRENT:
            cases.append(case)
    cases.sort(key=lambda c: (-c.priority, -c.overdue, c.id))
    return cases


def case_json(case: Case) -> dict[str, Any]:
    return {
        "case": case.id,
        "borrower": case.borrower_id,
        "stage": case.stage,
        "queue": case.queue,
        "days_past_due": case.days_past_due,
        "overdue": format_yuan(case.overdue),
        "total_due": format_yuan(case.total_due),
        "score": None if case.score is None else round(case.score, 4),
        "priority": case.priority,
        "accounts": [
            {
                "account_id": p.account_id,
                "days_past_due": p.days_past_due,
                "overdue": format_yuan(p.overdue),
                "total_due": format_yuan(p.total_due),
                "open_work": sorted(p.open_queues),
                "agency": p.agency,
                "litigation": p.litigation,
            }
            for p in case.accounts
        ],
    }


def list_cases(
    engine: Engine, *, queue: str | None = None, score: bool = True, include_current: bool = False
) -> list[dict[str, Any]]:
    """Every case (of ``queue`` when given), highest priority first, as JSON-ready values."""
    if queue is not None and queue not in (*QUEUES, CURRENT):
        raise InvalidInput(f"unknown queue {queue!r}; expected one of {', '.join(QUEUES)}")
    with engine.connect() as conn:
        cases = load_cases(conn, score=score, include_current=include_current or queue == CURRENT)
    return [case_json(c) for c in cases if queue is None or c.queue == queue]
