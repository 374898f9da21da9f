"""Relief arrangements (negotiated plans and settlements) in the set-based tables.

An account's arrangement (:class:`overdue.domain.relief_state.Arrangement`) is laid out in three tables of
the layout (:mod:`~overdue.setbased.layout`): ``arrangements`` (one row per account with one),
``arrangement_payments`` (its schedule) and ``arrangement_set_asides`` (what a plan took off each
statement, keyed by the statement's date).

What the set-based day covers: an arrangement that is not active (pending approval, completed, broken or
lapsed) changes nothing in the end-of-day (:func:`overdue.domain.relief_arrangements.review` and
:func:`~overdue.domain.relief_arrangements.pauses_delinquency` only act on an active one); it is carried
unchanged, day after day, and only gives the strategy's ``plan`` fact (``broken`` after a broken plan,
:func:`overdue.domain.relief_arrangements.plan_fact`). An *active* arrangement is reviewed first each day and
pauses the account's interest, ageing and billing while it is kept: :mod:`~overdue.setbased.relief_review`
does both over the tables, and the day rewrites ``arrangements`` when the review ends one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from overdue.domain.billing import statement_date_of, statement_id
from overdue.domain.relief_state import Arrangement, ScheduledPayment, SetAside
from overdue.domain.state import AccountState
from overdue.setbased.params import Unsupported


def set_aside_date(account_id: str, arrangement_id: str, statement: str) -> date:
    """The date of the statement a set-aside names; refuses one named other than by the statements' id
    pattern (the layout keeps the date)."""
    day = statement_date_of(account_id, statement)
    if day is None:
        raise Unsupported(
            f"relief arrangement {arrangement_id!r} of account {account_id}: a set-aside on statement "
            f"{statement!r} (the layout keeps '{{account}}/{{statement date}}')"
        )
    return day


def check_arrangement(state: AccountState) -> None:
    """Refuse what the layout does not hold of ``state``'s arrangement: a set-aside naming a statement
    other than by the statements' id pattern."""
    arrangement = state.arrangement
    if arrangement is None:
        return
    for aside in arrangement.set_aside:
        set_aside_date(state.id, arrangement.id, aside.statement_id)


def add_rows(
    key: int,
    state: AccountState,
    arrangements: dict[str, list[Any]],
    payments: dict[str, list[Any]],
    set_asides: dict[str, list[Any]],
) -> None:
    """Append the rows of ``state``'s arrangement (if any) to the three tables' columns (by name)."""
    a = state.arrangement
    if a is None:
        return
    row = {
        "account_key": key,
        "arrangement_id": a.id,
        "kind": a.kind,
        "status": a.status,
        "agreed_on": a.agreed_on,
        "started_on": a.started_on,
        "ended_on": a.ended_on,
        "waived": a.waived,
        "waived_interest": a.waived_interest,
        "paid": a.paid,
        "monthly_rate": a.monthly_rate,
        "breach_days": a.breach_days,
        "closes_line": a.closes_line,
        "maker": a.maker,
        "approver": a.approver,
        "approver_role": a.approver_role,
        "fingerprint": a.fingerprint,
    }
    for name, value in row.items():
        arrangements[name].append(value)
    for p in a.schedule:
        for name, value in {
            "account_key": key,
            "number": p.number,
            "due_date": p.due_date,
            "principal": p.principal,
            "interest": p.interest,
        }.items():
            payments[name].append(value)
    for position, aside in enumerate(a.set_aside):
        for name, value in {
            "account_key": key,
            "position": position,
            "statement_date": set_aside_date(state.id, a.id, aside.statement_id),
            "interest": aside.interest,
            "overdue_interest": aside.overdue_interest,
            "fees": aside.fees,
            "late_charges": aside.late_charges,
            "minimum": aside.minimum,
        }.items():
            set_asides[name].append(value)


def _grouped(table: pa.Table, order: str) -> dict[int, list[dict[str, Any]]]:
    rows = table.sort_by([("account_key", "ascending"), (order, "ascending")])
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows.to_pylist():
        out.setdefault(row["account_key"], []).append(row)
    return out


def arrangements_by_account(
    arrangements: pa.Table, payments: pa.Table, set_asides: pa.Table, ids: Mapping[int, str]
) -> dict[int, Arrangement]:
    """Each account's arrangement rebuilt from the three tables, by ``account_key``.

    ids: every account's id by ``account_key`` (the set-asides name their statements by id).
    """
    schedules = _grouped(payments, "number")
    asides = _grouped(set_asides, "position")
    out: dict[int, Arrangement] = {}
    for row in arrangements.to_pylist():
        key = row["account_key"]
        out[key] = Arrangement(
            id=row["arrangement_id"],
            kind=row["kind"],
            status=row["status"],
            agreed_on=row["agreed_on"],
            schedule=tuple(
                ScheduledPayment(p["number"], p["due_date"], p["principal"], p["interest"])
                for p in schedules.get(key, [])
            ),
            waived=row["waived"],
            maker=row["maker"],
            fingerprint=row["fingerprint"],
            waived_interest=row["waived_interest"],
            set_aside=tuple(
                SetAside(
                    statement_id=statement_id(ids[key], s["statement_date"]),
                    interest=s["interest"],
                    overdue_interest=s["overdue_interest"],
                    fees=s["fees"],
                    late_charges=s["late_charges"],
                    minimum=s["minimum"],
                )
                for s in asides.get(key, [])
            ),
            paid=row["paid"],
            monthly_rate=row["monthly_rate"],
            breach_days=row["breach_days"],
            closes_line=row["closes_line"],
            approver=row["approver"],
            approver_role=row["approver_role"],
            started_on=row["started_on"],
            ended_on=row["ended_on"],
        )
    return out
