"""What every endpoint shares: the engine, who is asking, what their role allows, and the audit trail.

:data:`PERMISSIONS` is the one table of which roles may do what; each endpoint names its permission with
:func:`allowed`, and ``docs/api.md`` prints the same table. Visibility of single accounts is enforced in the
queries (:mod:`overdue.api.queries`), on top of these role checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine, select

from overdue.api import users
from overdue.api.problems import Forbidden, MissingIdempotencyKey
from overdue.api.security import Principal
from overdue.store import audit_trail
from overdue.store.roles import ROLES
from overdue.store.schema import idempotency_keys

_ALL = frozenset(ROLES)
_WORKERS = frozenset({"admin", "supervisor", "collector", "field_agent", "agency"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "accounts.open": frozenset({"admin"}),
    "accounts.list": _ALL,
    "accounts.read": _ALL,
    "statements.read": _ALL,
    "purchases.create": frozenset({"admin", "borrower"}),
    "repayments.create": frozenset({"admin", "supervisor", "borrower"}),
    "promises.read": _ALL,
    "promises.create": _WORKERS | {"borrower"},
    "disputes.open": _WORKERS | {"compliance_officer", "borrower"},
    "disputes.resolve": frozenset({"admin", "supervisor", "compliance_officer"}),
    "contacts.read": _WORKERS | {"compliance_officer", "auditor"},
    "contacts.create": _WORKERS,
    "relief.read": frozenset(
        {"admin", "supervisor", "collector", "compliance_officer", "auditor", "borrower"}
    ),
    "relief.quote": frozenset({"admin", "supervisor", "collector", "borrower"}),
    "relief.accept": frozenset({"admin", "supervisor", "collector", "borrower"}),
    "relief.approve": frozenset({"admin", "supervisor", "collector"}),
    "relief.requests.create": frozenset({"admin", "supervisor", "collector", "borrower"}),
    "relief.requests.answer": frozenset({"admin", "supervisor", "collector"}),
    "relief.requests.overdue": frozenset({"admin", "supervisor"}),
    # Operations: a collector sees only the cases allocated to them, a field agent only their team's field
    # orders, an agency user only their own agency (the queries see to that).
    "cases.read": _ALL - {"field_agent", "agency", "borrower"},
    "queues.read": frozenset({"admin", "supervisor", "collector"}),
    "collectors.read": frozenset({"admin", "supervisor"}),
    "allocation.run": frozenset({"admin", "supervisor"}),
    "cases.reassign": frozenset({"admin", "supervisor"}),
    "absences.create": frozenset({"admin", "supervisor"}),
    "field.read": frozenset({"admin", "supervisor", "field_agent", "compliance_officer", "auditor"}),
    "field.plan": frozenset({"admin", "supervisor"}),
    "field.close": frozenset({"admin", "supervisor", "field_agent"}),
    "legal.read": frozenset({"admin", "supervisor", "compliance_officer", "auditor"}),
    "legal.open": frozenset({"admin", "supervisor"}),
    "legal.advance": frozenset({"admin", "supervisor"}),
    "agencies.read": frozenset({"admin", "supervisor", "agency", "compliance_officer", "auditor"}),
    "placements.create": frozenset({"admin", "supervisor"}),
    "placements.recall": frozenset({"admin", "supervisor"}),
    "agency_results.import": frozenset({"admin", "supervisor", "agency"}),
    "sales.select": frozenset({"admin"}),
    "sales.read": frozenset({"admin"}),
    "sales.mark_sold": frozenset({"admin"}),
    "sales.forward": frozenset({"admin"}),
    # Reports: portfolio aggregates, no personal data.
    "reports.read": frozenset({"admin", "strategist", "supervisor", "compliance_officer", "auditor"}),
}
"""Permission → the roles that have it. A borrower acts only on their own accounts and an agency user only on
accounts placed with their agency (the queries see to that)."""

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token: `overdue user add`, or POST /auth/token with a user name and password.",
)


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def current_principal(
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The user whose bearer token came with the request; 401 without one or with an unknown one."""
    if credentials is None:
        raise users.NotAuthenticated("missing bearer token: send the header Authorization: Bearer <token>")
    return users.authenticate(engine, credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def allowed(permission: str) -> Callable[[Principal], Principal]:
    """A dependency that gives the current user when their role has ``permission``; 403 otherwise."""
    roles = PERMISSIONS[permission]

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"the role {principal.role!r} may not do {permission!r}")
        return principal

    return check


def acting(principal: Principal) -> AbstractContextManager[audit_trail.Actor]:
    """Attribute the changes made inside the block to ``principal``: the services audit each change in its
    own transaction (:func:`overdue.store.audit_trail.changed`)."""
    return audit_trail.acting_as(audit_trail.Actor(principal.name, principal.role))


def audited(
    engine: Engine,
    principal: Principal,
    action: str,
    entity: str,
    record: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append to the audit log, in a transaction of its own, that ``principal`` read something or was refused
    (changes are audited by the services that make them, in their own transaction)."""
    audit_trail.record(engine, principal.name, principal.role, action, entity, record, detail)


def scoped_key(principal: Principal, key: str | None, what: str) -> str:
    """The ``Idempotency-Key`` of a money-moving request, scoped to its user (so two users never collide on
    one key); a missing key is a 400."""
    if not key:
        raise MissingIdempotencyKey(f"{what} needs an Idempotency-Key header (any unique string)")
    return f"api:{principal.user_id}:{key}"


def key_seen(engine: Engine, key: str) -> bool:
    """Whether a request under ``key`` (scoped) already ran: its answer will be a replay."""
    with engine.connect() as conn:
        found = conn.execute(select(idempotency_keys.c.key).where(idempotency_keys.c.key == key)).first()
    return found is not None
