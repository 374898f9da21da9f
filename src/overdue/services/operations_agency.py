"""Outside agencies: placing accounts, the placement file, importing results with reconciliation, recall
after the term, commission by tiers (:mod:`overdue.operations.agency`).

- :func:`place_accounts`: the accounts the end-of-day decided to place (agency still ``unassigned``) whose
  DPD and overdue balance fit the rules go to the agency — only while its whitelist review is in force
  (``cn.agency_whitelist``). The account's collection state then names the agency, so the strategy and the
  rulebook see it; the placement's open ``agency`` work items are done.
- :func:`placement_file`: CSV and JSON of the agency's placements in force on a date (only its own).
- :func:`import_results`: an agency's results file; each row is taken or rejected with its reason, never
  half-taken. A payment must match a repayment in the ledger (same account, date and amount, not matched
  before) — reconciliation — and earns commission at the placement's tier; a contact goes through
  :func:`overdue.services.collections.record_contact` with the agency named, so the rulebook checks it.
  A row's reference is taken once: importing the same file again rejects every row as already imported.
- :func:`recall_due`: placements past their term are recalled, as are those the end-of-day recalled.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, or_, select, true

from overdue.domain.errors import InvalidInput, NotFound, Refused
from overdue.domain.ledger import LedgerAccount
from overdue.domain.money import format_yuan
from overdue.engine.collect import UNASSIGNED_AGENCY
from overdue.operations.agency import (
    DEFAULT_TIERS,
    PlacementRules,
    ResultRow,
    RowRejected,
    commission,
    commission_rate,
    parse_result_row,
)
from overdue.operations.cases import case_id_for
from overdue.services.collections import ContactRefused, record_contact_in
from overdue.services.operations_cases import account_position, borrowers_of, open_holds_by_account
from overdue.store import audit_trail
from overdue.store import collections_repository as collection_store
from overdue.store import compliance_repository as compliance_store
from overdue.store.account_tables import accounts
from overdue.store.collection_tables import collection_states, work_items
from overdue.store.compliance_tables import agencies
from overdue.store.operations_tables import agency_placements, agency_results
from overdue.store.schema import ledger_postings, ledger_transactions

FILE_COLUMNS = ("ref", "account_id", "type", "date", "amount", "at", "channel", "party", "outcome")


def _agency(conn: Connection, agency_id: str) -> None:
    if conn.execute(select(agencies.c.id).where(agencies.c.id == agency_id)).first() is None:
        raise NotFound(f"unknown agency {agency_id!r}")


def place_accounts(
    engine: Engine, agency_id: str, on: date, rules: PlacementRules | None = None
) -> dict[str, Any]:
    """Place with ``agency_id`` on ``on`` the accounts waiting for an agency that ``rules`` admit
    (default: :class:`PlacementRules`'s defaults)."""
    rules = rules or PlacementRules()
    with engine.begin() as conn:
        _agency(conn, agency_id)
        until = compliance_store.review_until(conn, agency_id, on)
        if until is None or until < on:
            raise Refused(
                f"agency {agency_id} has no whitelist review in force on {on.isoformat()} "
                "[cn.agency_whitelist]"
            )
        waiting = list(
            conn.execute(
                select(collection_states.c.account_id)
                .where(collection_states.c.agency == UNASSIGNED_AGENCY)
                .order_by(collection_states.c.account_id)
            ).scalars()
        )
        held = open_holds_by_account(conn, ("sold", "litigation"))
        placed: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        for account_id in waiting:
            if held.get(account_id):
                skipped.append(
                    {"account_id": account_id, "reason": f"hold: {', '.join(sorted(held[account_id]))}"}
                )
                continue
            position = account_position(conn, account_id)
            if not rules.admits(position.days_past_due, position.overdue):
                skipped.append({"account_id": account_id, "reason": "outside the placement rules"})
                continue
            recall_on = on + timedelta(days=rules.term_days)
            conn.execute(
                agency_placements.insert().values(
                    account_id=account_id,
                    agency_id=agency_id,
                    placed_on=on,
                    recall_on=recall_on,
                    status="placed",
                    days_past_due=position.days_past_due,
                    overdue_fen=position.overdue,
                )
            )
            cs, _, _ = collection_store.load_collection_state(conn, account_id)
            collection_store.save_collection_state(conn, cs, agency_id, on)
            conn.execute(
                work_items.update()
                .where(
                    work_items.c.account_id == account_id,
                    work_items.c.queue == "agency",
                    work_items.c.status == "open",
                )
                .values(status="done")
            )
            placed.append(
                {
                    "account_id": account_id,
                    "days_past_due": position.days_past_due,
                    "overdue": format_yuan(position.overdue),
                    "recall_on": recall_on.isoformat(),
                    "commission_rate": str(commission_rate(position.days_past_due)),
                }
            )
        if placed:
            detail = {"date": on.isoformat(), "accounts": [p["account_id"] for p in placed]}
            audit_trail.changed(conn, "create", "placement", agency_id, detail)
    return {"agency": agency_id, "date": on.isoformat(), "placed": placed, "skipped": skipped}


def placements_in_force(conn: Connection, agency_id: str, on: date) -> list[Any]:
    return list(
        conn.execute(
            select(agency_placements)
            .where(
                agency_placements.c.agency_id == agency_id,
                agency_placements.c.placed_on <= on,
                or_(agency_placements.c.recalled_on.is_(None), agency_placements.c.recalled_on > on),
            )
            .order_by(agency_placements.c.account_id, agency_placements.c.id)
        ).mappings()
    )


def placement_rows(engine: Engine, agency_id: str, on: date) -> list[dict[str, Any]]:
    """The rows of the agency's placement file: its placements in force on ``on`` (and nobody else's),
    with each account's DPD and overdue balance now."""
    with engine.connect() as conn:
        _agency(conn, agency_id)
        borrower = borrowers_of(conn)
        rows = []
        for p in placements_in_force(conn, agency_id, on):
            position = account_position(conn, p["account_id"])
            rows.append(
                {
                    "placement": p["id"],
                    "account_id": p["account_id"],
                    "case": case_id_for(borrower.get(p["account_id"]), p["account_id"]),
                    "placed_on": p["placed_on"].isoformat(),
                    "recall_on": p["recall_on"].isoformat(),
                    "days_past_due": position.days_past_due,
                    "overdue": format_yuan(position.overdue),
                }
            )
    return rows


def placement_csv(rows: list[dict[str, Any]]) -> str:
    """The placement file as CSV (header first; only ``placement`` when there are no rows)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["placement"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def placement_file(engine: Engine, agency_id: str, on: date, directory: Path) -> dict[str, Any]:
    """Write ``AGENCY-DATE.csv`` and ``.json``: :func:`placement_rows` as CSV and as JSON."""
    rows = placement_rows(engine, agency_id, on)
    directory.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in agency_id)
    stem = directory / f"{safe}-{on.isoformat()}"
    csv_path, json_path = stem.with_suffix(".csv"), stem.with_suffix(".json")
    csv_path.write_text(placement_csv(rows), encoding="utf-8")
    document = {"agency": agency_id, "date": on.isoformat(), "placements": rows}
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"agency": agency_id, "placements": len(rows), "csv": str(csv_path), "json": str(json_path)}


def read_rows(path: Path) -> list[dict[str, object]]:
    """The rows of a results file: CSV with a header, or JSON (a list of objects, or ``{"rows": [...]}``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read {path}: {error}") from error
    if path.suffix.lower() == ".json":
        return parse_rows(text, "json", str(path))
    if path.suffix.lower() == ".csv":
        return parse_rows(text, "csv", str(path))
    raise InvalidInput(f"{path}: a results file is .csv or .json")


def parse_rows(text: str, kind: str, name: str = "the results") -> list[dict[str, object]]:
    """The rows of a results file's text: ``kind`` ``csv`` (with a header) or ``json`` (a list of objects,
    or ``{"rows": [...]}``). :class:`InvalidInput` when the whole file cannot be read as rows."""
    if kind == "json":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            raise InvalidInput(f"{name} is not JSON: {error}") from error
        rows = data.get("rows") if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InvalidInput(f"{name}: expected a list of rows (objects)")
        return rows
    if kind == "csv":
        try:
            return [dict(r) for r in csv.DictReader(io.StringIO(text))]
        except csv.Error as error:
            raise InvalidInput(f"{name} is not CSV: {error}") from error
    raise InvalidInput(f"{name}: a results file is csv or json, not {kind!r}")


def _placement_on(conn: Connection, agency_id: str, account_id: str, on: date) -> Any:
    return (
        conn.execute(
            select(agency_placements)
            .where(
                agency_placements.c.agency_id == agency_id,
                agency_placements.c.account_id == account_id,
                agency_placements.c.placed_on <= on,
                or_(agency_placements.c.recalled_on.is_(None), agency_placements.c.recalled_on > on),
            )
            .order_by(agency_placements.c.id.desc())
        )
        .mappings()
        .first()
    )


def _matching_repayment(conn: Connection, row: ResultRow) -> int | None:
    """The ledger repayment (or recovery) of the row's account, date and amount not yet matched."""
    matched = select(agency_results.c.ledger_transaction_id).where(
        agency_results.c.ledger_transaction_id.is_not(None)
    )
    candidates = conn.execute(
        select(ledger_transactions.c.id, func.sum(ledger_postings.c.amount_fen))
        .join(ledger_postings, ledger_postings.c.transaction_id == ledger_transactions.c.id)
        .where(
            ledger_transactions.c.account_id == row.account_id,
            ledger_transactions.c.business_date == row.on,
            ledger_transactions.c.kind.in_(("repayment", "recovery")),
            ledger_postings.c.ledger_account == str(LedgerAccount.REPAYMENT_CLEARING),
            ledger_transactions.c.id.not_in(matched),
        )
        .group_by(ledger_transactions.c.id)
        .order_by(ledger_transactions.c.id)
    )
    for transaction_id, amount in candidates:
        if amount == row.amount:
            return int(transaction_id)
    return None


def _take_row(
    engine: Engine, agency_id: str, row: ResultRow, imported_at: datetime
) -> tuple[dict[str, Any], int]:
    """Check one parsed row against the store and write it; returns what was taken and its commission
    (fen). Raises :class:`RowRejected` with the reason."""
    with engine.connect() as conn:
        if conn.execute(
            select(agency_results.c.id).where(
                agency_results.c.agency_id == agency_id, agency_results.c.ref == row.ref
            )
        ).first():
            raise RowRejected(f"{row.ref} is already imported")
        zone = conn.execute(select(accounts.c.timezone).where(accounts.c.id == row.account_id)).scalar()
        if zone is None:
            raise RowRejected(f"unknown account {row.account_id!r}")
    if row.kind == "contact":
        assert row.at is not None
        at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=ZoneInfo(zone))
        try:
            on = at.astimezone(ZoneInfo(zone)).date()
        except OverflowError as error:
            raise RowRejected(f"at is out of range: {row.at.isoformat()}") from error
    else:
        assert row.on is not None
        on = row.on
    with engine.connect() as conn:
        placement = _placement_on(conn, agency_id, row.account_id, on)
    if placement is None:
        raise RowRejected(f"account {row.account_id} is not placed with {agency_id} on {on.isoformat()}")
    values: dict[str, Any] = {}
    if row.kind == "payment":
        assert row.amount is not None
        values = {
            "amount_fen": row.amount,
            "commission_fen": commission(row.amount, placement["days_past_due"]),
        }
    # The contact (checked by the rulebook) and its result row commit together, or neither does.
    with engine.begin() as conn:
        if row.kind == "contact":
            assert row.channel is not None and row.party is not None and row.outcome is not None
            try:
                record_contact_in(
                    conn,
                    row.account_id,
                    at,
                    row.channel,
                    row.party,
                    row.outcome,
                    source="agency",
                    agency=agency_id,
                )
            except ContactRefused as refused:
                raise RowRejected(f"contact refused by {refused.rule}: {refused}") from refused
            except InvalidInput as error:
                raise RowRejected(str(error)) from error
        if row.kind == "payment":
            matched = _matching_repayment(conn, row)
            if matched is None:
                raise RowRejected(
                    f"no repayment of {format_yuan(row.amount or 0)} on {on.isoformat()} in the ledger of "
                    f"{row.account_id} (reconciliation)"
                )
            values["ledger_transaction_id"] = matched
        conn.execute(
            agency_results.insert().values(
                agency_id=agency_id,
                ref=row.ref,
                placement_id=placement["id"],
                kind=row.kind,
                happened_on=on,
                imported_at=imported_at,
                **values,
            )
        )
        detail = {"ref": row.ref, "account": row.account_id, "type": row.kind, "date": on.isoformat()}
        audit_trail.changed(conn, "create", "agency_result", agency_id, detail)
    taken: dict[str, Any] = {
        "ref": row.ref,
        "account_id": row.account_id,
        "type": row.kind,
        "date": on.isoformat(),
    }
    if row.kind == "payment":
        taken["amount"] = format_yuan(values["amount_fen"])
        taken["commission"] = format_yuan(values["commission_fen"])
    return taken, values.get("commission_fen", 0)


def _check_raw(raw: dict[str, object]) -> None:
    """Refuse a row whose values cannot be stored or would carry money as a number (before any parsing)."""
    for key, value in raw.items():
        if isinstance(value, (dict, list)):
            raise RowRejected(f"{key} must be text, not a nested value")
        if isinstance(value, str) and "\x00" in value:
            raise RowRejected(f"{key} contains a NUL character")
    amount = raw.get("amount")
    if amount is not None and not isinstance(amount, str):
        raise RowRejected('amount must be a yuan string such as "100.00", never a number')
    for key, longest in (("ref", REF_LENGTH), ("account_id", ACCOUNT_ID_LENGTH)):
        if len(str(raw.get(key) or "")) > longest:
            raise RowRejected(f"{key} is longer than {longest} characters")


REF_LENGTH = 128
"""The longest row reference (``agency_results.ref``)."""
ACCOUNT_ID_LENGTH = 64


def import_results(
    engine: Engine, agency_id: str, path: Path, *, at: datetime | None = None
) -> dict[str, Any]:
    """Import an agency's results file; each row is either taken or listed in ``rejected`` with its reason."""
    with engine.connect() as conn:
        _agency(conn, agency_id)
    return import_rows(engine, agency_id, read_rows(path), source=str(path), at=at)


def import_rows(
    engine: Engine,
    agency_id: str,
    raw_rows: list[dict[str, object]],
    *,
    source: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Import an agency's results rows (:func:`parse_rows`); each row is either taken or listed in
    ``rejected`` with its reason. source: where the rows came from (a file name), for the report."""
    with engine.connect() as conn:
        _agency(conn, agency_id)
    imported_at = at or datetime.now(UTC)
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: set[str] = set()
    total = 0
    for number, raw in enumerate(raw_rows, start=1):
        ref = raw.get("ref")
        try:
            _check_raw(raw)
            row = parse_result_row(raw)
            if row.ref in seen:
                raise RowRejected(f"{row.ref} appears twice in the file")
            seen.add(row.ref)
            taken, earned = _take_row(engine, agency_id, row, imported_at)
            accepted.append({"row": number, **taken})
            total += earned
        except RowRejected as error:
            shown = None if ref is None else str(ref)[:REF_LENGTH]
            rejected.append({"row": number, "ref": shown, "reason": str(error)})
    return {
        "agency": agency_id,
        "file": source,
        "rows": len(raw_rows),
        "accepted": accepted,
        "rejected": rejected,
        "commission": format_yuan(total),
    }


def recall_due(engine: Engine, on: date, agency_id: str | None = None) -> dict[str, Any]:
    """Recall every placement (of ``agency_id`` only, when given) whose term has ended by ``on``, and mark
    recalled those the end-of-day recalled (the account's collection state no longer names their agency)."""
    recalled: list[dict[str, Any]] = []
    with engine.begin() as conn:
        if agency_id is not None:
            _agency(conn, agency_id)
        open_ = list(
            conn.execute(
                select(agency_placements, collection_states.c.agency.label("current_agency"))
                .join(
                    collection_states,
                    collection_states.c.account_id == agency_placements.c.account_id,
                    isouter=True,
                )
                .where(
                    agency_placements.c.status == "placed",
                    agency_placements.c.placed_on <= on,
                    true() if agency_id is None else agency_placements.c.agency_id == agency_id,
                )
                .order_by(agency_placements.c.id)
            ).mappings()
        )
        for p in open_:
            ended = p["recall_on"] <= on
            elsewhere = p["current_agency"] != p["agency_id"]
            if not (ended or elsewhere):
                continue
            conn.execute(
                agency_placements.update()
                .where(agency_placements.c.id == p["id"])
                .values(status="recalled", recalled_on=max(on, p["placed_on"] + timedelta(days=1)))
            )
            if not elsewhere:
                cs, _, _ = collection_store.load_collection_state(conn, p["account_id"])
                collection_store.save_collection_state(conn, cs, None, None)
            recalled.append(
                {
                    "account_id": p["account_id"],
                    "agency": p["agency_id"],
                    "reason": "term ended" if ended else "recalled by the end-of-day",
                }
            )
        if recalled:
            detail = {"date": on.isoformat(), "accounts": [r["account_id"] for r in recalled]}
            audit_trail.changed(conn, "update", "placement", agency_id or "all", detail)
    return {"date": on.isoformat(), "recalled": recalled}


def commission_statement(engine: Engine, agency_id: str) -> dict[str, Any]:
    """What the agency recovered and earned, by placement, and the tiers in force."""
    with engine.connect() as conn:
        _agency(conn, agency_id)
        rows = conn.execute(
            select(
                agency_placements.c.id,
                agency_placements.c.account_id,
                agency_placements.c.days_past_due,
                func.coalesce(func.sum(agency_results.c.amount_fen), 0),
                func.coalesce(func.sum(agency_results.c.commission_fen), 0),
            )
            .join(agency_results, agency_results.c.placement_id == agency_placements.c.id, isouter=True)
            .where(agency_placements.c.agency_id == agency_id)
            .group_by(
                agency_placements.c.id, agency_placements.c.account_id, agency_placements.c.days_past_due
            )
            .order_by(agency_placements.c.id)
        ).all()
    lines = [
        {
            "placement": r[0],
            "account_id": r[1],
            "days_past_due_at_placement": r[2],
            "rate": str(commission_rate(r[2])),
            "recovered": format_yuan(int(r[3])),
            "commission": format_yuan(int(r[4])),
        }
        for r in rows
    ]
    return {
        "agency": agency_id,
        "tiers": [{"from_days_past_due": t.min_days_past_due, "rate": str(t.rate)} for t in DEFAULT_TIERS],
        "placements": lines,
        "recovered": format_yuan(sum(int(r[3]) for r in rows)),
        "commission": format_yuan(sum(int(r[4]) for r in rows)),
    }
