"""The snapshot of an account after a date's end-of-day, in the JSON shape of DESIGN §3.

Amounts are yuan strings with two places. ``balances``:

- ``principal``: all principal owed (billed, not yet billed, and future installment periods);
- ``overdue_principal``: principal on statements that are delinquent (past due, minimum not paid);
- ``interest``: all interest posted and unpaid, of which ``overdue_interest`` on delinquent statements;
- ``fees``: installment and other fees posted and unpaid;
- ``total_due``: everything billed and unpaid now (the statements' unpaid amounts);
- ``outstanding``: everything owed (principal + interest + fees).

``installments`` lists the unfinished installment plans: ``origin`` ``statement`` (bill installments, with the
statement they were made from) or ``purchase`` (a purchase in installments, ``statement`` null).

After a write-off the balances are the borrower's remaining claim (recovery goes on).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from overdue.domain.money import format_yuan
from overdue.domain.state import AccountState


def snapshot(state: AccountState, on: date) -> dict[str, Any]:
    delinquent = state.delinquent_statements(on)
    statement = state.latest_statement()
    return {
        "date": on.isoformat(),
        "status": str(state.status),
        "credit_limit": format_yuan(state.credit_limit),
        "available_credit": format_yuan(state.available_credit),
        "dpd": state.days_past_due,
        "bucket": state.bucket,
        "balances": {
            "principal": format_yuan(state.principal),
            "overdue_principal": format_yuan(sum(s.principal for s in delinquent)),
            "interest": format_yuan(state.interest),
            "overdue_interest": format_yuan(sum(s.overdue_interest for s in state.statements)),
            "fees": format_yuan(state.fees),
            "total_due": format_yuan(sum(s.outstanding for s in state.statements)),
            "unbilled_principal": format_yuan(state.unbilled_principal),
            "outstanding": format_yuan(state.outstanding),
        },
        "statement": None
        if statement is None
        else {
            "id": statement.id,
            "date": statement.statement_date.isoformat(),
            "due_date": statement.due_date.isoformat(),
            "amount": format_yuan(statement.amount),
            "minimum": format_yuan(statement.minimum),
            "paid": format_yuan(statement.paid),
            "minimum_remaining": format_yuan(statement.minimum_remaining),
            "unpaid": format_yuan(statement.outstanding),
        },
        "installments": [
            {
                "id": plan.id,
                "origin": str(plan.origin),
                "statement": plan.statement_id,
                "created_on": plan.created_on.isoformat(),
                "periods": len(plan.periods),
                "principal": format_yuan(plan.principal),
                "fee_total": format_yuan(plan.fee_total),
                "periods_billed": sum(1 for p in plan.periods if p.billed),
                "unbilled_principal": format_yuan(plan.unbilled_principal),
            }
            for plan in state.plans
            if not plan.is_finished
        ],
        "actions": [],
        "bureau": {
            "status_grid": state.bureau_grid(),
            "months": [{"month": m.month, "status": m.status} for m in state.bureau],
        },
        "bucket_history": [
            {
                "bucket": s.bucket,
                "entered": s.entered.isoformat(),
                "left": s.left.isoformat() if s.left else None,
            }
            for s in state.bucket_history
        ],
        "written_off_on": state.written_off_on.isoformat() if state.written_off_on else None,
    }
