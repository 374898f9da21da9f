"""Collectors, absences, the morning allocation of call-queue cases, and supervisors' reassignments.

:func:`allocate_day` runs the pure :func:`overdue.operations.allocation.allocate` over the day's cases in the
call queues (``M1``, ``M2``, ``M3+``) and the collectors (kind ``collector``, active), and stores one
assignment per case for the date. It runs once per date: a second run returns what the first stored.
:func:`reassign` lets a supervisor move a case to another collector on a date, recording who and why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from overdue.domain.errors import Conflict, InvalidInput, NotFound, Refused
from overdue.domain.money import format_yuan
from overdue.operations.allocation import CaseToAllocate, Collector, allocate
from overdue.operations.cases import CALL_QUEUES
from overdue.services.operations_cases import load_cases
from overdue.store import audit_trail
from overdue.store.operations_tables import (
    COLLECTOR_KINDS,
    case_assignments,
    case_reassignments,
    collector_absences,
    collectors,
)


def add_collector(
    engine: Engine, collector_id: str, name: str, *, kind: str = "collector", daily_cap: int = 50
) -> dict[str, Any]:
    """Register a collector (or a field agent) with a daily cap of cases; an existing one gets the new cap."""
    if not collector_id.strip() or not name.strip():
        raise InvalidInput("a collector needs an id and a name")
    if kind not in COLLECTOR_KINDS:
        raise InvalidInput(f"unknown collector kind {kind!r}; expected one of {', '.join(COLLECTOR_KINDS)}")
    if daily_cap < 0:
        raise InvalidInput(f"a daily cap cannot be negative ({daily_cap})")
    with engine.begin() as conn:
        existing = conn.execute(select(collectors).where(collectors.c.id == collector_id)).mappings().first()
        if existing is None:
            conn.execute(
                collectors.insert().values(
                    id=collector_id, name=name, kind=kind, daily_cap=daily_cap, active=True
                )
            )
        else:
            if existing["kind"] != kind:
                raise Conflict(f"collector {collector_id} is a {existing['kind']}, not a {kind}")
            conn.execute(
                collectors.update()
                .where(collectors.c.id == collector_id)
                .values(name=name, daily_cap=daily_cap, active=True)
            )
        result = {"collector": collector_id, "name": name, "kind": kind, "daily_cap": daily_cap}
        audit_trail.changed(
            conn, "create" if existing is None else "update", "collector", collector_id, result
        )
    return result


def list_collectors(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(collectors).order_by(collectors.c.id)).mappings().all()
    return [
        {
            "collector": r["id"],
            "name": r["name"],
            "kind": r["kind"],
            "daily_cap": r["daily_cap"],
            "active": r["active"],
        }
        for r in rows
    ]


def _collector(conn: Connection, collector_id: str) -> Any:
    row = conn.execute(select(collectors).where(collectors.c.id == collector_id)).mappings().first()
    if row is None:
        raise NotFound(f"unknown collector {collector_id!r}")
    return row


def record_absence(engine: Engine, collector_id: str, on: date, reason: str | None = None) -> dict[str, Any]:
    """Mark a collector away on ``on``: the allocation gives their cases to others that day."""
    with engine.begin() as conn:
        _collector(conn, collector_id)
        known = conn.execute(
            select(collector_absences).where(
                collector_absences.c.collector_id == collector_id, collector_absences.c.absent_on == on
            )
        ).first()
        if known is None:
            conn.execute(
                collector_absences.insert().values(collector_id=collector_id, absent_on=on, reason=reason)
            )
            audit_trail.changed(conn, "create", "absence", collector_id, {"date": on.isoformat()})
    return {"collector": collector_id, "absent_on": on.isoformat(), "added": known is None}


def _absent(conn: Connection, on: date) -> set[str]:
    return set(
        conn.execute(
            select(collector_absences.c.collector_id).where(collector_absences.c.absent_on == on)
        ).scalars()
    )


def previous_collectors(conn: Connection, on: date) -> dict[str, str]:
    """Case id → the collector it had on its latest assignment before ``on``."""
    latest = (
        select(case_assignments.c.case_id, func.max(case_assignments.c.business_date).label("last"))
        .where(case_assignments.c.business_date < on)
        .group_by(case_assignments.c.case_id)
        .subquery()
    )
    rows = conn.execute(
        select(case_assignments.c.case_id, case_assignments.c.collector_id).join(
            latest,
            (latest.c.case_id == case_assignments.c.case_id)
            & (latest.c.last == case_assignments.c.business_date),
        )
    )
    return {r.case_id: r.collector_id for r in rows}


def _assignment_rows(conn: Connection, on: date) -> list[Any]:
    return list(
        conn.execute(
            select(case_assignments)
            .where(case_assignments.c.business_date == on)
            .order_by(
                case_assignments.c.collector_id,
                case_assignments.c.priority.desc(),
                case_assignments.c.case_id,
            )
        ).mappings()
    )


def _day_json(
    on: date, rows: list[Any], unassigned: list[str], sticky: set[str], already: bool
) -> dict[str, Any]:
    totals: dict[str, int] = {}
    counts: dict[str, int] = {}
    for r in rows:
        totals[r["collector_id"]] = totals.get(r["collector_id"], 0) + r["overdue_fen"]
        counts[r["collector_id"]] = counts.get(r["collector_id"], 0) + 1
    return {
        "date": on.isoformat(),
        "already_allocated": already,
        "assignments": [
            {
                "case": r["case_id"],
                "collector": r["collector_id"],
                "queue": r["queue"],
                "overdue": format_yuan(r["overdue_fen"]),
                "priority": r["priority"],
                "source": r["source"],
                "sticky": r["case_id"] in sticky,
            }
            for r in rows
        ],
        "unassigned": unassigned,
        "collectors": {c: {"cases": counts[c], "overdue": format_yuan(totals[c])} for c in sorted(totals)},
    }


def allocate_day(engine: Engine, on: date, *, score: bool = True) -> dict[str, Any]:
    """Allocate the call-queue cases of ``on`` to the collectors present; store and return the result."""
    with engine.begin() as conn:
        stored = _assignment_rows(conn, on)
        if stored:
            return _day_json(on, stored, [], set(), True)
        cases = [c for c in load_cases(conn, score=score) if c.queue in CALL_QUEUES]
        previous = previous_collectors(conn, on)
        away = _absent(conn, on)
        people = [
            Collector(r["id"], r["daily_cap"], r["id"] not in away)
            for r in conn.execute(
                select(collectors)
                .where(collectors.c.kind == "collector", collectors.c.active.is_(True))
                .order_by(collectors.c.id)
            ).mappings()
        ]
        to_allocate = [CaseToAllocate(c.id, c.overdue, c.priority, previous.get(c.id)) for c in cases]
        result = allocate(to_allocate, people)
        by_id = {c.id: c for c in cases}
        if result.assignments:
            conn.execute(
                case_assignments.insert(),
                [
                    {
                        "business_date": on,
                        "case_id": a.case_id,
                        "collector_id": a.collector,
                        "source": "allocation",
                        "queue": by_id[a.case_id].queue,
                        "overdue_fen": by_id[a.case_id].overdue,
                        "priority": by_id[a.case_id].priority,
                    }
                    for a in result.assignments
                ],
            )
        rows = _assignment_rows(conn, on)
        detail = {"cases": len(result.assignments), "unassigned": len(result.unassigned)}
        audit_trail.changed(conn, "create", "allocation", on.isoformat(), detail)
    sticky = {a.case_id for a in result.assignments if a.sticky}
    return _day_json(on, rows, list(result.unassigned), sticky, False)


def reassign(
    engine: Engine,
    case_id: str,
    on: date,
    to_collector: str,
    *,
    by: str,
    reason: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A supervisor gives ``case_id`` to ``to_collector`` on ``on`` (also a case the allocation left out).

    by: who decides (a supervisor's user name); reason: why. Refused when the collector is away that day or
    already at their daily cap.
    """
    if not by.strip() or not reason.strip():
        raise InvalidInput("a reassignment needs who makes it (--by) and why (--reason)")
    at = at or datetime.now(UTC)
    with engine.begin() as conn:
        target = _collector(conn, to_collector)
        if target["kind"] != "collector" or not target["active"]:
            raise Refused(f"{to_collector} is not an active collector")
        if to_collector in _absent(conn, on):
            raise Refused(f"{to_collector} is away on {on.isoformat()}")
        current = (
            conn.execute(
                select(case_assignments).where(
                    case_assignments.c.business_date == on, case_assignments.c.case_id == case_id
                )
            )
            .mappings()
            .first()
        )
        if current is not None and current["collector_id"] == to_collector:
            raise Refused(f"case {case_id} is already with {to_collector} on {on.isoformat()}")
        held = conn.execute(
            select(func.count())
            .select_from(case_assignments)
            .where(case_assignments.c.business_date == on, case_assignments.c.collector_id == to_collector)
        ).scalar_one()
        if held >= target["daily_cap"]:
            raise Refused(
                f"{to_collector} already has {held} cases on {on.isoformat()} "
                f"(daily cap {target['daily_cap']})"
            )
        if current is None:
            (case,) = load_cases(conn, case_id=case_id, score=False, include_current=True)
            try:
                conn.execute(
                    case_assignments.insert().values(
                        business_date=on,
                        case_id=case_id,
                        collector_id=to_collector,
                        source="supervisor",
                        queue=case.queue,
                        overdue_fen=case.overdue,
                        priority=case.priority,
                    )
                )
            except IntegrityError as error:  # the allocation stored the case meanwhile
                raise Conflict(f"case {case_id} was assigned meanwhile; try again") from error
        else:
            conn.execute(
                case_assignments.update()
                .where(case_assignments.c.id == current["id"])
                .values(collector_id=to_collector, source="supervisor")
            )
        conn.execute(
            case_reassignments.insert().values(
                business_date=on,
                case_id=case_id,
                from_collector=None if current is None else current["collector_id"],
                to_collector=to_collector,
                by_user=by,
                reason=reason,
                at=at,
            )
        )
        detail = {"date": on.isoformat(), "to": to_collector, "reason": reason}
        audit_trail.changed(conn, "update", "case", case_id, detail)
    return {
        "case": case_id,
        "date": on.isoformat(),
        "from": None if current is None else current["collector_id"],
        "to": to_collector,
        "by": by,
        "reason": reason,
    }


def collector_queue(engine: Engine, collector_id: str, on: date) -> dict[str, Any]:
    """The cases given to ``collector_id`` on ``on``, highest priority first."""
    with engine.connect() as conn:
        _collector(conn, collector_id)
        rows = conn.execute(
            select(case_assignments)
            .where(case_assignments.c.business_date == on, case_assignments.c.collector_id == collector_id)
            .order_by(case_assignments.c.priority.desc(), case_assignments.c.case_id)
        ).mappings()
        cases = [
            {
                "case": r["case_id"],
                "queue": r["queue"],
                "overdue": format_yuan(r["overdue_fen"]),
                "priority": r["priority"],
                "source": r["source"],
            }
            for r in rows
        ]
    return {"collector": collector_id, "date": on.isoformat(), "cases": cases}


def assignments_of_case(conn: Connection, case_id: str) -> dict[str, Any]:
    """A case's assignments by date and its supervisors' reassignments."""
    rows = conn.execute(
        select(case_assignments)
        .where(case_assignments.c.case_id == case_id)
        .order_by(case_assignments.c.business_date)
    ).mappings()
    moves = conn.execute(
        select(case_reassignments)
        .where(case_reassignments.c.case_id == case_id)
        .order_by(case_reassignments.c.id)
    ).mappings()
    return {
        "by_date": [
            {"date": r["business_date"].isoformat(), "collector": r["collector_id"], "source": r["source"]}
            for r in rows
        ],
        "reassignments": [
            {
                "date": m["business_date"].isoformat(),
                "from": m["from_collector"],
                "to": m["to_collector"],
                "by": m["by_user"],
                "reason": m["reason"],
            }
            for m in moves
        ],
    }
