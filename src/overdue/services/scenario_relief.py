"""Relief events in scenario files: ``{date: D, relief: {kind: …, …}}``, quoted and accepted in one event.

The event's fields, by kind (amounts are yuan strings, dates YYYY-MM-DD)::

    {kind: minimum}
    {kind: installments, statement: 2026-02-01, periods: 12}
    {kind: deferral, statement: 2026-02-01, days: 30}
    {kind: waiver, interest: "10.00", fees: "0.00", reason: "...", maker: a1, approver: s1, role: supervisor}
    {kind: settlement, amount: "600.00", pay_by: 2026-05-10, maker: ..., approver: ..., role: ...}
    {kind: plan, periods: 12, down_payment: "100.00", monthly_rate: "0", waive_fees: true,
     waive_interest: false, maker: ..., approver: ..., role: ...}

The event quotes the option, accepts it with the quote's fingerprint (``maker`` defaults to ``borrower``),
and, when an ``approver`` is given, has it approved. Its result is ``{quote, id, status, …}``; a refusal names
its rule, so ``expect_rule: relief.deferral.once_per_window`` checks it. Snapshots carry the account's
``plan`` (:func:`overdue.domain.relief_arrangements.plan_json`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine

from overdue.domain.calendar import parse_date
from overdue.domain.errors import InvalidInput
from overdue.domain.money import parse_positive_yuan, parse_yuan
from overdue.domain.relief_arrangements import plan_json
from overdue.domain.relief_common import KINDS
from overdue.domain.state import AccountState
from overdue.services import relief
from overdue.services.relief import ReliefRequest

PEOPLE = {"maker", "approver", "role"}
FIELDS: dict[str, set[str]] = {
    "minimum": set(),
    "installments": {"statement", "periods"},
    "deferral": {"statement", "days"},
    "waiver": {"interest", "fees", "reason"},
    "settlement": {"amount", "pay_by"},
    "plan": {"periods", "down_payment", "monthly_rate", "waive_fees", "waive_interest"},
}
REQUIRED: dict[str, set[str]] = {
    "minimum": set(),
    "installments": {"statement", "periods"},
    "deferral": {"statement", "days"},
    "waiver": set(),
    "settlement": {"amount", "pay_by"},
    "plan": {"periods"},
}


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"relief.{name} must be a whole number")
    return value


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"relief.{name} must be true or false")
    return value


def parse_event(value: Any) -> dict[str, Any]:
    """Check a ``relief`` event's mapping; returns ``{request, maker, approver, role}``."""
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        raise InvalidInput(f"relief must be a mapping with kind: one of {', '.join(KINDS)}")
    kind = str(value["kind"])
    allowed = FIELDS[kind] | PEOPLE | {"kind"}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidInput(
            f"relief {kind} takes {', '.join(sorted(allowed - {'kind'})) or 'no fields'}; unknown: {unknown}"
        )
    missing = sorted(REQUIRED[kind] - set(value))
    if missing:
        raise InvalidInput(f"relief {kind} needs {', '.join(missing)}")
    fields: dict[str, Any] = {}
    if "statement" in value:
        fields["statement"] = parse_date(value["statement"], field="relief.statement")
    for name in ("periods", "days"):
        if name in value:
            fields[name] = _whole(value[name], name)
    if "amount" in value:
        fields["amount"] = parse_positive_yuan(value["amount"], field="relief.amount")
    if "pay_by" in value:
        fields["pay_by"] = parse_date(value["pay_by"], field="relief.pay_by")
    for name in ("down_payment", "interest", "fees"):
        if name in value:
            fields[name] = parse_yuan(value[name], field=f"relief.{name}")
    if "monthly_rate" in value:
        if not isinstance(value["monthly_rate"], str):
            raise InvalidInput('relief.monthly_rate must be a decimal string such as "0.005"')
        try:
            fields["monthly_rate"] = Decimal(value["monthly_rate"])
        except InvalidOperation:
            raise InvalidInput(f"relief.monthly_rate is not a number: {value['monthly_rate']!r}") from None
    for name in ("waive_fees", "waive_interest"):
        if name in value:
            fields[name] = _flag(value[name], name)
    if "reason" in value:
        fields["reason"] = str(value["reason"])
    return {
        "request": ReliefRequest(kind=kind, **fields),
        "maker": str(value.get("maker", "borrower")),
        "approver": None if value.get("approver") is None else str(value["approver"]),
        "role": None if value.get("role") is None else str(value["role"]),
    }


def apply(engine: Engine, account_id: str, on: date, event: dict[str, Any]) -> dict[str, Any]:
    """Quote, accept and (with an approver) approve the event's option on ``on``."""
    request: ReliefRequest = event["request"]
    quote = relief.quote(engine, account_id, request, on=on)
    accepted = relief.accept(engine, account_id, request, quote["fingerprint"], maker=event["maker"], on=on)
    detail: dict[str, Any] = {"quote": quote, "status": accepted.get("status"), "id": accepted.get("id")}
    if "arrangement" in accepted:
        detail["arrangement"] = accepted["arrangement"]
    if event["approver"] is not None and accepted.get("status") in ("requested", "pending_approval"):
        approved = relief.approve(
            engine, account_id, accepted["id"], event["approver"], event["role"] or "", on=on
        )
        detail["status"] = approved["status"]
        detail["approval"] = {k: v for k, v in approved.items() if k not in ("operation", "arrangement")}
    return detail


def plan_snapshot(state: AccountState) -> dict[str, object] | None:
    """The snapshot's ``plan``: ``{kind, status, next_due, remaining, …}`` or None."""
    return plan_json(state)
