"""The collection half's tables: what decide → comply reads beside the day's state, and what it produces.

Inputs, in the layout callers see (dates as ``date32``, one row per thing):

- ``collections``: one row per account with collection records (:class:`~overdue.engine.collect.Collections`:
  the delinquency episode, stage and escalation, contactability, counters, placement, holds in force);
  an account without a row has the records of a new account (reachable, nothing open);
- ``promises``: promises to pay, pending and resolved;
- ``done``: per account and treatment, the last business date it was done (not refused), whenever: the
  episode's ``last_done`` is the part of it on or after the episode's start, which the expressions take;
- ``contacts``: the contacts already made (the history a rulebook reads), each with its time (UTC).

Outputs: ``decisions`` (one row per account the strategy looked at: its stage and pause) and ``actions``
(one row per planned action, in the decision's order, with the rulebook's verdict).

Inside the engine dates are day numbers, a contact's time is the debtor's local day (computed per time zone
with Arrow compute when the table is loaded), a treatment is its index in the strategy, a promise id its
rank, a stage its index among the stage names (:func:`stage_names`: the strategy's, then any other a record
names) and the facts of a fixed set of values (:data:`ENUMS`: contactability, promise, plan) their index in
it: the expressions compare integers. The engine's ``collections`` is sparse: it leaves out the rows that
are a new account's records (:data:`NEW_RECORD`), which its readers fill in; the accounts whose rows the
layout's table lists although the engine leaves them out are those loaded with one (``collect_listed``) and
those that ran since (:meth:`overdue.setbased.collect.Collector.state` fills their rows back in).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.compliance.history import PastContact
from overdue.domain.collections import CollectionState, plan_broken
from overdue.domain.errors import InvalidInput
from overdue.setbased.encode import CODE, DAY
from overdue.setbased.params import Unsupported
from overdue.strategy.decide import HASH_BUCKETS
from overdue.strategy.facts import CONTACTABILITY, PLAN_STATES, PROMISE_STATES
from overdue.strategy.model import Strategy

if TYPE_CHECKING:
    from overdue.engine.collect import Collections

ENUMS: Mapping[str, tuple[str, ...]] = {
    "contactability": CONTACTABILITY,
    "promise": PROMISE_STATES,
    "plan": PLAN_STATES,
}
"""The facts of a fixed set of values, each held in the engine as its index in the set (``int16``):
``collections.contactability`` and the facts ``promise`` and ``plan`` the decision computes."""


def enum_code(field: str, value: str) -> int:
    """``value`` of enum fact ``field`` as the engine holds it (:data:`ENUMS`; -1 for a value outside the
    set, which no condition names: a strategy's enum values are checked when it is parsed)."""
    values = ENUMS[field]
    return values.index(value) if value in values else -1


STAGES = ("stage", "escalated_from")
"""``collections``' columns naming a stage, held in the engine as its index in :func:`stage_names`."""


HOLDS = ("dispute", "plan", "cease", "sold", "litigation")
"""Kinds of hold in force, each a flag column ``hold_<kind>`` of ``collections``."""

COLLECTIONS = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("episode_started_on", pa.date32()),
        pa.field("stage", pa.string()),
        pa.field("escalation", pa.int32(), nullable=False),
        pa.field("escalated_from", pa.string()),
        pa.field("contactability", pa.string(), nullable=False),
        pa.field("dispute_open", pa.bool_(), nullable=False),
        pa.field("litigation_hold", pa.bool_(), nullable=False),
        pa.field("attempts", pa.int32(), nullable=False),
        pa.field("connects", pa.int32(), nullable=False),
        pa.field("last_contact_on", pa.date32()),
        pa.field("agency", pa.string()),
        pa.field("placed_on", pa.date32()),
        *(pa.field(f"hold_{kind}", pa.bool_(), nullable=False) for kind in HOLDS),
        pa.field("validation_notice_on", pa.date32()),
    ]
)
"""One account's collection records (:class:`~overdue.domain.collections.CollectionState` and the rest)."""
PROMISES = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("promise_id", pa.string(), nullable=False),
        pa.field("made_on", pa.date32(), nullable=False),
        pa.field("amount", pa.int64(), nullable=False),
        pa.field("due_on", pa.date32(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("paid", pa.int64(), nullable=False),
        pa.field("resolved_on", pa.date32()),
    ]
)
DONE = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("treatment", pa.string(), nullable=False),
        pa.field("last_done", pa.date32(), nullable=False),
    ]
)
CONTACTS = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("party", pa.string(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
    ]
)
"""A contact's time in UTC; the rules read its local day in the debtor's time zone (``accounts.timezone``).
Per-number rules count by party (the end-of-day's plans do not say which number they will dial)."""

DECISIONS = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("business_date", pa.date32(), nullable=False),
        pa.field("stage", pa.string()),
        pa.field("paused_by", pa.string()),
    ]
)
"""One row per account the strategy looked at (something billed unpaid, or overdue): the stage it is in
after escalation (null: no stage holds) and the pause that stopped it (null: none)."""
ACTIONS = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("business_date", pa.date32(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("treatment", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("template", pa.string()),
        pa.field("party", pa.string(), nullable=False),
        pa.field("priority", pa.int32(), nullable=False),
        pa.field("experiment", pa.string()),
        pa.field("variant", pa.string()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("refused_rule", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("channel", pa.string()),
        pa.field("queue", pa.string()),
    ]
)
"""One row per planned action: ``position`` its place in the account's decision (by priority, file order
among equals); ``status`` ``queued`` or ``refused`` (with the refusing rule); ``channel`` the outbox
channel of an allowed message, ``queue`` the work queue of allowed work (as the reference records them)."""


# --- the engine's form --------------------------------------------------------------------------------


def days(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Dates as day numbers."""
    return pc.cast(pc.cast(values, pa.date32()), DAY)


ENGINE: dict[str, pa.Schema] = {
    "collections": pa.schema(
        [
            pa.field(
                f.name,
                CODE if f.name in ENUMS or f.name in STAGES else DAY if f.type == pa.date32() else f.type,
            )
            for f in COLLECTIONS
        ]
    ),
    "promises": pa.schema(
        [
            pa.field("account_key", pa.int64()),
            pa.field("promise_rank", pa.int64()),
            pa.field("promise_id", pa.string()),
            pa.field("made_on", DAY),
            pa.field("amount", pa.int64()),
            pa.field("due_on", DAY),
            pa.field("status", pa.string()),
            pa.field("paid", pa.int64()),
            pa.field("resolved_on", DAY),
        ]
    ),
    "done": pa.schema(
        [
            pa.field("account_key", pa.int64()),
            pa.field("treatment_index", pa.int32()),
            pa.field("last_done", DAY),
        ]
    ),
    "contacts": pa.schema(
        [
            pa.field("account_key", pa.int64()),
            pa.field("day", DAY),
            pa.field("channel", pa.string()),
            pa.field("party", pa.string()),
            pa.field("outcome", pa.string()),
        ]
    ),
    "arms": pa.schema([pa.field("account_key", pa.int64()), pa.field("combo", pa.int32())]),
}
"""The inputs as the engine holds them; ``arms`` gives each account its experiment arms (a combination's
number, :func:`combinations`)."""


def stage_names(strategy: Sequence[str], collections: pa.Table) -> list[str]:
    """The stage names by the index the engine holds them as: the strategy's stages in order (the
    decision's stage indexes), then any other stage the records of ``collections`` (the layout's) name —
    a stage the strategy no longer has, which a record keeps until its account's episode ends — in
    code-point order."""
    named = [
        pc.unique(pc.drop_null(collections[name])) for name in STAGES if name in collections.column_names
    ]
    others = {value for values in named for value in values.to_pylist()} - set(strategy)
    return [*strategy, *sorted(others)]


def encode_collections(table: pa.Table, stages: Sequence[str]) -> pa.Table:
    """``collections`` (:data:`COLLECTIONS`) in the engine's form: dates as day numbers, the stages by their
    index in ``stages`` (:func:`stage_names` of the table), contactability by its index (:data:`ENUMS`; a
    value outside the set is refused)."""
    table = table.select(COLLECTIONS.names).cast(COLLECTIONS)
    target = ENGINE["collections"]
    names = pa.array(list(stages), pa.string())
    columns = [
        _enum_codes(f.name, table[f.name])
        if f.name in ENUMS
        else pc.cast(pc.index_in(table[f.name], value_set=names), CODE)
        if f.name in STAGES
        else days(table[f.name])
        if f.type == DAY
        else table[f.name]
        for f in target
    ]
    return pa.table(columns, schema=target)


def _enum_codes(field: str, values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The texts of enum fact ``field`` (:data:`ENUMS`) as their indexes; a text outside the set is refused
    with the first such value named."""
    codes = pc.index_in(values, value_set=pa.array(ENUMS[field], pa.string()))
    unknown = pc.and_(pc.is_valid(values), pc.is_null(codes))
    if pc.any(unknown).as_py():
        first = pc.filter(values, unknown)[0].as_py()
        raise InvalidInput(f"{field} {first!r} is not one of {', '.join(ENUMS[field])}")
    return pc.cast(codes, CODE)


NEW_RECORD: Mapping[str, object] = {
    "escalation": 0,
    "contactability": enum_code("contactability", "reachable"),
    "dispute_open": False,
    "litigation_hold": False,
    "attempts": 0,
    "connects": 0,
    **{f"hold_{kind}": False for kind in HOLDS},
}
"""A new account's ``collections`` row (:class:`~overdue.domain.collections.CollectionState`'s defaults, no
holds): these values, every other column null. The engine's ``collections`` leaves such rows out."""
LISTED = pa.schema([pa.field("account_key", pa.int64())])
"""``collect_listed``: accounts whose records the layout's ``collections`` lists although the engine's leaves
their row out (a new account's records, loaded)."""


def is_new_record(table: pa.Table) -> pa.Array:
    """Whether each row of an engine ``collections`` table is a new account's (:data:`NEW_RECORD`)."""
    mask = pa.array(np.ones(table.num_rows, np.bool_))
    for f in ENGINE["collections"]:
        if f.name == "account_key":
            continue
        column = table[f.name]
        same = (
            pc.is_null(column)
            if f.name not in NEW_RECORD
            else pc.fill_null(pc.equal(column, pa.scalar(NEW_RECORD[f.name], f.type)), False)
        )
        mask = pc.and_(mask, same)
    return mask


def sparse_collections(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    """An engine ``collections`` table (:func:`encode_collections`) as the engine holds it: the rows that
    are not a new account's, and the keys of those that are (:data:`LISTED`)."""
    new = is_new_record(table)
    listed = pa.table({"account_key": table["account_key"].filter(new)}, schema=LISTED)
    return table.filter(pc.invert(new)), listed


def encode_promises(table: pa.Table) -> pa.Table:
    """Promises with the id replaced by its rank in code-point order (the reference breaks ties by id)."""
    table = table.select(PROMISES.names).cast(PROMISES)
    rank = pc.rank(table["promise_id"], sort_keys="ascending", tiebreaker="dense")
    return pa.table(
        [
            table["account_key"],
            pc.cast(rank, pa.int64()),
            table["promise_id"],
            days(table["made_on"]),
            table["amount"],
            days(table["due_on"]),
            table["status"],
            table["paid"],
            days(table["resolved_on"]),
        ],
        schema=ENGINE["promises"],
    )


def decode(table: pa.Table, schema: pa.Schema, stages: Sequence[str] = ()) -> pa.Table:
    """An engine table back in the layout's ``schema`` (its columns; day numbers become dates, the enum
    facts' indexes their texts, a ``collections`` table's stage indexes the names of ``stages``:
    :func:`stage_names`)."""
    columns = [
        pc.take(pa.array(ENUMS[f.name], pa.string()), table[f.name])
        if f.name in ENUMS and f.type == pa.string()
        else pc.take(pa.array(list(stages), pa.string()), table[f.name])
        if f.name in STAGES
        else pc.cast(pc.cast(table[f.name], pa.int32()), pa.date32())
        if f.type == pa.date32()
        else table[f.name]
        for f in schema
    ]
    return pa.table(columns, schema=schema)


def encode_done(table: pa.Table, treatment_ids: Sequence[str]) -> pa.Table:
    """``done`` with each treatment as its index in the strategy; treatments it does not have are dropped
    (no schedule reads them)."""
    table = table.select(DONE.names).cast(DONE)
    table = table.group_by(["account_key", "treatment"]).aggregate([("last_done", "max")])
    table = table.rename_columns({"last_done_max": "last_done"})
    index = pc.index_in(table["treatment"], value_set=pa.array(list(treatment_ids), pa.string()))
    kept = pc.is_valid(index)
    return pa.table(
        [
            pc.filter(table["account_key"], kept),
            pc.cast(pc.filter(index, kept), pa.int32()),
            days(pc.filter(table["last_done"], kept)),
        ],
        schema=ENGINE["done"],
    )


def encode_contacts(table: pa.Table, accounts: pa.Table) -> pa.Table:
    """Contacts with their local day in the debtor's time zone (``accounts``: ``account_key``,
    ``timezone``), converted one time zone at a time with Arrow compute."""
    table = table.select(CONTACTS.names).cast(CONTACTS)
    where = pc.index_in(table["account_key"], value_set=accounts["account_key"])
    if pc.any(pc.is_null(where)).as_py():
        raise Unsupported("contacts of accounts that are not in the portfolio")
    zones = pc.take(accounts["timezone"], where)
    local = pa.nulls(table.num_rows, DAY)
    for name in pc.unique(zones).to_pylist():
        mask = pc.equal(zones, name)
        day = pc.cast(
            pc.cast(pc.local_timestamp(pc.cast(table["at"], pa.timestamp("us", tz=name))), pa.date32()), DAY
        )
        local = pc.if_else(mask, day, local)
    return pa.table(
        [table["account_key"], local, table["channel"], table["party"], table["outcome"]],
        schema=ENGINE["contacts"],
    )


# --- experiment arms ---------------------------------------------------------------------------------


MAX_COMBINATIONS = 256
"""Most combinations of experiment variants a compiled strategy takes (each is a set of parameters)."""


def combinations(strategy: Strategy) -> list[tuple[str, ...]]:
    """Every combination of one variant per experiment, in order; an account's ``combo`` is its index."""
    choices = [[v.name for v in e.variants] for e in strategy.experiments]
    count = 1
    for names in choices:
        count *= len(names)
    if count > MAX_COMBINATIONS:
        raise Unsupported(
            f"strategy {strategy.name}: {count} combinations of experiment variants, "
            f"more than {MAX_COMBINATIONS}"
        )
    return list(itertools.product(*choices))


def arms(strategy: Strategy, accounts: pa.Table) -> pa.Table:
    """Each account's combination of experiment variants (``accounts``: ``account_key``, ``account_id``).

    The split is the reference's sticky hash (:func:`overdue.strategy.assign_variant`), computed once when
    the tables are loaded, not on each day (an account's arm never changes), over the whole id column
    (:func:`variant_slots`); each experiment's variant is the run of slots its slot falls in.
    """
    combinations(strategy)  # refuses too many combinations
    keys = accounts["account_key"]
    combo = np.zeros(len(keys), np.int32)
    if strategy.experiments:
        slots = variant_slots(accounts, [e.name for e in strategy.experiments])
        keys = slots["account_key"]
        for n, experiment in enumerate(strategy.experiments):
            edges = np.cumsum([v.share * HASH_BUCKETS // 100 for v in experiment.variants])
            variant = np.searchsorted(edges, slots[f"slot_{n}"].to_numpy(), side="right")
            combo = combo * len(experiment.variants) + variant.astype(np.int32)
    return pa.table({"account_key": keys, "combo": pa.array(combo, pa.int32())}, schema=ENGINE["arms"])


def variant_slots(accounts: pa.Table, experiments: Sequence[str]) -> pa.Table:
    """Each account's slot in each experiment, as :func:`overdue.strategy.assign_variant` places it: the
    first 8 bytes of sha256(``"{experiment}:{account_id}"``, UTF-8) as a big-endian unsigned integer,
    modulo :data:`~overdue.strategy.decide.HASH_BUCKETS`.

    accounts: ``account_key`` and ``account_id``. Gives ``account_key`` and ``slot_0``, ``slot_1``, … (one
    per experiment, in order). The hash runs over the whole column in an in-process DuckDB, whatever
    backend the day runs on (the reference's function, one id at a time, took about 4 s a million
    accounts), the experiment's name passed as a parameter."""
    with duckdb.connect() as con:
        con.register("overdue_variant_ids", accounts.select(["account_key", "account_id"]))
        slots = ", ".join(
            f"CAST(CAST('0x' || substr(sha256(${n + 1} || account_id), 1, 16) AS UBIGINT) "
            f"% {HASH_BUCKETS} AS INTEGER) AS slot_{n}"
            for n in range(len(experiments))
        )
        result: pa.Table = con.sql(
            f"SELECT account_key, {slots} FROM overdue_variant_ids", params=[f"{e}:" for e in experiments]
        ).to_arrow_table()
    return result


# --- from the reference's records --------------------------------------------------------------------


def collection_tables(
    keys: Mapping[str, int],
    collections: Mapping[str, Collections],
    done: Mapping[str, Mapping[str, date]],
    history: Mapping[str, Iterable[PastContact]],
) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    """``collections``, ``promises``, ``done`` and ``contacts`` tables from the reference's records.

    keys: account id → ``account_key``. collections: account id → its
    :class:`~overdue.engine.collect.Collections`. done: account id → treatment → last date done.
    history: account id → its contacts.
    """
    rows: list[dict[str, object]] = []
    promises: list[dict[str, object]] = []
    for account_id, record in collections.items():
        key = keys[account_id]
        cs, holds = record.state, record.holds
        rows.append(
            {
                "account_key": key,
                "episode_started_on": cs.episode_started_on,
                "stage": cs.stage,
                "escalation": cs.escalation,
                "escalated_from": cs.escalated_from,
                "contactability": cs.contactability,
                "dispute_open": cs.dispute_open,
                "litigation_hold": cs.litigation_hold,
                "attempts": cs.attempts,
                "connects": cs.connects,
                "last_contact_on": cs.last_contact_on,
                "agency": record.agency,
                "placed_on": record.placed_on,
                **{f"hold_{kind}": kind in holds for kind in HOLDS},
                "validation_notice_on": record.validation_notice_on,
            }
        )
        unknown = set(holds) - set(HOLDS)
        if unknown:
            raise Unsupported(f"holds of kind {', '.join(sorted(unknown))} (account {account_id})")
        promises += [
            {
                "account_key": key,
                "promise_id": p.id,
                "made_on": p.made_on,
                "amount": p.amount,
                "due_on": p.due_on,
                "status": p.status,
                "paid": p.paid,
                "resolved_on": p.resolved_on,
            }
            for p in cs.promises
        ]
    done_rows = [
        {"account_key": keys[account_id], "treatment": treatment, "last_done": on}
        for account_id, treatments in done.items()
        for treatment, on in treatments.items()
    ]
    contact_rows = [
        {
            "account_key": keys[account_id],
            "at": c.at,
            "channel": c.channel,
            "party": c.party,
            "outcome": c.outcome,
        }
        for account_id, contacts in history.items()
        for c in contacts
    ]
    return (
        pa.Table.from_pylist(rows, schema=COLLECTIONS),
        pa.Table.from_pylist(promises, schema=PROMISES),
        pa.Table.from_pylist(done_rows, schema=DONE),
        pa.Table.from_pylist(contact_rows, schema=CONTACTS),
    )


def followed_end(
    row: dict[str, Any] | None, key: int, broken: bool, columns: Sequence[str], *, engine: bool = False
) -> dict[str, Any] | None:
    """An account's ``collections`` row (``row``: None when it has none; ``columns``: the row's columns) after
    its relief arrangement ended, as :func:`overdue.store.relief_repository.save_arrangement` follows the
    end: the ``plan`` hold ended, a broken plan escalated (:func:`overdue.domain.collections.plan_broken`;
    an account without records gets a new account's). None: nothing to change (no records, not broken).
    engine: the row is in the engine's form (:data:`ENGINE`; contactability by its index), else the
    layout's."""
    if row is None:
        if not broken:
            return None  # a new account's records: no hold to end
        new = CollectionState("")
        row = {
            **{name: None for name in columns},
            **{f"hold_{kind}": False for kind in HOLDS},
            "account_key": key,
            "escalation": new.escalation,
            "contactability": enum_code("contactability", new.contactability)
            if engine
            else new.contactability,
            "dispute_open": new.dispute_open,
            "litigation_hold": new.litigation_hold,
            "attempts": new.attempts,
            "connects": new.connects,
        }
    row = {**row, "hold_plan": False}
    if broken:
        state = CollectionState(
            "", stage=row["stage"], escalation=row["escalation"], escalated_from=row["escalated_from"]
        )
        escalated = plan_broken(state)
        row.update(escalation=escalated.escalation, escalated_from=escalated.escalated_from)
    return row
