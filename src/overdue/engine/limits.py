"""The limit review in the end-of-day: each account's limit reviewed on schedule, changes recorded, applied
on their effective date, and the borrower told.

For one account, after its end-of-day of ``on`` is saved (so that the day's statement and bucket spell are
in the store), :func:`review_account`, in the same database transaction:

1. **applies** the account's changes whose effective date has come (a cut, after its notice period), each at
   most down to what is owed then (:func:`overdue.risk.changes.limit_to_apply`);
2. on a **review day** (:class:`~overdue.risk.changes.ReviewSchedule`; default: the statement day, after
   billing), when the account has a finished cycle, fills a :class:`~overdue.risk.review.ReviewInput` from
   its state, every statement, its full bucket history and its past changes, and calls
   :func:`~overdue.risk.review.review_limit`;
3. **records** a decision that is a change (:func:`~overdue.risk.changes.is_change`) in ``limit_changes``
   — exactly once per account and review date (its unique key) — and applies it at once when it takes
   effect today;
4. **tells** the borrower of every change it records (a raise, a cut, a freeze or a close): an action
   ``limit_notice`` (type ``sms``, template ``limit_raise``, ``limit_cut``, ``limit_freeze`` or
   ``limit_close``) and its outbox message, in the borrower's language
   (:func:`overdue.risk.notices.notice_locale`).

A repeated or resumed run skips accounts already run for the date (the reference runner), and the unique
keys of ``limit_changes`` and ``collection_actions`` make a second recording impossible anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, select

from overdue.domain.calendar import add_months
from overdue.domain.money import format_yuan
from overdue.domain.state import AccountState, AccountStatus
from overdue.risk.accounts import all_statements
from overdue.risk.changes import (
    NOTICE_ACTIONS,
    ReviewSchedule,
    apply_change,
    change_to_record,
    limit_in_force,
    limit_to_apply,
    parameters_for,
    past_changes,
)
from overdue.risk.notices import (
    FALLBACK_LOCALE,
    NOTICE_CHANNEL,
    NOTICE_STAGE,
    NOTICE_TREATMENT,
    TEMPLATE_FOR,
    notice_locale,
    notice_text,
)
from overdue.risk.review import ReviewDecision, ReviewParameters
from overdue.store import collections_repository as collections_store
from overdue.store import limit_repository as store
from overdue.store import repository
from overdue.store.limit_tables import limit_changes

NOTICE_LOCALE = FALLBACK_LOCALE
"""The locale of a notice whose template has no text in the borrower's language."""


@dataclass(frozen=True)
class LimitReview:
    """How the end-of-day reviews limits: the policy and the schedule."""

    parameters: ReviewParameters = field(default_factory=ReviewParameters)
    schedule: ReviewSchedule = field(default_factory=ReviewSchedule)


@dataclass(frozen=True)
class AccountReview:
    """What the review did to one account on one date."""

    state: AccountState
    version: int
    recorded: tuple[str, ...] = ()
    """Actions of the changes recorded today (``raise``, ``cut``, ``freeze``, ``close``)."""
    applied: int = 0
    """Changes applied today (recorded today or earlier)."""


def review_account(
    conn: Connection,
    state: AccountState,
    version: int,
    on: date,
    review: LimitReview,
    pending: Sequence[dict[str, Any]] = (),
) -> AccountReview:
    """Apply due changes to ``state`` (saved at ``version``), review it when due, record and tell.

    pending: the account's changes not yet applied whose effective date has come
    (:func:`overdue.store.limit_repository.pending_changes`, read once per date).
    """
    params = parameters_for(review.parameters, state.terms)
    current = state
    applied = 0
    for row in pending:
        current = _apply(conn, current, row, on, params)
        applied += 1
    recorded: list[str] = []
    if review.schedule.due(state.terms, on):
        decision = _review(conn, current, on, params)
        done = None if decision is None else _record(conn, current, decision, on, params)
        if decision is not None and done is not None:
            current = done
            recorded.append(decision.action)
            applied += decision.effective_on <= on
    if current != state:
        version = repository.save_account(conn, state, current, version, ())
    return AccountReview(current, version, tuple(recorded), applied)


def _apply(
    conn: Connection, state: AccountState, row: dict[str, Any], on: date, params: ReviewParameters
) -> AccountState:
    limit, held = limit_to_apply(state, row["new_limit_fen"], params)
    reasons = row["reasons"] + (" CUT_LIMITED_BY_BALANCE" if held and "LIMITED" not in row["reasons"] else "")
    store.mark_applied(conn, row["id"], on, limit, reasons)
    return apply_change(state, row["action"], limit)


def _review(
    conn: Connection, state: AccountState, on: date, params: ReviewParameters
) -> ReviewDecision | None:
    """The review's decision for ``state`` on ``on`` when it is a change to record (else None,
    :func:`~overdue.risk.changes.change_to_record`); a closed line is not read from the store at all."""
    if state.status is AccountStatus.CLOSED:
        return None
    return change_to_record(
        state,
        all_statements(conn, state.id, on),
        store.bucket_spells(conn, state.id),
        on,
        past_changes(store.changes_of(conn, state.id)),
        params,
    )


def _record(
    conn: Connection, state: AccountState, decision: ReviewDecision, on: date, params: ReviewParameters
) -> AccountState | None:
    """Record ``decision``, tell the borrower, and apply it when it takes effect today; returns the state
    (None when an earlier run of the date recorded it already)."""
    row = {
        "account_id": state.id,
        "review_date": on,
        "effective_on": decision.effective_on,
        "action": decision.action,
        "old_limit_fen": decision.current_limit,
        "new_limit_fen": decision.new_limit,
        "reasons": " ".join(decision.reasons),
        "model_version": params.model_version,
        "applied_on": None,
    }
    change_id = store.record_change(conn, row)
    if change_id is None:
        return None
    if decision.action in NOTICE_ACTIONS:
        _tell(conn, state, decision, on)
    if decision.effective_on > on:
        return state
    return _apply(conn, state, {**row, "id": change_id}, on, params)


def _tell(conn: Connection, state: AccountState, decision: ReviewDecision, on: date) -> None:
    """Record the notice as an action of the day and queue its message."""
    template = TEMPLATE_FOR[decision.action]
    action_id = collections_store.record_action(
        conn,
        {
            "account_id": state.id,
            "business_date": on,
            "treatment": NOTICE_TREATMENT,
            "type": NOTICE_CHANNEL,
            "stage": NOTICE_STAGE,
            "template": template,
            "party": "debtor",
            "priority": 0,
            "experiment": None,
            "variant": None,
            "status": "queued",
            "refused_rule": None,
            "reason": " ".join(decision.reasons),
        },
    )
    if action_id is None:
        return
    locale = notice_locale(template, state.language)
    body = notice_text(
        decision.action,
        locale,
        old_limit=decision.current_limit,
        new_limit=decision.new_limit,
        effective_on=decision.effective_on,
        reasons=decision.reasons,
    )
    collections_store.queue_message(
        conn,
        {
            "action_id": action_id,
            "account_id": state.id,
            "channel": NOTICE_CHANNEL,
            "template": template,
            "locale": locale,
            "body": body,
        },
    )


def limit_on(conn: Connection, account_id: str, current_limit: int, day: date) -> int:
    """The account's limit at the end of ``day`` (what the credit bureau is told for that month end)."""
    return limit_in_force(past_changes(store.changes_of(conn, account_id)), current_limit, day)


def limits_on(conn: Connection, current: dict[str, int], day: date) -> dict[str, int]:
    """:func:`limit_on` for many accounts at once (one query): account → its limit at the end of ``day``.

    current: each account's limit now.
    """
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(
        select(limit_changes).order_by(
            limit_changes.c.account_id, limit_changes.c.review_date, limit_changes.c.id
        )
    ).mappings():
        rows.setdefault(row["account_id"], []).append(dict(row))
    return {
        account_id: limit_in_force(past_changes(rows.get(account_id, [])), limit, day)
        for account_id, limit in current.items()
    }


def month_end_of(month: str) -> date:
    """The last day of ``month`` (``2026-03``)."""
    year, number = map(int, month.split("-"))
    return add_months(date(year, number, 1), 1) - timedelta(days=1)


def limit_snapshot(conn: Connection, state: AccountState) -> dict[str, Any]:
    """The limit part of a scenario snapshot: ``limit_changes`` (every change recorded for the account) and
    ``bureau_credit_limit``, the limit in force at the end of the last month reported to the bureau (None
    before the first)."""
    rows = store.changes_of(conn, state.id)
    changes = past_changes(rows)
    last_month = state.bureau[-1].month if state.bureau else None
    return {
        "limit_changes": [
            {
                "review_date": r["review_date"].isoformat(),
                "effective_on": r["effective_on"].isoformat(),
                "action": r["action"],
                "old_limit": format_yuan(r["old_limit_fen"]),
                "new_limit": format_yuan(r["new_limit_fen"]),
                "reasons": r["reasons"].split(),
                "model_version": r["model_version"],
                "applied_on": None if r["applied_on"] is None else r["applied_on"].isoformat(),
            }
            for r in rows
        ],
        "bureau_credit_limit": None
        if last_month is None
        else format_yuan(limit_in_force(changes, state.credit_limit, month_end_of(last_month))),
    }
