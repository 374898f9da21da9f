"""What the risk models see of an existing account, read from the database, and its explanation.

:func:`account_facts` loads the account with :func:`overdue.store.repository.load_account` (with its full
bucket history), its collection state with :func:`overdue.store.collections_repository.load_collection_state`
and every statement it has had (a read-only query), and derives:

- the statement **cycles** for the limit review (:func:`overdue.risk.review.cycles_from_history`);
- the **behaviour facts** (:func:`overdue.risk.behaviour.behaviour_facts`, the function the end-of-day's
  month-end scores and the simulator use too);
- the **collection facts** (delinquent accounts only): earlier episodes are M0 → M1 moves before the current
  episode; attempts and connects are the current episode's; promises are those the collections repository
  keeps (pending ones and the latest resolved), resolved in the last 12 months.

Nothing is written. :func:`explain_account` puts the scores and the review decision together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from overdue.domain.collections import CollectionState
from overdue.domain.money import format_yuan
from overdue.domain.state import AccountState, Statement
from overdue.risk.behaviour import BehaviourFacts, behaviour_facts, score_behaviour
from overdue.risk.behaviour import shipped_model as behaviour_model
from overdue.risk.changes import past_changes, review_input
from overdue.risk.collection import CollectionFacts, collection_facts, score_collection
from overdue.risk.collection import shipped_model as collection_model
from overdue.risk.review import ReviewInput, ReviewParameters, review_limit
from overdue.store.account_tables import statements as statements_table
from overdue.store.collections_repository import load_collection_state
from overdue.store.limit_repository import changes_of
from overdue.store.repository import load_account


@dataclass(frozen=True)
class AccountFacts:
    state: AccountState
    collection: CollectionState
    as_of: date
    review: ReviewInput
    behaviour: BehaviourFacts
    delinquency: CollectionFacts | None
    """None when the account is not delinquent (the collection score is for delinquent accounts)."""


def all_statements(conn: Connection, account_id: str, as_of: date) -> list[Statement]:
    """Every statement of the account up to ``as_of``, settled ones included (the fields the limit review
    and the behaviour facts read)."""
    t = statements_table
    rows = conn.execute(
        select(
            t.c.id,
            t.c.statement_date,
            t.c.due_date,
            t.c.amount_fen,
            t.c.minimum_fen,
            t.c.carried_principal_fen,
            t.c.paid_fen,
            t.c.installed,
        )
        .where(t.c.account_id == account_id, t.c.statement_date <= as_of)
        .order_by(t.c.statement_date)
    )
    return [
        Statement(
            id=r.id,
            statement_date=r.statement_date,
            due_date=r.due_date,
            amount=r.amount_fen,
            minimum=r.minimum_fen,
            carried_principal=r.carried_principal_fen,
            paid=r.paid_fen,
            installed=r.installed,
        )
        for r in rows
    ]


def account_facts(conn: Connection, account_id: str, as_of: date | None = None) -> AccountFacts:
    """The facts of ``account_id`` on ``as_of`` (default: its last end-of-day, or its opening date)."""
    state, _ = load_account(conn, account_id, full_history=True)
    collection, _, _ = load_collection_state(conn, account_id)
    on = as_of or state.last_eod or state.opened_on
    changes = past_changes(changes_of(conn, account_id))
    statements = all_statements(conn, account_id, on)
    review = review_input(state, statements, state.bucket_history, on, changes)
    behaviour = behaviour_facts(state, statements, on)
    delinquency = collection_facts(state, collection, on)
    return AccountFacts(state, collection, on, review, behaviour, delinquency)


def explain_account(
    conn: Connection, account_id: str, as_of: date | None = None, params: ReviewParameters | None = None
) -> dict[str, Any]:
    """Behaviour and collection scores, the limit review decision and their reason codes, as JSON-ready
    values (amounts as yuan strings, scores and ratios as numbers)."""
    facts = account_facts(conn, account_id, as_of)
    behaviour = score_behaviour(facts.behaviour, behaviour_model())
    collection = (
        None if facts.delinquency is None else score_collection(facts.delinquency, collection_model())
    )
    decision = review_limit(facts.review, params)
    behaviour_facts = asdict(facts.behaviour)
    behaviour_facts["utilisation"] = round(facts.behaviour.utilisation, 4)
    return {
        "account_id": account_id,
        "as_of": facts.as_of.isoformat(),
        "status": str(facts.state.status),
        "credit_limit": format_yuan(facts.state.credit_limit),
        "dpd": facts.state.days_past_due,
        "bucket": facts.state.bucket,
        "behaviour": {"facts": behaviour_facts, **behaviour.to_json()},
        "collection": None
        if collection is None or facts.delinquency is None
        else {"facts": asdict(facts.delinquency), **collection.to_json()},
        "review": {
            "cycles": [
                {
                    "statement_date": c.statement_date.isoformat(),
                    "balance": format_yuan(c.balance),
                    "utilisation": round(float(c.utilisation), 4),
                    "on_time": c.on_time,
                    "minimum_only": c.minimum_only,
                }
                for c in facts.review.cycles
            ],
            **decision.to_json(),
        },
    }
