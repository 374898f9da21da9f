"""Field visits: orders from open ``field`` work items, daily routes by city and district, closing an order.

:func:`plan_day` turns each borrower's open ``field`` work items (not yet in an order) into one order for the
date, placed in the borrower's city and district (``borrower_places``; ``unknown`` when not known), and
gives each (city, district) route a team of two or more field agents present that day
(:func:`overdue.operations.routes.plan_routes`; a route that already has a team that day keeps it).

:func:`close_order` closes an order only with a recording reference and an outcome: for each account of the
order it records the visit through :func:`overdue.services.collections.record_contact` (channel ``field``,
the team's size, the recording), so the rulebook's field-visit rules apply (CN: ``cn.field_visit_team``,
``cn.field_visit_per_day``). A refused visit raises :class:`~overdue.services.collections.ContactRefused`
and leaves the order open; visits already recorded stay recorded and are not recorded again when the
order is closed later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select

from overdue.domain.collections import CONTACT_OUTCOMES
from overdue.domain.errors import InvalidInput, NotFound, Refused
from overdue.operations.cases import case_id_for
from overdue.operations.routes import MIN_TEAM, UNKNOWN_PLACE, FieldOrder, plan_routes
from overdue.services.collections import record_contact_in
from overdue.services.operations_cases import borrowers_of
from overdue.store import audit_trail
from overdue.store.account_tables import accounts
from overdue.store.api_tables import borrowers
from overdue.store.collection_tables import work_items
from overdue.store.operations_tables import (
    borrower_places,
    collector_absences,
    collectors,
    field_order_items,
    field_orders,
)


def set_place(engine: Engine, borrower_id: str, city: str, district: str) -> dict[str, Any]:
    """Record the city and district a borrower lives in (where field visits go)."""
    if not city.strip() or not district.strip():
        raise InvalidInput("a place needs a city and a district")
    with engine.begin() as conn:
        if conn.execute(select(borrowers.c.id).where(borrowers.c.id == borrower_id)).first() is None:
            raise NotFound(f"unknown borrower {borrower_id!r}")
        known = conn.execute(
            select(borrower_places).where(borrower_places.c.borrower_id == borrower_id)
        ).first()
        if known is None:
            conn.execute(
                borrower_places.insert().values(borrower_id=borrower_id, city=city, district=district)
            )
        else:
            conn.execute(
                borrower_places.update()
                .where(borrower_places.c.borrower_id == borrower_id)
                .values(city=city, district=district)
            )
        # The detail names what changed, not the address itself (the log keeps no personal data).
        detail = {"fields": ["city", "district"]}
        audit_trail.changed(conn, "create" if known is None else "update", "place", borrower_id, detail)
    return {"borrower": borrower_id, "city": city, "district": district}


def _agents(conn: Connection, on: date) -> list[str]:
    away = select(collector_absences.c.collector_id).where(collector_absences.c.absent_on == on)
    return list(
        conn.execute(
            select(collectors.c.id)
            .where(
                collectors.c.kind == "field_agent",
                collectors.c.active.is_(True),
                collectors.c.id.not_in(away),
            )
            .order_by(collectors.c.id)
        ).scalars()
    )


def plan_day(engine: Engine, on: date, *, team_size: int = MIN_TEAM) -> dict[str, Any]:
    """Create the orders of ``on`` from open field work not yet ordered; return the day's routes."""
    with engine.begin() as conn:
        ordered = select(field_order_items.c.work_item_id)
        items = list(
            conn.execute(
                select(work_items.c.id, work_items.c.account_id)
                .where(
                    work_items.c.queue == "field",
                    work_items.c.status == "open",
                    work_items.c.id.not_in(ordered),
                )
                .order_by(work_items.c.id)
            )
        )
        borrower = borrowers_of(conn)
        places = {r.borrower_id: (r.city, r.district) for r in conn.execute(select(borrower_places))}
        by_case: dict[str, list[Any]] = {}
        case_place: dict[str, tuple[str, str]] = {}
        for item in items:
            b = borrower.get(item.account_id)
            cid = case_id_for(b, item.account_id)
            by_case.setdefault(cid, []).append(item)
            case_place[cid] = (
                places.get(b, (UNKNOWN_PLACE, UNKNOWN_PLACE)) if b else (UNKNOWN_PLACE, UNKNOWN_PLACE)
            )
        if by_case:
            existing_teams = {
                (r.city, r.district): r.team
                for r in conn.execute(
                    select(field_orders.c.city, field_orders.c.district, field_orders.c.team).where(
                        field_orders.c.route_date == on
                    )
                )
            }
            number = conn.execute(
                select(func.count()).select_from(field_orders).where(field_orders.c.route_date == on)
            ).scalar_one()
            order_ids: dict[str, str] = {}
            for cid in sorted(by_case):
                number += 1
                order_ids[cid] = f"FO-{on:%Y%m%d}-{number:04d}"
            new = [
                FieldOrder(order_ids[cid], *case_place[cid])
                for cid in sorted(by_case)
                if case_place[cid] not in existing_teams
            ]
            team_of: dict[str, str] = {
                order_ids[cid]: existing_teams[case_place[cid]]
                for cid in by_case
                if case_place[cid] in existing_teams
            }
            for route in plan_routes(new, _agents(conn, on), team_size):
                for order_id in route.orders:
                    team_of[order_id] = ",".join(route.team)
            for cid in sorted(by_case):
                order_id = order_ids[cid]
                city, district = case_place[cid]
                conn.execute(
                    field_orders.insert().values(
                        id=order_id,
                        case_id=cid,
                        route_date=on,
                        city=city,
                        district=district,
                        team=team_of[order_id],
                        status="open",
                    )
                )
                conn.execute(
                    field_order_items.insert(),
                    [
                        {
                            "order_id": order_id,
                            "work_item_id": item.id,
                            "account_id": item.account_id,
                            "contact_recorded": False,
                        }
                        for item in by_case[cid]
                    ],
                )
        if by_case:
            detail = {"orders": [order_ids[cid] for cid in sorted(by_case)]}
            audit_trail.changed(conn, "create", "field_routes", on.isoformat(), detail)
        return {"date": on.isoformat(), "created": len(by_case), "routes": routes_of(conn, on)}


def order_json(conn: Connection, order: Any) -> dict[str, Any]:
    """A field order (a row of ``field_orders``) with its accounts and whether each visit was recorded."""
    accounts = conn.execute(
        select(field_order_items.c.account_id, field_order_items.c.contact_recorded)
        .where(field_order_items.c.order_id == order["id"])
        .order_by(field_order_items.c.account_id)
    )
    return {
        "order": order["id"],
        "case": order["case_id"],
        "date": order["route_date"].isoformat(),
        "city": order["city"],
        "district": order["district"],
        "team": order["team"].split(","),
        "status": order["status"],
        "outcome": order["outcome"],
        "recording_ref": order["recording_ref"],
        "accounts": [{"account_id": a.account_id, "visit_recorded": a.contact_recorded} for a in accounts],
    }


def routes_of(conn: Connection, on: date) -> list[dict[str, Any]]:
    """The routes of ``on``: orders grouped by (city, district), each with its team."""
    routes: dict[tuple[str, str], dict[str, Any]] = {}
    for order in conn.execute(
        select(field_orders).where(field_orders.c.route_date == on).order_by(field_orders.c.id)
    ).mappings():
        route = routes.setdefault(
            (order["city"], order["district"]),
            {
                "city": order["city"],
                "district": order["district"],
                "team": order["team"].split(","),
                "orders": [],
            },
        )
        route["orders"].append(order_json(conn, order))
    return [routes[k] for k in sorted(routes)]


def orders_of_case(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    return [
        order_json(conn, o)
        for o in conn.execute(
            select(field_orders).where(field_orders.c.case_id == case_id).order_by(field_orders.c.id)
        ).mappings()
    ]


def _local(conn: Connection, order_id: str, at: datetime) -> datetime:
    """``at`` with an offset: a naive time is the local time of the order's (first) account."""
    if at.tzinfo is not None:
        return at
    zone = conn.execute(
        select(accounts.c.timezone)
        .join(field_order_items, field_order_items.c.account_id == accounts.c.id)
        .where(field_order_items.c.order_id == order_id)
        .order_by(accounts.c.id)
    ).scalar_one_or_none()
    return at.replace(tzinfo=ZoneInfo(zone or "UTC"))


def close_order(
    engine: Engine,
    order_id: str,
    at: datetime,
    outcome: str,
    recording_ref: str,
    *,
    team: Sequence[str] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Close a field order with the visit's outcome and the reference of its recording.

    at: when the visit happened (without an offset: the debtor's local time).
    team: who actually went (default: the order's team); its size is what the rulebook checks.
    """
    if not recording_ref or not recording_ref.strip():
        raise InvalidInput("a field order closes only with a recording reference (实地催收须全程录音录像)")
    if outcome not in CONTACT_OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome!r}; expected one of {', '.join(CONTACT_OUTCOMES)}")
    with engine.connect() as conn:
        order = conn.execute(select(field_orders).where(field_orders.c.id == order_id)).mappings().first()
        if order is None:
            raise NotFound(f"unknown field order {order_id!r}")
        if order["status"] == "closed":
            raise Refused(f"field order {order_id} is already closed")
        pending = list(
            conn.execute(
                select(field_order_items).where(
                    field_order_items.c.order_id == order_id, field_order_items.c.contact_recorded.is_(False)
                )
            ).mappings()
        )
    members = list(team) if team else order["team"].split(",")
    members = [m.strip() for m in members if m.strip()]
    recorded_at: datetime | None = None
    for item in pending:
        # The visit and its item's mark commit together: a retry after a failure records only the rest.
        with engine.begin() as conn:
            result = record_contact_in(
                conn,
                item["account_id"],
                at,
                "field",
                "debtor",
                outcome,
                source="field",
                note=note,
                collectors=len(members),
                recording_ref=recording_ref,
            )
            recorded_at = datetime.fromisoformat(result["contact"]["at"])
            conn.execute(
                field_order_items.update()
                .where(
                    field_order_items.c.order_id == order_id,
                    field_order_items.c.work_item_id == item["work_item_id"],
                )
                .values(contact_recorded=True)
            )
            conn.execute(
                work_items.update().where(work_items.c.id == item["work_item_id"]).values(status="done")
            )
    with engine.begin() as conn:
        conn.execute(
            field_orders.update()
            .where(field_orders.c.id == order_id)
            .values(
                status="closed",
                outcome=outcome,
                recording_ref=recording_ref,
                closed_at=recorded_at or _local(conn, order_id, at),
                team=",".join(members),
            )
        )
        closed = conn.execute(select(field_orders).where(field_orders.c.id == order_id)).mappings().one()
        detail = {"outcome": outcome, "recording_ref": recording_ref, "team": len(members)}
        audit_trail.changed(conn, "update", "field_order", order_id, detail)
        return order_json(conn, closed)
