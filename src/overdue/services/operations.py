"""Collector operations as use cases: cases and queues, the morning allocation, field visits, legal cases,
write-off and debt sale. Each concern has its own module; this one gathers them and shows a whole case.

- :mod:`overdue.services.operations_cases` — cases, stages, queues, priority;
- :mod:`overdue.services.operations_allocation` — collectors, absences, allocation, reassignment;
- :mod:`overdue.services.operations_field` — borrowers' places, field orders and routes;
- :mod:`overdue.services.operations_legal` — legal cases and the limitation period;
- :mod:`overdue.services.operations_sale` — portfolio selection, transfer file, sold accounts, forwarded
  payments;
- :mod:`overdue.services.operations_agency` — agency placements, placement files, results import with
  reconciliation, recall, commission.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from overdue.services import operations_agency as agency
from overdue.services import operations_allocation as allocation
from overdue.services import operations_cases as cases
from overdue.services import operations_field as field
from overdue.services import operations_legal as legal
from overdue.services import operations_sale as sale

__all__ = ["agency", "allocation", "cases", "field", "legal", "sale", "show_case"]


def show_case(engine: Engine, case_id: str, *, score: bool = True) -> dict[str, Any]:
    """One case with its accounts, its assignments by date, its field orders and its legal cases."""
    with engine.connect() as conn:
        (case,) = cases.load_cases(conn, case_id=case_id, score=score, include_current=True)
        out = cases.case_json(case)
        out["assignments"] = allocation.assignments_of_case(conn, case_id)
        out["field_orders"] = field.orders_of_case(conn, case_id)
        out["legal_cases"] = legal.legal_cases_of(conn, [p.account_id for p in case.accounts])
    return out
