"""A Parquet state folder's days written into the operational store: the way results come back.

The nightly job over a folder (``overdue eod --state DIR``, :mod:`~overdue.setbased.nightly`) starts from a
snapshot of the store (``overdue state export``) and keeps its results in the folder. :func:`load_days`
writes the days the folder ran after the store's last closed date into the store, each date in one
transaction, exactly as ``overdue eod --store`` writes a date it ran itself: the accounts' changed fields
and the changed statements, unbilled cycles, installment periods and relief arrangements (found by comparing
the snapshot before the date with the one after it), the bucket spells, bureau months, ledger transactions
and postings, the day rows, the closed date and its audit row (:func:`~overdue.setbased.store_write.
write_day`); the limit review's changes, the limits it saved and its notices
(:func:`~overdue.setbased.limits_io.write_review`); the month-end behaviour scores; and, when the folder ran
collections (``--strategy``), the collection actions, the outbox's messages, the work items, the validation
notices and the collection records that changed (:func:`~overdue.setbased.store_collect.write_collections`).

The folder must hold a snapshot of the store's last closed date, and the store must still be as that
snapshot has it (accounts, statements, unbilled cycles, installment plans and periods, arrangements, limit
changes, and the collection records when the folder ran collections): a store changed since the export —
a repayment posted, a promise recorded — is refused naming the first table that differs, since the
folder's days were computed without it. Within a date the accounts' ``version`` is checked as the store
path checks it, so a change made while the load runs fails that date whole. Loading again after a failure
or an interruption continues from the store's last closed date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from sqlalchemy import Engine

from overdue.domain.errors import Conflict, InvalidInput
from overdue.domain.relief_state import BROKEN, PLAN
from overdue.setbased import snapshots, store_io
from overdue.setbased.collect import CollectionDay
from overdue.setbased.layout import PortfolioTables
from overdue.setbased.limits_io import read_review, write_review
from overdue.setbased.store_collect import (
    StoreCollections,
    read_collections,
    write_behaviour,
    write_collections,
)
from overdue.setbased.store_write import DayOutputs, new_rows, write_day

COMPARED_TABLES = (
    "accounts",
    "statements",
    "unbilled",
    "plans",
    "periods",
    "arrangements",
    "arrangement_payments",
    "arrangement_set_asides",
)
"""The state tables the store must hold as the folder's first snapshot holds them."""
ENGINE_NAME = "parquet folder"
"""How the audit row of a loaded date names the engine that ran it."""


@dataclass
class LoadSummary:
    """What :func:`load_days` wrote."""

    started_from: date | None = None
    """The store's last closed date when the load started (the folder's snapshot it checked)."""
    dates: list[date] = field(default_factory=list)
    """The dates written, in order."""
    transactions: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    """Collection actions recorded, by status."""
    limit_changes: int = 0
    behaviour_scores: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "started_from": None if self.started_from is None else self.started_from.isoformat(),
            "dates": [d.isoformat() for d in self.dates],
            "transactions": self.transactions,
            "actions": dict(sorted(self.actions.items())),
            "limit_changes": self.limit_changes,
            "behaviour_scores": self.behaviour_scores,
        }


def load_days(
    engine: Engine,
    root: Path,
    through: date | None = None,
    progress: Callable[[date, int, int], None] | None = None,
) -> LoadSummary:
    """Write the folder's days after the store's last closed date, through ``through`` (default: the
    folder's newest snapshot), into the store (see the module docstring)."""
    with engine.connect() as conn:
        store = store_io.read_store(conn)
        start = store_io.business_date(store.tables)
        ids_array = store.tables.accounts["account_id"].combine_chunks()
        zones = store.tables.accounts["timezone"].combine_chunks()
        limit_history = read_review(conn, ids_array)
        records = read_collections(conn, ids_array, zones, start + timedelta(days=1))
    summary = LoadSummary(started_from=start)
    kept = snapshots.state_dates(root)
    if start not in kept:
        have = ", ".join(d.isoformat() for d in kept) or "none"
        raise InvalidInput(
            f"{root} has no snapshot of the store's last closed date {start.isoformat()} (snapshots: "
            f"{have}); a folder loads into the store it was exported from, after the date it was exported at"
        )
    last = kept[-1] if through is None else through
    dates = [d for d in kept if start < d <= last]
    if through is not None and through not in kept and through > start:
        raise InvalidInput(
            f"{root} has no snapshot of {through.isoformat()} (newest: {kept[-1].isoformat()})"
        )
    for earlier, later in zip([start, *dates], dates, strict=False):
        if later != earlier + timedelta(days=1):
            raise InvalidInput(f"{root} has no snapshot of {(earlier + timedelta(days=1)).isoformat()}")
    before = snapshots.read_state(root, start)
    _check_same(store.tables, before, limit_history.changes, records, ids_array)
    ids: list[str] = ids_array.to_pylist()
    versions: list[int] = store.versions.to_pylist()
    for done, on in enumerate(dates, start=1):
        after = snapshots.read_state(root, on)
        loaded = _load_date(engine, root, on, before, after, ids, zones, versions, store.terms.grace_days)
        summary.transactions += loaded.transactions
        for status, count in loaded.actions.items():
            summary.actions[status] = summary.actions.get(status, 0) + count
        summary.limit_changes += loaded.limit_changes
        summary.behaviour_scores += loaded.behaviour_scores
        summary.dates.append(on)
        before = after
        if progress is not None:
            progress(on, done, len(dates))
    return summary


def _load_date(
    engine: Engine,
    root: Path,
    on: date,
    before: snapshots.Snapshot,
    after: snapshots.Snapshot,
    ids: list[str],
    zones: pa.Array,
    versions: list[int],
    grace_days: int,
) -> LoadSummary:
    """One date in one transaction; what it wrote."""
    postings = snapshots.read_outputs(root, "postings", on)
    spells = snapshots.read_outputs(root, "bucket_spells", on)
    bureau = snapshots.read_outputs(root, "bureau_months", on)
    changes = _output(root, "limit_changes", on)
    saved = _output(root, "limit_saved", on)
    if changes is not None and saved is None:
        raise InvalidInput(
            f"{root}: the limit review of {on.isoformat()} was written before the folder kept the limits it "
            f"saved (limit_saved): run the nightly job again from {(on - timedelta(days=1)).isoformat()}"
        )
    notices = _output(root, "limit_notices", on)
    messages = _output(root, "limit_messages", on)
    scores = _output(root, "behaviour_scores", on)
    actions = _output(root, "actions", on)
    recorded_changes: dict[str, int] = {}
    if changes is not None:
        for action in pc.filter(changes["action"], pc.equal(changes["review_date"], on)).to_pylist():
            recorded_changes[action] = recorded_changes.get(action, 0) + 1
    ran = pc.sum(pc.equal(after.tables.accounts["last_eod"], pa.scalar(on, pa.date32()))).as_py() or 0
    outputs = DayOutputs(
        on, before.tables, after.tables, postings, spells, bureau, ran, grace_days, recorded_changes
    )
    by_status: dict[str, int] = {}
    with engine.begin() as conn:
        if actions is not None and before.collection is not None and after.collection is not None:
            notices_sent = _output(root, "validation_notices", on)
            day = CollectionDay(
                on,
                pa.table({}),
                actions,
                snapshots.read_outputs(root, "messages", on),
                snapshots.read_outputs(root, "work", on),
                snapshots.OUTPUTS["validation_notices"].empty_table()
                if notices_sent is None
                else notices_sent,
            )
            recorded = write_collections(
                conn,
                ids,
                day,
                (before.collection[0], before.collection[1]),
                (after.collection[0], after.collection[1]),
                zones,
                escalated=_plans_broken(after.tables, on),
            )
            outputs = replace(outputs, actions=recorded.by_type, collected=True)
            by_status = recorded.by_status
        written = write_day(conn, outputs, versions, ENGINE_NAME)
        score_count = 0 if scores is None else write_behaviour(conn, ids, scores)
        if changes is not None and saved is not None:
            write_review(
                conn,
                on,
                ids,
                changes,
                dict(zip(saved["account_key"].to_pylist(), saved["credit_limit"].to_pylist(), strict=True)),
                versions,
                notices if notices is not None else snapshots.OUTPUTS["limit_notices"].empty_table(),
                messages if messages is not None else snapshots.OUTPUTS["limit_messages"].empty_table(),
            )
    return LoadSummary(
        dates=[on],
        transactions=written.transactions,
        actions=by_status,
        limit_changes=sum(recorded_changes.values()),
        behaviour_scores=score_count,
    )


def _output(root: Path, name: str, on: date) -> pa.Table | None:
    """Output ``name`` of ``on``, or None when the folder did not write it that day."""
    folder = root / name / f"{snapshots.PARTITION}{on.isoformat()}"
    if not folder.is_dir():
        return None
    return snapshots.read_outputs(root, name, on)


def _plans_broken(tables: PortfolioTables, on: date) -> list[int]:
    """The accounts whose relief plan broke on ``on`` (their records are saved escalated)."""
    a = tables.arrangements
    broken = pc.and_(
        pc.and_(pc.equal(a["kind"], PLAN), pc.equal(a["status"], BROKEN)),
        pc.fill_null(pc.equal(a["ended_on"], pa.scalar(on, pa.date32())), False),
    )
    keys: list[int] = a.filter(broken)["account_key"].to_pylist()
    return keys


def _check_same(
    store: PortfolioTables,
    base: snapshots.Snapshot,
    limit_changes: pa.Table,
    records: StoreCollections,
    ids: pa.Array,
) -> None:
    """Refuse a store that is no longer as the folder's snapshot of its date has it."""
    folder_ids = base.tables.accounts.sort_by("account_key")["account_id"].combine_chunks()
    if not folder_ids.equals(ids):
        raise Conflict(
            f"the store's accounts are not the folder's of {base.on.isoformat()} "
            f"({len(ids)} in the store, {len(folder_ids)} in the folder): load a folder exported from this "
            "store"
        )
    for name in COMPARED_TABLES:
        folder = getattr(base.tables, name)
        if name == "statements":  # the store reads the open statements and each account's latest
            folder = _loaded(folder)
        _same(getattr(store, name), folder, name, base.on)
    if base.limits is not None:
        _same(limit_changes, base.limits[0], "limit_changes", base.on)
    if base.collection is not None:
        _same(records.collections, base.collection[0], "collection_states", base.on)
        _same(records.promises, base.collection[1], "promises", base.on)
        _same(records.done, base.collection[2], "treatments done", base.on)


def _loaded(statements: pa.Table) -> pa.Table:
    """The statements the store's reader loads (:func:`~overdue.setbased.store_io.loaded_statements`): the
    open ones and each account's latest."""
    latest = statements.group_by("account_key").aggregate([("statement_date", "max")])
    joined = statements.join(latest, "account_key")
    keep = pc.or_(
        pc.is_null(joined["closed_on"]), pc.equal(joined["statement_date"], joined["statement_date_max"])
    )
    return joined.filter(keep).drop_columns(["statement_date_max"])


def _same(store: pa.Table, folder: pa.Table, name: str, on: date) -> None:
    folder = folder.select(store.schema.names).cast(store.schema)
    if new_rows(store, folder).num_rows or new_rows(folder, store).num_rows:
        raise Conflict(
            f"the store's {name} changed since the folder's snapshot of {on.isoformat()} was exported: the "
            "folder's days were computed without the change; export the store again and run the nightly job "
            "from it"
        )
