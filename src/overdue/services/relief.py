"""Relief use cases: quote an option, accept it (maker), approve it (checker), list what an account has had.

Each acceptance and approval runs in one database transaction — the state, its ledger transactions, the relief
records (and, through the account's save, the ``plan`` hold and a broken plan's escalation) and the
idempotency record are written together or not at all. A replayed idempotency key returns the first response.

- ``quote`` changes nothing; its ``fingerprint`` must be given back to ``accept``, which refuses a quote made
  on a balance that has changed since (``relief.quote.stale``).
- ``minimum`` accepted is a repayment of what is left of the minimum; ``installments`` accepted goes through
  :func:`overdue.services.accounts.request_installments`; a ``deferral`` takes effect at once; a ``waiver``
  is recorded as requested; a ``plan`` or ``settlement`` waits for approval when it forgives anything.
- ``approve`` takes a waiver id or an arrangement id, the approver and the approver's role.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from overdue.domain import account as rules
from overdue.domain import relief, relief_arrangements, relief_waivers
from overdue.domain.errors import IdempotencyConflict, InvalidInput, NotFound
from overdue.domain.money import Fen, format_yuan
from overdue.domain.relief_common import KINDS, ReliefQuote, check_fresh, fingerprint, quote_json, refuse
from overdue.domain.relief_state import Arrangement
from overdue.domain.relief_terms import ReliefTerms, relief_terms
from overdue.domain.state import AccountState
from overdue.services import accounts, idempotency
from overdue.store import audit_trail, repository
from overdue.store import relief_repository as store
from overdue.store.schema import idempotency_keys


@dataclass(frozen=True)
class ReliefRequest:
    """What a borrower or collector asks for; which fields matter depends on ``kind``.

    statement: a statement id or date (installments, deferral); periods: installments or plan payments;
    days: deferral; amount: a settlement's agreed amount (fen); pay_by: a settlement's date;
    down_payment: a plan's down payment (fen); monthly_rate: a plan's reduced rate (None: the product's);
    waive_fees / waive_interest: what a plan sets aside; interest, fees: a waiver's amounts (fen).
    """

    kind: str
    statement: str | date | None = None
    periods: int | None = None
    days: int | None = None
    amount: Fen | None = None
    pay_by: date | None = None
    down_payment: Fen = 0
    monthly_rate: Decimal | None = None
    waive_fees: bool = True
    waive_interest: bool = False
    interest: Fen = 0
    fees: Fen = 0
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "statement": None if self.statement is None else str(self.statement),
            "periods": self.periods,
            "days": self.days,
            "amount": None if self.amount is None else format_yuan(self.amount),
            "pay_by": None if self.pay_by is None else self.pay_by.isoformat(),
            "down_payment": format_yuan(self.down_payment),
            "monthly_rate": None if self.monthly_rate is None else str(self.monthly_rate),
            "waive_fees": self.waive_fees,
            "waive_interest": self.waive_interest,
            "interest": format_yuan(self.interest),
            "fees": format_yuan(self.fees),
            "reason": self.reason,
        }


def _need(value: Any, what: str, kind: str) -> Any:
    if value is None:
        raise InvalidInput(f"a {kind} quote needs {what}")
    return value


def _offer(
    state: AccountState, on: date, request: ReliefRequest, terms: ReliefTerms
) -> tuple[ReliefQuote, Arrangement | None]:
    kind = request.kind
    if kind == "minimum":
        return relief.quote_minimum(state, on), None
    if kind == "installments":
        sid = accounts.statement_id_for(state.id, _need(request.statement, "--statement", kind))
        return relief.quote_installments(state, on, sid, _need(request.periods, "--periods", kind)), None
    if kind == "deferral":
        sid = accounts.statement_id_for(state.id, _need(request.statement, "--statement", kind))
        return relief.quote_deferral(state, on, terms, sid, _need(request.days, "--days", kind)), None
    if kind == "waiver":
        return relief_waivers.quote(state, on, request.interest, request.fees), None
    if kind == "plan":
        return relief.offer_plan(
            state,
            on,
            terms,
            _need(request.periods, "--periods", kind),
            request.down_payment,
            waive_fees=request.waive_fees,
            waive_interest=request.waive_interest,
            monthly_rate=request.monthly_rate,
        )
    if kind == "settlement":
        return relief.offer_settlement(
            state, on, terms, _need(request.amount, "--amount", kind), _need(request.pay_by, "--pay-by", kind)
        )
    raise InvalidInput(f"unknown relief kind {kind!r}; expected one of {', '.join(KINDS)}")


def quote(
    engine: Engine,
    account_id: str,
    request: ReliefRequest,
    *,
    on: date | None = None,
    terms: ReliefTerms | None = None,
) -> dict[str, Any]:
    """What ``request`` would do for the account on ``on`` (default: its current business date)."""
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, account_id)
    day = on or rules.next_open_date(state)
    offer, _ = _offer(state, day, request, terms or relief_terms(state.product))
    return quote_json(offer)


def _transaction(
    engine: Engine,
    operation: str,
    request: dict[str, Any],
    idempotency_key: str | None,
    work: Callable[[Connection], dict[str, Any]],
    audited: tuple[str, str, str],
) -> dict[str, Any]:
    """Run ``work`` in one transaction with its idempotency record and its audit row; a replayed key gets the
    first answer.

    audited: the audit row's action, entity and record (its detail is the request)."""
    try:
        with engine.begin() as conn:
            if idempotency_key is not None:
                earlier = idempotency.replayed(conn, idempotency_key, operation, request)
                if earlier is not None:
                    return earlier
            response = work(conn)
            detail = {k: v for k, v in request.items() if k not in ("account_id", "fingerprint")}
            audit_trail.changed(conn, *audited, detail)
            if idempotency_key is not None:
                idempotency.remember(conn, idempotency_key, operation, request, response)
            return response
    except IntegrityError:
        if idempotency_key is None:
            raise
        with engine.connect() as conn:
            earlier = idempotency.replayed(conn, idempotency_key, operation, request)
        if earlier is None:
            raise
        return earlier


def _arrangement_json(arrangement: Arrangement | None) -> dict[str, Any] | None:
    if arrangement is None:
        return None
    return {
        "id": arrangement.id,
        "kind": arrangement.kind,
        "status": arrangement.status,
        "agreed_on": arrangement.agreed_on.isoformat(),
        "started_on": arrangement.started_on.isoformat() if arrangement.started_on else None,
        "ended_on": arrangement.ended_on.isoformat() if arrangement.ended_on else None,
        "amount": format_yuan(arrangement.amount),
        "paid": format_yuan(arrangement.paid),
        "remaining": format_yuan(arrangement.remaining),
        "waived": format_yuan(arrangement.waived),
        "maker": arrangement.maker,
        "approver": arrangement.approver,
        "approver_role": arrangement.approver_role,
        "schedule": [
            {
                "number": p.number,
                "due_date": p.due_date.isoformat(),
                "amount": format_yuan(p.amount),
                "principal": format_yuan(p.principal),
                "interest": format_yuan(p.interest),
            }
            for p in arrangement.schedule
        ],
    }


def accept(
    engine: Engine,
    account_id: str,
    request: ReliefRequest,
    quoted: str,
    *,
    maker: str,
    on: date | None = None,
    terms: ReliefTerms | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Accept the option ``request`` quoted on the balance whose fingerprint is ``quoted``.

    maker: the user (borrower or collector) making the request; an approval must come from someone else.
    """
    if request.kind in ("minimum", "installments"):
        return _accept_through_accounts(engine, account_id, request, quoted, on, idempotency_key)
    payload = {
        "account_id": account_id,
        "date": on.isoformat() if on else None,
        "fingerprint": quoted,
        "maker": maker,
        **request.to_json(),
    }

    def work(conn: Connection) -> dict[str, Any]:
        state, version = repository.load_account(conn, account_id)
        day = on or rules.next_open_date(state)
        rules.check_open_date(state, day)
        product_terms = terms or relief_terms(state.product)
        offer, draft = _offer(state, day, request, product_terms)
        check_fresh(state, quoted)
        number = store.count_for(conn, account_id) + 1
        response: dict[str, Any] = {
            "operation": "relief_accept",
            "account_id": account_id,
            "date": day.isoformat(),
            "kind": request.kind,
            "quote": quote_json(offer),
        }
        if request.kind == "deferral":
            sid = accounts.statement_id_for(account_id, request.statement or "")
            new, _ = relief.defer(state, day, product_terms, sid, request.days or 0, quoted)
            repository.save_account(conn, state, new, version, ())
            moved = next(s for s in new.statements if s.id == sid)
            store.insert_deferral(
                conn, account_id, sid, day, request.days or 0, moved.original_due_date or day, moved.due_date
            )
            response.update(status="deferred", statement=sid, new_due_date=moved.due_date.isoformat())
        elif request.kind == "waiver":
            if not maker.strip():
                raise InvalidInput("a waiver request needs the name of the user making it")
            waiver_id = f"{account_id}/waiver/{day.isoformat()}/{number}"
            store.insert_waiver(
                conn,
                {
                    "id": waiver_id,
                    "account_id": account_id,
                    "requested_on": day,
                    "interest_fen": request.interest,
                    "fees_fen": request.fees,
                    "reason": request.reason,
                    "maker": maker,
                    "fingerprint": quoted,
                },
            )
            response.update(id=waiver_id, status="requested")
        else:
            assert draft is not None
            arrangement_id = f"{account_id}/{request.kind}/{day.isoformat()}/{number}"
            new, transactions = relief_arrangements.accept(state, day, draft, arrangement_id, maker, quoted)
            repository.save_account(conn, state, new, version, transactions)
            response.update(
                id=arrangement_id,
                status=new.arrangement.status if new.arrangement else None,
                arrangement=_arrangement_json(new.arrangement),
            )
        return response

    return _transaction(
        engine, "relief_accept", payload, idempotency_key, work, ("create", "relief", account_id)
    )


def _accept_through_accounts(
    engine: Engine,
    account_id: str,
    request: ReliefRequest,
    quoted: str,
    on: date | None,
    idempotency_key: str | None,
) -> dict[str, Any]:
    """Minimum payments and bill installments are accepted through the account's own operations."""
    operation = "repayment" if request.kind == "minimum" else "installments"
    status = "repaid" if request.kind == "minimum" else "accepted"
    if idempotency_key is not None:
        earlier = _earlier_response(engine, idempotency_key, operation, account_id, request, on)
        if earlier is not None:  # a replay: its balance has moved on, so the quote is not checked again
            return {
                **earlier,
                "account_status": earlier.get("status"),
                "kind": request.kind,
                "status": status,
            }
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, account_id)
    day = on or rules.next_open_date(state)
    _offer(state, day, request, relief_terms(state.product))
    check_fresh(state, quoted)
    if request.kind == "minimum":
        statement = state.latest_statement()
        amount = statement.minimum_remaining if statement else 0
        result = accounts.repay(engine, account_id, amount, on=day, idempotency_key=idempotency_key)
    else:
        result = accounts.request_installments(
            engine,
            account_id,
            request.statement or "",
            request.periods or 0,
            on=day,
            idempotency_key=idempotency_key,
        )
    return {**result, "account_status": result.get("status"), "kind": request.kind, "status": status}


def _earlier_response(
    engine: Engine, key: str, operation: str, account_id: str, request: ReliefRequest, on: date | None
) -> dict[str, Any] | None:
    """The stored response of an earlier request with ``key``, which must have asked for the same thing.

    What the account's operation stored is compared: the account, the business date (the earlier one when
    ``on`` is left out) and, for installments, the statement and periods; a minimum payment's amount is the
    minimum of its day, so it is taken from the earlier answer. The fingerprint is not stored there, so a
    replay is not refused for it: the balance has moved on since the first answer anyway.
    """
    with engine.connect() as conn:
        row = conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).mappings().first()
        if row is None:
            return None
        if row["operation"] != operation:
            raise IdempotencyConflict(f"idempotency key {key!r} was already used for a different request")
        earlier: dict[str, Any] = json.loads(row["response_json"])
        asked: dict[str, Any] = {
            "account_id": account_id,
            "date": on.isoformat() if on else earlier.get("date"),
        }
        if operation == "installments":
            asked.update(
                statement=accounts.statement_id_for(account_id, request.statement or ""),
                periods=request.periods or 0,
            )
        else:
            asked.update(amount=earlier.get("amount"))
        return idempotency.replayed(conn, key, operation, asked)


def approve(
    engine: Engine,
    account_id: str,
    request_id: str,
    approver: str,
    role: str,
    *,
    on: date | None = None,
    terms: ReliefTerms | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """A checker approves the waiver or arrangement ``request_id``: it takes effect whole, or nothing does."""
    payload = {
        "account_id": account_id,
        "date": on.isoformat() if on else None,
        "id": request_id,
        "approver": approver,
        "role": role,
    }

    def work(conn: Connection) -> dict[str, Any]:
        state, version = repository.load_account(conn, account_id)
        day = on or rules.next_open_date(state)
        rules.check_open_date(state, day)
        product_terms = terms or relief_terms(state.product)
        response: dict[str, Any] = {
            "operation": "relief_approve",
            "account_id": account_id,
            "date": day.isoformat(),
            "id": request_id,
            "approver": approver,
            "role": role,
        }
        waiver = store.waiver(conn, request_id)
        if waiver is not None:
            if waiver["account_id"] != account_id:
                raise NotFound(f"account {account_id} has no relief request {request_id}")
            if waiver["status"] != "requested":
                raise refuse("relief.approval.not_pending", f"{request_id} is already {waiver['status']}")
            interest, fees = waiver["interest_fen"], waiver["fees_fen"]
            relief_waivers.check_approval(product_terms, waiver["maker"], approver, role, interest + fees)
            new, transaction = relief_waivers.apply(state, day, interest, fees, f"waiver {request_id}")
            repository.save_account(conn, state, new, version, [transaction] if transaction else [])
            store.approve_waiver(conn, request_id, approver, role, day)
            response.update(
                kind="waiver",
                status="approved",
                waived={"interest": format_yuan(interest), "fees": format_yuan(fees)},
                outstanding=format_yuan(new.outstanding),
                account_status=str(new.status),
            )
            return response
        if state.arrangement is None or state.arrangement.id != request_id:
            status = store.arrangement_status(conn, account_id, request_id)
            if status is None:
                raise NotFound(f"account {account_id} has no relief request {request_id}")
            raise refuse("relief.approval.not_pending", f"{request_id} is {status}, not waiting for approval")
        new, transactions = relief_arrangements.approve(state, day, product_terms, request_id, approver, role)
        repository.save_account(conn, state, new, version, transactions)
        response.update(
            kind=new.arrangement.kind if new.arrangement else None,
            status=new.arrangement.status if new.arrangement else None,
            arrangement=_arrangement_json(new.arrangement),
            account_status=str(new.status),
        )
        return response

    return _transaction(
        engine, "relief_approve", payload, idempotency_key, work, ("update", "relief_approval", request_id)
    )


def list_relief(engine: Engine, account_id: str) -> dict[str, Any]:
    """Everything relief did on the account (arrangements, deferrals, waivers) and its current plan."""
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, account_id)
        arrangements = store.arrangements_of(conn, account_id)
        deferrals = store.deferrals_of(conn, account_id)
        waivers = store.waivers_of(conn, account_id)
    return {
        "account_id": account_id,
        "fingerprint": fingerprint(state),
        "plan": relief.plan_json(state),
        "arrangements": [_arrangement_json(a) for a in arrangements],
        "deferrals": [
            {
                "statement": d["statement_id"],
                "deferred_on": d["deferred_on"].isoformat(),
                "days": d["days"],
                "original_due_date": d["original_due_date"].isoformat(),
                "new_due_date": d["new_due_date"].isoformat(),
            }
            for d in deferrals
        ],
        "waivers": [
            {
                "id": w["id"],
                "requested_on": w["requested_on"].isoformat(),
                "interest": format_yuan(w["interest_fen"]),
                "fees": format_yuan(w["fees_fen"]),
                "reason": w["reason"],
                "maker": w["maker"],
                "status": w["status"],
                "approver": w["approver"],
                "approver_role": w["approver_role"],
                "approved_on": w["approved_on"].isoformat() if w["approved_on"] else None,
            }
            for w in waivers
        ],
    }
