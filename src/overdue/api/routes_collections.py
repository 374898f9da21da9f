"""Collection endpoints of an account: promises to pay, disputes, and contact attempts.

A contact goes through :func:`overdue.services.collections.record_contact`, so every attempt passes the
rulebook first; a refused attempt is not made and answers 409 with the ``rule`` that refused it. An agency
user's contacts are recorded as made by their agency (and so checked against the agency whitelist).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy import Engine

from overdue.api import queries
from overdue.api.deps import PERMISSIONS, EngineDep, acting, allowed, audited
from overdue.api.problems import Forbidden
from overdue.api.schemas import ContactRequest, DisputeRequest, PromiseRequest
from overdue.api.security import Principal
from overdue.domain import account as rules
from overdue.domain.money import parse_positive_yuan
from overdue.services import accounts, collections

router = APIRouter(prefix="/accounts/{account_id}", tags=["collections"])


def _current_date(engine: Engine, account_id: str) -> date:
    """The account's current business date (the day after its last end-of-day)."""
    with engine.connect() as conn:
        return rules.next_open_date(accounts.load(conn, account_id))


@router.get("/promises", summary="The account's promises to pay")
def get_promises(
    account_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("promises.read"))],
) -> dict[str, Any]:
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)
        items = queries.promises_of(conn, account_id)
    audited(engine, principal, "read", "promises", account_id)
    return {"items": items}


@router.post("/promises", status_code=201, summary="Record a promise to pay")
def post_promise(
    account_id: str,
    body: PromiseRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("promises.create"))],
) -> dict[str, Any]:
    """A promise to pay ``amount`` by ``due_on``; it replaces a pending one (which counts as broken)."""
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)
    on = body.date or _current_date(engine, account_id)
    with acting(principal):
        return collections.make_promise(engine, account_id, on, parse_positive_yuan(body.amount), body.due_on)


@router.post("/disputes", summary="Open or resolve a dispute")
def post_dispute(
    account_id: str,
    body: DisputeRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("disputes.open"))],
) -> dict[str, Any]:
    """An open dispute pauses the ladder and stops contact; only supervisors, compliance officers and
    administrators resolve one."""
    if body.status == "resolved" and principal.role not in PERMISSIONS["disputes.resolve"]:
        raise Forbidden(f"the role {principal.role!r} may not resolve a dispute")
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)
    on = body.date or _current_date(engine, account_id)
    with acting(principal):
        return collections.set_dispute(engine, account_id, on, open_=body.status == "open")


@router.get("/contacts", summary="The account's contact attempts")
def get_contacts(
    account_id: str,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("contacts.read"))],
) -> dict[str, Any]:
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)
        items = queries.contacts_of(conn, account_id)
    audited(engine, principal, "read", "contacts", account_id)
    return {"items": items}


@router.post("/contacts", status_code=201, summary="Record a contact attempt (checked by the rulebook first)")
def post_contact(
    account_id: str,
    body: ContactRequest,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(allowed("contacts.create"))],
) -> dict[str, Any]:
    with engine.connect() as conn:
        queries.check_visible(conn, principal, account_id)
    source = "agency" if principal.role == "agency" else "collector"
    try:
        with acting(principal):
            return collections.record_contact(
                engine,
                account_id,
                body.at,
                body.channel,
                body.party,
                body.outcome,
                source=source,
                note=body.note,
                agency=principal.agency if principal.role == "agency" else None,
                collectors=body.collectors,
                recording_ref=body.recording_ref,
            )
    except collections.ContactRefused as refused:
        audited(engine, principal, "refused", "contact", account_id, {"rule": refused.rule})
        raise
