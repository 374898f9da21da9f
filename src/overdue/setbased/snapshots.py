"""Daily state snapshots and the day's outputs as Parquet, partitioned by business date.

A state folder holds a portfolio between end-of-days, one partition per business date, in the layout's
types (:mod:`~overdue.setbased.layout`: dates, yuan amounts as ``int64`` fen, bucket names), so any past
day can be read with DuckDB, Spark, Polars or pandas and inspected, or loaded and run again::

    ROOT/
      state/business_date=2026-03-01/
        _manifest.json            the terms, carry scale and row counts; written last
        accounts.parquet  statements.parquet  unbilled.parquet
        plans.parquet  periods.parquet  bucket_spells.parquet
        collections.parquet  promises.parquet  done.parquet  contacts.parquet   (with collection records)
        limit_changes.parquet  statement_history.parquet  spell_history.parquet  (with the limit review)
        behaviour_latest.parquet                       (each account's latest month-end behaviour score)
      postings/business_date=2026-03-01/part-0.parquet
      bucket_spells/business_date=2026-03-01/part-0.parquet
      bureau_months/business_date=2026-03-01/part-0.parquet
      actions/ messages/ work/ validation_notices/ …/part-0.parquet         (when collections ran)
      limit_changes/ limit_notices/ limit_messages/ limit_saved/ …/part-0.parquet   (when the review ran)
      behaviour_scores/ …/part-0.parquet           (the month-end behaviour scores recorded that day)

``state/business_date=D`` is the state *after* the end-of-day of ``D``; the output folders hold what the
end-of-day of ``D`` produced (hive-style partitions: ``read_parquet('ROOT/postings/*/*.parquet',
hive_partitioning = true)`` in DuckDB, ``spark.read.parquet('ROOT/postings')`` in Spark).

When Spark writes a partition itself (:mod:`~overdue.setbased.parquet_engine`), a state table
``NAME.parquet`` is a folder of part files of that name, and an output partition holds Spark's
``part-*.parquet`` files instead of ``part-0.parquet``; the readers here take both.

A day reads one partition and writes one, so its cost does not grow with the number of days kept. A
partition is written into a temporary folder next to it and renamed into place, with the manifest written
last: a crash leaves either the old partition or the new one, never half of one, and a folder without a
manifest is not a snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from overdue.domain.errors import InvalidInput, NotFound
from overdue.domain.terms import ProductTerms, terms_from_json
from overdue.setbased import behaviour, collect_tables, layout, limits
from overdue.setbased.collect_act import MESSAGES, WORK
from overdue.setbased.collect_notice import NOTICES
from overdue.setbased.layout import PortfolioTables

STATE_TABLES = {
    "accounts": layout.ACCOUNTS,
    "statements": layout.STATEMENTS,
    "unbilled": layout.UNBILLED,
    "plans": layout.PLANS,
    "periods": layout.PERIODS,
    "bucket_spells": layout.SPELLS,
}
"""The tables of a state partition (named as :class:`~overdue.setbased.layout.PortfolioTables` names them)
→ schema."""
ARRANGEMENT_TABLES = {
    "arrangements": layout.ARRANGEMENTS,
    "arrangement_payments": layout.ARRANGEMENT_PAYMENTS,
    "arrangement_set_asides": layout.ARRANGEMENT_SET_ASIDES,
}
"""The relief arrangements of a state partition; a partition without them (written before they were kept)
reads as one whose accounts have none."""
STATE_TABLES.update(ARRANGEMENT_TABLES)
OUTPUTS = {
    "postings": layout.POSTINGS,
    "bucket_spells": layout.SPELLS,
    "bureau_months": layout.BUREAU_MONTHS,
}
"""The day's outputs: folder → schema."""
COLLECTION_TABLES = {
    "collections": collect_tables.COLLECTIONS,
    "promises": collect_tables.PROMISES,
    "done": collect_tables.DONE,
    "contacts": collect_tables.CONTACTS,
}
"""The collection records a state partition may hold beside the accounts (all four or none)."""
COLLECTION_OUTPUTS = {
    "actions": collect_tables.ACTIONS,
    "messages": MESSAGES,
    "work": WORK,
    "validation_notices": NOTICES,
}
"""What decide → comply → act produced, when the nightly job ran it: folder → schema. ``validation_notices``
holds the US validation notices sent that day, as the store's ``validation_notices`` rows record them (sent
at the start of ``business_date`` in the debtor's time zone, the partition's ``accounts`` give both); it is
empty under a rulebook that sends none, and a day written before it was kept has no such folder."""
OUTPUTS.update(COLLECTION_OUTPUTS)
LIMIT_TABLES = {
    "limit_changes": limits.LIMIT_CHANGES,
    "statement_history": limits.STATEMENT_HISTORY,
    "spell_history": layout.SPELLS,
}
"""What the limit review keeps beside the accounts (all three or none): every limit change, and the
statements and closed bucket spells the state tables do not hold (:mod:`~overdue.setbased.limits_run`)."""
LIMIT_SAVED = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("credit_limit", pa.int64(), nullable=False),
    ]
)
"""The accounts whose credit limit or status the day's limit review changed, with their limit after it (the
store saves them once more: :func:`overdue.setbased.limits_io.write_review`)."""
LIMIT_OUTPUTS = {
    "limit_changes": limits.LIMIT_CHANGES,
    "limit_notices": limits.NOTICE_ACTION_ROWS,
    "limit_messages": limits.NOTICE_MESSAGES,
    "limit_saved": LIMIT_SAVED,
}
"""What the limit review did on a day: the changes recorded or applied, the notices and their messages, the
accounts it changed (a day written before ``limit_saved`` was kept has no such folder)."""
OUTPUTS.update(LIMIT_OUTPUTS)
BEHAVIOUR_TABLES = {"behaviour_latest": behaviour.LATEST}
"""Each account's latest recorded month-end behaviour score (the ``behaviour_score`` fact, by
``account_key``); a partition without it (written before it was kept) reads as one with no score yet."""
BEHAVIOUR_OUTPUTS = {"behaviour_scores": behaviour.SCORES}
"""The month-end behaviour scores recorded on a day (none but at a month end), as the reference records them
in ``behaviour_scores`` (by ``account_key``: the partition's ``accounts`` give the account id)."""
OUTPUTS.update(BEHAVIOUR_OUTPUTS)
MANIFEST = "_manifest.json"
FORMAT = 2
"""The snapshot format's version, in every manifest (2: plans keyed by ``plan_number``, purchase plans
included; a folder of format 1 is refused by name)."""
PARTITION = "business_date="


@dataclass(frozen=True)
class Snapshot:
    """One state partition read back: the tables, their product terms and business date."""

    on: date
    tables: PortfolioTables
    terms: ProductTerms
    collection: tuple[pa.Table, ...] | None = None
    """The collection records (:data:`COLLECTION_TABLES`, in order), None when the partition has none."""
    limits: tuple[pa.Table, ...] | None = None
    """The limit review's tables (:data:`LIMIT_TABLES`, in order), None when the partition has none."""
    behaviour: pa.Table | None = None
    """Each account's latest behaviour score (:data:`BEHAVIOUR_TABLES`), None when the partition has none."""


def _partition(folder: Path, on: date) -> Path:
    return folder / f"{PARTITION}{on.isoformat()}"


def _replace_folder(target: Path, write: Any) -> None:
    """Write a folder beside ``target`` with ``write(folder)``, then put it in ``target``'s place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    staging.mkdir()
    try:
        write(staging)
        if target.exists():
            retired = target.parent / f".{target.name}.{uuid.uuid4().hex}.old"
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def write_state(
    root: Path,
    on: date,
    tables: PortfolioTables,
    terms: ProductTerms,
    collection: tuple[pa.Table, ...] | None = None,
    limit_tables: tuple[pa.Table, ...] | None = None,
    latest_scores: pa.Table | None = None,
) -> Path:
    """Write the state after the end-of-day of ``on`` (replacing any earlier snapshot of that date), with
    the collection records (:data:`COLLECTION_TABLES`, in order), the limit review's tables
    (:data:`LIMIT_TABLES`, in order) and each account's latest behaviour score (:data:`BEHAVIOUR_TABLES`)
    when given."""
    conformed = tables.conform()

    def write_tables(folder: Path) -> dict[str, int]:
        rows: dict[str, int] = {}
        for name in STATE_TABLES:
            table: pa.Table = getattr(conformed, name)
            pq.write_table(table, folder / f"{name}.parquet")
            rows[name] = table.num_rows
        return rows

    return write_state_with(
        root, on, write_tables, conformed.carry_scale, terms, collection, limit_tables, latest_scores
    )


def write_state_with(
    root: Path,
    on: date,
    write_tables: Callable[[Path], dict[str, int]],
    carry_scale: int,
    terms: ProductTerms,
    collection: tuple[pa.Table, ...] | None = None,
    limit_tables: tuple[pa.Table, ...] | None = None,
    latest_scores: pa.Table | None = None,
) -> Path:
    """:func:`write_state` with the state tables (:data:`STATE_TABLES`) written by ``write_tables(folder)``,
    which returns their row counts (the engine writing them itself:
    :mod:`~overdue.setbased.parquet_engine`); the rest as :func:`write_state` writes it, the manifest last."""
    target = _partition(root / "state", on)

    def write(folder: Path) -> None:
        rows = dict(write_tables(folder))
        for (name, schema), records in zip(COLLECTION_TABLES.items(), collection or (), strict=False):
            records = records.select(schema.names).cast(schema)
            pq.write_table(records, folder / f"{name}.parquet")
            rows[name] = records.num_rows
        for (name, schema), kept in zip(LIMIT_TABLES.items(), limit_tables or (), strict=False):
            kept = kept.select(schema.names).cast(schema)
            pq.write_table(kept, folder / f"{name}.parquet")
            rows[name] = kept.num_rows
        if latest_scores is not None:
            ((name, schema),) = BEHAVIOUR_TABLES.items()
            latest = latest_scores.select(schema.names).cast(schema).sort_by("account_key")
            pq.write_table(latest, folder / f"{name}.parquet")
            rows[name] = latest.num_rows
        manifest = {
            "format": FORMAT,
            "business_date": on.isoformat(),
            "carry_scale": carry_scale,
            "terms": terms.to_json(),
            "rows": rows,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")

    _replace_folder(target, write)
    return target


def state_dates(root: Path) -> list[date]:
    """The business dates with a complete state snapshot, oldest first."""
    folder = root / "state"
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        if entry.name.startswith(PARTITION) and (entry / MANIFEST).is_file():
            found.append(date.fromisoformat(entry.name.removeprefix(PARTITION)))
    return sorted(found)


def latest_state_before(root: Path, on: date) -> date | None:
    """The newest snapshot strictly before ``on`` (the state the end-of-day of ``on`` starts from)."""
    earlier = [d for d in state_dates(root) if d < on]
    return earlier[-1] if earlier else None


def read_manifest(root: Path, on: date) -> dict[str, Any]:
    """The manifest of the state snapshot of ``on``: format, business date, carry scale, terms, row counts."""
    manifest_file = _partition(root / "state", on) / MANIFEST
    if not manifest_file.is_file():
        have = ", ".join(d.isoformat() for d in state_dates(root)) or "none"
        raise NotFound(f"no state snapshot of {on.isoformat()} in {root} (snapshots: {have})")
    manifest: dict[str, Any] = json.loads(manifest_file.read_text())
    if manifest.get("format") != FORMAT:
        raise InvalidInput(
            f"{manifest_file}: snapshot format {manifest.get('format')!r}; this version reads format {FORMAT}"
        )
    return manifest


def state_partition(root: Path, on: date) -> Path:
    """The folder of the state snapshot of ``on`` (whether it exists or not)."""
    return _partition(root / "state", on)


def read_state(root: Path, on: date) -> Snapshot:
    """The state snapshot of ``on``, in the layout's types, with its terms."""
    manifest = read_manifest(root, on)
    folder = _partition(root / "state", on)
    loaded = {
        name: pq.read_table(folder / f"{name}.parquet", schema=schema)
        for name, schema in STATE_TABLES.items()
        if name not in ARRANGEMENT_TABLES or name in manifest["rows"]
    }
    loaded["accounts"] = layout.with_language(loaded["accounts"])
    tables = PortfolioTables(**loaded, carry_scale=int(manifest["carry_scale"])).conform()
    collection, kept = read_records(root, on)
    terms = terms_from_json(manifest["terms"])
    return Snapshot(on, tables, terms, collection, kept, read_latest_scores(root, on))


def read_records(root: Path, on: date) -> tuple[tuple[pa.Table, ...] | None, tuple[pa.Table, ...] | None]:
    """The collection records and the limit review's tables of the snapshot of ``on`` (each None when the
    partition has none), without its state tables."""
    manifest = read_manifest(root, on)
    folder = _partition(root / "state", on)
    collection = None
    if all(name in manifest["rows"] for name in COLLECTION_TABLES):
        collection = tuple(
            pq.read_table(folder / f"{name}.parquet", schema=schema)
            for name, schema in COLLECTION_TABLES.items()
        )
    kept = None
    if all(name in manifest["rows"] for name in LIMIT_TABLES):
        kept = tuple(
            pq.read_table(folder / f"{name}.parquet", schema=schema) for name, schema in LIMIT_TABLES.items()
        )
    return collection, kept


def read_latest_scores(root: Path, on: date) -> pa.Table | None:
    """Each account's latest behaviour score in the snapshot of ``on`` (:data:`BEHAVIOUR_TABLES`), None when
    the partition has none (written before they were kept: no account scored yet)."""
    manifest = read_manifest(root, on)
    ((name, schema),) = BEHAVIOUR_TABLES.items()
    if name not in manifest["rows"]:
        return None
    table: pa.Table = pq.read_table(_partition(root / "state", on) / f"{name}.parquet", schema=schema)
    return table


def write_outputs(
    root: Path, on: date, postings: pa.Table, spells: pa.Table, bureau_months: pa.Table
) -> None:
    """Write what the end-of-day of ``on`` produced (replacing an earlier run of that date)."""
    for name, table in (("postings", postings), ("bucket_spells", spells), ("bureau_months", bureau_months)):
        conformed = table.select(OUTPUTS[name].names).cast(OUTPUTS[name])
        _replace_folder(
            _partition(root / name, on),
            lambda folder, t=conformed: pq.write_table(t, folder / "part-0.parquet"),
        )


def write_collection_outputs(
    root: Path, on: date, actions: pa.Table, messages: pa.Table, work: pa.Table, notices: pa.Table
) -> None:
    """Write what decide → comply → act produced on ``on`` (replacing an earlier run of that date): the
    actions, the outbox's messages, the work rows and the validation notices sent."""
    outputs = (("actions", actions), ("messages", messages), ("work", work), ("validation_notices", notices))
    for name, table in outputs:
        conformed = table.select(OUTPUTS[name].names).cast(OUTPUTS[name])
        _replace_folder(
            _partition(root / name, on),
            lambda folder, t=conformed: pq.write_table(t, folder / "part-0.parquet"),
        )


def write_limit_outputs(
    root: Path, on: date, changes: pa.Table, notices: pa.Table, messages: pa.Table, saved: dict[int, int]
) -> None:
    """Write what the limit review did on ``on`` (replacing an earlier run of that date); saved:
    ``account_key`` → credit limit of the accounts whose limit or status it changed."""
    keys = sorted(saved)
    saved_table = pa.table(
        {
            "account_key": pa.array(keys, pa.int64()),
            "credit_limit": pa.array([saved[k] for k in keys], pa.int64()),
        }
    )
    outputs = (
        ("limit_changes", changes),
        ("limit_notices", notices),
        ("limit_messages", messages),
        ("limit_saved", saved_table),
    )
    for name, table in outputs:
        conformed = table.select(OUTPUTS[name].names).cast(OUTPUTS[name])
        _replace_folder(
            _partition(root / name, on),
            lambda folder, t=conformed: pq.write_table(t, folder / "part-0.parquet"),
        )


def write_behaviour_outputs(root: Path, on: date, scores: pa.Table) -> None:
    """Write the month-end behaviour scores recorded on ``on`` (:data:`BEHAVIOUR_OUTPUTS`; none on another
    day), replacing an earlier run of that date."""
    ((name, schema),) = BEHAVIOUR_OUTPUTS.items()
    conformed = scores.select(schema.names).cast(schema)
    _replace_folder(
        _partition(root / name, on), lambda folder: pq.write_table(conformed, folder / "part-0.parquet")
    )


def write_output_with(root: Path, name: str, on: date, write: Callable[[Path], None]) -> None:
    """Write output ``name`` of ``on`` with ``write(folder)`` (the engine writing it itself), replacing an
    earlier run of that date as the other writers here do."""
    _replace_folder(_partition(root / name, on), write)


def read_outputs(root: Path, name: str, on: date) -> pa.Table:
    """One output table of the end-of-day of ``on`` (a folder of :data:`OUTPUTS`: ``postings``,
    ``actions``, ``limit_changes`` …)."""
    if name not in OUTPUTS:
        raise NotFound(f"no output table {name!r}; outputs are {', '.join(OUTPUTS)}")
    folder = _partition(root / name, on)
    # part-0.parquet as PyArrow and DuckDB write it, or the part files Spark writes.
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        raise NotFound(f"no {name} of {on.isoformat()} in {root}")
    return pq.read_table(folder, schema=OUTPUTS[name], partitioning=None)


def describe(root: Path, on: date, account_id: str | None = None) -> dict[str, Any]:
    """A snapshot in brief (accounts by status and by bucket, rows per table), or one account's rows (with
    its latest behaviour score when the partition keeps them)."""
    manifest = read_manifest(root, on)
    snapshot = read_state(root, on)
    tables = snapshot.tables
    if account_id is None:
        accounts = tables.accounts
        return {
            "business_date": on.isoformat(),
            "product": manifest["terms"]["name"],
            "rows": manifest["rows"],
            "by_status": _counts(accounts, "status"),
            "by_bucket": _counts(accounts, "bucket"),
        }
    mask = pc.equal(tables.accounts["account_id"], account_id)
    found = tables.accounts.filter(mask)
    if found.num_rows == 0:
        raise NotFound(f"no account {account_id!r} in the snapshot of {on.isoformat()}")
    key = found["account_key"][0].as_py()
    out: dict[str, Any] = {"business_date": on.isoformat(), "accounts": _json_rows(found)}
    for name in STATE_TABLES:
        if name != "accounts":
            table: pa.Table = getattr(tables, name)
            out[name] = _json_rows(table.filter(pc.equal(table["account_key"], key)))
    if snapshot.behaviour is not None:
        latest = snapshot.behaviour
        out["behaviour_latest"] = _json_rows(latest.filter(pc.equal(latest["account_key"], key)))
    return out


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    counted = pc.value_counts(table[column]).to_pylist()
    return {str(c["values"]): int(c["counts"]) for c in sorted(counted, key=lambda c: str(c["values"]))}


def _json_rows(table: pa.Table) -> list[dict[str, Any]]:
    return [
        {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()} for row in table.to_pylist()
    ]
