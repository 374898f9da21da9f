"""What the limit review reads from the operational store, in bulk, and what it writes back.

:func:`read_review` reads, one query per table, what the set-based review needs beyond the state tables
(:func:`overdue.setbased.store_io.read_store`): every ``limit_changes`` row, the statements the state
tables do not hold (settled ones before the latest: ``statement_history``) and the closed bucket spells
(``spell_history``), each keyed by the accounts' ``account_key`` (their position by id).

:func:`write_review` writes one date's review into the store, inside the date's transaction: the changes
recorded (inserted; the unique (account, review date) key makes a second recording fail the date), the
changes applied (``applied_on``, the limit set and the reasons), the accounts' ``credit_limit`` (their
status goes with the day's account write), and each notice as a ``collection_actions`` row with its outbox
message (in bulk: staged and merged on PostgreSQL) — what :func:`overdue.engine.limits.review_account`
writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import Connection, and_, bindparam, insert, select, update

from overdue.domain.errors import Conflict
from overdue.setbased import layout, limits
from overdue.setbased.store_io import fetch_rows, keys_of, loaded_statements
from overdue.setbased.store_write import insert_rows, record_actions
from overdue.store.account_tables import accounts, bucket_history, statements
from overdue.store.collection_tables import outbox
from overdue.store.limit_tables import limit_changes


@dataclass(frozen=True)
class ReviewTables:
    """The review's inputs read from the store (layouts of :mod:`~overdue.setbased.limits`)."""

    changes: pa.Table
    statement_history: pa.Table
    spell_history: pa.Table


def read_review(conn: Connection, ids: pa.Array) -> ReviewTables:
    """The store's limit changes, older statements and closed bucket spells; ``ids``: every account's id by
    ``account_key`` (``read_store``'s accounts)."""
    c = limit_changes.c
    changes = fetch_rows(
        conn,
        select(
            c.account_id,
            c.review_date,
            c.effective_on,
            c.action,
            c.old_limit_fen,
            c.new_limit_fen,
            c.reasons,
            c.model_version,
            c.applied_on,
        ).order_by(c.account_id, c.review_date),
        pa.schema([pa.field("account_id", pa.string()), *list(limits.LIMIT_CHANGES)[1:]]),
    )
    s = statements.c
    history = fetch_rows(
        conn,
        select(
            s.account_id,
            s.statement_date,
            s.due_date,
            s.amount_fen,
            s.carried_principal_fen,
            s.paid_fen,
            s.installed,
        )
        .where(~loaded_statements())
        .order_by(s.account_id, s.statement_date),
        pa.schema([pa.field("account_id", pa.string()), *list(limits.STATEMENT_HISTORY)[1:]]),
    )
    b = bucket_history.c
    spells = fetch_rows(
        conn,
        select(b.account_id, b.bucket, b.entered, b.left_on)
        .where(b.left_on.is_not(None))
        .order_by(b.account_id, b.entered),
        pa.schema([pa.field("account_id", pa.string()), *list(layout.SPELLS)[1:]]),
    )

    def keyed(table: pa.Table, schema: pa.Schema) -> pa.Table:
        return table.set_column(0, "account_key", keys_of(table["account_id"], ids)).cast(schema)

    return ReviewTables(
        keyed(changes, limits.LIMIT_CHANGES),
        keyed(history, limits.STATEMENT_HISTORY),
        keyed(spells, layout.SPELLS),
    )


def write_review(
    conn: Connection,
    on: date,
    ids: Sequence[str],
    changes_of_day: pa.Table,
    changed: dict[int, int],
    versions: list[int],
    notices: pa.Table,
    messages: pa.Table,
) -> None:
    """Write the review of ``on`` into the store (see the module docstring), after the date's day.

    changes_of_day: the changes recorded or applied on ``on`` (layout
    :data:`~overdue.setbased.limits.LIMIT_CHANGES`); changed: ``account_key`` → its credit limit after the
    review, for the accounts whose limit or status the review changed (saved once more, as the reference
    saves them: their ``version`` checked and bumped in ``versions``; the status itself went with the day's
    account write); notices, messages: the day's notice actions and outbox messages
    (:mod:`~overdue.setbased.limits_run`).
    """
    rows = changes_of_day.to_pylist()
    new = [r for r in rows if r["review_date"] == on]
    applied = [r for r in rows if r["review_date"] != on]
    if new:
        conn.execute(insert(limit_changes), [_change_row(r, ids) for r in new])
    if applied:
        conn.execute(
            update(limit_changes)
            .where(
                and_(
                    limit_changes.c.account_id == bindparam("b_account"),
                    limit_changes.c.review_date == bindparam("b_review"),
                )
            )
            .values(
                applied_on=bindparam("b_applied"),
                new_limit_fen=bindparam("b_limit"),
                reasons=bindparam("b_reasons"),
            ),
            [
                {
                    "b_account": ids[r["account_key"]],
                    "b_review": r["review_date"],
                    "b_applied": r["applied_on"],
                    "b_limit": r["new_limit"],
                    "b_reasons": r["reasons"],
                }
                for r in applied
            ],
        )
    if changed:
        count = conn.execute(
            update(accounts)
            .where(accounts.c.id == bindparam("b_id"), accounts.c.version == bindparam("b_version"))
            .values(credit_limit_fen=bindparam("b_limit"), version=accounts.c.version + 1),
            [
                {"b_id": ids[key], "b_version": versions[key], "b_limit": limit}
                for key, limit in changed.items()
            ],
        ).rowcount
        if count != len(changed):
            raise Conflict(
                f"{len(changed) - count} account(s) changed in the store while the end-of-day of "
                f"{on.isoformat()} ran; nothing of that date was written: run it again"
            )
        for key in changed:
            versions[key] += 1
    _write_notices(conn, ids, notices, messages)


def _write_notices(conn: Connection, ids: Sequence[str], notices: pa.Table, messages: pa.Table) -> None:
    """The notices as ``collection_actions`` rows (those of an (account, date, treatment) already recorded
    left out, as :func:`overdue.store.collections_repository.record_action` leaves them) and each new one's
    outbox message, pending; in bulk."""
    if notices.num_rows == 0:
        return
    actions = [
        {
            **{k: v for k, v in notice.items() if k != "account_key"},
            "account_id": ids[notice["account_key"]],
            "experiment": None,
            "variant": None,
            "refused_rule": None,
        }
        for notice in notices.to_pylist()
    ]
    action_ids = record_actions(conn, actions)
    bodies = {r["account_key"]: r for r in messages.to_pylist()}
    queued = []
    for notice, action in zip(notices.to_pylist(), actions, strict=True):
        action_id = action_ids.get((action["account_id"], action["treatment"]))
        if action_id is None:
            continue
        message = bodies[notice["account_key"]]
        queued.append(
            {
                "action_id": action_id,
                "account_id": action["account_id"],
                "channel": message["channel"],
                "template": message["template"],
                "locale": message["locale"],
                "body": message["body"],
                "status": "pending",
            }
        )
    insert_rows(conn, outbox, queued)


def _change_row(row: dict[str, Any], ids: Sequence[str]) -> dict[str, Any]:
    return {
        "account_id": ids[row["account_key"]],
        "review_date": row["review_date"],
        "effective_on": row["effective_on"],
        "action": row["action"],
        "old_limit_fen": row["old_limit"],
        "new_limit_fen": row["new_limit"],
        "reasons": row["reasons"],
        "model_version": row["model_version"],
        "applied_on": row["applied_on"],
    }
